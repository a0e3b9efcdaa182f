//! Schema versions and the migrations between them, run at every open. Each migration
//! is a named function that is safe to run twice; the version is bumped in the same
//! transaction as the migration's writes, so a crash (even `kill -9`) in the middle
//! leaves the store at the old version with none of the migration's writes, and the
//! next open runs it again from the start.

use std::time::Instant;

use redb::{ReadableTable, TableDefinition};

use super::compact;
use super::tables::*;
use super::{Result, Store, StoreError, Writer};
use crate::domain::session::Session;
use crate::domain::user::User;

/// The schema version this build writes.
pub const CURRENT_VERSION: u64 = 2;
/// The `meta` key under which the schema version is stored.
pub(crate) const VERSION_KEY: &str = "schema_version";

/// One step from `version - 1` to `version`.
struct Migration {
    version: u64,
    name: &'static str,
    apply: fn(&mut Writer) -> Result<()>,
}

const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "create the first tables",
        apply: create_tables_v1,
    },
    Migration {
        version: 2,
        name: "compact user and session records",
        apply: compact_users_and_sessions,
    },
];

/// Brings the store to [`CURRENT_VERSION`], refusing a store written by a newer build.
pub fn run(store: &Store) -> Result<()> {
    let found = store.write(|w| {
        // Tables that later versions add are created here too, so opening them never
        // fails on an older file; creating an existing table is a no-op.
        create_tables_v1(w)?;
        stored_version(w)
    })?;
    if found > CURRENT_VERSION {
        return Err(StoreError::TooNew {
            found,
            supported: CURRENT_VERSION,
        });
    }
    for migration in MIGRATIONS.iter().filter(|m| m.version > found) {
        let started = Instant::now();
        if found > 0 {
            tracing::info!(
                version = migration.version,
                name = migration.name,
                "store migration started"
            );
        }
        store.write(|w| {
            (migration.apply)(w)?;
            set_version(w, migration.version)
        })?;
        tracing::info!(
            version = migration.version,
            name = migration.name,
            millis = started.elapsed().as_millis() as u64,
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

/// Records rewritten per step of a migration; each step reads a batch of rows, then
/// writes them back (a redb table cannot be written while it is being iterated).
const BATCH: usize = 10_000;

/// Version 2: user and session records go from JSON (version byte 1) to the compact
/// layout of `store::compact` (version byte 2). Records already compact are left as
/// they are, so running it twice changes nothing.
fn compact_users_and_sessions(w: &mut Writer) -> Result<()> {
    let started = Instant::now();
    let users = rewrite_v1_records(w, USERS, |bytes| {
        let user: User = super::codec::decode_v1(compact::USER, bytes)?;
        compact::encode_user(&user)
    })?;
    let sessions = rewrite_v1_records(w, SESSIONS, |bytes| {
        let session: Session = super::codec::decode_v1(compact::SESSION, bytes)?;
        compact::encode_session(&session)
    })?;
    tracing::info!(
        users,
        sessions,
        millis = started.elapsed().as_millis() as u64,
        "user and session records rewritten in the compact layout"
    );
    Ok(())
}

/// Rewrites every value of `table` whose version byte is 1 with `convert`; returns
/// how many were rewritten.
fn rewrite_v1_records<K>(
    w: &mut Writer,
    table: TableDefinition<K, &[u8]>,
    convert: impl Fn(&[u8]) -> Result<Vec<u8>>,
) -> Result<u64>
where
    K: redb::Key + 'static,
    for<'a> K: redb::Value<SelfType<'a> = K> + Copy,
{
    let mut rewritten = 0;
    let mut after: Option<K> = None;
    loop {
        let mut batch: Vec<(K, Vec<u8>)> = Vec::with_capacity(BATCH);
        let mut last = None;
        {
            let t = w.table_mut(table)?;
            let range = match after {
                Some(key) => {
                    t.range::<K>((std::ops::Bound::Excluded(key), std::ops::Bound::Unbounded))?
                }
                None => t.range::<K>(..)?,
            };
            for entry in range.take(BATCH) {
                let (k, v) = entry?;
                let key = k.value();
                last = Some(key);
                if v.value().first() == Some(&1) {
                    batch.push((key, convert(v.value())?));
                }
            }
        }
        let Some(last) = last else { break };
        let mut t = w.table_mut(table)?;
        for (key, bytes) in &batch {
            t.insert(*key, bytes.as_slice())?;
        }
        rewritten += batch.len() as u64;
        after = Some(last);
    }
    Ok(rewritten)
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
