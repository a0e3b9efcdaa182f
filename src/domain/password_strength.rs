//! Whether a new password is too easy to guess (NIST SP 800-63B §5.1.1.2): refused
//! when it is common, appears in breach lists, is a dictionary word or a keyboard walk
//! with trivial changes, or is built from the account's own email. No composition
//! rules: length and unpredictability are what count, not "a digit and a capital".
//!
//! The estimate is Dropbox's zxcvbn, whose word and breached-password lists are
//! compiled into the binary: nothing is looked up online.

use zxcvbn::Score;

use super::password::PasswordRejected;

/// The lowest zxcvbn score accepted: "Three" means an estimated 10^8 guesses or more
/// are needed, which refuses breached and common passwords, single words with digits
/// or symbols appended and keyboard walks, while ordinary multi-word passphrases pass.
const MIN_SCORE: Score = Score::Three;

/// Only this many leading characters are estimated. zxcvbn's cost grows with the
/// square of the length times the look-alike substitutions it tries ("@" for "a"…):
/// a 100-character string of such symbols takes about half a second, 32 characters
/// at most about 40 ms (release build), the order of one Argon2 hash. Estimating a
/// prefix never accepts a weak password: a strong prefix makes the whole strong.
const CHECKED_CHARS: usize = 32;

/// Refuses `password` when it is too easy to guess for this account; `email` (the
/// account's) counts as something an attacker knows. CPU-bound for up to tens of
/// milliseconds: callers run it off the async executor.
pub fn check_guessable(password: &str, email: &str) -> Result<(), PasswordRejected> {
    let checked: String = password.chars().take(CHECKED_CHARS).collect();
    let known = known_words(email);
    let known: Vec<&str> = known.iter().map(String::as_str).collect();
    if zxcvbn::zxcvbn(&checked, &known).score() < MIN_SCORE {
        return Err(PasswordRejected::TooGuessable);
    }
    Ok(())
}

/// The words an attacker gets from an email address: the whole address, its local
/// part with and without separators, each name in it, and the domain's labels.
fn known_words(email: &str) -> Vec<String> {
    let email = email.to_lowercase();
    let mut words = vec![email.clone()];
    if let Some((local, domain)) = email.split_once('@') {
        let separator = |c: char| !c.is_alphanumeric();
        words.push(local.to_owned());
        words.push(local.split(separator).collect());
        words.push(domain.to_owned());
        words.extend(local.split(separator).map(str::to_owned));
        words.extend(domain.split('.').map(str::to_owned));
    }
    words.retain(|word| word.chars().count() >= 3);
    words.dedup();
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOBODY: &str = "someone@example.com";

    fn refused(password: &str) -> bool {
        check_guessable(password, NOBODY) == Err(PasswordRejected::TooGuessable)
    }

    #[test]
    fn common_and_breached_passwords_are_refused() {
        for weak in [
            "password1234",
            "Password1",
            "PASSWORD1234",
            "password",
            "P@ssw0rd!",
            "Summer2024!",
            "qwertyuiop",
            "qwerty123456",
            "1234567890",
            "iloveyou",
            "letmein123",
            "football1",
            "Monkey123!",
            "abc123abc123",
            "aaaaaaaaaaaa",
            "trustno1",
            "Welcome1!",
            "zaq1zaq1",
            "11111111",
            "administrator",
            "hunter22hunter22",
            "passwordpasswordpasswordpasswordpassword",
        ] {
            assert!(refused(weak), "{weak} should be refused");
        }
    }

    #[test]
    fn passphrases_and_random_passwords_are_accepted() {
        for strong in [
            "correct horse battery staple violet",
            "correct horse battery",
            "a long passphrase",
            "brand new passphrase",
            "bobs long password",
            "crash-test passphrase",
            "emergency passphrase",
            "vR7#kq2!Lm9z",
            "tangerine submarine logic",
            // Weak start, but the first 32 characters already hold random ones.
            "password1234 x7Qm!2vLk9#pRt w8Zs",
        ] {
            assert_eq!(check_guessable(strong, NOBODY), Ok(()), "{strong}");
        }
    }

    #[test]
    fn no_composition_rules() {
        // Lower-case words only, no digit, no symbol: fine when unpredictable.
        assert_eq!(check_guessable("orbit lantern quietly", NOBODY), Ok(()));
    }

    #[test]
    fn the_account_email_counts_as_known() {
        let email = "margaret.hamilton@example.com";
        assert_eq!(check_guessable("margarethamilton1", NOBODY), Ok(()));
        for weak in [
            "margarethamilton1",
            "Margaret.Hamilton!",
            "hamilton2024",
            "margaret.hamilton@example.com",
        ] {
            assert_eq!(
                check_guessable(weak, email),
                Err(PasswordRejected::TooGuessable),
                "{weak}"
            );
        }
        assert_eq!(check_guessable("correct horse battery", email), Ok(()));
        assert_eq!(known_words("x@y"), ["x@y"]);
    }

    #[test]
    fn the_refusal_reads_as_a_plain_sentence() {
        let sentence = PasswordRejected::TooGuessable.sentence();
        assert!(
            sentence.starts_with("This password is too easy to guess"),
            "{sentence}"
        );
        assert!(sentence.ends_with('.'), "{sentence}");
        assert!(!sentence.contains("digit"), "{sentence}");
    }

    #[test]
    fn only_a_bounded_prefix_is_estimated() {
        // The worst input for zxcvbn: every look-alike symbol, repeated. Unbounded,
        // 1024 of them take seconds in a debug build.
        let symbols = "4@8({[<3!1|0$5+7%2";
        let worst: String = symbols.chars().cycle().take(1024).collect();
        let started = std::time::Instant::now();
        assert_eq!(check_guessable(&worst, NOBODY), Ok(()));
        assert!(
            started.elapsed() < std::time::Duration::from_secs(2),
            "{:?}",
            started.elapsed()
        );
    }
}
