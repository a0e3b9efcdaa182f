//! The admin console's own cookie (issue 13, item 4): the session cookie that protected
//! apps receive never opens `/admin`, and a password change moves the session to a new
//! id.

use actix_web::http::StatusCode;

use crate::common::forward_auth::check;
use crate::common::staff::enrolled_admin;
use crate::common::{TestApp, config_with};

const PASSWORD: &str = "correct horse battery";

const SHARED: &str = "listen = '0.0.0.0:8080'\npublic_url = 'https://login.example.com'\ncookie_domain = 'example.com'\n[forward_auth]\nallowed_hosts = ['app.example.com']\n";

#[actix_web::test]
async fn the_domain_wide_cookie_never_opens_the_admin_console() {
    let app = TestApp::with_config(config_with(SHARED)).await;
    app.create_admin("ann@example.com", PASSWORD).await;
    let mut ann = app.browser();
    ann.sign_in(&app, "ann@example.com", PASSWORD, None).await;
    let (secret, _) = ann.enrol(&app).await;
    ann.post("/logout", &[]).await;
    app.next_step();
    let page = ann
        .sign_in(&app, "ann@example.com", PASSWORD, Some(&secret))
        .await;
    let admin_cookie = page
        .set_cookies
        .iter()
        .find(|c| c.starts_with("__Host-gh_admin="))
        .expect("host-only admin cookie");
    assert!(
        !admin_cookie.contains("Domain")
            && admin_cookie.contains("Secure")
            && admin_cookie.contains("Path=/")
            && admin_cookie.contains("HttpOnly"),
        "{admin_cookie}"
    );
    assert!(
        page.set_cookies
            .iter()
            .any(|c| c.starts_with("__Secure-gh_session=") && c.contains("Domain=example.com"))
    );
    assert_eq!(ann.get("/admin").await.status, StatusCode::OK);

    // What a protected app sees: the shared session cookie (and nothing host-only).
    let shared = ann.cookie("__Secure-gh_session").unwrap();
    let admin_secret = ann.cookie("__Host-gh_admin").unwrap();
    assert_ne!(shared, admin_secret);
    let mut replay = app.browser();
    replay
        .cookies
        .insert("__Secure-gh_session".into(), shared.clone());
    for page in [
        "/admin",
        "/admin/users",
        "/admin/sso",
        "/admin/audit",
        "/admin/clients",
        "/admin/confirm",
    ] {
        let got = replay.get(page).await;
        assert_eq!(got.status, StatusCode::FORBIDDEN, "{page}");
        assert!(
            !got.has("Dashboard") && !got.has("ann@example.com"),
            "{page}"
        );
    }
    // Not as the admin cookie either.
    replay
        .cookies
        .insert("__Host-gh_admin".into(), shared.clone());
    assert_eq!(replay.get("/admin").await.status, StatusCode::FORBIDDEN);
    // A change with it and a valid CSRF token changes nothing.
    replay.get("/login").await;
    let page = replay.post("/admin/sso/sso-only", &[("state", "on")]).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    // The admin cookie without the session: nothing either.
    let mut only_admin = app.browser();
    only_admin
        .cookies
        .insert("__Host-gh_admin".into(), admin_secret);
    assert_ne!(only_admin.get("/admin").await.status, StatusCode::OK);

    // The forward-auth check still accepts the shared cookie.
    let mut app_side = app.browser();
    app_side
        .cookies
        .insert("__Secure-gh_session".into(), shared);
    let page = check(&mut app_side, "/api/authz/auth-request", &[]).await;
    assert_eq!(page.status, StatusCode::OK);

    // Sign-out clears both cookies.
    let page = ann.post("/logout", &[]).await;
    for name in ["__Secure-gh_session=", "__Host-gh_admin="] {
        assert!(
            page.set_cookies
                .iter()
                .any(|c| c.starts_with(name) && c.contains("Max-Age=0")),
            "{name} removed: {:?}",
            page.set_cookies
        );
    }
}

#[actix_web::test]
async fn a_password_change_rotates_the_session_id() {
    let (app, mut ann, secret, _) = enrolled_admin().await;
    ann.sign_in(&app, "ann@example.com", PASSWORD, Some(&secret))
        .await;
    let old = ann.session().unwrap();
    let old_admin = ann.cookie("gh_admin").unwrap();
    ann.get("/account").await;
    app.next_step();
    let code = app.code(&secret, 0);
    let page = ann
        .submit(
            "/account/password",
            &[
                ("current_password", PASSWORD),
                ("code", &code),
                ("new_password", "a brand new long passphrase"),
                ("new_password_confirm", "a brand new long passphrase"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.has("Your password was changed"));
    let new = ann.session().unwrap();
    assert_ne!(new, old, "a new session id");
    assert_ne!(
        ann.cookie("gh_admin").unwrap(),
        old_admin,
        "a new admin secret"
    );
    assert_eq!(
        ann.get("/account").await.status,
        StatusCode::OK,
        "still signed in"
    );
    assert_eq!(ann.get("/admin").await.status, StatusCode::OK);

    let mut replay = app.browser();
    replay.cookies.insert("gh_session".into(), old);
    replay.cookies.insert("gh_admin".into(), old_admin);
    let page = replay.get("/account").await;
    assert_eq!(
        page.status,
        StatusCode::SEE_OTHER,
        "the old id stopped working"
    );
    assert_ne!(replay.get("/admin").await.status, StatusCode::OK);
}
