//! The CLI on a stopped server (direct store access) and on a running one (admin
//! socket), through the real binary.

use std::os::unix::fs::PermissionsExt;

use crate::common::binary::{HttpBrowser, Install, code_now};

/// Every user command, with checks of its effect; the same on a stopped and a running
/// server.
fn exercise_user_commands(install: &Install) {
    let out = install.cli_ok(
        &[
            "user",
            "invite",
            "--email",
            "bob@example.com",
            "--name",
            "Bob",
        ],
        "",
    );
    assert!(out.contains("/invite/"), "{out}");
    let list: serde_json::Value =
        serde_json::from_str(&install.cli_ok(&["--json", "user", "list"], "")).unwrap();
    let emails: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["email"].as_str().unwrap())
        .collect();
    assert_eq!(emails, ["bob@example.com", "ops@example.com"]);

    install.cli_ok(
        &[
            "user",
            "set-role",
            "--email",
            "bob@example.com",
            "--role",
            "admin",
        ],
        "",
    );
    install.cli_ok(
        &["user", "break-glass", "on", "--email", "ops@example.com"],
        "",
    );
    install.cli_ok(&["user", "disable", "--email", "bob@example.com"], "");
    let bob: serde_json::Value = serde_json::from_str(&install.cli_ok(
        &["--json", "user", "show", "--email", "bob@example.com"],
        "",
    ))
    .unwrap();
    assert_eq!(bob["status"], "disabled");
    assert_eq!(bob["role"], "admin");
    install.cli_ok(&["user", "enable", "--email", "bob@example.com"], "");
    install.cli_ok(
        &[
            "user",
            "set-role",
            "--email",
            "bob@example.com",
            "--role",
            "member",
        ],
        "",
    );
    install.cli_ok(&["user", "reset-mfa", "--email", "ops@example.com"], "");
    install.cli_ok(
        &["user", "revoke-sessions", "--email", "ops@example.com"],
        "",
    );
    let ops = install.cli_ok(&["user", "show", "--email", "ops@example.com"], "");
    assert!(ops.contains("break-glass:    yes"), "{ops}");
    install.cli_ok(
        &["user", "break-glass", "off", "--email", "ops@example.com"],
        "",
    );

    let audit = install.cli_ok(&["audit", "--limit", "30"], "");
    for event in [
        "user created",
        "user invited",
        "role changed",
        "break-glass changed",
        "user disabled",
        "user enabled",
        "MFA reset",
        "sessions revoked",
    ] {
        assert!(audit.contains(event), "{event} in:\n{audit}");
    }
    assert!(audit.contains("cli"), "the CLI is the actor");
    let audit: serde_json::Value =
        serde_json::from_str(&install.cli_ok(&["--json", "audit", "--limit", "3"], "")).unwrap();
    assert_eq!(audit.as_array().unwrap().len(), 3);

    // Errors: clear message, exit code 1, nothing changed.
    let out = install.cli(&["user", "disable", "--email", "nobody@example.com"], "");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("No such user"));
    let out = install.cli(&["user", "disable", "--email", "ops@example.com"], "");
    assert_eq!(out.status.code(), Some(1), "last admin guard");
    let out = install.cli(&["user", "show", "--email", "not an email"], "");
    assert_eq!(out.status.code(), Some(1));
    let out = install.cli(
        &[
            "admin",
            "create",
            "--email",
            "x@example.com",
            "--password-stdin",
        ],
        "short\n",
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("at least 8"));
    let out = install.cli(
        &[
            "admin",
            "create",
            "--email",
            "x@example.com",
            "--password-stdin",
        ],
        "",
    );
    assert_ne!(out.status.code(), Some(0), "empty stdin refused");
    let out = install.cli(
        &[
            "admin",
            "create",
            "--email",
            "ops@example.com",
            "--password-stdin",
        ],
        "a long passphrase\n",
    );
    assert_eq!(out.status.code(), Some(1), "duplicate admin refused");
}

#[test]
fn manages_users_on_a_stopped_server() {
    let install = Install::new();
    let out = install.cli_ok(
        &[
            "admin",
            "create",
            "--email",
            "ops@example.com",
            "--name",
            "Ops",
            "--password-stdin",
        ],
        "a long passphrase\n",
    );
    assert!(out.contains("Created staff admin ops@example.com"), "{out}");
    exercise_user_commands(&install);
}

