//! TOTP enrolment: offer a fresh seed (kept sealed in the session until confirmed),
//! confirm it with a code, store it sealed on the user, hand out recovery codes once,
//! and turn a pending sign-in into a full session.

use std::sync::Arc;

use crate::domain::audit::{Actor, AuditEvent, AuditKind};
use crate::domain::login::LoginRefusal;
use crate::domain::session::{AuthMethod, Origin, Stage};
use crate::domain::token::{MfaCode, RecoveryCode};
use crate::domain::totp::TotpSecret;
use crate::domain::user::{Realm, TotpFactor};
use crate::store::prelude::*;

use super::login::FailedAttempt;
use super::notify::SecurityNotice;
use super::secrets::{pending_totp_context, totp_context};
use super::sessions::SignedIn;
use super::throttle::account_key;
use super::{NewSession, Result, ServiceError, Services};

/// What the enrolment page shows. `Debug` leaves the seed out.
pub struct EnrolmentOffer {
    pub secret_base32: String,
    pub otpauth_uri: String,
    pub account: String,
}

impl std::fmt::Debug for EnrolmentOffer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EnrolmentOffer")
            .field("secret_base32", &"***")
            .field("otpauth_uri", &"***")
            .field("account", &self.account)
            .finish()
    }
}

/// The result of a confirmed enrolment.
#[derive(Debug)]
pub struct Enrolled {
    /// The new full session (always rotated).
    pub session: NewSession,
    /// Shown once, never stored in the clear.
    pub recovery_codes: Vec<RecoveryCode>,
    pub next: Option<String>,
}

/// The product name shown in authenticator apps.
/// The issuer of staff TOTP links (portals use the client's name).
pub const TOTP_ISSUER: &str = "Gatehouse";

/// The name a realm's TOTP links carry as issuer, which authenticator apps show: the
/// client's chosen name (or its display name) on a portal; for staff the organisation
/// name an admin set (see `service::branding`), else "Gatehouse". A colon separates
/// issuer and account in those links, so it becomes a space.
fn authenticator_name(r: &impl Tables, realm: Realm) -> Result<String> {
    Ok(match realm {
        Realm::Staff => r
            .setting::<crate::domain::branding::StaffBranding>()?
            .org_name
            .map_or_else(|| TOTP_ISSUER.to_owned(), |name| name.replace(':', " ")),
        Realm::Client(id) => r
            .client(id)?
            .map(|c| c.authenticator_name())
            .unwrap_or_else(|| TOTP_ISSUER.to_owned()),
    })
}

impl Services {
    /// The session that may enrol: a pending enrolment, or a full session of a user
    /// with no factor yet.
    pub fn enrolling_session(&self, realm: Realm, token: &str) -> Result<SignedIn> {
        let me = self.enrolling_session_unchecked(realm, token)?;
        // Local TOTP is a password path: refused under SSO-only like the others.
        if !self.password_allowed(&me.user)? {
            return Err(ServiceError::Forbidden(
                "Sign-in here uses Microsoft only; a local authenticator app is not used."
                    .to_owned(),
            ));
        }
        Ok(me)
    }

    fn enrolling_session_unchecked(&self, realm: Realm, token: &str) -> Result<SignedIn> {
        if let Some(pending) = self.session_for(realm, token, Stage::PendingEnrolment)? {
            return Ok(pending);
        }
        match self.session_for(realm, token, Stage::Active)? {
            Some(active) if active.user.totp.is_none() && active.session.auth.used_password() => {
                Ok(active)
            }
            Some(_) => Err(ServiceError::Forbidden(
                "Your account already has an authenticator app set up.".to_owned(),
            )),
            None => Err(ServiceError::SignInExpired),
        }
    }

