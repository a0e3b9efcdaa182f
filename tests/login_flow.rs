//! The staff sign-in journey end to end through the real route table.

use actix_web::http::StatusCode;

use crate::common::TestApp;
use crate::common::staff::enrolled_admin;

#[actix_web::test]
async fn setup_link_to_first_admin_to_totp_to_account() {
    let app = TestApp::new().await;
    let token = app
        .services
        .issue_setup_token()
        .unwrap()
        .expect("no admin yet, so a setup token");
    let mut browser = app.browser();

    let page = browser.get(&format!("/setup/{}", token.expose())).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.has("Create the first administrator"));
    let page = browser
        .post(
            &format!("/setup/{}", token.expose()),
            &[
                ("email", "Ann@Example.com"),
                ("name", "Ann Admin"),
                ("password", "correct horse battery"),
                ("password_confirm", "correct horse battery"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    assert_eq!(page.location(), "/mfa/setup");
    let pending_cookie = browser.session().expect("pending session cookie");

    // The pending enrolment session grants nothing yet.
    let page = browser.get("/account").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert!(page.location().starts_with("/login"), "{}", page.location());

    let (secret, recovery) = browser.enrol(&app).await;
    let active_cookie = browser.session().unwrap();
    assert_ne!(
        active_cookie, pending_cookie,
        "session rotated at enrolment"
    );
    assert!(recovery.iter().all(|c| c.len() == 14));

    let page = browser.get("/account").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.has("ann@example.com") && page.has("set up"),
        "{}",
        page.body
    );

    // The setup link is single use.
    let page = browser.get(&format!("/setup/{}", token.expose())).await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);

    let page = browser.post("/logout", &[]).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.location(), "/login?signed_out=1");
    assert!(browser.session().is_none(), "cookie removed on logout");

    app.next_step();
    let page = browser
        .sign_in(
            &app,
            "ann@example.com",
            "correct horse battery",
            Some(&secret),
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    assert_eq!(page.location(), "/account");
    let page = browser.get("/account").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.has("Ann Admin"));
}

#[actix_web::test]
async fn cli_created_admin_enrols_at_first_login() {
    let app = TestApp::new().await;
    app.create_admin("boss@example.com", "a long passphrase")
        .await;
    assert!(
        app.services.issue_setup_token().unwrap().is_none(),
        "no setup link once an admin exists"
    );
    let mut browser = app.browser();
    let page = browser
        .sign_in(&app, "boss@example.com", "a long passphrase", None)
        .await;
    assert_eq!(
        page.location(),
        "/mfa/setup",
        "MFA is required for staff: enrolment first"
    );
    assert_eq!(browser.get("/account").await.status, StatusCode::SEE_OTHER);
    let (secret, _) = browser.enrol(&app).await;
    assert_eq!(browser.get("/account").await.status, StatusCode::OK);
    assert!(
        app.services
            .user_by_email(gatehouse::domain::user::Realm::Staff, "boss@example.com")
            .unwrap()
            .totp
            .is_some()
    );
    assert!(!secret.is_empty());
}

#[actix_web::test]
async fn a_totp_code_works_once_and_skew_is_one_step() {
    let (app, mut browser, secret, _) = enrolled_admin().await;
    let page = browser
        .sign_in(
            &app,
            "ann@example.com",
            "correct horse battery",
            Some(&secret),
        )
        .await;
    assert_eq!(page.location(), "/account");
    browser.post("/logout", &[]).await;

    // Same code again, same moment: refused.
    browser.get("/login").await;
    browser
        .post(
            "/login",
            &[
                ("email", "ann@example.com"),
                ("password", "correct horse battery"),
            ],
        )
        .await;
    let replay = browser
        .post("/login/mfa", &[("code", &app.code(&secret, 0))])
        .await;
    assert_eq!(
        replay.status,
        StatusCode::UNAUTHORIZED,
        "replayed code refused"
    );
    // T-1 is older than the used step: refused. T+2 is outside the window.
    assert_eq!(
        browser
            .post("/login/mfa", &[("code", &app.code(&secret, -1))])
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        browser
            .post("/login/mfa", &[("code", &app.code(&secret, 2))])
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    // T+1 is accepted (clock skew) and newer.
    let ok = browser
        .post("/login/mfa", &[("code", &app.code(&secret, 1))])
        .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER);
    assert_eq!(ok.location(), "/account");
}

#[actix_web::test]
async fn code_for_previous_step_is_accepted_when_fresh() {
    let (app, mut browser, secret, _) = enrolled_admin().await;
    // Enrolment used the step before the clock moved on; T-1 is that step and is
    // therefore not newer. Move two steps on so T-1 is fresh.
    app.clock.advance(60);
    browser.get("/login").await;
    browser
        .post(
            "/login",
            &[
                ("email", "ann@example.com"),
                ("password", "correct horse battery"),
            ],
        )
        .await;
    let page = browser
        .post("/login/mfa", &[("code", &app.code(&secret, -1))])
        .await;
    assert_eq!(
        page.status,
        StatusCode::SEE_OTHER,
        "T-1 accepted: {}",
        page.body
    );
}

#[actix_web::test]
async fn a_recovery_code_works_once() {
    let (app, mut browser, _, codes) = enrolled_admin().await;
    let code = codes[3].to_uppercase();
    browser.get("/login").await;
    browser
        .post(
            "/login",
            &[
                ("email", "ann@example.com"),
                ("password", "correct horse battery"),
            ],
        )
        .await;
    let page = browser.post("/login/mfa", &[("code", &code)]).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    browser.post("/logout", &[]).await;

    browser.get("/login").await;
    browser
        .post(
            "/login",
            &[
                ("email", "ann@example.com"),
                ("password", "correct horse battery"),
            ],
        )
        .await;
    let again = browser.post("/login/mfa", &[("code", &code)]).await;
    assert_eq!(
        again.status,
        StatusCode::UNAUTHORIZED,
        "used recovery code refused"
    );
    let user = app
        .services
        .user_by_email(gatehouse::domain::user::Realm::Staff, "ann@example.com")
        .unwrap();
    assert_eq!(user.recovery_codes.len(), 9);
}

#[actix_web::test]
async fn next_is_honoured_only_for_safe_targets() {
    let (app, mut browser, secret, _) = enrolled_admin().await;
    browser.get("/login?next=/admin/audit").await;
    let page = browser
        .post(
            "/login",
            &[
                ("email", "ann@example.com"),
                ("password", "correct horse battery"),
                ("next", "/admin/audit"),
            ],
        )
        .await;
    assert_eq!(page.location(), "/login/mfa");
    let page = browser
        .post("/login/mfa", &[("code", &app.code(&secret, 0))])
        .await;
    assert_eq!(page.location(), "/admin/audit");
    browser.post("/logout", &[]).await;

    app.next_step();
    browser.get("/login").await;
    browser
        .post(
            "/login",
            &[
                ("email", "ann@example.com"),
                ("password", "correct horse battery"),
                ("next", "//evil.example/x"),
            ],
        )
        .await;
    let page = browser
        .post("/login/mfa", &[("code", &app.code(&secret, 0))])
        .await;
    assert_eq!(page.location(), "/account", "hostile next falls back");
}
