//! Password reset by email (DESIGN §11), end to end against a real SMTP server: the
//! mail arrives, its link works once, expires after 30 minutes, is refused in another
//! realm, revokes every session, and the next sign-in still asks for TOTP.

use actix_web::http::StatusCode;

use crate::common::smtp::{Received, SmtpServer};
use crate::common::{Browser, TestApp, config_with};
use gatehouse::domain::user::Role;
use gatehouse::service::admin::AdminActor;

pub const PASSWORD: &str = "correct horse battery";
pub const NEW_PASSWORD: &str = "a brand new passphrase 42";

/// An app sending mail to `smtp`.
pub async fn mail_app(smtp: &SmtpServer) -> TestApp {
    TestApp::with_config(config_with(&smtp.config())).await
}

/// A staff admin with TOTP enrolled (signed out); returns the TOTP secret.
pub async fn enrolled_staff(app: &TestApp, email: &str) -> String {
    app.create_admin(email, PASSWORD).await;
    let mut b = app.browser();
    b.sign_in(app, email, PASSWORD, None).await;
    let (secret, _) = b.enrol(app).await;
    b.post("/logout", &[]).await;
    app.next_step();
    secret
}

/// Asks for a reset link at `prefix`'s forgot page; returns the POST's answer.
pub async fn ask_reset(b: &mut Browser, prefix: &str, email: &str) -> crate::common::Page {
    b.get(&format!("{prefix}/login/forgot")).await;
    b.post(&format!("{prefix}/login/forgot"), &[("email", email)])
        .await
}

fn reset_path(mail: &Received) -> String {
    Received::path_of(&mail.link("/reset/"))
}

#[actix_web::test]
async fn staff_reset_end_to_end() {
    let Some(smtp) = SmtpServer::start() else {
        return;
    };
    let app = mail_app(&smtp).await;
    let secret = enrolled_staff(&app, "ann@example.com").await;
    // A session that the reset must end.
    let mut other = app.browser();
    other
        .sign_in(&app, "ann@example.com", PASSWORD, Some(&secret))
        .await;
    assert_eq!(other.get("/account").await.status, StatusCode::OK);
    app.next_step();

    let mut b = app.browser();
    let login = b.get("/login").await;
    assert!(
        login.links().contains(&"/login/forgot".to_owned()),
        "Forgot password? is offered"
    );
    let asked = ask_reset(&mut b, "", "Ann@Example.com").await;
    assert_eq!(asked.status, StatusCode::SEE_OTHER);
    assert_eq!(asked.location(), "/login/forgot?sent=1");
    let sent = b.get(asked.location()).await;
    assert!(
        sent.has("If an account with a password exists"),
        "{}",
        sent.body
    );

    let mail = smtp.wait_subject("ann@example.com", "Reset your", 1).await;
    assert_eq!(mail.rcpt_tos, ["ann@example.com"]);
    assert!(mail.from.contains("login@gatehouse.test"));
    assert_eq!(mail.mail_from, "login@gatehouse.test");
    let link = mail.link("/reset/");
    assert!(link.starts_with("http://localhost:8080/reset/"), "{link}");
    assert!(mail.html.contains(&link), "the HTML part has the same link");

    let path = reset_path(&mail);
    let form = b.get(&path).await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.has("ann@example.com"));
    let mismatch = b
        .post(
            &path,
            &[("password", NEW_PASSWORD), ("password_confirm", "other")],
        )
        .await;
    assert_eq!(mismatch.status, StatusCode::BAD_REQUEST);
    let done = b
        .post(
            &path,
            &[
                ("password", NEW_PASSWORD),
                ("password_confirm", NEW_PASSWORD),
            ],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(done.location(), "/login?reset=1");
    assert!(
        b.get("/login?reset=1")
            .await
            .has("Your password was changed")
    );

    // Single use.
    assert_eq!(b.get(&path).await.status, StatusCode::NOT_FOUND);
    let again = b
        .post(
            &path,
            &[
                ("password", "yet another passphrase 7"),
                ("password_confirm", "yet another passphrase 7"),
            ],
        )
        .await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);

    // Every session ended.
    let account = other.get("/account").await;
    assert_eq!(
        account.status,
        StatusCode::SEE_OTHER,
        "the old session is gone"
    );
    assert!(account.location().starts_with("/login"));

    // The old password is dead; the new one still needs the second factor.
    let mut c = app.browser();
    let old = c.sign_in(&app, "ann@example.com", PASSWORD, None).await;
    assert_eq!(old.status, StatusCode::UNAUTHORIZED);
    let new = c.sign_in(&app, "ann@example.com", NEW_PASSWORD, None).await;
    assert_eq!(new.location(), "/login/mfa", "TOTP is still asked for");
    c.get("/login/mfa").await;
    let code = app.code(&secret, 0);
    let signed_in = c.post("/login/mfa", &[("code", &code)]).await;
    assert_eq!(signed_in.location(), "/account");

    // The user is told.
    let notice = smtp
        .wait_subject("ann@example.com", "password was reset", 1)
        .await;
    assert!(
        notice
            .text
            .contains("Every session of your account was signed out")
    );
}

