//! The provider-specific halves of a sign-in: starting one at an `oidc` provider, and
//! on the callback redeeming the code and verifying the ID token — at the realm's
//! Entra settings or at the transaction's `oidc` provider. Both answer the identity,
//! the configuration it is resolved with, and the provider whose `require_mfa` rule
//! applies; the common flow (`flow`) does the rest.

use std::sync::Arc;

use super::client::EntraError;
use super::flow::{FlowSecrets, SsoStart};
use super::oidc::OidcError;
use super::{AppConfig, SsoFailure};
use crate::domain::entra::SsoIdentity;
use crate::domain::sso::provider::{IdentityProvider, ProviderKind};
use crate::domain::sso::{SsoPurpose, SsoTransaction};
use crate::domain::time::Timestamp;
use crate::domain::user::Realm;
use crate::service::{Result, ServiceError, Services};

/// A verified sign-in: the configuration, the provider whose MFA rule applies, the
/// identity. Or why not, with the audit detail.
pub(super) type Checked =
    std::result::Result<(AppConfig, Option<IdentityProvider>, SsoIdentity), (SsoFailure, String)>;

impl Services {
    /// Begins a sign-in at `provider`, an `oidc` provider of `realm`.
    pub(super) async fn start_oidc(
        self: &Arc<Self>,
        realm: Realm,
        provider: &IdentityProvider,
        purpose: SsoPurpose,
        login_hint: Option<&str>,
    ) -> Result<SsoStart> {
        let app = self
            .oidc_app(realm, provider)?
            .ok_or(ServiceError::Sso(SsoFailure::NotAvailable))?;
        let testing = matches!(purpose, SsoPurpose::TestSignIn { .. });
        let step_up = matches!(purpose, SsoPurpose::StepUp { .. });
        if !app.enabled && !testing {
            return Err(ServiceError::Sso(SsoFailure::NotAvailable));
        }
        let found = self
            .oidc
            .provider(&provider.issuer, self.clock.now())
            .await
            .map_err(|e| {
                tracing::warn!(provider = %provider.id, reason = %e.reason(), "sign-in could not start");
                ServiceError::Sso(SsoFailure::Unreachable)
            })?;
        let begun = self
            .begin_transaction(
                realm,
                purpose,
                app.app,
                &found.issuer,
                Some(provider.id.clone()),
            )
            .await?;
        let url = self.authorize_url(
            &found.authorization_endpoint,
            &app.client_id,
            &provider.scope_list(),
            &begun,
            (testing, step_up),
            login_hint,
        )?;
        Ok(SsoStart {
            authorize_url: url.to_string(),
            binding: begun.binding,
        })
    }

    /// Redeems the code at the realm's Entra settings and verifies the token.
    pub(super) async fn verify_entra(
        self: &Arc<Self>,
        realm: Realm,
        transaction: &SsoTransaction,
        code: &str,
        secrets: &FlowSecrets,
        now: Timestamp,
    ) -> Result<Checked> {
        let Some(app) = self.sso_app(realm)?.filter(|a| a.app == transaction.app) else {
            return Ok(Err((
                SsoFailure::NotAvailable,
                "SSO settings changed during sign-in".to_owned(),
            )));
        };
        let verified = async {
            let provider = self.entra.provider(&transaction.tenant_id, now).await?;
            let id_token = self
                .entra
                .redeem_code(
                    &provider,
                    &app.client_id,
                    &app.client_secret,
                    code,
                    &secrets.verifier,
                    &self.sso_redirect_uri(),
                )
                .await?;
            self.entra
                .verify_id_token(&provider, &id_token, &app.client_id, &secrets.nonce, now)
                .await
        }
        .await;
        match verified {
            Ok(identity) => {
                let rule = self.identity_providers(realm)?.entra().cloned();
                Ok(Ok((app, rule, identity)))
            }
            Err(e) => {
                let failure = match &e {
                    EntraError::Token(_) | EntraError::Refused { .. } => SsoFailure::NotVerified,
                    _ => SsoFailure::Unreachable,
                };
                Ok(Err((failure, format!("{}: {e}", e.reason()))))
            }
        }
    }

    /// Redeems the code at the transaction's `oidc` provider and verifies the token;
    /// the address counts as verified only as the provider's rule says.
    pub(super) async fn verify_oidc(
        self: &Arc<Self>,
        realm: Realm,
        transaction: &SsoTransaction,
        id: &str,
        code: &str,
        secrets: &FlowSecrets,
        now: Timestamp,
    ) -> Result<Checked> {
        let provider = self
            .provider_for(realm, Some(id))?
            .filter(|p| p.kind == ProviderKind::Oidc && p.issuer == transaction.tenant_id);
        let app = match &provider {
            Some(p) => self.oidc_app(realm, p)?,
            None => None,
        };
        let (Some(provider), Some(app)) = (provider, app) else {
            return Ok(Err((
                SsoFailure::NotAvailable,
                format!("provider {id} changed or was removed during sign-in"),
            )));
        };
        let verified = async {
            let found = self.oidc.provider(&provider.issuer, now).await?;
            let id_token = self
                .oidc
                .redeem_code(
                    &found,
                    &app.client_id,
                    &app.client_secret,
                    code,
                    &secrets.verifier,
                    &self.sso_redirect_uri(),
                )
                .await?;
            self.oidc
                .verify_id_token(&found, &id_token, &app.client_id, &secrets.nonce, now)
                .await
        }
        .await;
        match verified {
            Ok(mut identity) => {
                if !provider.require_verified_email {
                    identity.email_verified = true;
                }
                Ok(Ok((app, Some(provider), identity)))
            }
            Err(e) => {
                let failure = match &e {
                    OidcError::Token(_) | OidcError::Refused { .. } => SsoFailure::NotVerified,
                    _ => SsoFailure::Unreachable,
                };
                Ok(Err((
                    failure,
                    format!("provider {id}: {}: {e}", e.reason()),
                )))
            }
        }
    }
}
