//! What admins do to users, from the console or the CLI: list, create, disable and
//! enable, reset MFA, revoke sessions, change roles, flag break-glass accounts, read the
//! audit trail. Guards keep at least one active staff admin.

use std::sync::Arc;

use crate::domain::audit::{Actor, AuditEvent, AuditKind};
use crate::domain::password::Password;
use crate::domain::time::Timestamp;
use crate::domain::user::{Email, Realm, Role, User, UserId, UserStatus, clean_display_name};
use crate::store::Writer;
use crate::store::prelude::*;

use super::{Result, ServiceError, Services};

/// Who performs an admin action, for the audit trail.
#[derive(Debug, Clone)]
pub struct AdminActor {
    pub actor: Actor,
    pub email: String,
    pub ip: String,
}

impl AdminActor {
    /// The command line on the server (whoever can reach the admin socket or store).
    pub fn cli() -> AdminActor {
        AdminActor {
            actor: Actor::Cli,
            email: "cli".to_owned(),
            ip: "local".to_owned(),
        }
    }

    /// A signed-in staff admin.
    pub fn user(user: &User, ip: &str) -> AdminActor {
        AdminActor {
            actor: Actor::User(user.id),
            email: user.email.to_string(),
            ip: ip.to_owned(),
        }
    }

    /// An audit event by this actor.
    pub fn event(&self, kind: AuditKind) -> AuditEvent {
        AuditEvent::new(kind, Timestamp(0))
            .by(self.actor.clone(), &self.email)
            .from_ip(&self.ip)
    }
}

/// What the admin dashboard shows.
#[derive(Debug, Clone, Default)]
pub struct Dashboard {
    pub staff_users: usize,
    pub staff_admins: usize,
    pub sessions: u64,
    pub failed_logins_24h: usize,
    pub break_glass_logins: Vec<AuditEvent>,
    pub recent: Vec<(u64, AuditEvent)>,
}

impl Services {
    pub fn list_users(&self, realm: Realm) -> Result<Vec<User>> {
        Ok(self.store.read(|r| r.users_in_realm(realm))?)
    }

    pub fn user_by_id(&self, id: UserId) -> Result<User> {
        self.store
            .read(|r| r.user(id))?
            .ok_or(ServiceError::NotFound("user"))
    }

    pub fn user_by_email(&self, realm: Realm, email: &str) -> Result<User> {
        let email =
            Email::parse(email).map_err(|e| ServiceError::Invalid(format!("Email: {e}.")))?;
        self.store
            .read(|r| r.user_by_email(realm, &email))?
            .ok_or(ServiceError::NotFound("user"))
    }

    /// Creates an active staff admin with a password (`gatehouse admin create`); they
    /// enrol TOTP at first sign-in.
    #[tracing::instrument(skip_all)]
    pub async fn create_admin(
        self: &Arc<Self>,
        actor: AdminActor,
        email: String,
        name: String,
        password: String,
    ) -> Result<User> {
        let email =
            Email::parse(&email).map_err(|e| ServiceError::Invalid(format!("Email: {e}.")))?;
        let password = Password::new(password);
        self.check_new_password(&password, &password, email.as_str())
            .await?;
        let name = clean_display_name(&name);
        let hash = self.hashing.hash(&password).await?;
        self.blocking(move |s| {
            s.write(|w| {
                let admin = s.insert_staff_admin(w, &email, &name, hash.clone())?;
                // The setup link is pointless once an admin exists.
                w.delete_one_time_tokens(|t| {
                    t.purpose == crate::store::tokens::TokenPurpose::Setup
                })?;
                s.audit(
                    w,
                    actor
                        .event(AuditKind::UserCreated)
                        .about(admin.id, admin.email.as_str())
                        .in_realm(Realm::Staff)
                        .detail("admin"),
                )?;
                Ok(admin)
            })
        })
        .await
    }

