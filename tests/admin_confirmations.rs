//! Destructive admin actions ask first, on a page that names the effect and works
//! without JavaScript; the navigation marks the current section; a switch whose
//! preconditions fail is a disabled button that says why.

use actix_web::http::StatusCode;
use gatehouse::service::admin::AdminActor;

use crate::common::TestApp;
use crate::common::portal::invite;
use crate::common::staff::admin;

#[actix_web::test]
async fn disabling_resetting_and_signing_out_a_user_ask_first_and_name_the_effect() {
    let app = TestApp::new().await;
    let mut ops = admin(&app).await;
    let ann = app
        .services
        .invite(
            AdminActor::cli(),
            gatehouse::domain::user::Realm::Staff,
            "ann@example.com".into(),
            "Ann Example".into(),
            gatehouse::domain::user::Role::Member,
        )
        .await
        .unwrap();
    let base = format!("/admin/users/{}", ann.user.id);
    let page = ops.get(&base).await;
    assert_eq!(page.status, StatusCode::OK);
    // No one-click forms for these any more: links to their confirmation pages.
    for action in ["disable", "reset-mfa", "revoke-sessions"] {
        let url = format!("{base}/{action}");
        assert!(
            !page.post_forms().iter().any(|(a, _)| *a == url),
            "{action} posts without asking"
        );
        assert!(page.links().contains(&url), "{action} links to its page");
    }

    let confirm = ops.get(&format!("{base}/disable")).await;
    assert_eq!(confirm.status, StatusCode::OK);
    assert!(confirm.has("Disable Ann Example?"), "{}", confirm.body);
    assert!(confirm.has("signed out of no open sessions at once"));
    assert!(confirm.links().contains(&base), "Cancel leads back");
    let forms = confirm.post_forms();
    assert!(forms.iter().any(|(a, _)| *a == format!("{base}/disable")));

    let confirm = ops.get(&format!("{base}/reset-mfa")).await;
    assert!(confirm.has("every recovery code stop working"));
    let confirm = ops.get(&format!("{base}/revoke-sessions")).await;
    assert!(confirm.has("Sign Ann Example out everywhere?"));

    // Actions that need no confirmation have no such page, and other realms' users
    // are not found here.
    assert_eq!(
        ops.get(&format!("{base}/make-admin")).await.status,
        StatusCode::NOT_FOUND
    );

    // Confirming does it.
    let done = ops.post(&format!("{base}/disable"), &[]).await;
    assert!(done.status.is_success() || done.status.is_redirection());
    let user = app.services.user_by_id(ann.user.id).unwrap();
    assert_eq!(user.status.as_str(), "disabled");
}

#[actix_web::test]
async fn disabling_a_portal_asks_first_and_says_how_many_are_signed_out() {
    let app = TestApp::new().await;
    let mut ops = admin(&app).await;
    app.services
        .create_client(AdminActor::cli(), "acme".into(), "Acme Ltd".into())
        .await
        .unwrap();
    for who in ["a@acme.example", "b@acme.example", "c@acme.example"] {
        invite(&app, "acme", who).await;
    }
    let page = ops.get("/admin/clients/acme").await;
    assert!(
        page.links()
            .contains(&"/admin/clients/acme/do/disable".to_owned())
    );
    assert!(
        !page
            .post_forms()
            .iter()
            .any(|(a, _)| a == "/admin/clients/acme/do/disable")
    );
    let confirm = ops.get("/admin/clients/acme/do/disable").await;
    assert_eq!(confirm.status, StatusCode::OK);
    assert!(confirm.has("Disable the portal of Acme Ltd?"));
    assert!(
        confirm.has("signs out all 3 of its users of Acme Ltd"),
        "{}",
        confirm.body
    );
    assert_eq!(
        ops.get("/admin/clients/acme/do/enable").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        ops.get("/admin/clients/nobody/do/disable").await.status,
        StatusCode::NOT_FOUND
    );
}

#[actix_web::test]
async fn the_admin_navigation_marks_where_you_are() {
    let app = TestApp::new().await;
    let mut ops = admin(&app).await;
    for (path, current) in [
        ("/admin", "/admin"),
        ("/admin/users", "/admin/users"),
        ("/admin/clients", "/admin/clients"),
        ("/admin/audit", "/admin/audit"),
        ("/admin/sso", "/admin/sso"),
    ] {
        let page = ops.get(path).await;
        assert_eq!(page.status, StatusCode::OK, "{path}");
        assert_eq!(
            page.body.matches("aria-current=\"page\"").count(),
            1,
            "{path}"
        );
        assert!(
            page.has(&format!("href=\"{current}\" aria-current=\"page\"")),
            "{path}: {}",
            page.body
        );
    }
}

#[actix_web::test]
async fn sso_only_is_a_disabled_button_that_says_why_until_its_conditions_hold() {
    let app = TestApp::new().await;
    let mut ops = admin(&app).await;
    let page = ops.get("/admin/sso").await;
    assert!(page.has("✗ "), "a failing condition is listed");
    assert!(
        page.has("disabled aria-describedby=\"sso-only-why\""),
        "{}",
        page.body
    );
    assert!(page.has("every condition above must show ✓ first"));
}

#[actix_web::test]
async fn a_secret_about_to_expire_is_a_warning_not_a_pass() {
    use gatehouse::service::sso::admin::SsoUpdate;
    let (app, _fake) = crate::common::sso::app_with_entra().await;
    crate::common::sso::configure_staff_sso(&app, false, "").await;
    let soon = time::OffsetDateTime::from_unix_timestamp(app.now().0 + 15 * 86_400).unwrap();
    let date = format!(
        "{:04}-{:02}-{:02}",
        soon.year(),
        u8::from(soon.month()),
        soon.day()
    );
    app.services
        .update_staff_sso(
            AdminActor::cli(),
            SsoUpdate {
                secret_expires: Some(date),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let test = app
        .services
        .test_staff_sso(AdminActor::cli())
        .await
        .unwrap();
    let expiry = test
        .items
        .iter()
        .find(|i| i.name == "Secret expiry")
        .expect("an expiry line");
    assert!(expiry.passed && expiry.warning, "{expiry:?}");
    let mut ops = admin(&app).await;
    let page = ops.get("/admin/sso").await;
    assert!(
        page.has("<li class=\"warn\"><strong>⚠ Secret expiry"),
        "{}",
        page.body
    );
    assert!(!page.has("✓ Secret expiry"));
}
