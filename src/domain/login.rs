//! The rules of a local sign-in (DESIGN §3): a realm's policy, why an attempt is
//! refused, and which stage a sign-in moves to once the password is right. Pure
//! functions over plain values; reading the policy from the store, hashing and writing
//! the outcome belong to the service, never here.

use std::fmt;

use super::password::Verified;
use super::session::{AuthMethod, Stage};
use super::user::{User, UserStatus};

/// The effective sign-in rules of one realm.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RealmPolicy {
    /// Password users must have a TOTP factor before they get a session.
    pub mfa_required: bool,
    /// Passwords, local TOTP and recovery codes are refused (break-glass excepted).
    pub sso_only: bool,
    /// Email + password sign-in is offered at all (a client may turn it off).
    pub password_login: bool,
}

impl RealmPolicy {
    /// Whether `user` may use any local path (password, TOTP, recovery code) in this
    /// realm. Break-glass exists for staff only.
    pub fn password_allowed(&self, user: &User) -> bool {
        self.password_login && (!self.sso_only || (user.realm.is_staff() && user.break_glass))
    }

    /// Whether a local sign-in by `user` is an emergency one that must be audited as
    /// break-glass (it happens only while SSO-only is on).
    pub fn is_break_glass(&self, user: &User) -> bool {
        self.sso_only && user.break_glass
    }
}

/// Why a local sign-in or re-authentication was refused. Only the audit trail sees
/// it: the person signing in gets the same answer whatever the reason.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoginRefusal {
    /// No user with this email in the realm (or the email is malformed).
    UnknownEmail,
    /// The user has no password (SSO-only user or never set one).
    NoPasswordSet,
    WrongPassword,
    AccountDisabled,
    /// The user was invited and has not accepted yet.
    InvitationPending,
    /// SSO-only is on and the user is not a staff break-glass account, or the client
    /// turned password sign-in off.
    PasswordOff,
    /// The user was disabled or changed between checking the password and writing.
    ChangedDuringSignIn,
    /// The user of a pending sign-in no longer exists.
    UserRemoved,
    /// The TOTP or recovery code of the second step was wrong or already used.
    WrongCode,
    /// The code that should confirm a new authenticator was wrong.
    WrongEnrolmentCode,
    /// Re-authentication for a sensitive change: wrong current password.
    ReauthWrongPassword,
    /// Re-authentication for a sensitive change: wrong authenticator code.
    ReauthWrongCode,
}

impl LoginRefusal {
    /// The text recorded in the audit trail.
    pub fn as_str(self) -> &'static str {
        match self {
            LoginRefusal::UnknownEmail => "unknown email",
            LoginRefusal::NoPasswordSet => "no password set",
            LoginRefusal::WrongPassword => "wrong password",
            LoginRefusal::AccountDisabled => "account disabled",
            LoginRefusal::InvitationPending => "invitation not accepted yet",
            LoginRefusal::PasswordOff => "password sign-in is off (SSO-only)",
            LoginRefusal::ChangedDuringSignIn => "account changed during sign-in",
            LoginRefusal::UserRemoved => "user removed",
            LoginRefusal::WrongCode => "wrong code",
            LoginRefusal::WrongEnrolmentCode => "wrong enrolment code",
            LoginRefusal::ReauthWrongPassword => "re-authentication: wrong password",
            LoginRefusal::ReauthWrongCode => "re-authentication: wrong code",
        }
    }
}

impl fmt::Display for LoginRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why `user` may not use any local method (password, TOTP, recovery code) under
/// `policy`, if they may not.
pub fn local_refusal(user: &User, policy: &RealmPolicy) -> Option<LoginRefusal> {
    match user.status {
        UserStatus::Disabled => Some(LoginRefusal::AccountDisabled),
        UserStatus::Invited => Some(LoginRefusal::InvitationPending),
        UserStatus::Active if !policy.password_allowed(user) => Some(LoginRefusal::PasswordOff),
        UserStatus::Active => None,
    }
}

