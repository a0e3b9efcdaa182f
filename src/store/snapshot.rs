//! Consistent copies of the store (`gatehouse backup`), and facts read from store
//! files without changing them. A snapshot copies every table of one read
//! transaction is copied, typed, into a fresh redb file, which is committed durably
//! and then counted again to verify it. Writers keep going meanwhile: a redb read
//! transaction is a snapshot and does not block them.
//!
//! Every table in `tables.rs` must be listed in [`copy_every_table`]. A snapshot that
//! finds a table the copy does not cover fails instead of silently leaving it out, and
//! the tests below fail as soon as such a table is added.

use std::collections::BTreeMap;
use std::fs::OpenOptions;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use redb::{
    Durability, MultimapTableHandle, ReadTransaction, ReadableDatabase, ReadableTable,
    ReadableTableMetadata, TableDefinition, TableHandle, WriteTransaction,
};
use serde::{Deserialize, Serialize};

use super::retired_tables::SESSIONS_V1;
use super::tables::*;
use super::{Result, Store, StoreError, Tables};

/// Rows per table name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableCounts(pub BTreeMap<String, u64>);

impl TableCounts {
    /// Rows in the table called `name` (0 when absent).
    pub fn rows(&self, name: &str) -> u64 {
        self.0.get(name).copied().unwrap_or(0)
    }
}

impl Store {
    /// Writes a consistent copy of the store to a new file at `path` (which must not
    /// exist; it is created with mode 0600), commits it with fsync, and returns the
    /// rows copied per table. On failure the partial file is removed.
    pub fn snapshot_to(&self, path: &Path) -> Result<TableCounts> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
            .map_err(|e| StoreError::Io(format!("cannot create {}: {e}", path.display())))?;
        let copied = self.read(|r| {
            let backend = redb::backends::FileBackend::new(file)?;
            let target = redb::Builder::new().create_with_backend(backend)?;
            let mut txn = target.begin_write()?;
            txn.set_durability(Durability::Immediate)
                .map_err(|e| StoreError::Io(e.to_string()))?;
            let counts = copy_every_table(&r.txn, &txn)?;
            let uncovered = uncovered_tables(&r.txn, &counts)?;
            if !uncovered.is_empty() {
                return Err(StoreError::Io(format!(
                    "the backup does not know how to copy the table(s) {} (a bug: add them to store::snapshot)",
                    uncovered.join(", ")
                )));
            }
            txn.commit()?;
            Ok(counts)
        });
        if copied.is_err() {
            let _ = std::fs::remove_file(path);
        }
        copied
    }
}

/// Opens a redb file read-only and counts the rows of every table in it (to verify a
/// snapshot, or to describe a backup before restoring it).
pub fn count_rows(path: &Path) -> Result<TableCounts> {
    let db = redb::Builder::new().open_read_only(path)?;
    let txn = db.begin_read()?;
    let mut counts = TableCounts::default();
    for handle in txn.list_tables()? {
        let name = handle.name().to_owned();
        let table = txn.open_untyped_table(handle)?;
        counts.0.insert(name, table.len()?);
    }
    Ok(counts)
}

/// How many records of each layout version (the first byte of the value) the users
/// and sessions tables of the store file at `path` hold, read without changing the
/// file: `[(table name, version, rows)]`. Shows whether a store is wholly at one
/// layout (tests of the migrations, and anyone curious).
pub fn record_versions(path: &Path) -> Result<Vec<(String, u8, u64)>> {
    let db = redb::Builder::new().open_read_only(path)?;
    let txn = db.begin_read()?;
    let mut out = Vec::new();
    let mut tally = |name: &str, versions: BTreeMap<u8, u64>| {
        out.extend(versions.into_iter().map(|(v, n)| (name.to_owned(), v, n)));
    };
    tally(USERS.name(), layouts_in(&txn, USERS)?);
    // Sessions are in one of two tables, by schema version (`retired_tables`).
    for (name, layouts) in [
        (SESSIONS_V1.name(), layouts_in(&txn, SESSIONS_V1)?),
        (SESSIONS.name(), layouts_in(&txn, SESSIONS)?),
    ] {
        if !layouts.is_empty() {
            tally(name, layouts);
        }
    }
    Ok(out)
}

