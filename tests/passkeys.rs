//! Passkeys through the real routes with a software authenticator: registration on
//! the account page, the second step, signing in without a password where the realm
//! allows it, a passkey at the first sign-in, and every refusal (wrong origin, wrong
//! relying party, replayed or lapsed challenge, counter going back, another user's or
//! another realm's credential, SSO-only) — refused with no session.

use actix_web::http::StatusCode;

use crate::common::passkey::{SoftKey, passkey_form};
use crate::common::{Browser, TestApp};
use gatehouse::domain::audit::{AuditEvent, AuditKind};
use gatehouse::domain::user::Realm;
use gatehouse::service::admin::AdminActor;

const PASSWORD: &str = "correct horse battery";

fn audit(app: &TestApp) -> Vec<AuditEvent> {
    app.services
        .audit_log(500, None)
        .unwrap()
        .into_iter()
        .map(|(_, e)| e)
        .collect()
}

fn audited(app: &TestApp, kind: AuditKind, detail: &str) -> bool {
    audit(app)
        .iter()
        .any(|e| e.kind == kind && e.detail.contains(detail))
}

/// Registers a passkey named `name` from `{prefix}/account/passkeys`.
async fn register(browser: &mut Browser, prefix: &str, key: &mut SoftKey, name: &str) {
    let page = browser.get(&format!("{prefix}/account/passkeys")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let action = format!("{prefix}/account/passkeys");
    let (ceremony, options) = passkey_form(&page, &action).expect("an add-passkey form");
    assert!(options.contains("\"attestation\":\"none\""), "{options}");
    let credential = key.create(&options);
    let page = browser
        .post(
            &action,
            &[
                ("ceremony", &ceremony),
                ("name", name),
                ("credential", &credential),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    assert_eq!(page.location(), format!("{action}?added=1"));
    let page = browser.get(&format!("{action}?added=1")).await;
    assert!(page.has(name), "the new passkey is listed");
}

/// Ann, a staff admin with TOTP and one passkey, signed out. Returns her TOTP
/// secret and her passkey.
async fn ann_with_passkey(app: &TestApp) -> (String, SoftKey) {
    app.create_admin("ann@example.com", PASSWORD).await;
    let mut browser = app.browser();
    browser
        .sign_in(app, "ann@example.com", PASSWORD, None)
        .await;
    let (secret, _) = browser.enrol(app).await;
    let mut key = SoftKey::new();
    register(&mut browser, "", &mut key, "Ann's laptop").await;
    browser.post("/logout", &[]).await;
    (secret, key)
}

/// The password step for `email`, leaving the browser at the second step's page.
async fn password_step(app: &TestApp, prefix: &str, email: &str) -> (Browser, String, String) {
    let mut browser = app.browser();
    browser.get(&format!("{prefix}/login")).await;
    let page = browser
        .post(
            &format!("{prefix}/login"),
            &[("email", email), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(
        page.location(),
        format!("{prefix}/login/mfa"),
        "{}",
        page.body
    );
    let page = browser.get(&format!("{prefix}/login/mfa")).await;
    assert!(
        page.has("Use a passkey"),
        "the second step offers the passkey"
    );
    assert!(page.has("name=\"code\""), "and still the code");
    let (ceremony, options) =
        passkey_form(&page, &format!("{prefix}/login/mfa/passkey")).expect("passkey form");
    (browser, ceremony, options)
}

/// A fresh browser on `{prefix}/login` with passkey sign-in offered.
async fn passwordless_page(app: &TestApp, prefix: &str) -> (Browser, String, String) {
    let mut browser = app.browser();
    let page = browser.get(&format!("{prefix}/login")).await;
    assert!(page.has("Sign in with a passkey"), "{}", page.body);
    assert!(page.has("autocomplete=\"username webauthn\""));
    let (ceremony, options) =
        passkey_form(&page, &format!("{prefix}/login/passkey")).expect("passkey sign-in form");
    (browser, ceremony, options)
}

async fn answer(browser: &mut Browser, action: &str, ceremony: &str, credential: &str) -> u16 {
    let page = browser
        .post(
            action,
            &[("ceremony", ceremony), ("credential", credential)],
        )
        .await;
    if page.status == StatusCode::SEE_OTHER {
        assert!(page.location().ends_with("/account"), "{}", page.location());
    } else {
        assert!(page.has("That passkey was not accepted."), "{}", page.body);
    }
    page.status.as_u16()
}

async fn signed_in(browser: &mut Browser, prefix: &str) -> bool {
    browser.get(&format!("{prefix}/account")).await.status == StatusCode::OK
}

#[actix_web::test]
async fn a_passkey_registered_on_the_account_page_is_the_second_step_and_is_audited() {
    let app = TestApp::new().await;
    let (_, mut key) = ann_with_passkey(&app).await;
    assert!(audited(&app, AuditKind::PasskeyRegistered, "Ann's laptop"));

    let (mut browser, ceremony, options) = password_step(&app, "", "ann@example.com").await;
    let credential = key.get(&options);
    assert_eq!(
        answer(&mut browser, "/login/mfa/passkey", &ceremony, &credential).await,
        303
    );
    assert!(signed_in(&mut browser, "").await);
    assert!(audited(
        &app,
        AuditKind::LoginSucceeded,
        "password + passkey \"Ann's laptop\""
    ));
    let page = browser.get("/account").await;
    assert!(
        page.has("password+passkey"),
        "the session shows how it signed in"
    );
    let page = browser.get("/account/passkeys").await;
    assert!(!page.has("never"), "last use recorded");

    // Removing it is audited, and it no longer works.
    let handle = page.input_value("passkey").expect("remove form");
    let page = browser
        .post("/account/passkeys/remove", &[("passkey", &handle)])
        .await;
    assert_eq!(page.location(), "/account/passkeys?removed=1");
    assert!(audited(&app, AuditKind::PasskeyRemoved, "Ann's laptop"));
    assert!(
        browser
            .get("/account/passkeys")
            .await
            .has("You have no passkeys yet.")
    );
}

#[actix_web::test]
async fn passkey_sign_in_without_password_only_where_the_realm_allows_it() {
    let app = TestApp::new().await;
    let (_, mut key) = ann_with_passkey(&app).await;
    let page = app.browser().get("/login").await;
    assert!(!page.has("Sign in with a passkey"), "off by default");

    app.services
        .set_staff_passkey_sign_in(AdminActor::cli(), true)
        .await
        .unwrap();
    let (mut browser, ceremony, options) = passwordless_page(&app, "").await;
    let credential = key.get(&options);
    assert_eq!(
        answer(&mut browser, "/login/passkey", &ceremony, &credential).await,
        303
    );
    assert!(signed_in(&mut browser, "").await);
    assert!(audited(
        &app,
        AuditKind::LoginSucceeded,
        "passkey \"Ann's laptop\""
    ));

    // Turned off again: a challenge issued before no longer signs in.
    let (mut browser, ceremony, options) = passwordless_page(&app, "").await;
    app.services
        .set_staff_passkey_sign_in(AdminActor::cli(), false)
        .await
        .unwrap();
    let credential = key.get(&options);
    assert_eq!(
        answer(&mut browser, "/login/passkey", &ceremony, &credential).await,
        401
    );
    assert!(!signed_in(&mut browser, "").await);
}

#[actix_web::test]
async fn wrong_origin_wrong_relying_party_replay_and_lapsed_challenges_are_refused() {
    let app = TestApp::new().await;
    let (_, mut key) = ann_with_passkey(&app).await;
    app.services
        .set_staff_passkey_sign_in(AdminActor::cli(), true)
        .await
        .unwrap();

    // Wrong origin.
    let (mut browser, ceremony, options) = passwordless_page(&app, "").await;
    key.origin = "http://localhost.evil.example:8080".to_owned();
    let credential = key.get(&options);
    assert_eq!(
        answer(&mut browser, "/login/passkey", &ceremony, &credential).await,
        401
    );
    assert!(!signed_in(&mut browser, "").await);
    assert!(audited(
        &app,
        AuditKind::LoginFailed,
        "origin does not match"
    ));
    key.origin = crate::common::passkey::ORIGIN.to_owned();

    // Wrong relying-party id.
    let (mut browser, ceremony, options) = passwordless_page(&app, "").await;
    key.rp_id = "evil.example".to_owned();
    let credential = key.get(&options);
    assert_eq!(
        answer(&mut browser, "/login/passkey", &ceremony, &credential).await,
        401
    );
    assert!(!signed_in(&mut browser, "").await);
    assert!(audited(
        &app,
        AuditKind::LoginFailed,
        "relying party id hash does not match"
    ));
    key.rp_id = "localhost".to_owned();

    // A good answer works once; the same answer again is a replay.
    let (mut browser, ceremony, options) = passwordless_page(&app, "").await;
    let credential = key.get(&options);
    assert_eq!(
        answer(&mut browser, "/login/passkey", &ceremony, &credential).await,
        303
    );
    let mut other = app.browser();
    other.get("/login").await;
    assert_eq!(
        answer(&mut other, "/login/passkey", &ceremony, &credential).await,
        401
    );
    assert!(!signed_in(&mut other, "").await);

    // A challenge answered after five minutes has lapsed; just before, it works.
    let (mut browser, ceremony, options) = passwordless_page(&app, "").await;
    app.clock.advance(5 * 60);
    let credential = key.get(&options);
    assert_eq!(
        answer(&mut browser, "/login/passkey", &ceremony, &credential).await,
        401
    );
    assert!(!signed_in(&mut browser, "").await);
    let (mut browser, ceremony, options) = passwordless_page(&app, "").await;
    app.clock.advance(5 * 60 - 1);
    let credential = key.get(&options);
    assert_eq!(
        answer(&mut browser, "/login/passkey", &ceremony, &credential).await,
        303
    );

    // Failures look alike from outside and keep their reason in the audit trail.
    assert!(audited(
        &app,
        AuditKind::LoginFailed,
        "passkey: challenge unknown, used or expired"
    ));
    assert!(audited(&app, AuditKind::LoginFailed, "passkey: "));
}

#[actix_web::test]
async fn a_signature_counter_going_back_is_refused_and_audited() {
    let app = TestApp::new().await;
    let (_, mut key) = ann_with_passkey(&app).await;
    key.counter = 10;
    let (mut browser, ceremony, options) = password_step(&app, "", "ann@example.com").await;
    let credential = key.get(&options);
    assert_eq!(
        answer(&mut browser, "/login/mfa/passkey", &ceremony, &credential).await,
        303
    );

    // A clone still at counter 5.
    key.counter = 5;
    let (mut browser, ceremony, options) = password_step(&app, "", "ann@example.com").await;
    let credential = key.sign(&options);
    assert_eq!(
        answer(&mut browser, "/login/mfa/passkey", &ceremony, &credential).await,
        401
    );
    assert!(!signed_in(&mut browser, "").await);
    assert!(audited(
        &app,
        AuditKind::PasskeyRefused,
        "signature counter went backwards"
    ));

    // The same refusal without a password.
    app.services
        .set_staff_passkey_sign_in(AdminActor::cli(), true)
        .await
        .unwrap();
    let (mut browser, ceremony, options) = passwordless_page(&app, "").await;
    let credential = key.sign(&options);
    assert_eq!(
        answer(&mut browser, "/login/passkey", &ceremony, &credential).await,
        401
    );
    assert!(!signed_in(&mut browser, "").await);
}

#[actix_web::test]
async fn another_users_passkey_is_refused() {
    let app = TestApp::new().await;
    let (_, mut ann_key) = ann_with_passkey(&app).await;
    app.create_admin("bob@example.com", PASSWORD).await;
    let mut bob = app.browser();
    bob.sign_in(&app, "bob@example.com", PASSWORD, None).await;
    bob.enrol(&app).await;
    let mut bob_key = SoftKey::new();
    register(&mut bob, "", &mut bob_key, "Bob's phone").await;
    bob.post("/logout", &[]).await;

    // Bob's password, Ann's passkey.
    let (mut browser, ceremony, options) = password_step(&app, "", "bob@example.com").await;
    let credential = ann_key.get(&options);
    assert_eq!(
        answer(&mut browser, "/login/mfa/passkey", &ceremony, &credential).await,
        401
    );
    assert!(!signed_in(&mut browser, "").await);

    // Without a password: Ann's credential claiming to be Bob.
    app.services
        .set_staff_passkey_sign_in(AdminActor::cli(), true)
        .await
        .unwrap();
    let (mut browser, ceremony, options) = passwordless_page(&app, "").await;
    ann_key.user_handle = bob_key.user_handle.clone();
    let credential = ann_key.get(&options);
    assert_eq!(
        answer(&mut browser, "/login/passkey", &ceremony, &credential).await,
        401
    );
    assert!(!signed_in(&mut browser, "").await);
    assert!(audited(
        &app,
        AuditKind::LoginFailed,
        "not a passkey of this account in this realm"
    ));
}

#[actix_web::test]
async fn a_staff_passkey_is_useless_on_a_portal_and_a_portal_passkey_works_there() {
    let app = TestApp::new().await;
    let (_, mut staff_key) = ann_with_passkey(&app).await;
    app.services
        .create_client(AdminActor::cli(), "acme".into(), "Acme".into())
        .await
        .unwrap();
    app.services
        .set_client_passkey_sign_in(AdminActor::cli(), "acme".into(), true)
        .await
        .unwrap();
    assert!(
        !app.browser()
            .get("/login")
            .await
            .has("Sign in with a passkey"),
        "staff still off"
    );

    let (mut browser, ceremony, options) = passwordless_page(&app, "/p/acme").await;
    let credential = staff_key.get(&options);
    assert_eq!(
        answer(
            &mut browser,
            "/p/acme/login/passkey",
            &ceremony,
            &credential
        )
        .await,
        401
    );
    assert!(!signed_in(&mut browser, "/p/acme").await);

    // A portal user registers their own passkey and signs in with it there, but not
    // on the staff side.
    let (mut portal, _) =
        crate::common::portal::onboarded(&app, "acme", "pat@example.org", PASSWORD).await;
    let mut pat_key = SoftKey::new();
    register(&mut portal, "/p/acme", &mut pat_key, "Pat's phone").await;
    let (mut browser, ceremony, options) = passwordless_page(&app, "/p/acme").await;
    let credential = pat_key.get(&options);
    assert_eq!(
        answer(
            &mut browser,
            "/p/acme/login/passkey",
            &ceremony,
            &credential
        )
        .await,
        303
    );
    assert!(signed_in(&mut browser, "/p/acme").await);
    app.services
        .set_staff_passkey_sign_in(AdminActor::cli(), true)
        .await
        .unwrap();
    let (mut browser, ceremony, options) = passwordless_page(&app, "").await;
    let credential = pat_key.get(&options);
    assert_eq!(
        answer(&mut browser, "/login/passkey", &ceremony, &credential).await,
        401
    );
    assert!(!signed_in(&mut browser, "").await);
}

#[actix_web::test]
async fn reset_mfa_removes_passkeys() {
    let app = TestApp::new().await;
    let (_, mut key) = ann_with_passkey(&app).await;
    let ann = app
        .services
        .user_by_email(Realm::Staff, "ann@example.com")
        .unwrap();
    app.services
        .set_staff_passkey_sign_in(AdminActor::cli(), true)
        .await
        .unwrap();
    let (mut browser, ceremony, options) = passwordless_page(&app, "").await;
    app.services
        .reset_mfa(AdminActor::cli(), ann.id)
        .await
        .unwrap();
    assert!(audited(&app, AuditKind::MfaReset, "1 passkey(s) removed"));
    let credential = key.get(&options);
    assert_eq!(
        answer(&mut browser, "/login/passkey", &ceremony, &credential).await,
        401
    );
    assert!(!signed_in(&mut browser, "").await);
    // The password now leads to enrolment, not to a passkey prompt.
    let mut browser = app.browser();
    browser.get("/login").await;
    let page = browser
        .post(
            "/login",
            &[("email", "ann@example.com"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(page.location(), "/mfa/setup");
}

#[actix_web::test]
async fn a_passkey_can_replace_the_app_at_the_first_sign_in() {
    let app = TestApp::new().await;
    app.create_admin("ann@example.com", PASSWORD).await;
    let mut browser = app.browser();
    let page = browser
        .sign_in(&app, "ann@example.com", PASSWORD, None)
        .await;
    assert_eq!(page.location(), "/mfa/setup");
    let page = browser.get("/mfa/setup").await;
    assert!(page.has("Or use a passkey"));
    assert!(
        page.has("Passkeys need JavaScript"),
        "the page says so without it"
    );
    let (ceremony, options) = passkey_form(&page, "/mfa/setup/passkey").expect("form");
    let mut key = SoftKey::new();
    let credential = key.create(&options);
    let page = browser
        .post(
            "/mfa/setup/passkey",
            &[
                ("ceremony", &ceremony),
                ("name", "Key"),
                ("credential", &credential),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert_eq!(page.codes().len(), 10, "recovery codes, as with TOTP");
    assert!(signed_in(&mut browser, "").await);
    assert!(audited(&app, AuditKind::MfaEnrolled, "passkey \"Key\""));

    // Next time: password, then the passkey (no TOTP exists).
    browser.post("/logout", &[]).await;
    let (mut browser, ceremony, options) = password_step(&app, "", "ann@example.com").await;
    let credential = key.get(&options);
    assert_eq!(
        answer(&mut browser, "/login/mfa/passkey", &ceremony, &credential).await,
        303
    );
}

#[actix_web::test]
async fn sso_only_refuses_passkeys_except_for_break_glass_accounts() {
    let (app, fake) = crate::common::sso::app_with_entra().await;
    crate::common::sso::configure_staff_sso(&app, false, "").await;
    let _ann = crate::sso_only::linked_admin(&app, &fake).await;
    let mut keys = Vec::new();
    for email in ["bob@contoso.com", "glass@contoso.com"] {
        app.create_admin(email, PASSWORD).await;
        let mut browser = app.browser();
        browser.sign_in(&app, email, PASSWORD, None).await;
        browser.enrol(&app).await;
        let mut key = SoftKey::new();
        register(&mut browser, "", &mut key, email).await;
        browser.post("/logout", &[]).await;
        keys.push(key);
    }
    let glass = app
        .services
        .user_by_email(Realm::Staff, "glass@contoso.com")
        .unwrap();
    app.services
        .set_break_glass(AdminActor::cli(), glass.id, true)
        .await
        .unwrap();
    app.services
        .set_staff_passkey_sign_in(AdminActor::cli(), true)
        .await
        .unwrap();
    // Challenges taken while passkeys were still allowed.
    let (mut bob, bob_ceremony, bob_options) = passwordless_page(&app, "").await;
    let (mut glass_browser, glass_ceremony, glass_options) =
        password_step(&app, "", "glass@contoso.com").await;

    app.services
        .set_staff_sso_only(AdminActor::cli(), true)
        .await
        .unwrap();
    assert!(
        !app.browser()
            .get("/login")
            .await
            .has("Sign in with a passkey")
    );
    let credential = keys[0].get(&bob_options);
    assert_eq!(
        answer(&mut bob, "/login/passkey", &bob_ceremony, &credential).await,
        401
    );
    assert!(!signed_in(&mut bob, "").await);
    assert!(audited(
        &app,
        AuditKind::LoginFailed,
        "passkey: password sign-in is off (SSO-only)"
    ));

    // The break-glass account: password, then its passkey, audited as break-glass.
    let credential = keys[1].get(&glass_options);
    assert_eq!(
        answer(
            &mut glass_browser,
            "/login/mfa/passkey",
            &glass_ceremony,
            &credential
        )
        .await,
        303
    );
    assert!(signed_in(&mut glass_browser, "").await);
    assert!(audited(&app, AuditKind::BreakGlassLogin, ""));
}

#[actix_web::test]
async fn admins_turn_passkey_sign_in_on_for_staff_and_for_a_portal() {
    let app = TestApp::new().await;
    let mut admin = crate::common::staff::admin(&app).await;
    app.services
        .create_client(AdminActor::cli(), "acme".into(), "Acme".into())
        .await
        .unwrap();
    let page = admin.get("/admin").await;
    assert!(page.has("Turn passkey sign-in on"));
    let page = admin
        .post("/admin/passkey-sign-in", &[("state", "on")])
        .await;
    assert_eq!(page.location(), "/admin?passkeys=on");
    assert!(
        app.browser()
            .get("/login")
            .await
            .has("Sign in with a passkey")
    );
    assert!(
        !app.browser()
            .get("/p/acme/login")
            .await
            .has("Sign in with a passkey")
    );
    admin.get("/admin/clients/acme").await;
    let page = admin
        .post("/admin/clients/acme/do/passkey-sign-in-on", &[])
        .await;
    assert!(
        page.status.is_success() || page.status.is_redirection(),
        "{}",
        page.status
    );
    assert!(
        app.browser()
            .get("/p/acme/login")
            .await
            .has("Sign in with a passkey")
    );
    assert!(audited(
        &app,
        AuditKind::SettingsChanged,
        "staff passkey sign-in on"
    ));
    assert!(audited(
        &app,
        AuditKind::ClientChanged,
        "client acme passkey sign-in on"
    ));
}
