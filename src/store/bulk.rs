//! Bulk loading, for the benchmarks only (`benches/`): seeding a store with 100,000
//! users and a million sessions one durable transaction at a time would take hours.
//! Here each call writes many rows in one transaction committed without fsync
//! (`Durability::None`), and [`Store::bulk_finish`] ends the load with one durable
//! commit, which makes every earlier commit durable too.
//!
//! Compiled only with the `bench` feature (on for benches and tests through the
//! package's dev-dependency on itself), so it is not in the product at all. It checks
//! nothing either: callers hand in unique ids, emails and session keys, no SSO links,
//! and a crash in the middle of a load loses the load.
//!
//! It can also write the records as schema version 1 wrote them (JSON), and mark the
//! store as version 1, to build old stores whose migration is measured and tested.

use redb::{Durability, ReadableTable, ReadableTableMetadata, TableHandle};

use super::codec;
use super::compact;
use super::handle::Db;
use super::migrations::VERSION_KEY;
use super::retired_tables::{SESSIONS_BY_EXPIRY_V1, SESSIONS_BY_USER_V1, SESSIONS_V1};
use super::sessions::session_key;
use super::tables::{META, SESSIONS, SESSIONS_BY_EXPIRY, SESSIONS_BY_USER, USERS, USERS_BY_EMAIL};
use super::{Result, Store, StoreError, Writer};
use crate::domain::session::Session;
use crate::domain::user::User;

/// How bulk-loaded users and sessions are encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// This build's layout (`store::compact`).
    Current,
    /// Schema version 1's JSON records.
    V1,
}

impl Layout {
    fn user(self, user: &User) -> Result<Vec<u8>> {
        match self {
            Layout::Current => compact::encode_user(user),
            Layout::V1 => codec::encode_v1(compact::USER, user),
        }
    }

    fn session(self, session: &Session) -> Result<Vec<u8>> {
        match self {
            Layout::Current => compact::encode_session(session),
            Layout::V1 => codec::encode_v1(compact::SESSION, session),
        }
    }
}

impl Store {
    /// Inserts `users` with their email index rows, in one transaction that is not
    /// yet durable.
    pub fn bulk_insert_users(&self, users: &[User]) -> Result<()> {
        self.bulk_insert_users_as(Layout::Current, users)
    }

    /// Inserts sessions, each given with its token's whole keyed hash
    /// (`Keys::token_hash("session", token)`), with their per-user and per-expiry
    /// index rows, in one transaction that is not yet durable.
    pub fn bulk_insert_sessions(&self, sessions: &[([u8; 32], Session)]) -> Result<()> {
        self.bulk_insert_sessions_as(Layout::Current, sessions)
    }

    /// Records `version` as the store's schema version, so the next open migrates
    /// from there (for stores loaded with [`Layout::V1`]).
    pub fn bulk_set_schema_version(&self, version: u64) -> Result<()> {
        self.write_unsynced(|w| {
            w.table_mut(META)?
                .insert(VERSION_KEY, version.to_le_bytes().as_slice())?;
            Ok(())
        })
    }

    /// [`Self::bulk_insert_users`] in `layout`.
    pub fn bulk_insert_users_as(&self, layout: Layout, users: &[User]) -> Result<()> {
        let mut sorted: Vec<&User> = users.iter().collect();
        sorted.sort_by_key(|u| u.id.as_u128());
        self.write_unsynced(|w| {
            let mut table = w.table_mut(USERS)?;
            for user in &sorted {
                table.insert(user.id.as_u128(), layout.user(user)?.as_slice())?;
            }
            drop(table);
            let mut by_email = w.table_mut(USERS_BY_EMAIL)?;
            for user in &sorted {
                by_email.insert(
                    (user.realm.key().as_str(), user.email.as_str()),
                    user.id.as_u128(),
                )?;
            }
            Ok(())
        })
    }

