//! `gatehouse user remove` and `gatehouse user set-email` through the real binary, on a
//! stopped server (direct store access) and on a running one (admin socket): the
//! address is free again after a removal, a taken address is refused clearly, the last
//! admin stays, and a removed user's live session is refused at the next request,
//! forward-auth included.

use crate::common::binary::{HttpBrowser, Install, code_now};

fn json(install: &Install, args: &[&str]) -> serde_json::Value {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    serde_json::from_str(&install.cli_ok(&all, "")).unwrap()
}

fn failure(install: &Install, args: &[&str]) -> String {
    let out = install.cli(args, "");
    assert_eq!(out.status.code(), Some(1), "{args:?} must fail");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Removal and email changes with their guards; the same on a stopped and a running
/// server. Expects the staff admin ops@example.com to exist.
fn exercise_removal_commands(install: &Install) {
    install.cli_ok(&["user", "invite", "--email", "bob@example.com"], "");
    install.cli_ok(&["client", "add", "--slug", "acme", "--name", "Acme"], "");
    install.cli_ok(
        &[
            "user",
            "invite",
            "--email",
            "bob@example.com",
            "--client",
            "acme",
        ],
        "",
    );

    // set-email: case-insensitive uniqueness per realm, a clear refusal.
    let err = failure(
        install,
        &[
            "user",
            "set-email",
            "--email",
            "bob@example.com",
            "--new-email",
            "OPS@Example.com",
        ],
    );
    assert!(err.contains("already has the address"), "{err}");
    let err = failure(
        install,
        &[
            "user",
            "set-email",
            "--email",
            "bob@example.com",
            "--new-email",
            "not an address",
        ],
    );
    assert!(err.contains("New email"), "{err}");
    let out = install.cli_ok(
        &[
            "user",
            "set-email",
            "--email",
            "bob@example.com",
            "--new-email",
            "Robert@Example.com",
        ],
        "",
    );
    assert!(
        out.contains("bob@example.com is now robert@example.com"),
        "{out}"
    );
    let bob = json(install, &["user", "show", "--email", "robert@example.com"]);
    assert_eq!(bob["status"], "invited");
    assert!(
        install
            .cli(&["user", "show", "--email", "bob@example.com"], "")
            .status
            .code()
            == Some(1)
    );
    // The portal's bob is another realm: untouched, and the address may be used there.
    let portal_bob = json(
        install,
        &[
            "user",
            "show",
            "--email",
            "bob@example.com",
            "--client",
            "acme",
        ],
    );
    assert_eq!(portal_bob["email"], "bob@example.com");

    // remove: the address can be invited again; the audit keeps the event.
    let removed = json(
        install,
        &["user", "remove", "--email", "robert@example.com"],
    );
    assert_eq!(removed["removed"]["email"], "robert@example.com");
    assert_eq!(removed["links_revoked"], 1, "the open invitation went too");
    let err = failure(install, &["user", "show", "--email", "robert@example.com"]);
    assert!(err.contains("No such user"), "{err}");
    let out = install.cli_ok(&["user", "invite", "--email", "robert@example.com"], "");
    assert!(out.contains("/invite/"), "the address is free again: {out}");
    install.cli_ok(
        &[
            "user",
            "remove",
            "--email",
            "bob@example.com",
            "--client",
            "acme",
        ],
        "",
    );
    let users = json(install, &["user", "list", "--client", "acme"]);
    assert_eq!(users.as_array().unwrap().len(), 0);

    // Guards.
    let err = failure(install, &["user", "remove", "--email", "ops@example.com"]);
    assert!(err.contains("last active staff admin"), "{err}");
    let err = failure(
        install,
        &["user", "remove", "--email", "nobody@example.com"],
    );
    assert!(err.contains("No such user"), "{err}");

    let audit = install.cli_ok(&["audit", "--limit", "20"], "");
    assert!(
        audit.contains("user removed") && audit.contains("robert@example.com"),
        "{audit}"
    );
    assert!(audit.contains("email changed"), "{audit}");
}

fn create_ops(install: &Install) {
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
}

#[test]
fn remove_and_set_email_work_on_a_stopped_server() {
    let install = Install::new();
    create_ops(&install);
    exercise_removal_commands(&install);
}

#[actix_web::test]
async fn remove_and_set_email_work_on_a_running_server_and_end_live_sessions() {
    let install = Install::new();
    let server = install.start();
    create_ops(&install);
    exercise_removal_commands(&install);

    // A second admin signs in and is checked by forward-auth; then removed.
    install.cli_ok(
        &[
            "admin",
            "create",
            "--email",
            "amy@example.com",
            "--password-stdin",
        ],
        "a long passphrase\n",
    );
    let mut amy = HttpBrowser::new(&install.base());
    amy.get("/login").await;
    let page = amy
        .post(
            "/login",
            &[
                ("email", "amy@example.com"),
                ("password", "a long passphrase"),
            ],
        )
        .await;
    assert_eq!(page.location, "/mfa/setup");
    let secret = amy.get("/mfa/setup").await.input_value("secret").unwrap();
    let page = amy
        .submit("/mfa/setup", &[("code", &code_now(&secret, 0))])
        .await;
    assert_eq!(page.codes().len(), 10);
    assert_eq!(amy.get("/account").await.status, 200);
    assert_eq!(amy.get("/api/authz/auth-request").await.status, 200);

    let out = install.cli_ok(&["user", "remove", "--email", "amy@example.com"], "");
    assert!(out.contains("1 session(s) ended"), "{out}");
    assert_eq!(
        amy.get("/api/authz/auth-request").await.status,
        401,
        "forward-auth refuses the removed user's session at once"
    );
    assert_eq!(amy.get("/account").await.status, 303, "signed out");
    let (_, stderr) = server.stop();
    assert!(
        stderr.contains("user removed"),
        "the running server did the work (its audit log line)"
    );
}
