//! Password reset (DESIGN §11): "Forgot password?" on the sign-in pages emails a
//! single-use link, valid 30 minutes and bound to the realm; an admin can make the
//! same link for a user (`user reset-password`, the user page's button).
//!
//! The request answers the same whatever the address: unknown, disabled, SSO-only,
//! password-less and eligible addresses all take one throttle reservation, one token
//! generation and one store write (an audit entry saying what happened), and only an
//! eligible one gets a stored token and a queued email. Setting the new password
//! revokes every session of the user and never touches the second factor: the next
//! sign-in still asks for it.

use std::sync::Arc;

use crate::domain::audit::{Actor, AuditEvent, AuditKind};
use crate::domain::login::RealmPolicy;
use crate::domain::password::Password;
use crate::domain::session::Origin;
use crate::domain::token::SecretToken;
use crate::domain::user::{Email, Realm, User, UserId, UserStatus};
use crate::store::Writer;
use crate::store::prelude::*;
use crate::store::tokens::{OneTimeToken, TokenPurpose};

use super::admin::AdminActor;
use super::mail::compose::{self, Recipient};
use super::mail::{Delivery, Mail};
use super::notify::SecurityNotice;
use super::policy::realm_policy;
use super::throttle::account_key;
use super::{Result, ServiceError, Services};

/// How long a reset link stays valid.
pub const RESET_LIFETIME_SECS: i64 = 30 * 60;

/// A "Forgot password?" request.
#[derive(Debug)]
pub struct ResetRequest {
    pub realm: Realm,
    /// The address as typed.
    pub email: String,
    pub origin: Origin,
}

/// A new password chosen through a reset link. `Debug` leaves out the token.
pub struct ResetSubmission {
    pub realm: Realm,
    pub token: String,
    pub password: Password,
    pub password_confirm: Password,
    pub origin: Origin,
}

impl std::fmt::Debug for ResetSubmission {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResetSubmission")
            .field("realm", &self.realm)
            .field("token", &"***")
            .field("origin", &self.origin)
            .finish()
    }
}

/// A reset link an admin made; `link` is shown once. `Debug` leaves the link out.
pub struct IssuedReset {
    pub user: User,
    pub link: String,
    /// The email carrying the link, when email is on.
    pub delivery: Option<Delivery>,
}

impl std::fmt::Debug for IssuedReset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuedReset")
            .field("user", &self.user.id)
            .field("link", &"***")
            .finish()
    }
}

/// Why a reset is not offered to a user; only the audit trail sees it.
fn refusal(user: Option<&User>, policy: &RealmPolicy) -> Option<&'static str> {
    let Some(user) = user else {
        return Some("unknown address");
    };
    match user.status {
        UserStatus::Disabled => Some("account disabled"),
        UserStatus::Invited => Some("invitation not accepted"),
        UserStatus::Active if user.password_hash.is_none() => Some("no password set"),
        UserStatus::Active if !policy.password_allowed(user) => Some("password sign-in is off"),
        UserStatus::Active => None,
    }
}

const SSO_ONLY: &str = "This account signs in with Microsoft only; passwords cannot be reset.";

impl Services {
    /// Handles "Forgot password?". Answers `Ok(())` for every address (or `Throttled`
    /// for every address once the limits trip); the email goes only to an eligible
    /// account, and only when email is on.
    #[tracing::instrument(skip_all)]
    pub async fn request_password_reset(self: &Arc<Self>, request: ResetRequest) -> Result<()> {
        // Requests count against the typed address and the source address, in a
        // throttle space of their own: asking for links never throttles a sign-in.
        let account = account_key(&format!("reset|{}", request.realm.key()), &request.email);
        let address = format!("reset|{}", request.origin.ip);
        // Never given back: each request counts.
        let _reservation = self
            .throttle
            .reserve(&account, &address, self.clock.now())
            .map_err(|wait| ServiceError::Throttled {
                retry_after_secs: wait,
            })?;
        let email = Email::parse(&request.email).ok();
        let mail = self
            .blocking(move |s| {
                let token = SecretToken::generate()?;
                let now = s.clock.now();
                s.write(|w| {
                    let user = match &email {
                        Some(e) => w.user_by_email(request.realm, e)?,
                        None => None,
                    };
                    let policy = realm_policy(w, request.realm)?;
                    let typed: String = request.email.chars().take(254).collect();
                    let mut event = AuditEvent::new(AuditKind::PasswordResetRequested, now)
                        .by(Actor::Anonymous, &typed)
                        .in_realm(request.realm)
                        .from_ip(&request.origin.ip);
                    if let Some(u) = &user {
                        event = event.about(u.id, u.email.as_str());
                    }
                    let reason = refusal(user.as_ref(), &policy)
                        .or((!s.mail_enabled()).then_some("email is not set up"));
                    let (Some(user), None) = (user, reason) else {
                        // The same store work as a real request: the scan that
                        // replaces an earlier link (deleting nothing here).
                        w.delete_one_time_tokens(|_| false)?;
                        s.audit(w, event.detail(reason.unwrap_or("refused")))?;
                        return Ok(None);
                    };
                    let mail = s.store_reset_link(w, &user, &token)?;
                    s.audit(w, event.detail("reset link emailed"))?;
                    Ok(Some(mail))
                })
            })
            .await?;
        if let Some(mail) = mail {
            self.send_mail(mail);
        }
        Ok(())
    }

