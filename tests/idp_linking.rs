//! Linking accounts of any provider from `/account`, and stepping up at any provider
//! the admin is linked at (DESIGN §10): one link button per enabled provider of the
//! realm; identities keyed by (iss, sub), never by email; the same `sub` at a second
//! provider is another identity; an identity linked to someone else is refused; step-up
//! signs in afresh at the provider and its `require_mfa` rule applies.

use actix_web::http::StatusCode;
use serde_json::json;

use crate::common::fake_entra::{FakeEntra, FakeUser};
use crate::common::idp::{OIDC_CLIENT, add_provider, app_with_issuers, person, sign_in_via};
use crate::common::sso::{advance, visit_authorize};
use crate::common::{Browser, TestApp};
use gatehouse::domain::audit::AuditKind;
use gatehouse::domain::session::STEP_UP_WINDOW_SECS;
use gatehouse::domain::user::Realm;
use gatehouse::service::admin::AdminActor;
use gatehouse::service::sso::providers::ProviderInput;

const PASSWORD: &str = "correct horse battery";

/// A staff admin signed in with password + TOTP.
async fn signed_in_admin(app: &TestApp, email: &str) -> Browser {
    app.create_admin(email, PASSWORD).await;
    let mut b = app.browser();
    b.sign_in(app, email, PASSWORD, None).await;
    b.enrol(app).await;
    b
}

/// Links `who` at `provider` from the account page; the callback's page.
async fn link(
    browser: &mut Browser,
    fake: &FakeEntra,
    provider: &str,
    who: FakeUser,
) -> crate::common::Page {
    browser.get("/account").await;
    fake.next_login(who);
    let page = browser
        .post("/account/sso/link", &[("provider", provider)])
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let callback = visit_authorize(page.location()).await;
    browser.get(&callback).await
}

/// Asks to step up at `provider` from the confirm page; the answer to the POST.
async fn step_up_at(ann: &mut Browser, provider: &str) -> crate::common::Page {
    ann.get("/admin/confirm?next=%2Fadmin%2Fsso").await;
    ann.post(
        "/admin/confirm/microsoft",
        &[("next", "/admin/sso"), ("provider", provider)],
    )
    .await
}

