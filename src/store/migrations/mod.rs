//! Schema versions and the migrations between them, run at every open. Each migration
//! is a named function that is safe to run twice; the version is bumped in the same
//! transaction as the migration's writes, and all pending steps share that one
//! transaction, so a crash (even `kill -9`) in the middle leaves the store at the old
//! version with none of the migrations' writes, and the next open runs them again.

use std::time::Instant;

use redb::{ReadableTable, TableDefinition};

use super::compact;
use super::retired_tables::SESSIONS_V1;
use super::tables::*;
use super::{Result, Store, StoreError, Writer};

mod session_keys;
use crate::domain::session::Session;
use crate::domain::user::User;

/// The schema version this build writes.
pub const CURRENT_VERSION: u64 = 4;
/// The `meta` key under which the schema version is stored.
pub(crate) const VERSION_KEY: &str = "schema_version";

/// One step from `version - 1` to `version`.
struct Migration {
    version: u64,
    name: &'static str,
    apply: fn(&mut Writer) -> Result<()>,
    /// Whether it rebuilds tables of an existing store (which leaves free pages that
    /// a compaction after the commit gives back).
    rebuilds: bool,
}

const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "create the first tables",
        apply: create_tables_v1,
        rebuilds: false,
    },
    Migration {
        version: 2,
        name: "compact user and session records",
        apply: compact_users_and_sessions,
        rebuilds: true,
    },
    Migration {
        version: 3,
        name: "Entra settings become providers",
        apply: entra_settings_become_providers,
        rebuilds: false,
    },
    Migration {
        version: 4,
        name: "sessions keyed by half their token hash",
        apply: session_keys::sessions_keyed_by_half_hashes,
        rebuilds: true,
    },
];

