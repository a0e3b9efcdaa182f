//! ID token verification: the RS256 signature by a published key, issuer, audience,
//! expiry and nonce through openidconnect, then Entra's own rules in
//! `domain::entra`; and the [`Provider`] (a tenant's endpoints and keys) a token is
//! checked against. No network here: `client` fetches the provider, and re-fetches
//! keys on `UnknownKey`.

use std::sync::Mutex;

use openidconnect::core::{
    CoreGenderClaim, CoreJsonWebKeySet, CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm,
};
use openidconnect::{
    AdditionalClaims, ClaimsVerificationError, ClientId, IdToken, IdTokenVerifier, IssuerUrl,
    Nonce, SignatureVerificationError,
};
use serde::{Deserialize, Serialize};

use crate::domain::entra::{LEEWAY_SECS, TokenClaims};
use crate::domain::time::Timestamp;

/// A tenant's endpoints and keys.
#[derive(Debug)]
pub struct Provider {
    /// The tenant id (GUID) the issuer names.
    pub tenant_id: String,
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub(super) jwks_uri: String,
    pub(crate) jwks: Mutex<CoreJsonWebKeySet>,
    /// When keys were last re-fetched for an unknown key id (never: `None`).
    pub(super) last_refetch: Mutex<Option<Timestamp>>,
    pub(super) fetched_at: Timestamp,
}

impl Provider {
    /// How many signing keys are published (for the connection test).
    pub fn key_count(&self) -> usize {
        self.jwks.lock().map(|k| k.keys().len()).unwrap_or(0)
    }
}

/// Entra-specific claims on top of the standard ones.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct EntraExtra {
    #[serde(default)]
    tid: Option<String>,
    #[serde(default)]
    oid: Option<String>,
    #[serde(default)]
    nbf: Option<i64>,
    #[serde(default)]
    idp: Option<String>,
    #[serde(default)]
    acrs: Vec<String>,
}

impl AdditionalClaims for EntraExtra {}

pub(crate) type EntraIdToken = IdToken<
    EntraExtra,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm,
>;

pub(crate) enum VerifyError {
    UnknownKey,
    Other(String),
}

impl VerifyError {
    pub(crate) fn reason(self) -> String {
        match self {
            VerifyError::UnknownKey => "unknown signing key".to_owned(),
            VerifyError::Other(why) => why,
        }
    }
}

pub(crate) fn check_token(
    token: &EntraIdToken,
    keys: CoreJsonWebKeySet,
    provider: &Provider,
    client_id: &str,
    nonce: &str,
    now: Timestamp,
) -> Result<TokenClaims, VerifyError> {
    let Ok(issuer) = IssuerUrl::new(provider.issuer.clone()) else {
        return Err(VerifyError::Other("bad issuer URL".to_owned()));
    };
    // `exp` with the same leeway as `nbf`; `iat` is judged in `domain::entra`.
    let verifier_now = chrono::DateTime::from_timestamp(now.0 - LEEWAY_SECS, 0).unwrap_or_default();
    let verifier: IdTokenVerifier<'_, _> =
        IdTokenVerifier::new_public_client(ClientId::new(client_id.to_owned()), issuer, keys)
            .set_allowed_algs([CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256])
            .set_time_fn(move || verifier_now)
            .set_issue_time_verifier_fn(|_| Ok(()))
            // Extra audiences are judged in `domain::entra::check_claims`: allowed only
            // when `azp` names our client.
            .set_other_audience_verifier_fn(|_| true);
    let expected_nonce = Nonce::new(nonce.to_owned());
    let claims = token
        .claims(&verifier, &expected_nonce)
        .map_err(|e| match e {
            ClaimsVerificationError::SignatureVerification(
                SignatureVerificationError::NoMatchingKey,
            ) => VerifyError::UnknownKey,
            ClaimsVerificationError::SignatureVerification(s) => {
                VerifyError::Other(format!("signature: {s}"))
            }
            ClaimsVerificationError::InvalidIssuer(_) => {
                VerifyError::Other("wrong issuer".to_owned())
            }
            ClaimsVerificationError::InvalidAudience(_) => {
                VerifyError::Other("wrong audience".to_owned())
            }
            ClaimsVerificationError::Expired(_) => VerifyError::Other("expired".to_owned()),
            ClaimsVerificationError::InvalidNonce(_) => {
                VerifyError::Other("wrong or missing nonce".to_owned())
            }
            other => VerifyError::Other(other.to_string()),
        })?;
    let extra = claims.additional_claims();
    Ok(TokenClaims {
        audiences: claims.audiences().iter().map(|a| a.to_string()).collect(),
        azp: claims.authorized_party().map(|a| a.to_string()),
        nbf: extra.nbf,
        iat: claims.issue_time().timestamp(),
        tid: extra.tid.clone(),
        oid: extra.oid.clone(),
        email: claims.email().map(|e| e.to_string()),
        preferred_username: claims.preferred_username().map(|u| u.to_string()),
        name: claims
            .name()
            .and_then(|n| n.get(None))
            .map(|n| n.to_string()),
        idp: extra.idp.clone(),
        auth_time: claims.auth_time().map(|t| t.timestamp()),
        acrs: extra.acrs.clone(),
    })
}
