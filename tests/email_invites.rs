//! Invitations and admin reset links by email (web and CLI), `gatehouse mail test`
//! over plain SMTP and over STARTTLS with a self-signed certificate, all against a
//! real SMTP server.

use actix_web::http::StatusCode;

use crate::common::binary::Install;
use crate::common::smtp::{Received, SmtpServer};
use crate::common::staff;
use crate::email_reset::{NEW_PASSWORD, PASSWORD, enrolled_staff, mail_app};
use gatehouse::domain::user::Realm;

#[actix_web::test]
async fn invitations_are_emailed_resent_and_the_old_link_dies() {
    let Some(smtp) = SmtpServer::start() else {
        return;
    };
    let app = mail_app(&smtp).await;
    let mut admin = staff::admin(&app).await;
    admin.get("/admin/users").await;
    let page = admin
        .submit(
            "/admin/users",
            &[
                ("email", "new@example.com"),
                ("name", "New"),
                ("role", "member"),
            ],
        )
        .await;
    assert!(page.has("We emailed the invitation"), "{}", page.body);
    let shown = page.input_value("invite-link").unwrap();
    let first = smtp.wait_subject("new@example.com", "invitation", 1).await;
    assert_eq!(
        first.link("/invite/"),
        shown,
        "the mail carries the link shown"
    );
    assert!(first.to.contains("New"), "{}", first.to);

    // Inviting the still-invited address again re-sends instead of failing.
    admin.get("/admin/users").await;
    let again = admin
        .submit(
            "/admin/users",
            &[
                ("email", "NEW@example.com"),
                ("name", ""),
                ("role", "member"),
            ],
        )
        .await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.body);
    let second = smtp.wait_subject("new@example.com", "invitation", 2).await;
    let mut b = app.browser();
    assert_eq!(
        b.get(&Received::path_of(&first.link("/invite/")))
            .await
            .status,
        StatusCode::NOT_FOUND,
        "the first link died"
    );

    // "Resend invitation" on the user page: POST-redirect-GET showing the new link.
    let user = app
        .services
        .user_by_email(Realm::Staff, "new@example.com")
        .unwrap();
    let user_page = format!("/admin/users/{}", user.id);
    let detail = admin.get(&user_page).await;
    assert!(detail.has("Resend invitation"));
    let resent = admin.post(&format!("{user_page}/resend-invite"), &[]).await;
    assert_eq!(resent.status, StatusCode::SEE_OTHER, "{}", resent.body);
    assert!(
        resent.location().starts_with(&format!("{user_page}?done=")),
        "{}",
        resent.location()
    );
    let shown = admin.get(resent.location()).await;
    let third = smtp.wait_subject("new@example.com", "invitation", 3).await;
    assert_eq!(
        shown.input_value("shown-link").unwrap(),
        third.link("/invite/")
    );
    // Reloading repeats nothing: the link was shown once, and no mail is sent again.
    let reloaded = admin.get(resent.location()).await;
    assert_eq!(reloaded.status, StatusCode::OK);
    assert!(reloaded.input_value("shown-link").is_none());
    smtp.settle().await;
    assert_eq!(smtp.count_subject("new@example.com", "invitation"), 3);
    for old in [&first, &second] {
        assert_eq!(
            b.get(&Received::path_of(&old.link("/invite/")))
                .await
                .status,
            StatusCode::NOT_FOUND
        );
    }
    let path = Received::path_of(&third.link("/invite/"));
    assert_eq!(b.get(&path).await.status, StatusCode::OK);
    let accepted = b
        .post(
            &path,
            &[("password", PASSWORD), ("password_confirm", PASSWORD)],
        )
        .await;
    assert_eq!(accepted.location(), "/mfa/setup");

    // An accepted invitation cannot be resent.
    let refused = admin.post(&format!("{user_page}/resend-invite"), &[]).await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
}

