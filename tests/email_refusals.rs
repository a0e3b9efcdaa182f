//! Who gets no reset link, and what cannot steer one: unknown, disabled, invited,
//! SSO-only (staff and portal) and password-less addresses get the same page, status
//! and work as a real one, and no mail; a forged Host or X-Forwarded-Host never
//! changes a link in an email; a dead mail server loses no user action and shows the
//! failure to the admin.

use std::time::Duration;

use actix_web::http::StatusCode;

use crate::common::smtp::{Received, SmtpServer, dead_port};
use crate::common::{TestApp, config_with};
use crate::email_reset::{PASSWORD, ask_reset, enrolled_staff, mail_app, portal_user};
use gatehouse::domain::user::{Email, Realm, Role, User, UserStatus};
use gatehouse::service::admin::AdminActor;
use gatehouse::service::policy::StaffLogin;
use gatehouse::store::prelude::*;

/// Puts an active user without a password (like one created at a Microsoft sign-in).
fn passwordless(app: &TestApp, realm: Realm, email: &str) {
    let user = User::new(
        realm,
        Email::parse(email).unwrap(),
        "No Password".into(),
        Role::Member,
        UserStatus::Active,
        app.now(),
    );
    app.services.store().write(|w| w.put_user(&user)).unwrap();
}

#[actix_web::test]
async fn refused_addresses_look_exactly_like_a_real_one_and_get_no_mail() {
    let Some(smtp) = SmtpServer::start() else {
        return;
    };
    let app = mail_app(&smtp).await;
    enrolled_staff(&app, "real@example.com").await;
    enrolled_staff(&app, "disabled@example.com").await;
    let disabled = app
        .services
        .user_by_email(Realm::Staff, "disabled@example.com")
        .unwrap();
    app.services
        .set_enabled(AdminActor::cli(), disabled.id, false)
        .await
        .unwrap();
    app.services
        .invite(
            AdminActor::cli(),
            Realm::Staff,
            "invited@example.com".into(),
            String::new(),
            Role::Member,
        )
        .await
        .unwrap();
    passwordless(&app, Realm::Staff, "nopassword@example.com");

    // The control: a real address, and what its answer looks like.
    let mut b = app.browser();
    let real = ask_reset(&mut b, "", "real@example.com").await;
    let real_page = b.get(real.location()).await;
    smtp.wait_subject("real@example.com", "Reset your", 1).await;
    let hashes = app.services.hashing().computed();

    let refused = [
        "unknown@example.com",
        "disabled@example.com",
        "invited@example.com",
        "nopassword@example.com",
        "not an address",
    ];
    for email in refused {
        let mut b = app.browser();
        let answer = ask_reset(&mut b, "", email).await;
        assert_eq!(answer.status, real.status, "{email}");
        assert_eq!(answer.location(), real.location(), "{email}");
        assert_eq!(answer.body, real.body, "{email}");
        let page = b.get(answer.location()).await;
        assert_eq!(page.status, real_page.status);
        assert_eq!(
            page.body_without_csrf(),
            real_page.body_without_csrf(),
            "{email}"
        );
    }
    assert_eq!(
        app.services.hashing().computed(),
        hashes,
        "no request hashes anything"
    );

    // SSO-only staff: refused for everyone but break-glass accounts.
    app.services
        .store()
        .write(|w| {
            w.put_setting(&StaffLogin {
                sso_only: true,
                ..StaffLogin::default()
            })
        })
        .unwrap();
    let mut b = app.browser();
    let answer = ask_reset(&mut b, "", "real@example.com").await;
    assert_eq!(answer.location(), real.location());

    // An SSO-only portal's users.
    portal_user(&app, "acme", "Acme", "pat@acme.test").await;
    app.services
        .store()
        .write(|w| {
            let mut client = w.client_by_slug("acme")?.unwrap();
            client.sso_only = true;
            w.put_client(&client)
        })
        .unwrap();
    let answer = ask_reset(&mut b, "/p/acme", "pat@acme.test").await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER);
    assert_eq!(answer.location(), "/p/acme/login/forgot?sent=1");

    smtp.settle().await;
    for email in refused
        .iter()
        .chain(&["pat@acme.test"])
        .filter(|e| e.contains('@'))
    {
        assert_eq!(
            smtp.count_subject(email, "Reset your"),
            0,
            "{email} got mail"
        );
    }
    assert_eq!(
        smtp.count_subject("real@example.com", "Reset your"),
        1,
        "no second mail under SSO-only"
    );

    // A break-glass admin may still reset under SSO-only.
    let real = app
        .services
        .user_by_email(Realm::Staff, "real@example.com")
        .unwrap();
    app.services
        .set_break_glass(AdminActor::cli(), real.id, true)
        .await
        .unwrap();
    ask_reset(&mut b, "", "real@example.com").await;
    smtp.wait_subject("real@example.com", "Reset your", 2).await;

    // The audit trail keeps the reasons.
    let events = app.services.audit_log(200, None).unwrap();
    let details: Vec<String> = events
        .iter()
        .filter(|(_, e)| e.kind.as_str() == "password reset requested")
        .map(|(_, e)| e.detail.clone())
        .collect();
    for reason in [
        "unknown address",
        "account disabled",
        "invitation not accepted",
        "no password set",
        "password sign-in is off",
        "reset link emailed",
    ] {
        assert!(
            details.iter().any(|d| d == reason),
            "{reason} in {details:?}"
        );
    }
}

