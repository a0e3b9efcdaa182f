//! The current schema (version 2 compact user and session records, version 3 identity providers) reached from version-1 stores
//! through the real binary: a `kill -9` in the middle of the migration leaves the
//! store wholly at version 1 and the next start completes it; `restore` of a
//! version-1 backup migrates it; `doctor` reports the version before and after.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use gatehouse::domain::session::{AuthMethod, Lifetimes, Origin, Session, Stage};
use gatehouse::domain::time::{Clock, SystemClock};
use gatehouse::domain::user::{Email, Realm, Role, User, UserStatus};
use gatehouse::keys::Keys;
use gatehouse::store::bulk::Layout;
use gatehouse::store::migrations::CURRENT_VERSION;
use gatehouse::store::snapshot::{check_file, record_versions};
use gatehouse::store::{STORE_FILE_NAME, Store};

use crate::common::binary::{BIN, Install};

fn create_admin(install: &Install) {
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

fn store_path(install: &Install) -> PathBuf {
    install.data_dir().join(STORE_FILE_NAME)
}

fn keys(install: &Install) -> Keys {
    let text = std::fs::read_to_string(install.data_dir().join("master.key")).unwrap();
    Keys::from_master(hex::decode(text.trim()).unwrap().try_into().unwrap())
}

/// The schema version and the records per (table, layout version) of the store file
/// at `path`, read from a copy (a file left by `kill -9` is first brought back to its
/// last durable commit, as the next open would).
fn facts(path: &Path) -> (u64, Vec<(String, u8, u64)>) {
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("copy.redb");
    std::fs::copy(path, &copy).unwrap();
    let version = check_file(&copy).unwrap().unwrap();
    (version, record_versions(&copy).unwrap())
}

fn token(i: usize) -> String {
    format!("migration-test-session-{i:020}")
}

/// Adds `users` staff users and `sessions` active sessions (session `i` belongs to
/// user `i % users`, cookie value [`token`]`(i)`), then turns the whole store into
/// what schema version 1 wrote.
fn fill_as_v1(install: &Install, users: usize, sessions: usize) {
    let keys = keys(install);
    let mut store = Store::open(&store_path(install)).unwrap();
    let now = SystemClock.now();
    let users: Vec<User> = (0..users)
        .map(|i| {
            let mut user = User::new(
                Realm::Staff,
                Email::parse(&format!("user{i}@example.com")).unwrap(),
                format!("User {i}"),
                Role::Member,
                UserStatus::Active,
                now,
            );
            user.recovery_codes = vec![hex::encode(keys.token_hash("r", &i.to_string()))];
            user
        })
        .collect();
    store.bulk_insert_users_as(Layout::V1, &users).unwrap();
    let lifetimes = Lifetimes {
        idle_secs: 3600,
        absolute_secs: 36_000,
    };
    let origin = Origin {
        ip: "192.0.2.9".into(),
        user_agent: "Firefox on Linux".into(),
    };
    for start in (0..sessions).step_by(50_000) {
        let batch: Vec<([u8; 32], Session)> = (start..(start + 50_000).min(sessions))
            .map(|i| {
                let session = Session::start(
                    users[i % users.len()].id,
                    Realm::Staff,
                    Stage::Active,
                    AuthMethod::PasswordTotp,
                    lifetimes,
                    &origin,
                    now,
                );
                (keys.token_hash("session", &token(i)), session)
            })
            .collect();
        store.bulk_insert_sessions_as(Layout::V1, &batch).unwrap();
    }
    store.bulk_finish().unwrap();
    store.rewrite_as_v1().unwrap();
}

/// The `Remote-Email` forward-auth gives for the session cookie `token` (empty when
/// refused).
fn remote_email(base: &str, token: &str) -> String {
    let addr = base.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "GET /api/authz/auth-request HTTP/1.0\r\nHost: {addr}\r\nCookie: gh_session={token}\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    answer
        .lines()
        .find_map(|l| l.strip_prefix("remote-email: "))
        .unwrap_or("")
        .to_owned()
}

#[test]
fn kill_9_during_the_migration_leaves_version_1_and_the_next_start_completes_it() {
    const USERS: usize = 1_000;
    const SESSIONS: usize = 20_000;
    let install = Install::new();
    create_admin(&install);
    fill_as_v1(&install, USERS, SESSIONS);
    let all_v1 = vec![
        ("users-1".to_owned(), 1, USERS as u64 + 1),
        ("sessions-1".to_owned(), 1, SESSIONS as u64),
    ];
    assert_eq!(facts(&store_path(&install)), (1, all_v1.clone()));

    // Start the migration, and kill the process once it has begun.
    let log = install.dir.path().join("serve.log");
    let mut child = Command::new(BIN)
        .arg("--config")
        .arg(install.config_path())
        .arg("serve")
        .env_remove("GATEHOUSE_CONFIG")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !std::fs::read_to_string(&log)
        .unwrap_or_default()
        .contains("store migration started")
    {
        assert!(Instant::now() < deadline, "the migration never started");
        std::thread::sleep(Duration::from_millis(2));
    }
    std::thread::sleep(Duration::from_millis(20));
    child.kill().unwrap();
    child.wait().unwrap();
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(
        !text.contains("store migrated"),
        "the migration finished before the kill; the test needs a bigger store:\n{text}"
    );
    // Killed in the middle: nothing of it is in the store.
    assert_eq!(facts(&store_path(&install)), (1, all_v1));

    // A clean start migrates everything, logging counts and time.
    let server = install.start();
    for i in [0, 1, SESSIONS / 2, SESSIONS - 1] {
        assert_eq!(
            remote_email(&server.base, &token(i)),
            format!("user{}@example.com", i % USERS),
            "session {i}"
        );
    }
    assert_eq!(remote_email(&server.base, "no-such-session"), "");
    let (_, stderr) = server.stop();
    assert!(
        stderr.contains(&format!("users={} sessions={SESSIONS}", USERS + 1)),
        "{stderr}"
    );
    assert!(
        stderr.contains("store migrated") && stderr.contains("millis="),
        "{stderr}"
    );
    assert_eq!(
        facts(&store_path(&install)),
        (
            CURRENT_VERSION,
            vec![
                ("users-1".to_owned(), 2, USERS as u64 + 1),
                ("sessions-2".to_owned(), 2, SESSIONS as u64),
            ]
        )
    );
}

fn doctor_schema(install: &Install) -> String {
    let out = install.cli(&["--json", "doctor"], "");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let finding = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["check"] == "schema")
        .unwrap();
    format!(
        "{}: {}",
        finding["level"].as_str().unwrap(),
        finding["message"].as_str().unwrap()
    )
}

