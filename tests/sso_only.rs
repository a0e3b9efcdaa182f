//! SSO-only: its guard, and its enforcement by the server on every password path,
//! with break-glass accounts as the one audited exception.

use actix_web::http::StatusCode;

use crate::common::sso::{
    CLIENT_SECRET, app_with_entra, configure_staff_sso, sso_sign_in, user, visit_authorize,
};
use crate::common::{Browser, TestApp};
use gatehouse::domain::audit::AuditKind;
use gatehouse::domain::user::{Realm, Role};
use gatehouse::service::ServiceError;
use gatehouse::service::admin::AdminActor;
use gatehouse::service::sso::admin::SsoUpdate;

/// Ann: staff admin with password + TOTP and a linked Microsoft account, signed in
/// with her password. Returns her browser and TOTP secret.
pub(crate) async fn linked_admin(
    app: &TestApp,
    fake: &crate::common::fake_entra::FakeEntra,
) -> (Browser, String) {
    app.create_admin("ann@contoso.com", "correct horse battery")
        .await;
    let mut browser = app.browser();
    browser
        .sign_in(app, "ann@contoso.com", "correct horse battery", None)
        .await;
    let (secret, _) = browser.enrol(app).await;
    browser.get("/account").await;
    fake.next_login(user("oid-ann", "ann@contoso.com"));
    let page = browser.post("/account/sso/link", &[]).await;
    let callback = visit_authorize(page.location()).await;
    assert_eq!(browser.get(&callback).await.location(), "/account");
    (browser, secret)
}

