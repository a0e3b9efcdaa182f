//! The redb database behind [`Store`](super::Store), and its recovery after an I/O
//! failure. redb latches a failed write (disk full, file system gone read-only): every
//! later write, and every read of a page not in its cache, fails until the database
//! is closed and opened again. So after such a failure the next store operation
//! reopens the file — read-write if the disk allows it, otherwise for reading only, so
//! reads keep being served while writes are refused — and later operations keep
//! trying to get back to read-write. Only storage mechanics live here; no decisions.
//!
//! Reading only: redb's read-only open refuses a file that needs recovery, which a file
//! last opened for writing and never closed cleanly does; the file cannot be repaired
//! on a read-only disk either. Then the file is copied into memory, where redb repairs
//! it back to its last durable commit — every acknowledged write — and reads are served
//! from that copy until the file is writable again. Gatehouse stores are small (a few
//! MiB), so the copy costs little.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard};
use std::time::{Duration, Instant};

use redb::backends::{FileBackend, InMemoryBackend};
use redb::{Database, ReadOnlyDatabase, ReadTransaction, ReadableDatabase, StorageBackend};

use super::{Result, StoreError};

/// How often a store stuck in read-only mode tries to become writable again.
const RETRY_WRITABLE_EVERY: Duration = Duration::from_secs(1);

type OpenFn<T> = Box<dyn Fn() -> Result<T> + Send + Sync>;

/// Opens the database again after a failure.
pub(super) struct Opener {
    pub read_write: OpenFn<Database>,
    pub read_only: OpenFn<ReadOnlyDatabase>,
    /// A copy in memory, for reading when the file cannot be opened otherwise.
    pub copy: OpenFn<Database>,
}

/// Page cache for an in-memory copy: its pages are in memory already.
const COPY_CACHE_BYTES: usize = 16 * 1024 * 1024;

/// Reads everything `source` holds into a new in-memory database (which redb then
/// repairs, in memory, if it needs to).
fn in_memory_copy(source: &dyn StorageBackend) -> Result<Database> {
    let io = |e: std::io::Error| StoreError::Io(e.to_string());
    let len = source.len().map_err(io)?;
    let size = usize::try_from(len).map_err(|_| StoreError::Io("store too large".to_owned()))?;
    let mut bytes = vec![0; size];
    source.read(0, &mut bytes).map_err(io)?;
    let copy = InMemoryBackend::new();
    copy.set_len(len).map_err(io)?;
    copy.write(0, &bytes).map_err(io)?;
    Ok(redb::Builder::new()
        .set_cache_size(COPY_CACHE_BYTES)
        .create_with_backend(copy)?)
}

impl Opener {
    /// Reopens the file at `path` with `builder`'s settings.
    pub fn path(path: std::path::PathBuf, cache_bytes: usize) -> Opener {
        let rw_path = path.clone();
        let copy_path = path.clone();
        Opener {
            copy: Box::new(move || {
                let file =
                    std::fs::File::open(&copy_path).map_err(|e| StoreError::Io(e.to_string()))?;
                let backend = FileBackend::new(file)?;
                in_memory_copy(&backend)
            }),
            read_write: Box::new(move || {
                Ok(redb::Builder::new()
                    .set_cache_size(cache_bytes)
                    .create(&rw_path)?)
            }),
            read_only: Box::new(move || {
                Ok(redb::Builder::new()
                    .set_cache_size(cache_bytes)
                    .open_read_only(&path)?)
            }),
        }
    }

    /// Reopens through a backend factory (tests inject failing storage this way).
    pub fn backend<B: StorageBackend>(
        make: impl Fn() -> std::io::Result<B> + Send + Sync + 'static,
    ) -> Opener {
        let make = Arc::new(make);
        let ro_make = Arc::clone(&make);
        let copy_make = Arc::clone(&make);
        Opener {
            copy: Box::new(move || {
                let backend = copy_make().map_err(|e| StoreError::Io(e.to_string()))?;
                in_memory_copy(&backend)
            }),
            read_write: Box::new(move || {
                let backend = make().map_err(|e| StoreError::Io(e.to_string()))?;
                Ok(redb::Builder::new().create_with_backend(backend)?)
            }),
            read_only: Box::new(move || {
                let backend = ro_make().map_err(|e| StoreError::Io(e.to_string()))?;
                Ok(redb::Builder::new().open_read_only_with_backend(backend)?)
            }),
        }
    }
}

