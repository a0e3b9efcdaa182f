//! Invitations: an admin creates an `invited` user and a single-use link; the invitee
//! opens it, chooses a password, and continues into TOTP enrolment when required.

use std::sync::Arc;

use crate::domain::audit::{AuditEvent, AuditKind};
use crate::domain::password::Password;
use crate::domain::session::{AuthMethod, Origin, Stage};
use crate::domain::token::SecretToken;
use crate::domain::user::{Email, Realm, Role, User, UserStatus, clean_display_name};
use crate::store::prelude::*;
use crate::store::tokens::{OneTimeToken, TokenPurpose};

use super::admin::AdminActor;
use super::login::LoginStep;
use super::policy::realm_policy;
use super::{Result, ServiceError, Services};

/// How long an invitation link stays valid.
pub const INVITE_LIFETIME_SECS: i64 = 7 * 24 * 60 * 60;

/// A new invitation; `link` is shown once to the admin to pass on. `Debug` leaves
/// the link (which holds the token) out.
pub struct Invitation {
    pub user: User,
    pub link: String,
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
        let prefix = self.realm_path(realm)?;
        self.blocking(move |s| {
            let token = SecretToken::generate()?;
            let now = s.clock.now();
            let user = s.write(|w| {
                let user = match w.user_by_email(realm, &email)? {
                    Some(existing) if existing.status == UserStatus::Invited => {
                        w.delete_one_time_tokens(|t| {
                            t.purpose
                                == TokenPurpose::Invite {
                                    user_id: existing.id,
                                }
                        })?;
                        existing
                    }
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
                        user
                    }
                };
                let record = OneTimeToken {
                    purpose: TokenPurpose::Invite { user_id: user.id },
                    realm,
                    created_at: now,
                    expires_at: now.plus_secs(INVITE_LIFETIME_SECS),
                };
                w.put_one_time_token(&s.one_time_key(token.expose()), &record)?;
                s.audit(
                    w,
                    actor
                        .event(AuditKind::UserInvited)
                        .about(user.id, user.email.as_str())
                        .in_realm(realm)
                        .detail(format!("role {}", user.role.as_str())),
                )?;
                Ok(user)
            })?;
            let link = format!("{}{prefix}/invite/{}", s.settings.base_url, token.expose());
            Ok(Invitation { user, link })
        })
        .await
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
