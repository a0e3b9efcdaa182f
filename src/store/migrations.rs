//! Schema versions and the migrations between them, run at every open. Each migration
//! is a named function that is safe to run twice; the version is bumped in the same
//! transaction as the migration's writes.

use redb::ReadableTable;

use super::tables::*;
use super::{Result, Store, StoreError, Writer};

/// The schema version this build writes.
pub const CURRENT_VERSION: u64 = 1;
/// The `meta` key under which the schema version is stored.
pub(crate) const VERSION_KEY: &str = "schema_version";

/// One step from `version - 1` to `version`.
struct Migration {
    version: u64,
    name: &'static str,
    apply: fn(&mut Writer) -> Result<()>,
}

const MIGRATIONS: &[Migration] = &[Migration {
    version: 1,
    name: "create the first tables",
    apply: create_tables_v1,
}];

/// Brings the store to [`CURRENT_VERSION`], refusing a store written by a newer build.
pub fn run(store: &Store) -> Result<()> {
    let found = store.write(|w| {
        // Tables that later versions add are created here too, so opening them never
        // fails on an older file; creating an existing table is a no-op.
        create_tables_v1(w)?;
        create_passkey_tables(w)?;
        stored_version(w)
    })?;
    if found > CURRENT_VERSION {
        return Err(StoreError::TooNew {
            found,
            supported: CURRENT_VERSION,
        });
    }
    for migration in MIGRATIONS.iter().filter(|m| m.version > found) {
        store.write(|w| {
            (migration.apply)(w)?;
            set_version(w, migration.version)
        })?;
        tracing::info!(
            version = migration.version,
            name = migration.name,
            "store migrated"
        );
    }
    Ok(())
}

/// The schema version recorded in the store (0 for a new file).
pub fn stored_version(w: &mut Writer) -> Result<u64> {
    let meta = w.table_mut(META)?;
    let version = meta.get(VERSION_KEY)?.map(|v| {
        let bytes: [u8; 8] = v.value().try_into().unwrap_or_default();
        u64::from_le_bytes(bytes)
    });
    Ok(version.unwrap_or(0))
}

fn set_version(w: &mut Writer, version: u64) -> Result<()> {
    w.table_mut(META)?
        .insert(VERSION_KEY, version.to_le_bytes().as_slice())?;
    Ok(())
}

fn create_tables_v1(w: &mut Writer) -> Result<()> {
    w.table_mut(META)?;
    w.table_mut(USERS)?;
    w.table_mut(USERS_BY_EMAIL)?;
    w.table_mut(SSO_IDENTITIES)?;
    w.table_mut(SESSIONS)?;
    w.table_mut(SESSIONS_BY_USER)?;
    w.table_mut(SESSIONS_BY_EXPIRY)?;
    w.table_mut(ONE_TIME_TOKENS)?;
    w.table_mut(AUDIT)?;
    w.table_mut(SETTINGS)?;
    w.table_mut(CLIENTS)?;
    w.table_mut(CLIENTS_BY_SLUG)?;
    Ok(())
}

/// Passkeys (new tables, no version bump: an older file simply has none yet).
fn create_passkey_tables(w: &mut Writer) -> Result<()> {
    w.table_mut(PASSKEYS)?;
    w.table_mut(PASSKEYS_BY_CREDENTIAL)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