#[actix_web::test]
async fn a_reset_link_expires_after_30_minutes() {
    let Some(smtp) = SmtpServer::start() else {
        return;
    };
    let app = mail_app(&smtp).await;
    enrolled_staff(&app, "ann@example.com").await;
    let mut b = app.browser();
    ask_reset(&mut b, "", "ann@example.com").await;
    let path = reset_path(&smtp.wait_subject("ann@example.com", "Reset your", 1).await);
    app.clock.advance(29 * 60);
    assert_eq!(
        b.get(&path).await.status,
        StatusCode::OK,
        "valid at 29 minutes"
    );
    app.clock.advance(60);
    let expired = b.get(&path).await;
    assert_eq!(expired.status, StatusCode::GONE, "{}", expired.body);
    let post = b
        .post(
            &path,
            &[
                ("password", NEW_PASSWORD),
                ("password_confirm", NEW_PASSWORD),
            ],
        )
        .await;
    assert_eq!(post.status, StatusCode::GONE);
    // The password did not change.
    let mut c = app.browser();
    let page = c.sign_in(&app, "ann@example.com", PASSWORD, None).await;
    assert_eq!(page.location(), "/login/mfa");
}

#[actix_web::test]
async fn a_new_request_replaces_the_earlier_link() {
    let Some(smtp) = SmtpServer::start() else {
        return;
    };
    let app = mail_app(&smtp).await;
    enrolled_staff(&app, "ann@example.com").await;
    let mut b = app.browser();
    ask_reset(&mut b, "", "ann@example.com").await;
    let first = reset_path(&smtp.wait_subject("ann@example.com", "Reset your", 1).await);
    ask_reset(&mut b, "", "ann@example.com").await;
    let second = reset_path(&smtp.wait_subject("ann@example.com", "Reset your", 2).await);
    assert_ne!(first, second);
    assert_eq!(b.get(&first).await.status, StatusCode::NOT_FOUND);
    assert_eq!(b.get(&second).await.status, StatusCode::OK);
}

/// A portal with a TOTP-enrolled user; returns (browser signed in, secret).
pub async fn portal_user(app: &TestApp, slug: &str, name: &str, email: &str) -> (Browser, String) {
    let cli = AdminActor::cli;
    if app.services.portal(slug).unwrap().is_none() {
        app.services
            .create_client(cli(), slug.into(), name.into())
            .await
            .unwrap();
    }
    let realm = app.services.client_realm(slug).unwrap();
    let invitation = app
        .services
        .invite(cli(), realm, email.into(), "Pat".into(), Role::Member)
        .await
        .unwrap();
    let path = Received::path_of(&invitation.link);
    let mut b = app.browser();
    b.get(&path).await;
    let page = b
        .post(
            &path,
            &[("password", PASSWORD), ("password_confirm", PASSWORD)],
        )
        .await;
    assert!(page.location().ends_with("/mfa/setup"), "{}", page.body);
    let (secret, _) = b.enrol_at(&format!("/p/{slug}"), app).await;
    app.next_step();
    (b, secret)
}

#[actix_web::test]
async fn portal_reset_is_branded_and_bound_to_its_realm() {
    let Some(smtp) = SmtpServer::start() else {
        return;
    };
    let app = mail_app(&smtp).await;
    let (mut signed_in, secret) = portal_user(&app, "acme", "Acme Corp", "pat@acme.test").await;
    portal_user(&app, "beta", "Beta Ltd", "other@beta.test").await;
    app.services
        .update_client(
            AdminActor::cli(),
            "acme".into(),
            gatehouse::service::clients::ClientUpdate {
                accent: Some("#aa3300".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();

    let mut b = app.browser();
    assert!(
        b.get("/p/acme/login")
            .await
            .links()
            .contains(&"/p/acme/login/forgot".to_owned())
    );
    // Asking in another realm sends nothing: the address is not a user there.
    let beta = ask_reset(&mut b, "/p/beta", "pat@acme.test").await;
    let staff = ask_reset(&mut b, "", "pat@acme.test").await;
    let acme = ask_reset(&mut b, "/p/acme", "pat@acme.test").await;
    for page in [&beta, &staff, &acme] {
        assert_eq!(page.status, StatusCode::SEE_OTHER);
    }
    let mail = smtp.wait_subject("pat@acme.test", "Reset your", 1).await;
    assert!(mail.subject.contains("Acme Corp"), "{}", mail.subject);
    assert!(mail.html.contains("#aa3300"), "the client's accent");
    let link = mail.link("/reset/");
    assert!(
        link.starts_with("http://localhost:8080/p/acme/reset/"),
        "{link}"
    );
    smtp.settle().await;
    assert_eq!(
        smtp.count_subject("pat@acme.test", "Reset your"),
        1,
        "only the portal's request sent mail"
    );

    let token = link.rsplit('/').next().unwrap().to_owned();
    for elsewhere in [format!("/reset/{token}"), format!("/p/beta/reset/{token}")] {
        assert_eq!(
            b.get(&elsewhere).await.status,
            StatusCode::NOT_FOUND,
            "{elsewhere}"
        );
        let post = b
            .post(
                &elsewhere,
                &[
                    ("password", NEW_PASSWORD),
                    ("password_confirm", NEW_PASSWORD),
                ],
            )
            .await;
        assert_eq!(post.status, StatusCode::NOT_FOUND);
    }
    let path = format!("/p/acme/reset/{token}");
    b.get(&path).await;
    let done = b
        .post(
            &path,
            &[
                ("password", NEW_PASSWORD),
                ("password_confirm", NEW_PASSWORD),
            ],
        )
        .await;
    assert_eq!(done.location(), "/p/acme/login?reset=1");
    let account = signed_in.get("/p/acme/account").await;
    assert_eq!(account.status, StatusCode::SEE_OTHER, "sessions revoked");

    let mut c = app.browser();
    let page = c
        .sign_in_at(
            "/p/acme",
            &app,
            "pat@acme.test",
            NEW_PASSWORD,
            Some(&secret),
        )
        .await;
    assert_eq!(page.location(), "/p/acme/account", "{}", page.body);
}