    /// Inserts an active staff admin with a password hash in the open transaction,
    /// refusing an email that is taken (setup page and `admin create`).
    pub(crate) fn insert_staff_admin(
        &self,
        w: &mut Writer,
        email: &Email,
        name: &str,
        hash: String,
    ) -> Result<User> {
        if w.user_by_email(Realm::Staff, email)?.is_some() {
            return Err(ServiceError::Conflict(
                "A staff user with this email already exists.".to_owned(),
            ));
        }
        let mut admin = User::new(
            Realm::Staff,
            email.clone(),
            name.to_owned(),
            Role::Admin,
            UserStatus::Active,
            self.clock.now(),
        );
        admin.password_hash = Some(hash);
        w.put_user(&admin)?;
        Ok(admin)
    }

    /// Applies `change` to a user in one transaction and audits it.
    async fn change_user<F>(
        self: &Arc<Self>,
        actor: AdminActor,
        id: UserId,
        kind: AuditKind,
        change: F,
    ) -> Result<User>
    where
        F: FnOnce(&Services, &mut Writer, &mut User) -> Result<String> + Send + 'static,
    {
        self.blocking(move |s| {
            s.write(|w| {
                let mut user = w.user(id)?.ok_or(ServiceError::NotFound("user"))?;
                let detail = change(s, w, &mut user)?;
                user.updated_at = s.clock.now();
                w.put_user(&user)?;
                s.audit(
                    w,
                    actor
                        .event(kind)
                        .about(user.id, user.email.as_str())
                        .in_realm(user.realm)
                        .detail(detail),
                )?;
                Ok(user)
            })
        })
        .await
    }

    /// Disables (and signs out) or re-enables a user.
    pub async fn set_enabled(
        self: &Arc<Self>,
        actor: AdminActor,
        id: UserId,
        enabled: bool,
    ) -> Result<User> {
        let kind = if enabled {
            AuditKind::UserEnabled
        } else {
            AuditKind::UserDisabled
        };
        self.change_user(actor, id, kind, move |_, w, user| {
            if enabled {
                if user.status == UserStatus::Disabled {
                    user.status = if user.password_hash.is_some() || !user.sso_links.is_empty() {
                        UserStatus::Active
                    } else {
                        UserStatus::Invited
                    };
                }
                return Ok(String::new());
            }
            guard_last_admin(w, user)?;
            user.status = UserStatus::Disabled;
            let revoked = w.delete_sessions_of_user(user.id, |_, _| true)?;
            Ok(format!("{revoked} sessions revoked"))
        })
        .await
    }

    /// Removes the user's TOTP factor, passkeys and recovery codes and signs them out;
    /// they enrol again at their next password sign-in.
    pub async fn reset_mfa(self: &Arc<Self>, actor: AdminActor, id: UserId) -> Result<User> {
        let user = self
            .change_user(actor, id, AuditKind::MfaReset, |_, w, user| {
                user.totp = None;
                user.recovery_codes.clear();
                let passkeys = w.delete_passkeys_of_user(user.id)?;
                let revoked = w.delete_sessions_of_user(user.id, |_, _| true)?;
                Ok(format!(
                    "{passkeys} passkey(s) removed; {revoked} sessions revoked"
                ))
            })
            .await?;
        self.notify(&user, super::notify::SecurityNotice::SecondFactorReset);
        Ok(user)
    }

    /// Signs the user out everywhere.
    pub async fn revoke_sessions(self: &Arc<Self>, actor: AdminActor, id: UserId) -> Result<User> {
        self.change_user(actor, id, AuditKind::SessionsRevoked, |_, w, user| {
            let revoked = w.delete_sessions_of_user(user.id, |_, _| true)?;
            Ok(format!("{revoked} sessions revoked"))
        })
        .await
    }

