//! What forward-auth read from the store for a session, kept in memory so the next
//! check of the same session skips the store.
//!
//! An entry is used only while the store's generation is the one read *before* the
//! read transaction that filled it began ([`Store::generation`](crate::store::Store::generation)).
//! Every write transaction moves the generation on once it is over, so a revoked,
//! signed-out or expired-and-purged session, a disabled or removed user, a role
//! change and a disabled, renamed or removed client all take effect on the very next
//! check: the invalidation is the commit itself, never a timer. What depends on the
//! clock (idle and absolute timeouts) is decided again on every check from the cached
//! session times and the latest activity, exactly as after a store read.
//!
//! Several Gatehouse nodes on one shared database (not possible with one redb file
//! today): the generation must then be a counter row in that database, incremented in
//! the same transaction as every write, and each check reads that one row first —
//! one point read instead of the client, session and user reads — and uses an entry
//! only when the row still holds the entry's generation.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};
use std::sync::{Arc, RwLock};

use crate::domain::session::SessionStatus;
use crate::domain::user::{Realm, UserIdentity};
use crate::store::sessions::SessionKey;

/// The most sessions remembered; beyond it, entries of older generations go first,
/// then all of them (a new check refills what is still in use).
const MAX_ENTRIES: usize = 16_384;

/// The reads one check made for a session.
#[derive(Debug)]
pub(crate) struct Checked {
    /// The store's generation before the reads began.
    pub generation: u64,
    /// The client slug the check was for (`None`: the staff realm).
    pub portal: Option<String>,
    /// The realm that slug named when the check ran.
    pub realm: Realm,
    pub session: SessionStatus,
    pub user: UserIdentity,
}

/// The remembered checks, by session key.
#[derive(Default)]
pub(crate) struct ForwardAuthCache {
    entries: RwLock<HashMap<SessionKey, Arc<Checked>, KeyHashing>>,
}

impl ForwardAuthCache {
    /// The reads for session `key` made for the realm of `portal` (a client slug, or
    /// `None` for staff), if they are still what the store at `generation` holds.
    pub fn get(
        &self,
        key: &SessionKey,
        portal: Option<&str>,
        generation: u64,
    ) -> Option<Arc<Checked>> {
        let entries = self.entries.read().ok()?;
        let found = entries.get(key)?;
        (found.generation == generation && found.portal.as_deref() == portal).then(|| found.clone())
    }

    /// Remembers `checked` for session `key`.
    pub fn put(&self, key: SessionKey, checked: Arc<Checked>) {
        let Ok(mut entries) = self.entries.write() else {
            return;
        };
        if entries.len() >= MAX_ENTRIES && !entries.contains_key(&key) {
            let current = checked.generation;
            entries.retain(|_, e| e.generation == current);
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
        }
        entries.insert(key, checked);
    }

    /// How many sessions are remembered (tests).
    #[cfg(test)]
    fn len(&self) -> usize {
        self.entries.read().map_or(0, |e| e.len())
    }
}

/// Hashing for session keys: they are MACs under the server's key, uniformly
/// distributed and not choosable by a visitor, so their first eight bytes are a hash
/// already (and only sessions that exist are ever inserted).
#[derive(Clone, Copy, Default)]
struct KeyHashing;

impl BuildHasher for KeyHashing {
    type Hasher = KeyHasher;

    fn build_hasher(&self) -> KeyHasher {
        KeyHasher(0)
    }
}

struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8).take(1) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.0 ^= u64::from_le_bytes(word);
        }
    }

    // The slice's length prefix carries nothing: every key is 16 bytes.
    fn write_usize(&mut self, _: usize) {}
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::session::{AuthMethod, Stage};
    use crate::domain::time::Timestamp;
    use crate::domain::user::{Email, Role, UserId, UserStatus};

    fn checked(generation: u64, portal: Option<&str>) -> Checked {
        let id = UserId::random();
        Checked {
            generation,
            portal: portal.map(str::to_owned),
            realm: Realm::Staff,
            session: SessionStatus {
                user_id: id,
                realm: Realm::Staff,
                stage: Stage::Active,
                auth: AuthMethod::PasswordTotp,
                created_at: Timestamp(0),
                last_seen: Timestamp(0),
                expires_at: Timestamp(100),
                idle_timeout_secs: 50,
            },
            user: UserIdentity {
                id,
                realm: Realm::Staff,
                email: Email::parse("a@example.com").expect("an email"),
                display_name: String::new(),
                role: Role::Member,
                status: UserStatus::Active,
            },
        }
    }

    #[test]
    fn an_entry_serves_only_its_generation_and_realm() {
        let cache = ForwardAuthCache::default();
        cache.put([1; 16], Arc::new(checked(7, None)));
        assert!(cache.get(&[1; 16], None, 7).is_some());
        assert!(
            cache.get(&[1; 16], None, 8).is_none(),
            "a write happened since"
        );
        assert!(
            cache.get(&[1; 16], Some("acme"), 7).is_none(),
            "another realm"
        );
        assert!(cache.get(&[2; 16], None, 7).is_none());
    }

    #[test]
    fn it_stays_bounded() {
        let cache = ForwardAuthCache::default();
        for i in 0..(MAX_ENTRIES + 10) {
            let mut key = [0u8; 16];
            key[..8].copy_from_slice(&(i as u64).to_le_bytes());
            cache.put(key, Arc::new(checked(1, None)));
        }
        assert!(cache.len() <= MAX_ENTRIES);
        let mut last = [0u8; 16];
        last[..8].copy_from_slice(&((MAX_ENTRIES + 9) as u64).to_le_bytes());
        assert!(
            cache.get(&last, None, 1).is_some(),
            "the newest entry is kept"
        );
    }
}
