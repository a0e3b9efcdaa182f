//! Email-first sign-in (DESIGN §10): routing by domain for staff and portals, the same
//! answer for existing and unknown addresses, SSO-only still enforced on the
//! password step whatever is sent, and portal discovery off until a client opts in.

use actix_web::http::StatusCode;

use crate::common::idp::{add_provider, app_with_issuers, person};
use crate::common::portal::onboarded;
use crate::common::sso::visit_authorize;
use crate::common::{Browser, Page, TestApp};
use gatehouse::domain::user::Realm;
use gatehouse::service::admin::AdminActor;
use gatehouse::service::clients::ClientUpdate;
use gatehouse::service::sso::providers::ProviderInput;

fn routed(domains: &str) -> ProviderInput {
    ProviderInput {
        jit: Some(true),
        routing_domains: Some(domains.into()),
        ..ProviderInput::default()
    }
}

fn query_of(url: &str) -> Vec<(String, String)> {
    url::Url::parse(url)
        .unwrap()
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

async fn identify(browser: &mut Browser, prefix: &str, email: &str) -> Page {
    browser.get(&format!("{prefix}/login")).await;
    browser
        .post(&format!("{prefix}/login/identify"), &[("email", email)])
        .await
}

async fn acme(app: &TestApp) -> Realm {
    app.services
        .create_client(AdminActor::cli(), "acme".into(), "Acme".into())
        .await
        .unwrap();
    app.services.client_realm("acme").unwrap()
}

#[actix_web::test]
async fn staff_addresses_go_to_the_provider_of_their_domain() {
    let (app, fake) = app_with_issuers().await;
    add_provider(
        &app,
        &fake,
        Realm::Staff,
        "okta",
        "okta",
        routed("example.com"),
    )
    .await;
    let before = app.browser().get("/login").await;
    assert!(before.has("name=\"password\""), "off by default");
    app.services
        .set_email_first(AdminActor::cli(), Realm::Staff, true)
        .await
        .unwrap();
    let mut browser = app.browser();
    let page = browser.get("/login").await;
    assert!(page.has("action=\"/login/identify\""), "{}", page.body);
    assert!(!page.has("name=\"password\""), "the address only");
    let page = identify(&mut browser, "", "Ann@Example.com").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    assert!(page.location().starts_with(&fake.generic_issuer("okta")));
    let q = query_of(page.location());
    assert!(
        q.contains(&("login_hint".into(), "Ann@Example.com".into())),
        "{q:?}"
    );
    fake.next_login(person("ann", "ann@example.com"));
    let callback = visit_authorize(page.location()).await;
    let done = browser.get(&callback).await;
    assert_eq!(done.location(), "/account", "{}", done.body);

    // Another domain: the password step with the address filled in.
    let page = identify(&mut app.browser(), "", "bob@other.org").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.has("name=\"password\"") && page.has("value=\"bob@other.org\""),
        "{}",
        page.body
    );
}

#[actix_web::test]
async fn existing_and_unknown_addresses_get_the_same_answer() {
    let (app, fake) = app_with_issuers().await;
    add_provider(
        &app,
        &fake,
        Realm::Staff,
        "okta",
        "okta",
        routed("example.com"),
    )
    .await;
    app.services
        .set_email_first(AdminActor::cli(), Realm::Staff, true)
        .await
        .unwrap();
    app.create_admin("known@other.org", "a long passphrase")
        .await;
    let known = identify(&mut app.browser(), "", "known@other.org").await;
    let unknown = identify(&mut app.browser(), "", "unkno@other.org").await;
    assert_eq!(known.status, unknown.status);
    assert_eq!(
        known.body_without_csrf().replace("known@other.org", "X"),
        unknown.body_without_csrf().replace("unkno@other.org", "X")
    );
    // Routed domains: the same redirect for both (no account exists for either).
    let a = identify(&mut app.browser(), "", "someone@example.com").await;
    let b = identify(&mut app.browser(), "", "nobody@example.com").await;
    assert_eq!(
        (a.status, b.status),
        (StatusCode::SEE_OTHER, StatusCode::SEE_OTHER)
    );
}

