//! Passwords: the typed value (never printed), the rules for new ones, and Argon2id
//! hashing. Hashing is synchronous and CPU-heavy by design: callers run it on a
//! blocking thread under the hashing semaphore, never on the executor.

use std::sync::Mutex;

use argon2::password_hash::phc::{Output, ParamsString, Salt};
use argon2::{Algorithm, Argon2, Block, Params, PasswordHash, Version};
use subtle::ConstantTimeEq;

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
    #[error(
        "this password is too easy to guess (it is common, has appeared in data breaches \
         or contains your email); choose another: a few unrelated words make a strong one"
    )]
    TooGuessable,
}

impl PasswordRejected {
    /// The refusal as a sentence for the person choosing the password.
    pub fn sentence(self) -> String {
        let message = self.to_string();
        let mut chars = message.chars();
        match chars.next() {
            Some(first) => format!("{}{}.", first.to_uppercase(), chars.as_str()),
            None => String::new(),
        }
    }
}

/// A password in the clear, as typed. `Debug` never prints it, so a struct carrying
/// one can derive `Debug` safely.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    pub fn new(typed: String) -> Password {
        Password(typed)
    }

    /// The plaintext, for checking and hashing only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(***)")
    }
}

impl From<String> for Password {
    fn from(typed: String) -> Password {
        Password(typed)
    }
}

impl From<&str> for Password {
    fn from(typed: &str) -> Password {
        Password(typed.to_owned())
    }
}

/// Checks the length and confirmation of a password a user is choosing (setup,
/// invitation, change); whether it is guessable is
/// [`super::password_strength::check_guessable`], run off the executor.
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

    fn argon2_params(&self) -> Params {
        // The parameters are constants checked by a test; `Params::new` cannot fail for them.
        Params::new(self.memory_kib, self.iterations, self.parallelism, None).unwrap_or_default()
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
pub struct PasswordHashing {
    params: HashParams,
    /// A well-formed hash of nothing anyone can type (random salt and random output),
    /// verified when the user does not exist so that an unknown email costs the same
    /// Argon2 work as a wrong password. Building it costs no hashing at start-up.
    dummy_hash: String,
    /// Argon2 working memory (`memory_kib` KiB each), kept for reuse: at most one
    /// buffer per hash that ever ran at the same time, so callers that cap concurrent
    /// hashes cap this memory too. A fresh allocation per hash would not be bounded:
    /// glibc keeps a freed 19 MiB block in the arena of whichever thread hashed, and a
    /// login storm through many blocking threads grew RSS by arenas × 19 MiB.
    memory: Mutex<Vec<Vec<Block>>>,
}

impl std::fmt::Debug for PasswordHashing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordHashing")
            .field("params", &self.params)
            .finish_non_exhaustive()
    }
}

/// Salt and output lengths of the hashes we write.
const SALT_LEN: usize = 16;
const OUTPUT_LEN: usize = 32;

impl PasswordHashing {
    pub fn new(params: HashParams) -> PasswordHashing {
        let mut random = [0u8; SALT_LEN + OUTPUT_LEN];
        // Without OS randomness the dummy stays all-zero, which only costs its secrecy,
        // and the dummy never authenticates anyone anyway.
        let _ = getrandom::fill(&mut random);
        let (salt, output) = random.split_at(SALT_LEN);
        PasswordHashing {
            params,
            dummy_hash: phc_string(&params.argon2_params(), salt, output).unwrap_or_default(),
            memory: Mutex::new(Vec::new()),
        }
    }

    /// A PHC string for `password` with a fresh random salt.
    pub fn hash(&self, password: &str) -> String {
        let mut salt = [0u8; SALT_LEN];
        if getrandom::fill(&mut salt).is_err() {
            // No OS randomness: refuse to produce a hash anyone could predict.
            return String::from("!unavailable");
        }
        let params = self.params.argon2_params();
        let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
        let mut output = [0u8; OUTPUT_LEN];
        self.compute(
            &argon2,
            params.block_count(),
            password.as_bytes(),
            &salt,
            &mut output,
        )
        .ok()
        .and_then(|()| phc_string(&params, &salt, &output))
        .unwrap_or_else(|| String::from("!unavailable"))
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
        let ok = self.matches(password, &parsed);
        match (ok, same_params) {
            (false, _) => Verified::No,
            (true, true) => Verified::Yes,
            (true, false) => Verified::YesRehash(self.hash(password)),
        }
    }

    /// Does the work of one verification and always fails; used for unknown users.
    pub fn burn(&self, password: &str) {
        if let Ok(parsed) = PasswordHash::new(&self.dummy_hash) {
            let _ = self.matches(password, &parsed);
        }
    }

    /// Whether Argon2 of `password` with the salt and parameters of `parsed` gives
    /// its output (compared in constant time).
    fn matches(&self, password: &str, parsed: &PasswordHash) -> bool {
        let (Some(salt), Some(expected)) = (&parsed.salt, &parsed.hash) else {
            return false;
        };
        let Ok(algorithm) = Algorithm::try_from(parsed.algorithm.as_str()) else {
            return false;
        };
        let version = match parsed.version.map(Version::try_from) {
            None => Version::default(),
            Some(Ok(version)) => version,
            Some(Err(_)) => return false,
        };
        let Ok(params) = Params::try_from(parsed) else {
            return false;
        };
        let blocks = params.block_count();
        let argon2 = Argon2::new(algorithm, version, params);
        let mut output = vec![0u8; expected.len()];
        self.compute(&argon2, blocks, password.as_bytes(), salt, &mut output)
            .is_ok()
            && bool::from(output.as_slice().ct_eq(expected.as_bytes()))
    }

