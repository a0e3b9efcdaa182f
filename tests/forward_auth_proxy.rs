//! Forward-auth behind a proxy: forwarded headers believed only from trusted proxies,
//! hostile return targets falling back, and a session cookie shared with subdomains.

use actix_web::http::StatusCode;

use crate::common::forward_auth::check;
use crate::common::{TestApp, config_with};

const PROXY: &str = "198.51.100.1";

fn proxied_app() -> gatehouse::config::Config {
    config_with(&format!(
        "trusted_proxies = ['{PROXY}']\n[forward_auth]\nallowed_hosts = ['app.example.com']\n"
    ))
}

#[actix_web::test]
async fn forwarded_headers_count_only_from_trusted_proxies() {
    let app = TestApp::with_config(proxied_app()).await;
    let forwarded = [
        ("x-forwarded-proto", "http"),
        ("x-forwarded-host", "app.example.com"),
        ("x-forwarded-uri", "/tickets?id=7"),
    ];
    let mut via_proxy = app.browser();
    via_proxy.ip = PROXY.parse().unwrap();
    let page = check(&mut via_proxy, "/api/authz/forward-auth", &forwarded).await;
    assert_eq!(
        page.location(),
        "http://localhost:8080/login?rd=http%3A%2F%2Fapp.example.com%2Ftickets%3Fid%3D7"
    );
    let page = check(
        &mut via_proxy,
        "/api/authz/auth-request",
        &[("x-original-url", "http://app.example.com/wiki")],
    )
    .await;
    assert_eq!(page.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        page.location(),
        "http://localhost:8080/login?rd=http%3A%2F%2Fapp.example.com%2Fwiki",
        "401 carries the sign-in URL"
    );

    // The same headers from anyone else are ignored.
    let mut direct = app.browser();
    direct.ip = "203.0.113.99".parse().unwrap();
    let page = check(&mut direct, "/api/authz/forward-auth", &forwarded).await;
    assert_eq!(page.location(), "http://localhost:8080/login");
    let page = check(
        &mut direct,
        "/api/authz/forward-auth",
        &[("x-original-url", "http://app.example.com/wiki")],
    )
    .await;
    assert_eq!(page.location(), "http://localhost:8080/login");
}

#[actix_web::test]
async fn hostile_return_targets_fall_back_to_the_default_page() {
    let app = TestApp::with_config(proxied_app()).await;
    let mut via_proxy = app.browser();
    via_proxy.ip = PROXY.parse().unwrap();
    let hostile = [
        "//evil.example/x",
        "/\\evil.example",
        "https:evil.example",
        "https:/evil.example",
        "%2F%2Fevil.example",
        "/%2F/evil.example",
        "/%5Cevil.example",
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        "http://evil.example/",
        "http://app.example.com.evil.example/",
        "http://app.example.com@evil.example/",
        "http://evil.example@app.example.com/",
    ];
    for target in hostile {
        let page = check(
            &mut via_proxy,
            "/api/authz/forward-auth",
            &[("x-original-url", target)],
        )
        .await;
        assert_eq!(
            page.location(),
            "http://localhost:8080/login",
            "forward-auth with {target:?}"
        );
        let encoded: String = url::form_urlencoded::byte_serialize(target.as_bytes()).collect();
        for param in ["rd", "next"] {
            let login = via_proxy.get(&format!("/login?{param}={encoded}")).await;
            assert!(
                !login.has("name=\"next\""),
                "{param}={target:?} must not be carried into the form"
            );
        }
    }
    // An allowed host is carried through sign-in and back.
    app.create_admin("ann@example.com", "correct horse battery")
        .await;
    let mut b = app.browser();
    b.get("/login?rd=http%3A%2F%2Fapp.example.com%2Fpage").await;
    let page = b
        .post(
            "/login",
            &[
                ("email", "ann@example.com"),
                ("password", "correct horse battery"),
                ("next", "http://app.example.com/page"),
            ],
        )
        .await;
    assert_eq!(page.location(), "/mfa/setup");
    let page = b.get("/mfa/setup").await;
    let secret = page.input_value("secret").unwrap();
    let page = b
        .submit("/mfa/setup", &[("code", &app.code(&secret, 0))])
        .await;
    assert!(
        page.has("http://app.example.com/page"),
        "continue link returns to the app"
    );
}

#[actix_web::test]
async fn cookie_domain_widens_the_cookie_with_the_secure_prefix_and_sign_in_returns_to_rd() {
    let config = config_with(
        "listen = '0.0.0.0:8080'\npublic_url = 'https://login.example.com'\ncookie_domain = 'example.com'\n[forward_auth]\nallowed_hosts = ['app.example.com']\n",
    );
    let app = TestApp::with_config(config).await;
    app.create_admin("ann@example.com", "correct horse battery")
        .await;
    let mut ann = app.browser();
    ann.sign_in(&app, "ann@example.com", "correct horse battery", None)
        .await;
    let (secret, _) = ann.enrol(&app).await;
    ann.post("/logout", &[]).await;
    app.next_step();
    ann.get("/login?rd=https%3A%2F%2Fapp.example.com%2Fdesk")
        .await;
    ann.post(
        "/login",
        &[
            ("email", "ann@example.com"),
            ("password", "correct horse battery"),
            ("next", "https://app.example.com/desk"),
        ],
    )
    .await;
    let page = ann
        .post("/login/mfa", &[("code", &app.code(&secret, 0))])
        .await;
    assert_eq!(
        page.location(),
        "https://app.example.com/desk",
        "back to the app after sign-in"
    );
    let cookie = page
        .set_cookies
        .iter()
        .find(|c| c.starts_with("__Secure-gh_session="))
        .expect("__Secure- prefixed session cookie");
    assert!(
        cookie.contains("Domain=example.com")
            && cookie.contains("Secure")
            && cookie.contains("HttpOnly"),
        "{cookie}"
    );
    let page = check(&mut ann, "/api/authz/auth-request", &[]).await;
    assert_eq!(
        page.status,
        StatusCode::OK,
        "the proxy forwards the shared cookie"
    );
}
