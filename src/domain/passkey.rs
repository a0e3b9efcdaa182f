//! Passkeys (WebAuthn credentials) as Gatehouse keeps them: one record per credential,
//! bound to its user and realm, with the name the user gave it and when it was
//! created and last used. The cryptographic part (public key, signature counter,
//! backup flags) is the WebAuthn library's credential, stored as it is.

use serde::{Deserialize, Serialize};

use super::time::Timestamp;
use super::user::{Realm, UserId};

/// The longest passkey name kept (longer names are cut).
pub const NAME_MAX_CHARS: usize = 60;

/// How long a WebAuthn challenge may be answered (DESIGN §13).
pub const CHALLENGE_LIFETIME_SECS: i64 = 5 * 60;

/// One registered passkey.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PasskeyRecord {
    pub user_id: UserId,
    /// The realm the passkey was registered in; it is useless in any other.
    pub realm: Realm,
    pub name: String,
    pub created_at: Timestamp,
    #[serde(default)]
    pub last_used_at: Option<Timestamp>,
    /// Public key, signature counter, backup eligibility and state.
    pub credential: webauthn_rs::prelude::Passkey,
}

impl PasskeyRecord {
    /// The credential id, as the browser and the store know it.
    pub fn credential_id(&self) -> &[u8] {
        self.credential.cred_id().as_slice()
    }

    /// The credential id in the form pages and forms use (base64url, no padding).
    pub fn handle(&self) -> String {
        handle_of(self.credential_id())
    }
}

/// A credential id as pages and forms carry it.
pub fn handle_of(credential_id: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(credential_id)
}

/// The credential id a page or form gave back, if it is well formed.
pub fn credential_id_of(handle: &str) -> Option<Vec<u8>> {
    use base64::Engine;
    if handle.is_empty() || handle.len() > 1400 {
        return None;
    }
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(handle.trim())
        .ok()
}

/// A passkey name as typed, made safe to keep and show: control characters removed,
/// whitespace collapsed, cut to [`NAME_MAX_CHARS`]; "Passkey" when nothing is left.
pub fn clean_name(typed: &str) -> String {
    let words: Vec<&str> = typed
        .split(|c: char| c.is_whitespace() || c.is_control())
        .filter(|w| !w.is_empty())
        .collect();
    let joined: String = words.join(" ").chars().take(NAME_MAX_CHARS).collect();
    if joined.is_empty() {
        "Passkey".to_owned()
    } else {
        joined
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_cleaned_and_cut() {
        assert_eq!(clean_name("  My\tlaptop\n "), "My laptop");
        assert_eq!(clean_name("\u{7}"), "Passkey");
        assert_eq!(clean_name(&"x".repeat(100)).chars().count(), NAME_MAX_CHARS);
    }

    #[test]
    fn handles_round_trip_and_junk_is_refused() {
        let id = vec![1u8, 2, 250, 255];
        assert_eq!(credential_id_of(&handle_of(&id)), Some(id));
        assert_eq!(credential_id_of("not base64!"), None);
        assert_eq!(credential_id_of(""), None);
    }
}
