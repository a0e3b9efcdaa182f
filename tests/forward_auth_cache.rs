//! Forward-auth answers a session it checked before from memory while nothing was
//! written since. Every change that ends or alters a session's access — a role, an
//! email, sign-out, sign-out everywhere, removal, a disabled client — shows on the very
//! next check after a check that filled the cache ("warm") exactly as on a first
//! check ("cold"); the clock-dependent rules too.

use actix_web::http::StatusCode;

use crate::common::forward_auth::check;
use crate::common::portal::{onboarded, portals, realm};
use crate::common::{Browser, TestApp};
use gatehouse::domain::user::{Realm, Role, UserId};
use gatehouse::service::admin::AdminActor;

const CHECK: &str = "/api/authz/auth-request";
const ADMIN_CHECK: &str = "/api/authz/auth-request?role=admin";

/// Two staff admins, signed in with password + TOTP; returns Bob's browser and id.
async fn two_admins(app: &TestApp) -> (Browser, UserId) {
    app.create_admin("ann@example.com", "correct horse battery")
        .await;
    app.create_admin("bob@example.com", "battery horse staple")
        .await;
    let mut bob = app.browser();
    bob.sign_in(app, "bob@example.com", "battery horse staple", None)
        .await;
    bob.enrol(app).await;
    let id = app
        .services
        .user_by_email(Realm::Staff, "bob@example.com")
        .unwrap()
        .id;
    (bob, id)
}

/// Checks `path` `warm` times first (filling the cache), then applies `change`.
async fn status_after(
    bob: &mut Browser,
    path: &str,
    warm: usize,
    change: impl AsyncFnOnce(),
) -> StatusCode {
    for _ in 0..warm {
        assert_eq!(check(bob, path, &[]).await.status, StatusCode::OK);
    }
    change().await;
    check(bob, path, &[]).await.status
}

#[actix_web::test]
async fn a_role_change_shows_on_the_next_check_warm_or_cold() {
    for warm in [0, 3] {
        let app = TestApp::new().await;
        let (mut bob, id) = two_admins(&app).await;
        let services = app.services.clone();
        let status = status_after(&mut bob, ADMIN_CHECK, warm, async || {
            services
                .set_role(AdminActor::cli(), id, Role::Member)
                .await
                .unwrap();
        })
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "warm checks: {warm}");
        let page = check(&mut bob, CHECK, &[]).await;
        assert_eq!(page.header("remote-role"), Some("member"));
    }
}

#[actix_web::test]
async fn a_new_email_is_in_the_next_headers() {
    let app = TestApp::new().await;
    let (mut bob, id) = two_admins(&app).await;
    let before = check(&mut bob, CHECK, &[]).await;
    assert_eq!(before.header("remote-email"), Some("bob@example.com"));
    app.services
        .set_email(AdminActor::cli(), id, "robert@example.com".into())
        .await
        .unwrap();
    let after = check(&mut bob, CHECK, &[]).await;
    assert_eq!(after.status, StatusCode::OK);
    assert_eq!(after.header("remote-email"), Some("robert@example.com"));
}

#[actix_web::test]
async fn sign_out_sign_out_everywhere_and_removal_end_access_warm_or_cold() {
    for warm in [0, 2] {
        // Signing out in the browser.
        let app = TestApp::new().await;
        let (mut bob, _) = two_admins(&app).await;
        for _ in 0..warm {
            assert_eq!(check(&mut bob, CHECK, &[]).await.status, StatusCode::OK);
        }
        let cookies = bob.cookies.clone();
        bob.post("/logout", &[]).await;
        let mut stale = app.browser();
        stale.cookies = cookies;
        assert_eq!(
            check(&mut stale, CHECK, &[]).await.status,
            StatusCode::UNAUTHORIZED,
            "signed out; warm checks: {warm}"
        );

        // Signed out everywhere by an admin.
        let app = TestApp::new().await;
        let (mut bob, id) = two_admins(&app).await;
        let services = app.services.clone();
        let status = status_after(&mut bob, CHECK, warm, async || {
            services
                .revoke_sessions(AdminActor::cli(), id)
                .await
                .unwrap();
        })
        .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "revoked; warm: {warm}");

        // Removed.
        let app = TestApp::new().await;
        let (mut bob, id) = two_admins(&app).await;
        let services = app.services.clone();
        let status = status_after(&mut bob, CHECK, warm, async || {
            services.remove_user(AdminActor::cli(), id).await.unwrap();
        })
        .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "removed; warm: {warm}");
    }
}

#[actix_web::test]
async fn a_cached_session_still_expires_by_the_clock() {
    let app = TestApp::new().await;
    let (mut bob, _) = two_admins(&app).await;
    assert_eq!(check(&mut bob, CHECK, &[]).await.status, StatusCode::OK);
    // No write happens in between: only the clock moves.
    app.clock.advance(29 * 60);
    assert_eq!(check(&mut bob, CHECK, &[]).await.status, StatusCode::OK);
    app.clock.advance(31 * 60);
    assert_eq!(
        check(&mut bob, CHECK, &[]).await.status,
        StatusCode::UNAUTHORIZED,
        "idle for 31 minutes"
    );
}

#[actix_web::test]
async fn a_portal_session_answers_only_for_its_portal_and_ends_with_it() {
    let (app, _fake) = portals().await;
    let (mut alice, _) =
        onboarded(&app, "acme", "alice@acme.example", "alices long password").await;
    let acme = "/api/authz/auth-request?client=acme";
    assert_eq!(check(&mut alice, acme, &[]).await.status, StatusCode::OK);
    assert_eq!(check(&mut alice, acme, &[]).await.status, StatusCode::OK);
    // The cached check of acme's portal answers nothing for another realm.
    assert_eq!(
        check(&mut alice, CHECK, &[]).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        check(&mut alice, "/api/authz/auth-request?client=beta", &[])
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    assert!(matches!(realm(&app, "acme"), Realm::Client(_)));
    app.services
        .set_client_enabled(AdminActor::cli(), "acme".into(), false)
        .await
        .unwrap();
    assert_eq!(
        check(&mut alice, acme, &[]).await.status,
        StatusCode::UNAUTHORIZED,
        "portal disabled"
    );
}
