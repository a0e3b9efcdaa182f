//! Schema versions and the migrations between them, run at every open. Each migration
//! is a named function that is safe to run twice; the version is bumped in the same
//! transaction as the migration's writes (all pending steps share one transaction).

use redb::ReadableTable;

use super::tables::*;
use super::{Result, Store, StoreError, Writer};

/// The schema version this build writes.
pub const CURRENT_VERSION: u64 = 3;
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
        version: 3,
        name: "Entra settings become providers",
        apply: entra_settings_become_providers,
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
    // Every pending step in one transaction: the store is at the old version or at
    // the new one, never in between, and opening costs one commit however many
    // steps there are.
    let pending: Vec<&Migration> = MIGRATIONS.iter().filter(|m| m.version > found).collect();
    if pending.is_empty() {
        return Ok(());
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
    w.table_mut(IDENTITY_PROVIDERS)?;
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
