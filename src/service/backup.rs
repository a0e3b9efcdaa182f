//! Backups: a consistent snapshot of the store into a new file, re-read to check that
//! every table arrived whole. The running server takes it for the admin socket, the
//! CLI on a stopped store. Placing the file where the operator asked, and the key
//! file, is the CLI's job (`ops::backup`), not this module's.

use std::path::Path;

use super::{Result, Services};
use crate::store::snapshot::{TableCounts, count_rows};
use crate::store::tables::USERS;
use crate::store::{Store, StoreError};

/// A verified snapshot, and the master key when it was asked for.
pub struct Snapshot {
    /// Rows copied per table.
    pub tables: TableCounts,
    /// The master key in hex (the format of `master.key`), only when asked for.
    pub key_hex: Option<String>,
}

impl Snapshot {
    /// Users in the snapshot.
    pub fn users(&self) -> u64 {
        use redb::TableHandle;
        self.tables.rows(USERS.name())
    }
}

impl Services {
    /// Snapshots the store to the new file `path` and verifies it; with the master key
    /// when `with_key` is set.
    pub fn snapshot(&self, path: &Path, with_key: bool) -> Result<Snapshot> {
        let tables = snapshot_verified(&self.store, path)?;
        let key_hex = with_key.then(|| self.keys.export_hex());
        Ok(Snapshot { tables, key_hex })
    }
}

/// Snapshots `store` to the new file `path` and re-reads it to check every table
/// arrived whole; a file that does not read back as written is removed.
pub fn snapshot_verified(
    store: &Store,
    path: &Path,
) -> std::result::Result<TableCounts, StoreError> {
    let counts = store.snapshot_to(path)?;
    let reread = count_rows(path);
    if reread.as_ref().ok() != Some(&counts) {
        let _ = std::fs::remove_file(path);
        return Err(StoreError::Corrupt {
            kind: "backup",
            detail: format!("the new file does not read back as written ({reread:?})"),
        });
    }
    Ok(counts)
}
