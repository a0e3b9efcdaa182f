//! The sign-in flow: start (a server-side transaction under a random `state`, PKCE
//! S256, a nonce, the exact redirect URI) and finish (the transaction is consumed
//! first — one use only — then the code is redeemed and the ID token verified, and
//! the purpose decides what happens).

use std::sync::Arc;

use openidconnect::PkceCodeChallenge;
use serde::{Deserialize, Serialize};
use url::Url;

use super::{SsoFailure, SsoOutcome};
use crate::domain::audit::{Actor, AuditEvent, AuditKind};
use crate::domain::session::{AuthMethod, Origin, Stage};
use crate::domain::sso::provider::{ProviderKind, entra_claims_parameter, proves_mfa};
use crate::domain::sso::{SsoPurpose, SsoTransaction, TRANSACTION_LIFETIME_SECS};
use crate::domain::token::SecretToken;
use crate::domain::user::Realm;
use crate::service::portal::Portal;
use crate::store::prelude::*;
use crate::store::tokens::{OneTimeToken, TokenPurpose};

use crate::service::{Result, ServiceError, Services};

/// Where to send the browser, and the value for its binding cookie.
#[derive(Debug)]
pub struct SsoStart {
    pub authorize_url: String,
    /// Goes into the `gh_sso` cookie; the callback must come with it.
    pub binding: SecretToken,
}

/// What came back on `/sso/callback`.
#[derive(Debug, Default)]
pub struct SsoCallback {
    pub state: Option<String>,
    pub code: Option<String>,
    pub error: Option<String>,
    pub error_description: Option<String>,
    /// The binding cookie's value, if the browser sent one.
    pub binding: Option<String>,
    pub origin: Origin,
}

#[derive(Serialize, Deserialize)]
pub(super) struct FlowSecrets {
    pub(super) nonce: String,
    pub(super) verifier: String,
}

/// A stored transaction's browser-side values.
pub(super) struct Begun {
    pub state: SecretToken,
    pub nonce: SecretToken,
    pub challenge: PkceCodeChallenge,
    pub binding: SecretToken,
}

pub(super) const SECRETS_CONTEXT: &str = "sso-transaction";

impl Services {
    /// Begins a Microsoft sign-in for `purpose` in `realm`.
    pub async fn start_sso(
        self: &Arc<Self>,
        realm: Realm,
        purpose: SsoPurpose,
    ) -> Result<SsoStart> {
        self.start_sso_via(realm, None, purpose, None).await
    }

