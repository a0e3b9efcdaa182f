//! POST-redirect-GET on the identity-provider admin pages (issue 15 under issue 14's
//! rule, DESIGN §11): every button and form of `/admin/sso/providers` and
//! `/admin/clients/{client}/providers` answers `303 See Other` to its list; what it
//! must show (a notice, the connection test's lines, a refusal) arrives once as a
//! flash; reloading shows it no more and repeats nothing. A form refused for what was
//! entered shows again with the reason and the values entered, and nothing is saved.

use actix_web::http::StatusCode;

use crate::common::fake_entra::FakeEntra;
use crate::common::idp::{OIDC_CLIENT, OIDC_SECRET, app_with_issuers};
use crate::common::post_redirect::audit_count as count;
use crate::common::sso::configure_staff_sso;
use crate::common::staff::admin;
use crate::common::{Browser, Page, TestApp};
use gatehouse::domain::audit::AuditKind;
use gatehouse::domain::sso::provider::IdentityProvider;
use gatehouse::domain::user::Realm;
use gatehouse::service::admin::AdminActor;

const NOTICE: &str = "class=\"banner notice\"";
const ERROR: &str = "class=\"banner error\"";
const REPORT: &str = "class=\"testreport\"";

/// A button or form of a provider: (its path under the list, fields, the notice).
type Step<'a> = (&'a str, Vec<(&'a str, &'a str)>, &'a str);

fn providers(app: &TestApp, realm: Realm) -> Vec<IdentityProvider> {
    app.services.identity_providers(realm).unwrap().providers
}

/// Posts `fields` to `path` and checks the answer is a 303 to `page` carrying a flash;
/// opens it, then reloads it. Returns (the page as first shown, the page reloaded),
/// and checks the reload changed no audit count of `kind`.
async fn post_then_reload(
    app: &TestApp,
    b: &mut Browser,
    path: &str,
    fields: &[(&str, &str)],
    page: &str,
    kind: AuditKind,
) -> (Page, Page) {
    let (answer, shown) = b.post_redirect(path, fields, page).await;
    let before = count(app, kind);
    let reloaded = b.get(answer.location()).await;
    assert_eq!(reloaded.status, StatusCode::OK);
    assert_eq!(count(app, kind), before, "{path}: a reload repeats nothing");
    (shown, reloaded)
}

/// Each action of one realm's list: the POST answers 303 to the list, the list shows
/// the result once, and the change is made (and audited) exactly once.
async fn every_action_redirects(
    app: &TestApp,
    fake: &FakeEntra,
    b: &mut Browser,
    realm: Realm,
    page: &str,
) {
    let issuer = fake.generic_issuer("okta");
    let kc = fake.generic_issuer("keycloak");
    let settings = AuditKind::SettingsChanged;
    b.get(page).await;

    // Add (twice, two providers): the notice once, each provider once, one event each.
    for (id, name, issuer) in [("okta", "Okta", &issuer), ("kc", "Keycloak", &kc)] {
        let before = count(app, settings);
        let (shown, reloaded) = post_then_reload(
            app,
            b,
            page,
            &[
                ("id", id),
                ("name", name),
                ("issuer", issuer),
                ("client_id", OIDC_CLIENT),
                ("client_secret", OIDC_SECRET),
            ],
            page,
            settings,
        )
        .await;
        assert!(
            shown.has(NOTICE) && shown.has("Provider added"),
            "{}",
            shown.body
        );
        assert!(!reloaded.has(NOTICE) && !reloaded.has("Provider added"));
        assert!(!shown.has(OIDC_SECRET), "the secret is never shown");
        assert_eq!(count(app, settings), before + 1);
        let list = providers(app, realm);
        assert_eq!(list.iter().filter(|p| p.id == id).count(), 1);
    }

    // Test connection: the test's lines once, one test recorded.
    let tested = AuditKind::SsoConnectionTested;
    let before = count(app, tested);
    let (shown, reloaded) =
        post_then_reload(app, b, &format!("{page}/okta/test"), &[], page, tested).await;
    assert!(shown.has(REPORT), "{}", shown.body);
    assert!(shown.has("okta: ") && shown.has("Connection test passed"));
    assert!(!reloaded.has(REPORT) && !reloaded.has("Connection test passed"));
    assert_eq!(count(app, tested), before + 1);

    // Turn on and off, reorder, save, remove: each notice once, each change once.
    let steps: [Step; 6] = [
        ("okta/enable", vec![], "Turned on."),
        ("kc/enable", vec![], "Turned on."),
        ("kc/disable", vec![], "Turned off."),
        ("kc/up", vec![], "Order saved."),
        (
            "okta/save",
            vec![
                ("name", "Okta Workforce"),
                ("issuer", &issuer),
                ("client_id", OIDC_CLIENT),
            ],
            "Saved.",
        ),
        ("kc/remove", vec![], "Provider removed."),
    ];
    for (action, fields, notice) in steps {
        let before = count(app, settings);
        let (shown, reloaded) =
            post_then_reload(app, b, &format!("{page}/{action}"), &fields, page, settings).await;
        assert!(
            shown.has(NOTICE) && shown.has(notice),
            "{action}: {}",
            shown.body
        );
        assert!(!reloaded.has(NOTICE) && !reloaded.has(notice), "{action}");
        assert_eq!(count(app, settings), before + 1, "{action}: once");
        let list = providers(app, realm);
        let ids: Vec<&str> = list.iter().map(|p| p.id.as_str()).collect();
        let get = |id: &str| list.iter().find(|p| p.id == id);
        match action {
            "okta/enable" => assert!(get("okta").unwrap().enabled),
            "kc/disable" => assert!(!get("kc").unwrap().enabled),
            "kc/up" => assert_eq!(ids, ["kc", "okta"]),
            "okta/save" => assert_eq!(get("okta").unwrap().name, "Okta Workforce"),
            "kc/remove" => assert_eq!(ids, ["okta"]),
            _ => {}
        }
    }
}

