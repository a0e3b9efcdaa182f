//! Restarting keeps users, factors and sessions; no secret reaches the store file or
//! the logs.

use base64::Engine;

use crate::common::binary::{HttpBrowser, Install, code_now, file_contains};

#[actix_web::test]
async fn restart_keeps_everything_and_secrets_stay_out_of_store_and_logs() {
    let install = Install::with_config("[log]\nformat = 'json'\nlevel = 'debug'\n");
    let server = install.start();
    let link = server.setup_link().expect("setup link");
    let password = "Pa55phrase-that-is-secret";

    let mut browser = HttpBrowser::new(&install.base());
    let page = browser.get(&link).await;
    assert_eq!(page.status, 200);
    let page = browser
        .post(
            &link,
            &[
                ("email", "ann@example.com"),
                ("name", "Ann"),
                ("password", password),
                ("password_confirm", password),
            ],
        )
        .await;
    assert_eq!(page.location, "/mfa/setup");
    let page = browser.get("/mfa/setup").await;
    let secret = page.input_value("secret").unwrap();
    let page = browser
        .submit("/mfa/setup", &[("code", &code_now(&secret, 0))])
        .await;
    assert_eq!(page.status, 200);
    let recovery = page.codes();
    assert_eq!(recovery.len(), 10);
    let enrolled_cookie = browser.cookies["gh_session"].clone();
    assert_eq!(browser.get("/account").await.status, 200);

    // A second sign-in with password + code (the next step's code: skew allows it).
    let mut second = HttpBrowser::new(&install.base());
    second.get("/login").await;
    let page = second
        .post(
            "/login",
            &[("email", "ann@example.com"), ("password", password)],
        )
        .await;
    assert_eq!(page.location, "/login/mfa");
    let pending_cookie = second.cookies["gh_session"].clone();
    let page = second
        .post("/login/mfa", &[("code", &code_now(&secret, 1))])
        .await;
    assert_eq!(page.location, "/account");
    let second_cookie = second.cookies["gh_session"].clone();

    let (stdout, stderr) = server.stop();
    for line in stderr.lines().filter(|l| !l.trim().is_empty()) {
        serde_json::from_str::<serde_json::Value>(line)
            .unwrap_or_else(|_| panic!("log.format = json: {line}"));
    }

    let raw_seed = gatehouse::domain::totp::TotpSecret::from_base32(&secret)
        .unwrap()
        .as_bytes()
        .to_vec();
    let store = install.data_dir().join("gatehouse.redb");
    let mut secrets: Vec<(&str, Vec<u8>)> = vec![
        ("password", password.as_bytes().to_vec()),
        ("TOTP seed (base32)", secret.as_bytes().to_vec()),
        ("TOTP seed (raw)", raw_seed.clone()),
        (
            "TOTP seed (base64)",
            base64::engine::general_purpose::STANDARD
                .encode(&raw_seed)
                .into_bytes(),
        ),
        ("TOTP seed (hex)", hex::encode(&raw_seed).into_bytes()),
        ("session id", enrolled_cookie.as_bytes().to_vec()),
        ("pending session id", pending_cookie.as_bytes().to_vec()),
        ("second session id", second_cookie.as_bytes().to_vec()),
    ];
    for code in &recovery {
        secrets.push(("recovery code", code.as_bytes().to_vec()));
        secrets.push((
            "recovery code (canonical)",
            code.replace('-', "").into_bytes(),
        ));
    }
    let logs = format!("{stdout}\n{stderr}");
    for (what, needle) in &secrets {
        assert!(
            !file_contains(&store, needle),
            "{what} found in the store file"
        );
        let text = String::from_utf8_lossy(needle);
        assert!(!logs.contains(text.as_ref()), "{what} found in the logs");
    }
    let setup_token = link.rsplit('/').next().unwrap();
    assert!(
        !stderr.contains(setup_token),
        "setup token only on stdout, never in log lines"
    );
    assert!(
        stderr.contains("/setup/{token}"),
        "route patterns are logged instead of paths"
    );

    // Restart: the session, the user and the factor are all still there.
    let server = install.start();
    assert!(
        server.setup_link().is_none(),
        "no setup link once an admin exists"
    );
    let page = browser.get("/account").await;
    assert_eq!(page.status, 200, "session survives a restart");
    assert!(page.body.contains("ann@example.com"));
    let shown: serde_json::Value = serde_json::from_str(&install.cli_ok(
        &["--json", "user", "show", "--email", "ann@example.com"],
        "",
    ))
    .unwrap();
    assert_eq!(shown["totp"], true);
    assert_eq!(shown["recovery_codes_left"], 10);
    server.stop();
}

