//! The schema-version-1 store made by the release of 2026-11-30
//! (`tests/fixtures/store-v1/`, see its README) opens as the current version with
//! everything intact: every user and session record decodes to exactly what its JSON
//! said (factors, recovery codes, SSO links, timestamps…), every other table (clients,
//! settings, tokens, audit, indexes, metadata but the schema version) is byte for byte
//! what it was (the session indexes entry for entry, under version 4's shorter keys), and the real binary lists what the fixture's `contents.json` says.
//! Always on a copy: the fixture itself is never opened for writing.
//!
//! A later migration that rewrites records of another table (version 3 rewrites the
//! Entra settings) must leave those records out of the byte-for-byte comparison here
//! and check them its own way.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use redb::{ReadableDatabase, ReadableTable, TableDefinition};

use gatehouse::domain::session::Session;
use gatehouse::domain::user::{User, UserId};
use gatehouse::store::migrations::CURRENT_VERSION;
use gatehouse::store::prelude::*;
use gatehouse::store::sessions::{SessionKey, session_key};
use gatehouse::store::snapshot::{check_file, record_versions};
use gatehouse::store::tables::*;
use gatehouse::store::{STORE_FILE_NAME, Store};

use crate::common::binary::Install;

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/store-v1")
}

/// A writable copy of the fixture's store.
fn copy_of_fixture(dir: &Path) -> PathBuf {
    let copy = dir.join("v1.redb");
    std::fs::copy(fixture_dir().join(STORE_FILE_NAME), &copy).unwrap();
    copy
}

/// Every row of `def` as text (`Debug` of key and value), in key order.
fn rows<K, V>(txn: &redb::ReadTransaction, def: TableDefinition<K, V>) -> Vec<String>
where
    K: redb::Key + 'static,
    V: redb::Value + 'static,
    for<'a> K::SelfType<'a>: std::fmt::Debug,
    for<'a> V::SelfType<'a>: std::fmt::Debug,
{
    let Ok(table) = txn.open_table(def) else {
        return Vec::new();
    };
    table
        .iter()
        .unwrap()
        .map(|entry| {
            let (k, v) = entry.unwrap();
            format!("{:?} => {:?}", k.value(), v.value())
        })
        .collect()
}

/// Every table but users and sessions, row by row, and the metadata but the version.
fn other_tables(path: &Path) -> BTreeMap<&'static str, Vec<String>> {
    let db = redb::Builder::new().open_read_only(path).unwrap();
    let txn = db.begin_read().unwrap();
    let mut meta = rows(&txn, META);
    meta.retain(|row| !row.starts_with("\"schema_version\""));
    BTreeMap::from([
        ("meta", meta),
        ("users-by-email", rows(&txn, USERS_BY_EMAIL)),
        ("sso-identities", rows(&txn, SSO_IDENTITIES)),
        ("one-time-tokens", rows(&txn, ONE_TIME_TOKENS)),
        ("audit", rows(&txn, AUDIT)),
        ("settings", rows(&txn, SETTINGS)),
        ("clients", rows(&txn, CLIENTS)),
        ("clients-by-slug", rows(&txn, CLIENTS_BY_SLUG)),
    ])
}

/// The per-user and per-expiry index entries.
type SessionIndexes = (Vec<(u128, SessionKey)>, Vec<(i64, SessionKey)>);

/// The two session indexes, read from the tables the file has (those of versions 1
/// to 3, or those of version 4 on), each entry as its (user or purge time, session
/// key): version 4 keys a session by the first half of its token hash, and its
/// per-user index no longer holds the expiry.
fn session_indexes(path: &Path) -> SessionIndexes {
    use gatehouse::store::retired_tables::{SESSIONS_BY_EXPIRY_V1, SESSIONS_BY_USER_V1};
    let db = redb::Builder::new().open_read_only(path).unwrap();
    let txn = db.begin_read().unwrap();
    if let Ok(old) = txn.open_table(SESSIONS_BY_USER_V1) {
        let by_user = old.iter().unwrap().map(|e| {
            let (user, hash) = e.unwrap().0.value();
            (user, session_key(&hash))
        });
        let by_expiry = txn.open_table(SESSIONS_BY_EXPIRY_V1).unwrap();
        let by_expiry = by_expiry.iter().unwrap().map(|e| {
            let (at, hash) = e.unwrap().0.value();
            (at, session_key(&hash))
        });
        return (by_user.collect(), by_expiry.collect());
    }
    let by_user = txn.open_table(SESSIONS_BY_USER).unwrap();
    let by_expiry = txn.open_table(SESSIONS_BY_EXPIRY).unwrap();
    (
        by_user
            .iter()
            .unwrap()
            .map(|e| e.unwrap().0.value())
            .collect(),
        by_expiry
            .iter()
            .unwrap()
            .map(|e| e.unwrap().0.value())
            .collect(),
    )
}

