//! Admin-grade sessions: the separate admin secret that alone opens the admin console,
//! and step-up — a full authentication again while signed in, required within
//! [`STEP_UP_WINDOW_SECS`] before any admin change.
//!
//! The admin secret is a second random token bound to an active staff session (its
//! keyed hash is stored on the session) and sent only in a host-only cookie. The
//! session cookie, which `cookie_domain` may widen to every protected app, is
//! therefore never enough to open `/admin`.
//!
//! Step-up is password + second factor (TOTP or recovery code), throttled and refused
//! exactly like sign-in; or, for admins with an account linked at an enabled provider
//! (Microsoft or another OpenID provider), a sign-in there with `prompt=login` whose
//! `auth_time` shows a fresh authentication (and MFA, when the provider requires it).

use std::sync::Arc;

use subtle::ConstantTimeEq;

use crate::domain::audit::{Actor, AuditEvent, AuditKind};
use crate::domain::entra::{SsoIdentity, authenticated_since};
use crate::domain::login::{LoginRefusal, local_refusal};
use crate::domain::password::{Password, Verified, too_long_to_try};
use crate::domain::session::{Origin, STEP_UP_WINDOW_SECS, Session, Stage};
use crate::domain::sso::SsoPurpose;
use crate::domain::sso::provider::ProviderButton;
use crate::domain::time::Timestamp;
use crate::domain::token::{MfaCode, SecretToken};
use crate::domain::user::{Realm, UserId};
use crate::store::prelude::*;
use crate::store::sessions::SessionKey;

use super::login::FailedAttempt;
use super::policy::realm_policy;
use super::sessions::SignedIn;
use super::sso::flow::SsoStart;
use super::throttle::account_key;
use super::{Result, ServiceError, Services};

/// Which ways of stepping up the signed-in admin has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepUpOptions {
    /// Password + second factor (not for SSO-only staff, break-glass excepted).
    pub password: bool,
    /// A fresh sign-in at one of these providers: the enabled providers of the
    /// realm at which the admin has a linked account (Microsoft or another OpenID
    /// provider), in the realm's order.
    pub providers: Vec<ProviderButton>,
}

impl StepUpOptions {
    /// Whether the admin can step up by signing in at a provider.
    pub fn by_provider(&self) -> bool {
        !self.providers.is_empty()
    }
}

const ADMIN_SECRET_CONTEXT: &str = "admin-secret";

impl Services {
    /// Gives an active staff session its admin secret (stored hashed on `session`);
    /// returns the secret for the admin cookie. Other sessions get none.
    pub(crate) fn bind_admin_secret(&self, session: &mut Session) -> Result<Option<SecretToken>> {
        if !session.realm.is_staff() || session.stage != Stage::Active {
            return Ok(None);
        }
        let secret = SecretToken::generate()?;
        session.admin_secret = Some(self.admin_secret_hash(secret.expose()));
        Ok(Some(secret))
    }

    fn admin_secret_hash(&self, secret: &str) -> String {
        hex::encode(self.keys.token_hash(ADMIN_SECRET_CONTEXT, secret))
    }

    /// Whether `given` (the admin cookie's value) is the admin secret of `session`.
    pub fn admin_secret_matches(&self, session: &Session, given: Option<&str>) -> bool {
        match (given, session.admin_secret.as_deref()) {
            (Some(given), Some(stored)) => {
                let hash = self.admin_secret_hash(given);
                bool::from(hash.as_bytes().ct_eq(stored.as_bytes()))
            }
            _ => false,
        }
    }

    /// Whether the signed-in admin authenticated recently enough to change things.
    pub fn recently_authenticated(&self, me: &SignedIn) -> bool {
        me.session.recently_authenticated(self.clock.now())
    }

    /// The step-up window, for pages that explain it.
    pub fn step_up_window_minutes(&self) -> i64 {
        STEP_UP_WINDOW_SECS / 60
    }

    /// How the signed-in admin may step up.
    pub fn step_up_options(&self, me: &SignedIn) -> Result<StepUpOptions> {
        let policy = self.read(|r| Ok(realm_policy(r, me.user.realm)?))?;
        let providers = self
            .providers_linked_to(&me.user)?
            .into_iter()
            .map(|p| ProviderButton {
                id: p.id,
                name: p.name,
                kind: p.kind,
            })
            .collect();
        Ok(StepUpOptions {
            password: policy.password_allowed(&me.user) && me.user.password_hash.is_some(),
            providers,
        })
    }