    /// Runs Argon2 (whose parameters need `blocks` memory blocks) in a reused buffer.
    fn compute(
        &self,
        argon2: &Argon2,
        blocks: usize,
        password: &[u8],
        salt: &[u8],
        output: &mut [u8],
    ) -> Result<(), argon2::Error> {
        let mut memory = self.take_memory(blocks);
        let result =
            argon2.hash_password_into_with_memory(password, salt, output, &mut memory[..blocks]);
        self.return_memory(memory);
        result
    }

    fn take_memory(&self, blocks: usize) -> Vec<Block> {
        if let Ok(mut pool) = self.memory.lock()
            && pool.last().is_some_and(|m| m.len() >= blocks)
            && let Some(memory) = pool.pop()
        {
            return memory;
        }
        vec![Block::new(); blocks]
    }

    fn return_memory(&self, memory: Vec<Block>) {
        // Only buffers for the configured parameters are kept; one made for an old
        // hash with other parameters is freed.
        if memory.len() == self.params.argon2_params().block_count()
            && let Ok(mut pool) = self.memory.lock()
        {
            pool.push(memory);
        }
    }

    /// Argon2 buffers currently kept for reuse.
    #[cfg(test)]
    pub fn buffers_kept(&self) -> usize {
        self.memory.lock().map_or(0, |pool| pool.len())
    }
}

/// The PHC string of an Argon2 output.
fn phc_string(params: &Params, salt: &[u8], output: &[u8]) -> Option<String> {
    let hash = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(params).ok()?,
        salt: Some(Salt::new(salt).ok()?),
        hash: Some(Output::new(output).ok()?),
    };
    Some(hash.to_string())
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
    fn a_password_never_shows_in_debug_output() {
        let password = Password::from("correct horse battery");
        assert_eq!(format!("{password:?}"), "Password(***)");
        assert_eq!(password.expose(), "correct horse battery");
    }

    #[test]
    fn rejections_read_as_sentences() {
        assert_eq!(
            PasswordRejected::TooShort.sentence(),
            "Passwords must be at least 8 characters."
        );
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
    fn hashes_interoperate_with_the_argon2_crate() {
        use argon2::{PasswordHasher, PasswordVerifier};
        let hashing = cheap();
        // A hash written by the crate's own hasher (as older builds stored them).
        let theirs = HashParams {
            memory_kib: 64,
            iterations: 1,
            parallelism: 1,
        }
        .argon2_params();
        let theirs = Argon2::new(Algorithm::Argon2id, Version::V0x13, theirs)
            .hash_password_with_salt(b"correct horse battery", &[9u8; 16])
            .unwrap()
            .to_string();
        assert_eq!(
            hashing.verify("correct horse battery", &theirs),
            Verified::Yes
        );
        assert_eq!(hashing.verify("correct horse", &theirs), Verified::No);
        // And ours verifies with the crate's verifier.
        let ours = hashing.hash("correct horse battery");
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(
            Argon2::default()
                .verify_password(b"correct horse battery", &parsed)
                .is_ok()
        );
    }

    #[test]
    fn unknown_users_cost_a_verification_and_never_match() {
        let hashing = cheap();
        assert!(
            hashing
                .dummy_hash
                .starts_with("$argon2id$v=19$m=64,t=1,p=1$")
        );
        assert_eq!(hashing.buffers_kept(), 0, "no hashing at construction");
        hashing.burn("anything");
        assert_eq!(
            hashing.buffers_kept(),
            1,
            "the dummy verification ran Argon2"
        );
        assert_eq!(hashing.verify("", &hashing.dummy_hash), Verified::No);
    }

    #[test]
    fn working_memory_is_reused_not_reallocated() {
        let hashing = cheap();
        let hash = hashing.hash("correct horse battery");
        for _ in 0..5 {
            assert_eq!(
                hashing.verify("correct horse battery", &hash),
                Verified::Yes
            );
        }
        assert_eq!(hashing.buffers_kept(), 1);
        std::thread::scope(|scope| {
            for _ in 0..3 {
                scope.spawn(|| {
                    for _ in 0..5 {
                        hashing.verify("correct horse battery", &hash);
                    }
                });
            }
        });
        assert!(hashing.buffers_kept() <= 3, "{}", hashing.buffers_kept());
        // A hash with other parameters borrows a buffer of its own, not kept after.
        let other = PasswordHashing::new(HashParams {
            memory_kib: 128,
            iterations: 1,
            parallelism: 1,
        })
        .hash("correct horse battery");
        let kept = hashing.buffers_kept();
        assert!(matches!(
            hashing.verify("correct horse battery", &other),
            Verified::YesRehash(_)
        ));
        assert_eq!(hashing.buffers_kept(), kept);
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
