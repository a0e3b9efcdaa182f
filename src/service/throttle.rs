//! Failed-attempt throttling per account (whatever the source address) and per source
//! address (whatever the account), in memory. A restart forgets it, which only ever
//! helps legitimate users; the limits are short enough that an attacker gains little.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::domain::throttle::{Backoff, ThrottlePolicy};
use crate::domain::time::Timestamp;

/// Past this many tracked keys, forgotten entries are pruned.
const PRUNE_AT: usize = 100_000;

#[derive(Default)]
pub struct Throttle {
    accounts: Mutex<HashMap<String, Backoff>>,
    addresses: Mutex<HashMap<String, Backoff>>,
}

impl Throttle {
    /// Seconds to wait before `account` may try again from `address`, if blocked.
    pub fn retry_after(&self, account: &str, address: &str, now: Timestamp) -> Option<i64> {
        let by_account = lookup(&self.accounts, account, &ThrottlePolicy::ACCOUNT, now);
        let by_address = lookup(&self.addresses, address, &ThrottlePolicy::ADDRESS, now);
        by_account.max(by_address)
    }

    /// Records a failure; returns true when this failure starts or extends a block.
    pub fn failure(&self, account: &str, address: &str, now: Timestamp) -> bool {
        let a = record(&self.accounts, account, &ThrottlePolicy::ACCOUNT, now);
        let b = record(&self.addresses, address, &ThrottlePolicy::ADDRESS, now);
        a || b
    }

    /// A completed sign-in clears the account's history (not the address's).
    pub fn success(&self, account: &str) {
        if let Ok(mut map) = self.accounts.lock() {
            map.remove(account);
        }
    }
}

fn lookup(
    map: &Mutex<HashMap<String, Backoff>>,
    key: &str,
    policy: &ThrottlePolicy,
    now: Timestamp,
) -> Option<i64> {
    let map = map.lock().ok()?;
    map.get(key).and_then(|b| b.retry_after(policy, now))
}

fn record(
    map: &Mutex<HashMap<String, Backoff>>,
    key: &str,
    policy: &ThrottlePolicy,
    now: Timestamp,
) -> bool {
    let Ok(mut map) = map.lock() else {
        return false;
    };
    if map.len() >= PRUNE_AT {
        map.retain(|_, b| !b.is_forgotten(policy, now) && b.blocked_until > now);
        if map.len() >= PRUNE_AT {
            // Still full of blocked keys: an attack from very many addresses. Start
            // over rather than grow without bound.
            map.clear();
        }
    }
    let next = Backoff::record_failure(map.get(key).copied(), policy, now);
    let blocked = next.blocked_until > now;
    map.insert(key.to_owned(), next);
    blocked
}

/// The throttle key of an account: realm and email as typed (lower-cased, bounded),
/// so unknown emails are throttled exactly like known ones.
pub fn account_key(realm_key: &str, email: &str) -> String {
    let email: String = email.trim().to_lowercase().chars().take(320).collect();
    format!("{realm_key}|{email}")
}
