//! The admin console: staff users, invitations, actions, audit, access control.

use actix_web::http::StatusCode;

use crate::common::TestApp;
use crate::common::staff::enrolled_admin;
use gatehouse::domain::user::{Realm, Role, UserStatus};

#[actix_web::test]
async fn invite_accept_enrol_and_manage_a_member() {
    let (app, mut admin, secret, _) = enrolled_admin().await;
    admin
        .sign_in(
            &app,
            "ann@example.com",
            "correct horse battery",
            Some(&secret),
        )
        .await;
    admin.get("/admin/users").await;
    let page = admin
        .submit(
            "/admin/users",
            &[
                ("email", "bob@example.com"),
                ("name", "Bob"),
                ("role", "member"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let link = page
        .input_value("invite-link")
        .expect("invitation link shown to copy");
    assert!(link.starts_with("http://localhost:8080/invite/"), "{link}");

    let mut bob = app.browser();
    let path = link.trim_start_matches("http://localhost:8080");
    let page = bob.get(path).await;
    assert!(page.has("bob@example.com"));
    let page = bob
        .post(
            path,
            &[
                ("password", "bobs long password"),
                ("password_confirm", "bobs long password"),
            ],
        )
        .await;
    assert_eq!(
        page.location(),
        "/mfa/setup",
        "MFA enrolment follows the invitation"
    );
    let (bob_secret, _) = bob.enrol(&app).await;
    assert_eq!(bob.get("/account").await.status, StatusCode::OK);
    assert_eq!(
        bob.get("/admin").await.status,
        StatusCode::FORBIDDEN,
        "members are not admins"
    );

    let bob_user = app
        .services
        .user_by_email(Realm::Staff, "bob@example.com")
        .unwrap();
    let user_page = format!("/admin/users/{}", bob_user.id);
    let page = admin.get(&user_page).await;
    assert!(page.has("Bob") && page.has("set up"));

    // Make admin, then back.
    let page = admin.submit(&format!("{user_page}/make-admin"), &[]).await;
    assert!(page.has("now an admin"));
    assert_eq!(
        app.services.user_by_id(bob_user.id).unwrap().role,
        Role::Admin
    );
    assert_eq!(bob.get("/admin").await.status, StatusCode::OK);
    admin.post(&format!("{user_page}/make-member"), &[]).await;

    // Reset MFA signs Bob out and makes him enrol again.
    admin.post(&format!("{user_page}/reset-mfa"), &[]).await;
    assert_eq!(bob.get("/account").await.status, StatusCode::SEE_OTHER);
    let page = bob
        .sign_in(&app, "bob@example.com", "bobs long password", None)
        .await;
    assert_eq!(page.location(), "/mfa/setup");
    let _ = bob_secret;

    // Disable, then enable.
    admin.post(&format!("{user_page}/disable"), &[]).await;
    assert_eq!(
        app.services.user_by_id(bob_user.id).unwrap().status,
        UserStatus::Disabled
    );
    assert_eq!(
        bob.sign_in(&app, "bob@example.com", "bobs long password", None)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    admin.post(&format!("{user_page}/enable"), &[]).await;
    assert_eq!(
        app.services.user_by_id(bob_user.id).unwrap().status,
        UserStatus::Active
    );

    // Revoke sessions.
    let mut bob2 = app.browser();
    bob2.sign_in(&app, "bob@example.com", "bobs long password", None)
        .await;
    assert!(bob2.session().is_some());
    admin
        .post(&format!("{user_page}/revoke-sessions"), &[])
        .await;
    assert_eq!(bob2.get("/mfa/setup").await.status, StatusCode::SEE_OTHER);

    // The audit log shows who did what.
    let page = admin.get("/admin/audit").await;
    for event in [
        "user invited",
        "invitation accepted",
        "MFA enrolled",
        "role changed",
        "MFA reset",
        "user disabled",
        "user enabled",
        "sessions revoked",
    ] {
        assert!(page.has(event), "{event} in the audit log");
    }
    assert!(page.has("203.0.113.10"), "source address shown");
}

#[actix_web::test]
async fn the_last_admin_cannot_be_removed() {
    let (app, mut admin, secret, _) = enrolled_admin().await;
    admin
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
    admin.get(&format!("/admin/users/{}", me.id)).await;
    for action in ["disable", "make-member"] {
        let page = admin
            .post(&format!("/admin/users/{}/{action}", me.id), &[])
            .await;
        assert_eq!(page.status, StatusCode::CONFLICT, "{action}");
        assert!(page.has("last active staff admin"));
    }
    assert!(app.services.user_by_id(me.id).unwrap().is_active_admin());
}

#[actix_web::test]
async fn admin_pages_need_a_signed_in_admin() {
    let app = TestApp::new().await;
    let mut anonymous = app.browser();
    for path in ["/admin", "/admin/users", "/admin/audit"] {
        let page = anonymous.get(path).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{path}");
        assert!(
            page.location().starts_with("/login?next="),
            "{}",
            page.location()
        );
    }
    anonymous.get("/login").await;
    let page = anonymous
        .post(
            "/admin/users",
            &[("email", "x@example.com"), ("role", "admin")],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert!(
        app.services
            .user_by_email(Realm::Staff, "x@example.com")
            .is_err()
    );
}

#[actix_web::test]
async fn invite_form_errors_are_shown() {
    let (app, mut admin, secret, _) = enrolled_admin().await;
    admin
        .sign_in(
            &app,
            "ann@example.com",
            "correct horse battery",
            Some(&secret),
        )
        .await;
    admin.get("/admin/users").await;
    for (fields, message) in [
        (vec![("email", "nope"), ("role", "member")], "valid email"),
        (
            vec![("email", "ann@example.com"), ("role", "member")],
            "already exists",
        ),
        (
            vec![("email", "c@example.com"), ("role", "owner")],
            "Choose a role",
        ),
    ] {
        let page = admin.post("/admin/users", &fields).await;
        assert_eq!(page.status, StatusCode::BAD_REQUEST, "{fields:?}");
        assert!(page.has(message), "{message}");
    }
    assert_eq!(app.services.list_users(Realm::Staff).unwrap().len(), 1);
}

#[actix_web::test]
async fn dashboard_shows_figures_and_recent_failures() {
    let (app, mut admin, secret, _) = enrolled_admin().await;
    let mut eve = app.browser();
    eve.get("/login").await;
    eve.post(
        "/login",
        &[("email", "ann@example.com"), ("password", "guess guess")],
    )
    .await;
    admin
        .sign_in(
            &app,
            "ann@example.com",
            "correct horse battery",
            Some(&secret),
        )
        .await;
    let page = admin.get("/admin").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.has("failed sign-ins (24 h)") && page.has("login failed"));
    assert!(page.has("only one active admin"));
}