/// Rows of `def` per layout version (first byte of the value); none when the table
/// does not exist.
fn layouts_in<K: redb::Key + 'static>(
    txn: &ReadTransaction,
    def: TableDefinition<K, &[u8]>,
) -> Result<BTreeMap<u8, u64>> {
    let mut versions = BTreeMap::new();
    let table = match txn.open_table(def) {
        Ok(table) => table,
        Err(redb::TableError::TableDoesNotExist(_)) => return Ok(versions),
        Err(e) => return Err(e.into()),
    };
    for entry in table.iter()? {
        let version = entry?.1.value().first().copied().unwrap_or(0);
        *versions.entry(version).or_insert(0) += 1;
    }
    Ok(versions)
}

/// Checks that `path` is an intact redb file — every page checksum verified, which
/// opens it for writing, so use it on copies — and returns its schema version
/// (`None` when the file has no Gatehouse metadata).
pub fn check_file(path: &Path) -> Result<Option<u64>> {
    use std::io::Read;
    const REDB_MAGIC: &[u8] = b"redb\x1a\x0a\xa9\x0d\x0a";
    let mut head = [0u8; 9];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut head))
        .map_err(|e| StoreError::Io(format!("cannot read {}: {e}", path.display())))?;
    if head != REDB_MAGIC {
        return Err(StoreError::Corrupt {
            kind: "store file",
            detail: "not a redb database".to_owned(),
        });
    }
    let db = redb::Builder::new()
        .set_check_integrity_on_open(true)
        .create(path)
        .map_err(|e| StoreError::Corrupt {
            kind: "store file",
            detail: e.to_string(),
        })?;
    version_in(&db)
}

/// Opens the existing store file at `path` on its own, verifying every page checksum
/// (repairing what redb can), and reads the schema version. For `doctor` on a stopped
/// server; fails with [`StoreError::InUse`] while a server runs, and with
/// [`StoreError::Corrupt`] for a damaged file (where a plain open might panic).
pub fn verify_in_place(path: &Path) -> Result<Option<u64>> {
    let db = match redb::Builder::new()
        .set_check_integrity_on_open(true)
        .open(path)
    {
        Ok(db) => db,
        Err(redb::DatabaseError::DatabaseAlreadyOpen) => return Err(StoreError::InUse),
        Err(e) => {
            return Err(StoreError::Corrupt {
                kind: "store file",
                detail: e.to_string(),
            });
        }
    };
    version_in(&db)
}

