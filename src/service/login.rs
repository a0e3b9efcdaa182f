//! Password sign-in and its second step. Every failure — unknown email, wrong
//! password, disabled account, SSO-only, wrong code — returns the same error after
//! the same work (one Argon2 verification, one audit write), so nothing outside can
//! tell them apart; the real reason is kept in the audit trail.

use std::sync::Arc;

use crate::domain::audit::{Actor, AuditEvent, AuditKind};
use crate::domain::login::{
    LoginRefusal, NextStage, RealmPolicy, code_refusal, local_refusal, next_stage, password_refusal,
};
use crate::domain::password::{Password, Verified, too_long_to_try};
use crate::domain::session::{AuthMethod, Origin, Stage};
use crate::domain::token::MfaCode;
use crate::domain::totp::TotpSecret;
use crate::domain::user::{Email, Realm, User, UserId};
use crate::metrics::LoginMethod;
use crate::store::Writer;
use crate::store::prelude::*;

use super::policy::realm_policy;
use super::secrets::totp_context;
use super::throttle::{Reservation, account_key};
use super::{NewSession, Result, ServiceError, Services};

/// What a sign-in step leads to. The web layer maps each to exactly one response.
#[derive(Debug)]
pub enum LoginStep {
    /// Password accepted; ask for a TOTP or recovery code. Holds the pending session.
    NeedCode(NewSession),
    /// Password accepted; the user must enrol TOTP first. Holds the pending session.
    NeedEnrolment(NewSession),
    /// Signed in.
    Done(NewSession),
}

/// A submitted email + password.
#[derive(Debug)]
pub struct PasswordAttempt {
    pub realm: Realm,
    pub email: String,
    pub password: Password,
    /// Where to go afterwards, already checked to be safe.
    pub next: Option<String>,
    pub origin: Origin,
}

/// A password checked against the user its email found (if any), with the realm's
/// policy as read before hashing.
struct CheckedPassword {
    user: Option<User>,
    policy: RealmPolicy,
    verified: Verified,
}

/// A refused attempt, as the audit trail records it and the throttle counts it.
pub(crate) struct FailedAttempt<'a> {
    pub realm: Realm,
    /// The attempt as the throttle let it through (already counted as a failure).
    pub reservation: &'a Reservation,
    /// The email as typed (or the pending sign-in's user's email).
    pub typed_email: &'a str,
    /// The user the attempt was about, when one was found.
    pub subject: Option<(UserId, &'a str)>,
    pub reason: LoginRefusal,
    pub origin: &'a Origin,
}

/// Wrong codes after which a pending sign-in ends (the password must be given again).
pub const PENDING_CODE_TRIES: u32 = 5;

/// What checking a second-step code inside the write came to.
enum CodeOutcome {
    SignedIn(Box<NewSession>),
    Refused(LoginRefusal),
    /// The pending sign-in is gone (ended by wrong codes or signed out).
    Ended,
}

/// A submitted second-step code. `Debug` leaves out the token and the code.
pub struct CodeAttempt {
    pub realm: Realm,
    /// The pending session's token (from its cookie).
    pub pending_token: String,
    pub code: String,
    pub origin: Origin,
}

impl std::fmt::Debug for CodeAttempt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CodeAttempt")
            .field("realm", &self.realm)
            .field("pending_token", &"***")
            .field("code", &"***")
            .field("origin", &self.origin)
            .finish()
    }
}

impl Services {
    /// Checks email + password. Too-long passwords are refused, and the attempt is
    /// reserved with the throttle, before any hashing.
    #[tracing::instrument(skip_all)]
    pub async fn login_with_password(
        self: &Arc<Self>,
        attempt: PasswordAttempt,
    ) -> Result<LoginStep> {
        let realm = attempt.realm;
        let result = self.password_login(attempt).await;
        self.count_login(realm, LoginMethod::Password, &result);
        result
    }

