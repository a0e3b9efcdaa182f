//! Version 4: sessions keyed by the first half of their token's keyed hash
//! (`store::sessions::session_key`) instead of the whole 32 bytes, in three new
//! tables; the per-user index no longer holds the expiry, which nothing read.
//!
//! Every row is copied in key order into the new tables and the old ones are deleted,
//! in the migration's one transaction. Cutting a key to its first half keeps the
//! order of keys, so each new table is filled front to back and its pages are full.
//! Sessions stay signed in: a token's key is still found from the token alone. Running
//! it twice changes nothing (the old tables are gone, or empty, the second time).

use std::time::Instant;

use redb::ReadableTable;

use super::super::retired_tables::{SESSIONS_BY_EXPIRY_V1, SESSIONS_BY_USER_V1, SESSIONS_V1};
use super::super::sessions::session_key;
use super::super::tables::{SESSIONS, SESSIONS_BY_EXPIRY, SESSIONS_BY_USER};
use super::super::{Result, Writer};

pub(super) fn sessions_keyed_by_half_hashes(w: &mut Writer) -> Result<()> {
    let started = Instant::now();
    let mut sessions = 0u64;
    {
        let source = w.txn.open_table(SESSIONS_V1)?;
        let mut target = w.txn.open_table(SESSIONS)?;
        for entry in source.iter()? {
            let (key, record) = entry?;
            target.insert(session_key(&key.value()), record.value())?;
            sessions += 1;
        }
    }
    {
        let source = w.txn.open_table(SESSIONS_BY_USER_V1)?;
        let mut target = w.txn.open_table(SESSIONS_BY_USER)?;
        for entry in source.iter()? {
            let (user, key) = entry?.0.value();
            target.insert((user, session_key(&key)), ())?;
        }
    }
    {
        let source = w.txn.open_table(SESSIONS_BY_EXPIRY_V1)?;
        let mut target = w.txn.open_table(SESSIONS_BY_EXPIRY)?;
        for entry in source.iter()? {
            let (at, key) = entry?.0.value();
            target.insert((at, session_key(&key)), ())?;
        }
    }
    w.txn.delete_table(SESSIONS_V1)?;
    w.txn.delete_table(SESSIONS_BY_USER_V1)?;
    w.txn.delete_table(SESSIONS_BY_EXPIRY_V1)?;
    tracing::info!(
        sessions,
        millis = started.elapsed().as_millis() as u64,
        "sessions moved to keys of half their token hash"
    );
    Ok(())
}
