//! Correcting a user's email address (`gatehouse user set-email`, the admin user
//! pages). Addresses stay unique per realm, compared case-insensitively; a taken
//! address is refused with a clear message. Linked Microsoft accounts, sessions and
//! open invitations are keyed by user id, never by email, and are untouched.

use std::sync::Arc;

use crate::domain::audit::AuditKind;
use crate::domain::user::{Email, User, UserId};
use crate::store::prelude::*;

use super::admin::AdminActor;
use super::{Result, ServiceError, Services};

impl Services {
    /// Gives user `id` the address `new_email`.
    pub async fn set_email(
        self: &Arc<Self>,
        actor: AdminActor,
        id: UserId,
        new_email: String,
    ) -> Result<User> {
        let email = Email::parse(&new_email)
            .map_err(|e| ServiceError::Invalid(format!("New email: {e}.")))?;
        self.blocking(move |s| {
            s.write(|w| {
                let mut user = w.user(id)?.ok_or(ServiceError::NotFound("user"))?;
                if user.email == email {
                    return Ok(user);
                }
                if let Some(other) = w.user_by_email(user.realm, &email)?
                    && other.id != user.id
                {
                    return Err(ServiceError::Conflict(format!(
                        "Another user here already has the address {email}."
                    )));
                }
                let old = std::mem::replace(&mut user.email, email.clone());
                user.updated_at = s.clock.now();
                w.put_user(&user)?;
                s.audit(
                    w,
                    actor
                        .event(AuditKind::EmailChanged)
                        .about(user.id, user.email.as_str())
                        .in_realm(user.realm)
                        .detail(format!("{old} → {email}")),
                )?;
                Ok(user)
            })
        })
        .await
    }
}
