//! Users and their indexes (email per realm, linked SSO identities), always written
//! together in one transaction.

use redb::{ReadableTable, ReadableTableMetadata};

use super::compact;
use super::tables::{SSO_IDENTITIES, USERS, USERS_BY_EMAIL};
use super::{Result, StoreError, Tables, Writer};
use crate::domain::user::{Email, Realm, User, UserId, UserIdentity};

/// Reading users.
pub trait UserReads: Tables {
    fn user(&self, id: UserId) -> Result<Option<User>> {
        let table = self.table(USERS)?;
        let found = table.get(id.as_u128())?;
        found.map(|v| compact::decode_user(v.value())).transpose()
    }

    /// The identity part of a user (see [`UserIdentity`]), without decoding the rest.
    fn user_identity(&self, id: UserId) -> Result<Option<UserIdentity>> {
        let table = self.table(USERS)?;
        let found = table.get(id.as_u128())?;
        found
            .map(|v| compact::decode_user_identity(v.value()))
            .transpose()
    }

    fn user_by_email(&self, realm: Realm, email: &Email) -> Result<Option<User>> {
        let id = {
            let index = self.table(USERS_BY_EMAIL)?;
            let found = index.get((realm.key().as_str(), email.as_str()))?;
            found.map(|v| UserId::from_u128(v.value()))
        };
        match id {
            Some(id) => self.user(id),
            None => Ok(None),
        }
    }

    /// The user of `realm` linked to an SSO identity, if any.
    fn user_by_sso(&self, realm: Realm, tenant: &str, subject: &str) -> Result<Option<User>> {
        let id = {
            let index = self.table(SSO_IDENTITIES)?;
            let found = index.get((realm.key().as_str(), tenant, subject))?;
            found.map(|v| UserId::from_u128(v.value()))
        };
        match id {
            Some(id) => self.user(id),
            None => Ok(None),
        }
    }

    /// Every user of `realm`, ordered by email.
    fn users_in_realm(&self, realm: Realm) -> Result<Vec<User>> {
        let key = realm.key();
        let ids: Vec<UserId> = {
            let index = self.table(USERS_BY_EMAIL)?;
            let range = index.range((key.as_str(), "")..)?;
            let mut ids = Vec::new();
            for entry in range {
                let (k, v) = entry?;
                if k.value().0 != key {
                    break;
                }
                ids.push(UserId::from_u128(v.value()));
            }
            ids
        };
        let mut users = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(user) = self.user(id)? {
                users.push(user);
            }
        }
        Ok(users)
    }

    /// The first user of `realm` (in email order) for which `wanted` holds.
    fn find_user_in_realm(
        &self,
        realm: Realm,
        wanted: impl Fn(&User) -> bool,
    ) -> Result<Option<User>> {
        let key = realm.key();
        let index = self.table(USERS_BY_EMAIL)?;
        for entry in index.range((key.as_str(), "")..)? {
            let (k, v) = entry?;
            if k.value().0 != key {
                break;
            }
            if let Some(user) = self.user(UserId::from_u128(v.value()))?
                && wanted(&user)
            {
                return Ok(Some(user));
            }
        }
        Ok(None)
    }

    fn count_users(&self) -> Result<u64> {
        Ok(self.table(USERS)?.len()?)
    }
}

impl<T: Tables> UserReads for T {}

impl Writer {
    /// Inserts or replaces a user, keeping the email and SSO indexes in step. Fails
    /// with `Conflict` if the email or an SSO identity belongs to another user.
    pub fn put_user(&mut self, user: &User) -> Result<()> {
        let previous = self.user(user.id)?;
        let realm_key = user.realm.key();
        {
            let mut by_email = self.table_mut(USERS_BY_EMAIL)?;
            if let Some(other) = by_email.get((realm_key.as_str(), user.email.as_str()))?
                && other.value() != user.id.as_u128()
            {
                return Err(StoreError::Conflict(format!(
                    "email {} already belongs to another user",
                    user.email
                )));
            }
            if let Some(prev) = &previous
                && (prev.email != user.email || prev.realm != user.realm)
            {
                by_email.remove((prev.realm.key().as_str(), prev.email.as_str()))?;
            }
            by_email.insert((realm_key.as_str(), user.email.as_str()), user.id.as_u128())?;
        }
        {
            let mut sso = self.table_mut(SSO_IDENTITIES)?;
            for link in &user.sso_links {
                if let Some(other) = sso.get((
                    realm_key.as_str(),
                    link.tenant.as_str(),
                    link.subject.as_str(),
                ))? && other.value() != user.id.as_u128()
                {
                    return Err(StoreError::Conflict(
                        "this Microsoft account is already linked to another user".to_owned(),
                    ));
                }
            }
            if let Some(prev) = &previous {
                let prev_realm = prev.realm.key();
                for old in &prev.sso_links {
                    let kept = prev.realm == user.realm
                        && user
                            .sso_links
                            .iter()
                            .any(|l| l.tenant == old.tenant && l.subject == old.subject);
                    if !kept {
                        sso.remove((
                            prev_realm.as_str(),
                            old.tenant.as_str(),
                            old.subject.as_str(),
                        ))?;
                    }
                }
            }
            for link in &user.sso_links {
                sso.insert(
                    (
                        realm_key.as_str(),
                        link.tenant.as_str(),
                        link.subject.as_str(),
                    ),
                    user.id.as_u128(),
                )?;
            }
        }
        let bytes = compact::encode_user(user)?;
        self.table_mut(USERS)?
            .insert(user.id.as_u128(), bytes.as_slice())?;
        Ok(())
    }

