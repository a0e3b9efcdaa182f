//! Tests of the migrations between schema versions.

use super::*;
use crate::store::retired_tables::SESSIONS_V1;

#[test]
fn a_new_store_is_at_the_current_version_and_reopens() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.redb");
    let store = Store::open(&path).unwrap();
    assert_eq!(store.write(stored_version).unwrap(), CURRENT_VERSION);
    drop(store);
    let store = Store::open(&path).unwrap();
    assert_eq!(store.write(stored_version).unwrap(), CURRENT_VERSION);
}

use crate::domain::session::{AuthMethod, Lifetimes, Origin, Session, Stage};
use crate::domain::time::Timestamp;
use crate::domain::user::{ClientId, Email, Realm, Role, Sealed, TotpFactor, UserStatus};
use crate::store::prelude::*;

/// A version-1 store file holding `users` and one session per user (and per key
/// in `keys`), as JSON records.
fn v1_store(path: &std::path::Path, keys: &[[u8; 32]]) -> (Vec<User>, Vec<Session>) {
    let store = Store::open(path).unwrap();
    let mut users = Vec::new();
    let mut sessions = Vec::new();
    for (i, key) in keys.iter().enumerate() {
        let realm = if i % 2 == 0 {
            Realm::Staff
        } else {
            Realm::Client(ClientId(uuid::Uuid::from_u128(i as u128)))
        };
        let mut user = User::new(
            realm,
            Email::parse(&format!("u{i}@example.com")).unwrap(),
            format!("User {i}"),
            Role::Member,
            UserStatus::Active,
            Timestamp(1_700_000_000),
        );
        user.password_hash = Some(format!("$argon2id$v=19$m=19456,t=2,p=1$s{i}$h"));
        user.totp = Some(TotpFactor {
            secret: Sealed {
                nonce: vec![i as u8; 24],
                ciphertext: vec![7; 36],
            },
            last_step: i as u64,
            enrolled_at: Timestamp(5),
        });
        user.recovery_codes = vec![format!("{i:064x}")];
        let mut session = Session::start(
            user.id,
            realm,
            Stage::Active,
            AuthMethod::PasswordTotp,
            Lifetimes {
                idle_secs: 600,
                absolute_secs: 6_000,
            },
            &Origin {
                ip: "192.0.2.1".into(),
                user_agent: format!("agent {i}"),
            },
            Timestamp(1_700_000_000 + i as i64),
        );
        session.admin_secret = Some("ab".repeat(32));
        store.write(|w| w.put_user(&user)).unwrap();
        store
            .bulk_insert_sessions_as(crate::store::bulk::Layout::V1, &[(*key, session.clone())])
            .unwrap();
        users.push(user);
        sessions.push(session);
    }
    // Users to JSON, the version to 1, durably (the sessions above are already JSON,
    // keyed by their whole hash in the tables of versions 1 to 3).
    store.rewrite_as_v1().unwrap();
    (users, sessions)
}

/// Records per (table, layout version byte) in the file at `path`.
fn versions(path: &std::path::Path) -> Vec<(String, u8, u64)> {
    crate::store::snapshot::record_versions(path).unwrap()
}

#[test]
fn version_1_records_become_compact_ones_with_every_field_intact() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.redb");
    let keys: Vec<[u8; 32]> = (0..40u8).map(|i| [i; 32]).collect();
    let (users, sessions) = v1_store(&path, &keys);
    assert_eq!(
        versions(&path),
        [("users-1".into(), 1, 40), ("sessions-1".into(), 1, 40)]
    );
    let store = Store::open(&path).unwrap();
    assert_eq!(store.write(stored_version).unwrap(), CURRENT_VERSION);
    for (user, (key, session)) in users.iter().zip(keys.iter().zip(&sessions)) {
        assert_eq!(
            store.read(|r| r.user(user.id)).unwrap().as_ref(),
            Some(user)
        );
        assert_eq!(
            store
                .read(|r| r.session(&crate::store::sessions::session_key(key)))
                .unwrap()
                .as_ref(),
            Some(session)
        );
    }
    drop(store);
    assert_eq!(
        versions(&path),
        [("users-1".into(), 2, 40), ("sessions-2".into(), 2, 40)]
    );
    // Running it again (a second open) changes nothing.
    let store = Store::open(&path).unwrap();
    assert_eq!(store.write(compact_users_and_sessions_count).unwrap(), 0);
}

