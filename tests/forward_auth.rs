//! Forward-auth for reverse proxies: identity headers, refusals, realms, roles,
//! trusted forwarded headers and safe return targets.

use actix_web::http::StatusCode;

use crate::common::forward_auth::check;
use crate::common::portal::{TA, member, onboarded, portal_sso, portals};
use crate::common::{Browser, Page, TestApp, config_with};
use gatehouse::domain::user::{Realm, Role};
use gatehouse::service::admin::AdminActor;
use gatehouse::service::clients::ClientUpdate;

fn header<'a>(page: &'a Page, name: &str) -> &'a str {
    page.header(name)
        .unwrap_or_else(|| panic!("{name} missing"))
}

/// A staff admin signed in with password + TOTP.
async fn staff_admin(app: &TestApp) -> Browser {
    staff_admin_with_secret(app).await.0
}

async fn staff_admin_with_secret(app: &TestApp) -> (Browser, String) {
    app.create_admin("ann@example.com", "correct horse battery")
        .await;
    let mut b = app.browser();
    b.sign_in(app, "ann@example.com", "correct horse battery", None)
        .await;
    let (secret, _) = b.enrol(app).await;
    (b, secret)
}

#[actix_web::test]
async fn staff_sessions_get_every_identity_header() {
    let app = TestApp::new().await;
    let mut ann = staff_admin(&app).await;
    let id = app
        .services
        .user_by_email(Realm::Staff, "ann@example.com")
        .unwrap()
        .id
        .to_string();
    for path in [
        "/api/authz/auth-request",
        "/api/authz/forward-auth",
        "/api/authz/auth-request?realm=staff",
        "/api/authz/forward-auth?realm=staff&role=admin",
    ] {
        let page = check(&mut ann, path, &[]).await;
        assert_eq!(page.status, StatusCode::OK, "{path}");
        assert_eq!(header(&page, "remote-user"), id);
        assert_eq!(header(&page, "remote-email"), "ann@example.com");
        assert_eq!(header(&page, "remote-name"), "Admin");
        assert_eq!(header(&page, "remote-realm"), "staff");
        assert_eq!(header(&page, "remote-role"), "admin");
        assert_eq!(header(&page, "remote-auth"), "password+totp");
        assert_eq!(header(&page, "remote-groups"), "admin");
        assert_eq!(
            header(&page, "remote-client"),
            "",
            "present and empty for staff, so proxies copying it overwrite a visitor's value"
        );
        assert_eq!(header(&page, "cache-control"), "no-store");
        assert!(page.set_cookies.is_empty(), "no cookies from the check");
    }
}

