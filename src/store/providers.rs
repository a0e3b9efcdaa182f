//! Each realm's identity providers (DESIGN §10): one record per realm, the ordered
//! list with the realm's email-first switches.

use redb::ReadableTable;

use super::codec::{self, Record};
use super::tables::IDENTITY_PROVIDERS;
use super::{Result, Tables, Writer};
use crate::domain::sso::provider::ProviderList;
use crate::domain::user::Realm;

impl Record for ProviderList {
    const KIND: &'static str = "identity providers";
}

/// Reading a realm's providers.
pub trait ProviderReads: Tables {
    /// The realm's list (empty when never saved).
    fn providers(&self, realm: Realm) -> Result<ProviderList> {
        let table = self.table(IDENTITY_PROVIDERS)?;
        let found = table.get(realm.key().as_str())?;
        match found {
            Some(v) => codec::decode(v.value()),
            None => Ok(ProviderList::default()),
        }
    }
}

impl<T: Tables> ProviderReads for T {}

impl Writer {
    pub fn put_providers(&mut self, realm: Realm, list: &ProviderList) -> Result<()> {
        let bytes = codec::encode(list)?;
        self.table_mut(IDENTITY_PROVIDERS)?
            .insert(realm.key().as_str(), bytes.as_slice())?;
        Ok(())
    }

    pub fn delete_providers(&mut self, realm: Realm) -> Result<()> {
        self.table_mut(IDENTITY_PROVIDERS)?
            .remove(realm.key().as_str())?;
        Ok(())
    }
}