#[test]
fn doctor_reports_the_schema_version_and_restore_migrates_a_version_1_backup() {
    let install = Install::new();
    create_admin(&install);
    install.cli_ok(&["user", "invite", "--email", "alice@example.com"], "");
    install.cli_ok(&["client", "add", "--slug", "acme", "--name", "Acme"], "");
    install.cli_ok(
        &[
            "user",
            "invite",
            "--email",
            "bob@acme.example",
            "--client",
            "acme",
        ],
        "",
    );
    let backups = tempfile::tempdir().unwrap();
    let file = backups.path().join("v1.redb");
    install.cli_ok(&["backup", file.to_str().unwrap()], "");
    // The backup as a version-1 build would have written it.
    Store::open(&file).unwrap().rewrite_as_v1().unwrap();
    assert_eq!(facts(&file).0, 1);
    assert!(facts(&file).1.iter().all(|(_, v, _)| *v == 1));

    // The live store at version 1 too: doctor says so and what the next start does.
    Store::open(&store_path(&install))
        .unwrap()
        .rewrite_as_v1()
        .unwrap();
    assert_eq!(
        doctor_schema(&install),
        format!(
            "warn: version 1; the next start migrates it to {CURRENT_VERSION} (take a backup first)"
        )
    );
    install.start().stop();
    assert_eq!(
        doctor_schema(&install),
        format!("ok: version {CURRENT_VERSION} (current)")
    );

    install.cli_ok(&["user", "invite", "--email", "carol@example.com"], "");
    let out = install.cli_ok(&["restore", file.to_str().unwrap()], "");
    assert!(
        out.contains(&format!("schema version {CURRENT_VERSION}")),
        "{out}"
    );
    assert!(
        out.contains("The backup had schema version 1 and was brought up to date."),
        "{out}"
    );
    assert_eq!(
        doctor_schema(&install),
        format!("ok: version {CURRENT_VERSION} (current)")
    );
    let (version, records) = facts(&store_path(&install));
    assert_eq!(version, CURRENT_VERSION);
    assert!(records.iter().all(|(_, v, _)| *v == 2), "{records:?}");
    let list: serde_json::Value =
        serde_json::from_str(&install.cli_ok(&["--json", "user", "list"], "")).unwrap();
    let emails: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["email"].as_str().unwrap())
        .collect();
    assert_eq!(emails, ["alice@example.com", "ops@example.com"]);
    let acme: serde_json::Value =
        serde_json::from_str(&install.cli_ok(&["--json", "user", "list", "--client", "acme"], ""))
            .unwrap();
    assert_eq!(acme[0]["email"], "bob@acme.example");
}

