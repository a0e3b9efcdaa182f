//! Common and breached passwords are refused everywhere a password is set — first-admin
//! setup, invitation acceptance, password change, `admin create` — with a plain
//! sentence and nothing stored; a long random passphrase is accepted.

use actix_web::http::StatusCode;

use crate::common::binary::Install;
use crate::common::portal::{invite, portals, realm};
use crate::common::staff::enrolled_admin;
use crate::common::{Page, TestApp};
use gatehouse::domain::user::{Realm, Role, UserStatus};
use gatehouse::service::admin::AdminActor;

const WEAK: [&str; 2] = ["password1234", "Password1"];
const PASSPHRASE: &str = "ember quilt ravine tonic banjo";
const REFUSAL: &str = "This password is too easy to guess";

fn assert_refused(page: &Page, password: &str) {
    assert_eq!(
        page.status,
        StatusCode::BAD_REQUEST,
        "{password}: {}",
        page.body
    );
    assert!(page.has(REFUSAL), "{password}: {}", page.body);
    assert!(
        page.has("a few unrelated words"),
        "{password}: {}",
        page.body
    );
}

#[actix_web::test]
async fn setup_refuses_common_passwords() {
    let app = TestApp::new().await;
    let token = app.services.issue_setup_token().unwrap().unwrap();
    let path = format!("/setup/{}", token.expose());
    let mut browser = app.browser();
    for weak in WEAK {
        browser.get(&path).await;
        let page = browser
            .post(
                &path,
                &[
                    ("email", "ann@example.com"),
                    ("name", "Ann"),
                    ("password", weak),
                    ("password_confirm", weak),
                ],
            )
            .await;
        assert_refused(&page, weak);
        assert!(browser.session().is_none(), "no session for {weak}");
        assert!(
            app.services
                .user_by_email(Realm::Staff, "ann@example.com")
                .is_err(),
            "no admin created with {weak}"
        );
        assert_eq!(browser.get(&path).await.status, StatusCode::OK, "link kept");
    }

    let page = browser
        .post(
            &path,
            &[
                ("email", "ann@example.com"),
                ("name", "Ann"),
                ("password", PASSPHRASE),
                ("password_confirm", PASSPHRASE),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    assert_eq!(page.location(), "/mfa/setup");
}

/// Invites `email` to the staff realm; returns the invitation path.
async fn staff_invite(app: &TestApp, email: &str) -> String {
    let invitation = app
        .services
        .invite(
            AdminActor::cli(),
            Realm::Staff,
            email.into(),
            "Invitee".into(),
            Role::Member,
        )
        .await
        .unwrap();
    invitation
        .link
        .trim_start_matches("http://localhost:8080")
        .to_owned()
}

#[actix_web::test]
async fn invitation_acceptance_refuses_common_passwords() {
    let app = TestApp::new().await;
    let path = staff_invite(&app, "bob@example.com").await;
    let mut bob = app.browser();
    for weak in WEAK {
        bob.get(&path).await;
        let page = bob
            .post(&path, &[("password", weak), ("password_confirm", weak)])
            .await;
        assert_refused(&page, weak);
        let user = app
            .services
            .user_by_email(Realm::Staff, "bob@example.com")
            .unwrap();
        assert_eq!(
            user.status,
            UserStatus::Invited,
            "still invited after {weak}"
        );
        assert!(
            user.password_hash.is_none(),
            "no password stored for {weak}"
        );
        assert_eq!(bob.get(&path).await.status, StatusCode::OK, "link kept");
    }

    let page = bob
        .post(
            &path,
            &[("password", PASSPHRASE), ("password_confirm", PASSPHRASE)],
        )
        .await;
    assert_eq!(page.location(), "/mfa/setup", "{}", page.body);
}

#[actix_web::test]
async fn portal_invitation_acceptance_refuses_common_passwords() {
    let (app, _fake) = portals().await;
    let path = invite(&app, "acme", "carol@acme.example").await;
    let mut carol = app.browser();
    for weak in WEAK {
        carol.get(&path).await;
        let page = carol
            .post(&path, &[("password", weak), ("password_confirm", weak)])
            .await;
        assert_refused(&page, weak);
    }
    let user = app
        .services
        .user_by_email(realm(&app, "acme"), "carol@acme.example")
        .unwrap();
    assert_eq!(user.status, UserStatus::Invited);
    let page = carol
        .post(
            &path,
            &[("password", PASSPHRASE), ("password_confirm", PASSPHRASE)],
        )
        .await;
    assert!(
        page.location().starts_with("/p/acme/"),
        "{}: {}",
        page.status,
        page.body
    );
}

#[actix_web::test]
async fn invitation_acceptance_refuses_a_password_made_of_the_email() {
    let app = TestApp::new().await;
    let path = staff_invite(&app, "margaret.hamilton@example.com").await;
    let mut margaret = app.browser();
    margaret.get(&path).await;
    let page = margaret
        .post(
            &path,
            &[
                ("password", "margarethamilton1"),
                ("password_confirm", "margarethamilton1"),
            ],
        )
        .await;
    assert_refused(&page, "margarethamilton1");
}

#[actix_web::test]
async fn password_change_refuses_common_passwords() {
    let (app, mut browser, secret, _) = enrolled_admin().await;
    browser
        .sign_in(
            &app,
            "ann@example.com",
            "correct horse battery",
            Some(&secret),
        )
        .await;
    for weak in WEAK {
        browser.get("/account").await;
        app.next_step();
        let page = browser
            .post(
                "/account/password",
                &[
                    ("current_password", "correct horse battery"),
                    ("code", &app.code(&secret, 0)),
                    ("new_password", weak),
                    ("new_password_confirm", weak),
                ],
            )
            .await;
        assert_refused(&page, weak);
    }

    // Nothing changed: the old password still signs in, the weak ones do not.
    browser.post("/logout", &[]).await;
    for weak in WEAK {
        let page = browser.sign_in(&app, "ann@example.com", weak, None).await;
        assert_eq!(page.status, StatusCode::UNAUTHORIZED, "{weak}");
    }
    app.next_step();
    let page = browser
        .sign_in(
            &app,
            "ann@example.com",
            "correct horse battery",
            Some(&secret),
        )
        .await;
    assert_eq!(page.location(), "/account", "{}", page.body);

    browser.get("/account").await;
    app.next_step();
    let page = browser
        .submit(
            "/account/password",
            &[
                ("current_password", "correct horse battery"),
                ("code", &app.code(&secret, 0)),
                ("new_password", PASSPHRASE),
                ("new_password_confirm", PASSPHRASE),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.has("password was changed"));
}

#[test]
fn admin_create_refuses_common_passwords() {
    let install = Install::new();
    for weak in WEAK {
        let out = install.cli(
            &[
                "admin",
                "create",
                "--email",
                "ops@example.com",
                "--password-stdin",
            ],
            &format!("{weak}\n"),
        );
        assert_eq!(out.status.code(), Some(1), "{weak}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(REFUSAL), "{weak}: {stderr}");
    }
    let list = install.cli_ok(&["--json", "user", "list"], "");
    let list: serde_json::Value = serde_json::from_str(&list).unwrap();
    assert_eq!(
        list.as_array().unwrap().len(),
        0,
        "no admin created: {list}"
    );

    let out = install.cli_ok(
        &[
            "admin",
            "create",
            "--email",
            "ops@example.com",
            "--password-stdin",
        ],
        &format!("{PASSPHRASE}\n"),
    );
    assert!(out.contains("Created staff admin ops@example.com"), "{out}");
}