    async fn password_login(self: &Arc<Self>, attempt: PasswordAttempt) -> Result<LoginStep> {
        if too_long_to_try(attempt.password.expose()) {
            return Err(ServiceError::Invalid(
                "Passwords are at most 1024 characters.".to_owned(),
            ));
        }
        let account = account_key(&attempt.realm.key(), &attempt.email);
        let reservation = self.reserve_attempt(&account, &attempt.origin)?;
        let email = Email::parse(&attempt.email).ok();
        let realm = attempt.realm;
        let (user, policy) = self
            .blocking(move |s| {
                s.read(|r| {
                    let user = match &email {
                        Some(e) => r.user_by_email(realm, e)?,
                        None => None,
                    };
                    Ok((user, realm_policy(r, realm)?))
                })
            })
            .await?;
        // The hashing permit is back before the durable write below: a slow disk
        // must not keep the next sign-in's hash waiting.
        let stored = user.as_ref().and_then(|u| u.password_hash.as_deref());
        let verified = self.hashing.verify(&attempt.password, stored).await?;
        let checked = CheckedPassword {
            user,
            policy,
            verified,
        };
        self.blocking(move |s| s.password_step(attempt, reservation, checked))
            .await
    }

    /// Records the outcome of a checked password: a refusal, or the next stage of the
    /// sign-in with its session.
    fn password_step(
        &self,
        attempt: PasswordAttempt,
        reservation: Reservation,
        checked: CheckedPassword,
    ) -> Result<LoginStep> {
        let CheckedPassword {
            user,
            policy,
            verified,
        } = checked;
        let refusal = password_refusal(user.as_ref(), &verified, &policy);
        let user = match (user, refusal) {
            (Some(user), None) => user,
            (user, refusal) => {
                let subject = user.as_ref().map(|u| (u.id, u.email.as_str()));
                return self.refuse(
                    FailedAttempt {
                        realm: attempt.realm,
                        reservation: &reservation,
                        typed_email: &attempt.email,
                        subject,
                        reason: refusal.unwrap_or(LoginRefusal::UnknownEmail),
                        origin: &attempt.origin,
                    },
                    ServiceError::LoginFailed,
                );
            }
        };

        let now = self.clock.now();
        let step = self.write(|w| {
            // Re-read inside the write: an admin may have disabled the user meanwhile.
            let Some(mut fresh) = w.user(user.id)? else {
                return Ok(None);
            };
            if local_refusal(&fresh, &realm_policy(w, attempt.realm)?).is_some() {
                return Ok(None);
            }
            if let Verified::YesRehash(new_hash) = &verified {
                fresh.password_hash = Some(new_hash.clone());
            }
            let has_passkey = !w.passkeys_of(fresh.id)?.is_empty();
            let NextStage { stage, auth } = next_stage(&fresh, has_passkey, &policy);
            if stage == Stage::Active {
                fresh.last_login_at = Some(now);
            }
            fresh.updated_at = now;
            w.put_user(&fresh)?;
            let new = self.start_session(
                w,
                &fresh,
                stage,
                auth,
                attempt.next.clone(),
                &attempt.origin,
            )?;
            let kind = if stage == Stage::Active {
                AuditKind::LoginSucceeded
            } else {
                AuditKind::PasswordAccepted
            };
            self.audit(
                w,
                login_event(kind, &fresh, &attempt.origin).detail("password"),
            )?;
            if stage == Stage::Active {
                self.audit_break_glass(w, &fresh, &policy, &attempt.origin)?;
            }
            Ok(Some(match stage {
                Stage::PendingMfa => LoginStep::NeedCode(new),
                Stage::PendingEnrolment => LoginStep::NeedEnrolment(new),
                Stage::Active => LoginStep::Done(new),
            }))
        })?;
        match step {
            Some(step) => {
                if matches!(step, LoginStep::Done(_)) {
                    self.throttle.succeeded(reservation, now);
                } else {
                    self.throttle.release(reservation);
                }
                Ok(step)
            }
            None => self.refuse(
                FailedAttempt {
                    realm: attempt.realm,
                    reservation: &reservation,
                    typed_email: &attempt.email,
                    subject: Some((user.id, user.email.as_str())),
                    reason: LoginRefusal::ChangedDuringSignIn,
                    origin: &attempt.origin,
                },
                ServiceError::LoginFailed,
            ),
        }
    }

