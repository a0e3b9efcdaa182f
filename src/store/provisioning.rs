//! Provisioning records: SCIM tokens (by keyed hash), SCIM's view of users with its
//! `externalId` and `userName` indexes kept in step, SCIM groups, and per-realm
//! provisioning state. No decisions here.

use redb::ReadableTable;

use super::codec::{self, Record};
use super::tables::{
    PROVISIONING_STATE, SCIM_EXTERNAL_IDS, SCIM_GROUPS, SCIM_TOKENS, SCIM_USER_NAMES, SCIM_USERS,
};
use super::{Result, StoreError, Tables, Writer};
use crate::domain::provisioning::{ProvisionedUser, RealmProvisioning, ScimGroup, ScimToken};
use crate::domain::user::{Realm, UserId};

impl Record for ScimToken {
    const KIND: &'static str = "SCIM token";
}

impl Record for ProvisionedUser {
    const KIND: &'static str = "provisioned user";
}

impl Record for ScimGroup {
    const KIND: &'static str = "SCIM group";
}

impl Record for RealmProvisioning {
    const KIND: &'static str = "realm provisioning state";
}

/// A stored SCIM user record with its realm (kept with it for the indexes).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
struct Stored {
    realm: Realm,
    record: ProvisionedUser,
}

impl Record for Stored {
    const KIND: &'static str = "provisioned user";
}

/// Reading provisioning records.
pub trait ProvisioningReads: Tables {
    /// The SCIM token with public handle `id`.
    fn scim_token(&self, id: &str) -> Result<Option<ScimToken>> {
        let table = self.table(SCIM_TOKENS)?;
        let found = table.get(id)?;
        found.map(|v| codec::decode(v.value())).transpose()
    }

    /// Every SCIM token (a handful per realm).
    fn scim_tokens(&self) -> Result<Vec<ScimToken>> {
        let table = self.table(SCIM_TOKENS)?;
        let mut out = Vec::new();
        for entry in table.iter()? {
            out.push(codec::decode(entry?.1.value())?);
        }
        Ok(out)
    }

    /// SCIM's record of user `id` in `realm`.
    fn provisioned_user(&self, realm: Realm, id: UserId) -> Result<Option<ProvisionedUser>> {
        let table = self.table(SCIM_USERS)?;
        let found = table.get(id.as_u128())?;
        let stored: Option<Stored> = found.map(|v| codec::decode(v.value())).transpose()?;
        Ok(stored.filter(|s| s.realm == realm).map(|s| s.record))
    }

    /// The user of `realm` whose `externalId` is exactly `external_id`.
    fn user_id_by_external_id(&self, realm: Realm, external_id: &str) -> Result<Option<UserId>> {
        let table = self.table(SCIM_EXTERNAL_IDS)?;
        let found = table.get((realm.key().as_str(), external_id))?;
        Ok(found.map(|v| UserId::from_u128(v.value())))
    }

    /// The user of `realm` whose SCIM `userName` is `user_name`, ignoring case.
    fn user_id_by_user_name(&self, realm: Realm, user_name: &str) -> Result<Option<UserId>> {
        let table = self.table(SCIM_USER_NAMES)?;
        let lower = user_name.to_lowercase();
        let found = table.get((realm.key().as_str(), lower.as_str()))?;
        Ok(found.map(|v| UserId::from_u128(v.value())))
    }

    fn scim_group(&self, realm: Realm, id: uuid::Uuid) -> Result<Option<ScimGroup>> {
        let table = self.table(SCIM_GROUPS)?;
        let found = table.get(id.as_u128())?;
        let group: Option<ScimGroup> = found.map(|v| codec::decode(v.value())).transpose()?;
        Ok(group.filter(|g| g.realm == realm))
    }

    /// Every SCIM group of `realm`, by name.
    fn scim_groups(&self, realm: Realm) -> Result<Vec<ScimGroup>> {
        let table = self.table(SCIM_GROUPS)?;
        let mut out = Vec::new();
        for entry in table.iter()? {
            let group: ScimGroup = codec::decode(entry?.1.value())?;
            if group.realm == realm {
                out.push(group);
            }
        }
        out.sort_by(|a, b| a.display_name.cmp(&b.display_name).then(a.id.cmp(&b.id)));
        Ok(out)
    }

    fn realm_provisioning(&self, realm: Realm) -> Result<RealmProvisioning> {
        let table = self.table(PROVISIONING_STATE)?;
        let found = table.get(realm.key().as_str())?;
        match found {
            Some(v) => codec::decode(v.value()),
            None => Ok(RealmProvisioning::default()),
        }
    }
}

impl<T: Tables> ProvisioningReads for T {}

impl Writer {
    pub fn put_scim_token(&mut self, token: &ScimToken) -> Result<()> {
        let bytes = codec::encode(token)?;
        self.table_mut(SCIM_TOKENS)?
            .insert(token.id.as_str(), bytes.as_slice())?;
        Ok(())
    }

