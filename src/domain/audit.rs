//! The audit trail: who did what, from where, when. Reasons for failures are kept
//! here (for admins) and never shown to the person who failed. Every text field is
//! neutralised as it is set (see [`super::text`]): an entry cannot forge a log line.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use super::text::{neutralise, neutralised};
use super::time::Timestamp;
use super::user::{Realm, UserId};

/// What happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditKind {
    LoginSucceeded,
    LoginFailed,
    /// Password accepted, second factor or enrolment still to come.
    PasswordAccepted,
    BreakGlassLogin,
    MfaEnrolled,
    RecoveryCodeUsed,
    RecoveryCodesRegenerated,
    PasswordChanged,
    Logout,
    SessionRevoked,
    SetupCompleted,
    UserCreated,
    UserInvited,
    InvitationAccepted,
    UserDisabled,
    UserEnabled,
    MfaReset,
    SessionsRevoked,
    RoleChanged,
    BreakGlassChanged,
    Throttled,
    SsoLogin,
    SsoFailed,
    SsoLinked,
    SsoUnlinked,
    SsoTestSignIn,
    SsoConnectionTested,
    SettingsChanged,
    SsoOnlyChanged,
    ClientChanged,
    ConsentRecorded,
    UserRemoved,
    EmailChanged,
    /// Someone asked for a password reset link (the detail says whether one was sent).
    PasswordResetRequested,
    /// A password was set through a reset link.
    PasswordReset,
    /// An admin made a password reset link for a user.
    ResetLinkIssued,
    PasskeyRegistered,
    PasskeyRemoved,
    /// A passkey answer refused for a reason worth an admin's eye (a signature counter
    /// that went backwards: a cloned authenticator).
    PasskeyRefused,
}

impl AuditKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AuditKind::LoginSucceeded => "login succeeded",
            AuditKind::LoginFailed => "login failed",
            AuditKind::PasswordAccepted => "password accepted",
            AuditKind::BreakGlassLogin => "break-glass login",
            AuditKind::MfaEnrolled => "MFA enrolled",
            AuditKind::RecoveryCodeUsed => "recovery code used",
            AuditKind::RecoveryCodesRegenerated => "recovery codes regenerated",
            AuditKind::PasswordChanged => "password changed",
            AuditKind::Logout => "signed out",
            AuditKind::SessionRevoked => "session revoked",
            AuditKind::SetupCompleted => "first admin created",
            AuditKind::UserCreated => "user created",
            AuditKind::UserInvited => "user invited",
            AuditKind::InvitationAccepted => "invitation accepted",
            AuditKind::UserDisabled => "user disabled",
            AuditKind::UserEnabled => "user enabled",
            AuditKind::MfaReset => "MFA reset",
            AuditKind::SessionsRevoked => "sessions revoked",
            AuditKind::RoleChanged => "role changed",
            AuditKind::BreakGlassChanged => "break-glass changed",
            AuditKind::Throttled => "attempt throttled",
            AuditKind::SsoLogin => "SSO login",
            AuditKind::SsoFailed => "SSO failed",
            AuditKind::SsoLinked => "Microsoft account linked",
            AuditKind::SsoUnlinked => "Microsoft account unlinked",
            AuditKind::SsoTestSignIn => "SSO test sign-in",
            AuditKind::SsoConnectionTested => "SSO connection tested",
            AuditKind::SettingsChanged => "settings changed",
            AuditKind::SsoOnlyChanged => "SSO-only changed",
            AuditKind::ClientChanged => "client changed",
            AuditKind::ConsentRecorded => "admin consent",
            AuditKind::UserRemoved => "user removed",
            AuditKind::EmailChanged => "email changed",
            AuditKind::PasswordResetRequested => "password reset requested",
            AuditKind::PasswordReset => "password reset",
            AuditKind::ResetLinkIssued => "reset link issued",
            AuditKind::PasskeyRegistered => "passkey registered",
            AuditKind::PasskeyRemoved => "passkey removed",
            AuditKind::PasskeyRefused => "passkey refused",
        }
    }

    pub fn is_failure(self) -> bool {
        matches!(
            self,
            AuditKind::LoginFailed
                | AuditKind::Throttled
                | AuditKind::SsoFailed
                | AuditKind::PasskeyRefused
        )
    }
}

/// Who acted: a user, the command line, or an anonymous visitor.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type", content = "id")]
pub enum Actor {
    User(UserId),
    Cli,
    Anonymous,
    System,
}

/// One entry of the audit trail. Set the text fields through the builders, which
/// neutralise them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEvent {
    pub at: Timestamp,
    pub kind: AuditKind,
    pub actor: Actor,
    /// The email of the actor or of the account concerned, as typed when unknown.
    #[serde(default)]
    pub actor_email: String,
    #[serde(default)]
    pub realm: Option<Realm>,
    /// The user the action was about, if any.
    #[serde(default)]
    pub subject: Option<UserId>,
    #[serde(default)]
    pub subject_email: String,
    #[serde(default)]
    pub source_ip: String,
    /// Internal detail (e.g. the failure reason). Never shown to the failing user.
    #[serde(default)]
    pub detail: String,
}

impl AuditEvent {
    pub fn new(kind: AuditKind, at: Timestamp) -> AuditEvent {
        AuditEvent {
            at,
            kind,
            actor: Actor::Anonymous,
            actor_email: String::new(),
            realm: None,
            subject: None,
            subject_email: String::new(),
            source_ip: String::new(),
            detail: String::new(),
        }
    }

    pub fn by(mut self, actor: Actor, email: &str) -> Self {
        self.actor = actor;
        self.actor_email = neutralised(email);
        self
    }

    pub fn about(mut self, user: UserId, email: &str) -> Self {
        self.subject = Some(user);
        self.subject_email = neutralised(email);
        self
    }

    pub fn in_realm(mut self, realm: Realm) -> Self {
        self.realm = Some(realm);
        self
    }

    pub fn from_ip(mut self, ip: &str) -> Self {
        self.source_ip = neutralised(ip);
        self
    }

    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        let detail = detail.into();
        self.detail = match neutralise(&detail) {
            Cow::Borrowed(_) => detail,
            Cow::Owned(safe) => safe,
        };
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_text_field_is_neutralised_as_it_is_set() {
        let event = AuditEvent::new(AuditKind::LoginFailed, Timestamp(0))
            .by(Actor::Anonymous, "x@y.z\nINFO forged")
            .about(UserId::from_u128(1), "\x1b[2Jvictim@y.z")
            .from_ip("10.0.0.1\r\n")
            .detail(String::from("Microsoft returned \u{2028}\u{202e}"));
        assert_eq!(event.actor_email, "x@y.z\\nINFO forged");
        assert_eq!(event.subject_email, "\\u{1b}[2Jvictim@y.z");
        assert_eq!(event.source_ip, "10.0.0.1\\r\\n");
        assert_eq!(event.detail, "Microsoft returned \\u{2028}\\u{202e}");
    }
}
