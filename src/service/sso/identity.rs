//! Who a verified Microsoft account is here (DESIGN §3): a linked (tid, oid) first;
//! else an invited user of the realm with the same email — the token already came
//! from the realm's own tenant, so no cross-tenant email matching can happen; else a
//! just-in-time member when the realm allows it; else nobody. Linking and unlinking
//! from the account page live here too.

use std::sync::Arc;

use super::{AppConfig, SsoFailure};
use crate::domain::audit::{Actor, AuditEvent, AuditKind};
use crate::domain::entra::SsoIdentity;
use crate::domain::session::Origin;
use crate::domain::user::{Realm, Role, SsoLink, User, UserId, UserStatus, clean_display_name};
use crate::service::policy::realm_policy;
use crate::service::sessions::SignedIn;
use crate::service::{Result, ServiceError, Services};
use crate::store::Writer;
use crate::store::prelude::*;
use crate::store::tokens::TokenPurpose;

/// A refusal and the reason recorded in the audit trail.
pub type Refusal = (SsoFailure, String);

/// At most this many Microsoft accounts per user.
const MAX_LINKS: usize = 5;

impl Services {
    /// Finds (or, per the realm's rules, creates) the user for `identity` in the open
    /// transaction. Updates the last sign-in time.
    pub(crate) fn resolve_identity(
        &self,
        w: &mut Writer,
        realm: Realm,
        identity: &SsoIdentity,
        app: &AppConfig,
    ) -> Result<Result<User, Refusal>> {
        let now = self.clock.now();
        if identity.guest && !app.allow_guests {
            return Ok(Err((
                SsoFailure::NotRegistered,
                "guest accounts may not sign in here".to_owned(),
            )));
        }
        if let Some(mut user) = w.user_by_sso(realm, &identity.tenant, &identity.object_id)? {
            if !user.is_active() {
                return Ok(Err((
                    SsoFailure::Disabled,
                    format!("linked account {} is {}", user.email, user.status.as_str()),
                )));
            }
            user.last_login_at = Some(now);
            w.put_user(&user)?;
            return Ok(Ok(user));
        }
        let link = SsoLink {
            tenant: identity.tenant.clone(),
            subject: identity.object_id.clone(),
            username: identity
                .preferred_username
                .clone()
                .or_else(|| identity.email.clone())
                .unwrap_or_default(),
            linked_at: now,
        };
        let Some(email) = identity.login_email() else {
            return Ok(Err((
                SsoFailure::NotRegistered,
                "token has no usable email or username".to_owned(),
            )));
        };
        match w.user_by_email(realm, &email)? {
            Some(mut invited) if invited.status == UserStatus::Invited => {
                invited.sso_links.push(link);
                invited.status = UserStatus::Active;
                invited.last_login_at = Some(now);
                invited.updated_at = now;
                w.put_user(&invited)?;
                let user_id = invited.id;
                w.delete_one_time_tokens(|t| t.purpose == TokenPurpose::Invite { user_id })?;
                let event = AuditEvent::new(AuditKind::SsoLinked, now)
                    .by(Actor::User(invited.id), invited.email.as_str())
                    .about(invited.id, invited.email.as_str())
                    .in_realm(realm)
                    .detail("invitation accepted with Microsoft sign-in");
                self.audit(w, event)?;
                Ok(Ok(invited))
            }
            Some(existing) if existing.status == UserStatus::Disabled => Ok(Err((
                SsoFailure::Disabled,
                format!("{} is disabled", existing.email),
            ))),
            Some(existing) => Ok(Err((
                SsoFailure::NotLinked,
                format!(
                    "{} exists but is not linked to this Microsoft account",
                    existing.email
                ),
            ))),
            None if app.jit && app.domain_allowed(email.domain()) => {
                let mut user = User::new(
                    realm,
                    email.clone(),
                    clean_display_name(&identity.display_name()),
                    Role::Member,
                    UserStatus::Active,
                    now,
                );
                user.sso_links.push(link);
                user.last_login_at = Some(now);
                w.put_user(&user)?;
                let event = AuditEvent::new(AuditKind::UserCreated, now)
                    .by(Actor::User(user.id), user.email.as_str())
                    .about(user.id, user.email.as_str())
                    .in_realm(realm)
                    .detail("just-in-time from Microsoft sign-in");
                self.audit(w, event)?;
                Ok(Ok(user))
            }
            None if app.jit => Ok(Err((
                SsoFailure::NotRegistered,
                format!("{email}: domain not allowed for just-in-time provisioning"),
            ))),
            None => Ok(Err((
                SsoFailure::NotRegistered,
                format!("{email}: not registered and just-in-time provisioning is off"),
            ))),
        }
    }