    /// [`Self::bulk_insert_sessions`] in `layout`: at [`Layout::V1`] into the
    /// session tables of schema versions 1 to 3, keyed by the whole token hash.
    pub fn bulk_insert_sessions_as(
        &self,
        layout: Layout,
        sessions: &[([u8; 32], Session)],
    ) -> Result<()> {
        // Rows in key order fill B-tree pages front to back: faster, and a denser file.
        let mut rows = Vec::with_capacity(sessions.len());
        for (hash, session) in sessions {
            rows.push(Loaded {
                hash: *hash,
                user: session.user_id.as_u128(),
                expires_at: session.expires_at.0,
                purge_after: session.purge_after().0,
                record: layout.session(session)?,
            });
        }
        self.write_unsynced(|w| {
            rows.sort_unstable_by_key(|r| r.hash);
            match layout {
                Layout::Current => {
                    let mut table = w.txn.open_table(SESSIONS)?;
                    for r in &rows {
                        table.insert(session_key(&r.hash), r.record.as_slice())?;
                    }
                    drop(table);
                    let mut index = w.txn.open_table(SESSIONS_BY_USER)?;
                    rows.sort_unstable_by_key(|r| (r.user, r.hash));
                    for r in &rows {
                        index.insert((r.user, session_key(&r.hash)), ())?;
                    }
                    drop(index);
                    let mut index = w.txn.open_table(SESSIONS_BY_EXPIRY)?;
                    rows.sort_unstable_by_key(|r| (r.purge_after, r.hash));
                    for r in &rows {
                        index.insert((r.purge_after, session_key(&r.hash)), ())?;
                    }
                }
                Layout::V1 => {
                    let mut table = w.txn.open_table(SESSIONS_V1)?;
                    for r in &rows {
                        table.insert(r.hash, r.record.as_slice())?;
                    }
                    drop(table);
                    let mut index = w.txn.open_table(SESSIONS_BY_USER_V1)?;
                    rows.sort_unstable_by_key(|r| (r.user, r.hash));
                    for r in &rows {
                        index.insert((r.user, r.hash), r.expires_at)?;
                    }
                    drop(index);
                    let mut index = w.txn.open_table(SESSIONS_BY_EXPIRY_V1)?;
                    rows.sort_unstable_by_key(|r| (r.purge_after, r.hash));
                    for r in &rows {
                        index.insert((r.purge_after, r.hash), ())?;
                    }
                }
            }
            Ok(())
        })
    }

    /// Ends a bulk load: one durable commit, after which everything loaded survives
    /// a crash, then a compaction that gives back the pages the unsynced batches left
    /// behind (a store grown one sign-in at a time has no such holes).
    pub fn bulk_finish(&mut self) -> Result<()> {
        self.write(|_| Ok::<_, StoreError>(()))?;
        match self.handle.get_mut() {
            Some(Db::ReadWrite(db)) => db
                .compact()
                .map(|_| ())
                .map_err(|e| StoreError::Io(e.to_string())),
            _ => Err(StoreError::Io(
                "the store is not open for writing; cannot compact it".to_owned(),
            )),
        }
    }

    /// Turns the store back into what schema version 1 wrote: every user and session
    /// record as JSON, the sessions in the tables of versions 1 to 3, the schema
    /// version 1, durably. Everything else (settings, clients, keys, other indexes)
    /// was already stored as version 1 stores it. For tests and benchmarks of the
    /// migrations.
    ///
    /// A session of the current tables is keyed by half its token hash and the other
    /// half is not stored; it goes back under that half followed by 16 zero bytes,
    /// which the migration cuts back to the same key, so its token still finds it.
    pub fn rewrite_as_v1(&self) -> Result<()> {
        self.write(|w| {
            let users: Vec<(u128, Vec<u8>)> = {
                let table = w.table_mut(USERS)?;
                let mut out = Vec::new();
                for entry in table.iter()? {
                    let (k, v) = entry?;
                    if v.value().first() == Some(&compact::VERSION) {
                        let user = compact::decode_user(v.value())?;
                        out.push((k.value(), Layout::V1.user(&user)?));
                    }
                }
                out
            };
            let mut table = w.table_mut(USERS)?;
            for (k, v) in &users {
                table.insert(*k, v.as_slice())?;
            }
            drop(table);
            let mut moved = Vec::new();
            for entry in w.txn.open_table(SESSIONS)?.iter()? {
                let (key, record) = entry?;
                let mut hash = [0u8; 32];
                hash[..16].copy_from_slice(&key.value());
                moved.push((hash, compact::decode_session(record.value())?));
            }
            w.txn.delete_table(SESSIONS)?;
            w.txn.delete_table(SESSIONS_BY_USER)?;
            w.txn.delete_table(SESSIONS_BY_EXPIRY)?;
            let mut table = w.txn.open_table(SESSIONS_V1)?;
            let mut by_user = w.txn.open_table(SESSIONS_BY_USER_V1)?;
            let mut by_expiry = w.txn.open_table(SESSIONS_BY_EXPIRY_V1)?;
            for (hash, session) in &moved {
                table.insert(hash, Layout::V1.session(session)?.as_slice())?;
                by_user.insert((session.user_id.as_u128(), *hash), session.expires_at.0)?;
                by_expiry.insert((session.purge_after().0, *hash), ())?;
            }
            drop((table, by_user, by_expiry));
            w.table_mut(META)?
                .insert(VERSION_KEY, 1u64.to_le_bytes().as_slice())?;
            Ok(())
        })
    }

