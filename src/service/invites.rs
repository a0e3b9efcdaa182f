//! Invitations: an admin creates an `invited` user and a single-use link; the invitee
//! opens it, chooses a password, and continues into TOTP enrolment when required.

use std::sync::Arc;

use crate::domain::audit::{AuditEvent, AuditKind};
use crate::domain::password::Password;
use crate::domain::session::{AuthMethod, Origin, Stage};
use crate::domain::token::SecretToken;
use crate::domain::user::{Email, Realm, Role, User, UserId, UserStatus, clean_display_name};
use crate::store::Writer;
use crate::store::prelude::*;
use crate::store::tokens::{OneTimeToken, TokenPurpose};

use super::admin::AdminActor;
use super::login::LoginStep;
use super::mail::compose::{self, Recipient};
use super::mail::{Delivery, Mail};
use super::policy::realm_policy;
use super::{Result, ServiceError, Services};

/// How long an invitation link stays valid.
pub const INVITE_LIFETIME_SECS: i64 = 7 * 24 * 60 * 60;

/// A new invitation; `link` is shown once to the admin to pass on. `Debug` leaves
/// the link (which holds the token) out.
pub struct Invitation {
    pub user: User,
    pub link: String,
    /// The invitation email, when email is on.
    pub delivery: Option<Delivery>,
    /// The user was already invited: this is a new link (the old one no longer works).
    pub resent: bool,
}

impl std::fmt::Debug for Invitation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Invitation")
            .field("user", &self.user)
            .field("link", &"***")
            .finish()
    }
}

/// An invitee's chosen password. `Debug` leaves the token out.
pub struct Acceptance {
    pub realm: Realm,
    pub token: String,
    pub password: Password,
    pub password_confirm: Password,
    pub origin: Origin,
}

impl std::fmt::Debug for Acceptance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Acceptance")
            .field("realm", &self.realm)
            .field("token", &"***")
            .field("password", &self.password)
            .field("password_confirm", &self.password_confirm)
            .field("origin", &self.origin)
            .finish()
    }
}

const SSO_ONLY: &str = "This organisation signs in with Microsoft only. Use “Sign in with Microsoft” on the sign-in page.";

impl Services {
    /// Invites `email` to `realm` (or re-issues the link of a still-invited user).
    pub async fn invite(
        self: &Arc<Self>,
        actor: AdminActor,
        realm: Realm,
        email: String,
        name: String,
        role: Role,
    ) -> Result<Invitation> {
        let email =
            Email::parse(&email).map_err(|e| ServiceError::Invalid(format!("Email: {e}.")))?;
        let name = clean_display_name(&name);
        if !realm.is_staff() && role == Role::Admin {
            return Err(ServiceError::Invalid(
                "Portal users cannot be admins.".to_owned(),
            ));
        }
        self.realm_path(realm)?;
        self.blocking(move |s| {
            let token = SecretToken::generate()?;
            let now = s.clock.now();
            let (user, resent, link, mail) = s.write(|w| {
                let (user, resent) = match w.user_by_email(realm, &email)? {
                    // Inviting an address that is still invited sends a new link.
                    Some(existing) if existing.status == UserStatus::Invited => (existing, true),
                    Some(_) => {
                        return Err(ServiceError::Conflict(
                            "A user with this email already exists.".to_owned(),
                        ));
                    }
                    None => {
                        let user = User::new(
                            realm,
                            email.clone(),
                            name.clone(),
                            role,
                            UserStatus::Invited,
                            now,
                        );
                        w.put_user(&user)?;
                        (user, false)
                    }
                };
                let (link, mail) = s.store_invite(w, &user, &token)?;
                s.audit(
                    w,
                    actor
                        .event(AuditKind::UserInvited)
                        .about(user.id, user.email.as_str())
                        .in_realm(realm)
                        .detail(invite_detail(user.role, resent, s.mail_enabled())),
                )?;
                Ok((user, resent, link, mail))
            })?;
            let delivery = s.send_mail(mail);
            Ok(Invitation {
                user,
                link,
                delivery,
                resent,
            })
        })
        .await
    }

    /// Sends a still-invited user a new invitation link; the old one stops working.
    pub async fn resend_invite(
        self: &Arc<Self>,
        actor: AdminActor,
        id: UserId,
    ) -> Result<Invitation> {
        self.blocking(move |s| {
            let token = SecretToken::generate()?;
            let (user, link, mail) = s.write(|w| {
                let user = w.user(id)?.ok_or(ServiceError::NotFound("user"))?;
                if user.status != UserStatus::Invited {
                    return Err(ServiceError::Conflict(
                        "The user has already accepted their invitation.".to_owned(),
                    ));
                }
                let (link, mail) = s.store_invite(w, &user, &token)?;
                s.audit(
                    w,
                    actor
                        .event(AuditKind::UserInvited)
                        .about(user.id, user.email.as_str())
                        .in_realm(user.realm)
                        .detail(invite_detail(user.role, true, s.mail_enabled())),
                )?;
                Ok((user, link, mail))
            })?;
            let delivery = s.send_mail(mail);
            Ok(Invitation {
                user,
                link,
                delivery,
                resent: true,
            })
        })
        .await
    }