/// The open database: writable, or for reading only after a write failure.
pub(super) enum Db {
    ReadWrite(Database),
    ReadOnly(ReadOnlyDatabase),
    /// An in-memory copy of the file; never written to.
    Copy(Database),
}

impl Db {
    pub fn begin_read(&self) -> std::result::Result<ReadTransaction, redb::TransactionError> {
        match self {
            Db::ReadWrite(db) | Db::Copy(db) => db.begin_read(),
            Db::ReadOnly(db) => db.begin_read(),
        }
    }
}

/// The database plus what is needed to reopen it.
pub(super) struct Handle {
    /// `None` only while a reopen failed in both modes.
    db: RwLock<Option<Db>>,
    /// `None` for stores that cannot be reopened (in memory).
    opener: Option<Opener>,
    /// Set when an operation failed with an I/O error or the database is not writable.
    needs_reopen: AtomicBool,
    last_attempt: Mutex<Option<Instant>>,
}

impl Handle {
    pub fn new(db: Database, opener: Option<Opener>) -> Handle {
        Handle {
            db: RwLock::new(Some(Db::ReadWrite(db))),
            opener,
            needs_reopen: AtomicBool::new(false),
            last_attempt: Mutex::new(None),
        }
    }

    /// The database (`None` when it could not be reopened after a failure), for the
    /// duration of one transaction. Holding the guard keeps a reopen from closing the
    /// file under a running transaction.
    pub fn get(&self) -> RwLockReadGuard<'_, Option<Db>> {
        if self.needs_reopen.load(Ordering::Acquire) {
            self.try_reopen();
        }
        // A panic while a guard was held leaves the database itself intact.
        self.db.read().unwrap_or_else(|p| p.into_inner())
    }

    /// Exclusive access, for integrity checks.
    pub fn get_mut(&mut self) -> Option<&mut Db> {
        self.db
            .get_mut()
            .unwrap_or_else(|p| p.into_inner())
            .as_mut()
    }

    /// Records that the database failed an I/O operation and must be reopened.
    pub fn failed(&self) {
        self.needs_reopen.store(true, Ordering::Release);
    }

    /// Reopens the database if no transaction is running; otherwise a later operation
    /// tries again. Never waits, so it cannot deadlock with a caller's own guard.
    fn try_reopen(&self) {
        let Some(opener) = &self.opener else {
            return;
        };
        let Ok(mut slot) = self.db.try_write() else {
            return;
        };
        if !self.needs_reopen.load(Ordering::Acquire) {
            return;
        }
        let degraded = !matches!(*slot, Some(Db::ReadWrite(_)));
        if let Ok(mut last) = self.last_attempt.lock() {
            let now = Instant::now();
            if degraded && last.is_some_and(|t| now.duration_since(t) < RETRY_WRITABLE_EVERY) {
                return;
            }
            *last = Some(now);
        }
        // An in-memory copy holds no lock on the file and stays useful until the file
        // opens for writing; anything else must be closed first to release its lock.
        let serving_copy = matches!(*slot, Some(Db::Copy(_)));
        if !serving_copy {
            *slot = None;
        }
        match (opener.read_write)() {
            Ok(db) => {
                *slot = Some(Db::ReadWrite(db));
                self.needs_reopen.store(false, Ordering::Release);
                tracing::warn!("store reopened for reading and writing after an I/O failure");
            }
            Err(_) if serving_copy => {}
            Err(e) => {
                tracing::error!(error = %e, "store cannot be reopened for writing; serving reads only");
                *slot = match (opener.read_only)() {
                    Ok(db) => Some(Db::ReadOnly(db)),
                    Err(_) => match (opener.copy)() {
                        Ok(db) => Some(Db::Copy(db)),
                        Err(e) => {
                            tracing::error!(error = %e, "store cannot be read at all");
                            None
                        }
                    },
                };
            }
        }
    }
}
