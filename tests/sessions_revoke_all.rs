//! Ending every session of a realm at once — `gatehouse sessions revoke --all
//! [--client SLUG]` (server running or stopped) and the console buttons — and the cap
//! on sessions per user.

use actix_web::http::StatusCode;

use crate::common::binary::{HttpBrowser, Install, code_now};
use crate::common::forward_auth::check;
use crate::common::portal::{onboarded, portals, realm};
use crate::common::{Browser, TestApp};
use gatehouse::domain::audit::AuditKind;
use gatehouse::domain::user::Realm;
use gatehouse::service::admin::AdminActor;
use gatehouse::service::clients::ClientUpdate;
use gatehouse::service::sessions::MAX_SESSIONS_PER_USER;

const STAFF: &str = "/api/authz/auth-request";
const ACME: &str = "/api/authz/auth-request?client=acme";
const BETA: &str = "/api/authz/auth-request?client=beta";

async fn status(browser: &mut Browser, path: &str) -> StatusCode {
    check(browser, path, &[]).await.status
}

/// A staff admin with an authenticator, signed in; returns the browser and secret.
async fn staff(app: &TestApp, email: &str) -> (Browser, String) {
    app.create_admin(email, "correct horse battery").await;
    let mut b = app.browser();
    b.sign_in(app, email, "correct horse battery", None).await;
    let (secret, _) = b.enrol(app).await;
    (b, secret)
}

#[actix_web::test]
async fn the_console_ends_every_session_of_a_realm_and_only_that_realm() {
    let (app, _fake) = portals().await;
    let (mut ann, ann_secret) = staff(&app, "ann@example.com").await;
    let (mut bob, _) = staff(&app, "bob@example.com").await;
    app.next_step();
    let mut ann_laptop = app.browser();
    ann_laptop
        .sign_in(
            &app,
            "ann@example.com",
            "correct horse battery",
            Some(&ann_secret),
        )
        .await;
    let (mut pat, _) = onboarded(&app, "acme", "pat@acme.test", "pats long password").await;
    let (mut bea, _) = onboarded(&app, "beta", "bea@beta.test", "beas long password").await;
    for (browser, path) in [
        (&mut ann, STAFF),
        (&mut ann_laptop, STAFF),
        (&mut bob, STAFF),
        (&mut pat, ACME),
        (&mut bea, BETA),
    ] {
        assert_eq!(status(browser, path).await, StatusCode::OK, "{path}");
    }

    // Without ticking the box nothing happens.
    ann.get("/admin").await;
    let page = ann.post("/admin/sessions/revoke-all", &[]).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert_eq!(status(&mut bob, STAFF).await, StatusCode::OK);

    let page = ann
        .post("/admin/sessions/revoke-all", &[("confirm", "yes")])
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "POST-redirect-GET");
    let page = ann.get(page.location()).await;
    assert!(page.has("2 session(s) ended"), "{}", page.body);
    // Every other staff session ended at once; the admin's own and the portals' stay.
    assert_eq!(
        status(&mut ann_laptop, STAFF).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(status(&mut bob, STAFF).await, StatusCode::UNAUTHORIZED);
    assert_eq!(status(&mut ann, STAFF).await, StatusCode::OK);
    assert_eq!(status(&mut pat, ACME).await, StatusCode::OK);
    assert_eq!(status(&mut bea, BETA).await, StatusCode::OK);
    let (_, event) = app.services.audit_log(1, None).unwrap().remove(0);
    assert_eq!(event.kind, AuditKind::SessionsRevoked);
    assert_eq!(event.realm, Some(Realm::Staff));
    assert_eq!(event.actor_email, "ann@example.com");

    // A client's page: only that portal's sessions end.
    let page = ann.get("/admin/clients/acme").await;
    assert!(page.has("End all sessions"));
    let page = ann
        .post("/admin/clients/acme/do/revoke-sessions", &[])
        .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert_eq!(status(&mut pat, ACME).await, StatusCode::OK);
    let page = ann
        .submit(
            "/admin/clients/acme/do/revoke-sessions",
            &[("confirm", "yes")],
        )
        .await;
    assert!(page.has("1 session(s) ended"), "{}", page.body);
    assert_eq!(status(&mut pat, ACME).await, StatusCode::UNAUTHORIZED);
    assert_eq!(status(&mut bea, BETA).await, StatusCode::OK);
    assert_eq!(status(&mut ann, STAFF).await, StatusCode::OK);
    let (_, event) = app.services.audit_log(1, None).unwrap().remove(0);
    assert_eq!(
        (event.kind, event.realm),
        (AuditKind::SessionsRevoked, Some(realm(&app, "acme")))
    );
}

