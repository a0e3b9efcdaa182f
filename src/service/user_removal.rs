//! Removing a user for good (`gatehouse user remove`, the "Remove" button on the admin
//! user pages): the user record with its factors and linked identities, every session
//! (live or half-finished sign-in) and every open link made for them go in one
//! transaction, so their cookie is refused on the very next request, forward-auth
//! included. The address is free again for a new invitation; the audit trail keeps
//! the event (and the user's earlier events, which name the old user id).
//!
//! Guards: nobody removes their own account (an admin would lock themselves out
//! mid-request), and the last active staff admin stays.

use std::sync::Arc;

use crate::domain::audit::{Actor, AuditKind};
use crate::domain::sso::SsoPurpose;
use crate::domain::user::{User, UserId};
use crate::store::prelude::*;
use crate::store::tokens::TokenPurpose;

use super::admin::{AdminActor, guard_last_admin};
use super::{Result, ServiceError, Services};

/// What a removal took away, for the admin's message.
#[derive(Debug, Clone)]
pub struct Removed {
    /// The user as they were just before removal.
    pub user: User,
    pub sessions_ended: usize,
    pub links_revoked: usize,
}

impl Services {
    /// Removes user `id` with everything that belongs to them.
    pub async fn remove_user(self: &Arc<Self>, actor: AdminActor, id: UserId) -> Result<Removed> {
        self.blocking(move |s| {
            s.write(|w| {
                let user = w.user(id)?.ok_or(ServiceError::NotFound("user"))?;
                if actor.actor == Actor::User(user.id) {
                    return Err(ServiceError::Conflict(
                        "You cannot remove your own account; ask another admin.".to_owned(),
                    ));
                }
                guard_last_admin(w, &user)?;
                let sessions_ended = w.delete_sessions_of_user(user.id, |_, _| true)?;
                let links_revoked = w.delete_one_time_tokens(|t| belongs_to(&t.purpose, id))?;
                w.forget_devices(user.id)?;
                w.delete_user(user.id)?;
                s.audit(
                    w,
                    actor
                        .event(AuditKind::UserRemoved)
                        .about(user.id, user.email.as_str())
                        .in_realm(user.realm)
                        .detail(format!(
                            "{sessions_ended} sessions ended, {links_revoked} links revoked"
                        )),
                )?;
                Ok(Removed {
                    user,
                    sessions_ended,
                    links_revoked,
                })
            })
        })
        .await
    }
}

/// Whether a single-use token was made for user `id` (an invitation, a password reset
/// link, a Microsoft
/// sign-in started to link, test or confirm this user).
fn belongs_to(purpose: &TokenPurpose, id: UserId) -> bool {
    match purpose {
        TokenPurpose::Invite { user_id } | TokenPurpose::PasswordReset { user_id } => {
            *user_id == id
        }
        TokenPurpose::SsoSignIn { transaction } => match &transaction.purpose {
            SsoPurpose::Link { user_id } | SsoPurpose::StepUp { user_id, .. } => *user_id == id,
            SsoPurpose::TestSignIn { admin_id } => *admin_id == id,
            SsoPurpose::Login { .. } => false,
        },
        TokenPurpose::Setup | TokenPurpose::Consent { .. } => false,
    }
}
