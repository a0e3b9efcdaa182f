//! The embedded store: one redb file. Only storage lives here — tables, codecs,
//! indexes kept in step, migrations — and no decisions about users or policy.
//!
//! Access goes through closures: [`Store::read`] gives a [`Reader`] over one read
//! transaction; [`Store::write`] gives a [`Writer`] over one write transaction that is
//! committed durably (fsync) before `write` returns, so whatever a caller acknowledges
//! afterwards survives a crash. Both implement the read traits in [`prelude`], so a use
//! case can read and write in one transaction.

pub mod audit;
#[cfg(feature = "bench")]
pub mod bulk;
pub mod checks;
pub mod clients;
pub mod codec;
pub mod compact;
pub mod devices;
mod handle;
pub mod migrations;
pub mod passkeys;
pub mod providers;
pub mod provisioning;
pub mod retired_tables;
pub mod sessions;
pub mod settings;
pub mod snapshot;
pub mod tables;
pub mod tokens;
pub mod users;

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use redb::{
    Database, Durability, ReadOnlyTable, ReadTransaction, ReadableTable, Table, TableDefinition,
    WriteTransaction,
};

use handle::{Db, Handle, Opener};

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
    handle: Handle,
    /// Told how long each commit took (the metrics' store commit histogram).
    on_commit: Option<CommitObserver>,
    /// Counts write transactions (see [`Store::generation`]).
    generation: AtomicU64,
}

/// Why an operation failed while the store file cannot be opened at all.
const UNAVAILABLE: &str = "the store file could not be reopened after an I/O failure";

/// Receives the duration of every commit.
pub type CommitObserver = Box<dyn Fn(Duration) + Send + Sync>;

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Store")
    }
}

/// Page cache for the store. Pages are cached as they are read and stay until the
/// cache is full, so the whole cache is memory the server holds once it has run a
/// while (500 sign-ins over a million sessions fill 38 MiB of pages in seconds): it
/// counts against the 64 MiB the process may use besides Argon2 (README, benchmark
/// row 4). 8 MiB holds the branch pages of a million-session store and the pages of
/// recent reads; any other page is one read from the OS page cache, which measured
/// no slower in forward-auth and sign-in (benchmark rows 1–3).
const CACHE_BYTES: usize = 8 * 1024 * 1024;

impl Store {
    /// Opens (or creates) the store file and brings its schema up to date.
    pub fn open(path: &Path) -> Result<Store> {
        let db = redb::Builder::new()
            .set_cache_size(CACHE_BYTES)
            .create(path)?;
        Store::from_database(db, Some(Opener::path(path.to_owned(), CACHE_BYTES)))
    }

    /// Opens the store file as it is, without migrating it (tests of migrations).
    #[cfg(test)]
    pub(crate) fn open_without_migrating(path: &Path) -> Result<Store> {
        let db = redb::Builder::new().create(path)?;
        Ok(Store {
            handle: Handle::new(db, None),
            on_commit: None,
            generation: AtomicU64::new(0),
        })
    }

    /// A store held in memory only; for tests and benchmarks.
    pub fn in_memory() -> Result<Store> {
        let db = redb::Builder::new().create_with_backend(redb::backends::InMemoryBackend::new())?;
        Store::from_database(db, None)
    }

    /// A store on a storage backend made by `make`, which is called again to reopen
    /// the store after an I/O failure (tests inject failing storage this way).
    pub fn with_backend<B: redb::StorageBackend>(
        make: impl Fn() -> std::io::Result<B> + Send + Sync + 'static,
    ) -> Result<Store> {
        let opener = Opener::backend(make);
        let db = (opener.read_write)()?;
        Store::from_database(db, Some(opener))
    }

    fn from_database(db: Database, opener: Option<Opener>) -> Result<Store> {
        let mut store = Store {
            handle: Handle::new(db, opener),
            on_commit: None,
            generation: AtomicU64::new(0),
        };
        if migrations::run(&store)? {
            store.compact_after_migration();
        }
        Ok(store)
    }

    /// Gives back the pages a migration freed. A failure is logged, not fatal: the
    /// store is complete either way, only larger.
    fn compact_after_migration(&mut self) {
        let started = Instant::now();
        let compacted = match self.handle.get_mut() {
            Some(Db::ReadWrite(db)) => db.compact().map_err(|e| e.to_string()),
            _ => Err("the store is not open for writing".to_owned()),
        };
        match compacted {
            Ok(_) => tracing::info!(
                millis = started.elapsed().as_millis() as u64,
                "store compacted after its migration"
            ),
            Err(e) => tracing::warn!(error = %e, "store not compacted after its migration"),
        }
    }

    /// Reports the duration of every later commit to `observer`.
    pub fn observe_commits(&mut self, observer: CommitObserver) {
        self.on_commit = Some(observer);
    }