#[actix_web::test]
async fn sso_only_is_refused_until_safe() {
    let (app, fake) = app_with_entra().await;
    app.create_admin("ann@contoso.com", "correct horse battery")
        .await;
    let refuse = |r: Result<usize, ServiceError>| matches!(r, Err(ServiceError::Conflict(_)));
    assert!(
        refuse(
            app.services
                .set_staff_sso_only(AdminActor::cli(), true)
                .await
        ),
        "SSO not configured"
    );
    configure_staff_sso(&app, false, "").await;
    let result = app
        .services
        .set_staff_sso_only(AdminActor::cli(), true)
        .await;
    assert!(
        matches!(&result, Err(ServiceError::Conflict(m)) if m.contains("linked Microsoft account")),
        "{result:?}"
    );
    // A linked admin, but the settings changed since the last test.
    let ann = app
        .services
        .user_by_email(Realm::Staff, "ann@contoso.com")
        .unwrap();
    app.services
        .set_break_glass(AdminActor::cli(), ann.id, true)
        .await
        .unwrap();
    app.services
        .update_staff_sso(
            AdminActor::cli(),
            SsoUpdate {
                client_secret: Some(CLIENT_SECRET.into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let result = app
        .services
        .set_staff_sso_only(AdminActor::cli(), true)
        .await;
    assert!(
        matches!(&result, Err(ServiceError::Conflict(m)) if m.contains("connection test")),
        "{result:?}"
    );
    assert!(
        app.services
            .test_staff_sso(AdminActor::cli())
            .await
            .unwrap()
            .passed
    );
    assert!(
        app.services
            .set_staff_sso_only(AdminActor::cli(), true)
            .await
            .is_ok()
    );
    // SSO cannot be disabled underneath SSO-only.
    assert!(matches!(
        app.services
            .set_staff_sso_enabled(AdminActor::cli(), false)
            .await,
        Err(ServiceError::Conflict(_))
    ));
    let _ = fake;
}

#[actix_web::test]
async fn sso_only_refuses_every_password_path_and_revokes_password_sessions() {
    let (app, fake) = app_with_entra().await;
    configure_staff_sso(&app, false, "").await;
    let (mut ann, ann_secret) = linked_admin(&app, &fake).await;

    // Bob: member with password + TOTP, signed in with his password.
    app.create_admin("bob@contoso.com", "bobs long password")
        .await;
    let bob_id = app
        .services
        .user_by_email(Realm::Staff, "bob@contoso.com")
        .unwrap()
        .id;
    app.services
        .set_role(AdminActor::cli(), bob_id, Role::Member)
        .await
        .unwrap();
    let mut bob = app.browser();
    bob.sign_in(&app, "bob@contoso.com", "bobs long password", None)
        .await;
    let (bob_secret, bob_codes) = bob.enrol(&app).await;
    assert_eq!(bob.get("/account").await.status, StatusCode::OK);
    // Carol: invited, not yet accepted.
    let invitation = app
        .services
        .invite(
            AdminActor::cli(),
            Realm::Staff,
            "carol@contoso.com".into(),
            "Carol".into(),
            Role::Member,
        )
        .await
        .unwrap();
    // Dave: a pending second step started before the switch.
    app.next_step();
    let mut pending = app.browser();
    pending.get("/login").await;
    pending
        .post(
            "/login",
            &[
                ("email", "bob@contoso.com"),
                ("password", "bobs long password"),
            ],
        )
        .await;

    // Ann turns SSO-only on from the admin page.
    ann.get("/admin/sso").await;
    let page = ann.post("/admin/sso/sso-only", &[("state", "on")]).await;
    assert!(
        page.status == StatusCode::OK || page.status == StatusCode::SEE_OTHER,
        "{}",
        page.body
    );
    assert_eq!(
        bob.get("/account").await.status,
        StatusCode::SEE_OTHER,
        "Bob's password session was revoked"
    );
    assert_eq!(
        ann.get("/account").await.status,
        StatusCode::SEE_OTHER,
        "Ann's password session too (she is not break-glass)"
    );

    // The login page offers only Microsoft (and a small emergency link).
    let mut visitor = app.browser();
    let login = visitor.get("/login").await;
    assert!(
        login.has("Sign in with Microsoft") && !login.has("name=\"password\""),
        "{}",
        login.body
    );
    assert!(login.has("Emergency access"));
    // Every password path is refused by the server, whatever is posted (the token
    // comes from the emergency page, which has the only form).
    visitor.get("/login?emergency=1").await;
    for (email, password) in [
        ("bob@contoso.com", "bobs long password"),
        ("ann@contoso.com", "correct horse battery"),
    ] {
        let page = visitor
            .post("/login", &[("email", email), ("password", password)])
            .await;
        assert_eq!(page.status, StatusCode::UNAUTHORIZED, "{email}");
        let page = visitor
            .post(
                "/login",
                &[("email", email), ("password", password), ("emergency", "1")],
            )
            .await;
        assert_eq!(
            page.status,
            StatusCode::UNAUTHORIZED,
            "{email} via emergency form"
        );
        assert!(visitor.session().is_none());
    }
    app.next_step();
    for code in [app.code(&bob_secret, 0), bob_codes[0].clone()] {
        let page = pending.post("/login/mfa", &[("code", &code)]).await;
        assert_ne!(page.status, StatusCode::OK);
        assert!(
            page.location().starts_with("/login"),
            "pending second step refused: {}",
            page.status
        );
    }
    let invite_path = invitation
        .link
        .trim_start_matches("http://localhost:8080")
        .to_owned();
    let mut carol = app.browser();
    let page = carol.get(&invite_path).await;
    assert!(
        !page.has("name=\"password\""),
        "invitation offers Microsoft instead"
    );
    let page = carol
        .post(
            &invite_path,
            &[
                ("password", "carols long password"),
                ("password_confirm", "carols long password"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(carol.session().is_none());

    // Ann signs in with Microsoft; password change and local TOTP are refused.
    let mut ann = app.browser();
    let page = sso_sign_in(&mut ann, &fake, user("oid-ann", "ann@contoso.com")).await;
    assert_eq!(page.location(), "/account");
    let page = ann.get("/account").await;
    assert!(!page.has("Change password"));
    let page = ann
        .post(
            "/account/password",
            &[
                ("current_password", "correct horse battery"),
                ("code", &app.code(&ann_secret, 1)),
                ("new_password", "another long one"),
                ("new_password_confirm", "another long one"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    let page = ann
        .post(
            "/account/recovery-codes",
            &[
                ("current_password", "correct horse battery"),
                ("code", &app.code(&ann_secret, 1)),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert_ne!(ann.get("/mfa/setup").await.status, StatusCode::OK);

    let changed = app
        .services
        .audit_log(100, None)
        .unwrap()
        .into_iter()
        .find(|(_, e)| e.kind == AuditKind::SsoOnlyChanged)
        .unwrap()
        .1;
    assert!(changed.detail.contains("revoked"), "{}", changed.detail);
}

#[actix_web::test]
async fn break_glass_accounts_keep_password_access_audited_and_on_the_dashboard() {
    let (app, fake) = app_with_entra().await;
    configure_staff_sso(&app, false, "").await;
    let (_ann, _) = linked_admin(&app, &fake).await;
    app.create_admin("glass@contoso.com", "emergency passphrase")
        .await;
    let glass = app
        .services
        .user_by_email(Realm::Staff, "glass@contoso.com")
        .unwrap();
    app.services
        .set_break_glass(AdminActor::cli(), glass.id, true)
        .await
        .unwrap();
    let mut glass_browser = app.browser();
    glass_browser
        .sign_in(&app, "glass@contoso.com", "emergency passphrase", None)
        .await;
    let (secret, _) = glass_browser.enrol(&app).await;
    app.services
        .set_staff_sso_only(AdminActor::cli(), true)
        .await
        .unwrap();
    assert_eq!(
        glass_browser.get("/account").await.status,
        StatusCode::OK,
        "break-glass password sessions survive the switch"
    );
    glass_browser.post("/logout", &[]).await;

    app.next_step();
    let login = glass_browser.get("/login?emergency=1").await;
    assert!(
        login.has("name=\"password\"") && login.has("break-glass"),
        "{}",
        login.body
    );
    let page = glass_browser
        .post(
            "/login",
            &[
                ("email", "glass@contoso.com"),
                ("password", "emergency passphrase"),
                ("emergency", "1"),
            ],
        )
        .await;
    assert_eq!(page.location(), "/login/mfa");
    let page = glass_browser
        .post("/login/mfa", &[("code", &app.code(&secret, 0))])
        .await;
    assert_eq!(page.location(), "/account");

    let events = app.services.audit_log(20, None).unwrap();
    assert!(events.iter().any(
        |(_, e)| e.kind == AuditKind::BreakGlassLogin && e.subject_email == "glass@contoso.com"
    ));
    let dashboard = glass_browser.get("/admin").await;
    assert!(
        dashboard.has("Break-glass sign-ins") && dashboard.has("break-glass login"),
        "{}",
        dashboard.body
    );
}

#[actix_web::test]
async fn turning_sso_only_off_always_works() {
    let (app, fake) = app_with_entra().await;
    configure_staff_sso(&app, false, "").await;
    let (_ann, _) = linked_admin(&app, &fake).await;
    app.services
        .set_staff_sso_only(AdminActor::cli(), true)
        .await
        .unwrap();
    // Microsoft becomes unreachable; the switch still goes off.
    fake.redirect_everything_to(Some("http://127.0.0.1:9/"));
    app.services
        .set_staff_sso_only(AdminActor::cli(), false)
        .await
        .unwrap();
    let mut browser = app.browser();
    assert!(browser.get("/login").await.has("name=\"password\""));
    let page = browser
        .sign_in(&app, "ann@contoso.com", "correct horse battery", None)
        .await;
    assert_eq!(page.location(), "/login/mfa", "passwords work again");
}