#[actix_web::test]
async fn portals_route_by_domain_and_sso_only_holds_on_the_password_step() {
    let (app, fake) = app_with_issuers().await;
    let realm = acme(&app).await;
    app.services
        .update_client(
            AdminActor::cli(),
            "acme".into(),
            ClientUpdate {
                mfa_required: Some(false),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let (_, _) = onboarded(
        &app,
        "acme",
        "carol@partner.example",
        "carol's long passphrase 42",
    )
    .await;
    add_provider(&app, &fake, realm, "okta", "okta", routed("acme.example")).await;
    app.services
        .set_email_first(AdminActor::cli(), realm, true)
        .await
        .unwrap();
    let mut browser = app.browser();
    let page = identify(&mut browser, "/p/acme", "c@acme.example").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    fake.next_login(person("c", "c@acme.example"));
    let done = browser.get(&visit_authorize(page.location()).await).await;
    assert_eq!(done.location(), "/p/acme/account", "{}", done.body);
    // Before SSO-only, a password user's address goes to the password step.
    let page = identify(&mut app.browser(), "/p/acme", "carol@partner.example").await;
    assert!(page.has("name=\"password\""));

    app.services
        .set_client_sso_only(AdminActor::cli(), "acme".into(), true)
        .await
        .unwrap();
    let existing = identify(&mut app.browser(), "/p/acme", "carol@partner.example").await;
    let unknown = identify(&mut app.browser(), "/p/acme", "nobody@partner.example").await;
    assert_eq!(existing.status, StatusCode::OK);
    assert!(
        !existing.has("name=\"password\""),
        "no password step under SSO-only"
    );
    assert!(existing.has("Sign in with your organisation"));
    assert_eq!(existing.body_without_csrf(), unknown.body_without_csrf());
    // The password step is refused on the server whatever is posted.
    for extra in [
        vec![],
        vec![("emergency", "1")],
        vec![("next", "/p/acme/account")],
    ] {
        let mut b = app.browser();
        b.get("/p/acme/login").await;
        let mut fields = vec![
            ("email", "carol@partner.example"),
            ("password", "carol's long passphrase 42"),
        ];
        fields.extend(extra);
        let page = b.post("/p/acme/login", &fields).await;
        assert_eq!(page.status, StatusCode::UNAUTHORIZED, "{}", page.body);
        assert!(b.session().is_none());
    }
}

#[actix_web::test]
async fn portal_discovery_from_the_staff_login_is_off_until_a_client_opts_in() {
    let (app, fake) = app_with_issuers().await;
    let realm = acme(&app).await;
    add_provider(&app, &fake, realm, "okta", "okta", routed("acme.example")).await;
    app.services
        .set_email_first(AdminActor::cli(), Realm::Staff, true)
        .await
        .unwrap();
    let page = identify(&mut app.browser(), "", "c@acme.example").await;
    assert_eq!(
        page.status,
        StatusCode::OK,
        "off by default: the staff password step"
    );
    assert!(page.has("name=\"password\""));

    app.services
        .set_discoverable(AdminActor::cli(), realm, true)
        .await
        .unwrap();
    let mut browser = app.browser();
    let page = identify(&mut browser, "", "c@acme.example").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    fake.next_login(person("c", "c@acme.example"));
    let done = browser.get(&visit_authorize(page.location()).await).await;
    assert_eq!(
        done.location(),
        "/p/acme/account",
        "lands in the portal: {}",
        done.body
    );
    assert!(app.services.user_by_email(realm, "c@acme.example").is_ok());
    assert!(
        app.services
            .user_by_email(Realm::Staff, "c@acme.example")
            .is_err()
    );
}
