//! The outbound side of a generic OpenID Connect provider: discovery (the issuer must
//! be exactly the configured one), signing keys, the token request and ID token
//! verification. Same rules as for Entra: no redirect is ever followed, timeouts,
//! at most 1 MiB read; only RS256, PS256 and ES256 — those of them the provider's
//! metadata lists — are accepted (never `none`, never HMAC with the client secret);
//! an unknown key id triggers at most one key re-fetch per minute. A token without
//! `kid` is accepted only when exactly one published key fits its algorithm: with
//! several, it is refused rather than tried against each key.

use super::outbound::{self, ReadFailure};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use openidconnect::core::{CoreJsonWebKeySet, CoreJwsSigningAlgorithm};
use serde::Deserialize;

use super::oidc_token::{Check, OidcIdToken, check};
use crate::domain::entra::SsoIdentity;
use crate::domain::time::Timestamp;

const DISCOVERY_TTL_SECS: i64 = 24 * 3600;
const JWKS_REFETCH_SECS: i64 = 60;
/// Why talking to the provider failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum OidcError {
    #[error("could not reach the provider: {0}")]
    Unreachable(String),
    #[error("the provider answered with a redirect, which is never followed")]
    Redirected,
    #[error("unexpected answer from the provider: {0}")]
    BadResponse(String),
    #[error("the discovery document names issuer {found}, expected exactly {expected}")]
    IssuerMismatch { expected: String, found: String },
    #[error("the provider refused: {error} (HTTP {status})")]
    Refused { status: u16, error: String },
    #[error("no usable signing key (RSA or P-256) published")]
    NoSigningKey,
    #[error("the provider signs ID tokens with none of RS256, PS256 or ES256 (it lists: {0})")]
    NoAcceptableAlgorithm(String),
    #[error("the provider supports neither client_secret_basic nor client_secret_post")]
    NoClientAuth,
    #[error("ID token refused: {0}")]
    Token(String),
}

impl OidcError {
    /// A short, stable reason for audit events and logs.
    pub fn reason(&self) -> String {
        let reason = match self {
            OidcError::Unreachable(_) => "unreachable".to_owned(),
            OidcError::Redirected => "redirected".to_owned(),
            OidcError::BadResponse(_) => "bad response".to_owned(),
            OidcError::IssuerMismatch { .. } => "issuer mismatch".to_owned(),
            OidcError::Refused { error, .. } => error.clone(),
            OidcError::NoSigningKey => "no signing key".to_owned(),
            OidcError::NoAcceptableAlgorithm(_) => "no acceptable algorithm".to_owned(),
            OidcError::NoClientAuth => "no client authentication method".to_owned(),
            OidcError::Token(why) => why.clone(),
        };
        crate::domain::text::neutralised(&reason)
    }
}

#[derive(Deserialize)]
struct Discovery {
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
    jwks_uri: String,
    #[serde(default)]
    id_token_signing_alg_values_supported: Vec<String>,
    #[serde(default)]
    token_endpoint_auth_methods_supported: Option<Vec<String>>,
}

/// How the client authenticates at the token endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientAuth {
    Basic,
    Post,
}

/// A provider's endpoints, accepted algorithms and keys.
#[derive(Debug)]
pub struct OidcProvider {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    jwks_uri: String,
    pub algorithms: Vec<CoreJwsSigningAlgorithm>,
    pub client_auth: ClientAuth,
    jwks: Mutex<CoreJsonWebKeySet>,
    last_refetch: Mutex<Option<Timestamp>>,
    fetched_at: Timestamp,
}

impl OidcProvider {
    pub fn key_count(&self) -> usize {
        self.jwks.lock().map(|k| k.keys().len()).unwrap_or(0)
    }
}

/// The HTTP side of every `oidc` provider, with discovery cached per issuer.
pub struct OidcClient {
    http: reqwest::Client,
    allow_insecure_loopback: bool,
    providers: Mutex<HashMap<String, Arc<OidcProvider>>>,
}