    /// Checks the second-step code of a pending sign-in.
    #[tracing::instrument(skip_all)]
    pub async fn login_with_code(self: &Arc<Self>, attempt: CodeAttempt) -> Result<NewSession> {
        let realm = attempt.realm;
        let method = match MfaCode::parse(&attempt.code) {
            MfaCode::Recovery(_) => LoginMethod::RecoveryCode,
            MfaCode::Totp(_) | MfaCode::Malformed => LoginMethod::Totp,
        };
        let result = self.code_login(attempt).await;
        self.count_login(realm, method, &result);
        result
    }

    async fn code_login(self: &Arc<Self>, attempt: CodeAttempt) -> Result<NewSession> {
        let pending = self
            .session_for(attempt.realm, &attempt.pending_token, Stage::PendingMfa)?
            .ok_or(ServiceError::SignInExpired)?;
        let account = account_key(&attempt.realm.key(), pending.user.email.as_str());
        let reservation = self.reserve_attempt(&account, &attempt.origin)?;
        self.blocking(move |s| {
            let now = s.clock.now();
            let code = MfaCode::parse(&attempt.code);
            // The user who signed in with a recovery code, to be told after the commit.
            let mut recovery_used: Option<User> = None;
            let outcome = s.write(|w| {
                // Concurrent wrong codes may have ended the pending sign-in meanwhile.
                let Some(mut session) = w.session(&pending.key)? else {
                    return Ok(CodeOutcome::Ended);
                };
                let user = w.user(pending.user.id)?;
                let policy = realm_policy(w, attempt.realm)?;
                let refusal = code_refusal(user.as_ref(), &policy);
                let mut user = match (user, refusal) {
                    (Some(user), None) => user,
                    (_, refusal) => {
                        return Ok(CodeOutcome::Refused(
                            refusal.unwrap_or(LoginRefusal::UserRemoved),
                        ));
                    }
                };
                let used = match &code {
                    MfaCode::Totp(c) => s.accept_totp(&mut user, c)?,
                    MfaCode::Recovery(c) => s.accept_recovery_code(&mut user, c),
                    MfaCode::Malformed => None,
                };
                let Some(method) = used else {
                    session.wrong_codes = session.wrong_codes.saturating_add(1);
                    if session.wrong_codes >= PENDING_CODE_TRIES {
                        w.delete_session(&pending.key)?;
                    } else {
                        w.put_session(&pending.key, &session)?;
                    }
                    return Ok(CodeOutcome::Refused(LoginRefusal::WrongCode));
                };
                user.last_login_at = Some(now);
                user.updated_at = now;
                w.put_user(&user)?;
                w.delete_session(&pending.key)?;
                let new = s.start_session(
                    w,
                    &user,
                    Stage::Active,
                    AuthMethod::PasswordTotp,
                    pending.session.next.clone(),
                    &attempt.origin,
                )?;
                s.audit(
                    w,
                    login_event(AuditKind::LoginSucceeded, &user, &attempt.origin)
                        .detail(format!("password + {method}")),
                )?;
                if method == "recovery code" {
                    recovery_used = Some(user.clone());
                    let left = user.recovery_codes.len();
                    s.audit(
                        w,
                        login_event(AuditKind::RecoveryCodeUsed, &user, &attempt.origin)
                            .detail(format!("{left} left")),
                    )?;
                }
                s.audit_break_glass(w, &user, &policy, &attempt.origin)?;
                Ok(CodeOutcome::SignedIn(Box::new(new)))
            })?;
            match outcome {
                CodeOutcome::SignedIn(new) => {
                    s.throttle.succeeded(reservation, now);
                    if let Some(user) = &recovery_used {
                        let left = user.recovery_codes.len();
                        s.notify(
                            user,
                            super::notify::SecurityNotice::RecoveryCodeUsed { left },
                        );
                    }
                    Ok(*new)
                }
                // Not an evaluation: nothing was checked, so the attempt is not counted.
                CodeOutcome::Ended => {
                    s.throttle.release(reservation);
                    Err(ServiceError::SignInExpired)
                }
                CodeOutcome::Refused(reason) => s.refuse(
                    FailedAttempt {
                        realm: attempt.realm,
                        reservation: &reservation,
                        typed_email: pending.user.email.as_str(),
                        subject: Some((pending.user.id, pending.user.email.as_str())),
                        reason,
                        origin: &attempt.origin,
                    },
                    ServiceError::InvalidCode,
                ),
            }
        })
        .await
    }

