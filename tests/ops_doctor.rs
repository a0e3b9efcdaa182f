//! `gatehouse doctor` through the real binary: one line per finding, exit code 1 on
//! errors, JSON for scripts, the same answers with the server running or stopped.

use std::os::unix::fs::PermissionsExt;

use crate::common::binary::{HttpBrowser, Install};

fn doctor(install: &Install) -> (i32, serde_json::Value) {
    let out = install.cli(&["--json", "doctor"], "");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| panic!("JSON: {}", String::from_utf8_lossy(&out.stdout)));
    (out.status.code().unwrap(), report)
}

/// The finding of `check` (the first, when there are several).
fn finding<'a>(report: &'a serde_json::Value, check: &str) -> &'a serde_json::Value {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["check"] == check)
        .unwrap_or_else(|| panic!("no {check} finding in {report}"))
}

fn level<'a>(report: &'a serde_json::Value, check: &str) -> &'a str {
    finding(report, check)["level"].as_str().unwrap()
}

fn message<'a>(report: &'a serde_json::Value, check: &str) -> &'a str {
    finding(report, check)["message"].as_str().unwrap()
}

#[test]
fn doctor_reports_a_healthy_install_running_or_stopped() {
    let install = Install::new();
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
    install.cli_ok(
        &["user", "break-glass", "on", "--email", "ops@example.com"],
        "",
    );

    let text = install.cli_ok(&["doctor"], "");
    for line in text.lines() {
        assert!(
            line.starts_with("ok    ") || line.starts_with("warn  ") || line.starts_with("error "),
            "one finding per line with its level: {line}"
        );
    }
    assert!(text.contains("every page checksum verified"), "{text}");
    assert!(
        text.contains("1 break-glass account(s): ops@example.com (active)"),
        "{text}"
    );
    assert!(
        text.contains("1 active staff admin(s): ops@example.com"),
        "{text}"
    );

    let (code, report) = doctor(&install);
    assert_eq!(code, 0, "{report}");
    assert_eq!(report["ok"], true);
    for check in [
        "config",
        "data-dir",
        "master-key",
        "store-file",
        "store",
        "schema",
        "admins",
        "break-glass",
        "clock",
    ] {
        assert_eq!(level(&report, check), "ok", "{check}: {report}");
    }

    let server = install.start();
    let (code, report) = doctor(&install);
    assert_eq!(code, 0, "{report}");
    let store = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["check"] == "store")
        .unwrap();
    assert!(
        store["message"]
            .as_str()
            .unwrap()
            .contains("server is running"),
        "{store}"
    );
    assert_eq!(level(&report, "admins"), "ok");
    server.stop();
}

#[test]
fn doctor_fails_on_a_readable_key_and_a_bad_configuration() {
    let install = Install::new();
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
    let key = install.data_dir().join("master.key");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    std::fs::set_permissions(install.data_dir(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let (code, report) = doctor(&install);
    assert_eq!(code, 1, "{report}");
    assert_eq!(report["ok"], false);
    assert_eq!(level(&report, "master-key"), "error");
    assert_eq!(level(&report, "data-dir"), "warn");
    let text = String::from_utf8_lossy(&install.cli(&["doctor"], "").stdout).into_owned();
    assert!(text.contains("error master-key:"), "{text}");
    assert!(text.contains("chmod 600"), "{text}");

    let broken = Install::with_config("listen = 'not an address'\n");
    let out = broken.cli(&["doctor"], "");
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("error config:"), "{text}");
}

#[test]
fn doctor_on_a_fresh_install_warns_but_passes() {
    let install = Install::new();
    let (code, report) = doctor(&install);
    assert_eq!(code, 0, "{report}");
    assert_eq!(level(&report, "store"), "warn");
    assert_eq!(level(&report, "data-dir"), "warn");
    assert!(!install.data_dir().exists(), "doctor creates nothing");
}

#[test]
fn doctor_reports_expiring_secrets_and_untested_sso() {
    let install = crate::common::binary::Install::new();
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
    let day = |offset: i64| {
        let date = time::OffsetDateTime::now_utc().date() + time::Duration::days(offset);
        date.format(time::macros::format_description!("[year]-[month]-[day]"))
            .unwrap()
    };
    let soon = day(10);
    let past = day(-3);
    install.cli_ok(
        &[
            "sso",
            "set",
            "--tenant-id",
            "11111111-2222-4333-8444-555555555555",
            "--client-id",
            "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee",
            "--client-secret-stdin",
            "--secret-expires",
            &soon,
        ],
        "staff-secret\n",
    );
    install.cli_ok(&["sso", "enable"], "");
    install.cli_ok(
        &[
            "portal-app",
            "set",
            "--client-id",
            "cccccccc-1111-4222-8333-444444444444",
            "--client-secret-stdin",
            "--secret-expires",
            &past,
        ],
        "portal-secret\n",
    );
    let out = install.cli(&["doctor"], "");
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(1),
        "an expired secret is an error:\n{text}"
    );
    assert!(
        text.lines().any(|l| l.starts_with("warn")
            && l.contains(&format!(
                "staff sign-in app client secret expires on {soon}"
            ))),
        "{text}"
    );
    assert!(
        text.lines().any(|l| l.starts_with("error")
            && l.contains(&format!("portal app client secret EXPIRED on {past}"))),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.starts_with("warn") && l.contains("never tested")),
        "{text}"
    );
    let json: serde_json::Value =
        serde_json::from_slice(&install.cli(&["--json", "doctor"], "").stdout).unwrap();
    assert!(json.to_string().contains("secret expiry"), "{json}");
}

#[actix_web::test]
async fn doctor_warns_when_a_peer_outside_trusted_proxies_sends_x_forwarded_for() {
    // A proxy on this host that nobody added to trusted_proxies.
    let install = Install::with_config("trusted_proxies = []");
    let server = install.start();
    let (_, report) = doctor(&install);
    assert_eq!(level(&report, "forwarding"), "ok", "{report}");

    let mut visitor = HttpBrowser::new(&install.base());
    let answer = visitor
        .get_with("/healthz", &[("x-forwarded-for", "198.51.100.7")])
        .await;
    assert_eq!(answer.status, 200);
    let (code, report) = doctor(&install);
    assert_eq!(code, 0, "a warning, not an error: {report}");
    assert_eq!(level(&report, "forwarding"), "warn", "{report}");
    let said = message(&report, "forwarding");
    assert!(
        said.contains("127.0.0.1") && said.contains("trusted_proxies"),
        "{said}"
    );
    let (_, stderr) = server.stop();
    assert!(
        stderr.contains("X-Forwarded-For from a peer not in trusted_proxies"),
        "{stderr}"
    );
}
