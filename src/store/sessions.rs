//! Sessions keyed by the keyed hash of their token, with per-user and per-expiry
//! indexes kept in the same transaction.
//!
//! The key is the first 16 bytes of the token's HMAC-SHA-256 under the store's token
//! key ([`session_key`]): 128 bits cannot be guessed or collide among any number of
//! sessions a store will hold, and without the key file a stolen store gives no way
//! to a token. It is half the size of the whole hash, and every session has it three
//! times (the record and its two index entries), so the store is 48 bytes a session
//! smaller (schema version 4; `migrations::session_keys`).

use redb::{ReadableTable, ReadableTableMetadata};

use super::compact;
use super::tables::{SESSIONS, SESSIONS_BY_EXPIRY, SESSIONS_BY_USER};
use super::{Result, Tables, Writer};
use crate::domain::session::{Session, SessionStatus};
use crate::domain::time::Timestamp;
use crate::domain::user::UserId;

/// The stored form of a session token: the first half of its keyed hash.
pub type SessionKey = [u8; 16];

/// The stored key of the session token whose keyed hash is `token_hash`.
pub fn session_key(token_hash: &[u8; 32]) -> SessionKey {
    let mut key = [0u8; 16];
    key.copy_from_slice(&token_hash[..16]);
    key
}

/// Reading sessions.
pub trait SessionReads: Tables {
    fn session(&self, key: &SessionKey) -> Result<Option<Session>> {
        let table = self.table(SESSIONS)?;
        let found = table.get(key)?;
        found
            .map(|v| compact::decode_session(v.value()))
            .transpose()
    }

    /// The status part of a session (see [`SessionStatus`]), without the rest.
    fn session_status(&self, key: &SessionKey) -> Result<Option<SessionStatus>> {
        let table = self.table(SESSIONS)?;
        let found = table.get(key)?;
        found
            .map(|v| compact::decode_session_status(v.value()))
            .transpose()
    }

    /// Every session of `user`, with its key.
    fn sessions_of_user(&self, user: UserId) -> Result<Vec<(SessionKey, Session)>> {
        let keys: Vec<SessionKey> = {
            let index = self.table(SESSIONS_BY_USER)?;
            let id = user.as_u128();
            let mut keys = Vec::new();
            for entry in index.range((id, [0u8; 16])..=(id, [0xff; 16]))? {
                keys.push(entry?.0.value().1);
            }
            keys
        };
        let mut sessions = Vec::with_capacity(keys.len());
        for key in keys {
            if let Some(session) = self.session(&key)? {
                sessions.push((key, session));
            }
        }
        Ok(sessions)
    }

    /// How many sessions `user` has, from the per-user index alone (no record read).
    fn count_sessions_of_user(&self, user: UserId) -> Result<usize> {
        let index = self.table(SESSIONS_BY_USER)?;
        let id = user.as_u128();
        let mut count = 0;
        for entry in index.range((id, [0u8; 16])..=(id, [0xff; 16]))? {
            entry?;
            count += 1;
        }
        Ok(count)
    }

    fn count_sessions(&self) -> Result<u64> {
        Ok(self.table(SESSIONS)?.len()?)
    }
}

impl<T: Tables> SessionReads for T {}

impl Writer {
    /// Inserts or replaces a session and its index entries.
    pub fn put_session(&mut self, key: &SessionKey, session: &Session) -> Result<()> {
        if let Some(previous) = self.session(key)?
            && previous.purge_after() != session.purge_after()
        {
            self.table_mut(SESSIONS_BY_EXPIRY)?
                .remove((previous.purge_after().0, *key))?;
        }
        let bytes = compact::encode_session(session)?;
        self.table_mut(SESSIONS)?.insert(key, bytes.as_slice())?;
        self.table_mut(SESSIONS_BY_USER)?
            .insert((session.user_id.as_u128(), *key), ())?;
        self.table_mut(SESSIONS_BY_EXPIRY)?
            .insert((session.purge_after().0, *key), ())?;
        Ok(())
    }