    /// The seed to enrol, created on first view and reused on reload so a scanned QR
    /// code stays valid.
    pub async fn enrolment_offer(
        self: &Arc<Self>,
        realm: Realm,
        token: String,
    ) -> Result<EnrolmentOffer> {
        self.blocking(move |s| {
            let me = s.enrolling_session(realm, &token)?;
            let context = pending_totp_context(me.user.id);
            let secret = match &me.session.pending_totp {
                Some(sealed) => TotpSecret::from_bytes(s.keys.open(sealed, &context)?),
                None => {
                    let secret = TotpSecret::generate()?;
                    let sealed = s.keys.seal(secret.as_bytes(), &context)?;
                    s.write(|w| {
                        if let Some(mut session) = w.session(&me.key)? {
                            session.pending_totp = Some(sealed);
                            w.put_session(&me.key, &session)?;
                        }
                        Ok(())
                    })?;
                    secret
                }
            };
            let issuer = s.read(|r| authenticator_name(r, realm))?;
            Ok(EnrolmentOffer {
                secret_base32: secret.to_base32(),
                otpauth_uri: secret.otpauth_uri(&issuer, me.user.email.as_str()),
                account: me.user.email.to_string(),
            })
        })
        .await
    }

    /// Confirms the offered seed with a code from the user's app.
    #[tracing::instrument(skip_all)]
    pub async fn confirm_enrolment(
        self: &Arc<Self>,
        realm: Realm,
        token: String,
        code: String,
        origin: Origin,
    ) -> Result<Enrolled> {
        let me = self.enrolling_session(realm, &token)?;
        let account = account_key(&realm.key(), me.user.email.as_str());
        let reservation = self.reserve_attempt(&account, &origin)?;
        self.blocking(move |s| {
            let Some(sealed) = &me.session.pending_totp else {
                return Err(ServiceError::SignInExpired);
            };
            let secret =
                TotpSecret::from_bytes(s.keys.open(sealed, &pending_totp_context(me.user.id))?);
            let step = match MfaCode::parse(&code) {
                MfaCode::Totp(c) => secret.verify(&c, s.clock.now(), None),
                _ => None,
            };
            let Some(step) = step else {
                return s.refuse(
                    FailedAttempt {
                        realm,
                        reservation: &reservation,
                        typed_email: me.user.email.as_str(),
                        subject: Some((me.user.id, me.user.email.as_str())),
                        reason: LoginRefusal::WrongEnrolmentCode,
                        origin: &origin,
                    },
                    ServiceError::InvalidCode,
                );
            };
            let codes = RecoveryCode::generate_set()?;
            let now = s.clock.now();
            let sealed_seed = s.keys.seal(secret.as_bytes(), &totp_context(me.user.id))?;
            let session = s.write(|w| {
                let Some(mut user) = w.user(me.user.id)? else {
                    return Err(ServiceError::SignInExpired);
                };
                user.totp = Some(TotpFactor {
                    secret: sealed_seed,
                    last_step: step,
                    enrolled_at: now,
                });
                user.recovery_codes = codes
                    .iter()
                    .map(|c| s.recovery_code_hash(&user, &c.canonical()))
                    .collect();
                if me.session.stage != Stage::Active {
                    user.last_login_at = Some(now);
                }
                user.updated_at = now;
                w.put_user(&user)?;
                w.delete_session(&me.key)?;
                let auth = if me.session.stage == Stage::Active {
                    me.session.auth
                } else {
                    AuthMethod::PasswordTotp
                };
                let new = s.start_session(w, &user, Stage::Active, auth, None, &origin)?;
                let event = AuditEvent::new(AuditKind::MfaEnrolled, now)
                    .by(Actor::User(user.id), user.email.as_str())
                    .about(user.id, user.email.as_str())
                    .in_realm(user.realm)
                    .from_ip(&origin.ip);
                s.audit(w, event)?;
                if me.session.stage != Stage::Active {
                    let event = AuditEvent::new(AuditKind::LoginSucceeded, now)
                        .by(Actor::User(user.id), user.email.as_str())
                        .about(user.id, user.email.as_str())
                        .in_realm(user.realm)
                        .from_ip(&origin.ip)
                        .detail("password + TOTP enrolment");
                    s.audit(w, event)?;
                }
                Ok(new)
            })?;
            s.throttle.succeeded(reservation, s.clock.now());
            s.notify(
                &me.user,
                SecurityNotice::SecondFactorAdded("authenticator app".to_owned()),
            );
            Ok(Enrolled {
                session,
                recovery_codes: codes,
                next: me.session.next.clone(),
            })
        })
        .await
    }
}
