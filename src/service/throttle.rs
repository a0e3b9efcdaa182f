//! Failed-attempt throttling per account (whatever the source address) and per source
//! address (whatever the account), in memory. A restart forgets it, which only ever
//! helps legitimate users; the limits are short enough that an attacker gains little.
//!
//! Every try at a guessable secret (password, TOTP or recovery code, re-authentication,
//! step-up, enrolment code) first takes a [`Reservation`]: under one lock the limits
//! are checked and the attempt is counted as a failure *before* any work is done. A
//! burst of concurrent requests therefore cannot get more tries than the limits allow;
//! an attempt that turns out right gives its count back ([`Throttle::release`],
//! [`Throttle::succeeded`]).
//!
//! The per-address limit alone never stops an account that has already signed in
//! from that address since the server started: many users behind one proxy share an
//! address, and one noisy neighbour must not lock them all out. Their account's own
//! limit still holds.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use crate::domain::throttle::{Backoff, ThrottlePolicy};
use crate::domain::time::Timestamp;

/// Past this many tracked keys, forgotten entries are pruned.
const PRUNE_AT: usize = 100_000;

/// How long a sign-in from an address keeps its account clear of that address's limit.
const KNOWN_PAIR_SECS: i64 = 30 * 24 * 60 * 60;

#[derive(Default)]
pub struct Throttle {
    state: Mutex<Counters>,
}

#[derive(Default)]
struct Counters {
    accounts: HashMap<String, Backoff>,
    addresses: HashMap<String, Backoff>,
    /// `address|account` → the last successful sign-in of the account from there.
    known: HashMap<String, Timestamp>,
}

/// One attempt let through the throttle, already counted as a failure. Dropping it
/// keeps it counted; an attempt that turns out right gives it back.
#[derive(Debug)]
#[must_use = "a reservation is given back with release or succeeded, or stays a failure"]
pub struct Reservation {
    account: String,
    address: String,
    starts_block: bool,
}

impl Reservation {
    /// Whether this attempt, as a failure, starts or extends a back-off.
    pub fn starts_block(&self) -> bool {
        self.starts_block
    }
}

impl Throttle {
    /// Lets one attempt at `account` from `address` through, counted as a failure in
    /// the same step; or `Err(seconds to wait)` when a limit is in force.
    pub fn reserve(
        &self,
        account: &str,
        address: &str,
        now: Timestamp,
    ) -> Result<Reservation, i64> {
        let mut c = self.lock();
        c.prune(now);
        if let Some(wait) = wait_of(&c.accounts, account, &ThrottlePolicy::ACCOUNT, now) {
            return Err(wait);
        }
        if let Some(wait) = wait_of(&c.addresses, address, &ThrottlePolicy::ADDRESS, now) {
            let known = c
                .known
                .get(&pair(address, account))
                .is_some_and(|at| now.secs_since(*at) < KNOWN_PAIR_SECS);
            if !known {
                return Err(wait);
            }
        }
        let a = count_failure(&mut c.accounts, account, &ThrottlePolicy::ACCOUNT, now);
        let b = count_failure(&mut c.addresses, address, &ThrottlePolicy::ADDRESS, now);
        Ok(Reservation {
            account: account.to_owned(),
            address: address.to_owned(),
            starts_block: a || b,
        })
    }

    /// The secret was right, but the sign-in goes on (a code is still to come): the
    /// attempt no longer counts as a failure.
    pub fn release(&self, reservation: Reservation) {
        let mut c = self.lock();
        take_back(
            &mut c.accounts,
            &reservation.account,
            &ThrottlePolicy::ACCOUNT,
        );
        take_back(
            &mut c.addresses,
            &reservation.address,
            &ThrottlePolicy::ADDRESS,
        );
    }

    /// A completed authentication: the account's history is cleared, the attempt no
    /// longer counts against the address, and the account is known at the address.
    pub fn succeeded(&self, reservation: Reservation, now: Timestamp) {
        let mut c = self.lock();
        c.accounts.remove(&reservation.account);
        take_back(
            &mut c.addresses,
            &reservation.address,
            &ThrottlePolicy::ADDRESS,
        );
        c.known
            .insert(pair(&reservation.address, &reservation.account), now);
    }