#[test]
fn the_store_refuses_a_foreign_master_key() {
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
    std::fs::remove_file(&key).unwrap();
    let out = install.cli(&["user", "list"], "");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("master key"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !key.exists(),
        "a missing key is never silently replaced for an existing store"
    );

    gatehouse::keys::write_key_file(&key, &[9u8; 32]).unwrap();
    let out = install.cli(&["user", "list"], "");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("does not belong to this store"));
}

/// A log reader that goes away (the reading end of the server's stderr pipe closed)
/// must not wedge the server: SIGTERM still stops it, promptly and cleanly.
#[test]
fn sigterm_stops_the_server_after_its_log_reader_is_gone() {
    use std::io::{Read, Write};
    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};

    let install = Install::new();
    let mut child = Command::new(crate::common::binary::BIN)
        .arg("--config")
        .arg(install.config_path())
        .arg("serve")
        .env_remove("GATEHOUSE_CONFIG")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start gatehouse serve");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        assert!(
            Instant::now() < deadline,
            "the server did not become healthy"
        );
        if let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", install.port)) {
            let _ = stream.write_all(b"GET /healthz HTTP/1.0\r\n\r\n");
            let mut answer = String::new();
            let _ = stream.read_to_string(&mut answer);
            if answer.starts_with("HTTP/1.0 200") || answer.starts_with("HTTP/1.1 200") {
                break;
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    drop(child.stderr.take());
    terminate(&child);
    let status = exit_within_15_s(
        &mut child,
        "the server ignored SIGTERM once nobody read its log",
    );
    assert!(status.success(), "exit status {status}");
}

/// A stop that comes while the server is still starting (its store open, the
/// listener not yet up) ends it cleanly too: SIGTERM is caught from the first moment
/// of `serve`, not only once HTTP answers, which a supervisor or a test that stops
/// the server as soon as it answers could otherwise hit.
#[test]
fn sigterm_while_starting_is_a_clean_stop() {
    use std::io::Read;
    use std::process::{Command, Stdio};

    for _ in 0..3 {
        let install = Install::new();
        let mut child = Command::new(crate::common::binary::BIN)
            .arg("--config")
            .arg(install.config_path())
            .arg("serve")
            .env_remove("GATEHOUSE_CONFIG")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start gatehouse serve");
        // The first log line comes from opening the store, before anything listens.
        let mut stderr = child.stderr.take().unwrap();
        let mut first = [0u8; 1];
        stderr.read_exact(&mut first).unwrap();
        terminate(&child);
        let reader = std::thread::spawn(move || {
            let mut rest = String::new();
            let _ = stderr.read_to_string(&mut rest);
            rest
        });
        let status = exit_within_15_s(
            &mut child,
            "the server did not stop on a SIGTERM sent while it started",
        );
        let log = reader.join().unwrap();
        assert!(status.success(), "exit status {status}; log:\n{log}");
    }
}

/// Sends SIGTERM to `child`.
fn terminate(child: &std::process::Child) {
    let _ = std::process::Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status();
}

/// `child`'s exit status, waiting up to 15 s; kills it and fails with `why` after.
fn exit_within_15_s(child: &mut std::process::Child, why: &str) -> std::process::ExitStatus {
    use std::time::{Duration, Instant};
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{why}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
