//! CSRF protection, security headers and assets.

use actix_web::http::{StatusCode, header};
use actix_web::test::TestRequest;

use crate::common::TestApp;
use crate::common::staff::enrolled_admin;
use gatehouse::domain::user::Realm;

#[actix_web::test]
async fn posts_without_or_with_a_wrong_csrf_token_are_refused_and_change_nothing() {
    let app = TestApp::new().await;
    let token = app.services.issue_setup_token().unwrap().unwrap();
    let path = format!("/setup/{}", token.expose());
    let mut browser = app.browser();
    browser.get(&path).await;
    let fields = [
        ("email", "eve@example.com"),
        ("password", "correct horse battery"),
        ("password_confirm", "correct horse battery"),
    ];

    let page = browser.post_without_csrf(&path, &fields).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    let mut with_wrong = fields.to_vec();
    with_wrong.push(("csrf_token", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"));
    let page = browser.post_without_csrf(&path, &with_wrong).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    // A token that belongs to another browser's cookie does not help either.
    let mut other = app.browser();
    other.get("/login").await;
    let foreign = other.csrf.clone().unwrap();
    let mut with_foreign = fields.to_vec();
    with_foreign.push(("csrf_token", &foreign));
    assert_eq!(
        browser.post_without_csrf(&path, &with_foreign).await.status,
        StatusCode::FORBIDDEN
    );

    assert!(
        app.services
            .user_by_email(Realm::Staff, "eve@example.com")
            .is_err(),
        "no user was created"
    );
    assert!(!app.services.has_staff_admin().unwrap());
    // The link still works for the real operator.
    assert_eq!(
        browser.post(&path, &fields).await.status,
        StatusCode::SEE_OTHER
    );
}

#[actix_web::test]
async fn csrf_protects_signed_in_actions_too() {
    let (app, mut browser, secret, _) = enrolled_admin().await;
    browser
        .sign_in(
            &app,
            "ann@example.com",
            "correct horse battery",
            Some(&secret),
        )
        .await;
    browser.get("/admin/users").await;
    let page = browser
        .post_without_csrf(
            "/admin/users",
            &[("email", "new@example.com"), ("role", "admin")],
        )
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(
        app.services
            .user_by_email(Realm::Staff, "new@example.com")
            .is_err()
    );
    let page = browser.post_without_csrf("/logout", &[]).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert_eq!(
        browser.get("/account").await.status,
        StatusCode::OK,
        "still signed in"
    );
}

#[actix_web::test]
async fn cross_origin_posts_are_refused_even_with_a_token() {
    let app = TestApp::new().await;
    app.create_admin("ann@example.com", "correct horse battery")
        .await;
    let mut browser = app.browser();
    browser.get("/login").await;
    let token = browser.csrf.clone().unwrap();
    let body = serde_urlencoded::to_string([
        ("email", "ann@example.com"),
        ("password", "correct horse battery"),
        ("csrf_token", &token),
    ])
    .unwrap();
    let cookie = format!("gh_csrf={}", browser.cookie("gh_csrf").unwrap());
    for (name, value) in [
        ("origin", "https://evil.example"),
        ("origin", "null"),
        ("sec-fetch-site", "cross-site"),
        ("sec-fetch-site", "same-site"),
    ] {
        let req = TestRequest::post()
            .uri("/login")
            .insert_header((header::CONTENT_TYPE, "application/x-www-form-urlencoded"))
            .insert_header((header::COOKIE, cookie.clone()))
            .insert_header((name, value))
            .set_payload(body.clone());
        let page = browser.send(req).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "{name}: {value}");
    }
    let req = TestRequest::post()
        .uri("/login")
        .insert_header((header::CONTENT_TYPE, "application/x-www-form-urlencoded"))
        .insert_header((header::COOKIE, cookie.clone()))
        .insert_header(("origin", "null"))
        .insert_header(("sec-fetch-site", "cross-site"))
        .set_payload(body.clone());
    assert_eq!(
        browser.send(req).await.status,
        StatusCode::FORBIDDEN,
        "a null origin from another site"
    );
    // What Chromium sends for a form on our own page under `Referrer-Policy: no-referrer`.
    let req = TestRequest::post()
        .uri("/login")
        .insert_header((header::CONTENT_TYPE, "application/x-www-form-urlencoded"))
        .insert_header((header::COOKIE, cookie.clone()))
        .insert_header(("origin", "null"))
        .insert_header(("sec-fetch-site", "same-origin"))
        .set_payload(body.clone());
    assert_eq!(
        browser.send(req).await.status,
        StatusCode::SEE_OTHER,
        "our own page under no-referrer"
    );
    let req = TestRequest::post()
        .uri("/login")
        .insert_header((header::CONTENT_TYPE, "application/x-www-form-urlencoded"))
        .insert_header((header::COOKIE, cookie))
        .insert_header(("origin", "http://localhost:8080"))
        .insert_header(("sec-fetch-site", "same-origin"))
        .set_payload(body);
    assert_eq!(
        browser.send(req).await.status,
        StatusCode::SEE_OTHER,
        "our own origin is fine"
    );
}

fn assert_security_headers(page: &crate::common::Page, path: &str) {
    let csp = page
        .header("content-security-policy")
        .unwrap_or_else(|| panic!("CSP on {path}"));
    assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
        "{path}: {csp}"
    );
    assert!(csp.contains("default-src 'none'"), "{path}: {csp}");
    assert_eq!(
        page.header("x-content-type-options"),
        Some("nosniff"),
        "{path}"
    );
    assert_eq!(
        page.header("referrer-policy"),
        Some("no-referrer"),
        "{path}"
    );
    assert_eq!(page.header("x-frame-options"), Some("DENY"), "{path}");
    assert_eq!(page.header("cache-control"), Some("no-store"), "{path}");
    assert!(
        !page.body.contains("<script>") && !page.body.contains(" style="),
        "{path}: no inline script or style"
    );
}