#[actix_web::test]
async fn client_sessions_get_their_realm_and_client() {
    let (app, fake) = portals().await;
    let (mut alice, _) =
        onboarded(&app, "acme", "alice@acme.example", "alices long password").await;
    let page = check(&mut alice, "/api/authz/auth-request?client=acme", &[]).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(header(&page, "remote-realm"), "client");
    assert_eq!(header(&page, "remote-client"), "acme");
    assert_eq!(header(&page, "remote-role"), "member");
    assert_eq!(header(&page, "remote-groups"), "member");
    assert_eq!(header(&page, "remote-auth"), "password+totp");
    assert_eq!(header(&page, "remote-email"), "alice@acme.example");
    assert_eq!(header(&page, "remote-name"), "Portal User");

    app.services
        .update_client(
            AdminActor::cli(),
            "acme".into(),
            ClientUpdate {
                jit: Some(true),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let mut carol = app.browser();
    portal_sso(
        &mut carol,
        &fake,
        "acme",
        member(TA, "oid-c", "carol@acme.example"),
    )
    .await;
    let page = check(&mut carol, "/api/authz/forward-auth?client=acme", &[]).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(header(&page, "remote-auth"), "sso");
    assert_eq!(header(&page, "remote-name"), "Member oid-c");
}

#[actix_web::test]
async fn remote_user_carries_the_email_when_configured() {
    let app = TestApp::with_config(config_with("[forward_auth]\nremote_user = 'email'\n")).await;
    let mut ann = staff_admin(&app).await;
    for path in ["/api/authz/auth-request", "/api/authz/forward-auth"] {
        let page = check(&mut ann, path, &[]).await;
        assert_eq!(page.status, StatusCode::OK, "{path}");
        assert_eq!(header(&page, "remote-user"), "ann@example.com");
        assert_eq!(header(&page, "remote-email"), "ann@example.com");
        assert_eq!(header(&page, "remote-client"), "");
    }
}

#[actix_web::test]
async fn anonymous_visitors_get_401_or_302_by_endpoint() {
    let app = TestApp::new().await;
    let mut anon = app.browser();
    let page = check(&mut anon, "/api/authz/auth-request", &[]).await;
    assert_eq!(page.status, StatusCode::UNAUTHORIZED);
    assert!(page.header("remote-user").is_none());
    let page = check(&mut anon, "/api/authz/forward-auth", &[]).await;
    assert_eq!(page.status, StatusCode::FOUND);
    assert_eq!(page.location(), "http://localhost:8080/login");
    let page = check(&mut anon, "/api/authz/forward-auth?client=acme", &[]).await;
    assert_eq!(
        page.status,
        StatusCode::FOUND,
        "unknown client: sent to its (missing) sign-in page"
    );
    for bad in [
        "/api/authz/auth-request?realm=elsewhere",
        "/api/authz/auth-request?role=owner",
        "/api/authz/auth-request?realm=staff&client=x",
    ] {
        assert_eq!(
            check(&mut anon, bad, &[]).await.status,
            StatusCode::BAD_REQUEST,
            "{bad}"
        );
    }
}

#[actix_web::test]
async fn sessions_of_another_realm_are_refused() {
    let (app, _fake) = portals().await;
    let mut ann = staff_admin(&app).await;
    let (mut alice, _) =
        onboarded(&app, "acme", "alice@acme.example", "alices long password").await;
    assert_eq!(
        check(&mut ann, "/api/authz/auth-request?client=acme", &[])
            .await
            .status,
        StatusCode::UNAUTHORIZED,
        "staff cookie at ?client=acme"
    );
    assert_eq!(
        check(&mut alice, "/api/authz/auth-request?client=beta", &[])
            .await
            .status,
        StatusCode::UNAUTHORIZED,
        "A's cookie at ?client=beta"
    );
    assert_eq!(
        check(&mut alice, "/api/authz/auth-request", &[])
            .await
            .status,
        StatusCode::UNAUTHORIZED,
        "A's cookie at staff"
    );
    // Copying A's session id into B's or the staff cookie does not help.
    let token = alice.cookie("gh_session_p_acme").unwrap();
    for cookie in ["gh_session_p_beta", "gh_session"] {
        let mut forger = app.browser();
        forger.cookies.insert(cookie.into(), token.clone());
        let path = if cookie == "gh_session" {
            "/api/authz/auth-request"
        } else {
            "/api/authz/auth-request?client=beta"
        };
        assert_eq!(
            check(&mut forger, path, &[]).await.status,
            StatusCode::UNAUTHORIZED,
            "{cookie}"
        );
    }
}

#[actix_web::test]
async fn a_required_role_is_enforced() {
    let app = TestApp::new().await;
    let mut ann = staff_admin(&app).await;
    app.create_admin("bob@example.com", "bobs long password")
        .await;
    let bob_id = app
        .services
        .user_by_email(Realm::Staff, "bob@example.com")
        .unwrap()
        .id;
    app.services
        .set_role(AdminActor::cli(), bob_id, Role::Member)
        .await
        .unwrap();
    let mut bob = app.browser();
    bob.sign_in(&app, "bob@example.com", "bobs long password", None)
        .await;
    bob.enrol(&app).await;
    for endpoint in ["auth-request", "forward-auth"] {
        let path = format!("/api/authz/{endpoint}?role=admin");
        let page = check(&mut bob, &path, &[]).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "{path}");
        assert!(page.header("remote-user").is_none());
        assert_eq!(check(&mut ann, &path, &[]).await.status, StatusCode::OK);
    }
    assert_eq!(
        check(&mut bob, "/api/authz/auth-request", &[]).await.status,
        StatusCode::OK,
        "members pass without a role requirement"
    );
}

#[actix_web::test]
async fn expired_revoked_and_disabled_are_refused_at_once() {
    let (app, _fake) = portals().await;
    let (mut ann, secret) = staff_admin_with_secret(&app).await;
    let path = "/api/authz/auth-request";
    assert_eq!(check(&mut ann, path, &[]).await.status, StatusCode::OK);
    app.clock.advance(31 * 60);
    assert_eq!(
        check(&mut ann, path, &[]).await.status,
        StatusCode::UNAUTHORIZED,
        "idle-expired"
    );
    app.next_step();
    ann.sign_in(
        &app,
        "ann@example.com",
        "correct horse battery",
        Some(&secret),
    )
    .await;
    assert_eq!(check(&mut ann, path, &[]).await.status, StatusCode::OK);
    // Busy (a check every 20 minutes) until the 12-hour absolute lifetime runs out.
    for _ in 0..35 {
        app.clock.advance(20 * 60);
        assert_eq!(check(&mut ann, path, &[]).await.status, StatusCode::OK);
    }
    app.clock.advance(20 * 60);
    assert_eq!(
        check(&mut ann, path, &[]).await.status,
        StatusCode::UNAUTHORIZED,
        "past the absolute lifetime"
    );

    // Revoked by an admin, then disabled.
    let (mut alice, _) =
        onboarded(&app, "acme", "alice@acme.example", "alices long password").await;
    let acme = "/api/authz/auth-request?client=acme";
    assert_eq!(check(&mut alice, acme, &[]).await.status, StatusCode::OK);
    let alice_id = app
        .services
        .user_by_email(
            app.services.client_realm("acme").unwrap(),
            "alice@acme.example",
        )
        .unwrap()
        .id;
    app.services
        .revoke_sessions(AdminActor::cli(), alice_id)
        .await
        .unwrap();
    assert_eq!(
        check(&mut alice, acme, &[]).await.status,
        StatusCode::UNAUTHORIZED,
        "revoked"
    );

    let (mut dora, _) = onboarded(&app, "acme", "dora@acme.example", "doras long password").await;
    assert_eq!(check(&mut dora, acme, &[]).await.status, StatusCode::OK);
    let dora_id = app
        .services
        .user_by_email(
            app.services.client_realm("acme").unwrap(),
            "dora@acme.example",
        )
        .unwrap()
        .id;
    app.services
        .set_enabled(AdminActor::cli(), dora_id, false)
        .await
        .unwrap();
    assert_eq!(
        check(&mut dora, acme, &[]).await.status,
        StatusCode::UNAUTHORIZED,
        "user disabled"
    );

    let (mut eve, _) = onboarded(&app, "acme", "eve@acme.example", "eves long password!").await;
    assert_eq!(check(&mut eve, acme, &[]).await.status, StatusCode::OK);
    app.services
        .set_client_enabled(AdminActor::cli(), "acme".into(), false)
        .await
        .unwrap();
    assert_eq!(
        check(&mut eve, acme, &[]).await.status,
        StatusCode::UNAUTHORIZED,
        "client disabled"
    );
    app.services
        .set_client_enabled(AdminActor::cli(), "acme".into(), true)
        .await
        .unwrap();
    let (mut fred, _) = onboarded(&app, "acme", "fred@acme.example", "freds long password").await;
    assert_eq!(check(&mut fred, acme, &[]).await.status, StatusCode::OK);
    app.services
        .remove_client(AdminActor::cli(), "acme".into())
        .await
        .unwrap();
    assert_eq!(
        check(&mut fred, acme, &[]).await.status,
        StatusCode::UNAUTHORIZED,
        "client removed"
    );
}

#[actix_web::test]
async fn a_logged_out_session_is_refused() {
    let app = TestApp::new().await;
    let mut ann = staff_admin(&app).await;
    let cookies = ann.cookies.clone();
    ann.post("/logout", &[]).await;
    let mut stale = app.browser();
    stale.cookies = cookies;
    assert_eq!(
        check(&mut stale, "/api/authz/auth-request", &[])
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
}

#[actix_web::test]
async fn checks_do_not_write() {
    let app = TestApp::new().await;
    let mut ann = staff_admin(&app).await;
    let before = app.services.store().table_sizes().unwrap();
    let audit_before = app.services.audit_log(1, None).unwrap();
    for _ in 0..50 {
        assert_eq!(
            check(&mut ann, "/api/authz/auth-request", &[]).await.status,
            StatusCode::OK
        );
    }
    app.clock.advance(61);
    for _ in 0..50 {
        check(&mut ann, "/api/authz/auth-request", &[]).await;
    }
    assert_eq!(app.services.store().table_sizes().unwrap(), before);
    assert_eq!(
        app.services.audit_log(1, None).unwrap(),
        audit_before,
        "no audit per check"
    );
    assert_eq!(
        app.services.flush_activity().unwrap(),
        1,
        "activity batched: one pending touch"
    );
    let hashes = app.services.hashing().computed();
    check(&mut ann, "/api/authz/auth-request", &[]).await;
    assert_eq!(
        app.services.hashing().computed(),
        hashes,
        "no Argon2 in a check"
    );
}

#[actix_web::test]
async fn the_session_cookie_is_read_by_its_exact_name_among_others() {
    let app = TestApp::new().await;
    let ann = staff_admin(&app).await;
    let token = ann.cookies.get("gh_session").unwrap().clone();
    let mut proxy = app.browser();
    let mut status_with = async |cookie_headers: &[String]| {
        let mut req = actix_web::test::TestRequest::get()
            .uri("/api/authz/auth-request")
            .peer_addr("127.0.0.1:5000".parse().unwrap());
        for value in cookie_headers {
            req = req.append_header((actix_web::http::header::COOKIE, value.as_str()));
        }
        proxy.send(req).await.status
    };
    for allowed in [
        vec![format!(
            "theme=dark; gh_session_p_acme=x;  gh_session={token} ; z=1"
        )],
        vec!["theme=dark".to_owned(), format!("gh_session={token}")],
    ] {
        assert_eq!(status_with(&allowed).await, StatusCode::OK, "{allowed:?}");
    }
    for refused in [
        vec![format!(
            "xgh_session={token}; gh_sessionx={token}; gh_session_p_acme={token}"
        )],
        // As with any cookie jar: the first cookie of the name is the one read.
        vec![format!("gh_session=stale; gh_session={token}")],
        vec![String::new()],
    ] {
        assert_eq!(
            status_with(&refused).await,
            StatusCode::UNAUTHORIZED,
            "{refused:?}"
        );
    }
}