    /// Step-up with password and second factor. Every failure is the same
    /// [`ServiceError::LoginFailed`] after the same work, counted by the sign-in
    /// throttle of the admin's account and address.
    #[tracing::instrument(skip_all)]
    pub async fn step_up_with_password(
        self: &Arc<Self>,
        me: SignedIn,
        password: Password,
        code: String,
        origin: Origin,
    ) -> Result<()> {
        if too_long_to_try(password.expose()) {
            return Err(ServiceError::LoginFailed);
        }
        let account = account_key(&me.user.realm.key(), me.user.email.as_str());
        let reservation = self.reserve_attempt(&account, &origin)?;
        let verified = self
            .hashing
            .verify(&password, me.user.password_hash.as_deref())
            .await?;
        self.blocking(move |s| {
            let refuse = |reason: LoginRefusal| {
                s.refuse(
                    FailedAttempt {
                        realm: me.user.realm,
                        reservation: &reservation,
                        typed_email: me.user.email.as_str(),
                        subject: Some((me.user.id, me.user.email.as_str())),
                        reason,
                        origin: &origin,
                    },
                    ServiceError::LoginFailed,
                )
            };
            if verified == Verified::No {
                return refuse(LoginRefusal::ReauthWrongPassword);
            }
            let now = s.clock.now();
            let outcome = s.write(|w| {
                let Some(mut user) = w.user(me.user.id)? else {
                    return Ok(Err(LoginRefusal::UserRemoved));
                };
                let policy = realm_policy(w, user.realm)?;
                if let Some(refusal) = local_refusal(&user, &policy) {
                    return Ok(Err(refusal));
                }
                let Some(mut session) = w.session(&me.key)? else {
                    return Ok(Err(LoginRefusal::ChangedDuringSignIn));
                };
                let factor = if user.totp.is_some() || policy.mfa_required {
                    match MfaCode::parse(&code) {
                        MfaCode::Totp(c) => s.accept_totp(&mut user, &c)?,
                        MfaCode::Recovery(c) => s.accept_recovery_code(&mut user, &c),
                        MfaCode::Malformed => None,
                    }
                    .map(|method| format!("password + {method}"))
                } else {
                    Some("password".to_owned())
                };
                let Some(method) = factor else {
                    return Ok(Err(LoginRefusal::ReauthWrongCode));
                };
                user.updated_at = now;
                w.put_user(&user)?;
                session.stepped_up_at = Some(now);
                w.put_session(&me.key, &session)?;
                s.audit(w, step_up_event(&me, &origin, &method))?;
                Ok(Ok(()))
            })?;
            match outcome {
                Ok(()) => {
                    s.throttle.succeeded(reservation, s.clock.now());
                    Ok(())
                }
                Err(reason) => refuse(reason),
            }
        })
        .await
    }

    /// Starts a step-up by a fresh sign-in at `provider` (`None`: the first provider
    /// at which the admin has a linked account), coming back to `next` (an admin
    /// page). The provider's `require_mfa` rule applies as at sign-in.
    pub async fn start_sso_step_up(
        self: &Arc<Self>,
        me: &SignedIn,
        next: String,
        provider: Option<&str>,
    ) -> Result<SsoStart> {
        let options = self.step_up_options(me)?;
        let chosen = match provider.filter(|p| !p.is_empty()) {
            Some(id) => options.providers.iter().find(|p| p.id == id),
            None => options.providers.first(),
        };
        let Some(chosen) = chosen else {
            return Err(ServiceError::Forbidden(
                "Your account is not linked at that sign-in provider: confirm with another one or with your password and code.".to_owned(),
            ));
        };
        let purpose = SsoPurpose::StepUp {
            user_id: me.user.id,
            session: hex::encode(me.key),
            next,
        };
        self.start_sso_via(me.user.realm, Some(&chosen.id), purpose, None)
            .await
    }

    /// Finishes a step-up by Microsoft sign-in that began at `started`: the verified
    /// account must be linked to the admin, Microsoft must have authenticated them
    /// afresh, and the session must still be theirs. `Err` holds the audit reason.
    pub(crate) async fn finish_sso_step_up(
        self: &Arc<Self>,
        user_id: UserId,
        session: String,
        identity: SsoIdentity,
        started: Timestamp,
        origin: Origin,
    ) -> Result<std::result::Result<(), String>> {
        let Some(key) = hex::decode(&session)
            .ok()
            .and_then(|b| SessionKey::try_from(b).ok())
        else {
            return Ok(Err("step-up: malformed session reference".to_owned()));
        };
        if !authenticated_since(identity.auth_time, started.0) {
            return Ok(Err(
                "step-up: the provider did not authenticate the user again (auth_time missing or too old)"
                    .to_owned(),
            ));
        }
        let method = if identity.tenant.contains("://") {
            format!("sign-in at {}", identity.tenant)
        } else {
            "Microsoft".to_owned()
        };
        self.blocking(move |s| {
            let now = s.clock.now();
            s.write(|w| {
                let Some(me) = s.live_session(w, Realm::Staff, key, Stage::Active)? else {
                    return Ok(Err("step-up: the session ended".to_owned()));
                };
                if me.user.id != user_id {
                    return Ok(Err("step-up: the session belongs to someone else".to_owned()));
                }
                let linked = me.user.sso_links.iter().any(|l| {
                    l.tenant.eq_ignore_ascii_case(&identity.tenant) && l.subject == identity.object_id
                });
                if !linked {
                    return Ok(Err(format!(
                        "step-up: the account (tenant/issuer {} subject {}) is not linked to this admin",
                        identity.tenant, identity.object_id
                    )));
                }
                let mut session = me.session.clone();
                session.stepped_up_at = Some(now);
                w.put_session(&key, &session)?;
                s.audit(w, step_up_event(&me, &origin, &method))?;
                Ok(Ok(()))
            })
        })
        .await
    }
}

fn step_up_event(me: &SignedIn, origin: &Origin, method: &str) -> AuditEvent {
    AuditEvent::new(AuditKind::LoginSucceeded, Timestamp(0))
        .by(Actor::User(me.user.id), me.user.email.as_str())
        .about(me.user.id, me.user.email.as_str())
        .in_realm(me.user.realm)
        .from_ip(&origin.ip)
        .detail(format!("step-up for admin changes ({method})"))
}
