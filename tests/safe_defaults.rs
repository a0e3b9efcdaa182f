//! The safe defaults of DESIGN §14, shown on the real binary: metrics stay off the
//! public listener, stray `GATEHOUSE_` variables are ignored with one warning, a bad
//! `log.level` stops start-up, management commands in the wrong folder create
//! nothing, `HEAD` mirrors `GET`, and oversized request headers get a 431.

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Output, Stdio};

use actix_web::http::StatusCode;

use crate::common::binary::{BIN, Install};
use crate::common::{TestApp, config_with};

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn status_of(url: &str) -> u16 {
    runtime().block_on(async {
        reqwest::get(url)
            .await
            .map(|r| r.status().as_u16())
            .unwrap_or(0)
    })
}

/// A raw HTTP/1.0 exchange, so the test sees exactly the bytes the server sends.
fn raw_request(base: &str, request: &str) -> String {
    let mut stream = std::net::TcpStream::connect(base.trim_start_matches("http://")).unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    answer
}

/// The status code of a raw response.
fn status_line(answer: &str) -> &str {
    answer.split_whitespace().nth(1).unwrap_or("")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn metrics_are_served_on_their_own_listener_and_not_on_the_main_one() {
    let install = Install::new();
    let server = install.start();
    assert_eq!(status_of(&format!("{}/metrics", install.base())), 404);
    let metrics = format!("http://127.0.0.1:{}/metrics", install.metrics_port);
    assert_eq!(status_of(&metrics), 200);
    server.stop();
}

#[test]
fn without_any_metrics_setting_metrics_listen_on_loopback_9464_only() {
    let install = Install::new();
    let config = std::fs::read_to_string(install.config_path()).unwrap();
    let without_metrics = config.split("[metrics]").next().unwrap().to_owned();
    std::fs::write(install.config_path(), without_metrics).unwrap();

    let out = install.cli_ok(&["check-config", "--json"], "");
    let settings: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(settings["metrics"]["listen"], "127.0.0.1:9464", "{out}");
    assert_eq!(settings["metrics"]["public"], false, "{out}");

    let server = install.start();
    assert_eq!(status_of(&format!("{}/metrics", install.base())), 404);
    // The default port may be taken on this machine: then metrics are missing with a
    // warning, and the server runs all the same.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while !server.stderr().contains("metrics") && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let log = server.stderr();
    if log.contains("metrics are served on their own listener") {
        assert_eq!(status_of("http://127.0.0.1:9464/metrics"), 200);
    } else {
        assert!(log.contains("no metrics listener"), "{log}");
    }
    server.stop();
}

#[actix_web::test]
async fn the_main_listener_serves_metrics_only_when_public() {
    let app = TestApp::new().await;
    let mut browser = app.browser();
    assert_eq!(browser.get("/metrics").await.status, StatusCode::NOT_FOUND);
    let app = TestApp::with_config(config_with("[metrics]\npublic = true\n")).await;
    let mut browser = app.browser();
    assert_eq!(browser.get("/metrics").await.status, StatusCode::OK);
}

#[test]
fn stray_gatehouse_variables_start_fine_with_one_warning_line() {
    let install = Install::new();
    let server = install.start_with_env(&[
        ("GATEHOUSE_PORT", "tcp://10.0.0.1:8080"),
        ("GATEHOUSE_PORT_8080_TCP_ADDR", "10.0.0.1"),
        ("GATEHOUSE_E2E_BIN", "/opt/secret-path/gatehouse"),
    ]);
    let (_, stderr) = server.stop();
    let warnings: Vec<&str> = stderr.lines().filter(|l| l.contains("WARN")).collect();
    assert_eq!(warnings.len(), 1, "{stderr}");
    for name in [
        "GATEHOUSE_PORT",
        "GATEHOUSE_PORT_8080_TCP_ADDR",
        "GATEHOUSE_E2E_BIN",
    ] {
        assert!(warnings[0].contains(name), "{}", warnings[0]);
    }
    assert!(
        !stderr.contains("10.0.0.1") && !stderr.contains("secret-path"),
        "no values: {stderr}"
    );

    // A variable naming a key is still configuration, and still checked.
    let out = Command::new(BIN)
        .arg("--config")
        .arg(install.config_path())
        .arg("check-config")
        .env_remove("GATEHOUSE_CONFIG")
        .env("GATEHOUSE_PORT", "tcp://10.0.0.1:8080")
        .env("GATEHOUSE_LOG__LEVEL", "verbose")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("log.level"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn a_bad_log_level_stops_start_up_naming_the_key() {
    let install = Install::with_config("[log]\nlevel = 'verbose'\n");
    for command in ["serve", "check-config"] {
        let out = install.cli(&[command], "");
        assert_eq!(out.status.code(), Some(2), "{command}");
        let err = text(&out.stderr);
        assert!(
            err.contains("`log.level`") && err.contains("verbose"),
            "{err}"
        );
    }
    assert!(
        !install.data_dir().exists(),
        "serve stopped before creating anything"
    );
}

#[test]
fn check_config_prints_every_effective_setting() {
    let install = Install::with_config("[forward_auth]\nremote_user = 'email'\n");
    let out = install.cli_ok(&["check-config"], "");
    for key in [
        "listen",
        "public_url",
        "data_dir",
        "master_key_file",
        "trusted_proxies",
        "cookie_domain",
        "session.idle_timeout",
        "session.absolute_timeout",
        "entra.authority_host",
        "entra.allow_insecure_loopback",
        "forward_auth.allowed_hosts",
        "forward_auth.remote_user",
        "tls.cert",
        "tls.key",
        "log.format",
        "log.level",
        "metrics.listen",
        "metrics.public",
    ] {
        assert!(
            out.lines()
                .any(|l| l.trim_start().starts_with(&format!("{key} "))),
            "{key} missing from:\n{out}"
        );
    }
    assert!(out.contains("= 30m") && out.contains("= 12h"), "{out}");
    assert!(
        out.contains(&install.config_path().display().to_string()),
        "{out}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&install.cli_ok(&["check-config", "--json"], "")).unwrap();
    assert_eq!(json["forward_auth"]["remote_user"], "email");
    assert_eq!(json["session"]["idle_timeout"], "30m");
    assert_eq!(json["log"]["level"], "info");
    assert_eq!(json["tls"]["cert"], serde_json::Value::Null);
}

/// Every file and directory under `dir`.
fn contents(dir: &Path) -> Vec<String> {
    let mut all = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        all.push(path.display().to_string());
        if path.is_dir() {
            all.extend(contents(&path));
        }
    }
    all
}

fn gatehouse_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .current_dir(dir)
        .args(args)
        .env_remove("GATEHOUSE_CONFIG")
        .env_remove("GATEHOUSE_DATA_DIR")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

#[test]
fn management_commands_in_an_empty_folder_create_nothing_and_say_where_they_looked() {
    let folder = tempfile::tempdir().unwrap();
    let here = folder.path().canonicalize().unwrap();
    for args in [
        &["user", "list"][..],
        &["user", "invite", "--email", "new@example.com"],
        &["client", "list"],
        &["sso", "show"],
        &["sso-only", "off"],
        &["audit"],
    ] {
        let out = gatehouse_in(&here, args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = text(&out.stderr);
        assert!(
            err.contains(
                &here
                    .join("data")
                    .join("gatehouse.redb")
                    .display()
                    .to_string()
            ),
            "{args:?}: {err}"
        );
        assert!(err.contains("no configuration file"), "{args:?}: {err}");
        assert!(!text(&out.stdout).contains("user(s)"), "{args:?}");
        assert_eq!(
            contents(&here),
            Vec::<String>::new(),
            "{args:?} created files"
        );
    }

    // With a configuration file naming a data directory that has no store: the same,
    // and the message names the file.
    let install = Install::new();
    let out = install.cli(&["user", "list"], "");
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains(&install.config_path().display().to_string()),
        "{err}"
    );
    assert!(
        err.contains(&install.data_dir().display().to_string()),
        "{err}"
    );
    assert!(!install.data_dir().exists());

    // The scripted first install still creates the store, and then the rest works.
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
    assert!(
        install
            .cli_ok(&["user", "list"], "")
            .contains("ops@example.com")
    );
}

#[test]
fn serve_says_where_its_data_is() {
    let install = Install::new();
    let server = install.start();
    let (_, stderr) = server.stop();
    let line = stderr
        .lines()
        .find(|l| l.contains("data location"))
        .unwrap_or_else(|| panic!("{stderr}"));
    let data = install.data_dir();
    assert!(line.contains(&data.display().to_string()), "{line}");
    assert!(
        line.contains(&data.join("gatehouse.redb").display().to_string()),
        "{line}"
    );
    assert!(
        line.contains(&data.join("master.key").display().to_string()),
        "{line}"
    );
    assert!(
        line.contains(&install.config_path().display().to_string()),
        "{line}"
    );
}

#[test]
fn head_is_answered_wherever_get_is_without_a_body() {
    let install = Install::new();
    let server = install.start();
    let get = raw_request(&server.base, "GET /healthz HTTP/1.0\r\n\r\n");
    let head = raw_request(&server.base, "HEAD /healthz HTTP/1.0\r\n\r\n");
    assert_eq!(status_line(&head), "200", "{head}");
    assert!(head.ends_with("\r\n\r\n"), "no body: {head:?}");
    let (get_head, get_body) = get.split_once("\r\n\r\n").unwrap();
    assert!(!get_body.is_empty());
    let header_names = |head: &str| {
        let mut names: Vec<String> = head
            .lines()
            .skip(1)
            .filter_map(|l| l.split_once(':'))
            .map(|(name, value)| match name.to_ascii_lowercase().as_str() {
                "date" => "date".to_owned(),
                other => format!("{other}:{}", value.trim()),
            })
            .collect();
        names.sort();
        names
    };
    assert_eq!(header_names(head.trim_end()), header_names(get_head));

    for path in ["/login", "/assets/gatehouse.css", "/api/authz/auth-request"] {
        let get = raw_request(&server.base, &format!("GET {path} HTTP/1.0\r\n\r\n"));
        let head = raw_request(&server.base, &format!("HEAD {path} HTTP/1.0\r\n\r\n"));
        assert_eq!(get.lines().next(), head.lines().next(), "{path}");
        assert!(head.ends_with("\r\n\r\n"), "{path}: {head:?}");
    }
    let metrics = format!("http://127.0.0.1:{}", install.metrics_port);
    let head = raw_request(&metrics, "HEAD /metrics HTTP/1.0\r\n\r\n");
    assert_eq!(status_line(&head), "200", "{head}");
    assert!(head.ends_with("\r\n\r\n"), "{head:?}");
    server.stop();
}

#[test]
fn oversized_request_headers_are_refused_with_431() {
    let install = Install::new();
    let server = install.start();
    let statuses = runtime().block_on(async {
        let client = reqwest::Client::new();
        let mut statuses = Vec::new();
        for size in [100_000, 40_000, 8_000] {
            let status = client
                .get(format!("{}/healthz", server.base))
                .header("x-filler", "a".repeat(size))
                .send()
                .await
                .map(|r| r.status().as_u16())
                .unwrap_or(0);
            statuses.push(status);
        }
        statuses
    });
    assert_eq!(statuses, [431, 431, 200]);
    server.stop();
}