    /// Where the store's bytes are: one [`TableSize`] per table, largest first. For
    /// the benchmark's store-size row.
    pub fn bulk_table_sizes(&self) -> Result<Vec<TableSize>> {
        self.read(|r| {
            let mut sizes = Vec::new();
            for handle in r.txn.list_tables()? {
                let table = r.txn.open_untyped_table(handle.clone())?;
                let stats = table.stats()?;
                sizes.push(TableSize {
                    name: handle.name().to_owned(),
                    entries: table.len()?,
                    pages: stats.leaf_pages() + stats.branch_pages(),
                    stored_bytes: stats.stored_bytes(),
                    metadata_bytes: stats.metadata_bytes(),
                    fragmented_bytes: stats.fragmented_bytes(),
                });
            }
            sizes.sort_by_key(|s| std::cmp::Reverse(s.pages));
            Ok(sizes)
        })
    }

    fn write_unsynced(&self, f: impl FnOnce(&mut Writer) -> Result<()>) -> Result<()> {
        self.write_with(Durability::None, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::session::{AuthMethod, Lifetimes, Origin, Stage};
    use crate::domain::time::Timestamp;
    use crate::domain::user::{Email, Realm, Role, UserStatus};
    use crate::store::prelude::*;

    #[test]
    fn bulk_rows_read_back_like_written_ones() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.redb");
        let mut store = Store::open(&path).unwrap();
        let users: Vec<User> = (0..50)
            .map(|i| {
                User::new(
                    Realm::Staff,
                    Email::parse(&format!("user{i}@example.com")).unwrap(),
                    format!("User {i}"),
                    Role::Member,
                    UserStatus::Active,
                    Timestamp(1),
                )
            })
            .collect();
        store.bulk_insert_users(&users).unwrap();
        let sessions: Vec<([u8; 32], Session)> = (0..200u8)
            .map(|i| {
                let session = Session::start(
                    users[usize::from(i) % users.len()].id,
                    Realm::Staff,
                    Stage::Active,
                    AuthMethod::PasswordTotp,
                    Lifetimes {
                        idle_secs: 60,
                        absolute_secs: 100 + i64::from(i),
                    },
                    &Origin::default(),
                    Timestamp(0),
                );
                ([i; 32], session)
            })
            .collect();
        store.bulk_insert_sessions(&sessions).unwrap();
        store.bulk_finish().unwrap();
        drop(store);

        let store = Store::open(&path).unwrap();
        let found = store
            .read(|r| r.user_by_email(Realm::Staff, &Email::parse("user7@example.com").unwrap()))
            .unwrap();
        assert_eq!(found.map(|u| u.id), Some(users[7].id));
        assert_eq!(store.read(|r| r.count_sessions()).unwrap(), 200);
        assert_eq!(
            store.read(|r| r.session(&[9; 16])).unwrap(),
            Some(sessions[9].1.clone())
        );
        assert_eq!(
            store
                .read(|r| r.sessions_of_user(users[0].id))
                .unwrap()
                .len(),
            4
        );
        let purged = store
            .write(|w| w.purge_expired_sessions(Timestamp(150), 1_000))
            .unwrap();
        assert_eq!(purged, 50);
    }
}

/// A session row being loaded.
struct Loaded {
    hash: [u8; 32],
    user: u128,
    expires_at: i64,
    purge_after: i64,
    record: Vec<u8>,
}

/// One table's share of the store file (redb's own accounting).
#[derive(Clone, Debug)]
pub struct TableSize {
    pub name: String,
    pub entries: u64,
    /// Leaf and branch pages (4 KiB each).
    pub pages: u64,
    /// Keys and values as stored, without redb's per-entry offsets.
    pub stored_bytes: u64,
    /// Branch keys and per-entry offsets.
    pub metadata_bytes: u64,
    /// Unused space inside the table's pages.
    pub fragmented_bytes: u64,
}
