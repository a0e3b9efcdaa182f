//! `gatehouse backup` and `restore` through the real binary: online snapshots while
//! writes continue, restores into a stopped server, and every refusal (server running,
//! wrong master key, existing files, junk).

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use gatehouse::domain::user::Realm;
use gatehouse::store::Store;
use gatehouse::store::prelude::*;

use crate::common::binary::Install;

fn create_admin(install: &Install, email: &str) {
    install.cli_ok(
        &["admin", "create", "--email", email, "--password-stdin"],
        "a long passphrase\n",
    );
}

fn invite(install: &Install, email: &str) {
    install.cli_ok(&["user", "invite", "--email", email], "");
}

/// Staff emails as the CLI lists them.
fn emails(install: &Install) -> Vec<String> {
    let list: serde_json::Value =
        serde_json::from_str(&install.cli_ok(&["--json", "user", "list"], "")).unwrap();
    list.as_array()
        .unwrap()
        .iter()
        .map(|u| u["email"].as_str().unwrap().to_owned())
        .collect()
}

/// Staff emails in a store file, read through a copy (opening migrates in place).
fn emails_in(file: &Path) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("copy.redb");
    std::fs::copy(file, &copy).unwrap();
    let store = Store::open(&copy).unwrap();
    let users = store.read(|r| r.users_in_realm(Realm::Staff)).unwrap();
    // One transaction: the email index and the user table agree.
    assert_eq!(store.read(|r| r.count_users()).unwrap(), users.len() as u64);
    users.iter().map(|u| u.email.to_string()).collect()
}

