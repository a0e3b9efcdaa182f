//! The outbound side of Entra sign-in: discovery, signing keys, token requests and ID
//! token verification. The HTTP client never follows redirects (an authority that
//! redirects is refused, so it cannot steer us elsewhere), has timeouts, reads at most
//! 1 MiB, and only talks to URLs on the configured authority host. Discovery and keys
//! are cached per tenant; an unknown key id triggers at most one key re-fetch per
//! minute (key rotation).

use super::outbound::{self, ReadFailure};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use openidconnect::core::CoreJsonWebKeySet;
use serde::Deserialize;

use super::id_token::{EntraIdToken, Provider, VerifyError, check_token};
use crate::domain::entra::{self, Expected, SsoIdentity};
use crate::domain::time::Timestamp;

/// Discovery documents are re-read after this long.
const DISCOVERY_TTL_SECS: i64 = 24 * 3600;
/// At most one key re-fetch per tenant in this many seconds.
const JWKS_REFETCH_SECS: i64 = 60;
/// The largest response read from Microsoft.
/// Why talking to Entra failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum EntraError {
    #[error("could not reach Microsoft: {0}")]
    Unreachable(String),
    #[error("Microsoft answered with a redirect, which is never followed")]
    Redirected,
    #[error("unexpected answer from Microsoft: {0}")]
    BadResponse(String),
    #[error("the discovery document names issuer {found}, expected {expected}")]
    IssuerMismatch { expected: String, found: String },
    #[error("Microsoft refused: {description}")]
    Refused {
        status: u16,
        code: Option<u32>,
        error: String,
        description: String,
    },
    #[error("no RSA signing key published")]
    NoSigningKey,
    #[error("ID token refused: {0}")]
    Token(String),
}

impl EntraError {
    /// A short, stable reason for audit events and metrics.
    pub fn reason(&self) -> String {
        // Entra's words (an error code, a token complaint) reach the log and audit.
        let reason = match self {
            EntraError::Unreachable(_) => "unreachable".to_owned(),
            EntraError::Redirected => "redirected".to_owned(),
            EntraError::BadResponse(_) => "bad response".to_owned(),
            EntraError::IssuerMismatch { .. } => "issuer mismatch".to_owned(),
            EntraError::Refused { code: Some(c), .. } => format!("AADSTS{c}"),
            EntraError::Refused { error, .. } => error.clone(),
            EntraError::NoSigningKey => "no signing key".to_owned(),
            EntraError::Token(why) => why.clone(),
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
}

/// Entra's error body.
#[derive(Deserialize, Default)]
struct ErrorBody {
    #[serde(default)]
    error: String,
    #[serde(default)]
    error_description: String,
    #[serde(default)]
    error_codes: Vec<u32>,
}

/// The client for one authority host.
pub struct EntraClient {
    http: reqwest::Client,
    /// e.g. `https://login.microsoftonline.com` (no trailing slash).
    host: String,
    providers: Mutex<HashMap<String, Arc<Provider>>>,
}

impl EntraClient {
    /// A client for the authority `host`. Fails when the HTTP client cannot be built
    /// (no TLS backend): a client with other settings (one that follows redirects)
    /// must never stand in for it.
    pub fn new(host: &str, allow_insecure_loopback: bool) -> Result<EntraClient, reqwest::Error> {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10))
            .connect_timeout(Duration::from_secs(5))
            .https_only(!allow_insecure_loopback)
            .user_agent(concat!("gatehouse/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(EntraClient {
            http,
            host: host.trim_end_matches('/').to_owned(),
            providers: Mutex::new(HashMap::new()),
        })
    }

    pub fn host(&self) -> &str {
        &self.host
    }

    /// Only URLs on the authority host are ever requested.
    fn on_host(&self, url: &str) -> Result<(), EntraError> {
        if url.starts_with(&format!("{}/", self.host)) {
            Ok(())
        } else {
            Err(EntraError::BadResponse(format!(
                "endpoint {url} is not on {}",
                self.host
            )))
        }
    }