    /// Deletes a session; returns it if it existed.
    pub fn delete_session(&mut self, key: &SessionKey) -> Result<Option<Session>> {
        let Some(session) = self.session(key)? else {
            return Ok(None);
        };
        self.table_mut(SESSIONS)?.remove(key)?;
        self.table_mut(SESSIONS_BY_USER)?
            .remove((session.user_id.as_u128(), *key))?;
        self.table_mut(SESSIONS_BY_EXPIRY)?
            .remove((session.purge_after().0, *key))?;
        Ok(Some(session))
    }

    /// Deletes the sessions of `user` for which `which` holds; returns how many.
    pub fn delete_sessions_of_user(
        &mut self,
        user: UserId,
        which: impl Fn(&SessionKey, &Session) -> bool,
    ) -> Result<usize> {
        let mut deleted = 0;
        for (key, session) in self.sessions_of_user(user)? {
            if which(&key, &session) {
                self.delete_session(&key)?;
                deleted += 1;
            }
        }
        Ok(deleted)
    }

    /// Records activity times for sessions that still exist (batched last-seen).
    pub fn touch_sessions(&mut self, touches: &[(SessionKey, Timestamp)]) -> Result<()> {
        for (key, at) in touches {
            if let Some(mut session) = self.session(key)?
                && *at > session.last_seen
            {
                session.last_seen = *at;
                let bytes = compact::encode_session(&session)?;
                self.table_mut(SESSIONS)?.insert(key, bytes.as_slice())?;
            }
        }
        Ok(())
    }

    /// Deletes up to `limit` sessions whose absolute expiry is before `now`.
    pub fn purge_expired_sessions(&mut self, now: Timestamp, limit: usize) -> Result<usize> {
        let expired: Vec<SessionKey> = {
            let index = self.table_mut(SESSIONS_BY_EXPIRY)?;
            let mut keys = Vec::new();
            for entry in index.range((i64::MIN, [0u8; 16])..(now.0, [0u8; 16]))? {
                keys.push(entry?.0.value().1);
                if keys.len() >= limit {
                    break;
                }
            }
            keys
        };
        for key in &expired {
            self.delete_session(key)?;
        }
        Ok(expired.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::session::{AuthMethod, Lifetimes, Origin, Stage};
    use crate::domain::user::Realm;
    use crate::store::Store;

    fn session(user: UserId, at: i64, life: i64) -> Session {
        Session::start(
            user,
            Realm::Staff,
            Stage::Active,
            AuthMethod::PasswordTotp,
            Lifetimes {
                idle_secs: life,
                absolute_secs: life,
            },
            &Origin::default(),
            Timestamp(at),
        )
    }

    #[test]
    fn sessions_are_listed_per_user_and_purged_when_expired() {
        let store = Store::in_memory().unwrap();
        let (ann, bob) = (UserId::random(), UserId::random());
        store
            .write(|w| {
                w.put_session(&[1; 16], &session(ann, 0, 100))?;
                w.put_session(&[2; 16], &session(ann, 0, 1_000))?;
                w.put_session(&[3; 16], &session(bob, 0, 100))
            })
            .unwrap();
        assert_eq!(store.read(|r| r.sessions_of_user(ann)).unwrap().len(), 2);
        assert_eq!(store.read(|r| r.count_sessions_of_user(ann)).unwrap(), 2);
        assert_eq!(store.read(|r| r.count_sessions_of_user(bob)).unwrap(), 1);
        let purged = store
            .write(|w| w.purge_expired_sessions(Timestamp(500), 100))
            .unwrap();
        assert_eq!(purged, 2);
        assert_eq!(store.read(|r| r.sessions_of_user(ann)).unwrap().len(), 1);
        assert!(store.read(|r| r.session(&[3; 16])).unwrap().is_none());
        let removed = store
            .write(|w| w.delete_sessions_of_user(ann, |_, _| true))
            .unwrap();
        assert_eq!(removed, 1);
        assert_eq!(store.read(|r| r.count_sessions()).unwrap(), 0);
    }
}
