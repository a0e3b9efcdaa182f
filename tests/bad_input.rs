//! Every kind of bad input gets a clear 4xx and changes nothing; no 500, no panic.

use actix_web::http::StatusCode;

use crate::common::TestApp;
use crate::common::staff::enrolled_admin;
use gatehouse::domain::user::Realm;

#[actix_web::test]
async fn a_body_over_the_limit_is_413() {
    let app = TestApp::new().await;
    let mut browser = app.browser();
    browser.get("/login").await;
    let huge = "x".repeat(100 * 1024);
    let page = browser
        .post("/login", &[("email", "a@example.com"), ("password", &huge)])
        .await;
    assert_eq!(page.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(page.has("too large"));
}

#[actix_web::test]
async fn a_password_over_1024_characters_is_refused_before_hashing() {
    let app = TestApp::new().await;
    app.create_admin("ann@example.com", "correct horse battery")
        .await;
    let mut browser = app.browser();
    browser.get("/login").await;
    let before = app.services.hashing().computed();
    let long = "é".repeat(1025);
    let page = browser
        .post(
            "/login",
            &[("email", "ann@example.com"), ("password", &long)],
        )
        .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(page.has("at most 1024 characters"), "{}", page.body);
    assert_eq!(
        app.services.hashing().computed(),
        before,
        "no Argon2 work for an over-long password"
    );
    // 1024 characters are still tried normally.
    let max = "é".repeat(1024);
    let page = browser
        .post(
            "/login",
            &[("email", "ann@example.com"), ("password", &max)],
        )
        .await;
    assert_eq!(page.status, StatusCode::UNAUTHORIZED);
}

#[actix_web::test]
async fn malformed_and_non_utf8_forms_are_400_and_wrong_types_415() {
    let app = TestApp::new().await;
    let mut browser = app.browser();
    browser.get("/login").await;
    let token = browser.csrf.clone().unwrap();
    let page = browser
        .post_raw(
            "/login",
            "application/x-www-form-urlencoded",
            format!("email=%FF%FE&password=x&csrf_token={token}").into_bytes(),
        )
        .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST, "{}", page.body);
    let mut raw = format!("csrf_token={token}&email=").into_bytes();
    raw.extend_from_slice(&[0xff, 0xfe, 0x00]);
    assert_eq!(
        browser
            .post_raw("/login", "application/x-www-form-urlencoded", raw)
            .await
            .status,
        StatusCode::BAD_REQUEST
    );
    let page = browser
        .post_raw(
            "/login",
            "application/x-www-form-urlencoded",
            format!("csrf_token={token}&email=a&email=b&password=x").into_bytes(),
        )
        .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    let page = browser
        .post_raw("/login", "application/json", br#"{"email":"a"}"#.to_vec())
        .await;
    assert_eq!(page.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(
        browser
            .post_raw("/login", "text/plain", b"hello".to_vec())
            .await
            .status,
        StatusCode::UNSUPPORTED_MEDIA_TYPE
    );
}

#[actix_web::test]
async fn malformed_codes_are_refused_clearly() {
    let (app, mut browser, _, _) = enrolled_admin().await;
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
    let ten_kb = "7".repeat(10 * 1024);
    for code in [
        "",
        "12345",
        "1234567",
        "12a456",
        "１２３４５６",
        "<script>",
        ten_kb.as_str(),
    ] {
        let page = browser.post("/login/mfa", &[("code", code)]).await;
        // Refused, or (after a few) the pending sign-in ended: back to the sign-in page.
        assert!(
            page.status == StatusCode::UNAUTHORIZED
                || page.status == StatusCode::TOO_MANY_REQUESTS
                || page.location() == "/login?expired=1",
            "{code:?}: {}",
            page.status
        );
        assert!(!page.body.contains("<script>"), "input never echoed");
    }
    let _ = app;
}

#[actix_web::test]
async fn unknown_used_and_expired_links_are_clear_4xx() {
    let app = TestApp::new().await;
    let mut browser = app.browser();
    for path in [
        "/setup/x",
        "/setup/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "/invite/nope",
        "/invite/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    ] {
        let page = browser.get(path).await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "{path}");
        assert!(page.has("not valid"), "{path}");
    }
    let token = app.services.issue_setup_token().unwrap().unwrap();
    app.clock.advance(3601);
    let page = browser.get(&format!("/setup/{}", token.expose())).await;
    assert_eq!(page.status, StatusCode::GONE);
    assert!(page.has("expired"));
    browser.get("/login").await;
    let page = browser
        .post(
            &format!("/setup/{}", token.expose()),
            &[
                ("email", "a@example.com"),
                ("password", "correct horse battery"),
                ("password_confirm", "correct horse battery"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::GONE);
    assert!(!app.services.has_staff_admin().unwrap());

    // An invitation: used once, then refused.
    app.create_admin("ann@example.com", "correct horse battery")
        .await;
    let invitation = app
        .services
        .invite(
            gatehouse::service::admin::AdminActor::cli(),
            Realm::Staff,
            "bob@example.com".into(),
            "Bob".into(),
            gatehouse::domain::user::Role::Member,
        )
        .await
        .unwrap();
    let path = invitation
        .link
        .trim_start_matches("http://localhost:8080")
        .to_owned();
    assert_eq!(browser.get(&path).await.status, StatusCode::OK);
    let page = browser
        .post(
            &path,
            &[
                ("password", "bobs long password"),
                ("password_confirm", "bobs long password"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(
        browser.get(&path).await.status,
        StatusCode::NOT_FOUND,
        "used invitation"
    );
}

#[actix_web::test]
async fn setup_form_errors_are_shown_and_nothing_is_created() {
    let app = TestApp::new().await;
    let token = app.services.issue_setup_token().unwrap().unwrap();
    let path = format!("/setup/{}", token.expose());
    let mut browser = app.browser();
    browser.get(&path).await;
    for (fields, message) in [
        (
            vec![
                ("email", "not-an-email"),
                ("password", "correct horse battery"),
                ("password_confirm", "correct horse battery"),
            ],
            "valid email",
        ),
        (
            vec![
                ("email", "a@example.com"),
                ("password", "short"),
                ("password_confirm", "short"),
            ],
            "at least 8",
        ),
        (
            vec![
                ("email", "a@example.com"),
                ("password", "correct horse battery"),
                ("password_confirm", "different one!"),
            ],
            "do not match",
        ),
        (vec![("email", "a@example.com")], "at least 8"),
    ] {
        let page = browser.post(&path, &fields).await;
        assert_eq!(page.status, StatusCode::BAD_REQUEST, "{fields:?}");
        assert!(page.has(message), "{message}: {}", page.body);
    }
    assert!(!app.services.has_staff_admin().unwrap());
}

#[actix_web::test]
async fn unknown_paths_and_bad_ids_are_404() {
    let (app, mut browser, secret, _) = enrolled_admin().await;
    browser
        .sign_in(
            &app,
            "ann@example.com",
            "correct horse battery",
            Some(&secret),
        )
        .await;
    for path in [
        "/nowhere",
        "/admin/users/not-a-uuid",
        "/admin/users/00000000-0000-0000-0000-000000000000",
        "/p/someclient/login",
    ] {
        assert_eq!(
            browser.get(path).await.status,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    let page = browser
        .post(
            "/admin/users/00000000-0000-0000-0000-000000000000/explode",
            &[],
        )
        .await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
}

#[actix_web::test]
async fn broken_percent_escapes_are_400() {
    let app = TestApp::new().await;
    let mut browser = app.browser();
    browser.get("/login").await;
    let token = browser.csrf.clone().unwrap();
    for body in [
        format!("csrf_token={token}&email=%zz&password=x"),
        format!("csrf_token={token}&email=%4&password=x"),
    ] {
        let page = browser
            .post_raw(
                "/login",
                "application/x-www-form-urlencoded",
                body.into_bytes(),
            )
            .await;
        assert_eq!(page.status, StatusCode::BAD_REQUEST);
    }
}
