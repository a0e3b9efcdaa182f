//! WebAuthn challenges waiting for their answer, held server-side in memory: each is
//! taken (and so used) at most once and lapses after five minutes by the services'
//! clock. A restart forgets them, which only means starting the ceremony again.

use std::collections::HashMap;
use std::sync::Mutex;

use webauthn_rs::prelude::{
    DiscoverableAuthentication, SecurityKeyAuthentication, SecurityKeyRegistration,
};

use crate::domain::passkey::CHALLENGE_LIFETIME_SECS;
use crate::domain::time::Timestamp;
use crate::domain::token::SecretToken;
use crate::domain::user::{Realm, UserId};
use crate::store::sessions::SessionKey;

/// Challenges kept at most; beyond that the oldest are dropped (an anonymous visitor
/// can open the sign-in page often, but cannot grow memory without bound).
const MAX_WAITING: usize = 20_000;

/// What a challenge was issued for, with the library's state for checking the answer.
pub(crate) enum Ceremony {
    /// Adding a passkey, by the session `session` of `user` (signed in or enrolling).
    Register {
        user: UserId,
        realm: Realm,
        session: SessionKey,
        state: Box<SecurityKeyRegistration>,
    },
    /// The second step of the pending sign-in `session` of `user`.
    SecondFactor {
        user: UserId,
        realm: Realm,
        session: SessionKey,
        state: Box<SecurityKeyAuthentication>,
    },
    /// Signing in with a passkey alone, in `realm`.
    Passwordless {
        realm: Realm,
        state: Box<DiscoverableAuthentication>,
    },
}

struct Waiting {
    ceremony: Ceremony,
    expires_at: Timestamp,
}

/// The waiting challenges, by the random id the page carries back.
#[derive(Default)]
pub(crate) struct Challenges {
    waiting: Mutex<HashMap<String, Waiting>>,
}

impl Challenges {
    /// Keeps `ceremony` until `now` + five minutes; returns the id for the page.
    pub(crate) fn hold(
        &self,
        ceremony: Ceremony,
        now: Timestamp,
    ) -> Result<String, crate::domain::totp::NoRandomness> {
        let id = SecretToken::generate()?.expose().to_owned();
        let mut waiting = self.waiting.lock().unwrap_or_else(|e| e.into_inner());
        if waiting.len() >= MAX_WAITING {
            waiting.retain(|_, w| w.expires_at > now);
        }
        if waiting.len() >= MAX_WAITING {
            let oldest = waiting
                .iter()
                .min_by_key(|(_, w)| w.expires_at)
                .map(|(k, _)| k.clone());
            if let Some(oldest) = oldest {
                waiting.remove(&oldest);
            }
        }
        waiting.insert(
            id.clone(),
            Waiting {
                ceremony,
                expires_at: now.plus_secs(CHALLENGE_LIFETIME_SECS),
            },
        );
        Ok(id)
    }

    /// Takes the ceremony `id` out (it can never be answered twice), if it exists and
    /// has not lapsed at `now`.
    pub(crate) fn take(&self, id: &str, now: Timestamp) -> Option<Ceremony> {
        let mut waiting = self.waiting.lock().unwrap_or_else(|e| e.into_inner());
        let found = waiting.remove(id)?;
        (now < found.expires_at).then_some(found.ceremony)
    }
}