#[actix_web::test]
async fn staff_provider_actions_answer_303_and_show_their_result_once() {
    let (app, fake) = app_with_issuers().await;
    let mut b = admin(&app).await;
    every_action_redirects(&app, &fake, &mut b, Realm::Staff, "/admin/sso/providers").await;
}

#[actix_web::test]
async fn client_provider_actions_answer_303_and_show_their_result_once() {
    let (app, fake) = app_with_issuers().await;
    let client = app
        .services
        .create_client(AdminActor::cli(), "acme".into(), "Acme".into())
        .await
        .unwrap();
    let realm = Realm::Client(client.id);
    let mut b = admin(&app).await;
    every_action_redirects(&app, &fake, &mut b, realm, "/admin/clients/acme/providers").await;
}

#[actix_web::test]
async fn a_refused_button_says_why_once_and_changes_nothing() {
    let (app, _fake) = app_with_issuers().await;
    configure_staff_sso(&app, false, "").await;
    let mut b = admin(&app).await;
    let page = "/admin/sso/providers";
    b.get(page).await;
    let settings = AuditKind::SettingsChanged;
    let before = count(&app, settings);
    let (shown, reloaded) = post_then_reload(
        &app,
        &mut b,
        &format!("{page}/microsoft/remove"),
        &[],
        page,
        settings,
    )
    .await;
    assert!(
        shown.has(ERROR) && shown.has("gatehouse sso disable"),
        "{}",
        shown.body
    );
    assert!(!reloaded.has(ERROR));
    assert_eq!(count(&app, settings), before, "nothing changed");
    assert!(
        providers(&app, Realm::Staff)
            .iter()
            .any(|p| p.id == "microsoft")
    );
}

#[actix_web::test]
async fn a_form_refused_for_its_fields_shows_again_with_the_reason_and_saves_nothing() {
    let (app, _fake) = app_with_issuers().await;
    let mut b = admin(&app).await;
    let page = "/admin/sso/providers";
    b.get(page).await;
    let settings = AuditKind::SettingsChanged;
    let before = count(&app, settings);
    let refused = b
        .post(
            page,
            &[
                ("id", "bad"),
                ("name", "Bad Provider"),
                ("issuer", "ftp://x"),
                ("client_id", "bad-client-id"),
                ("client_secret", OIDC_SECRET),
                ("jit", "on"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    assert!(refused.has(ERROR) && refused.has("https"));
    for value in ["bad", "Bad Provider", "ftp://x", "bad-client-id"] {
        let shown = format!("value=\"{value}\"");
        assert!(refused.has(&shown), "the entered {value} is kept");
    }
    assert!(refused.has("id=\"new-jit\" type=\"checkbox\" name=\"jit\" value=\"on\" checked"));
    assert!(!refused.has(OIDC_SECRET), "the secret is never shown");
    assert_eq!(count(&app, settings), before);
    assert!(providers(&app, Realm::Staff).iter().all(|p| p.id != "bad"));
}