    /// Begins a sign-in through `provider` of `realm` (`None`: for signing in, the
    /// realm's first enabled provider; otherwise its Microsoft settings), with an
    /// optional `login_hint` (email-first).
    pub async fn start_sso_via(
        self: &Arc<Self>,
        realm: Realm,
        provider: Option<&str>,
        purpose: SsoPurpose,
        login_hint: Option<&str>,
    ) -> Result<SsoStart> {
        let chosen = match provider {
            Some(id) => Some(
                self.provider_for(realm, Some(id))?
                    .ok_or(ServiceError::Sso(SsoFailure::NotAvailable))?,
            ),
            None if matches!(purpose, SsoPurpose::Login { .. }) => {
                self.provider_for(realm, None)?
            }
            None => None,
        };
        if let Some(p) = chosen.as_ref().filter(|p| p.kind == ProviderKind::Oidc) {
            return self.start_oidc(realm, p, purpose, login_hint).await;
        }
        let entra_entry = match chosen {
            Some(p) => Some(p),
            None => self.identity_providers(realm)?.entra().cloned(),
        };
        let app = self
            .sso_app(realm)?
            .ok_or(ServiceError::Sso(SsoFailure::NotAvailable))?;
        let testing = matches!(purpose, SsoPurpose::TestSignIn { .. });
        let step_up = matches!(purpose, SsoPurpose::StepUp { .. });
        if !app.enabled && !testing {
            return Err(ServiceError::Sso(SsoFailure::NotAvailable));
        }
        let provider = self
            .entra
            .provider(&app.tenant, self.clock.now())
            .await
            .map_err(|e| {
                tracing::warn!(reason = %e.reason(), "Microsoft sign-in could not start");
                ServiceError::Sso(SsoFailure::Unreachable)
            })?;
        let Begun {
            state,
            nonce,
            challenge,
            binding,
        } = self
            .begin_transaction(realm, purpose, app.app, &provider.tenant_id, None)
            .await?;
        let mut url = Url::parse(&provider.authorization_endpoint)
            .map_err(|e| ServiceError::Internal(e.to_string()))?;
        url.query_pairs_mut()
            .append_pair("client_id", &app.client_id)
            .append_pair("response_type", "code")
            .append_pair("redirect_uri", &self.sso_redirect_uri())
            .append_pair("response_mode", "query")
            .append_pair("scope", "openid profile email")
            .append_pair("state", state.expose())
            .append_pair("nonce", nonce.expose())
            .append_pair("code_challenge", challenge.as_str())
            .append_pair("code_challenge_method", "S256");
        if testing {
            url.query_pairs_mut()
                .append_pair("prompt", "select_account");
        }
        if step_up {
            // A fresh authentication, not an answer from Microsoft's own session: the
            // callback checks `auth_time` as well.
            url.query_pairs_mut()
                .append_pair("prompt", "login")
                .append_pair("max_age", "0");
        }
        if let Some(hint) = login_hint {
            url.query_pairs_mut().append_pair("login_hint", hint);
            if let Some((_, domain)) = hint.rsplit_once('@') {
                url.query_pairs_mut().append_pair("domain_hint", domain);
            }
        }
        if let Some(context) = entra_entry
            .as_ref()
            .filter(|p| p.require_mfa)
            .and_then(|p| p.auth_context.as_deref())
        {
            // Conditional Access authentication context, essential: the token names
            // it in `acrs` only when its policy (MFA) was satisfied.
            url.query_pairs_mut()
                .append_pair("claims", &entra_claims_parameter(context));
        }
        Ok(SsoStart {
            authorize_url: url.to_string(),
            binding,
        })
    }

    /// Stores the server-side half of a sign-in under a fresh `state`: what it is
    /// for, the browser binding, the nonce and PKCE verifier (sealed), the tenant or
    /// issuer the token must come from, and the `oidc` provider if any.
    pub(super) async fn begin_transaction(
        self: &Arc<Self>,
        realm: Realm,
        purpose: SsoPurpose,
        app: crate::domain::sso::SsoApp,
        tenant_id: &str,
        provider: Option<String>,
    ) -> Result<Begun> {
        let state = SecretToken::generate()?;
        let nonce = SecretToken::generate()?;
        let binding = SecretToken::generate()?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let secrets = serde_json::to_vec(&FlowSecrets {
            nonce: nonce.expose().to_owned(),
            verifier: verifier.secret().clone(),
        })
        .map_err(|e| ServiceError::Internal(e.to_string()))?;
        let now = self.clock.now();
        let record = OneTimeToken {
            purpose: TokenPurpose::SsoSignIn {
                transaction: SsoTransaction {
                    purpose,
                    app,
                    binding: hex::encode(self.keys.token_hash("sso-binding", binding.expose())),
                    secrets: self.keys.seal(&secrets, SECRETS_CONTEXT)?,
                    tenant_id: tenant_id.to_owned(),
                    provider,
                },
            },
            realm,
            created_at: now,
            expires_at: now.plus_secs(TRANSACTION_LIFETIME_SECS),
        };
        let key = self.one_time_key(state.expose());
        self.blocking(move |s| Ok(s.store.write(|w| w.put_one_time_token(&key, &record))?))
            .await?;
        Ok(Begun {
            state,
            nonce,
            challenge,
            binding,
        })
    }

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
            let detail = format!("Microsoft returned {error}: {description}");
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
        tracing::info!(reason = %event.detail, "Microsoft sign-in failed");
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