#[test]
fn the_same_commands_work_on_a_running_server() {
    let install = Install::new();
    let server = install.start();
    install.cli_ok(
        &[
            "admin",
            "create",
            "--email",
            "ops@example.com",
            "--name",
            "Ops",
            "--password-stdin",
        ],
        "a long passphrase\n",
    );
    exercise_user_commands(&install);
    let (_, stderr) = server.stop();
    assert!(
        stderr.contains("user invited"),
        "the running server did the work (its audit log line)"
    );
}

#[test]
fn passwords_are_never_taken_from_arguments() {
    let install = Install::new();
    let out = install.cli(
        &[
            "admin",
            "create",
            "--email",
            "x@example.com",
            "--password",
            "hunter22hunter22",
        ],
        "",
    );
    assert_ne!(out.status.code(), Some(0));
    let out = install.cli(
        &["admin", "create", "--email", "x@example.com"],
        "a long passphrase\n",
    );
    assert_ne!(out.status.code(), Some(0), "--password-stdin is required");
}

#[actix_web::test]
async fn manages_users_on_a_running_server_through_the_socket() {
    let install = Install::new();
    let server = install.start();
    let setup_link = server.setup_link().expect("setup link printed");
    let socket = install.data_dir().join("admin.sock");
    assert_eq!(
        std::fs::metadata(&socket).unwrap().permissions().mode() & 0o777,
        0o600
    );

    // The store is held by the server: this only works through the socket.
    let out = install.cli_ok(
        &[
            "admin",
            "create",
            "--email",
            "ops@example.com",
            "--password-stdin",
        ],
        "a long passphrase\n",
    );
    assert!(out.contains("Created staff admin"));

    // The CLI-made admin signs in over HTTP and enrols TOTP first.
    let mut browser = HttpBrowser::new(&install.base());
    assert_eq!(
        browser.get(&setup_link).await.status,
        404,
        "creating an admin retired the setup link"
    );
    browser.get("/login").await;
    let page = browser
        .post(
            "/login",
            &[
                ("email", "ops@example.com"),
                ("password", "a long passphrase"),
            ],
        )
        .await;
    assert_eq!(page.location, "/mfa/setup");
    let secret = browser
        .get("/mfa/setup")
        .await
        .input_value("secret")
        .unwrap();
    let page = browser
        .submit("/mfa/setup", &[("code", &code_now(&secret, 0))])
        .await;
    assert_eq!(page.codes().len(), 10);
    assert_eq!(browser.get("/account").await.status, 200);

    let out = install.cli_ok(
        &[
            "user",
            "invite",
            "--email",
            "carol@example.com",
            "--role",
            "member",
        ],
        "",
    );
    let link = out
        .lines()
        .find(|l| l.contains("/invite/"))
        .unwrap()
        .trim()
        .to_owned();
    let page = browser.get(&link).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("carol@example.com"));
    install.cli_ok(&["user", "disable", "--email", "carol@example.com"], "");
    assert_eq!(
        browser.get(&link).await.status,
        404,
        "a disabled invitee's link is dead"
    );

    // Revoking the admin's sessions from the CLI signs the browser out at once.
    install.cli_ok(
        &["user", "revoke-sessions", "--email", "ops@example.com"],
        "",
    );
    assert_eq!(browser.get("/account").await.status, 303);
    server.stop();
    assert!(!socket.exists(), "socket removed at shutdown");
}

#[test]
fn check_config_reports_the_key_at_fault() {
    let install = Install::with_config("[session]\nidle_timeout = 'soon'\n");
    let out = install.cli(&["check-config"], "");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("session.idle_timeout"), "{err}");

    let install = Install::with_config("colour = 'blue'\n");
    let out = install.cli(&["check-config"], "");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("colour"));
    let out = install.cli(&["serve"], "");
    assert_eq!(out.status.code(), Some(2), "serve refuses to start too");

    let install = Install::new();
    let out = install.cli_ok(&["check-config"], "");
    assert!(out.contains("configuration OK"), "{out}");
    let out = std::process::Command::new(crate::common::binary::BIN)
        .args(["--config"])
        .arg(install.config_path())
        .arg("check-config")
        .env("GATEHOUSE_LISTEN", "nonsense")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "environment overrides the file");
    assert!(String::from_utf8_lossy(&out.stderr).contains("`listen`"));
}
