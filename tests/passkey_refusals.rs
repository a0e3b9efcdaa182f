//! Every passkey refusal through the real routes with a software authenticator:
//! wrong origin, wrong relying party, replayed or lapsed challenge, counter going
//! back, another user's or another realm's credential, SSO-only — each refused with
//! no session.

use crate::common::TestApp;
use crate::common::passkey::SoftKey;
use crate::common::passkey_steps::*;
use gatehouse::domain::audit::AuditKind;
use gatehouse::domain::user::Realm;
use gatehouse::service::admin::AdminActor;

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
    assert_refused(&mut browser, "/login/passkey", &ceremony, &credential, "").await;
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
    assert_refused(&mut browser, "/login/passkey", &ceremony, &credential, "").await;
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
    assert_refused(&mut other, "/login/passkey", &ceremony, &credential, "").await;

    // A challenge answered after five minutes has lapsed; just before, it works.
    let (mut browser, ceremony, options) = passwordless_page(&app, "").await;
    app.clock.advance(5 * 60);
    let credential = key.get(&options);
    assert_refused(&mut browser, "/login/passkey", &ceremony, &credential, "").await;
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
    assert_refused(
        &mut browser,
        "/login/mfa/passkey",
        &ceremony,
        &credential,
        "",
    )
    .await;
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
    assert_refused(&mut browser, "/login/passkey", &ceremony, &credential, "").await;
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
    assert_refused(
        &mut browser,
        "/login/mfa/passkey",
        &ceremony,
        &credential,
        "",
    )
    .await;

    // Without a password: Ann's credential claiming to be Bob.
    app.services
        .set_staff_passkey_sign_in(AdminActor::cli(), true)
        .await
        .unwrap();
    let (mut browser, ceremony, options) = passwordless_page(&app, "").await;
    ann_key.user_handle = bob_key.user_handle.clone();
    let credential = ann_key.get(&options);
    assert_refused(&mut browser, "/login/passkey", &ceremony, &credential, "").await;
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
    assert_refused(&mut browser, "/login/passkey", &ceremony, &credential, "").await;
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
    assert_refused(&mut bob, "/login/passkey", &bob_ceremony, &credential, "").await;
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