#[actix_web::test]
async fn reset_requests_are_throttled_per_address_the_same_for_every_address() {
    let Some(smtp) = SmtpServer::start() else {
        return;
    };
    let app = mail_app(&smtp).await;
    enrolled_staff(&app, "real@example.com").await;
    for email in ["real@example.com", "unknown@example.com"] {
        let mut b = app.browser();
        let mut statuses = Vec::new();
        for _ in 0..7 {
            statuses.push(ask_reset(&mut b, "", email).await.status);
        }
        assert_eq!(&statuses[..5], &[StatusCode::SEE_OTHER; 5], "{email}");
        assert_eq!(
            statuses[6],
            StatusCode::TOO_MANY_REQUESTS,
            "{email}: {statuses:?}"
        );
    }
    smtp.settle().await;
    assert!(smtp.count_subject("real@example.com", "Reset your") <= 6);
    // Many more requests from this address, for many addresses, until its own
    // limit trips.
    let mut b = app.browser();
    let mut last = StatusCode::SEE_OTHER;
    for n in 0..30 {
        last = ask_reset(&mut b, "", &format!("guess{n}@example.com"))
            .await
            .status;
    }
    assert_eq!(
        last,
        StatusCode::TOO_MANY_REQUESTS,
        "the per-address limit holds"
    );
    // Asking for links never throttles a sign-in: not the account's, not the address's.
    let mut c = app.browser();
    let page = c.sign_in(&app, "real@example.com", PASSWORD, None).await;
    assert_eq!(page.location(), "/login/mfa");
    let mut d = app.browser();
    let wrong = d
        .sign_in(&app, "someone@example.com", "wrong password", None)
        .await;
    assert_eq!(
        wrong.status,
        StatusCode::UNAUTHORIZED,
        "a sign-in attempt is not throttled"
    );
}

