//! Checking an `oidc` ID token once its keys are at hand: signature with an accepted
//! algorithm, issuer, audience and `azp`, expiry, `nbf`, `iat` age, nonce and `sub`;
//! the result is the identity keyed by (iss, sub). No network here: `oidc` fetches
//! the keys, and re-fetches them on `Check::UnknownKey`.

use openidconnect::core::CoreJsonWebKeySet;
use openidconnect::{
    ClaimsVerificationError, ClientId, IdTokenVerifier, IssuerUrl, Nonce,
    SignatureVerificationError,
};

use crate::domain::entra::{LEEWAY_SECS, MAX_TOKEN_AGE_SECS, SsoIdentity};
use crate::domain::sso::provider::AuthProof;
use crate::domain::time::Timestamp;
use openidconnect::core::{
    CoreGenderClaim, CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm,
};
use openidconnect::{AdditionalClaims, IdToken};
use serde::{Deserialize, Serialize};

pub(super) enum Check {
    UnknownKey,
    Other(String),
}

impl Check {
    pub(super) fn reason(self) -> String {
        match self {
            Check::UnknownKey => "unknown signing key".to_owned(),
            Check::Other(why) => why,
        }
    }
}

/// Claims beyond the standard ones.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(super) struct OidcExtra {
    #[serde(default)]
    pub(super) nbf: Option<i64>,
}

impl AdditionalClaims for OidcExtra {}

pub(super) type OidcIdToken =
    IdToken<OidcExtra, CoreGenderClaim, CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm>;

/// Checks `token` against the provider's `issuer` and accepted `algorithms`.
pub(super) fn check(
    token: &OidcIdToken,
    keys: CoreJsonWebKeySet,
    (issuer_url, algorithms): (&str, &[CoreJwsSigningAlgorithm]),
    client_id: &str,
    nonce: &str,
    now: Timestamp,
) -> Result<SsoIdentity, Check> {
    let issuer = IssuerUrl::new(issuer_url.to_owned())
        .map_err(|_| Check::Other("bad issuer URL".to_owned()))?;
    let verifier_now = chrono::DateTime::from_timestamp(now.0 - LEEWAY_SECS, 0).unwrap_or_default();
    let verifier: IdTokenVerifier<'_, _> =
        IdTokenVerifier::new_public_client(ClientId::new(client_id.to_owned()), issuer, keys)
            .set_allowed_algs(algorithms.to_vec())
            .set_time_fn(move || verifier_now)
            .set_issue_time_verifier_fn(|_| Ok(()))
            .set_other_audience_verifier_fn(|_| true);
    let claims = token
        .claims(&verifier, &Nonce::new(nonce.to_owned()))
        .map_err(|e| match e {
            ClaimsVerificationError::SignatureVerification(
                SignatureVerificationError::NoMatchingKey,
            ) => Check::UnknownKey,
            ClaimsVerificationError::SignatureVerification(
                SignatureVerificationError::AmbiguousKeyId(_),
            ) => Check::Other("no kid and several published keys fit".to_owned()),
            ClaimsVerificationError::SignatureVerification(s) => {
                Check::Other(format!("signature: {s}"))
            }
            ClaimsVerificationError::InvalidIssuer(_) => Check::Other("wrong issuer".to_owned()),
            ClaimsVerificationError::InvalidAudience(_) => {
                Check::Other("wrong audience".to_owned())
            }
            ClaimsVerificationError::Expired(_) => Check::Other("expired".to_owned()),
            ClaimsVerificationError::InvalidNonce(_) => {
                Check::Other("wrong or missing nonce".to_owned())
            }
            other => Check::Other(other.to_string()),
        })?;
    let audiences = claims.audiences();
    let azp = claims.authorized_party().map(|a| a.to_string());
    if azp.as_deref().is_some_and(|a| a != client_id) {
        return Err(Check::Other("azp is not our client id".to_owned()));
    }
    if audiences.len() > 1 && azp.is_none() {
        return Err(Check::Other("extra audience without azp".to_owned()));
    }
    let extra = claims.additional_claims();
    if extra.nbf.is_some_and(|nbf| nbf > now.0 + LEEWAY_SECS) {
        return Err(Check::Other("nbf in the future".to_owned()));
    }
    let iat = claims.issue_time().timestamp();
    if iat > now.0 + LEEWAY_SECS {
        return Err(Check::Other("iat in the future".to_owned()));
    }
    if iat < now.0 - MAX_TOKEN_AGE_SECS - LEEWAY_SECS {
        return Err(Check::Other("iat too old".to_owned()));
    }
    let sub = claims.subject().to_string();
    if sub.is_empty() {
        return Err(Check::Other("empty sub".to_owned()));
    }
    Ok(SsoIdentity {
        tenant: issuer_url.to_owned(),
        object_id: sub,
        email: claims.email().map(|e| e.to_string()),
        preferred_username: claims.preferred_username().map(|u| u.to_string()),
        name: claims
            .name()
            .and_then(|n| n.get(None))
            .map(|n| n.to_string()),
        guest: false,
        auth_time: claims.auth_time().map(|t| t.timestamp()),
        email_verified: claims.email_verified() == Some(true),
        proof: AuthProof {
            amr: claims
                .auth_method_refs()
                .map(|m| m.iter().map(|r| r.to_string()).collect())
                .unwrap_or_default(),
            acr: claims.auth_context_ref().map(|a| a.to_string()),
            acrs: Vec::new(),
        },
    })
}
