//! Who a verified Microsoft account is here (DESIGN §3), as a transaction: read the
//! user linked to (tid, oid) and the one with the token's email, let
//! [`domain::sso::resolve`](crate::domain::sso::resolve()) decide, apply the decision.
//! No rule of who may sign in lives here. Linking and unlinking from the account page
//! live here too.

use std::sync::Arc;

use super::{AppConfig, SsoFailure};
use crate::domain::audit::{Actor, AuditEvent, AuditKind};
use crate::domain::entra::SsoIdentity;
use crate::domain::session::Origin;
use crate::domain::sso::{Admission, Known, Presented, Refused, Resolution, resolve};
use crate::domain::time::Timestamp;
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
    /// transaction: reads whom the store knows, lets [`resolve`] decide, and applies
    /// the decision. Updates the last sign-in time.
    pub(crate) fn resolve_identity(
        &self,
        w: &mut Writer,
        realm: Realm,
        identity: &SsoIdentity,
        app: &AppConfig,
    ) -> Result<Result<User, Refusal>> {
        let now = self.clock.now();
        let email = identity.login_email();
        let linked = w.user_by_sso(realm, &identity.tenant, &identity.object_id)?;
        let by_email = match (&linked, &email) {
            (None, Some(email)) => w.user_by_email(realm, email)?,
            _ => None,
        };
        // The ID token check refused any tenant (or issuer) other than the one this
        // sign-in started for, which is the provider configured for the realm; Entra
        // tokens from the realm's own tenant count as having a verified address, an
        // `oidc` token only with `email_verified = true` (or when the provider does
        // not require it).
        let presented = Presented {
            email,
            guest: identity.guest,
            from_own_tenant: true,
            email_verified: identity.email_verified,
        };
        let admission = Admission {
            jit: app.jit,
            allowed_domains: &app.allowed_domains,
            allow_guests: app.allow_guests,
        };
        match resolve(&presented, &admission, Known { linked, by_email }) {
            Resolution::SignIn(mut user) => {
                user.last_login_at = Some(now);
                w.put_user(&user)?;
                Ok(Ok(user))
            }
            Resolution::LinkInvited(mut invited) => {
                invited.sso_links.push(new_link(identity, now));
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
            Resolution::ProvisionJit(email) => {
                let mut user = User::new(
                    realm,
                    email,
                    clean_display_name(&identity.display_name()),
                    Role::Member,
                    UserStatus::Active,
                    now,
                );
                user.sso_links.push(new_link(identity, now));
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
            Resolution::Refuse(refused, reason) => Ok(Err((failure(refused), reason))),
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
                let link = new_link(&identity, now);
                let username = link.username.clone();
                user.sso_links.push(link);
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

/// The link a sign-in adds: keyed by (tid, oid), with the username shown to people.
fn new_link(identity: &SsoIdentity, now: Timestamp) -> SsoLink {
    SsoLink {
        tenant: identity.tenant.clone(),
        subject: identity.object_id.clone(),
        username: identity
            .preferred_username
            .clone()
            .or_else(|| identity.email.clone())
            .unwrap_or_default(),
        linked_at: now,
    }
}

/// What the user is told for a refusal of [`resolve`]. "Exists but not linked" is told
/// as "not registered": the page must not reveal which emails have accounts here (the
/// audit trail keeps the precise reason).
fn failure(refused: Refused) -> SsoFailure {
    match refused {
        Refused::NotRegistered | Refused::NotLinked => SsoFailure::NotRegistered,
        Refused::Disabled => SsoFailure::Disabled,
    }
}