#[actix_web::test]
async fn an_admin_reset_link_from_the_user_page() {
    let Some(smtp) = SmtpServer::start() else {
        return;
    };
    let app = mail_app(&smtp).await;
    let secret = enrolled_staff(&app, "ann@example.com").await;
    let mut admin = staff::admin(&app).await;
    let ann = app
        .services
        .user_by_email(Realm::Staff, "ann@example.com")
        .unwrap();
    let user_page = format!("/admin/users/{}", ann.id);
    assert!(admin.get(&user_page).await.has("Send password reset link"));
    let made = admin
        .post(&format!("{user_page}/reset-password"), &[])
        .await;
    assert_eq!(made.status, StatusCode::SEE_OTHER);
    let shown = admin.get(made.location()).await;
    let link = shown.input_value("shown-link").expect("the link is shown");
    assert!(link.starts_with("http://localhost:8080/reset/"), "{link}");
    let mail = smtp.wait_subject("ann@example.com", "Reset your", 1).await;
    assert_eq!(mail.link("/reset/"), link);

    let mut b = app.browser();
    let path = Received::path_of(&link);
    b.get(&path).await;
    b.post(
        &path,
        &[
            ("password", NEW_PASSWORD),
            ("password_confirm", NEW_PASSWORD),
        ],
    )
    .await;
    let page = b
        .sign_in(&app, "ann@example.com", NEW_PASSWORD, Some(&secret))
        .await;
    assert_eq!(page.location(), "/account");
}

fn smtp_section(smtp: &SmtpServer, host: &str, security: &str) -> String {
    format!(
        "[smtp]\nhost = '{host}'\nport = {}\nsecurity = '{security}'\nfrom = 'Gatehouse <login@gatehouse.test>'\n",
        smtp.port
    )
}

#[test]
fn mail_test_over_starttls_with_a_self_signed_certificate() {
    let Some(smtp) = SmtpServer::start_tls() else {
        return;
    };
    let install = Install::with_config(&smtp_section(&smtp, "localhost", "starttls"));
    install.cli_ok(
        &[
            "admin",
            "create",
            "--email",
            "ops@example.com",
            "--password-stdin",
        ],
        PASSWORD,
    );
    // Not trusted: refused before any mail goes out, with the reason.
    let out = install.cli(&["mail", "test", "--to", "ops@example.com"], "");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("was not sent"), "{err}");
    assert!(
        err.to_lowercase().contains("certificate"),
        "the reason names the certificate: {err}"
    );
    assert!(smtp.messages().is_empty());
    // Trusted (as an administrator would add a private CA): sent over TLS.
    let cert = smtp.cert.as_ref().unwrap().display().to_string();
    let out = install.cli_env(
        &["mail", "test", "--to", "ops@example.com"],
        "",
        &[("SSL_CERT_FILE", cert.as_str())],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("Test email sent to ops@example.com"));
    let got = smtp.messages_to("ops@example.com");
    assert_eq!(got.len(), 1);
    assert!(got[0].tls, "the message went over STARTTLS");
    assert!(got[0].subject.contains("test email"));
}