    /// The store's generation: a number that grows after every write transaction
    /// (committed, failed or abandoned) and after every reopen. Anything derived from
    /// a read is still what the store holds as long as the generation read *before*
    /// that read transaction began is unchanged — the rule the forward-auth cache
    /// keeps (`service::forward_auth_cache`). It lives in this process only: one
    /// process owns a store file.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Moves the generation on; after a commit is visible, never before.
    fn next_generation(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    /// Runs `f` over one read transaction (a consistent snapshot).
    pub fn read<T, E: From<StoreError>>(
        &self,
        f: impl FnOnce(&Reader) -> Result<T, E>,
    ) -> Result<T, E> {
        let guard = self.handle.get();
        let Some(db) = guard.as_ref() else {
            return Err(StoreError::Io(UNAVAILABLE.to_owned()).into());
        };
        let txn = db.begin_read().map_err(|e| self.failure(e.into()))?;
        f(&Reader { txn })
    }

    /// Runs `f` in one write transaction and commits it durably (fsync) before
    /// returning. If `f` fails, nothing it wrote is kept.
    pub fn write<T, E: From<StoreError>>(
        &self,
        f: impl FnOnce(&mut Writer) -> Result<T, E>,
    ) -> Result<T, E> {
        self.write_with(Durability::Immediate, f)
    }

    /// [`Self::write`] committed with `durability` (the bulk loader's unsynced
    /// batches use [`Durability::None`]).
    fn write_with<T, E: From<StoreError>>(
        &self,
        durability: Durability,
        f: impl FnOnce(&mut Writer) -> Result<T, E>,
    ) -> Result<T, E> {
        let guard = self.handle.get();
        let db = match guard.as_ref() {
            Some(Db::ReadWrite(db)) => db,
            Some(Db::ReadOnly(_) | Db::Copy(_)) => {
                return Err(StoreError::Io(
                    "the store is read-only after a write failure (disk full or read-only file system?)"
                        .to_owned(),
                )
                .into());
            }
            None => return Err(StoreError::Io(UNAVAILABLE.to_owned()).into()),
        };
        let mut txn = db.begin_write().map_err(|e| self.failure(e.into()))?;
        txn.set_durability(durability)
            .map_err(|e| StoreError::Io(e.to_string()))?;
        let mut writer = Writer { txn };
        // Whatever happens below (commit, failure, `f` refusing), the generation
        // moves on once the transaction is over: readers never keep a result across
        // a write.
        let _moves_generation = GenerationOnDrop(self);
        let value = f(&mut writer)?;
        let started = Instant::now();
        writer.txn.commit().map_err(|e| self.failure(e.into()))?;
        if let Some(observe) = &self.on_commit {
            observe(started.elapsed());
        }
        Ok(value)
    }

    /// Turns a redb failure into a store error, scheduling a reopen when it was an I/O
    /// failure (which redb latches until the database is reopened).
    fn failure(&self, e: redb::Error) -> StoreError {
        if let redb::Error::Io(_) | redb::Error::PreviousIo | redb::Error::DatabaseClosed = e {
            tracing::error!(error = %e, "store I/O failure (disk full or read-only?); writes fail until it clears");
            self.handle.failed();
        }
        StoreError::Io(e.to_string())
    }

    /// The number of rows in every table, by table name (tests, `gatehouse doctor`).
    pub fn table_sizes(&self) -> Result<Vec<(String, u64)>> {
        use redb::{ReadableTableMetadata, TableHandle};
        use tables::*;
        self.read(|r| {
            let txn = &r.txn;
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
                CLIENTS_BY_SLUG,
                KNOWN_DEVICES,
                IDENTITY_PROVIDERS,
                SCIM_TOKENS,
                SCIM_USERS,
                SCIM_EXTERNAL_IDS,
                SCIM_USER_NAMES,
                SCIM_GROUPS,
                PROVISIONING_STATE
            );
            Ok(sizes)
        })
    }

    /// Checks every page's checksum; for `gatehouse doctor` and `restore`.
    pub fn check_integrity(&mut self) -> Result<bool> {
        match self.handle.get_mut() {
            Some(Db::ReadWrite(db)) => db
                .check_integrity()
                .map_err(|e| StoreError::Io(e.to_string())),
            Some(Db::ReadOnly(_) | Db::Copy(_)) | None => Err(StoreError::Io(
                "the store is not open for writing; cannot check it".to_owned(),
            )),
        }
    }
}

/// Moves the store's generation on when dropped: when [`Store::write_with`] returns,
/// after its commit (or after `f` failed, when nothing became visible).
struct GenerationOnDrop<'a>(&'a Store);

impl Drop for GenerationOnDrop<'_> {
    fn drop(&mut self) {
        self.0.next_generation();
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
    pub use super::devices::DeviceReads;
    pub use super::passkeys::PasskeyReads;
    pub use super::providers::ProviderReads;
    pub use super::provisioning::ProvisioningReads;
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