    async fn read(&self, response: reqwest::Response) -> Result<(u16, Vec<u8>), EntraError> {
        outbound::read_bounded(response)
            .await
            .map_err(|failure| match failure {
                ReadFailure::Redirected => EntraError::Redirected,
                ReadFailure::CutOff(why) => EntraError::Unreachable(why),
                ReadFailure::TooLarge => EntraError::BadResponse("answer too large".to_owned()),
            })
    }

    async fn get_json<T: serde::de::DeserializeOwned>(&self, url: &str) -> Result<T, EntraError> {
        self.on_host(url)?;
        let response = self
            .http
            .get(url)
            .send()
            .await
            .map_err(|e| EntraError::Unreachable(outbound::describe(&e)))?;
        let (status, body) = self.read(response).await?;
        if status != 200 {
            return Err(refusal(status, &body));
        }
        serde_json::from_slice(&body).map_err(|e| EntraError::BadResponse(e.to_string()))
    }

    /// Reads discovery and keys for `tenant` (id or domain), without the cache. The
    /// issuer must be exactly `{host}/{tenant id}/v2.0`, and for an id the same id.
    pub async fn discover(&self, tenant: &str, now: Timestamp) -> Result<Provider, EntraError> {
        let url = format!(
            "{}/{tenant}/v2.0/.well-known/openid-configuration",
            self.host
        );
        let doc: Discovery = self.get_json(&url).await?;
        let tenant_id = entra::tenant_of_issuer(&self.host, &doc.issuer).ok_or_else(|| {
            EntraError::IssuerMismatch {
                expected: entra::issuer_for(&self.host, tenant),
                found: doc.issuer.clone(),
            }
        })?;
        if entra::is_tenant_id(tenant) && !tenant.eq_ignore_ascii_case(&tenant_id) {
            return Err(EntraError::IssuerMismatch {
                expected: entra::issuer_for(&self.host, tenant),
                found: doc.issuer,
            });
        }
        for endpoint in [
            &doc.authorization_endpoint,
            &doc.token_endpoint,
            &doc.jwks_uri,
        ] {
            self.on_host(endpoint)?;
        }
        let jwks = self.fetch_keys(&doc.jwks_uri).await?;
        Ok(Provider {
            tenant_id,
            issuer: doc.issuer,
            authorization_endpoint: doc.authorization_endpoint,
            token_endpoint: doc.token_endpoint,
            jwks_uri: doc.jwks_uri,
            jwks: Mutex::new(jwks),
            last_refetch: Mutex::new(None),
            fetched_at: now,
        })
    }