#[actix_web::test]
async fn every_enabled_provider_links_by_issuer_and_subject() {
    let (app, fake) = app_with_issuers().await;
    add_provider(
        &app,
        &fake,
        Realm::Staff,
        "okta",
        "okta",
        ProviderInput::default(),
    )
    .await;
    add_provider(
        &app,
        &fake,
        Realm::Staff,
        "kc",
        "keycloak",
        ProviderInput::default(),
    )
    .await;
    let mut ann = signed_in_admin(&app, "ann@example.com").await;
    let mut bob = signed_in_admin(&app, "bob@example.com").await;

    let account = ann.get("/account").await;
    assert!(
        account.has("Link a okta (okta) account") && account.has("Link a keycloak (kc) account"),
        "one link button per provider: {}",
        account.body
    );

    // Okta's token names Bob's address: linking never goes by email.
    let page = link(
        &mut ann,
        &fake,
        "okta",
        person("same-sub", "bob@example.com"),
    )
    .await;
    assert_eq!(page.location(), "/account", "{}", page.body);
    // The same `sub` at Keycloak is another identity, linked separately.
    let page = link(
        &mut ann,
        &fake,
        "kc",
        person("same-sub", "ann@elsewhere.org"),
    )
    .await;
    assert_eq!(page.location(), "/account", "{}", page.body);
    let user = app
        .services
        .user_by_email(Realm::Staff, "ann@example.com")
        .unwrap();
    let keys: Vec<(String, String)> = user
        .sso_links
        .iter()
        .map(|l| (l.tenant.clone(), l.subject.clone()))
        .collect();
    assert_eq!(
        keys,
        [
            (fake.generic_issuer("okta"), "same-sub".to_owned()),
            (fake.generic_issuer("keycloak"), "same-sub".to_owned()),
        ]
    );
    let event = app.services.audit_log(1, None).unwrap().remove(0).1;
    assert_eq!(event.kind, AuditKind::SsoLinked);
    let account = ann.get("/account").await;
    assert!(
        account.has("okta (okta): bob@example.com"),
        "{}",
        account.body
    );
    assert!(
        account.has("keycloak (kc): ann@elsewhere.org"),
        "{}",
        account.body
    );

    // Bob cannot take Ann's Okta identity.
    let page = link(
        &mut bob,
        &fake,
        "okta",
        person("same-sub", "bob@example.com"),
    )
    .await;
    assert!(
        page.status.is_client_error(),
        "{} {}",
        page.status,
        page.body
    );
    let bob_user = app
        .services
        .user_by_email(Realm::Staff, "bob@example.com")
        .unwrap();
    assert!(bob_user.sso_links.is_empty());
    assert_eq!(
        app.services.audit_log(1, None).unwrap().remove(0).1.kind,
        AuditKind::SsoFailed
    );

    // The linked identity signs Ann in at Keycloak (nobody by Bob's address).
    let mut fresh = app.browser();
    let page = sign_in_via(
        &mut fresh,
        &fake,
        "/login/sso/kc",
        person("same-sub", "bob@example.com"),
    )
    .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let me = fresh.get("/account").await;
    assert!(me.has("ann@example.com"), "signed in as Ann: {}", me.body);

    // Unlinking the Keycloak identity leaves the Okta one.
    ann.get("/account").await;
    let keycloak = fake.generic_issuer("keycloak");
    let page = ann
        .post(
            "/account/sso/unlink",
            &[("tenant", keycloak.as_str()), ("subject", "same-sub")],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let user = app
        .services
        .user_by_email(Realm::Staff, "ann@example.com")
        .unwrap();
    assert_eq!(user.sso_links.len(), 1);
    assert_eq!(user.sso_links[0].tenant, fake.generic_issuer("okta"));

    // A disabled provider offers no link and starts none.
    app.services
        .set_provider_enabled(AdminActor::cli(), Realm::Staff, "kc", false)
        .await
        .unwrap();
    let account = ann.get("/account").await;
    assert!(
        !account.has("Link a keycloak (kc) account"),
        "{}",
        account.body
    );
    let page = ann.post("/account/sso/link", &[("provider", "kc")]).await;
    assert_ne!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    assert!(
        page.status.is_client_error(),
        "{} {}",
        page.status,
        page.body
    );
}

#[actix_web::test]
async fn a_portal_user_links_an_account_of_the_portal_provider() {
    let (app, fake) = app_with_issuers().await;
    app.services
        .create_client(AdminActor::cli(), "acme".into(), "Acme".into())
        .await
        .unwrap();
    let acme = app.services.client_realm("acme").unwrap();
    let input = ProviderInput {
        jit: Some(true),
        allowed_domains: Some("acme.example".into()),
        ..ProviderInput::default()
    };
    add_provider(&app, &fake, acme, "okta", "okta", input).await;
    add_provider(
        &app,
        &fake,
        acme,
        "kc",
        "keycloak",
        ProviderInput::default(),
    )
    .await;
    let mut carol = app.browser();
    let page = sign_in_via(
        &mut carol,
        &fake,
        "/p/acme/login/sso/okta",
        person("c1", "carol@acme.example"),
    )
    .await;
    assert_eq!(page.location(), "/p/acme/account", "{}", page.body);
    let account = carol.get("/p/acme/account").await;
    assert!(
        account.has("Link a keycloak (kc) account"),
        "{}",
        account.body
    );
    fake.next_login(person("c1", "carol@acme.example"));
    let page = carol
        .post("/p/acme/account/sso/link", &[("provider", "kc")])
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let callback = visit_authorize(page.location()).await;
    let page = carol.get(&callback).await;
    assert_eq!(page.location(), "/p/acme/account", "{}", page.body);
    let user = app
        .services
        .user_by_email(acme, "carol@acme.example")
        .unwrap();
    let issuers: Vec<&str> = user.sso_links.iter().map(|l| l.tenant.as_str()).collect();
    assert_eq!(
        issuers,
        [fake.generic_issuer("okta"), fake.generic_issuer("keycloak")]
    );
}

#[actix_web::test]
async fn an_admin_steps_up_at_their_openid_provider_under_its_mfa_rule() {
    let (app, fake) = app_with_issuers().await;
    let mfa = ProviderInput {
        require_mfa: Some(true),
        ..ProviderInput::default()
    };
    add_provider(&app, &fake, Realm::Staff, "okta", "okta", mfa).await;
    add_provider(
        &app,
        &fake,
        Realm::Staff,
        "kc",
        "keycloak",
        ProviderInput::default(),
    )
    .await;
    let mut ann = signed_in_admin(&app, "ann@example.com").await;
    fake.claims(json!({"amr": ["pwd", "mfa"]}));
    let page = link(
        &mut ann,
        &fake,
        "okta",
        person("ann-sub", "ann@example.com"),
    )
    .await;
    assert_eq!(page.location(), "/account", "{}", page.body);

    advance(&app, &fake, STEP_UP_WINDOW_SECS + 1);
    let confirm = ann.get("/admin/confirm?next=%2Fadmin%2Fsso").await;
    assert!(confirm.has("Confirm with okta (okta)"), "{}", confirm.body);
    assert!(
        !confirm.has("Confirm with keycloak"),
        "no account linked at Keycloak: {}",
        confirm.body
    );

    // Okta requires MFA: a token without `amr: mfa` is no step-up.
    fake.claims(json!({"amr": ["pwd"]}));
    fake.next_login(person("ann-sub", "ann@example.com"));
    let page = step_up_at(&mut ann, "okta").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let callback = visit_authorize(page.location()).await;
    let authorize = fake.last_authorize_query().unwrap();
    assert!(authorize.contains(&("client_id".into(), OIDC_CLIENT.into())));
    assert!(authorize.contains(&("prompt".into(), "login".into())));
    assert!(authorize.contains(&("max_age".into(), "0".into())));
    let page = ann.get(&callback).await;
    assert_ne!(
        page.status,
        StatusCode::SEE_OTHER,
        "MFA not proven: {}",
        page.body
    );
    ann.get("/admin/sso").await;
    let page = ann.post("/admin/sso/disable", &[]).await;
    assert!(
        page.location().starts_with("/admin/confirm"),
        "still not stepped up"
    );

    // Another Okta account than the linked one: refused.
    fake.claims(json!({"amr": ["pwd", "mfa"]}));
    fake.next_login(person("mallory-sub", "ann@example.com"));
    let page = step_up_at(&mut ann, "okta").await;
    let callback = visit_authorize(page.location()).await;
    let page = ann.get(&callback).await;
    assert_ne!(
        page.status,
        StatusCode::SEE_OTHER,
        "unlinked account: {}",
        page.body
    );

    // Keycloak: Ann has no account linked there.
    let page = step_up_at(&mut ann, "kc").await;
    assert_eq!(page.status, StatusCode::FORBIDDEN, "{}", page.body);

    // Ann at Okta with MFA proven: stepped up, back to the page, changes work.
    fake.next_login(person("ann-sub", "ann@example.com"));
    let page = step_up_at(&mut ann, "okta").await;
    let callback = visit_authorize(page.location()).await;
    let page = ann.get(&callback).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    assert_eq!(page.location(), "/admin/sso");
    let event = app.services.audit_log(1, None).unwrap().remove(0).1;
    assert!(event.detail.contains("step-up"), "{}", event.detail);
    ann.get("/admin/sso").await;
    let page = ann.post("/admin/sso/disable", &[]).await;
    assert!(
        !page.location().starts_with("/admin/confirm"),
        "stepped up: {}",
        page.body
    );
}
