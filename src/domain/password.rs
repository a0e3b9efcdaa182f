//! Password rules and Argon2id hashing. Synchronous and CPU-heavy by design: callers
//! run it on a blocking thread under the hashing semaphore, never on the executor.

use argon2::{Algorithm, Argon2, Params, PasswordHash, PasswordHasher, PasswordVerifier, Version};

/// Shortest password accepted when one is set.
pub const MIN_LENGTH: usize = 8;
/// Longest password accepted anywhere; longer input is refused before any hashing.
pub const MAX_LENGTH: usize = 1024;

/// Why a new password was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PasswordRejected {
    #[error("passwords must be at least 8 characters")]
    TooShort,
    #[error("passwords must be at most 1024 characters")]
    TooLong,
    #[error("the two passwords do not match")]
    Mismatch,
}

/// Checks a password a user is choosing (setup, invitation, change).
pub fn check_new_password(password: &str, confirm: &str) -> Result<(), PasswordRejected> {
    let length = password.chars().count();
    if length > MAX_LENGTH {
        return Err(PasswordRejected::TooLong);
    }
    if length < MIN_LENGTH {
        return Err(PasswordRejected::TooShort);
    }
    if password != confirm {
        return Err(PasswordRejected::Mismatch);
    }
    Ok(())
}

/// Whether a submitted password is too long to even try (refused before hashing).
pub fn too_long_to_try(password: &str) -> bool {
    // Counting bytes first keeps this O(1) for the common case.
    password.len() > MAX_LENGTH && password.chars().count() > MAX_LENGTH
}

/// Argon2id cost parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashParams {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

impl HashParams {
    /// OWASP's Argon2id recommendation, the floor DESIGN §9 sets.
    pub const RECOMMENDED: HashParams = HashParams {
        memory_kib: 19_456,
        iterations: 2,
        parallelism: 1,
    };

    fn argon2(&self) -> Argon2<'static> {
        // The parameters are constants checked by a test; `Params::new` cannot fail for them.
        let params = Params::new(self.memory_kib, self.iterations, self.parallelism, None)
            .unwrap_or_default();
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
    }
}

/// The outcome of checking a password against a stored hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verified {
    /// Wrong password (or an unreadable hash).
    No,
    /// Right password; the hash uses the current parameters.
    Yes,
    /// Right password; here is a fresh hash with the current parameters to store.
    YesRehash(String),
}

/// Hashes and verifies passwords with fixed parameters.
#[derive(Debug, Clone)]
pub struct PasswordHashing {
    params: HashParams,
    /// A hash of a random password, verified when the user does not exist so that
    /// an unknown email costs the same as a wrong password.
    dummy_hash: String,
}

impl PasswordHashing {
    pub fn new(params: HashParams) -> PasswordHashing {
        let mut dummy_password = [0u8; 32];
        // Without OS randomness the dummy stays all-zero, which only costs its secrecy,
        // and the dummy never authenticates anyone anyway.
        let _ = getrandom::fill(&mut dummy_password);
        let mut hashing = PasswordHashing {
            params,
            dummy_hash: String::new(),
        };
        hashing.dummy_hash = hashing.hash(&hex::encode(dummy_password));
        hashing
    }

    pub fn params(&self) -> HashParams {
        self.params
    }

    /// A PHC string for `password` with a fresh random salt.
    pub fn hash(&self, password: &str) -> String {
        let mut salt = [0u8; 16];
        if getrandom::fill(&mut salt).is_err() {
            // No OS randomness: refuse to produce a hash anyone could predict.
            return String::from("!unavailable");
        }
        match self
            .params
            .argon2()
            .hash_password_with_salt(password.as_bytes(), &salt)
        {
            Ok(hash) => hash.to_string(),
            Err(_) => String::from("!unavailable"),
        }
    }

    /// Checks `password` against `stored`; a stored hash with other parameters is
    /// re-hashed on success so parameter upgrades reach every active user.
    pub fn verify(&self, password: &str, stored: &str) -> Verified {
        let Ok(parsed) = PasswordHash::new(stored) else {
            // Still spend the work so a broken record is not observable by timing.
            self.burn(password);
            return Verified::No;
        };
        let same_params = Params::try_from(&parsed).is_ok_and(|p| {
            p.m_cost() == self.params.memory_kib
                && p.t_cost() == self.params.iterations
                && p.p_cost() == self.params.parallelism
        }) && parsed.algorithm.as_str() == "argon2id";
        let ok = Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok();
        match (ok, same_params) {
            (false, _) => Verified::No,
            (true, true) => Verified::Yes,
            (true, false) => Verified::YesRehash(self.hash(password)),
        }
    }

    /// Does the work of one verification and always fails; used for unknown users.
    pub fn burn(&self, password: &str) {
        let _ = self.verify_dummy(password);
    }

    fn verify_dummy(&self, password: &str) -> bool {
        PasswordHash::new(&self.dummy_hash).is_ok_and(|parsed| {
            self.params
                .argon2()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cheap() -> PasswordHashing {
        PasswordHashing::new(HashParams {
            memory_kib: 64,
            iterations: 1,
            parallelism: 1,
        })
    }

    #[test]
    fn recommended_parameters_are_valid_argon2id() {
        let p = HashParams::RECOMMENDED;
        assert!(Params::new(p.memory_kib, p.iterations, p.parallelism, None).is_ok());
        assert!(p.memory_kib >= 19_456 && p.iterations >= 2);
        let hashing = PasswordHashing::new(p);
        let hash = hashing.hash("correct horse battery");
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
    }

    #[test]
    fn verifies_and_refuses() {
        let hashing = cheap();
        let hash = hashing.hash("correct horse battery");
        assert_eq!(
            hashing.verify("correct horse battery", &hash),
            Verified::Yes
        );
        assert_eq!(hashing.verify("wrong horse battery", &hash), Verified::No);
        assert_eq!(hashing.verify("anything", "not a hash"), Verified::No);
    }

    #[test]
    fn rehashes_when_parameters_change() {
        let old = cheap().hash("correct horse battery");
        let stronger = PasswordHashing::new(HashParams {
            memory_kib: 128,
            iterations: 1,
            parallelism: 1,
        });
        match stronger.verify("correct horse battery", &old) {
            Verified::YesRehash(new) => assert!(new.contains("m=128"), "{new}"),
            other => panic!("expected a rehash, got {other:?}"),
        }
    }

    #[test]
    fn new_password_rules() {
        assert_eq!(
            check_new_password("short", "short"),
            Err(PasswordRejected::TooShort)
        );
        assert_eq!(
            check_new_password("long enough", "long enougH"),
            Err(PasswordRejected::Mismatch)
        );
        let huge = "é".repeat(1025);
        assert_eq!(
            check_new_password(&huge, &huge),
            Err(PasswordRejected::TooLong)
        );
        let max = "é".repeat(1024);
        assert_eq!(check_new_password(&max, &max), Ok(()));
        assert!(too_long_to_try(&huge));
        assert!(!too_long_to_try(&max));
    }
}