/// The version-1 user and session records, decoded from their JSON as version 1
/// wrote them.
fn v1_records(path: &Path) -> (Vec<User>, Vec<([u8; 32], Session)>) {
    use gatehouse::store::retired_tables::SESSIONS_V1;
    let db = redb::Builder::new().open_read_only(path).unwrap();
    let txn = db.begin_read().unwrap();
    let json = |bytes: &[u8]| {
        assert_eq!(bytes[0], 1, "a version-1 record");
        bytes[1..].to_vec()
    };
    let users = txn
        .open_table(USERS)
        .unwrap()
        .iter()
        .unwrap()
        .map(|e| {
            let (k, v) = e.unwrap();
            let user: User = serde_json::from_slice(&json(v.value())).unwrap();
            assert_eq!(user.id, UserId::from_u128(k.value()));
            user
        })
        .collect();
    let sessions = txn
        .open_table(SESSIONS_V1)
        .unwrap()
        .iter()
        .unwrap()
        .map(|e| {
            let (k, v) = e.unwrap();
            (k.value(), serde_json::from_slice(&json(v.value())).unwrap())
        })
        .collect();
    (users, sessions)
}

#[test]
fn the_v1_fixture_opens_as_the_current_version_with_every_record_intact() {
    let dir = tempfile::tempdir().unwrap();
    let path = copy_of_fixture(dir.path());
    assert_eq!(check_file(&path).unwrap(), Some(1));
    let (users, sessions) = v1_records(&path);
    let before = other_tables(&path);
    let indexes_before = session_indexes(&path);
    assert_eq!(indexes_before.0.len(), 5);
    assert_eq!(indexes_before.1.len(), 5);
    // The fixture holds what its README says: 7 users, 5 sessions, two clients.
    assert_eq!(users.len(), 7);
    assert_eq!(sessions.len(), 5);
    assert!(
        users
            .iter()
            .any(|u| u.totp.is_some() && u.recovery_codes.len() == 10)
    );
    assert!(users.iter().any(|u| !u.sso_links.is_empty()));
    assert_eq!(before["clients"].len(), 2);
    assert!(!before["settings"].is_empty() && !before["audit"].is_empty());

    let store = Store::open(&path).unwrap();
    for user in &users {
        assert_eq!(
            store.read(|r| r.user(user.id)).unwrap().as_ref(),
            Some(user)
        );
    }
    for (key, session) in &sessions {
        assert_eq!(
            store
                .read(|r| r.session(&session_key(key)))
                .unwrap()
                .as_ref(),
            Some(session)
        );
    }
    assert_eq!(store.read(|r| r.count_users()).unwrap(), 7);
    assert_eq!(store.read(|r| r.count_sessions()).unwrap(), 5);
    drop(store);

    assert_eq!(check_file(&path).unwrap(), Some(CURRENT_VERSION));
    assert_eq!(
        record_versions(&path).unwrap(),
        [
            ("users-1".to_owned(), 2, 7),
            ("sessions-2".to_owned(), 2, 5)
        ]
    );
    let after = other_tables(&path);
    for (table, rows) in &before {
        assert_eq!(&after[table], rows, "{table} changed");
    }
    assert_eq!(session_indexes(&path), indexes_before);
}

/// Users as `user list --json` prints them, without what depends on the port.
fn listed(install: &Install, client: Option<&str>) -> serde_json::Value {
    let mut args = vec!["--json", "user", "list"];
    if let Some(slug) = client {
        args.extend(["--client", slug]);
    }
    serde_json::from_str(&install.cli_ok(&args, "")).unwrap()
}

#[test]
fn the_real_binary_serves_the_v1_fixture_as_its_contents_describe() {
    let install = Install::new();
    std::fs::create_dir_all(install.data_dir()).unwrap();
    copy_of_fixture(&install.data_dir());
    std::fs::rename(
        install.data_dir().join("v1.redb"),
        install.data_dir().join(STORE_FILE_NAME),
    )
    .unwrap();
    let key = install.data_dir().join("master.key");
    std::fs::copy(fixture_dir().join("master.key"), &key).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    std::fs::set_permissions(install.data_dir(), std::fs::Permissions::from_mode(0o700)).unwrap();

    let server = install.start();
    let contents: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(fixture_dir().join("contents.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(listed(&install, None), contents["users"]);
    assert_eq!(listed(&install, Some("beta")), contents["beta_users"]);
    assert_eq!(listed(&install, Some("acme")), contents["acme_users"]);
    let (_, stderr) = server.stop();
    assert!(stderr.contains("users=7 sessions=5"), "{stderr}");
    assert_eq!(
        check_file(&install.data_dir().join(STORE_FILE_NAME)).unwrap(),
        Some(CURRENT_VERSION)
    );
}