    /// Replaces `user`'s invitation token with `token`; returns its link and the email
    /// carrying it.
    fn store_invite(
        &self,
        w: &mut Writer,
        user: &User,
        token: &SecretToken,
    ) -> Result<(String, Mail)> {
        let now = self.clock.now();
        let user_id = user.id;
        w.delete_one_time_tokens(|t| t.purpose == TokenPurpose::Invite { user_id })?;
        let record = OneTimeToken {
            purpose: TokenPurpose::Invite { user_id },
            realm: user.realm,
            created_at: now,
            expires_at: now.plus_secs(INVITE_LIFETIME_SECS),
        };
        w.put_one_time_token(&self.one_time_key(token.expose()), &record)?;
        let link = self.realm_link(w, user.realm, &format!("/invite/{}", token.expose()))?;
        let brand = self.branding(w, user.realm)?;
        let to = Recipient {
            email: user.email.as_str().to_owned(),
            name: user.display_name.clone(),
        };
        let mail = compose::invitation(&brand, &to, &link, INVITE_LIFETIME_SECS / 86_400);
        Ok((link, mail))
    }

    /// The invited user behind a link, before showing its form.
    pub fn check_invite(&self, realm: Realm, token: &str) -> Result<User> {
        self.read(|r| {
            let (_, record) = self.valid_one_time_token(r, realm, token, |p| {
                matches!(p, TokenPurpose::Invite { .. })
            })?;
            let TokenPurpose::Invite { user_id } = record.purpose else {
                return Err(ServiceError::LinkInvalid);
            };
            match r.user(user_id)? {
                Some(user) if user.status == UserStatus::Invited && user.realm == realm => Ok(user),
                _ => Err(ServiceError::LinkInvalid),
            }
        })
    }

    /// Accepts an invitation with a new password; refused under SSO-only, checked
    /// before the hash and again inside the write.
    #[tracing::instrument(skip_all)]
    pub async fn accept_invite(self: &Arc<Self>, form: Acceptance) -> Result<LoginStep> {
        let invited = self.check_invite(form.realm, &form.token)?;
        let policy = self.store.read(|r| realm_policy(r, form.realm))?;
        if !policy.password_allowed(&invited) {
            return Err(ServiceError::Forbidden(SSO_ONLY.to_owned()));
        }
        self.check_new_password(
            &form.password,
            &form.password_confirm,
            invited.email.as_str(),
        )
        .await?;
        let hash = self.hashing.hash(&form.password).await?;
        self.blocking(move |s| {
            let now = s.clock.now();
            s.write(|w| {
                let (key, record) = s.valid_one_time_token(w, form.realm, &form.token, |p| {
                    matches!(p, TokenPurpose::Invite { .. })
                })?;
                let TokenPurpose::Invite { user_id } = record.purpose else {
                    return Err(ServiceError::LinkInvalid);
                };
                let mut user = match w.user(user_id)? {
                    Some(u) if u.status == UserStatus::Invited && u.realm == form.realm => u,
                    _ => return Err(ServiceError::LinkInvalid),
                };
                let policy = realm_policy(w, form.realm)?;
                // Again in the write: SSO-only may have been turned on during the hash.
                if !policy.password_allowed(&user) {
                    return Err(ServiceError::Forbidden(SSO_ONLY.to_owned()));
                }
                user.status = UserStatus::Active;
                user.password_hash = Some(hash.clone());
                user.updated_at = now;
                let (stage, auth) = if policy.mfa_required {
                    (Stage::PendingEnrolment, AuthMethod::PasswordTotp)
                } else {
                    user.last_login_at = Some(now);
                    (Stage::Active, AuthMethod::Password)
                };
                w.put_user(&user)?;
                w.delete_one_time_token(&key)?;
                let event = AuditEvent::new(AuditKind::InvitationAccepted, now)
                    .by(
                        crate::domain::audit::Actor::User(user.id),
                        user.email.as_str(),
                    )
                    .about(user.id, user.email.as_str())
                    .in_realm(user.realm)
                    .from_ip(&form.origin.ip);
                s.audit(w, event)?;
                let new = s.start_session(w, &user, stage, auth, None, &form.origin)?;
                Ok(if stage == Stage::Active {
                    LoginStep::Done(new)
                } else {
                    LoginStep::NeedEnrolment(new)
                })
            })
        })
        .await
    }
}

fn invite_detail(role: Role, resent: bool, emailed: bool) -> String {
    let mut detail = format!("role {}", role.as_str());
    if resent {
        detail.push_str(", new link (the old one no longer works)");
    }
    if emailed {
        detail.push_str(", emailed");
    }
    detail
}
