//! "Recent activity" on `/account` and `/p/{slug}/account`: the signed-in user's own
//! security events, read from the audit trail (so it works with or without email).
//! Only events *about* this user (their id as the subject, in their realm) are shown,
//! never another user's; who acted is reduced to "you", "an administrator" or
//! "someone" (an admin's address is not shown to the user), and the internal detail
//! of an event is never shown.

use std::sync::Arc;

use crate::domain::audit::{Actor, AuditEvent, AuditKind};
use crate::domain::time::Timestamp;
use crate::domain::user::UserId;
use crate::store::prelude::*;

use super::sessions::SignedIn;
use super::{Result, Services};

/// How many events the list shows at most.
pub const ACTIVITY_LIMIT: usize = 20;
/// How far back (in audit events of the whole installation) the list looks.
const SCAN_WINDOW: usize = 5_000;

/// Who did it, as the user may see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActedBy {
    You,
    Administrator,
    /// Someone not signed in (a failed sign-in with this address).
    Someone,
}

/// One line of the list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivityItem {
    pub at: Timestamp,
    /// What happened, in words for the user.
    pub what: &'static str,
    pub by: ActedBy,
    /// The source address (already neutralised when recorded).
    pub from: String,
}

impl Services {
    /// The newest security events about the signed-in user, newest first.
    pub async fn account_activity(self: &Arc<Self>, me: &SignedIn) -> Result<Vec<ActivityItem>> {
        let (id, realm) = (me.user.id, me.user.realm);
        self.blocking(move |s| {
            let events = s.read(|r| Ok(r.audit_events(SCAN_WINDOW, None)?))?;
            Ok(events
                .into_iter()
                .map(|(_, e)| e)
                .filter(|e| e.subject == Some(id) && e.realm == Some(realm))
                .filter_map(|e| item(&e, id))
                .take(ACTIVITY_LIMIT)
                .collect())
        })
        .await
    }
}

/// The line for event `e` about user `me`, if it is one the user sees.
fn item(e: &AuditEvent, me: UserId) -> Option<ActivityItem> {
    let what = shown(e.kind)?;
    let by = match &e.actor {
        Actor::User(id) if *id == me => ActedBy::You,
        Actor::User(_) | Actor::Cli | Actor::System => ActedBy::Administrator,
        Actor::Anonymous => ActedBy::Someone,
    };
    Some(ActivityItem {
        at: e.at,
        what,
        by,
        from: e.source_ip.clone(),
    })
}

/// The words for an event kind the user sees, or `None` for kinds that are not about
/// the security of their account. Exhaustive on purpose: a new kind needs a decision.
fn shown(kind: AuditKind) -> Option<&'static str> {
    Some(match kind {
        AuditKind::LoginSucceeded => "Signed in",
        AuditKind::SsoLogin => "Signed in with Microsoft",
        AuditKind::BreakGlassLogin => "Signed in with emergency access",
        AuditKind::LoginFailed => "Failed sign-in attempt",
        AuditKind::Throttled => "Sign-in attempts slowed down after failures",
        AuditKind::MfaEnrolled => "Authenticator app set up",
        AuditKind::MfaReset => "Authenticator app removed",
        AuditKind::RecoveryCodeUsed => "Recovery code used",
        AuditKind::RecoveryCodesRegenerated => "New recovery codes made",
        AuditKind::PasswordChanged => "Password changed",
        AuditKind::InvitationAccepted => "Invitation accepted",
        AuditKind::SessionRevoked => "A session was signed out",
        AuditKind::SessionsRevoked => "Signed out everywhere",
        AuditKind::UserDisabled => "Account disabled",
        AuditKind::UserEnabled => "Account enabled",
        AuditKind::RoleChanged => "Role changed",
        AuditKind::BreakGlassChanged => "Emergency access changed",
        AuditKind::SsoLinked => "Microsoft account linked",
        AuditKind::SsoUnlinked => "Microsoft account unlinked",
        AuditKind::EmailChanged => "Email address changed",
        AuditKind::PasswordReset => "Password reset with an emailed link",
        AuditKind::PasskeyRegistered => "Passkey added",
        AuditKind::PasskeyRemoved => "Passkey removed",
        AuditKind::PasskeyRefused => "A passkey was refused (it may have been copied)",
        AuditKind::ResetLinkIssued => "An administrator made a password reset link",
        AuditKind::PasswordAccepted
        | AuditKind::Logout
        | AuditKind::SetupCompleted
        | AuditKind::UserCreated
        | AuditKind::UserInvited
        | AuditKind::SsoFailed
        | AuditKind::SsoTestSignIn
        | AuditKind::SsoConnectionTested
        | AuditKind::SettingsChanged
        | AuditKind::SsoOnlyChanged
        | AuditKind::ClientChanged
        | AuditKind::ConsentRecorded
        | AuditKind::UserRemoved
        // Anyone can ask for a reset link for any address: not the user's doing.
        | AuditKind::PasswordResetRequested => return None,
    })
}