    /// Stores a reset token for `user` (replacing any earlier one) and returns the email
    /// carrying its link.
    fn store_reset_link(&self, w: &mut Writer, user: &User, token: &SecretToken) -> Result<Mail> {
        let now = self.clock.now();
        let user_id = user.id;
        w.delete_one_time_tokens(|t| t.purpose == TokenPurpose::PasswordReset { user_id })?;
        let record = OneTimeToken {
            purpose: TokenPurpose::PasswordReset { user_id },
            realm: user.realm,
            created_at: now,
            expires_at: now.plus_secs(RESET_LIFETIME_SECS),
        };
        w.put_one_time_token(&self.one_time_key(token.expose()), &record)?;
        let link = self.realm_link(w, user.realm, &format!("/reset/{}", token.expose()))?;
        let brand = self.branding(w, user.realm)?;
        let to = Recipient {
            email: user.email.as_str().to_owned(),
            name: user.display_name.clone(),
        };
        Ok(compose::password_reset(
            &brand,
            &to,
            &link,
            RESET_LIFETIME_SECS / 60,
        ))
    }

    /// An admin's reset link for user `id` (printed, and emailed when email is on).
    /// Refused for users who cannot use a password (SSO-only, disabled, invited).
    pub async fn issue_reset_link(
        self: &Arc<Self>,
        actor: AdminActor,
        id: UserId,
    ) -> Result<IssuedReset> {
        let (user, link, mail) = self
            .blocking(move |s| {
                let token = SecretToken::generate()?;
                s.write(|w| {
                    let user = w.user(id)?.ok_or(ServiceError::NotFound("user"))?;
                    let policy = realm_policy(w, user.realm)?;
                    match user.status {
                        UserStatus::Disabled => {
                            return Err(ServiceError::Conflict(
                                "The user is disabled; enable them first.".to_owned(),
                            ));
                        }
                        UserStatus::Invited => {
                            return Err(ServiceError::Conflict(
                                "The user has not accepted their invitation yet; resend it instead."
                                    .to_owned(),
                            ));
                        }
                        UserStatus::Active => {}
                    }
                    if !policy.password_allowed(&user) {
                        return Err(ServiceError::Conflict(SSO_ONLY.to_owned()));
                    }
                    let mail = s.store_reset_link(w, &user, &token)?;
                    let link =
                        s.realm_link(w, user.realm, &format!("/reset/{}", token.expose()))?;
                    s.audit(
                        w,
                        actor
                            .event(AuditKind::ResetLinkIssued)
                            .about(user.id, user.email.as_str())
                            .in_realm(user.realm)
                            .detail(if s.mail_enabled() {
                                "link shown and emailed"
                            } else {
                                "link shown"
                            }),
                    )?;
                    Ok((user, link, mail))
                })
            })
            .await?;
        let delivery = self.send_mail(mail);
        Ok(IssuedReset {
            user,
            link,
            delivery,
        })
    }

    /// The user a reset link is for, before showing its form.
    pub fn check_reset_link(&self, realm: Realm, token: &str) -> Result<User> {
        self.read(|r| self.reset_target(r, realm, token).map(|(_, user)| user))
    }

    /// The token's key and its user, if the link is valid in `realm` and the user may
    /// still use a password.
    fn reset_target(&self, r: &impl Tables, realm: Realm, token: &str) -> Result<([u8; 32], User)> {
        let (key, record) = self.valid_one_time_token(r, realm, token, |p| {
            matches!(p, TokenPurpose::PasswordReset { .. })
        })?;
        let TokenPurpose::PasswordReset { user_id } = record.purpose else {
            return Err(ServiceError::LinkInvalid);
        };
        let user = match r.user(user_id)? {
            Some(u) if u.realm == realm && u.status == UserStatus::Active => u,
            _ => return Err(ServiceError::LinkInvalid),
        };
        if !realm_policy(r, realm)?.password_allowed(&user) {
            return Err(ServiceError::Forbidden(SSO_ONLY.to_owned()));
        }
        Ok((key, user))
    }

    /// Sets a new password through a reset link: the link is used up, every session of
    /// the user ends, the user is told. The second factor stays as it was.
    #[tracing::instrument(skip_all)]
    pub async fn reset_password(self: &Arc<Self>, form: ResetSubmission) -> Result<User> {
        let user = self.check_reset_link(form.realm, &form.token)?;
        self.check_new_password(&form.password, &form.password_confirm, user.email.as_str())
            .await?;
        let hash = self.hashing.hash(&form.password).await?;
        let user = self
            .blocking(move |s| {
                let now = s.clock.now();
                s.write(|w| {
                    // Again in the write: the link may have been used meanwhile, or
                    // SSO-only turned on during the hash.
                    let (_, mut user) = s.reset_target(w, form.realm, &form.token)?;
                    let user_id = user.id;
                    user.password_hash = Some(hash);
                    user.updated_at = now;
                    w.put_user(&user)?;
                    w.delete_one_time_tokens(|t| {
                        t.purpose == TokenPurpose::PasswordReset { user_id }
                    })?;
                    let revoked = w.delete_sessions_of_user(user.id, |_, _| true)?;
                    let event = AuditEvent::new(AuditKind::PasswordReset, now)
                        .by(Actor::User(user.id), user.email.as_str())
                        .about(user.id, user.email.as_str())
                        .in_realm(user.realm)
                        .from_ip(&form.origin.ip)
                        .detail(format!("{revoked} sessions revoked"));
                    s.audit(w, event)?;
                    Ok(user)
                })
            })
            .await?;
        self.notify(&user, SecurityNotice::PasswordReset);
        Ok(user)
    }
}