impl OidcClient {
    pub fn new(allow_insecure_loopback: bool) -> Result<OidcClient, reqwest::Error> {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10))
            .connect_timeout(Duration::from_secs(5))
            .https_only(!allow_insecure_loopback)
            .user_agent(concat!("gatehouse/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(OidcClient {
            http,
            allow_insecure_loopback,
            providers: Mutex::new(HashMap::new()),
        })
    }

    /// Endpoints must be https (plain http only to loopback in tests).
    fn check_endpoint(&self, url: &str) -> Result<(), OidcError> {
        crate::domain::sso::provider::check_issuer(url, self.allow_insecure_loopback)
            .map(|_| ())
            .or_else(|_| {
                // Endpoints may carry a query; only the scheme and host rules matter.
                let parsed = url::Url::parse(url)
                    .map_err(|_| OidcError::BadResponse(format!("endpoint {url} is not a URL")))?;
                let loopback = matches!(parsed.host_str(), Some("127.0.0.1" | "localhost"));
                match parsed.scheme() {
                    "https" => Ok(()),
                    "http" if self.allow_insecure_loopback && loopback => Ok(()),
                    _ => Err(OidcError::BadResponse(format!(
                        "endpoint {url} is not https"
                    ))),
                }
            })
    }

    async fn read(&self, response: reqwest::Response) -> Result<(u16, Vec<u8>), OidcError> {
        outbound::read_bounded(response)
            .await
            .map_err(|failure| match failure {
                ReadFailure::Redirected => OidcError::Redirected,
                ReadFailure::CutOff(why) => OidcError::Unreachable(why),
                ReadFailure::TooLarge => OidcError::BadResponse("answer too large".to_owned()),
            })
    }

    async fn get_json<T: serde::de::DeserializeOwned>(&self, url: &str) -> Result<T, OidcError> {
        self.check_endpoint(url)?;
        let response = self
            .http
            .get(url)
            .send()
            .await
            .map_err(|e| OidcError::Unreachable(outbound::describe(&e)))?;
        let (status, body) = self.read(response).await?;
        if status != 200 {
            return Err(refusal(status, &body));
        }
        serde_json::from_slice(&body).map_err(|e| OidcError::BadResponse(e.to_string()))
    }

    /// Reads discovery and keys for `issuer`, without the cache.
    pub async fn discover(&self, issuer: &str, now: Timestamp) -> Result<OidcProvider, OidcError> {
        let url = format!(
            "{}/.well-known/openid-configuration",
            issuer.trim_end_matches('/')
        );
        let doc: Discovery = self.get_json(&url).await?;
        if doc.issuer != issuer {
            return Err(OidcError::IssuerMismatch {
                expected: issuer.to_owned(),
                found: doc.issuer,
            });
        }
        for endpoint in [
            &doc.authorization_endpoint,
            &doc.token_endpoint,
            &doc.jwks_uri,
        ] {
            self.check_endpoint(endpoint)?;
        }
        let algorithms: Vec<CoreJwsSigningAlgorithm> = doc
            .id_token_signing_alg_values_supported
            .iter()
            .filter_map(|a| match a.as_str() {
                "RS256" => Some(CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256),
                "PS256" => Some(CoreJwsSigningAlgorithm::RsaSsaPssSha256),
                "ES256" => Some(CoreJwsSigningAlgorithm::EcdsaP256Sha256),
                _ => None,
            })
            .collect();
        if algorithms.is_empty() {
            return Err(OidcError::NoAcceptableAlgorithm(
                doc.id_token_signing_alg_values_supported.join(", "),
            ));
        }
        // RFC 8414: absent means client_secret_basic.
        let client_auth = match &doc.token_endpoint_auth_methods_supported {
            None => ClientAuth::Basic,
            Some(m) if m.iter().any(|m| m == "client_secret_basic") => ClientAuth::Basic,
            Some(m) if m.iter().any(|m| m == "client_secret_post") => ClientAuth::Post,
            Some(_) => return Err(OidcError::NoClientAuth),
        };
        let jwks = self.fetch_keys(&doc.jwks_uri).await?;
        Ok(OidcProvider {
            issuer: doc.issuer,
            authorization_endpoint: doc.authorization_endpoint,
            token_endpoint: doc.token_endpoint,
            jwks_uri: doc.jwks_uri,
            algorithms,
            client_auth,
            jwks: Mutex::new(jwks),
            last_refetch: Mutex::new(None),
            fetched_at: now,
        })
    }

    async fn fetch_keys(&self, uri: &str) -> Result<CoreJsonWebKeySet, OidcError> {
        let value: serde_json::Value = self.get_json(uri).await?;
        let keys: Vec<serde_json::Value> = value
            .get("keys")
            .and_then(|k| k.as_array())
            .map(|keys| {
                keys.iter()
                    .filter(|k| {
                        let kty = k.get("kty").and_then(|t| t.as_str());
                        let crv = k.get("crv").and_then(|t| t.as_str());
                        kty == Some("RSA") || (kty == Some("EC") && crv == Some("P-256"))
                    })
                    .filter(|k| {
                        k.get("use")
                            .and_then(|u| u.as_str())
                            .is_none_or(|u| u == "sig")
                    })
                    .cloned()
                    .collect()
            })
            .unwrap_or_default();
        if keys.is_empty() {
            return Err(OidcError::NoSigningKey);
        }
        serde_json::from_value(serde_json::json!({ "keys": keys }))
            .map_err(|e| OidcError::BadResponse(e.to_string()))
    }

    /// The provider of `issuer`, from the cache when fresh.
    pub async fn provider(
        &self,
        issuer: &str,
        now: Timestamp,
    ) -> Result<Arc<OidcProvider>, OidcError> {
        let cached = self
            .providers
            .lock()
            .ok()
            .and_then(|m| m.get(issuer).cloned());
        if let Some(p) = cached
            && now.secs_since(p.fetched_at) < DISCOVERY_TTL_SECS
        {
            return Ok(p);
        }
        let fresh = Arc::new(self.discover(issuer, now).await?);
        if let Ok(mut map) = self.providers.lock() {
            map.insert(issuer.to_owned(), Arc::clone(&fresh));
        }
        Ok(fresh)
    }

    /// Forgets cached discovery of `issuer` (after its settings change).
    pub fn forget(&self, issuer: &str) {
        if let Ok(mut map) = self.providers.lock() {
            map.remove(issuer);
        }
    }

    async fn post_token(
        &self,
        provider: &OidcProvider,
        client_id: &str,
        client_secret: &str,
        form: &[(&str, &str)],
    ) -> Result<serde_json::Value, OidcError> {
        self.check_endpoint(&provider.token_endpoint)?;
        let mut fields: Vec<(&str, &str)> = form.to_vec();
        let mut request = self.http.post(&provider.token_endpoint);
        match provider.client_auth {
            ClientAuth::Basic => {
                // RFC 6749 §2.3.1: each half form-urlencoded, then Base64.
                let enc = |s: &str| {
                    url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>()
                };
                let pair = format!("{}:{}", enc(client_id), enc(client_secret));
                request = request.header(
                    reqwest::header::AUTHORIZATION,
                    format!(
                        "Basic {}",
                        base64::engine::general_purpose::STANDARD.encode(pair)
                    ),
                );
            }
            ClientAuth::Post => {
                fields.push(("client_id", client_id));
                fields.push(("client_secret", client_secret));
            }
        }
        let response = request
            .form(&fields)
            .send()
            .await
            .map_err(|e| OidcError::Unreachable(outbound::describe(&e)))?;
        let (status, body) = self.read(response).await?;
        if status != 200 {
            return Err(refusal(status, &body));
        }
        serde_json::from_slice(&body).map_err(|e| OidcError::BadResponse(e.to_string()))
    }

    /// Exchanges an authorization code (with its PKCE verifier) for the ID token.
    pub async fn redeem_code(
        &self,
        provider: &OidcProvider,
        client_id: &str,
        client_secret: &str,
        code: &str,
        verifier: &str,
        redirect_uri: &str,
    ) -> Result<String, OidcError> {
        let answer = self
            .post_token(
                provider,
                client_id,
                client_secret,
                &[
                    ("grant_type", "authorization_code"),
                    ("code", code),
                    ("redirect_uri", redirect_uri),
                    ("code_verifier", verifier),
                ],
            )
            .await?;
        answer
            .get("id_token")
            .and_then(|t| t.as_str())
            .map(str::to_owned)
            .ok_or_else(|| OidcError::BadResponse("no id_token in the token response".to_owned()))
    }

    /// A client-credentials request, to check the client id and secret where the
    /// provider allows that grant.
    pub async fn client_credentials(
        &self,
        provider: &OidcProvider,
        client_id: &str,
        client_secret: &str,
    ) -> Result<(), OidcError> {
        self.post_token(
            provider,
            client_id,
            client_secret,
            &[("grant_type", "client_credentials")],
        )
        .await
        .map(|_| ())
    }

    /// Verifies an ID token: signature by a published key with an accepted algorithm
    /// (re-fetching the keys once on an unknown key id), exact issuer, audience
    /// (another audience only with `azp` = us), expiry, `iat` age, `nbf`, nonce, and a
    /// non-empty `sub`.
    pub async fn verify_id_token(
        &self,
        provider: &OidcProvider,
        raw: &str,
        client_id: &str,
        nonce: &str,
        now: Timestamp,
    ) -> Result<SsoIdentity, OidcError> {
        let token: OidcIdToken = raw
            .parse()
            .map_err(|_| OidcError::Token("malformed token".to_owned()))?;
        let keys = provider
            .jwks
            .lock()
            .map(|k| k.clone())
            .map_err(|_| OidcError::NoSigningKey)?;
        let first = check(
            &token,
            keys,
            (&provider.issuer, &provider.algorithms),
            client_id,
            nonce,
            now,
        );
        let identity = match first {
            Err(Check::UnknownKey) => {
                let may_refetch = provider
                    .last_refetch
                    .lock()
                    .map(|mut last| {
                        let allowed = last.is_none_or(|at| now.secs_since(at) >= JWKS_REFETCH_SECS);
                        if allowed {
                            *last = Some(now);
                        }
                        allowed
                    })
                    .unwrap_or(false);
                if !may_refetch {
                    return Err(OidcError::Token(
                        "unknown signing key (re-fetch rate-limited)".to_owned(),
                    ));
                }
                let keys = self.fetch_keys(&provider.jwks_uri).await?;
                if let Ok(mut current) = provider.jwks.lock() {
                    *current = keys.clone();
                }
                check(
                    &token,
                    keys,
                    (&provider.issuer, &provider.algorithms),
                    client_id,
                    nonce,
                    now,
                )
            }
            other => other,
        };
        identity.map_err(|e| OidcError::Token(e.reason()))
    }
}

/// The provider's error body (`error`, RFC 6749 §5.2).
fn refusal(status: u16, body: &[u8]) -> OidcError {
    let error = serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(str::to_owned))
        .unwrap_or_else(|| format!("HTTP {status}"));
    OidcError::Refused {
        status,
        error: error.chars().take(100).collect(),
    }
}