    pub fn delete_scim_token(&mut self, id: &str) -> Result<()> {
        self.table_mut(SCIM_TOKENS)?.remove(id)?;
        Ok(())
    }

    /// Inserts or replaces SCIM's record of user `id`, keeping the indexes in step.
    /// Fails with `Conflict` when the `externalId` or `userName` is another user's.
    pub fn put_provisioned_user(
        &mut self,
        realm: Realm,
        id: UserId,
        record: &ProvisionedUser,
    ) -> Result<()> {
        let key = realm.key();
        let lower = record.user_name.to_lowercase();
        let taken = |other: Option<u128>| other.is_some_and(|o| o != id.as_u128());
        if taken(
            self.user_id_by_user_name(realm, &lower)?
                .map(UserId::as_u128),
        ) {
            return Err(StoreError::Conflict("userName is taken".to_owned()));
        }
        if let Some(ext) = &record.external_id
            && taken(
                self.user_id_by_external_id(realm, ext)?
                    .map(UserId::as_u128),
            )
        {
            return Err(StoreError::Conflict("externalId is taken".to_owned()));
        }
        self.drop_user_indexes(id)?;
        self.table_mut(SCIM_USER_NAMES)?
            .insert((key.as_str(), lower.as_str()), id.as_u128())?;
        if let Some(ext) = &record.external_id {
            self.table_mut(SCIM_EXTERNAL_IDS)?
                .insert((key.as_str(), ext.as_str()), id.as_u128())?;
        }
        let stored = Stored {
            realm,
            record: record.clone(),
        };
        let bytes = codec::encode(&stored)?;
        self.table_mut(SCIM_USERS)?
            .insert(id.as_u128(), bytes.as_slice())?;
        Ok(())
    }

    /// Removes the index entries of user `id`'s SCIM record, if any.
    fn drop_user_indexes(&mut self, id: UserId) -> Result<()> {
        let previous: Option<Stored> = {
            let table = self.table_mut(SCIM_USERS)?;
            let found = table.get(id.as_u128())?;
            found.map(|v| codec::decode(v.value())).transpose()?
        };
        if let Some(prev) = previous {
            let key = prev.realm.key();
            let lower = prev.record.user_name.to_lowercase();
            self.table_mut(SCIM_USER_NAMES)?
                .remove((key.as_str(), lower.as_str()))?;
            if let Some(ext) = &prev.record.external_id {
                self.table_mut(SCIM_EXTERNAL_IDS)?
                    .remove((key.as_str(), ext.as_str()))?;
            }
        }
        Ok(())
    }

    /// Deletes SCIM's record of user `id` and takes them out of every group.
    pub fn delete_provisioned_user(&mut self, realm: Realm, id: UserId) -> Result<()> {
        self.drop_user_indexes(id)?;
        self.table_mut(SCIM_USERS)?.remove(id.as_u128())?;
        for mut group in self.scim_groups(realm)? {
            if group.members.contains(&id) {
                group.members.retain(|m| *m != id);
                self.put_scim_group(&group)?;
            }
        }
        Ok(())
    }

    pub fn put_scim_group(&mut self, group: &ScimGroup) -> Result<()> {
        let bytes = codec::encode(group)?;
        self.table_mut(SCIM_GROUPS)?
            .insert(group.id.as_u128(), bytes.as_slice())?;
        Ok(())
    }

    pub fn delete_scim_group(&mut self, id: uuid::Uuid) -> Result<()> {
        self.table_mut(SCIM_GROUPS)?.remove(id.as_u128())?;
        Ok(())
    }

    pub fn put_realm_provisioning(
        &mut self,
        realm: Realm,
        state: &RealmProvisioning,
    ) -> Result<()> {
        let bytes = codec::encode(state)?;
        self.table_mut(PROVISIONING_STATE)?
            .insert(realm.key().as_str(), bytes.as_slice())?;
        Ok(())
    }

    /// Deletes every provisioning record of `realm` (a removed client).
    pub fn delete_provisioning_of_realm(&mut self, realm: Realm) -> Result<()> {
        let tokens: Vec<String> = self
            .scim_tokens()?
            .into_iter()
            .filter(|t| t.realm == realm)
            .map(|t| t.id)
            .collect();
        for id in tokens {
            self.delete_scim_token(&id)?;
        }
        let users: Vec<UserId> = {
            let table = self.table_mut(SCIM_USERS)?;
            let mut ids = Vec::new();
            for entry in table.iter()? {
                let (k, v) = entry?;
                let stored: Stored = codec::decode(v.value())?;
                if stored.realm == realm {
                    ids.push(UserId::from_u128(k.value()));
                }
            }
            ids
        };
        for id in users {
            self.drop_user_indexes(id)?;
            self.table_mut(SCIM_USERS)?.remove(id.as_u128())?;
        }
        for group in self.scim_groups(realm)? {
            self.delete_scim_group(group.id)?;
        }
        self.table_mut(PROVISIONING_STATE)?
            .remove(realm.key().as_str())?;
        Ok(())
    }
}
