//! The first staff admin: a one-hour, single-use setup link printed at start-up while
//! no active staff admin exists, and the page behind it.

use std::sync::Arc;

use crate::domain::audit::{Actor, AuditEvent, AuditKind};
use crate::domain::password::Password;
use crate::domain::session::{AuthMethod, Origin, Stage};
use crate::domain::token::SecretToken;
use crate::domain::user::{Email, Realm, User, clean_display_name};
use crate::store::prelude::*;
use crate::store::tokens::{OneTimeToken, TokenPurpose};

use super::{NewSession, Result, ServiceError, Services};

/// How long a setup link stays valid.
pub const SETUP_LINK_LIFETIME_SECS: i64 = 60 * 60;

/// The first-admin form. `Debug` leaves the token out.
pub struct SetupForm {
    pub token: String,
    pub email: String,
    pub name: String,
    pub password: Password,
    pub password_confirm: Password,
    pub origin: Origin,
}

impl std::fmt::Debug for SetupForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SetupForm")
            .field("token", &"***")
            .field("email", &self.email)
            .field("name", &self.name)
            .field("password", &self.password)
            .field("password_confirm", &self.password_confirm)
            .field("origin", &self.origin)
            .finish()
    }
}

impl Services {
    /// Whether an active staff admin exists.
    pub fn has_staff_admin(&self) -> Result<bool> {
        Ok(self
            .store
            .read(|r| r.find_user_in_realm(Realm::Staff, User::is_active_admin))?
            .is_some())
    }

    /// Issues a fresh setup token if no active staff admin exists (older setup tokens
    /// stop working). The caller prints the link.
    pub fn issue_setup_token(&self) -> Result<Option<SecretToken>> {
        if self.has_staff_admin()? {
            return Ok(None);
        }
        let token = SecretToken::generate()?;
        let now = self.clock.now();
        let record = OneTimeToken {
            purpose: TokenPurpose::Setup,
            realm: Realm::Staff,
            created_at: now,
            expires_at: now.plus_secs(SETUP_LINK_LIFETIME_SECS),
        };
        self.write(|w| {
            w.delete_one_time_tokens(|t| t.purpose == TokenPurpose::Setup)?;
            Ok(w.put_one_time_token(&self.one_time_key(token.expose()), &record)?)
        })?;
        Ok(Some(token))
    }

    /// Looks up a one-time token of `realm`, checking it is well-formed, known, unexpired
    /// and for `purpose` (compared by kind).
    pub(crate) fn valid_one_time_token(
        &self,
        r: &impl Tables,
        realm: Realm,
        token: &str,
        is_purpose: impl Fn(&TokenPurpose) -> bool,
    ) -> Result<([u8; 32], OneTimeToken)> {
        let token = SecretToken::from_received(token).ok_or(ServiceError::LinkInvalid)?;
        let key = self.one_time_key(token.expose());
        let record = r.one_time_token(&key)?.ok_or(ServiceError::LinkInvalid)?;
        if record.realm != realm || !is_purpose(&record.purpose) {
            return Err(ServiceError::LinkInvalid);
        }
        if record.expires_at <= self.clock.now() {
            return Err(ServiceError::LinkExpired);
        }
        Ok((key, record))
    }

    /// Checks a setup link before showing its form.
    pub fn check_setup_token(&self, token: &str) -> Result<()> {
        self.read(|r| {
            self.valid_one_time_token(r, Realm::Staff, token, |p| *p == TokenPurpose::Setup)?;
            Ok(())
        })?;
        if self.has_staff_admin()? {
            return Err(ServiceError::LinkInvalid);
        }
        Ok(())
    }

    /// Creates the first admin and starts their TOTP enrolment.
    #[tracing::instrument(skip_all)]
    pub async fn complete_setup(self: &Arc<Self>, form: SetupForm) -> Result<NewSession> {
        self.check_setup_token(&form.token)?;
        let email =
            Email::parse(&form.email).map_err(|e| ServiceError::Invalid(format!("Email: {e}.")))?;
        let name = clean_display_name(&form.name);
        self.check_new_password(&form.password, &form.password_confirm, email.as_str())
            .await?;
        let hash = self.hashing.hash(&form.password).await?;
        self.blocking(move |s| {
            let now = s.clock.now();
            s.write(|w| {
                // Checked again inside the write: two submissions race for one link.
                let (key, _) = s.valid_one_time_token(w, Realm::Staff, &form.token, |p| {
                    *p == TokenPurpose::Setup
                })?;
                if w.find_user_in_realm(Realm::Staff, User::is_active_admin)?
                    .is_some()
                {
                    return Err(ServiceError::LinkInvalid);
                }
                let admin = s.insert_staff_admin(w, &email, &name, hash.clone())?;
                w.delete_one_time_token(&key)?;
                let event = AuditEvent::new(AuditKind::SetupCompleted, now)
                    .by(Actor::User(admin.id), admin.email.as_str())
                    .about(admin.id, admin.email.as_str())
                    .in_realm(Realm::Staff)
                    .from_ip(&form.origin.ip);
                s.audit(w, event)?;
                s.start_session(
                    w,
                    &admin,
                    Stage::PendingEnrolment,
                    AuthMethod::PasswordTotp,
                    None,
                    &form.origin,
                )
            })
        })
        .await
    }
}
