//! The sign-in switches that belong to no single provider, on the admin pages through
//! the real routes (cookies, CSRF, step-up): email-first for staff (on /admin/sso and
//! its provider list) and for a client, and a client's opt-in to portal discovery from
//! the staff sign-in. Each form answers 303 back to its page, the page shows the new
//! state, the audit log says old → new, and the CLI spellings keep working.

use actix_web::http::StatusCode;

use crate::common::TestApp;
use crate::common::binary::Install;
use crate::common::idp::{add_provider, app_with_issuers};
use crate::common::staff::admin;
use gatehouse::domain::audit::AuditKind;
use gatehouse::domain::user::Realm;
use gatehouse::service::admin::AdminActor;
use gatehouse::service::sso::providers::ProviderInput;

const STAFF_SWITCH: &str = "/admin/sso/sign-in-options/email-first";

/// The details of the settings changes audited in `realm`, oldest first.
fn settings_changes(app: &TestApp, realm: Realm) -> Vec<String> {
    let mut found: Vec<String> = app
        .services
        .audit_log(100_000, None)
        .unwrap()
        .into_iter()
        .filter(|(_, e)| e.kind == AuditKind::SettingsChanged && e.realm == Some(realm))
        .map(|(_, e)| e.detail)
        .collect();
    found.reverse();
    found
}

fn email_first(app: &TestApp, realm: Realm) -> bool {
    app.services.identity_providers(realm).unwrap().email_first
}

#[actix_web::test]
async fn the_staff_email_first_switch_is_on_the_staff_sso_pages() {
    let (app, fake) = app_with_issuers().await;
    add_provider(
        &app,
        &fake,
        Realm::Staff,
        "okta",
        "okta",
        ProviderInput {
            routing_domains: Some("example.com".into()),
            ..ProviderInput::default()
        },
    )
    .await;
    let mut ops = admin(&app).await;

    let list = ops.get("/admin/sso/providers").await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(
        list.has("Email-first sign-in is <strong>off</strong>"),
        "{}",
        list.body
    );
    assert!(
        list.has(&format!("action=\"{STAFF_SWITCH}\"")),
        "{}",
        list.body
    );
    assert!(list.has("routing domains"), "says what routes an address");
    assert!(list.has("Okta"), "lists the routing domains in effect");
    assert!(list.has("example.com"));
    assert!(
        !list.has("Portal discovery is"),
        "portal discovery is a client's switch"
    );

    // Without the CSRF token: refused, nothing changes.
    let forged = ops
        .post_without_csrf(STAFF_SWITCH, &[("state", "on")])
        .await;
    assert!(forged.status.is_client_error(), "{}", forged.status);
    assert!(!email_first(&app, Realm::Staff));

    // On, from the provider list: 303 back there, which shows it once.
    let answer = ops
        .post(
            STAFF_SWITCH,
            &[("state", "on"), ("back", "/admin/sso/providers")],
        )
        .await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
    assert!(
        answer.location().starts_with("/admin/sso/providers?"),
        "{}",
        answer.location()
    );
    let page = ops.follow(&answer).await;
    assert!(page.has("Email-first sign-in is on."), "the notice");
    assert!(page.has("Email-first sign-in is <strong class=\"ok\">on</strong>"));
    assert!(email_first(&app, Realm::Staff));
    assert!(
        app.browser()
            .get("/login")
            .await
            .has("action=\"/login/identify\""),
        "the staff sign-in asks for the address first"
    );
    assert_eq!(
        settings_changes(&app, Realm::Staff).last().unwrap(),
        "email-first: off → on"
    );

    // /admin/sso has the switch too, and off comes back to it.
    let sso = ops.get("/admin/sso").await;
    assert!(
        sso.has("Email-first sign-in is <strong class=\"ok\">on</strong>"),
        "{}",
        sso.body
    );
    assert!(sso.has(&format!("action=\"{STAFF_SWITCH}\"")));
    let answer = ops
        .post(STAFF_SWITCH, &[("state", "off"), ("back", "/admin/sso")])
        .await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER);
    assert!(
        answer.location().starts_with("/admin/sso?"),
        "{}",
        answer.location()
    );
    let page = ops.follow(&answer).await;
    assert!(page.has("Email-first sign-in is off."));
    assert!(page.has("Email-first sign-in is <strong>off</strong>"));
    assert!(!email_first(&app, Realm::Staff));
    assert_eq!(
        settings_changes(&app, Realm::Staff).last().unwrap(),
        "email-first: on → off"
    );

    // A way back elsewhere is not followed; bad input is a clear 4xx.
    let answer = ops
        .post(
            STAFF_SWITCH,
            &[("state", "on"), ("back", "https://evil.example/")],
        )
        .await;
    assert!(answer.location().starts_with("/admin/sso/providers?"));
    let bad = ops.post(STAFF_SWITCH, &[("state", "maybe")]).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let staff_discovery = ops
        .post(
            "/admin/sso/sign-in-options/portal-discovery",
            &[("state", "on")],
        )
        .await;
    assert_eq!(staff_discovery.status, StatusCode::NOT_FOUND);
}