#[test]
fn cli_invite_resend_and_reset_password_email_their_links() {
    let Some(smtp) = SmtpServer::start() else {
        return;
    };
    let install = Install::with_config(&smtp_section(&smtp, "127.0.0.1", "none"));
    install.cli_ok(
        &[
            "admin",
            "create",
            "--email",
            "ops@example.com",
            "--password-stdin",
        ],
        PASSWORD,
    );
    let out = install.cli_ok(&["mail", "test", "--to", "ops@example.com"], "");
    assert!(out.contains("Test email sent"), "{out}");

    let out = install.cli_ok(&["user", "invite", "--email", "bob@example.com"], "");
    assert!(out.contains("Emailed."), "{out}");
    let first_link = out
        .lines()
        .find(|l| l.contains("/invite/"))
        .unwrap()
        .trim()
        .to_owned();
    assert_eq!(
        smtp.messages_to("bob@example.com")[0].link("/invite/"),
        first_link
    );

    let out = install.cli_ok(&["user", "invite", "--email", "bob@example.com"], "");
    assert!(out.contains("already invited"), "{out}");
    let out = install.cli_ok(&["user", "resend-invite", "--email", "bob@example.com"], "");
    assert!(
        out.contains("the old link no longer works") && out.contains("Emailed."),
        "{out}"
    );
    let newest = out
        .lines()
        .find(|l| l.contains("/invite/"))
        .unwrap()
        .trim()
        .to_owned();
    let bob = smtp.messages_to("bob@example.com");
    assert_eq!(bob.len(), 3);
    assert_eq!(bob[2].link("/invite/"), newest);

    let out = install.cli_ok(
        &["user", "reset-password", "--email", "ops@example.com"],
        "",
    );
    assert!(out.contains("/reset/") && out.contains("Emailed."), "{out}");
    let link = out
        .lines()
        .find(|l| l.contains("/reset/"))
        .unwrap()
        .trim()
        .to_owned();
    assert!(
        link.starts_with(&format!("{}/reset/", install.base())),
        "{link}"
    );
    let ops = smtp.messages_to("ops@example.com");
    assert_eq!(ops.last().unwrap().link("/reset/"), link);

    // Refused for a user who has not accepted their invitation.
    let out = install.cli(
        &["user", "reset-password", "--email", "bob@example.com"],
        "",
    );
    assert!(!out.status.success());

    // doctor sees the mail server.
    let doctor = install.cli(&["doctor"], "");
    let report = String::from_utf8_lossy(&doctor.stdout);
    assert!(
        report.contains(&format!(
            "mail server 127.0.0.1:{} (none) answers",
            smtp.port
        )),
        "{report}"
    );

    // The same through a running server's admin socket.
    let server = install.start();
    let out = install.cli_ok(&["user", "resend-invite", "--email", "bob@example.com"], "");
    assert!(out.contains("Emailed."), "{out}");
    assert_eq!(smtp.messages_to("bob@example.com").len(), 4);
    drop(server);

    // Without [smtp], links are printed and nothing is sent.
    let plain = Install::new();
    plain.cli_ok(
        &[
            "admin",
            "create",
            "--email",
            "ops@example.com",
            "--password-stdin",
        ],
        PASSWORD,
    );
    let out = plain.cli_ok(
        &["user", "reset-password", "--email", "ops@example.com"],
        "",
    );
    assert!(
        out.contains("/reset/") && out.contains("Email is off"),
        "{out}"
    );
    let out = plain.cli(&["mail", "test", "--to", "ops@example.com"], "");
    assert!(!out.status.success());
    let doctor = plain.cli(&["doctor"], "");
    assert!(String::from_utf8_lossy(&doctor.stdout).contains("email is off"));

    // A dead mail server is a doctor warning.
    let dead = Install::with_config(&format!(
        "[smtp]\nhost = '127.0.0.1'\nport = {}\nsecurity = 'none'\nfrom = 'login@example.com'\n",
        crate::common::smtp::dead_port()
    ));
    dead.cli_ok(
        &[
            "admin",
            "create",
            "--email",
            "ops@example.com",
            "--password-stdin",
        ],
        PASSWORD,
    );
    let doctor = dead.cli(&["doctor"], "");
    let report = String::from_utf8_lossy(&doctor.stdout);
    assert!(report.contains("cannot be reached"), "{report}");
}

#[test]
fn the_smtp_password_comes_from_a_file_or_the_environment_and_is_never_printed() {
    let section =
        "[smtp]\nhost = 'mail.example.com'\nusername = 'gatehouse'\nfrom = 'login@example.com'\n";
    let install = Install::with_config(section);
    let secret = "s3cret-Smtp-Passw0rd";
    let out = install.cli_env(
        &["check-config"],
        "",
        &[("GATEHOUSE_SMTP__PASSWORD", secret)],
    );
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{printed}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        printed.contains("smtp.password") && printed.contains("(set)"),
        "{printed}"
    );
    assert!(
        printed.contains("starttls") && printed.contains("587"),
        "{printed}"
    );
    assert!(!printed.contains(secret));

    // A username without a password is a start-up error naming the key.
    let out = install.cli(&["check-config"], "");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("smtp.password_file"));

    // In the file itself it is refused.
    let in_file = Install::with_config(&format!("{section}password = '{secret}'\n"));
    let out = in_file.cli(&["check-config"], "");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("smtp.password") && !err.contains(secret),
        "{err}"
    );

    // From a file of its own.
    let file = install.dir.path().join("smtp-password");
    std::fs::write(&file, format!("{secret}\n")).unwrap();
    let with_file =
        Install::with_config(&format!("{section}password_file = '{}'\n", file.display()));
    let out = with_file.cli(&["check-config"], "");
    assert!(out.status.success());
    assert!(!String::from_utf8_lossy(&out.stdout).contains(secret));

    // Plain SMTP only to this machine.
    let plain = Install::with_config(
        "[smtp]\nhost = 'mail.example.com'\nsecurity = 'none'\nfrom = 'login@example.com'\n",
    );
    let out = plain.cli(&["check-config"], "");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("smtp.security"));
}
