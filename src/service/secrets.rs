//! Where secrets live, by name: the contexts a TOTP seed is sealed under, and the
//! keyed hashes under which one-time tokens and recovery codes are stored. Every use
//! case that seals, opens or looks up such a secret goes through here so the names
//! cannot drift apart. No decisions and no store access here.

use crate::domain::user::{User, UserId};

use super::Services;

/// The context a user's enrolled TOTP seed is sealed under.
pub fn totp_context(user: UserId) -> String {
    format!("totp:{user}")
}

/// The context a seed offered during enrolment (kept in the session until
/// confirmed) is sealed under.
pub fn pending_totp_context(user: UserId) -> String {
    format!("totp-pending:{user}")
}

impl Services {
    /// The stored key of a setup, invitation, consent or sign-in (`state`) token.
    pub fn one_time_key(&self, token: &str) -> [u8; 32] {
        self.keys.token_hash("one-time", token)
    }

    /// The stored form (hex keyed hash) of one of `user`'s recovery codes, given in
    /// canonical form.
    pub(crate) fn recovery_code_hash(&self, user: &User, canonical: &str) -> String {
        hex::encode(
            self.keys
                .token_hash(&format!("recovery:{}", user.id), canonical),
        )
    }
}