/// Why the password step refuses: `user` is who the email found (if anyone) and
/// `verified` the outcome of checking the typed password against their hash (or of
/// the dummy work when there was none).
pub fn password_refusal(
    user: Option<&User>,
    verified: &Verified,
    policy: &RealmPolicy,
) -> Option<LoginRefusal> {
    match user {
        None => Some(LoginRefusal::UnknownEmail),
        Some(u) if u.password_hash.is_none() => Some(LoginRefusal::NoPasswordSet),
        Some(_) if *verified == Verified::No => Some(LoginRefusal::WrongPassword),
        Some(u) => local_refusal(u, policy),
    }
}

/// Why the second step (TOTP or recovery code) refuses before looking at the code:
/// `user` is the pending sign-in's user as read now.
pub fn code_refusal(user: Option<&User>, policy: &RealmPolicy) -> Option<LoginRefusal> {
    match user {
        None => Some(LoginRefusal::UserRemoved),
        Some(u) => local_refusal(u, policy),
    }
}

/// Where a sign-in goes once the password is right.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NextStage {
    pub stage: Stage,
    /// How the finished sign-in will have proved the user.
    pub auth: AuthMethod,
}

/// A user with TOTP or a passkey (`has_passkey`) is asked for the second step; a
/// user without either enrols first when the realm requires MFA; anyone else is
/// signed in with the password alone.
pub fn next_stage(user: &User, has_passkey: bool, policy: &RealmPolicy) -> NextStage {
    let (stage, auth) = if user.totp.is_some() || has_passkey {
        (Stage::PendingMfa, AuthMethod::PasswordTotp)
    } else if policy.mfa_required {
        (Stage::PendingEnrolment, AuthMethod::PasswordTotp)
    } else {
        (Stage::Active, AuthMethod::Password)
    };
    NextStage { stage, auth }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::time::Timestamp;
    use crate::domain::user::{ClientId, Email, Realm, Role, Sealed, TotpFactor};

    fn user(realm: Realm, status: UserStatus) -> User {
        let mut user = User::new(
            realm,
            Email::parse("ann@example.com").unwrap(),
            "Ann".to_owned(),
            Role::Member,
            status,
            Timestamp(0),
        );
        user.password_hash = Some("$argon2id$stored".to_owned());
        user
    }

    fn client() -> Realm {
        Realm::Client(ClientId(uuid::Uuid::nil()))
    }

    fn policy(mfa_required: bool, sso_only: bool, password_login: bool) -> RealmPolicy {
        RealmPolicy {
            mfa_required,
            sso_only,
            password_login,
        }
    }

    fn with_totp(mut user: User) -> User {
        user.totp = Some(TotpFactor {
            secret: Sealed {
                nonce: vec![],
                ciphertext: vec![],
            },
            last_step: 0,
            enrolled_at: Timestamp(0),
        });
        user
    }

    fn break_glass(mut user: User) -> User {
        user.break_glass = true;
        user
    }

    /// Every local method: the password step (right password) and the code step
    /// (which serves both TOTP and recovery codes).
    fn local_methods(user: &User, policy: &RealmPolicy) -> [Option<LoginRefusal>; 2] {
        [
            password_refusal(Some(user), &Verified::Yes, policy),
            code_refusal(Some(user), policy),
        ]
    }

    #[test]
    fn sso_only_refuses_every_local_method_except_staff_break_glass() {
        let on = policy(true, true, true);
        let table = [
            (user(Realm::Staff, UserStatus::Active), false),
            (break_glass(user(Realm::Staff, UserStatus::Active)), true),
            (user(client(), UserStatus::Active), false),
            // Break-glass does not exist for client realms, even if the flag is set.
            (break_glass(user(client(), UserStatus::Active)), false),
        ];
        for (user, allowed) in table {
            assert_eq!(on.password_allowed(&user), allowed, "{user:?}");
            let expected = if allowed {
                None
            } else {
                Some(LoginRefusal::PasswordOff)
            };
            assert_eq!(local_methods(&user, &on), [expected; 2], "{user:?}");
        }
    }

    #[test]
    fn without_sso_only_every_active_user_may_use_local_methods() {
        let off = policy(true, false, true);
        for realm in [Realm::Staff, client()] {
            let user = user(realm, UserStatus::Active);
            assert_eq!(local_methods(&user, &off), [None; 2]);
        }
    }

    #[test]
    fn a_client_without_password_sign_in_refuses_everyone_locally() {
        let no_passwords = policy(false, false, false);
        for user in [
            user(client(), UserStatus::Active),
            break_glass(user(client(), UserStatus::Active)),
        ] {
            assert_eq!(
                local_methods(&user, &no_passwords),
                [Some(LoginRefusal::PasswordOff); 2]
            );
        }
    }

    #[test]
    fn disabled_and_invited_users_are_refused_with_their_reason() {
        // Even where SSO-only would also refuse, the status is the reason recorded.
        for policy in [policy(true, false, true), policy(true, true, true)] {
            for realm in [Realm::Staff, client()] {
                let disabled = break_glass(user(realm, UserStatus::Disabled));
                let invited = break_glass(user(realm, UserStatus::Invited));
                assert_eq!(
                    local_methods(&disabled, &policy),
                    [Some(LoginRefusal::AccountDisabled); 2]
                );
                assert_eq!(
                    local_methods(&invited, &policy),
                    [Some(LoginRefusal::InvitationPending); 2]
                );
            }
        }
    }

    #[test]
    fn the_password_step_refuses_in_order() {
        let open = policy(true, false, true);
        let active = user(Realm::Staff, UserStatus::Active);
        let mut no_hash = active.clone();
        no_hash.password_hash = None;
        let disabled = user(Realm::Staff, UserStatus::Disabled);
        let table = [
            (None, Verified::No, Some(LoginRefusal::UnknownEmail)),
            (
                Some(&no_hash),
                Verified::No,
                Some(LoginRefusal::NoPasswordSet),
            ),
            (
                Some(&active),
                Verified::No,
                Some(LoginRefusal::WrongPassword),
            ),
            // A wrong password is what a disabled user's failure looks like too.
            (
                Some(&disabled),
                Verified::No,
                Some(LoginRefusal::WrongPassword),
            ),
            (
                Some(&disabled),
                Verified::Yes,
                Some(LoginRefusal::AccountDisabled),
            ),
            (Some(&active), Verified::Yes, None),
            (Some(&active), Verified::YesRehash("new".to_owned()), None),
        ];
        for (user, verified, expected) in table {
            assert_eq!(password_refusal(user, &verified, &open), expected);
        }
    }

    #[test]
    fn the_code_step_refuses_a_removed_user() {
        assert_eq!(
            code_refusal(None, &policy(true, false, true)),
            Some(LoginRefusal::UserRemoved)
        );
    }

    #[test]
    fn next_stage_asks_for_a_code_then_enrolment_then_signs_in() {
        let plain = user(Realm::Staff, UserStatus::Active);
        let enrolled = with_totp(plain.clone());
        let table = [
            (&enrolled, true, Stage::PendingMfa, AuthMethod::PasswordTotp),
            (
                &enrolled,
                false,
                Stage::PendingMfa,
                AuthMethod::PasswordTotp,
            ),
            (
                &plain,
                true,
                Stage::PendingEnrolment,
                AuthMethod::PasswordTotp,
            ),
            (&plain, false, Stage::Active, AuthMethod::Password),
        ];
        for (user, mfa_required, stage, auth) in table {
            let policy = policy(mfa_required, false, true);
            assert_eq!(next_stage(user, false, &policy), NextStage { stage, auth });
        }
        // A passkey alone is a second factor too.
        for mfa_required in [true, false] {
            let policy = policy(mfa_required, false, true);
            assert_eq!(next_stage(&plain, true, &policy).stage, Stage::PendingMfa);
        }
    }

    #[test]
    fn break_glass_is_audited_only_while_sso_only_is_on() {
        let glass = break_glass(user(Realm::Staff, UserStatus::Active));
        assert!(policy(true, true, true).is_break_glass(&glass));
        assert!(!policy(true, false, true).is_break_glass(&glass));
        assert!(!policy(true, true, true).is_break_glass(&user(Realm::Staff, UserStatus::Active)));
    }

    #[test]
    fn refusal_texts_are_the_audited_ones() {
        assert_eq!(
            LoginRefusal::PasswordOff.to_string(),
            "password sign-in is off (SSO-only)"
        );
        assert_eq!(
            LoginRefusal::InvitationPending.as_str(),
            "invitation not accepted yet"
        );
    }
}