    fn lock(&self) -> MutexGuard<'_, Counters> {
        // The counters stay consistent whatever panicked while holding them.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Counters {
    fn prune(&mut self, now: Timestamp) {
        prune(&mut self.accounts, &ThrottlePolicy::ACCOUNT, now);
        prune(&mut self.addresses, &ThrottlePolicy::ADDRESS, now);
        if self.known.len() >= PRUNE_AT {
            self.known
                .retain(|_, at| now.secs_since(*at) < KNOWN_PAIR_SECS);
            if self.known.len() >= PRUNE_AT {
                self.known.clear();
            }
        }
    }
}

fn prune(map: &mut HashMap<String, Backoff>, policy: &ThrottlePolicy, now: Timestamp) {
    if map.len() < PRUNE_AT {
        return;
    }
    map.retain(|_, b| !b.is_forgotten(policy, now) && b.blocked_until > now);
    if map.len() >= PRUNE_AT {
        // Still full of blocked keys: an attack from very many addresses. Start over
        // rather than grow without bound.
        map.clear();
    }
}

fn wait_of(
    map: &HashMap<String, Backoff>,
    key: &str,
    policy: &ThrottlePolicy,
    now: Timestamp,
) -> Option<i64> {
    map.get(key).and_then(|b| b.retry_after(policy, now))
}

/// Counts one failure; returns true when it starts or extends a block.
fn count_failure(
    map: &mut HashMap<String, Backoff>,
    key: &str,
    policy: &ThrottlePolicy,
    now: Timestamp,
) -> bool {
    let next = Backoff::record_failure(map.get(key).copied(), policy, now);
    let blocked = next.blocked_until > now;
    map.insert(key.to_owned(), next);
    blocked
}

fn take_back(map: &mut HashMap<String, Backoff>, key: &str, policy: &ThrottlePolicy) {
    match map.get(key).and_then(|b| b.without_one_failure(policy)) {
        Some(fewer) => map.insert(key.to_owned(), fewer),
        None => map.remove(key),
    };
}

fn pair(address: &str, account: &str) -> String {
    format!("{address}|{account}")
}

/// The throttle key of an account: realm and email as typed (lower-cased, bounded),
/// so unknown emails are throttled exactly like known ones.
pub fn account_key(realm_key: &str, email: &str) -> String {
    let email: String = email.trim().to_lowercase().chars().take(320).collect();
    format!("{realm_key}|{email}")
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: Timestamp = Timestamp(1_000_000);

    fn reserve_all(t: &Throttle, account: &str, address: &str, n: usize) -> Vec<Reservation> {
        (0..n)
            .filter_map(|_| t.reserve(account, address, NOW).ok())
            .collect()
    }

    #[test]
    fn reservations_stop_at_the_account_limit_before_any_work_is_done() {
        let t = Throttle::default();
        let let_through = reserve_all(&t, "staff|ann", "10.0.0.1", 300);
        assert_eq!(
            let_through.len(),
            ThrottlePolicy::ACCOUNT.free_failures as usize
        );
        assert!(let_through.last().is_some_and(Reservation::starts_block));
    }

    #[test]
    fn an_attempt_that_was_right_gives_its_count_back() {
        let t = Throttle::default();
        for _ in 0..20 {
            let r = t.reserve("staff|ann", "10.0.0.1", NOW).unwrap();
            t.release(r);
        }
        assert!(t.reserve("staff|ann", "10.0.0.1", NOW).is_ok());
    }

    #[test]
    fn a_noisy_address_does_not_stop_accounts_that_signed_in_from_it() {
        let t = Throttle::default();
        let ann = t.reserve("staff|ann", "10.0.0.1", NOW).unwrap();
        t.succeeded(ann, NOW);
        // Someone behind the same proxy tries many accounts.
        for n in 0..100 {
            let _ = t.reserve(&format!("staff|guess{n}"), "10.0.0.1", NOW);
        }
        assert!(t.reserve("staff|bob", "10.0.0.1", NOW).is_err());
        assert!(t.reserve("staff|ann", "10.0.0.1", NOW).is_ok());
    }

    #[test]
    fn success_clears_the_account_but_not_the_other_failures_of_the_address() {
        let t = Throttle::default();
        let failures = ThrottlePolicy::ADDRESS.free_failures as usize - 1;
        for n in 0..failures {
            drop(t.reserve(&format!("staff|u{n}"), "10.0.0.2", NOW));
        }
        let ann = t.reserve("staff|ann", "10.0.0.2", NOW).unwrap();
        t.succeeded(ann, NOW);
        drop(t.reserve("staff|x", "10.0.0.2", NOW).unwrap());
        assert!(t.reserve("staff|y", "10.0.0.2", NOW).is_err());
    }
}
