//! Passkeys through the real routes with a software authenticator: registration on
//! the account page, the second step, signing in without a password where the realm
//! allows it, a passkey at the first sign-in, reset of MFA, and the admin switches.
//! The refusals are in `passkey_refusals.rs`.

use actix_web::http::StatusCode;

use crate::common::TestApp;
use crate::common::passkey::{SoftKey, passkey_form};
use crate::common::passkey_steps::*;
use gatehouse::domain::audit::AuditKind;
use gatehouse::domain::user::Realm;
use gatehouse::service::admin::AdminActor;

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
    assert_refused(&mut browser, "/login/passkey", &ceremony, &credential, "").await;
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
    assert_refused(&mut browser, "/login/passkey", &ceremony, &credential, "").await;
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
