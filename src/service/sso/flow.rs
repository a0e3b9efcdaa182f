//! The sign-in flow's start: a server-side transaction under a random `state`, PKCE
//! S256, a nonce and the exact redirect URI. Its end, when the browser comes back, is
//! in `callback`.

use std::sync::Arc;

use openidconnect::PkceCodeChallenge;
use serde::{Deserialize, Serialize};
use url::Url;

use super::SsoFailure;
use crate::domain::session::Origin;
use crate::domain::sso::provider::{ProviderKind, entra_claims_parameter};
use crate::domain::sso::{SsoPurpose, SsoTransaction, TRANSACTION_LIFETIME_SECS};
use crate::domain::token::SecretToken;
use crate::domain::user::Realm;
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
        let begun = self
            .begin_transaction(realm, purpose, app.app, &provider.tenant_id, None)
            .await?;
        let mut url = self.authorize_url(
            &provider.authorization_endpoint,
            &app.client_id,
            "openid profile email",
            &begun,
            (testing, step_up),
            login_hint,
        )?;
        url.query_pairs_mut().append_pair("response_mode", "query");
        if let Some((_, domain)) = login_hint.and_then(|hint| hint.rsplit_once('@')) {
            url.query_pairs_mut().append_pair("domain_hint", domain);
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
            binding: begun.binding,
        })
    }

    /// The authorization request every kind of provider gets: the code flow with PKCE
    /// S256, `state`, `nonce` and the exact redirect URI. A test sign-in asks for the
    /// account picker; a step-up for a fresh authentication, not an answer from the
    /// provider's own session (`prompt=login`, `max_age=0`; the callback checks
    /// `auth_time` as well); `login_hint` when email-first knows the address.
    pub(super) fn authorize_url(
        &self,
        endpoint: &str,
        client_id: &str,
        scope: &str,
        begun: &Begun,
        (testing, step_up): (bool, bool),
        login_hint: Option<&str>,
    ) -> Result<Url> {
        let mut url = Url::parse(endpoint).map_err(|e| ServiceError::Internal(e.to_string()))?;
        url.query_pairs_mut()
            .append_pair("client_id", client_id)
            .append_pair("response_type", "code")
            .append_pair("redirect_uri", &self.sso_redirect_uri())
            .append_pair("scope", scope)
            .append_pair("state", begun.state.expose())
            .append_pair("nonce", begun.nonce.expose())
            .append_pair("code_challenge", begun.challenge.as_str())
            .append_pair("code_challenge_method", "S256");
        if testing {
            url.query_pairs_mut()
                .append_pair("prompt", "select_account");
        }
        if step_up {
            url.query_pairs_mut()
                .append_pair("prompt", "login")
                .append_pair("max_age", "0");
        }
        if let Some(hint) = login_hint {
            url.query_pairs_mut().append_pair("login_hint", hint);
        }
        Ok(url)
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
}
