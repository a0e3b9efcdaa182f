//! The account page: sessions, password change and recovery codes with
//! re-authentication.

use actix_web::http::StatusCode;

use crate::common::staff::enrolled_admin;

#[actix_web::test]
async fn lists_and_revokes_own_sessions() {
    let (app, mut laptop, secret, _) = enrolled_admin().await;
    laptop
        .sign_in(
            &app,
            "ann@example.com",
            "correct horse battery",
            Some(&secret),
        )
        .await;
    let mut phone = app.browser();
    phone.ip = "198.51.100.9".parse().unwrap();
    // A code is single-use, so the phone signs in at the next step.
    app.next_step();
    phone
        .sign_in(
            &app,
            "ann@example.com",
            "correct horse battery",
            Some(&secret),
        )
        .await;
    assert_eq!(phone.get("/account").await.status, StatusCode::OK);

    let page = laptop.get("/account").await;
    assert!(
        page.has("this browser") && page.has("198.51.100.9") && page.has("Chrome on Linux"),
        "{}",
        page.body
    );
    let phone_session = page
        .body
        .split("name=\"session\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("a revoke button for the other session")
        .to_owned();
    let page = laptop
        .post("/account/sessions/revoke", &[("session", &phone_session)])
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(
        phone.get("/account").await.status,
        StatusCode::SEE_OTHER,
        "phone signed out"
    );
    assert_eq!(laptop.get("/account").await.status, StatusCode::OK);

    // Someone else's (or a made-up) handle does nothing.
    let page = laptop
        .post("/account/sessions/revoke", &[("session", &"ab".repeat(32))])
        .await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    let page = laptop
        .post("/account/sessions/revoke", &[("session", "zz")])
        .await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
}

#[actix_web::test]
async fn password_change_needs_password_and_code_and_signs_out_others() {
    let (app, mut browser, secret, _) = enrolled_admin().await;
    browser
        .sign_in(
            &app,
            "ann@example.com",
            "correct horse battery",
            Some(&secret),
        )
        .await;
    let mut other = app.browser();
    app.next_step();
    other
        .sign_in(
            &app,
            "ann@example.com",
            "correct horse battery",
            Some(&secret),
        )
        .await;
    assert_eq!(other.get("/account").await.status, StatusCode::OK);

    browser.get("/account").await;
    app.next_step();
    let wrong = browser
        .post(
            "/account/password",
            &[
                ("current_password", "not my password"),
                ("code", &app.code(&secret, 0)),
                ("new_password", "brand new passphrase"),
                ("new_password_confirm", "brand new passphrase"),
            ],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST);
    assert!(wrong.has("not right"));
    let no_code = browser
        .post(
            "/account/password",
            &[
                ("current_password", "correct horse battery"),
                ("code", "000000"),
                ("new_password", "brand new passphrase"),
                ("new_password_confirm", "brand new passphrase"),
            ],
        )
        .await;
    assert_eq!(no_code.status, StatusCode::BAD_REQUEST);
    let mismatch = browser
        .post(
            "/account/password",
            &[
                ("current_password", "correct horse battery"),
                ("code", &app.code(&secret, 0)),
                ("new_password", "brand new passphrase"),
                ("new_password_confirm", "other"),
            ],
        )
        .await;
    assert_eq!(mismatch.status, StatusCode::BAD_REQUEST);
    assert!(mismatch.has("do not match"));

    let ok = browser
        .submit(
            "/account/password",
            &[
                ("current_password", "correct horse battery"),
                ("code", &app.code(&secret, 0)),
                ("new_password", "brand new passphrase"),
                ("new_password_confirm", "brand new passphrase"),
            ],
        )
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    assert!(ok.has("password was changed"));
    assert_eq!(
        other.get("/account").await.status,
        StatusCode::SEE_OTHER,
        "other session ended"
    );
    assert_eq!(
        browser.get("/account").await.status,
        StatusCode::OK,
        "this session kept"
    );

    browser.post("/logout", &[]).await;
    app.next_step();
    let old = browser
        .sign_in(&app, "ann@example.com", "correct horse battery", None)
        .await;
    assert_eq!(old.status, StatusCode::UNAUTHORIZED);
    let new = browser
        .sign_in(
            &app,
            "ann@example.com",
            "brand new passphrase",
            Some(&secret),
        )
        .await;
    assert_eq!(new.location(), "/account");
}

#[actix_web::test]
async fn regenerating_recovery_codes_replaces_the_old_ones() {
    let (app, mut browser, secret, old_codes) = enrolled_admin().await;
    browser
        .sign_in(
            &app,
            "ann@example.com",
            "correct horse battery",
            Some(&secret),
        )
        .await;
    browser.get("/account").await;
    app.next_step();
    let page = browser
        .submit(
            "/account/recovery-codes",
            &[
                ("current_password", "correct horse battery"),
                ("code", &app.code(&secret, 0)),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let new_codes = page.codes();
    assert_eq!(new_codes.len(), 10);
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
    assert_eq!(
        browser
            .post("/login/mfa", &[("code", &old_codes[0])])
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        browser
            .post("/login/mfa", &[("code", &new_codes[0])])
            .await
            .status,
        StatusCode::SEE_OTHER
    );
}
