//! Security notifications by email (DESIGN §11): password changed, authenticator
//! added and reset, recovery codes regenerated and used, sign-in from a new device.

use actix_web::http::StatusCode;

use crate::common::smtp::SmtpServer;
use crate::common::{TestApp, config_with};
use crate::email_reset::{NEW_PASSWORD, PASSWORD, enrolled_staff, mail_app};
use gatehouse::domain::user::Realm;
use gatehouse::service::admin::AdminActor;

const ANN: &str = "ann@example.com";

#[actix_web::test]
async fn account_changes_are_notified_by_email() {
    let Some(smtp) = SmtpServer::start() else {
        return;
    };
    let app = mail_app(&smtp).await;
    let secret = enrolled_staff(&app, ANN).await;
    let added = smtp
        .wait_subject(ANN, "authenticator app was added", 1)
        .await;
    assert!(
        added
            .link("/account")
            .starts_with("http://localhost:8080/account")
    );

    let mut b = app.browser();
    b.sign_in(&app, ANN, PASSWORD, Some(&secret)).await;
    b.get("/account").await;
    app.next_step();
    let code = app.code(&secret, 0);
    let changed = b
        .submit(
            "/account/password",
            &[
                ("current_password", PASSWORD),
                ("code", &code),
                ("new_password", NEW_PASSWORD),
                ("new_password_confirm", NEW_PASSWORD),
            ],
        )
        .await;
    assert!(
        changed.status.is_success() || changed.status.is_redirection(),
        "{}",
        changed.body
    );
    smtp.wait_subject(ANN, "password was changed", 1).await;

    b.get("/account").await;
    app.next_step();
    let code = app.code(&secret, 0);
    let codes_page = b
        .submit(
            "/account/recovery-codes",
            &[("current_password", NEW_PASSWORD), ("code", &code)],
        )
        .await;
    assert_eq!(codes_page.status, StatusCode::OK, "{}", codes_page.body);
    let codes = codes_page.codes();
    smtp.wait_subject(ANN, "new recovery codes were made", 1)
        .await;

    // Signing in with a recovery code.
    app.next_step();
    let mut c = app.browser();
    c.sign_in(&app, ANN, NEW_PASSWORD, None).await;
    c.get("/login/mfa").await;
    let page = c.post("/login/mfa", &[("code", &codes[0])]).await;
    assert_eq!(page.location(), "/account");
    let used = smtp.wait_subject(ANN, "recovery code was used", 1).await;
    assert!(used.text.contains("9 recovery codes left"), "{}", used.text);

    // An admin resets the authenticator.
    let ann = app.services.user_by_email(Realm::Staff, ANN).unwrap();
    app.services
        .reset_mfa(AdminActor::cli(), ann.id)
        .await
        .unwrap();
    smtp.wait_subject(ANN, "removed your authenticator", 1)
        .await;
}

#[actix_web::test]
async fn a_sign_in_from_a_new_device_is_notified_once() {
    let Some(smtp) = SmtpServer::start() else {
        return;
    };
    let app = mail_app(&smtp).await;
    let secret = enrolled_staff(&app, ANN).await;
    // The first recorded device is not news.
    let mut laptop = app.browser();
    laptop.sign_in(&app, ANN, PASSWORD, Some(&secret)).await;
    let device_cookie = laptop.cookie("gh_device").expect("a device cookie");
    laptop.post("/logout", &[]).await;
    app.next_step();
    laptop.sign_in(&app, ANN, PASSWORD, Some(&secret)).await;
    assert_eq!(
        laptop.cookie("gh_device").as_deref(),
        Some(device_cookie.as_str())
    );
    app.next_step();

    // Another browser is.
    let mut phone = app.browser();
    phone.ip = "198.51.100.7".parse().unwrap();
    phone.sign_in(&app, ANN, PASSWORD, Some(&secret)).await;
    let notice = smtp.wait_subject(ANN, "new device", 1).await;
    assert!(notice.text.contains("198.51.100.7"), "{}", notice.text);
    app.next_step();
    phone.post("/logout", &[]).await;
    phone.sign_in(&app, ANN, PASSWORD, Some(&secret)).await;
    app.next_step();
    laptop.post("/logout", &[]).await;
    laptop.sign_in(&app, ANN, PASSWORD, Some(&secret)).await;
    smtp.settle().await;
    assert_eq!(
        smtp.count_subject(ANN, "new device"),
        1,
        "known devices are not news"
    );

    // A forged device cookie is just another new device.
    let mut forged = app.browser();
    forged.cookies.insert("gh_device".into(), "A".repeat(43));
    app.next_step();
    forged.sign_in(&app, ANN, PASSWORD, Some(&secret)).await;
    smtp.wait_subject(ANN, "new device", 2).await;
}

#[actix_web::test]
async fn without_smtp_nothing_is_queued_and_links_are_shown() {
    let app = TestApp::with_config(config_with("")).await;
    let secret = enrolled_staff(&app, ANN).await;
    let mut b = app.browser();
    let login = b.get("/login").await;
    assert!(!login.has("Forgot password?"), "no reset by email to offer");
    let forgot = b.get("/login/forgot").await;
    assert!(forgot.has("not set up here"), "{}", forgot.body);
    b.sign_in(&app, ANN, PASSWORD, Some(&secret)).await;
    assert!(app.services.mail_status().recent.is_empty());
    let mut admin = crate::common::staff::admin(&app).await;
    let page = admin.get("/admin/email").await;
    assert!(page.has("Email is off"), "{}", page.body);
    let test = admin
        .post("/admin/email/test", &[("to", "ops@example.com")])
        .await;
    assert_eq!(test.status, StatusCode::BAD_REQUEST);
}

#[actix_web::test]
async fn the_admin_sends_a_test_email_from_the_email_page() {
    let Some(smtp) = SmtpServer::start() else {
        return;
    };
    let app = mail_app(&smtp).await;
    let mut admin = crate::common::staff::admin(&app).await;
    let page = admin.get("/admin/email").await;
    assert!(page.has("Send test email") && page.has(&format!("127.0.0.1:{}", smtp.port)));
    let sent = admin
        .post("/admin/email/test", &[("to", "someone@example.com")])
        .await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER);
    assert_eq!(sent.location(), "/admin/email?tested=1");
    smtp.wait_subject("someone@example.com", "test email", 1)
        .await;
    let page = admin.get(sent.location()).await;
    assert!(
        page.has("someone@example.com") && page.has("sent"),
        "{}",
        page.body
    );
    let bad = admin.post("/admin/email/test", &[("to", "nope")]).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
}