#[actix_web::test]
async fn every_html_page_carries_the_security_headers() {
    let (app, mut browser, secret, _) = enrolled_admin().await;
    for path in ["/login", "/login/mfa", "/nowhere", "/setup/unknown-token"] {
        let page = browser.get(path).await;
        assert_security_headers(&page, path);
    }
    browser
        .sign_in(
            &app,
            "ann@example.com",
            "correct horse battery",
            Some(&secret),
        )
        .await;
    let me = app
        .services
        .user_by_email(Realm::Staff, "ann@example.com")
        .unwrap();
    for path in [
        "/account",
        "/admin",
        "/admin/users",
        "/admin/audit",
        &format!("/admin/users/{}", me.id),
    ] {
        let page = browser.get(path).await;
        assert_eq!(page.status, StatusCode::OK, "{path}");
        assert_security_headers(&page, path);
    }
}

#[actix_web::test]
async fn https_installs_use_host_prefixed_secure_cookies_and_hsts() {
    let app = TestApp::with_config(crate::common::config_with(
        "public_url = 'https://login.example.com'\nlisten = '0.0.0.0:8080'",
    ))
    .await;
    app.create_admin("ann@example.com", "correct horse battery")
        .await;
    let mut browser = app.browser();
    let page = browser.get("/login").await;
    assert!(
        page.header("strict-transport-security")
            .is_some_and(|v| v.contains("max-age="))
    );
    let csrf_cookie = page
        .set_cookies
        .iter()
        .find(|c| c.starts_with("__Host-gh_csrf="))
        .expect("__Host- CSRF cookie");
    assert!(
        csrf_cookie.contains("Secure")
            && csrf_cookie.contains("HttpOnly")
            && csrf_cookie.contains("SameSite=Lax")
            && csrf_cookie.contains("Path=/")
    );
    let page = browser
        .post(
            "/login",
            &[
                ("email", "ann@example.com"),
                ("password", "correct horse battery"),
            ],
        )
        .await;
    let session = page
        .set_cookies
        .iter()
        .find(|c| c.starts_with("__Host-gh_session="))
        .expect("__Host- session cookie");
    assert!(
        session.contains("Secure")
            && session.contains("HttpOnly")
            && session.contains("SameSite=Lax"),
        "{session}"
    );
    assert!(!session.contains("Domain="), "{session}");
    let token = session
        .split(';')
        .next()
        .unwrap()
        .split('=')
        .nth(1)
        .unwrap();
    assert!(token.len() >= 22, "≥128-bit session id: {token}");
}

#[actix_web::test]
async fn every_linked_asset_resolves_with_caching() {
    let app = TestApp::new().await;
    let mut browser = app.browser();
    let page = browser.get("/login").await;
    let mut links: Vec<String> = page
        .body
        .split("/assets/")
        .skip(1)
        .map(|p| {
            format!(
                "/assets/{}",
                p.split('"').next().unwrap().replace("&amp;", "&")
            )
        })
        .collect();
    links.push(gatehouse::web::assets::url("microsoft.svg"));
    assert!(links.len() >= 3, "{links:?}");
    for link in links {
        let res = browser.get(&link).await;
        assert_eq!(res.status, StatusCode::OK, "{link}");
        assert!(
            res.header("cache-control").unwrap().contains("immutable"),
            "{link}"
        );
        let etag = res.header("etag").unwrap().to_owned();
        let again = browser
            .send(
                TestRequest::get()
                    .uri(&link)
                    .insert_header((header::IF_NONE_MATCH, etag)),
            )
            .await;
        assert_eq!(again.status, StatusCode::NOT_MODIFIED, "{link}");
    }
    assert_eq!(
        browser.get("/assets/nope.css").await.status,
        StatusCode::NOT_FOUND
    );
}

#[actix_web::test]
async fn healthz_answers_json() {
    let app = TestApp::new().await;
    let page = app.browser().get("/healthz").await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.body, r#"{"status":"ok"}"#);
}
