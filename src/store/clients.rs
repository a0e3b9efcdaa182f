//! Clients and their slug index, and removing everything a realm holds.

use redb::ReadableTable;

use super::codec::{self, Record};
use super::tables::{AUDIT, CLIENTS, CLIENTS_BY_SLUG};
use super::{Result, StoreError, Tables, Writer};
use crate::domain::audit::AuditEvent;
use crate::domain::client::Client;
use crate::domain::user::{ClientId, Realm};
use crate::store::tokens::OneTimeToken;
use crate::store::users::UserReads;

impl Record for Client {
    const KIND: &'static str = "client";
}

/// Reading clients.
pub trait ClientReads: Tables {
    fn client(&self, id: ClientId) -> Result<Option<Client>> {
        let table = self.table(CLIENTS)?;
        let found = table.get(id.0.as_u128())?;
        found.map(|v| codec::decode(v.value())).transpose()
    }

    fn client_by_slug(&self, slug: &str) -> Result<Option<Client>> {
        let id = {
            let index = self.table(CLIENTS_BY_SLUG)?;
            let found = index.get(slug)?;
            found.map(|v| ClientId(uuid::Uuid::from_u128(v.value())))
        };
        match id {
            Some(id) => self.client(id),
            None => Ok(None),
        }
    }

    /// Every client, ordered by slug.
    fn clients(&self) -> Result<Vec<Client>> {
        let ids: Vec<u128> = {
            let index = self.table(CLIENTS_BY_SLUG)?;
            let mut ids = Vec::new();
            for entry in index.iter()? {
                ids.push(entry?.1.value());
            }
            ids
        };
        let mut clients = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(c) = self.client(ClientId(uuid::Uuid::from_u128(id)))? {
                clients.push(c);
            }
        }
        Ok(clients)
    }
}

impl<T: Tables> ClientReads for T {}

impl Writer {
    /// Inserts or replaces a client; the slug must be free or already its own.
    pub fn put_client(&mut self, client: &Client) -> Result<()> {
        let id = client.id.0.as_u128();
        {
            let mut index = self.table_mut(CLIENTS_BY_SLUG)?;
            if let Some(other) = index.get(client.slug.as_str())?
                && other.value() != id
            {
                return Err(StoreError::Conflict(format!(
                    "slug {} is taken",
                    client.slug
                )));
            }
            index.insert(client.slug.as_str(), id)?;
        }
        let bytes = codec::encode(client)?;
        self.table_mut(CLIENTS)?.insert(id, bytes.as_slice())?;
        Ok(())
    }

    /// Deletes a client record and its slug index entry.
    pub fn delete_client(&mut self, client: &Client) -> Result<()> {
        self.table_mut(CLIENTS_BY_SLUG)?
            .remove(client.slug.as_str())?;
        self.table_mut(CLIENTS)?.remove(client.id.0.as_u128())?;
        Ok(())
    }

    /// Deletes everything of `realm`: its users (with their indexes and sessions), its
    /// single-use tokens and its audit events. Returns how many users were removed.
    pub fn delete_realm(&mut self, realm: Realm) -> Result<usize> {
        let users = self.users_in_realm(realm)?;
        for user in &users {
            self.delete_sessions_of_user(user.id, |_, _| true)?;
            self.delete_user(user.id)?;
        }
        self.delete_one_time_tokens(|t: &OneTimeToken| t.realm == realm)?;
        self.delete_providers(realm)?;
        self.delete_provisioning_of_realm(realm)?;
        let doomed: Vec<u64> = {
            let table = self.table_mut(AUDIT)?;
            let mut keys = Vec::new();
            for entry in table.iter()? {
                let (k, v) = entry?;
                let event: AuditEvent = codec::decode(v.value())?;
                if event.realm == Some(realm) {
                    keys.push(k.value());
                }
            }
            keys
        };
        let mut audit = self.table_mut(AUDIT)?;
        for key in doomed {
            audit.remove(key)?;
        }
        drop(audit);
        Ok(users.len())
    }
}