fn compact_users_and_sessions_count(w: &mut Writer) -> Result<u64> {
    compact_users_and_sessions(w)?;
    let mut left = 0;
    for entry in w.table_mut(USERS)?.iter()? {
        left += u64::from(entry?.1.value().first() == Some(&1));
    }
    Ok(left)
}

#[test]
fn a_migration_that_fails_half_way_leaves_the_store_wholly_at_version_1() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.redb");
    let keys: Vec<[u8; 32]> = (0..30u8).map(|i| [i; 32]).collect();
    v1_store(&path, &keys);
    // The last session (in key order) is damaged: the migration rewrites every
    // user and 29 sessions before it fails on it.
    let store = Store::open_without_migrating(&path).unwrap();
    store
        .write(|w| {
            w.table_mut(SESSIONS_V1)?
                .insert(&[29; 32], b"\x01{not json".as_slice())?;
            Ok::<_, StoreError>(())
        })
        .unwrap();
    drop(store);
    assert!(matches!(
        Store::open(&path),
        Err(StoreError::Corrupt {
            kind: "session",
            ..
        })
    ));
    assert_eq!(
        versions(&path),
        [("users-1".into(), 1, 30), ("sessions-1".into(), 1, 30)]
    );
    let store = Store::open_without_migrating(&path).unwrap();
    assert_eq!(store.write(stored_version).unwrap(), 1);
}

#[test]
fn refuses_a_store_from_the_future() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.redb");
    let store = Store::open(&path).unwrap();
    store
        .write(|w| set_version(w, CURRENT_VERSION + 1))
        .unwrap();
    drop(store);
    assert!(matches!(Store::open(&path), Err(StoreError::TooNew { .. })));
}

#[test]
fn version_4_keys_sessions_by_half_their_hash_and_keeps_every_index_entry() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.redb");
    // Hashes that share their first half with no other, in an order unlike the
    // order of their users.
    let hashes: Vec<[u8; 32]> = (0..24u8)
        .map(|i| {
            let mut hash = [i.wrapping_mul(37); 32];
            hash[31] = i;
            hash
        })
        .collect();
    let (users, sessions) = v1_store(&path, &hashes);
    let store = Store::open(&path).unwrap();
    for ((hash, session), user) in hashes.iter().zip(&sessions).zip(&users) {
        let key = crate::store::sessions::session_key(hash);
        assert_eq!(key[..], hash[..16]);
        assert_eq!(
            store.read(|r| r.session(&key)).unwrap().as_ref(),
            Some(session)
        );
        let listed = store.read(|r| r.sessions_of_user(user.id)).unwrap();
        assert_eq!(listed, [(key, session.clone())]);
    }
    // The tables of versions 1 to 3 are gone.
    store
        .read(|r| {
            use redb::TableHandle;
            let names: Vec<String> = r.txn.list_tables()?.map(|t| t.name().to_owned()).collect();
            for gone in ["sessions-1", "sessions-by-user-1", "sessions-by-expiry-1"] {
                assert!(!names.iter().any(|n| n == gone), "{gone} left in {names:?}");
            }
            Ok::<_, StoreError>(())
        })
        .unwrap();
    // The expiry index moved too: every session is purged after its absolute expiry
    // (1_700_006_000 + i), the first ten by a purge at 1_700_006_010.
    let purged = store
        .write(|w| w.purge_expired_sessions(Timestamp(1_700_006_010), 1_000))
        .unwrap();
    assert_eq!(purged, 10);
    assert_eq!(store.read(|r| r.count_sessions()).unwrap(), 14);
    // Running it again changes nothing.
    store
        .write(session_keys::sessions_keyed_by_half_hashes)
        .unwrap();
    assert_eq!(store.read(|r| r.count_sessions()).unwrap(), 14);
}