#[actix_web::test]
async fn a_client_page_has_its_email_first_and_portal_discovery_switches() {
    let (app, _fake) = app_with_issuers().await;
    app.services
        .create_client(AdminActor::cli(), "acme".into(), "Acme".into())
        .await
        .unwrap();
    let acme = app.services.client_realm("acme").unwrap();
    let mut ops = admin(&app).await;
    let base = "/admin/clients/acme/sign-in-options";

    for page in ["/admin/clients/acme", "/admin/clients/acme/providers"] {
        let shown = ops.get(page).await;
        assert_eq!(shown.status, StatusCode::OK, "{page}");
        assert!(
            shown.has("Email-first sign-in is <strong>off</strong>"),
            "{page}"
        );
        assert!(
            shown.has("Portal discovery is <strong>off</strong>"),
            "{page}: off by default"
        );
        assert!(
            shown.has(&format!("action=\"{base}/portal-discovery\"")),
            "{page}"
        );
        assert!(
            shown.has(&format!("action=\"{base}/email-first\"")),
            "{page}"
        );
        assert!(
            shown.has("staff"),
            "{page}: says discovery is from the staff sign-in"
        );
    }

    // Portal discovery on, from the client's page.
    let answer = ops
        .post(
            &format!("{base}/portal-discovery"),
            &[("state", "on"), ("back", "/admin/clients/acme")],
        )
        .await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
    assert!(
        answer.location().starts_with("/admin/clients/acme?"),
        "{}",
        answer.location()
    );
    let page = ops.follow(&answer).await;
    assert!(page.has("Portal discovery from the staff sign-in is on."));
    assert!(page.has("Portal discovery is <strong class=\"ok\">on</strong>"));
    assert!(app.services.identity_providers(acme).unwrap().discoverable);
    assert!(
        !email_first(&app, Realm::Staff),
        "the staff realm is untouched"
    );

    // Email-first on, from the provider list.
    let answer = ops
        .post(
            &format!("{base}/email-first"),
            &[("state", "on"), ("back", "/admin/clients/acme/providers")],
        )
        .await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER);
    assert!(
        answer
            .location()
            .starts_with("/admin/clients/acme/providers?")
    );
    let page = ops.follow(&answer).await;
    assert!(page.has("Email-first sign-in is <strong class=\"ok\">on</strong>"));
    assert!(email_first(&app, acme));
    assert!(!email_first(&app, Realm::Staff));
    assert!(
        app.browser()
            .get("/p/acme/login")
            .await
            .has("action=\"/p/acme/login/identify\""),
        "the portal sign-in asks for the address first"
    );
    assert_eq!(
        settings_changes(&app, acme),
        [
            "portal discovery from the staff login: off → on",
            "email-first: off → on"
        ]
    );

    let unknown = ops
        .post(
            "/admin/clients/nobody/sign-in-options/email-first",
            &[("state", "on")],
        )
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
}

#[test]
fn the_cli_spellings_keep_working_and_are_audited_the_same_way() {
    let install = Install::new();
    install.cli_ok(
        &[
            "admin",
            "create",
            "--email",
            "ops@example.com",
            "--password-stdin",
        ],
        "a long passphrase\n",
    );
    install.cli_ok(&["client", "add", "--slug", "acme", "--name", "Acme"], "");
    assert!(
        install
            .cli_ok(&["idp", "email-first", "on"], "")
            .contains("on")
    );
    install.cli_ok(&["idp", "email-first", "on", "--client", "acme"], "");
    install.cli_ok(&["idp", "discoverable", "on", "--client", "acme"], "");
    let staff: serde_json::Value =
        serde_json::from_str(&install.cli_ok(&["--json", "idp", "list"], "")).unwrap();
    assert_eq!(staff["email_first"], true, "{staff}");
    let acme: serde_json::Value =
        serde_json::from_str(&install.cli_ok(&["--json", "idp", "list", "--client", "acme"], ""))
            .unwrap();
    assert_eq!(acme["email_first"], true, "{acme}");
    assert_eq!(acme["discoverable"], true, "{acme}");
    let refused = install.cli(&["idp", "discoverable", "on"], "");
    assert!(!refused.status.success(), "portal discovery is a client's");
    install.cli_ok(&["idp", "discoverable", "off", "--client", "acme"], "");
    let audit = install.cli_ok(&["audit", "--limit", "20"], "");
    assert!(audit.contains("email-first: off → on"), "{audit}");
    assert!(
        audit.contains("portal discovery from the staff login: on → off"),
        "{audit}"
    );
}
