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

/// How long a link sealed for one display after a redirect stays readable.
const SHOWN_ONCE_SECS: i64 = 10 * 60;

impl Services {
    /// Seals `text` (a reset or invitation link an admin just made) for the page the
    /// POST redirects to (POST-redirect-GET): the address carries it encrypted and
    /// authenticated to the admin `viewer`, readable for ten minutes. Reloading shows
    /// the same link; nothing is made again.
    pub fn seal_for_display(&self, viewer: UserId, text: &str) -> super::Result<String> {
        use base64::Engine;
        let expires = self.clock.now().plus_secs(SHOWN_ONCE_SECS).0;
        let plain = format!("{expires}|{text}");
        let sealed = self
            .keys
            .seal(plain.as_bytes(), &format!("shown-once:{viewer}"))?;
        let mut bytes = sealed.nonce;
        bytes.extend(sealed.ciphertext);
        Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
    }

    /// Opens what [`Self::seal_for_display`] sealed for `viewer`, if it is genuine and
    /// not expired.
    pub fn open_for_display(&self, viewer: UserId, sealed: &str) -> Option<String> {
        use base64::Engine;
        if sealed.len() > 4096 {
            return None;
        }
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(sealed.as_bytes())
            .ok()?;
        if bytes.len() <= 24 {
            return None;
        }
        let (nonce, ciphertext) = bytes.split_at(24);
        let sealed = crate::domain::user::Sealed {
            nonce: nonce.to_vec(),
            ciphertext: ciphertext.to_vec(),
        };
        let plain = self
            .keys
            .open(&sealed, &format!("shown-once:{viewer}"))
            .ok()?;
        let plain = String::from_utf8(plain).ok()?;
        let (expires, text) = plain.split_once('|')?;
        let expires: i64 = expires.parse().ok()?;
        (self.clock.now().0 < expires).then(|| text.to_owned())
    }
}
