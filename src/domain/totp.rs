//! Time-based one-time passwords (RFC 6238, SHA-1, 30-second steps, 6 digits) and the
//! rule that makes each code single-use: a code is accepted only for a time step later
//! than the last one accepted for that factor.

use totp_rs::{Algorithm, Builder, Secret, Totp};

use super::time::Timestamp;

/// Seconds per time step.
pub const STEP_SECS: u64 = 30;
/// Digits in the codes we issue.
pub const DIGITS: u8 = 6;
/// Steps of clock skew tolerated either side of now.
pub const SKEW_STEPS: u16 = 1;
/// Seed length for new factors (160 bits, as RFC 4226 recommends).
pub const SECRET_LEN: usize = 20;

/// A TOTP seed in the clear; only ever held in memory, sealed before storage.
pub struct TotpSecret(Vec<u8>);

impl std::fmt::Debug for TotpSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TotpSecret(***)")
    }
}

/// A failure to produce a seed (the OS random source is unavailable).
#[derive(Debug, thiserror::Error)]
#[error("no randomness available from the operating system")]
pub struct NoRandomness;

impl TotpSecret {
    /// A fresh random seed from the OS.
    pub fn generate() -> Result<TotpSecret, NoRandomness> {
        let mut bytes = vec![0u8; SECRET_LEN];
        getrandom::fill(&mut bytes).map_err(|_| NoRandomness)?;
        Ok(TotpSecret(bytes))
    }

    /// A seed typed in as base32 (as authenticator apps and our enrolment page show it).
    pub fn from_base32(text: &str) -> Option<TotpSecret> {
        Secret::try_from_base32(text.trim())
            .ok()
            .map(|s| TotpSecret(s.as_ref().to_vec()))
    }