    /// Deletes a user, their index entries and passkeys (not their sessions; see
    /// `delete_sessions_of_user`).
    pub fn delete_user(&mut self, id: UserId) -> Result<()> {
        let Some(user) = self.user(id)? else {
            return Ok(());
        };
        self.delete_passkeys_of_user(id)?;
        self.table_mut(USERS_BY_EMAIL)?
            .remove((user.realm.key().as_str(), user.email.as_str()))?;
        {
            let mut sso = self.table_mut(SSO_IDENTITIES)?;
            let realm_key = user.realm.key();
            for link in &user.sso_links {
                sso.remove((
                    realm_key.as_str(),
                    link.tenant.as_str(),
                    link.subject.as_str(),
                ))?;
            }
        }
        self.table_mut(USERS)?.remove(id.as_u128())?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::time::Timestamp;
    use crate::domain::user::{Role, SsoLink, UserStatus};
    use crate::store::Store;

    fn user(email: &str) -> User {
        User::new(
            Realm::Staff,
            Email::parse(email).unwrap(),
            "Ann".into(),
            Role::Admin,
            UserStatus::Active,
            Timestamp(1),
        )
    }

    #[test]
    fn email_index_follows_changes_and_stays_unique() {
        let store = Store::in_memory().unwrap();
        let mut ann = user("ann@example.com");
        store.write(|w| w.put_user(&ann)).unwrap();
        let found = store
            .read(|r| r.user_by_email(Realm::Staff, &Email::parse("ANN@example.com").unwrap()))
            .unwrap();
        assert_eq!(found.map(|u| u.id), Some(ann.id));

        ann.email = Email::parse("anne@example.com").unwrap();
        store.write(|w| w.put_user(&ann)).unwrap();
        let old = store
            .read(|r| r.user_by_email(Realm::Staff, &Email::parse("ann@example.com").unwrap()))
            .unwrap();
        assert!(old.is_none());

        let clash = user("anne@example.com");
        assert!(matches!(
            store.write(|w| w.put_user(&clash)),
            Err(StoreError::Conflict(_))
        ));
        assert_eq!(
            store
                .read(|r| r.users_in_realm(Realm::Staff))
                .unwrap()
                .len(),
            1
        );
    }

    #[test]
    fn the_identity_part_reads_like_the_whole_record() {
        let store = Store::in_memory().unwrap();
        let mut ann = user("ann@example.com");
        ann.password_hash = Some("$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaA".into());
        ann.recovery_codes = vec!["ab".repeat(32); 10];
        store.write(|w| w.put_user(&ann)).unwrap();
        let identity = store.read(|r| r.user_identity(ann.id)).unwrap().unwrap();
        assert_eq!(identity.id, ann.id);
        assert_eq!(identity.realm, ann.realm);
        assert_eq!(identity.email, ann.email);
        assert_eq!(identity.display_name, ann.display_name);
        assert_eq!(identity.role, ann.role);
        assert_eq!(identity.status, ann.status);
        assert!(identity.is_active());
        assert!(
            store
                .read(|r| r.user_identity(UserId::random()))
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn sso_index_is_kept_with_the_user() {
        let store = Store::in_memory().unwrap();
        let mut ann = user("ann@example.com");
        ann.sso_links.push(SsoLink {
            tenant: "t1".into(),
            subject: "o1".into(),
            username: "ann@contoso.com".into(),
            linked_at: Timestamp(2),
        });
        store.write(|w| w.put_user(&ann)).unwrap();
        assert_eq!(
            store
                .read(|r| r.user_by_sso(Realm::Staff, "t1", "o1"))
                .unwrap()
                .map(|u| u.id),
            Some(ann.id)
        );
        ann.sso_links.clear();
        store.write(|w| w.put_user(&ann)).unwrap();
        assert!(
            store
                .read(|r| r.user_by_sso(Realm::Staff, "t1", "o1"))
                .unwrap()
                .is_none()
        );
        store.write(|w| w.delete_user(ann.id)).unwrap();
        assert!(store.read(|r| r.user(ann.id)).unwrap().is_none());
    }
}