    /// Changes a staff user's role.
    pub async fn set_role(
        self: &Arc<Self>,
        actor: AdminActor,
        id: UserId,
        role: Role,
    ) -> Result<User> {
        self.change_user(actor, id, AuditKind::RoleChanged, move |_, w, user| {
            if !user.realm.is_staff() && role == Role::Admin {
                return Err(ServiceError::Invalid(
                    "Portal users cannot be admins.".to_owned(),
                ));
            }
            if role != Role::Admin {
                guard_last_admin(w, user)?;
            }
            let from = user.role;
            user.role = role;
            Ok(format!("{} → {}", from.as_str(), role.as_str()))
        })
        .await
    }

    /// Flags a staff user as break-glass (may use password + TOTP under SSO-only).
    pub async fn set_break_glass(
        self: &Arc<Self>,
        actor: AdminActor,
        id: UserId,
        on: bool,
    ) -> Result<User> {
        self.change_user(
            actor,
            id,
            AuditKind::BreakGlassChanged,
            move |_, _, user| {
                if !user.realm.is_staff() {
                    return Err(ServiceError::Invalid(
                        "Break-glass is for staff users only.".to_owned(),
                    ));
                }
                user.break_glass = on;
                Ok(if on { "on" } else { "off" }.to_owned())
            },
        )
        .await
    }

    /// Audit events, newest first.
    pub fn audit_log(&self, limit: usize, before: Option<u64>) -> Result<Vec<(u64, AuditEvent)>> {
        Ok(self.store.read(|r| r.audit_events(limit, before))?)
    }

    /// One page of the audit events `filter` accepts, newest first, below `before`;
    /// with where the next (older) page starts, if there is one. A page looks at no
    /// more than 5,000 events, so a rare match costs several pages, never a long read.
    pub fn audit_search(
        &self,
        filter: &crate::domain::audit_filter::AuditFilter,
        limit: usize,
        before: Option<u64>,
    ) -> Result<crate::domain::audit_filter::AuditPage> {
        Ok(self
            .store
            .read(|r| r.audit_events_where(limit, before, 5_000, &|e| filter.matches(e)))?)
    }

    /// Audit events after `after`, oldest first (for following).
    pub fn audit_after(&self, after: u64, limit: usize) -> Result<Vec<(u64, AuditEvent)>> {
        Ok(self.store.read(|r| r.audit_events_after(after, limit))?)
    }

    /// The dashboard's figures.
    pub fn dashboard(&self) -> Result<Dashboard> {
        let now = self.clock.now();
        let day_ago = now.plus_secs(-24 * 3600);
        let (users, sessions, recent) = self.read(|r| {
            Ok::<_, ServiceError>((
                r.users_in_realm(Realm::Staff)?,
                r.count_sessions()?,
                r.audit_events(2_000, None)?,
            ))
        })?;
        let last_day: Vec<&(u64, AuditEvent)> =
            recent.iter().filter(|(_, e)| e.at >= day_ago).collect();
        Ok(Dashboard {
            staff_users: users.len(),
            staff_admins: users.iter().filter(|u| u.is_active_admin()).count(),
            sessions,
            failed_logins_24h: last_day
                .iter()
                .filter(|(_, e)| e.kind == AuditKind::LoginFailed)
                .count(),
            break_glass_logins: recent
                .iter()
                .filter(|(_, e)| e.kind == AuditKind::BreakGlassLogin)
                .take(20)
                .map(|(_, e)| e.clone())
                .collect(),
            recent: recent.into_iter().take(15).collect(),
        })
    }
}

/// Refuses to take away the last active staff admin.
pub(crate) fn guard_last_admin(w: &Writer, user: &User) -> Result<()> {
    if !user.is_active_admin() || !user.realm.is_staff() {
        return Ok(());
    }
    let other = w.find_user_in_realm(Realm::Staff, |u| u.is_active_admin() && u.id != user.id)?;
    if other.is_none() {
        return Err(ServiceError::Conflict(
            "This is the last active staff admin; make someone else an admin first.".to_owned(),
        ));
    }
    Ok(())
}