    pub fn from_bytes(bytes: Vec<u8>) -> TotpSecret {
        TotpSecret(bytes)
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// Unpadded RFC 4648 base32, as authenticator apps expect when typed in.
    pub fn to_base32(&self) -> String {
        Secret::from(self.0.clone()).to_base32()
    }

    fn totp(&self, digits: u8, issuer: Option<&str>, account: &str) -> Totp {
        Builder::new()
            .with_algorithm(Algorithm::SHA1)
            .with_digits(digits)
            // Our own `verify` walks the skew window, so each check matches one step exactly.
            .with_skew(0)
            .with_step_duration(STEP_SECS)
            .with_secret(self.0.clone())
            .with_issuer(issuer.map(clean_label))
            .with_account_name(clean_label(account))
            .build_noncompliant()
    }

    /// The `otpauth://totp/...` URI for QR codes and password managers.
    pub fn otpauth_uri(&self, issuer: &str, account: &str) -> String {
        self.totp(DIGITS, Some(issuer), account)
            .to_url()
            .unwrap_or_default()
    }

    /// The code for the step containing `at`, with `digits` digits.
    pub fn code_at(&self, at: u64, digits: u8) -> String {
        self.totp(digits, None, "").generate(at).to_string()
    }

    /// Checks a 6-digit `code` at time `now`, accepting steps now−1..=now+1 that are
    /// strictly later than `last_step`. Returns the matched step to store as the new
    /// `last_step`.
    pub fn verify(&self, code: &str, now: Timestamp, last_step: Option<u64>) -> Option<u64> {
        let now = u64::try_from(now.0).ok()?;
        let totp = self.totp(DIGITS, None, "");
        let origin = now / STEP_SECS;
        // Check every candidate step so timing does not reveal which one matched.
        let mut matched = None;
        for step in origin.saturating_sub(u64::from(SKEW_STEPS))..=origin + u64::from(SKEW_STEPS) {
            let fresh = last_step.is_none_or(|last| step > last);
            if totp.check(code, step * STEP_SECS) == Some(step) && fresh && matched.is_none() {
                matched = Some(step);
            }
        }
        matched
    }
}

/// Issuer and account labels must not contain ':' (it separates them in the URI).
fn clean_label(s: &str) -> String {
    s.replace(':', " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 Appendix B: the SHA-1 seed is the ASCII string "12345678901234567890".
    fn rfc_secret() -> TotpSecret {
        TotpSecret::from_bytes(b"12345678901234567890".to_vec())
    }

    const RFC_VECTORS: [(u64, &str); 6] = [
        (59, "94287082"),
        (1_111_111_109, "07081804"),
        (1_111_111_111, "14050471"),
        (1_234_567_890, "89005924"),
        (2_000_000_000, "69279037"),
        (20_000_000_000, "65353130"),
    ];

    #[test]
    fn rfc6238_appendix_b_sha1_eight_digits() {
        for (t, expected) in RFC_VECTORS {
            assert_eq!(rfc_secret().code_at(t, 8), expected, "T = {t}");
        }
    }

    #[test]
    fn rfc6238_appendix_b_sha1_six_digits() {
        // A 6-digit code is the same truncated value modulo 10^6: the last six digits.
        for (t, expected) in RFC_VECTORS {
            assert_eq!(rfc_secret().code_at(t, 6), expected[2..], "T = {t}");
        }
    }

    #[test]
    fn rfc_vector_verifies_at_its_time_including_beyond_2038() {
        let secret = rfc_secret();
        for (t, expected) in RFC_VECTORS {
            let six = &expected[2..];
            let step = t / STEP_SECS;
            assert_eq!(
                secret.verify(six, Timestamp(t as i64), None),
                Some(step),
                "T = {t}"
            );
        }
    }

    #[test]
    fn accepts_one_step_of_skew_either_side_but_not_two() {
        let secret = rfc_secret();
        let now = 1_234_567_890u64;
        let at = |offset: i64| secret.code_at((now as i64 + offset * 30) as u64, 6);
        let ts = Timestamp(now as i64);
        assert!(secret.verify(&at(-1), ts, None).is_some(), "T-1");
        assert!(secret.verify(&at(0), ts, None).is_some(), "T");
        assert!(secret.verify(&at(1), ts, None).is_some(), "T+1");
        assert_eq!(secret.verify(&at(-2), ts, None), None, "T-2");
        assert_eq!(secret.verify(&at(2), ts, None), None, "T+2");
    }

    #[test]
    fn a_code_is_single_use() {
        let secret = rfc_secret();
        let now = Timestamp(1_234_567_890);
        let code = secret.code_at(1_234_567_890, 6);
        let step = secret.verify(&code, now, None).expect("first use");
        assert_eq!(secret.verify(&code, now, Some(step)), None, "replay");
        // An earlier step's code is refused too once a later one was used.
        let previous = secret.code_at(1_234_567_890 - 30, 6);
        assert_eq!(secret.verify(&previous, now, Some(step)), None);
        // The next step's code still works.
        let next = secret.code_at(1_234_567_890 + 30, 6);
        assert_eq!(secret.verify(&next, now, Some(step)), Some(step + 1));
    }

    #[test]
    fn malformed_codes_never_match() {
        let secret = rfc_secret();
        let now = Timestamp(1_234_567_890);
        let real = secret.code_at(1_234_567_890, 6);
        let full_width: String = real
            .chars()
            .map(|c| char::from_u32(c as u32 - '0' as u32 + '０' as u32).unwrap())
            .collect();
        for bad in [
            "",
            "12345",
            "1234567",
            "12a456",
            "+12345",
            &full_width,
            &"9".repeat(10_000),
        ] {
            assert_eq!(secret.verify(bad, now, None), None, "{bad:?}");
        }
    }

    #[test]
    fn base32_round_trip() {
        let secret = TotpSecret::generate().unwrap();
        let back = TotpSecret::from_base32(&secret.to_base32()).unwrap();
        assert_eq!(back.as_bytes(), secret.as_bytes());
        assert!(TotpSecret::from_base32("not base32!").is_none());
    }

    #[test]
    fn otpauth_uri_carries_issuer_and_account() {
        let uri = rfc_secret().otpauth_uri("Gatehouse", "ann@example.com");
        assert!(
            uri.starts_with("otpauth://totp/Gatehouse:ann%40example.com?"),
            "{uri}"
        );
        assert!(
            uri.contains("secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"),
            "{uri}"
        );
        assert!(uri.contains("issuer=Gatehouse"), "{uri}");
    }
}