#[actix_web::test]
async fn a_forged_host_never_changes_a_link_in_an_email() {
    let Some(smtp) = SmtpServer::start() else {
        return;
    };
    // Even a "trusted" proxy's X-Forwarded-Host is not used for links.
    let app = TestApp::with_config(config_with(&format!(
        "trusted_proxies = ['203.0.113.10']\n{}",
        smtp.config()
    )))
    .await;
    enrolled_staff(&app, "ann@example.com").await;
    let forged = [
        ("host", "evil.example"),
        ("x-forwarded-host", "evil.example"),
        ("x-forwarded-proto", "https"),
        ("forwarded", "host=evil.example;proto=https"),
    ];
    let mut b = app.browser();
    b.get("/login/forgot").await;
    let answer = b
        .post_with_headers("/login/forgot", &[("email", "ann@example.com")], &forged)
        .await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER);
    let mail = smtp.wait_subject("ann@example.com", "Reset your", 1).await;
    for link in mail.links() {
        assert!(link.starts_with("http://localhost:8080/"), "{link}");
        assert!(!link.contains("evil"), "{link}");
    }

    // The same for an invitation sent from the admin console.
    let mut admin = crate::common::staff::admin(&app).await;
    admin.get("/admin/users").await;
    let page = admin
        .post_with_headers(
            "/admin/users",
            &[
                ("email", "new@example.com"),
                ("name", ""),
                ("role", "member"),
            ],
            &forged,
        )
        .await;
    assert!(
        page.status.is_success() || page.status.is_redirection(),
        "{}",
        page.status
    );
    let invite = smtp.wait_subject("new@example.com", "invitation", 1).await;
    for link in invite.links() {
        assert!(link.starts_with("http://localhost:8080/invite/"), "{link}");
    }
}

#[actix_web::test]
async fn a_dead_mail_server_loses_no_action_and_the_admin_sees_why() {
    let config = config_with(&format!(
        "[smtp]\nhost = '127.0.0.1'\nport = {}\nsecurity = 'none'\nfrom = 'login@gatehouse.test'\n",
        dead_port()
    ));
    // One quick retry, then give up.
    let app = TestApp::with_settings(config, |s| {
        s.mail_retry_delays = vec![Duration::from_millis(200)];
    })
    .await;
    enrolled_staff(&app, "ann@example.com").await;
    let mut admin = crate::common::staff::admin(&app).await;

    // The invitation is made and its link shown, whatever the mail server does.
    admin.get("/admin/users").await;
    let page = admin
        .submit(
            "/admin/users",
            &[
                ("email", "new@example.com"),
                ("name", ""),
                ("role", "member"),
            ],
        )
        .await;
    let link = page
        .input_value("invite-link")
        .unwrap_or_else(|| panic!("invitation link shown: {}", page.body));
    // The reset request answers as always.
    let mut b = app.browser();
    let answer = ask_reset(&mut b, "", "ann@example.com").await;
    assert_eq!(answer.location(), "/login/forgot?sent=1");

    // The outbox retries once, then gives up; the admin sees it with the reason.
    let started = std::time::Instant::now();
    let settled = |kind: &str| {
        app.services
            .mail_status()
            .recent
            .iter()
            .any(|r| r.kind == kind && r.state.label() == "failed")
    };
    while !(settled("invitation") && settled("password reset")) {
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "{:?}",
            app.services.mail_status()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let email_page = admin.get("/admin/email").await;
    assert_eq!(email_page.status, StatusCode::OK);
    assert!(email_page.has("failed"), "{}", email_page.body);
    assert!(email_page.has("new@example.com") && email_page.has("ann@example.com"));
    assert!(
        email_page
            .body
            .to_lowercase()
            .contains("connection refused"),
        "the reason is shown: {}",
        email_page.body
    );
    let status = app.services.mail_status();
    let record = status
        .recent
        .iter()
        .find(|r| r.kind == "invitation")
        .unwrap();
    assert_eq!(record.attempts, 2, "one retry before giving up");
    let dashboard = admin.get("/admin").await;
    assert!(dashboard.has("could not be sent"), "dashboard warns");

    // Nothing the users did was lost: the invitation link works.
    let path = Received::path_of(&link);
    let mut invitee = app.browser();
    assert_eq!(invitee.get(&path).await.status, StatusCode::OK);
    let accepted = invitee
        .post(
            &path,
            &[("password", PASSWORD), ("password_confirm", PASSWORD)],
        )
        .await;
    assert_eq!(accepted.location(), "/mfa/setup");
}
