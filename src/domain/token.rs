//! Bearer secrets handed to browsers and users: session ids, setup and invite tokens,
//! recovery codes. Generated from the OS random source; only their keyed hashes are
//! ever stored (see `keys::TokenHasher`).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::totp::NoRandomness;

/// A bearer secret in the clear. `Debug` never prints it.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretToken(String);

impl std::fmt::Debug for SecretToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretToken(***)")
    }
}

impl SecretToken {
    /// 256 bits from the OS random source, URL-safe base64 (43 characters).
    pub fn generate() -> Result<SecretToken, NoRandomness> {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).map_err(|_| NoRandomness)?;
        Ok(SecretToken(URL_SAFE_NO_PAD.encode(bytes)))
    }

    /// Wraps a token received from a browser or a link.
    pub fn from_received(s: &str) -> Option<SecretToken> {
        // Anything but our own 43-character format is refused without a lookup.
        (s.len() == 43
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
        .then(|| SecretToken(s.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// How many recovery codes a user gets at enrolment or regeneration.
pub const RECOVERY_CODE_COUNT: usize = 10;
/// Letters and digits that cannot be mistaken for each other (no 0/o, 1/l/i).
const RECOVERY_ALPHABET: &[u8; 32] = b"abcdefghjkmnpqrstuvwxyz23456789-";
const RECOVERY_GROUPS: usize = 3;
const RECOVERY_GROUP_LEN: usize = 4;

/// A recovery code in the clear, as shown once to the user: `abcd-efgh-jkmn` (60 bits).
#[derive(Clone, PartialEq, Eq)]
pub struct RecoveryCode(String);

impl std::fmt::Debug for RecoveryCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RecoveryCode(***)")
    }
}

impl RecoveryCode {
    /// A fresh set of codes.
    pub fn generate_set() -> Result<Vec<RecoveryCode>, NoRandomness> {
        (0..RECOVERY_CODE_COUNT)
            .map(|_| RecoveryCode::generate())
            .collect()
    }

    fn generate() -> Result<RecoveryCode, NoRandomness> {
        let mut bytes = [0u8; RECOVERY_GROUPS * RECOVERY_GROUP_LEN];
        getrandom::fill(&mut bytes).map_err(|_| NoRandomness)?;
        let mut out = String::new();
        for (i, b) in bytes.iter().enumerate() {
            if i > 0 && i % RECOVERY_GROUP_LEN == 0 {
                out.push('-');
            }
            // 31 symbols (the alphabet's last entry is the separator), so reduce modulo 31;
            // the tiny bias costs well under one bit per code.
            out.push(char::from(RECOVERY_ALPHABET[usize::from(*b) % 31]));
        }
        Ok(RecoveryCode(out))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The canonical form that is hashed: lower case, separators and spaces removed.
    pub fn canonical(&self) -> String {
        canonical_recovery(&self.0).unwrap_or_default()
    }
}

fn canonical_recovery(input: &str) -> Option<String> {
    let canonical: String = input
        .chars()
        .filter(|c| *c != '-' && *c != ' ')
        .map(|c| c.to_ascii_lowercase())
        .collect();
    let valid = canonical.len() == RECOVERY_GROUPS * RECOVERY_GROUP_LEN
        && canonical
            .bytes()
            .all(|b| b != b'-' && RECOVERY_ALPHABET.contains(&b));
    valid.then_some(canonical)
}

/// What a user typed into the `code` field of the second login step. `Debug` shows
/// the kind, never the code.
#[derive(Clone, PartialEq, Eq)]
pub enum MfaCode {
    /// Six ASCII digits.
    Totp(String),
    /// A recovery code in canonical form.
    Recovery(String),
    /// Anything else; treated exactly like a wrong code.
    Malformed,
}

impl std::fmt::Debug for MfaCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            MfaCode::Totp(_) => "Totp(***)",
            MfaCode::Recovery(_) => "Recovery(***)",
            MfaCode::Malformed => "Malformed",
        })
    }
}

impl MfaCode {
    pub fn parse(input: &str) -> MfaCode {
        if input.len() > 64 {
            return MfaCode::Malformed;
        }
        let compact: String = input.chars().filter(|c| *c != ' ').collect();
        if compact.len() == 6 && compact.bytes().all(|b| b.is_ascii_digit()) {
            return MfaCode::Totp(compact);
        }
        match canonical_recovery(input.trim()) {
            Some(code) => MfaCode::Recovery(code),
            None => MfaCode::Malformed,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_random_and_url_safe() {
        let a = SecretToken::generate().unwrap();
        let b = SecretToken::generate().unwrap();
        assert_ne!(a, b);
        assert_eq!(a.expose().len(), 43);
        assert!(SecretToken::from_received(a.expose()).is_some());
        assert!(SecretToken::from_received("short").is_none());
        assert!(SecretToken::from_received(&"a".repeat(42)).is_none());
        assert!(SecretToken::from_received(&format!("{}%", "a".repeat(42))).is_none());
        assert_eq!(format!("{a:?}"), "SecretToken(***)");
    }

    #[test]
    fn recovery_codes_look_right_and_parse_back() {
        let set = RecoveryCode::generate_set().unwrap();
        assert_eq!(set.len(), 10);
        for code in &set {
            assert_eq!(code.expose().len(), 14, "{}", code.expose());
            let typed = code.expose().to_uppercase();
            assert_eq!(MfaCode::parse(&typed), MfaCode::Recovery(code.canonical()));
        }
    }

    #[test]
    fn code_field_classification() {
        assert_eq!(MfaCode::parse("123456"), MfaCode::Totp("123456".into()));
        assert_eq!(MfaCode::parse(" 123 456 "), MfaCode::Totp("123456".into()));
        for bad in [
            "",
            "12345",
            "1234567",
            "12a456",
            "１２３４５６",
            "abcd-efgh-jkm0",
        ] {
            assert_eq!(MfaCode::parse(bad), MfaCode::Malformed, "{bad:?}");
        }
        assert_eq!(MfaCode::parse(&"1".repeat(10_240)), MfaCode::Malformed);
    }
}