/// `users` staff users and `sessions` sessions written with `layout` into a new store
/// at `path`, left at schema version 1 when `layout` is version 1's.
fn bulk_store(path: &Path, layout: Layout, users: usize, sessions: usize) {
    let mut store = Store::open(path).unwrap();
    let now = SystemClock.now();
    let users: Vec<User> = (0..users)
        .map(|i| {
            User::new(
                Realm::Staff,
                Email::parse(&format!("user{i}@example.com")).unwrap(),
                format!("User {i}"),
                Role::Member,
                UserStatus::Active,
                now,
            )
        })
        .collect();
    store.bulk_insert_users_as(layout, &users).unwrap();
    let lifetimes = Lifetimes {
        idle_secs: 3600,
        absolute_secs: 36_000,
    };
    let origin = Origin {
        ip: "192.0.2.9".into(),
        user_agent: "Firefox on Linux".into(),
    };
    let batch: Vec<([u8; 32], Session)> = (0..sessions)
        .map(|i| {
            let mut key = [0u8; 32];
            key[..8].copy_from_slice(&(i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15).to_le_bytes());
            let session = Session::start(
                users[i % users.len()].id,
                Realm::Staff,
                Stage::Active,
                AuthMethod::PasswordTotp,
                lifetimes,
                &origin,
                now,
            );
            (key, session)
        })
        .collect();
    store.bulk_insert_sessions_as(layout, &batch).unwrap();
    store.bulk_finish().unwrap();
    if layout == Layout::V1 {
        store.rewrite_as_v1().unwrap();
    }
}

#[test]
fn a_migrated_store_is_as_small_as_one_written_compact() {
    const USERS: usize = 1_000;
    const SESSIONS: usize = 30_000;
    let dir = tempfile::tempdir().unwrap();
    let old = dir.path().join("old.redb");
    let new = dir.path().join("new.redb");
    bulk_store(&old, Layout::V1, USERS, SESSIONS);
    bulk_store(&new, Layout::Current, USERS, SESSIONS);
    let size = |p: &Path| std::fs::metadata(p).unwrap().len();
    let v1_bytes = size(&old);
    // Opening migrates it (and compacts what the migration freed).
    drop(Store::open(&old).unwrap());
    let (version, records) = facts(&old);
    assert_eq!(version, CURRENT_VERSION);
    assert_eq!(
        records,
        [
            ("users-1".to_owned(), 2, USERS as u64),
            ("sessions-2".to_owned(), 2, SESSIONS as u64)
        ]
    );
    let (migrated, written) = (size(&old), size(&new));
    eprintln!(
        "{SESSIONS} sessions: version 1 {v1_bytes} bytes, migrated {migrated}, written compact {written}"
    );
    assert!(
        migrated * 4 <= written * 5,
        "migrated {migrated} bytes vs {written} written compact"
    );
    assert!(
        migrated * 2 < v1_bytes,
        "migrated {migrated} bytes vs {v1_bytes} at version 1"
    );
}