    /// Links `identity` to the user who started the link flow.
    pub(crate) async fn link_identity(
        self: &Arc<Self>,
        realm: Realm,
        user_id: UserId,
        identity: SsoIdentity,
        origin: Origin,
    ) -> Result<Result<(), Refusal>> {
        self.blocking(move |s| {
            s.write(|w| {
                let Some(mut user) = w
                    .user(user_id)?
                    .filter(|u| u.is_active() && u.realm == realm)
                else {
                    return Ok(Err((
                        SsoFailure::Disabled,
                        "user gone or disabled during linking".to_owned(),
                    )));
                };
                if let Some(other) = w.user_by_sso(realm, &identity.tenant, &identity.object_id)? {
                    if other.id == user.id {
                        return Ok(Ok(()));
                    }
                    return Ok(Err((
                        SsoFailure::AlreadyLinked,
                        format!("already linked to {}", other.email),
                    )));
                }
                if user.sso_links.len() >= MAX_LINKS {
                    return Ok(Err((
                        SsoFailure::AlreadyLinked,
                        "too many linked accounts".to_owned(),
                    )));
                }
                let now = s.clock.now();
                let username = identity
                    .preferred_username
                    .clone()
                    .or(identity.email.clone())
                    .unwrap_or_default();
                user.sso_links.push(SsoLink {
                    tenant: identity.tenant.clone(),
                    subject: identity.object_id.clone(),
                    username: username.clone(),
                    linked_at: now,
                });
                user.updated_at = now;
                w.put_user(&user)?;
                let event = AuditEvent::new(AuditKind::SsoLinked, now)
                    .by(Actor::User(user.id), user.email.as_str())
                    .about(user.id, user.email.as_str())
                    .in_realm(realm)
                    .from_ip(&origin.ip)
                    .detail(format!(
                        "{username} (tid {} oid {})",
                        identity.tenant, identity.object_id
                    ));
                s.audit(w, event)?;
                Ok(Ok(()))
            })
        })
        .await
    }

    /// Removes one of the signed-in user's Microsoft links, unless it is their last
    /// way to sign in.
    pub async fn unlink_sso(
        self: &Arc<Self>,
        me: SignedIn,
        tenant: String,
        subject: String,
        origin: Origin,
    ) -> Result<()> {
        self.blocking(move |s| {
            s.write(|w| {
                let mut user = w.user(me.user.id)?.ok_or(ServiceError::NotFound("user"))?;
                let before = user.sso_links.len();
                user.sso_links
                    .retain(|l| !(l.tenant == tenant && l.subject == subject));
                if user.sso_links.len() == before {
                    return Err(ServiceError::NotFound("linked account"));
                }
                let policy = realm_policy(w, user.realm)?;
                let password_works = user.password_hash.is_some() && policy.password_allowed(&user);
                if user.sso_links.is_empty() && !password_works {
                    return Err(ServiceError::Conflict(
                        "This is your only way to sign in; it cannot be unlinked.".to_owned(),
                    ));
                }
                user.updated_at = s.clock.now();
                w.put_user(&user)?;
                let event = AuditEvent::new(AuditKind::SsoUnlinked, s.clock.now())
                    .by(Actor::User(user.id), user.email.as_str())
                    .about(user.id, user.email.as_str())
                    .in_realm(user.realm)
                    .from_ip(&origin.ip)
                    .detail(format!("tid {tenant} oid {subject}"));
                s.audit(w, event)
            })
        })
        .await
    }
}