fn stderr_of(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn backups_of_a_running_server_hold_every_write_acknowledged_before_them() {
    let install = Install::new();
    create_admin(&install, "ops@example.com");
    let server = install.start();
    let backups = tempfile::tempdir().unwrap();

    // A writer keeps inviting users through the admin socket; each acknowledged
    // invitation is recorded with the moment it was acknowledged.
    let stop = Arc::new(AtomicBool::new(false));
    let acked: Arc<Mutex<Vec<(Instant, String)>>> = Arc::default();
    let writer = {
        let (stop, acked) = (stop.clone(), acked.clone());
        let config = install.config_path();
        std::thread::spawn(move || {
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                let email = format!("w{n}@example.com");
                let out = std::process::Command::new(crate::common::binary::BIN)
                    .arg("--config")
                    .arg(&config)
                    .args(["user", "invite", "--email", &email])
                    .output()
                    .unwrap();
                assert!(out.status.success(), "{}", stderr_of(&out));
                acked.lock().unwrap().push((Instant::now(), email));
                n += 1;
            }
        })
    };
    while acked.lock().unwrap().len() < 3 {
        std::thread::sleep(Duration::from_millis(10));
    }

    let mut taken: Vec<(Instant, PathBuf)> = Vec::new();
    let first_started = Instant::now();
    while taken.len() < 4 || first_started.elapsed() < Duration::from_secs(1) {
        let file = backups.path().join(format!("b{}.redb", taken.len()));
        let started = Instant::now();
        let out = install.cli_ok(&["backup", file.to_str().unwrap()], "");
        assert!(out.contains("NOT in the backup"), "{out}");
        taken.push((started, file));
    }
    let last_finished = Instant::now();
    stop.store(true, Ordering::Relaxed);
    writer.join().unwrap();

    let acked = acked.lock().unwrap().clone();
    let during = acked
        .iter()
        .filter(|(at, _)| *at > first_started && *at < last_finished)
        .count();
    assert!(
        during > 0,
        "writes kept being acknowledged while backups ran"
    );

    let mut previous = 0;
    for (started, file) in &taken {
        let inside = emails_in(file);
        for (at, email) in &acked {
            if at < started {
                assert!(
                    inside.contains(email),
                    "{email} was acknowledged before {} started but is missing",
                    file.display()
                );
            }
        }
        assert!(
            inside.len() >= previous,
            "later backups hold at least as much"
        );
        previous = inside.len();
        let mode = std::fs::metadata(file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    let leftovers: Vec<_> = std::fs::read_dir(install.data_dir())
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("backup"))
        .collect();
    assert!(leftovers.is_empty(), "staging files removed: {leftovers:?}");
    server.stop();
}

#[test]
fn restore_into_a_stopped_server_keeps_the_replaced_store_and_is_refused_while_running() {
    let install = Install::new();
    create_admin(&install, "ops@example.com");
    invite(&install, "alice@example.com");
    let backups = tempfile::tempdir().unwrap();
    let file = backups.path().join("b.redb");
    let out = install.cli_ok(&["backup", file.to_str().unwrap()], "");
    assert!(out.contains("Backup written to"), "{out}");
    assert!(out.contains("The master key is NOT in the backup"), "{out}");
    invite(&install, "bob@example.com");

    // Refused while the server runs; nothing changes.
    let server = install.start();
    let out = install.cli(&["restore", file.to_str().unwrap()], "");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr_of(&out).contains("server is running"),
        "{}",
        stderr_of(&out)
    );
    assert!(emails(&install).contains(&"bob@example.com".to_owned()));
    server.stop();

    let out = install.cli_ok(&["restore", file.to_str().unwrap()], "");
    assert!(out.contains("Restored"), "{out}");
    assert!(out.contains("gatehouse.redb.bak"), "{out}");
    assert_eq!(emails(&install), ["alice@example.com", "ops@example.com"]);
    let kept = install.data_dir().join("gatehouse.redb.bak");
    assert!(emails_in(&kept).contains(&"bob@example.com".to_owned()));
    let mode = std::fs::metadata(install.data_dir().join("gatehouse.redb"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);

    // The restored store serves: the server starts and answers over its socket.
    let server = install.start();
    assert_eq!(emails(&install), ["alice@example.com", "ops@example.com"]);
    server.stop();
    let doctor = install.cli(&["doctor"], "");
    assert!(
        doctor.status.success(),
        "{}",
        String::from_utf8_lossy(&doctor.stdout)
    );
}

#[test]
fn restore_with_another_master_key_is_refused_until_that_key_is_given() {
    let a = Install::new();
    create_admin(&a, "ann@a.example");
    invite(&a, "amy@a.example");
    let backups = tempfile::tempdir().unwrap();
    let file = backups.path().join("a.redb");
    let key = backups.path().join("a.key");
    let out = a.cli_ok(
        &[
            "backup",
            file.to_str().unwrap(),
            "--with-key",
            key.to_str().unwrap(),
        ],
        "",
    );
    assert!(out.contains("written to"), "{out}");
    assert_eq!(
        std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert_eq!(
        std::fs::read_to_string(&key).unwrap(),
        std::fs::read_to_string(a.data_dir().join("master.key")).unwrap(),
        "same format as master.key"
    );

    let b = Install::new();
    create_admin(&b, "bea@b.example");
    let out = b.cli(&["restore", file.to_str().unwrap()], "");
    assert_eq!(out.status.code(), Some(1));
    let err = stderr_of(&out);
    assert!(
        err.contains("the current master key does not open") && err.contains("--key"),
        "{err}"
    );
    assert_eq!(emails(&b), ["bea@b.example"], "nothing was changed");
    assert!(!b.data_dir().join("gatehouse.redb.restoring").exists());

    let out = b.cli_ok(
        &[
            "restore",
            file.to_str().unwrap(),
            "--key",
            key.to_str().unwrap(),
        ],
        "",
    );
    assert!(out.contains("Installed the backup's master key"), "{out}");
    assert_eq!(emails(&b), ["amy@a.example", "ann@a.example"]);
    assert_eq!(
        std::fs::read_to_string(b.data_dir().join("master.key")).unwrap(),
        std::fs::read_to_string(&key).unwrap()
    );
    // B's own store and key are kept together, so B can be put back.
    assert!(b.data_dir().join("master.key.bak").exists());
    assert_eq!(
        emails_in(&b.data_dir().join("gatehouse.redb.bak")),
        ["bea@b.example"]
    );
}

#[test]
fn backup_never_overwrites_and_restore_refuses_what_is_not_a_backup() {
    let install = Install::new();
    create_admin(&install, "ops@example.com");
    let dir = tempfile::tempdir().unwrap();
    let existing = dir.path().join("exists.redb");
    std::fs::write(&existing, "keep me").unwrap();
    let out = install.cli(&["backup", existing.to_str().unwrap()], "");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr_of(&out).contains("already exists"),
        "{}",
        stderr_of(&out)
    );
    assert_eq!(std::fs::read_to_string(&existing).unwrap(), "keep me");

    let out = install.cli(&["restore", existing.to_str().unwrap()], "");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr_of(&out).contains("not a usable Gatehouse backup"),
        "{}",
        stderr_of(&out)
    );
    assert_eq!(emails(&install), ["ops@example.com"]);
    assert!(!install.data_dir().join("gatehouse.redb.bak").exists());
}