/// Brings the store to [`CURRENT_VERSION`], refusing a store written by a newer build.
/// Returns whether tables were rebuilt (the file then has free pages worth giving
/// back with a compaction).
pub fn run(store: &Store) -> Result<bool> {
    let found = store.write(|w| {
        // Every table this build reads, so opening one never fails on an older file
        // (tables a version added without a migration); creating an existing table
        // is a no-op.
        create_current_tables(w)?;
        stored_version(w)
    })?;
    if found > CURRENT_VERSION {
        return Err(StoreError::TooNew {
            found,
            supported: CURRENT_VERSION,
        });
    }
    // Every pending step in one transaction: the store is at the old version or at
    // the new one, never in between, and opening costs one commit however many
    // steps there are.
    let pending: Vec<&Migration> = MIGRATIONS.iter().filter(|m| m.version > found).collect();
    if pending.is_empty() {
        return Ok(false);
    }
    let rebuilt = found > 0 && pending.iter().any(|m| m.rebuilds);
    let started = Instant::now();
    if found > 0 {
        for migration in &pending {
            tracing::info!(
                version = migration.version,
                name = migration.name,
                "store migration started"
            );
        }
    }
    store.write(|w| {
        for migration in &pending {
            (migration.apply)(w)?;
            set_version(w, migration.version)?;
        }
        Ok::<_, StoreError>(())
    })?;
    for migration in pending {
        tracing::info!(
            version = migration.version,
            name = migration.name,
            millis = started.elapsed().as_millis() as u64,
            "store migrated"
        );
    }
    Ok(rebuilt)
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

/// Version 1: the first tables (the session tables as they were up to version 3).
fn create_tables_v1(w: &mut Writer) -> Result<()> {
    use super::retired_tables::*;
    w.table_mut(SESSIONS_V1)?;
    w.table_mut(SESSIONS_BY_USER_V1)?;
    w.table_mut(SESSIONS_BY_EXPIRY_V1)?;
    create_current_tables(w)
}

/// Every table of this build.
fn create_current_tables(w: &mut Writer) -> Result<()> {
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
    // Added without a version bump: a new table, created at every open.
    w.table_mut(KNOWN_DEVICES)?;
    w.table_mut(IDENTITY_PROVIDERS)?;
    // Provisioning (SCIM and the Graph sweep): new tables, no version bump.
    w.table_mut(SCIM_TOKENS)?;
    w.table_mut(SCIM_USERS)?;
    w.table_mut(SCIM_EXTERNAL_IDS)?;
    w.table_mut(SCIM_USER_NAMES)?;
    w.table_mut(SCIM_GROUPS)?;
    w.table_mut(PROVISIONING_STATE)?;
    // Passkeys: new tables, no version bump.
    w.table_mut(PASSKEYS)?;
    w.table_mut(PASSKEYS_BY_CREDENTIAL)?;
    Ok(())
}

/// The two fields of the staff Entra settings (`service::sso::settings::StaffSso`,
/// setting `staff-sso`) that the version 3 migration reads.
#[derive(Default, serde::Serialize, serde::Deserialize)]
struct StaffEntraV1 {
    #[serde(default)]
    tenant: String,
    #[serde(default)]
    enabled: bool,
}

impl super::codec::Record for StaffEntraV1 {
    const KIND: &'static str = "staff SSO settings";
}

const STAFF_ENTRA_SETTING: &str = "staff-sso";

/// Version 3 (DESIGN §10): each realm's Entra settings become its first identity
/// provider, of kind `entra`. The staff realm gets one when its Entra app settings
/// name a tenant; each client when it has a tenant. The connection settings stay in
/// their records (the entry refers to them); a realm that already has a list is left
/// alone, so running twice changes nothing. Reads only the settings and client
/// records.
fn entra_settings_become_providers(w: &mut Writer) -> Result<()> {
    use super::prelude::*;
    use crate::domain::client::Client;
    use crate::domain::sso::provider::{IdentityProvider, ProviderList};
    use crate::domain::user::Realm;

    let staff: StaffEntraV1 = {
        let table = w.table_mut(SETTINGS)?;
        let found = table.get(STAFF_ENTRA_SETTING)?;
        match found {
            Some(v) => super::codec::decode(v.value())?,
            None => StaffEntraV1::default(),
        }
    };
    if !staff.tenant.is_empty() && w.providers(Realm::Staff)?.providers.is_empty() {
        let list = ProviderList {
            providers: vec![IdentityProvider::entra(staff.enabled)],
            ..ProviderList::default()
        };
        w.put_providers(Realm::Staff, &list)?;
    }
    let clients: Vec<Client> = w.clients()?;
    for client in clients {
        let realm = Realm::Client(client.id);
        if client.tenant_id.is_some() && w.providers(realm)?.providers.is_empty() {
            let list = ProviderList {
                providers: vec![IdentityProvider::entra(client.sso_enabled)],
                ..ProviderList::default()
            };
            w.put_providers(realm, &list)?;
        }
    }
    Ok(())
}

/// Version 2: user and session records go from JSON (version byte 1) to the compact
/// layout of `store::compact` (version byte 2). Each table is rebuilt: every row is
/// copied, in key order, into a new table (converted when it is at version 1, as it
/// is otherwise), the old table is deleted and the new one takes its name. Rewriting
/// the rows in place would keep every B-tree page the larger JSON rows needed, half
/// empty, and no compaction gives those back; a table filled in key order is dense.
/// Running it twice changes nothing.
fn compact_users_and_sessions(w: &mut Writer) -> Result<()> {
    let started = Instant::now();
    let users = rebuild_table(w, USERS, "users-1-rebuilt", |bytes| {
        let user: User = super::codec::decode_v1(compact::USER, bytes)?;
        compact::encode_user(&user)
    })?;
    let sessions = rebuild_table(w, SESSIONS_V1, "sessions-1-rebuilt", |bytes| {
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

/// Rebuilds `table` under its own name with every value whose version byte is 1
/// replaced by `convert`'s; returns how many were converted. `scratch` is the name
/// the new table has until the old one is gone (within this one transaction).
fn rebuild_table<K>(
    w: &mut Writer,
    table: TableDefinition<K, &[u8]>,
    scratch: &str,
    convert: impl Fn(&[u8]) -> Result<Vec<u8>>,
) -> Result<u64>
where
    K: redb::Key + 'static,
    for<'a> K: redb::Value<SelfType<'a> = K> + Copy,
{
    let scratch: TableDefinition<K, &[u8]> = TableDefinition::new(scratch);
    let mut converted = 0;
    {
        let source = w.txn.open_table(table)?;
        let mut target = w.txn.open_table(scratch)?;
        for entry in source.iter()? {
            let (k, v) = entry?;
            let bytes = v.value();
            if bytes.first() == Some(&1) {
                target.insert(k.value(), convert(bytes)?.as_slice())?;
                converted += 1;
            } else {
                target.insert(k.value(), bytes)?;
            }
        }
    }
    w.txn.delete_table(table)?;
    w.txn.rename_table(scratch, table)?;
    Ok(converted)
}

#[cfg(test)]
mod tests;
