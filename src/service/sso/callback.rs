//! The sign-in flow's end, when the browser comes back: the transaction is consumed
//! first (one use only), then the code is redeemed and the ID token verified, and the
//! transaction's purpose (sign-in, link, step-up, test) decides what happens.

use std::sync::Arc;

use super::flow::{FlowSecrets, SECRETS_CONTEXT, SsoCallback};
use super::{SsoFailure, SsoOutcome};
use crate::domain::audit::{Actor, AuditEvent, AuditKind};
use crate::domain::session::{AuthMethod, Origin, Stage};
use crate::domain::sso::SsoPurpose;
use crate::domain::sso::provider::proves_mfa;
use crate::domain::token::SecretToken;
use crate::domain::user::Realm;
use crate::service::portal::Portal;
use crate::store::prelude::*;
use crate::store::tokens::{OneTimeToken, TokenPurpose};

use crate::service::{Result, ServiceError, Services};

impl Services {
    /// Handles `/sso/callback`.
    #[tracing::instrument(skip_all)]
    pub async fn finish_sso(self: &Arc<Self>, callback: SsoCallback) -> Result<SsoOutcome> {
        let result = self.sso_callback(callback).await;
        self.count_sso(&result);
        result
    }

    async fn sso_callback(self: &Arc<Self>, callback: SsoCallback) -> Result<SsoOutcome> {
        let Some(state) = callback
            .state
            .clone()
            .and_then(|s| SecretToken::from_received(&s))
        else {
            return self
                .sso_failed(
                    None,
                    SsoFailure::BadState,
                    "state missing or malformed",
                    &callback.origin,
                )
                .await;
        };
        // Consume the transaction before anything else: whatever happens next, this
        // state cannot be used again.
        let key = self.one_time_key(state.expose());
        let taken = self
            .blocking(move |s| {
                Ok(s.store.write(|w| {
                    // Only sign-in transactions are taken; another kind of token
                    // (an invitation, a consent link) is left alone.
                    let found = w
                        .one_time_token(&key)?
                        .filter(|t| matches!(t.purpose, TokenPurpose::SsoSignIn { .. }));
                    if found.is_some() {
                        w.delete_one_time_token(&key)?;
                    }
                    Ok::<_, crate::store::StoreError>(found)
                })?)
            })
            .await?;
        let Some(OneTimeToken {
            purpose: TokenPurpose::SsoSignIn { transaction },
            realm,
            created_at: started,
            expires_at,
        }) = taken
        else {
            return self
                .sso_failed(
                    None,
                    SsoFailure::BadState,
                    "state unknown or already used",
                    &callback.origin,
                )
                .await;
        };
        let bound = callback
            .binding
            .as_deref()
            .map(|b| hex::encode(self.keys.token_hash("sso-binding", b)))
            .is_some_and(|h| h == transaction.binding);
        if !bound {
            return self
                .sso_failed(
                    Some(realm),
                    SsoFailure::BadState,
                    "state came back in another browser",
                    &callback.origin,
                )
                .await;
        }
        if expires_at <= self.clock.now() {
            return self
                .sso_failed(
                    Some(realm),
                    SsoFailure::Expired,
                    "sign-in expired",
                    &callback.origin,
                )
                .await;
        }
        if let Some(error) = callback.error.as_deref() {
            let description: String = callback
                .error_description
                .clone()
                .unwrap_or_else(|| error.to_owned())
                .chars()
                .take(500)
                .collect();
            let detail = format!("the provider returned {error}: {description}");
            return self
                .sso_failed(
                    Some(realm),
                    SsoFailure::Provider { description },
                    &detail,
                    &callback.origin,
                )
                .await;
        }
        let Some(code) = callback
            .code
            .as_deref()
            .filter(|c| !c.is_empty() && c.len() < 4096)
        else {
            return self
                .sso_failed(
                    Some(realm),
                    SsoFailure::BadState,
                    "no code",
                    &callback.origin,
                )
                .await;
        };

        let secrets: FlowSecrets =
            serde_json::from_slice(&self.keys.open(&transaction.secrets, SECRETS_CONTEXT)?)
                .map_err(|e| ServiceError::Internal(e.to_string()))?;
        let now = self.clock.now();
        let checked = match &transaction.provider {
            Some(id) => {
                self.verify_oidc(realm, &transaction, id, code, &secrets, now)
                    .await?
            }
            None => {
                self.verify_entra(realm, &transaction, code, &secrets, now)
                    .await?
            }
        };
        let (app, mfa_rule, identity) = match checked {
            Ok(found) => found,
            Err((failure, detail)) => {
                return self
                    .sso_failed(Some(realm), failure, &detail, &callback.origin)
                    .await;
            }
        };
        let testing = matches!(transaction.purpose, SsoPurpose::TestSignIn { .. });
        // Whether the token proves MFA by the provider's rule (sent on as
        // `Remote-Auth: sso+mfa`), required or not.
        let mfa_proven = mfa_rule
            .as_ref()
            .is_some_and(|rule| proves_mfa(rule, &identity.proof));
        if let Some(rule) = mfa_rule.filter(|p| p.require_mfa && !testing)
            && !proves_mfa(&rule, &identity.proof)
        {
            let detail = format!(
                "provider {}: the ID token does not prove MFA (amr {:?}, acr {:?}, acrs {:?})",
                rule.id, identity.proof.amr, identity.proof.acr, identity.proof.acrs
            );
            return self
                .sso_failed(
                    Some(realm),
                    SsoFailure::MfaNotProven,
                    &detail,
                    &callback.origin,
                )
                .await;
        }

        let origin = callback.origin.clone();
        match transaction.purpose {
            SsoPurpose::Login { next } => {
                if !app.enabled {
                    return self
                        .sso_failed(
                            Some(realm),
                            SsoFailure::NotAvailable,
                            "SSO turned off during sign-in",
                            &origin,
                        )
                        .await;
                }
                let outcome = self
                    .blocking(move |s| {
                        s.write(|w| {
                            let user = match s.resolve_identity(w, realm, &identity, &app)? {
                                Ok(user) => user,
                                Err((failure, reason)) => return Ok(Err((failure, reason))),
                            };
                            let session = s.start_session(
                                w,
                                &user,
                                Stage::Active,
                                if mfa_proven {
                                    AuthMethod::SsoMfa
                                } else {
                                    AuthMethod::Sso
                                },
                                next.clone(),
                                &origin,
                            )?;
                            let event = AuditEvent::new(AuditKind::SsoLogin, s.clock.now())
                                .by(Actor::User(user.id), user.email.as_str())
                                .about(user.id, user.email.as_str())
                                .in_realm(realm)
                                .from_ip(&origin.ip)
                                .detail(format!(
                                    "tid {} oid {}",
                                    identity.tenant, identity.object_id
                                ));
                            s.audit(w, event)?;
                            Ok(Ok(SsoOutcome::SignedIn {
                                realm,
                                portal: Portal::of_realm(w, realm)?,
                                session: Box::new(session),
                                next,
                            }))
                        })
                    })
                    .await?;
                match outcome {
                    Ok(signed_in) => Ok(signed_in),
                    Err((failure, reason)) => {
                        self.sso_failed(Some(realm), failure, &reason, &callback.origin)
                            .await
                    }
                }
            }
            SsoPurpose::Link { user_id } => {
                let linked = self.link_identity(realm, user_id, identity, origin).await?;
                match linked {
                    Ok(()) => Ok(SsoOutcome::Linked {
                        realm,
                        portal: self.portal_of_realm(realm)?,
                    }),
                    Err((failure, reason)) => {
                        self.sso_failed(Some(realm), failure, &reason, &callback.origin)
                            .await
                    }
                }
            }
            SsoPurpose::StepUp {
                user_id,
                session,
                next,
            } => {
                let stepped_up = self
                    .finish_sso_step_up(user_id, session, identity, started, origin)
                    .await?;
                match stepped_up {
                    Ok(()) => Ok(SsoOutcome::SteppedUp { next }),
                    Err(reason) => {
                        self.sso_failed(
                            Some(realm),
                            SsoFailure::NotVerified,
                            &reason,
                            &callback.origin,
                        )
                        .await
                    }
                }
            }
            SsoPurpose::TestSignIn { admin_id } => {
                let event = AuditEvent::new(AuditKind::SsoTestSignIn, now)
                    .by(Actor::User(admin_id), "")
                    .in_realm(realm)
                    .from_ip(&origin.ip)
                    .detail(format!(
                        "tid {} oid {} (no session created)",
                        identity.tenant, identity.object_id
                    ));
                self.blocking(move |s| s.write(|w| s.audit(w, event)))
                    .await?;
                Ok(SsoOutcome::Tested { identity })
            }
        }
    }

    /// Audits a failed sign-in and returns it as an outcome.
    pub(crate) async fn sso_failed(
        self: &Arc<Self>,
        realm: Option<Realm>,
        failure: SsoFailure,
        detail: &str,
        origin: &Origin,
    ) -> Result<SsoOutcome> {
        let mut event = AuditEvent::new(AuditKind::SsoFailed, self.clock.now())
            .from_ip(&origin.ip)
            .detail(detail.chars().take(600).collect::<String>());
        if let Some(realm) = realm {
            event = event.in_realm(realm);
        }
        tracing::info!(reason = %event.detail, "single sign-on failed");
        self.blocking(move |s| s.write(|w| s.audit(w, event)))
            .await?;
        // The way back to the realm's sign-in page; without it, the staff one.
        let portal = match realm {
            Some(realm) => self.portal_of_realm(realm).ok().flatten(),
            None => None,
        };
        Ok(SsoOutcome::Failed {
            realm,
            portal,
            failure,
        })
    }
}