    async fn fetch_keys(&self, uri: &str) -> Result<CoreJsonWebKeySet, EntraError> {
        let value: serde_json::Value = self.get_json(uri).await?;
        // Keep only RSA signing keys; other key types must not break parsing.
        let keys: Vec<serde_json::Value> = value
            .get("keys")
            .and_then(|k| k.as_array())
            .map(|keys| {
                keys.iter()
                    .filter(|k| k.get("kty").and_then(|t| t.as_str()) == Some("RSA"))
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
            return Err(EntraError::NoSigningKey);
        }
        serde_json::from_value(serde_json::json!({ "keys": keys }))
            .map_err(|e| EntraError::BadResponse(e.to_string()))
    }

    /// The tenant's provider, from the cache when fresh.
    pub async fn provider(
        &self,
        tenant: &str,
        now: Timestamp,
    ) -> Result<Arc<Provider>, EntraError> {
        let key = tenant.to_ascii_lowercase();
        let cached = self
            .providers
            .lock()
            .ok()
            .and_then(|m| m.get(&key).cloned());
        if let Some(p) = cached
            && now.secs_since(p.fetched_at) < DISCOVERY_TTL_SECS
        {
            return Ok(p);
        }
        let fresh = Arc::new(self.discover(tenant, now).await?);
        if let Ok(mut map) = self.providers.lock() {
            map.insert(key, Arc::clone(&fresh));
        }
        Ok(fresh)
    }

    /// Forgets cached discovery (after settings change).
    pub fn forget(&self) {
        if let Ok(mut map) = self.providers.lock() {
            map.clear();
        }
    }

    async fn post_form(
        &self,
        url: &str,
        form: &[(&str, &str)],
    ) -> Result<serde_json::Value, EntraError> {
        self.on_host(url)?;
        let response = self
            .http
            .post(url)
            .form(form)
            .send()
            .await
            .map_err(|e| EntraError::Unreachable(outbound::describe(&e)))?;
        let (status, body) = self.read(response).await?;
        if status != 200 {
            return Err(refusal(status, &body));
        }
        serde_json::from_slice(&body).map_err(|e| EntraError::BadResponse(e.to_string()))
    }

    /// Exchanges an authorization code (with its PKCE verifier) for the ID token.
    pub async fn redeem_code(
        &self,
        provider: &Provider,
        client_id: &str,
        client_secret: &str,
        code: &str,
        verifier: &str,
        redirect_uri: &str,
    ) -> Result<String, EntraError> {
        let answer = self
            .post_form(
                &provider.token_endpoint,
                &[
                    ("grant_type", "authorization_code"),
                    ("client_id", client_id),
                    ("client_secret", client_secret),
                    ("code", code),
                    ("redirect_uri", redirect_uri),
                    ("code_verifier", verifier),
                    ("scope", "openid profile email"),
                ],
            )
            .await?;
        answer
            .get("id_token")
            .and_then(|t| t.as_str())
            .map(str::to_owned)
            .ok_or_else(|| EntraError::BadResponse("no id_token in the token response".to_owned()))
    }

    /// A client-credentials request: proves the client id and secret work in the
    /// tenant (and, for a multi-tenant app, that the tenant consented).
    pub async fn client_credentials(
        &self,
        token_endpoint: &str,
        client_id: &str,
        client_secret: &str,
    ) -> Result<(), EntraError> {
        self.post_form(
            token_endpoint,
            &[
                ("grant_type", "client_credentials"),
                ("client_id", client_id),
                ("client_secret", client_secret),
                ("scope", "https://graph.microsoft.com/.default"),
            ],
        )
        .await
        .map(|_| ())
    }

    /// Verifies an ID token: RS256 signature by a published key (re-fetching the keys
    /// once on an unknown key id), issuer, audience, expiry, nonce — then the Entra
    /// rules in `domain::entra` (azp, nbf, age, tenant).
    pub async fn verify_id_token(
        &self,
        provider: &Provider,
        raw: &str,
        client_id: &str,
        nonce: &str,
        now: Timestamp,
    ) -> Result<SsoIdentity, EntraError> {
        let token: EntraIdToken = raw
            .parse()
            .map_err(|_| EntraError::Token("malformed token".to_owned()))?;
        let first = {
            let keys = provider
                .jwks
                .lock()
                .map(|k| k.clone())
                .map_err(|_| EntraError::NoSigningKey)?;
            check_token(&token, keys, provider, client_id, nonce, now)
        };
        let claims = match first {
            Err(VerifyError::UnknownKey) => {
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
                    return Err(EntraError::Token(
                        "unknown signing key (re-fetch rate-limited)".to_owned(),
                    ));
                }
                let keys = self.fetch_keys(&provider.jwks_uri).await?;
                if let Ok(mut current) = provider.jwks.lock() {
                    *current = keys.clone();
                }
                check_token(&token, keys, provider, client_id, nonce, now)
            }
            other => other,
        };
        let claims = claims.map_err(|e| EntraError::Token(e.reason()))?;
        entra::check_claims(
            &claims,
            &Expected {
                client_id,
                tenant_id: &provider.tenant_id,
                now: now.0,
            },
        )
        .map_err(|r| EntraError::Token(r.reason().to_owned()))
    }
}

fn refusal(status: u16, body: &[u8]) -> EntraError {
    let parsed: ErrorBody = serde_json::from_slice(body).unwrap_or_default();
    let code = parsed
        .error_codes
        .first()
        .copied()
        .or_else(|| entra::aadsts_code(&parsed.error_description));
    let description = if parsed.error_description.is_empty() {
        format!("HTTP {status}")
    } else {
        parsed
            .error_description
            .lines()
            .next()
            .unwrap_or_default()
            .to_owned()
    };
    EntraError::Refused {
        status,
        code,
        error: parsed.error,
        description,
    }
}