fn version_in(db: &impl ReadableDatabase) -> Result<Option<u64>> {
    let txn = db.begin_read()?;
    let meta = match txn.open_table(META) {
        Ok(meta) => meta,
        Err(redb::TableError::TableDoesNotExist(_)) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let found = meta.get(super::migrations::VERSION_KEY)?;
    Ok(found.map(|v| version_from(v.value())))
}

/// The schema version recorded in an open store (0 when none).
pub fn schema_version(r: &impl Tables) -> Result<u64> {
    let meta = r.table(META)?;
    let found = meta.get(super::migrations::VERSION_KEY)?;
    Ok(found.map(|v| version_from(v.value())).unwrap_or(0))
}

fn version_from(bytes: &[u8]) -> u64 {
    u64::from_le_bytes(bytes.try_into().unwrap_or_default())
}

/// Copies every table Gatehouse has, typed, from `from` into `to`.
fn copy_every_table(from: &ReadTransaction, to: &WriteTransaction) -> Result<TableCounts> {
    let mut counts = TableCounts::default();
    copy(from, to, META, &mut counts)?;
    copy(from, to, USERS, &mut counts)?;
    copy(from, to, USERS_BY_EMAIL, &mut counts)?;
    copy(from, to, SSO_IDENTITIES, &mut counts)?;
    copy(from, to, SESSIONS, &mut counts)?;
    copy(from, to, SESSIONS_BY_USER, &mut counts)?;
    copy(from, to, SESSIONS_BY_EXPIRY, &mut counts)?;
    copy(from, to, ONE_TIME_TOKENS, &mut counts)?;
    copy(from, to, AUDIT, &mut counts)?;
    copy(from, to, CLIENTS, &mut counts)?;
    copy(from, to, CLIENTS_BY_SLUG, &mut counts)?;
    copy(from, to, SETTINGS, &mut counts)?;
    copy(from, to, KNOWN_DEVICES, &mut counts)?;
    copy(from, to, IDENTITY_PROVIDERS, &mut counts)?;
    copy(from, to, SCIM_TOKENS, &mut counts)?;
    copy(from, to, SCIM_USERS, &mut counts)?;
    copy(from, to, SCIM_EXTERNAL_IDS, &mut counts)?;
    copy(from, to, SCIM_USER_NAMES, &mut counts)?;
    copy(from, to, SCIM_GROUPS, &mut counts)?;
    copy(from, to, PROVISIONING_STATE, &mut counts)?;
    copy(from, to, PASSKEYS, &mut counts)?;
    copy(from, to, PASSKEYS_BY_CREDENTIAL, &mut counts)?;
    Ok(counts)
}

fn copy<K: redb::Key + 'static, V: redb::Value + 'static>(
    from: &ReadTransaction,
    to: &WriteTransaction,
    def: TableDefinition<K, V>,
    counts: &mut TableCounts,
) -> Result<()> {
    let source = match from.open_table(def) {
        Ok(table) => table,
        // A table this build knows but the store never created: nothing to copy.
        Err(redb::TableError::TableDoesNotExist(_)) => {
            to.open_table(def)?;
            counts.0.insert(def.name().to_owned(), 0);
            return Ok(());
        }
        Err(e) => return Err(e.into()),
    };
    let mut target = to.open_table(def)?;
    let mut rows = 0;
    for entry in source.iter()? {
        let (key, value) = entry?;
        target.insert(key.value(), value.value())?;
        rows += 1;
    }
    counts.0.insert(def.name().to_owned(), rows);
    Ok(())
}

/// Tables (and multimap tables) present in `txn` that the copy did not cover.
fn uncovered_tables(txn: &ReadTransaction, copied: &TableCounts) -> Result<Vec<String>> {
    let mut uncovered: Vec<String> = txn
        .list_tables()?
        .map(|h| h.name().to_owned())
        .filter(|name| !copied.0.contains_key(name))
        .collect();
    uncovered.extend(
        txn.list_multimap_tables()?
            .map(|h| format!("{} (multimap)", h.name())),
    );
    Ok(uncovered)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::time::Timestamp;
    use crate::domain::user::{Email, Realm, Role, User, UserStatus};
    use crate::store::prelude::*;

    fn sample_store(dir: &Path) -> Store {
        let store = Store::open(&dir.join("live.redb")).unwrap();
        let user = User::new(
            Realm::Staff,
            Email::parse("ann@example.com").unwrap(),
            "Ann".into(),
            Role::Admin,
            UserStatus::Active,
            Timestamp(1_700_000_000),
        );
        store.write(|w| w.put_user(&user)).unwrap();
        store
    }

    #[test]
    fn a_snapshot_copies_every_table_and_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let store = sample_store(dir.path());
        let path = dir.path().join("copy.redb");
        let counts = store.snapshot_to(&path).unwrap();
        assert_eq!(counts.rows(USERS.name()), 1);
        assert_eq!(counts.rows(USERS_BY_EMAIL.name()), 1);
        assert_eq!(count_rows(&path).unwrap(), counts, "verified by recounting");
        let mode = std::fs::metadata(&path).unwrap().permissions();
        assert_eq!(
            std::os::unix::fs::PermissionsExt::mode(&mode) & 0o777,
            0o600
        );

        let copy = Store::open(&path).unwrap();
        let email = Email::parse("ann@example.com").unwrap();
        let found = copy
            .read(|r| r.user_by_email(Realm::Staff, &email))
            .unwrap();
        assert_eq!(found.unwrap().display_name, "Ann");
    }

    #[test]
    fn a_snapshot_never_overwrites_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let store = sample_store(dir.path());
        let path = dir.path().join("exists.redb");
        std::fs::write(&path, b"precious").unwrap();
        assert!(store.snapshot_to(&path).is_err());
        assert_eq!(std::fs::read(&path).unwrap(), b"precious");
    }

    /// Fails when the store holds a table (as redb lists them) that the copy misses.
    #[test]
    fn the_copy_covers_every_table_redb_lists() {
        let dir = tempfile::tempdir().unwrap();
        let store = sample_store(dir.path());
        let target = redb::Builder::new()
            .create_with_backend(redb::backends::InMemoryBackend::new())
            .unwrap();
        let txn = target.begin_write().unwrap();
        store
            .read(|r| {
                let counts = copy_every_table(&r.txn, &txn)?;
                let listed: Vec<String> =
                    r.txn.list_tables()?.map(|h| h.name().to_owned()).collect();
                assert!(!listed.is_empty());
                for name in &listed {
                    assert!(
                        counts.0.contains_key(name),
                        "table `{name}` exists in the store but store::snapshot does not copy it"
                    );
                }
                assert_eq!(uncovered_tables(&r.txn, &counts)?, Vec::<String>::new());
                Ok::<_, StoreError>(())
            })
            .unwrap();
    }

    /// Fails when `tables.rs` defines a table the copy misses, even one that no
    /// migration creates yet.
    #[test]
    fn the_copy_covers_every_table_defined_in_tables_rs() {
        let source = include_str!("tables.rs");
        let defined: Vec<&str> = source
            .split("TableDefinition::new(\"")
            .skip(1)
            .filter_map(|rest| rest.split('"').next())
            .collect();
        assert!(defined.len() >= 10, "parsed {defined:?}");
        let store = Store::in_memory().unwrap();
        let target = redb::Builder::new()
            .create_with_backend(redb::backends::InMemoryBackend::new())
            .unwrap();
        let txn = target.begin_write().unwrap();
        let counts = store.read(|r| copy_every_table(&r.txn, &txn)).unwrap();
        for name in defined {
            assert!(
                counts.0.contains_key(name),
                "table `{name}` is defined in tables.rs but store::snapshot does not copy it"
            );
        }
    }

    #[test]
    fn checks_files_and_reads_their_schema_version() {
        let dir = tempfile::tempdir().unwrap();
        let store = sample_store(dir.path());
        let copy = dir.path().join("copy.redb");
        store.snapshot_to(&copy).unwrap();
        let version = check_file(&copy).unwrap();
        assert_eq!(version, Some(super::super::migrations::CURRENT_VERSION));

        let junk = dir.path().join("junk.redb");
        std::fs::write(&junk, b"this is not a database at all").unwrap();
        assert!(matches!(check_file(&junk), Err(StoreError::Corrupt { .. })));

        // A redb file damaged after it was written is refused, not trusted: flip the
        // bytes of the page that holds the user record.
        let mut bytes = std::fs::read(&copy).unwrap();
        let at = bytes
            .windows(15)
            .position(|w| w == b"ann@example.com")
            .expect("the record is in the file");
        for b in &mut bytes[at..at + 15] {
            *b ^= 0x5a;
        }
        let damaged = dir.path().join("damaged.redb");
        std::fs::write(&damaged, &bytes).unwrap();
        assert!(check_file(&damaged).is_err());
    }
}
