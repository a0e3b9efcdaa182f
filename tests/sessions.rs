//! Session rules: pending sign-ins grant nothing, ids rotate at every step, logout
//! kills the cookie, idle and absolute limits hold.

use actix_web::http::StatusCode;

use crate::common::staff::enrolled_admin;

#[actix_web::test]
async fn pending_mfa_grants_nothing_and_the_id_rotates() {
    let (app, mut browser, secret, _) = enrolled_admin().await;
    browser.get("/login").await;
    let page = browser
        .post(
            "/login",
            &[
                ("email", "ann@example.com"),
                ("password", "correct horse battery"),
            ],
        )
        .await;
    assert_eq!(page.location(), "/login/mfa");
    let pending = browser.session().expect("pending cookie");

    for path in ["/account", "/admin", "/admin/users", "/mfa/setup"] {
        let page = browser.get(path).await;
        assert_ne!(page.status, StatusCode::OK, "{path} with a pending session");
    }
    let page = browser
        .post(
            "/account/password",
            &[
                ("current_password", "correct horse battery"),
                ("new_password", "another long one"),
                ("new_password_confirm", "another long one"),
            ],
        )
        .await;
    assert_eq!(
        page.status,
        StatusCode::SEE_OTHER,
        "POST with pending session redirected to sign-in"
    );

    let page = browser
        .post("/login/mfa", &[("code", &app.code(&secret, 0))])
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    let active = browser.session().unwrap();
    assert_ne!(active, pending, "new session id after MFA");

    // The pending id is dead now.
    let mut stale = app.browser();
    stale.cookies.insert("gh_session".into(), pending);
    assert_eq!(stale.get("/login/mfa").await.status, StatusCode::SEE_OTHER);
    assert_eq!(stale.get("/account").await.status, StatusCode::SEE_OTHER);
}

#[actix_web::test]
async fn login_rotates_even_a_preset_cookie() {
    let (app, mut browser, secret, _) = enrolled_admin().await;
    browser.cookies.insert(
        "gh_session".into(),
        "attacker-chosen-value-that-is-43-chars-long".into(),
    );
    browser
        .sign_in(
            &app,
            "ann@example.com",
            "correct horse battery",
            Some(&secret),
        )
        .await;
    assert_ne!(
        browser.session().unwrap(),
        "attacker-chosen-value-that-is-43-chars-long"
    );
}

#[actix_web::test]
async fn after_logout_the_old_cookie_is_refused() {
    let (app, mut browser, secret, _) = enrolled_admin().await;
    browser
        .sign_in(
            &app,
            "ann@example.com",
            "correct horse battery",
            Some(&secret),
        )
        .await;
    let old = browser.session().unwrap();
    assert_eq!(browser.get("/account").await.status, StatusCode::OK);
    browser.post("/logout", &[]).await;

    let mut replay = app.browser();
    replay.cookies.insert("gh_session".into(), old);
    let page = replay.get("/account").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.location(), "/login?next=%2Faccount");
}

#[actix_web::test]
async fn idle_timeout_ends_a_quiet_session() {
    let (app, mut browser, secret, _) = enrolled_admin().await;
    browser
        .sign_in(
            &app,
            "ann@example.com",
            "correct horse battery",
            Some(&secret),
        )
        .await;
    app.clock.advance(29 * 60);
    assert_eq!(
        browser.get("/account").await.status,
        StatusCode::OK,
        "activity within 30 minutes"
    );
    app.clock.advance(29 * 60);
    assert_eq!(
        browser.get("/account").await.status,
        StatusCode::OK,
        "activity extends the session"
    );
    app.clock.advance(30 * 60);
    assert_eq!(
        browser.get("/account").await.status,
        StatusCode::SEE_OTHER,
        "30 minutes idle ends it"
    );
}

#[actix_web::test]
async fn absolute_lifetime_ends_even_a_busy_session() {
    let (app, mut browser, secret, _) = enrolled_admin().await;
    browser
        .sign_in(
            &app,
            "ann@example.com",
            "correct horse battery",
            Some(&secret),
        )
        .await;
    for _ in 0..(12 * 60 / 20 - 1) {
        app.clock.advance(20 * 60);
        assert_eq!(browser.get("/account").await.status, StatusCode::OK);
    }
    app.clock.advance(20 * 60);
    assert_eq!(
        browser.get("/account").await.status,
        StatusCode::SEE_OTHER,
        "12 hours is the limit"
    );
}

#[actix_web::test]
async fn batched_activity_survives_a_flush() {
    let (app, mut browser, secret, _) = enrolled_admin().await;
    browser
        .sign_in(
            &app,
            "ann@example.com",
            "correct horse battery",
            Some(&secret),
        )
        .await;
    app.clock.advance(20 * 60);
    assert_eq!(browser.get("/account").await.status, StatusCode::OK);
    assert_eq!(
        app.services.flush_activity().unwrap(),
        1,
        "one session touched"
    );
    app.clock.advance(20 * 60);
    assert_eq!(
        browser.get("/account").await.status,
        StatusCode::OK,
        "flushed last-seen keeps it alive"
    );
}

#[actix_web::test]
async fn disabling_a_user_ends_their_session_at_once() {
    let (app, mut browser, secret, _) = enrolled_admin().await;
    app.create_admin("second@example.com", "another passphrase")
        .await;
    browser
        .sign_in(
            &app,
            "ann@example.com",
            "correct horse battery",
            Some(&secret),
        )
        .await;
    let ann = app
        .services
        .user_by_email(gatehouse::domain::user::Realm::Staff, "ann@example.com")
        .unwrap();
    app.services
        .set_enabled(gatehouse::service::admin::AdminActor::cli(), ann.id, false)
        .await
        .unwrap();
    assert_eq!(browser.get("/account").await.status, StatusCode::SEE_OTHER);
}
