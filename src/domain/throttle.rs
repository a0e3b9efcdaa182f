//! Back-off for failed sign-in attempts. A key (an account or a source address) gets
//! some free attempts; after that each failure doubles the wait before the next try,
//! up to a ceiling. Waiting always helps: nobody is ever locked out for good, and a
//! quiet period forgets the history.

use super::time::Timestamp;

/// The limits for one kind of key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ThrottlePolicy {
    /// Failures allowed before any wait is imposed.
    pub free_failures: u32,
    /// The first wait, in seconds; each further failure doubles it.
    pub base_delay_secs: i64,
    /// The longest wait.
    pub max_delay_secs: i64,
    /// After this long without a failure the key's history is forgotten.
    pub forget_after_secs: i64,
}

impl ThrottlePolicy {
    /// Per account, whatever address the attempts come from.
    pub const ACCOUNT: ThrottlePolicy = ThrottlePolicy {
        free_failures: 5,
        base_delay_secs: 2,
        max_delay_secs: 15 * 60,
        forget_after_secs: 24 * 60 * 60,
    };

    /// Per source address, across all accounts.
    pub const ADDRESS: ThrottlePolicy = ThrottlePolicy {
        free_failures: 20,
        base_delay_secs: 2,
        max_delay_secs: 15 * 60,
        forget_after_secs: 24 * 60 * 60,
    };

    fn delay_after(&self, failures: u32) -> i64 {
        if failures < self.free_failures {
            return 0;
        }
        let doublings = (failures - self.free_failures).min(30);
        self.base_delay_secs
            .saturating_mul(1i64 << doublings)
            .min(self.max_delay_secs)
    }
}

/// The failure history of one key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Backoff {
    pub failures: u32,
    pub last_failure: Timestamp,
    pub blocked_until: Timestamp,
}

impl Backoff {
    /// Seconds to wait before another attempt is allowed, if any.
    pub fn retry_after(&self, policy: &ThrottlePolicy, now: Timestamp) -> Option<i64> {
        if self.is_forgotten(policy, now) {
            return None;
        }
        let wait = self.blocked_until.secs_since(now);
        (wait > 0).then_some(wait)
    }

    /// The history after one more failure at `now`.
    pub fn record_failure(
        previous: Option<Backoff>,
        policy: &ThrottlePolicy,
        now: Timestamp,
    ) -> Backoff {
        let failures = match previous {
            Some(b) if !b.is_forgotten(policy, now) => b.failures.saturating_add(1),
            _ => 1,
        };
        Backoff {
            failures,
            last_failure: now,
            blocked_until: now.plus_secs(policy.delay_after(failures)),
        }
    }

    /// The history with one failure taken back (an attempt counted in advance turned
    /// out right); `None` when nothing is left.
    pub fn without_one_failure(self, policy: &ThrottlePolicy) -> Option<Backoff> {
        let failures = self.failures.checked_sub(1).filter(|n| *n > 0)?;
        Some(Backoff {
            failures,
            last_failure: self.last_failure,
            blocked_until: self.last_failure.plus_secs(policy.delay_after(failures)),
        })
    }

    pub fn is_forgotten(&self, policy: &ThrottlePolicy, now: Timestamp) -> bool {
        now.secs_since(self.last_failure) >= policy.forget_after_secs
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: ThrottlePolicy = ThrottlePolicy {
        free_failures: 3,
        base_delay_secs: 2,
        max_delay_secs: 60,
        forget_after_secs: 3_600,
    };

    #[test]
    fn free_attempts_then_doubling_waits_capped() {
        let now = Timestamp(1_000);
        let mut b = None;
        let mut waits = Vec::new();
        for _ in 0..10 {
            let next = Backoff::record_failure(b, &P, now);
            waits.push(next.retry_after(&P, now).unwrap_or(0));
            b = Some(next);
        }
        assert_eq!(waits, vec![0, 0, 2, 4, 8, 16, 32, 60, 60, 60]);
    }

    #[test]
    fn waiting_out_the_delay_allows_a_try() {
        let now = Timestamp(1_000);
        let mut b = Backoff::record_failure(None, &P, now);
        for _ in 0..3 {
            b = Backoff::record_failure(Some(b), &P, now);
        }
        let wait = b.retry_after(&P, now).unwrap();
        assert_eq!(b.retry_after(&P, now.plus_secs(wait)), None);
    }

    #[test]
    fn taking_back_a_failure_restores_the_wait_before_it() {
        let now = Timestamp(1_000);
        let mut history = Vec::new();
        let mut b = None;
        for _ in 0..6 {
            let next = Backoff::record_failure(b, &P, now);
            history.push(next);
            b = Some(next);
        }
        for pair in history.windows(2) {
            assert_eq!(pair[1].without_one_failure(&P), Some(pair[0]));
        }
        assert_eq!(history[0].without_one_failure(&P), None);
    }

    #[test]
    fn history_is_forgotten_after_a_quiet_period() {
        let now = Timestamp(1_000);
        let mut b = Backoff::record_failure(None, &P, now);
        for _ in 0..8 {
            b = Backoff::record_failure(Some(b), &P, now);
        }
        let later = now.plus_secs(3_600);
        assert!(b.is_forgotten(&P, later));
        assert_eq!(Backoff::record_failure(Some(b), &P, later).failures, 1);
    }
}
