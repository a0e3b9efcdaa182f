//! A signed-in user's own account: change password and regenerate recovery codes,
//! both only after proving again who they are (current password, plus a TOTP code
//! when they have a factor).

use std::sync::Arc;

use crate::domain::audit::{Actor, AuditEvent, AuditKind};
use crate::domain::login::LoginRefusal;
use crate::domain::password::{Password, Verified, too_long_to_try};
use crate::domain::session::Origin;
use crate::domain::token::{MfaCode, RecoveryCode, SecretToken};
use crate::domain::user::User;
use crate::store::Writer;
use crate::store::prelude::*;
use crate::store::sessions::SessionKey;

use super::login::FailedAttempt;
use super::notify::SecurityNotice;
use super::policy::realm_policy;
use super::sessions::SignedIn;
use super::throttle::{Reservation, account_key};
use super::{NewSession, Result, ServiceError, Services};

/// Proof of identity for a sensitive change. `Debug` leaves out the code.
pub struct Reauth {
    pub current_password: Password,
    /// A TOTP code; required when the user has a factor.
    pub code: String,
}

impl std::fmt::Debug for Reauth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reauth")
            .field("current_password", &self.current_password)
            .field("code", &"***")
            .finish()
    }
}

const PASSWORD_OFF: &str =
    "Password changes are turned off for this account: it signs in with Microsoft.";
const REAUTH_FAILED: &str = "The current password or authenticator code is not right.";

impl Services {
    /// Changes the signed-in user's password and signs out their other sessions. The
    /// current session continues under a new id (returned: the old cookie value stops
    /// working), counting as freshly authenticated.
    #[tracing::instrument(skip_all)]
    pub async fn change_password(
        self: &Arc<Self>,
        me: SignedIn,
        proof: Reauth,
        new_password: Password,
        confirm: Password,
        origin: Origin,
    ) -> Result<NewSession> {
        self.check_new_password(&new_password, &confirm, me.user.email.as_str())
            .await?;
        let reservation = self.check_current_password(&me, &proof, &origin).await?;
        // Hashed before the code is checked: the write that checks it must not wait
        // on Argon2.
        let hash = self.hashing.hash(&new_password).await?;
        let user = me.user.clone();
        let rotated = self
            .reauthenticated(me, proof, origin, reservation, move |s, w, user, me| {
                user.password_hash = Some(hash);
                let rotated = s.rotate_session(w, me)?;
                let key = s.session_key(rotated.token.expose());
                Ok((AuditKind::PasswordChanged, key, rotated))
            })
            .await?;
        self.notify(&user, SecurityNotice::PasswordChanged);
        Ok(rotated)
    }

    /// Moves the session `me` to a new id (and a new admin secret) in the open
    /// transaction; the old id stops working.
    fn rotate_session(&self, w: &mut Writer, me: &SignedIn) -> Result<NewSession> {
        let token = SecretToken::generate()?;
        let mut session = me.session.clone();
        session.stepped_up_at = Some(self.clock.now());
        let admin_secret = self.bind_admin_secret(&mut session)?;
        w.delete_session(&me.key)?;
        w.put_session(&self.session_key(token.expose()), &session)?;
        Ok(NewSession {
            token,
            session,
            admin_secret,
        })
    }

    /// Replaces the signed-in user's recovery codes; returns the new ones (shown once).
    pub async fn regenerate_recovery_codes(
        self: &Arc<Self>,
        me: SignedIn,
        proof: Reauth,
        origin: Origin,
    ) -> Result<Vec<RecoveryCode>> {
        if me.user.totp.is_none() {
            return Err(ServiceError::Forbidden(
                "Set up an authenticator app first.".to_owned(),
            ));
        }
        let reservation = self.check_current_password(&me, &proof, &origin).await?;
        let user = me.user.clone();
        let codes = self
            .reauthenticated(me, proof, origin, reservation, |s, _, user, me| {
                let codes = RecoveryCode::generate_set()?;
                user.recovery_codes = codes
                    .iter()
                    .map(|c| s.recovery_code_hash(user, &c.canonical()))
                    .collect();
                Ok((AuditKind::RecoveryCodesRegenerated, me.key, codes))
            })
            .await?;
        self.notify(&user, SecurityNotice::RecoveryCodesRegenerated);
        Ok(codes)
    }

