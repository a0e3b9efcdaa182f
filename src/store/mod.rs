//! The embedded store: one redb file. Only storage lives here — tables, codecs,
//! indexes kept in step, migrations — and no decisions about users or policy.
//!
//! Access goes through closures: [`Store::read`] gives a [`Reader`] over one read
//! transaction; [`Store::write`] gives a [`Writer`] over one write transaction that is
//! committed durably (fsync) before `write` returns, so whatever a caller acknowledges
//! afterwards survives a crash. Both implement the read traits in [`prelude`], so a use
//! case can read and write in one transaction.

pub mod audit;
pub mod bulk;
pub mod clients;
pub mod codec;
pub mod migrations;
pub mod sessions;
pub mod settings;
pub mod tables;
pub mod tokens;
pub mod users;

use std::path::Path;

use redb::{
    Database, Durability, ReadOnlyTable, ReadTransaction, ReadableDatabase, ReadableTable, Table,
    TableDefinition, WriteTransaction,
};

/// The store file's name inside the data directory.
pub const STORE_FILE_NAME: &str = "gatehouse.redb";

/// A storage failure. A failing disk is never reported as "wrong password".
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("storage error: {0}")]
    Io(String),
    #[error("the store is open in another process (is `gatehouse serve` running?)")]
    InUse,
    #[error("a {kind} record is damaged: {detail}")]
    Corrupt { kind: &'static str, detail: String },
    #[error(
        "the store's schema version {found} is newer than this gatehouse supports ({supported}); upgrade gatehouse"
    )]
    TooNew { found: u64, supported: u64 },
    #[error("index conflict: {0}")]
    Conflict(String),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

macro_rules! io_error {
    ($($t:ty),*) => {$(
        impl From<$t> for StoreError {
            fn from(e: $t) -> Self {
                StoreError::Io(e.to_string())
            }
        }
    )*};
}
io_error!(
    redb::StorageError,
    redb::TransactionError,
    redb::TableError,
    redb::CommitError
);

impl From<redb::DatabaseError> for StoreError {
    fn from(e: redb::DatabaseError) -> Self {
        match e {
            redb::DatabaseError::DatabaseAlreadyOpen => StoreError::InUse,
            other => StoreError::Io(other.to_string()),
        }
    }
}

/// The open store.
pub struct Store {
    db: Database,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Store")
    }
}

/// Page cache for the store; pages are cached lazily, so idle memory stays small.
const CACHE_BYTES: usize = 256 * 1024 * 1024;

impl Store {
    /// Opens (or creates) the store file and brings its schema up to date.
    pub fn open(path: &Path) -> Result<Store> {
        let db = redb::Builder::new()
            .set_cache_size(CACHE_BYTES)
            .create(path)?;
        Store::from_database(db)
    }

    /// A store held in memory only; for tests and benchmarks.
    pub fn in_memory() -> Result<Store> {
        let db = redb::Builder::new().create_with_backend(redb::backends::InMemoryBackend::new())?;
        Store::from_database(db)
    }

    fn from_database(db: Database) -> Result<Store> {
        let store = Store { db };
        migrations::run(&store)?;
        Ok(store)
    }

    /// Runs `f` over one read transaction (a consistent snapshot).
    pub fn read<T, E: From<StoreError>>(
        &self,
        f: impl FnOnce(&Reader) -> Result<T, E>,
    ) -> Result<T, E> {
        let reader = Reader {
            txn: self.db.begin_read().map_err(StoreError::from)?,
        };
        f(&reader)
    }

    /// Runs `f` in one write transaction and commits it durably (fsync) before
    /// returning. If `f` fails, nothing it wrote is kept.
    pub fn write<T, E: From<StoreError>>(
        &self,
        f: impl FnOnce(&mut Writer) -> Result<T, E>,
    ) -> Result<T, E> {
        let mut txn = self.db.begin_write().map_err(StoreError::from)?;
        txn.set_durability(Durability::Immediate)
            .map_err(|e| StoreError::Io(e.to_string()))?;
        let mut writer = Writer { txn };
        let value = f(&mut writer)?;
        writer.txn.commit().map_err(StoreError::from)?;
        Ok(value)
    }

    /// The number of rows in every table, by table name (tests, `gatehouse doctor`).
    pub fn table_sizes(&self) -> Result<Vec<(String, u64)>> {
        use redb::{ReadableTableMetadata, TableHandle};
        use tables::*;
        let txn = self.db.begin_read()?;
        let mut sizes = Vec::new();
        macro_rules! count {
            ($($t:expr),*) => {$(
                sizes.push(($t.name().to_owned(), txn.open_table($t)?.len()?));
            )*};
        }
        count!(
            META,
            USERS,
            USERS_BY_EMAIL,
            SSO_IDENTITIES,
            SESSIONS,
            SESSIONS_BY_USER,
            SESSIONS_BY_EXPIRY,
            ONE_TIME_TOKENS,
            AUDIT,
            SETTINGS,
            CLIENTS,
            CLIENTS_BY_SLUG
        );
        Ok(sizes)
    }

    /// Checks every page's checksum; for `gatehouse doctor`.
    pub fn check_integrity(&mut self) -> Result<bool> {
        self.db
            .check_integrity()
            .map_err(|e| StoreError::Io(e.to_string()))
    }
}

/// Opening tables the same way in read and write transactions.
pub trait Tables {
    type Table<'a, K: redb::Key + 'static, V: redb::Value + 'static>: ReadableTable<K, V>
    where
        Self: 'a;

    fn table<K: redb::Key + 'static, V: redb::Value + 'static>(
        &self,
        def: TableDefinition<K, V>,
    ) -> Result<Self::Table<'_, K, V>>;
}

/// A read transaction.
pub struct Reader {
    txn: ReadTransaction,
}

/// A write transaction.
pub struct Writer {
    txn: WriteTransaction,
}

impl Tables for Reader {
    type Table<'a, K: redb::Key + 'static, V: redb::Value + 'static> = ReadOnlyTable<K, V>;

    fn table<K: redb::Key + 'static, V: redb::Value + 'static>(
        &self,
        def: TableDefinition<K, V>,
    ) -> Result<ReadOnlyTable<K, V>> {
        Ok(self.txn.open_table(def)?)
    }
}

impl Tables for Writer {
    type Table<'a, K: redb::Key + 'static, V: redb::Value + 'static> = Table<'a, K, V>;

    fn table<K: redb::Key + 'static, V: redb::Value + 'static>(
        &self,
        def: TableDefinition<K, V>,
    ) -> Result<Table<'_, K, V>> {
        Ok(self.txn.open_table(def)?)
    }
}

/// The read traits of every table module, for `use crate::store::prelude::*`. Each
/// read works in read and write transactions alike.
pub mod prelude {
    pub use super::audit::AuditReads;
    pub use super::clients::ClientReads;
    pub use super::sessions::SessionReads;
    pub use super::settings::SettingReads;
    pub use super::tokens::TokenReads;
    pub use super::users::UserReads;
    pub use super::{Reader, Store, StoreError, Tables, Writer};
}

impl Writer {
    /// Opens a table for writing.
    pub(crate) fn table_mut<K: redb::Key + 'static, V: redb::Value + 'static>(
        &mut self,
        def: TableDefinition<K, V>,
    ) -> Result<Table<'_, K, V>> {
        Ok(self.txn.open_table(def)?)
    }
}