#[actix_web::test]
async fn starting_one_session_too_many_ends_the_oldest() {
    let (app, _fake) = portals().await;
    app.services
        .update_client(
            AdminActor::cli(),
            "acme".into(),
            ClientUpdate {
                mfa_required: Some(false),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let (mut first, secret) = onboarded(&app, "acme", "pat@acme.test", "pats long password").await;
    assert!(secret.is_none(), "password-only portal");
    let mut devices = Vec::new();
    for _ in 1..MAX_SESSIONS_PER_USER {
        app.clock.advance(1);
        let mut device = app.browser();
        device
            .sign_in_at("/p/acme", &app, "pat@acme.test", "pats long password", None)
            .await;
        devices.push(device);
    }
    let pat = app
        .services
        .user_by_email(realm(&app, "acme"), "pat@acme.test")
        .unwrap();
    assert_eq!(
        app.services.count_sessions_of_user(pat.id).await.unwrap(),
        MAX_SESSIONS_PER_USER
    );
    assert_eq!(status(&mut first, ACME).await, StatusCode::OK);

    app.clock.advance(1);
    let mut newest = app.browser();
    newest
        .sign_in_at("/p/acme", &app, "pat@acme.test", "pats long password", None)
        .await;
    assert_eq!(
        app.services.count_sessions_of_user(pat.id).await.unwrap(),
        MAX_SESSIONS_PER_USER,
        "capped"
    );
    assert_eq!(
        status(&mut first, ACME).await,
        StatusCode::UNAUTHORIZED,
        "oldest ended"
    );
    assert_eq!(status(&mut newest, ACME).await, StatusCode::OK);
    for device in &mut devices {
        assert_eq!(status(device, ACME).await, StatusCode::OK);
    }
}

/// Signs `email` in to the staff pages of the real server, enrolling TOTP.
async fn staff_session(install: &Install, email: &str) -> HttpBrowser {
    let mut b = HttpBrowser::new(&install.base());
    b.get("/login").await;
    let answer = b
        .post(
            "/login",
            &[("email", email), ("password", "a long passphrase")],
        )
        .await;
    assert_eq!(answer.location, "/mfa/setup", "{}", answer.status);
    let page = b.get("/mfa/setup").await;
    let secret = page.input_value("secret").expect("secret on the page");
    let answer = b
        .submit("/mfa/setup", &[("code", &code_now(&secret, 0))])
        .await;
    assert_eq!(answer.status, 200);
    b
}

#[actix_web::test]
async fn sessions_revoke_all_from_the_command_line_running_and_stopped() {
    let install = Install::new();
    let server = install.start();
    install.cli_ok(
        &[
            "admin",
            "create",
            "--email",
            "ops@example.com",
            "--password-stdin",
        ],
        "a long passphrase\n",
    );
    install.cli_ok(&["client", "add", "--slug", "acme", "--name", "Acme"], "");
    install.cli_ok(&["client", "set", "acme", "--mfa-required", "off"], "");
    let invite = install.cli_ok(
        &[
            "user",
            "invite",
            "--client",
            "acme",
            "--email",
            "pat@acme.test",
        ],
        "",
    );
    let link = invite
        .lines()
        .find(|l| l.starts_with("http"))
        .expect("invitation link")
        .to_owned();
    let mut ops = staff_session(&install, "ops@example.com").await;
    let mut pat = HttpBrowser::new(&install.base());
    pat.get(&link).await;
    let answer = pat
        .post(
            &link,
            &[
                ("password", "pats long password"),
                ("password_confirm", "pats long password"),
            ],
        )
        .await;
    assert_eq!(answer.location, "/p/acme/account", "{}", answer.body);
    assert_eq!(ops.get(STAFF).await.status, 200);
    assert_eq!(pat.get(ACME).await.status, 200);

    // Through the admin socket: the staff realm only.
    let out = install.cli_ok(&["sessions", "revoke", "--all"], "");
    assert!(
        out.contains("Ended 1 session(s) of the staff realm"),
        "{out}"
    );
    assert_eq!(ops.get(STAFF).await.status, 401, "next check refused");
    assert_eq!(pat.get(ACME).await.status, 200, "other realms untouched");

    // `--all` is required: there is no implicit bulk revocation.
    let refused = install.cli(&["sessions", "revoke"], "");
    assert!(!refused.status.success());

    // With the server stopped, on the store directly.
    server.stop();
    let out = install.cli_ok(&["sessions", "revoke", "--all", "--client", "acme"], "");
    assert!(
        out.contains("Ended 1 session(s) of client acme's portal"),
        "{out}"
    );
    let _server = install.start();
    assert_eq!(pat.get(ACME).await.status, 401);
    let audit = install.cli_ok(&["audit"], "");
    assert_eq!(
        audit.matches("every session of the realm").count(),
        2,
        "{audit}"
    );
}
