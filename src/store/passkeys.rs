//! Passkeys, in their own table keyed by user id (the user record stays as it is),
//! with a unique index of credential ids so one credential never belongs to two
//! users and a passkey sign-in finds its owner in one hop.

use redb::ReadableTable;

use super::codec::{self, Record};
use super::tables::{PASSKEYS, PASSKEYS_BY_CREDENTIAL};
use super::{Result, StoreError, Tables, Writer};
use crate::domain::passkey::PasskeyRecord;
use crate::domain::user::UserId;

impl Record for PasskeyRecord {
    const KIND: &'static str = "passkey";
}

/// Reading passkeys.
pub trait PasskeyReads: Tables {
    /// Every passkey of `user`, oldest credential id first.
    fn passkeys_of(&self, user: UserId) -> Result<Vec<PasskeyRecord>> {
        let table = self.table(PASSKEYS)?;
        let id = user.as_u128();
        let empty: &[u8] = &[];
        let mut out = Vec::new();
        for entry in table.range((id, empty)..)? {
            let (k, v) = entry?;
            if k.value().0 != id {
                break;
            }
            out.push(codec::decode(v.value())?);
        }
        Ok(out)
    }

    /// The passkey with this credential id, whoever holds it.
    fn passkey_by_credential(&self, credential_id: &[u8]) -> Result<Option<PasskeyRecord>> {
        let owner = {
            let index = self.table(PASSKEYS_BY_CREDENTIAL)?;
            let found = index.get(credential_id)?;
            found.map(|v| v.value())
        };
        let Some(owner) = owner else {
            return Ok(None);
        };
        let table = self.table(PASSKEYS)?;
        let found = table.get((owner, credential_id))?;
        found.map(|v| codec::decode(v.value())).transpose()
    }
}

impl<T: Tables> PasskeyReads for T {}

impl Writer {
    /// Adds or updates a passkey. A credential id already held by another user is a
    /// conflict.
    pub fn put_passkey(&mut self, passkey: &PasskeyRecord) -> Result<()> {
        let owner = passkey.user_id.as_u128();
        let credential_id = passkey.credential_id().to_vec();
        {
            let mut index = self.table_mut(PASSKEYS_BY_CREDENTIAL)?;
            let holder = index.get(credential_id.as_slice())?.map(|v| v.value());
            if holder.is_some_and(|h| h != owner) {
                return Err(StoreError::Conflict(
                    "that passkey is registered to another account".to_owned(),
                ));
            }
            index.insert(credential_id.as_slice(), owner)?;
        }
        let bytes = codec::encode(passkey)?;
        self.table_mut(PASSKEYS)?
            .insert((owner, credential_id.as_slice()), bytes.as_slice())?;
        Ok(())
    }

    /// Removes one passkey of `user`; returns whether it existed.
    pub fn delete_passkey(&mut self, user: UserId, credential_id: &[u8]) -> Result<bool> {
        let removed = self
            .table_mut(PASSKEYS)?
            .remove((user.as_u128(), credential_id))?
            .is_some();
        if removed {
            self.table_mut(PASSKEYS_BY_CREDENTIAL)?
                .remove(credential_id)?;
        }
        Ok(removed)
    }

    /// Removes every passkey of `user`; returns how many.
    pub fn delete_passkeys_of_user(&mut self, user: UserId) -> Result<usize> {
        let ids: Vec<Vec<u8>> = self
            .passkeys_of(user)?
            .iter()
            .map(|p| p.credential_id().to_vec())
            .collect();
        for id in &ids {
            self.delete_passkey(user, id)?;
        }
        Ok(ids.len())
    }
}