    /// Checks the current password of `proof` (throttled like sign-in); returns the
    /// throttle's reservation, which stands for the whole re-authentication.
    async fn check_current_password(
        self: &Arc<Self>,
        me: &SignedIn,
        proof: &Reauth,
        origin: &Origin,
    ) -> Result<Reservation> {
        let policy = self.store.read(|r| realm_policy(r, me.user.realm))?;
        if !policy.password_allowed(&me.user) || me.user.password_hash.is_none() {
            return Err(ServiceError::Forbidden(PASSWORD_OFF.to_owned()));
        }
        if too_long_to_try(proof.current_password.expose()) {
            return Err(ServiceError::Invalid(REAUTH_FAILED.to_owned()));
        }
        let account = account_key(&me.user.realm.key(), me.user.email.as_str());
        let reservation = self.reserve_attempt(&account, origin)?;
        let verified = self
            .hashing
            .verify(&proof.current_password, me.user.password_hash.as_deref())
            .await?;
        if verified == Verified::No {
            let (me, origin) = (me.clone(), origin.clone());
            return self
                .blocking(move |s| {
                    s.refuse(
                        reauth_failure(
                            &me,
                            &reservation,
                            LoginRefusal::ReauthWrongPassword,
                            &origin,
                        ),
                        ServiceError::Invalid(REAUTH_FAILED.to_owned()),
                    )
                })
                .await;
        }
        Ok(reservation)
    }

    /// After [`check_current_password`](Self::check_current_password): checks the
    /// code of `proof` when the user has a factor, then applies `change` to the user
    /// in one transaction. Sessions other than the one `change` names are revoked.
    async fn reauthenticated<T, F>(
        self: &Arc<Self>,
        me: SignedIn,
        proof: Reauth,
        origin: Origin,
        reservation: Reservation,
        change: F,
    ) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(
                &Services,
                &mut Writer,
                &mut User,
                &SignedIn,
            ) -> Result<(AuditKind, SessionKey, T)>
            + Send
            + 'static,
    {
        self.blocking(move |s| {
            let outcome = s.write(|w| {
                let Some(mut user) = w.user(me.user.id)? else {
                    return Ok(Err(LoginRefusal::UserRemoved));
                };
                // Again in the write: SSO-only may have been turned on meanwhile.
                if !realm_policy(w, user.realm)?.password_allowed(&user) {
                    return Err(ServiceError::Forbidden(PASSWORD_OFF.to_owned()));
                }
                if user.totp.is_some() {
                    let ok = match MfaCode::parse(&proof.code) {
                        MfaCode::Totp(c) => s.accept_totp(&mut user, &c)?.is_some(),
                        _ => false,
                    };
                    if !ok {
                        return Ok(Err(LoginRefusal::ReauthWrongCode));
                    }
                }
                let (kind, keep, value) = change(s, w, &mut user, &me)?;
                user.updated_at = s.clock.now();
                w.put_user(&user)?;
                w.delete_sessions_of_user(user.id, |key, _| *key != keep)?;
                let event = AuditEvent::new(kind, s.clock.now())
                    .by(Actor::User(user.id), user.email.as_str())
                    .about(user.id, user.email.as_str())
                    .in_realm(user.realm)
                    .from_ip(&origin.ip);
                s.audit(w, event)?;
                Ok(Ok(value))
            })?;
            match outcome {
                Ok(value) => {
                    s.throttle.succeeded(reservation, s.clock.now());
                    Ok(value)
                }
                Err(reason) => s.refuse(
                    reauth_failure(&me, &reservation, reason, &origin),
                    ServiceError::Invalid(REAUTH_FAILED.to_owned()),
                ),
            }
        })
        .await
    }
}

/// A failed re-authentication of the signed-in user, for the audit trail and throttle.
fn reauth_failure<'a>(
    me: &'a SignedIn,
    reservation: &'a Reservation,
    reason: LoginRefusal,
    origin: &'a Origin,
) -> FailedAttempt<'a> {
    FailedAttempt {
        realm: me.user.realm,
        reservation,
        typed_email: me.user.email.as_str(),
        subject: Some((me.user.id, me.user.email.as_str())),
        reason,
        origin,
    }
}
