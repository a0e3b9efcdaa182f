//! The SSO commands through the real binary, against the fake Entra: configure, test,
//! SSO-only on and off with the server running and stopped — and the client secret
//! never shows up in the store file, the logs or any output.

use crate::common::binary::{Install, file_contains};
use crate::common::fake_entra::FakeEntra;
use crate::common::sso::{CLIENT_ID, CLIENT_SECRET, TENANT};

/// Runs CLI commands (off the runtime thread: the server calls back into the fake
/// Entra, which this runtime serves) and keeps every output for the leak check.
struct Cli<'a> {
    install: &'a Install,
    outputs: Vec<String>,
}

impl Cli<'_> {
    async fn run(&mut self, args: &[&str], stdin: &str) -> (Option<i32>, String) {
        let out = self.install.cli_async(args, stdin).await;
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        self.outputs.push(text.clone());
        (out.status.code(), text)
    }
}

#[actix_web::test]
async fn sso_commands_work_running_and_stopped_and_the_secret_never_leaks() {
    let fake = FakeEntra::start().await;
    fake.add_tenant(TENANT);
    fake.register_app(TENANT, CLIENT_ID, CLIENT_SECRET);
    let install = Install::with_config(&format!(
        "[entra]\nauthority_host = '{}'\nallow_insecure_loopback = true\n[log]\nlevel = 'debug'\n",
        fake.base
    ));
    let mut cli = Cli {
        install: &install,
        outputs: Vec::new(),
    };

    let server = install.start();
    assert_eq!(
        cli.run(
            &[
                "admin",
                "create",
                "--email",
                "ops@contoso.com",
                "--password-stdin"
            ],
            "a long passphrase\n"
        )
        .await
        .0,
        Some(0)
    );
    let secret_line = format!("{CLIENT_SECRET}\n");
    let (code, text) = cli
        .run(
            &[
                "sso",
                "set",
                "--tenant-id",
                TENANT,
                "--client-id",
                CLIENT_ID,
                "--client-secret-stdin",
                "--secret-expires",
                "2027-03-31",
                "--jit",
                "off",
            ],
            &secret_line,
        )
        .await;
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("set, expires on 2027-03-31"), "{text}");
    let (code, text) = cli.run(&["sso-only", "on"], "").await;
    assert_eq!(
        code,
        Some(1),
        "refused before SSO is enabled and tested: {text}"
    );
    assert!(text.contains("cannot be turned on yet"));
    assert_eq!(cli.run(&["sso", "enable"], "").await.0, Some(0));
    let (code, text) = cli.run(&["sso", "test"], "").await;
    assert_eq!(code, Some(0), "{text}");
    assert!(
        text.contains("PASS Client ID and secret") && text.contains("Connection test passed"),
        "{text}"
    );
    assert_eq!(
        cli.run(
            &["user", "break-glass", "on", "--email", "ops@contoso.com"],
            ""
        )
        .await
        .0,
        Some(0)
    );
    let (code, text) = cli.run(&["sso-only", "on"], "").await;
    assert_eq!(code, Some(0), "{text}");
    let (_, text) = cli.run(&["sso", "show"], "").await;
    assert!(
        text.contains("SSO-only:        on") && text.contains("client secret:   set"),
        "{text}"
    );
    let (_, json) = cli.run(&["--json", "sso", "show"], "").await;
    let shown: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(shown["sso_only"], true);
    assert_eq!(shown["client_secret"], "set");

    // Off and on again while running, then off with the server stopped.
    assert_eq!(cli.run(&["sso-only", "off"], "").await.0, Some(0));
    assert_eq!(cli.run(&["sso-only", "on"], "").await.0, Some(0));
    let (stdout, stderr) = server.stop();
    let (code, text) = cli.run(&["sso-only", "off"], "").await;
    assert_eq!(code, Some(0), "{text}");
    let (_, audit) = cli.run(&["audit", "--limit", "10"], "").await;
    assert!(
        audit.contains("SSO-only changed") && audit.contains("staff SSO-only off"),
        "{audit}"
    );
    let (_, text) = cli.run(&["sso", "show"], "").await;
    assert!(text.contains("SSO-only:        off"), "{text}");

    // A wrong secret is explained by the CLI test (server stopped: the CLI tests itself).
    cli.run(&["sso", "set", "--client-secret-stdin"], "not-the-secret\n")
        .await;
    let (code, text) = cli.run(&["sso", "test"], "").await;
    assert_eq!(code, Some(1));
    assert!(text.contains("AADSTS7000215"), "{text}");

    let store = install.data_dir().join("gatehouse.redb");
    assert!(
        !file_contains(&store, CLIENT_SECRET.as_bytes()),
        "secret in the store file"
    );
    assert!(
        !stdout.contains(CLIENT_SECRET) && !stderr.contains(CLIENT_SECRET),
        "secret in the logs"
    );
    for output in &cli.outputs {
        assert!(
            !output.contains(CLIENT_SECRET),
            "secret in CLI output: {output}"
        );
    }
}