    /// Accepts a TOTP code for `user` if it is right and newer than the last one used;
    /// records the step so the code cannot be used again.
    pub(crate) fn accept_totp(&self, user: &mut User, code: &str) -> Result<Option<&'static str>> {
        let Some(factor) = user.totp.as_mut() else {
            return Ok(None);
        };
        let secret =
            TotpSecret::from_bytes(self.keys.open(&factor.secret, &totp_context(user.id))?);
        match secret.verify(code, self.clock.now(), Some(factor.last_step)) {
            Some(step) => {
                factor.last_step = step;
                Ok(Some("TOTP"))
            }
            None => Ok(None),
        }
    }

    /// Accepts and consumes one of `user`'s recovery codes (canonical form).
    pub(crate) fn accept_recovery_code(
        &self,
        user: &mut User,
        canonical: &str,
    ) -> Option<&'static str> {
        let hash = self.recovery_code_hash(user, canonical);
        let position = user.recovery_codes.iter().position(|h| *h == hash)?;
        user.recovery_codes.remove(position);
        Some("recovery code")
    }

    /// Lets one attempt at `account`'s secrets from `origin` through the throttle,
    /// counted as a failure until it proves right; refused with the wait otherwise.
    pub(crate) fn reserve_attempt(&self, account: &str, origin: &Origin) -> Result<Reservation> {
        self.throttle
            .reserve(account, &origin.ip, self.clock.now())
            .map_err(|wait| ServiceError::Throttled {
                retry_after_secs: wait,
            })
    }

    /// Records a failed attempt in the audit trail (the throttle counted it when it
    /// was reserved) and returns `error`.
    pub(crate) fn refuse<T>(&self, attempt: FailedAttempt<'_>, error: ServiceError) -> Result<T> {
        self.refuse_because(attempt, None, error)
    }

    /// [`Self::refuse`] with the audit detail given instead of the reason's text.
    pub(crate) fn refuse_because<T>(
        &self,
        attempt: FailedAttempt<'_>,
        detail: Option<String>,
        error: ServiceError,
    ) -> Result<T> {
        let FailedAttempt {
            realm,
            reservation,
            typed_email,
            subject,
            reason,
            origin,
        } = attempt;
        let now = self.clock.now();
        let blocked = reservation.starts_block();
        let typed: String = typed_email.chars().take(254).collect();
        let mut event = AuditEvent::new(AuditKind::LoginFailed, now)
            .by(Actor::Anonymous, &typed)
            .in_realm(realm)
            .from_ip(&origin.ip)
            .detail(detail.unwrap_or_else(|| reason.as_str().to_owned()));
        if let Some((id, email)) = subject {
            event = event.about(id, email);
        }
        self.write(|w| {
            self.audit(w, event)?;
            if blocked {
                let throttled = AuditEvent::new(AuditKind::Throttled, now)
                    .by(Actor::Anonymous, &typed)
                    .in_realm(realm)
                    .from_ip(&origin.ip)
                    .detail("too many failures; back-off in force");
                self.audit(w, throttled)?;
            }
            Ok(())
        })?;
        Err(error)
    }

    pub(crate) fn audit_break_glass(
        &self,
        w: &mut Writer,
        user: &User,
        policy: &RealmPolicy,
        origin: &Origin,
    ) -> Result<()> {
        if policy.is_break_glass(user) {
            self.audit(
                w,
                login_event(AuditKind::BreakGlassLogin, user, origin)
                    .detail("password sign-in while SSO-only is on"),
            )?;
        }
        Ok(())
    }
}

pub(crate) fn login_event(kind: AuditKind, user: &User, origin: &Origin) -> AuditEvent {
    AuditEvent::new(kind, crate::domain::time::Timestamp(0))
        .by(Actor::User(user.id), user.email.as_str())
        .about(user.id, user.email.as_str())
        .in_realm(user.realm)
        .from_ip(&origin.ip)
}
