//! The outbound side of the leavers sweep: an app-only token from the realm's tenant
//! (client credentials) and Microsoft Graph's `GET /v1.0/users/{id}`. Like the Entra
//! client, it never follows redirects, has timeouts, reads at most 64 KiB, and only
//! talks to the configured Graph host and the tenant's discovered token endpoint.

use std::time::Duration;

use serde::Deserialize;

/// The largest answer read.
const RESPONSE_LIMIT: usize = 64 * 1024;

/// What Graph says about one user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Account {
    Enabled,
    /// `accountEnabled: false`.
    Disabled,
    /// 404 `Request_ResourceNotFound`: deleted (or never existed) in the tenant.
    Deleted,
}

/// Why a Graph call gave no verdict. None of these ever disables anyone.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GraphError {
    /// 403: the app lacks `User.Read.All` (application permission, admin-consented).
    #[error("Graph refused: the application permission User.Read.All is not granted")]
    Forbidden,
    /// 429 with the seconds Graph asked us to wait.
    #[error("Graph is throttling (retry after {0}s)")]
    Throttled(u64),
    /// Unreachable, 5xx, or an answer that is not Graph's.
    #[error("{0}")]
    Unavailable(String),
}

#[derive(Deserialize)]
struct GraphUser {
    #[serde(rename = "accountEnabled")]
    account_enabled: Option<bool>,
}

#[derive(Deserialize, Default)]
struct GraphErrorBody {
    #[serde(default)]
    error: GraphErrorInner,
}

#[derive(Deserialize, Default)]
struct GraphErrorInner {
    #[serde(default)]
    code: String,
}

/// The client for one Graph host.
pub struct GraphClient {
    http: reqwest::Client,
    /// e.g. `https://graph.microsoft.com` (no trailing slash).
    host: String,
}

impl GraphClient {
    pub fn new(host: &str, allow_insecure_loopback: bool) -> Result<GraphClient, reqwest::Error> {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(15))
            .connect_timeout(Duration::from_secs(5))
            .https_only(!allow_insecure_loopback)
            .user_agent(concat!("gatehouse/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(GraphClient {
            http,
            host: host.trim_end_matches('/').to_owned(),
        })
    }

    pub fn host(&self) -> &str {
        &self.host
    }

    async fn read(response: reqwest::Response) -> Result<(u16, Option<u64>, Vec<u8>), GraphError> {
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        let mut response = response;
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|_| GraphError::Unavailable("the answer was cut off".to_owned()))?
        {
            if body.len() + chunk.len() > RESPONSE_LIMIT {
                return Err(GraphError::Unavailable("answer too large".to_owned()));
            }
            body.extend_from_slice(&chunk);
        }
        Ok((status, retry_after, body))
    }

    /// An app-only access token for Graph from `token_endpoint` (client credentials).
    pub async fn app_token(
        &self,
        token_endpoint: &str,
        client_id: &str,
        client_secret: &str,
    ) -> Result<String, GraphError> {
        let scope = format!("{}/.default", self.host);
        let response = self
            .http
            .post(token_endpoint)
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", client_id),
                ("client_secret", client_secret),
                ("scope", scope.as_str()),
            ])
            .send()
            .await
            .map_err(|_| GraphError::Unavailable("the token endpoint is unreachable".to_owned()))?;
        let (status, _, body) = Self::read(response).await?;
        if status != 200 {
            return Err(GraphError::Unavailable(format!(
                "no app token (HTTP {status} from the token endpoint; check the client secret and admin consent)"
            )));
        }
        let answer: serde_json::Value = serde_json::from_slice(&body)
            .map_err(|_| GraphError::Unavailable("the token answer is not JSON".to_owned()))?;
        answer
            .get("access_token")
            .and_then(|t| t.as_str())
            .map(str::to_owned)
            .ok_or_else(|| {
                GraphError::Unavailable("no access_token in the token answer".to_owned())
            })
    }

    /// Whether the account `object_id` exists and is enabled.
    pub async fn account(&self, token: &str, object_id: &str) -> Result<Account, GraphError> {
        let Ok(oid) = uuid::Uuid::parse_str(object_id) else {
            return Err(GraphError::Unavailable("not an object id".to_owned()));
        };
        let url = format!(
            "{}/v1.0/users/{}?$select=id,accountEnabled",
            self.host,
            oid.hyphenated()
        );
        let response = self
            .http
            .get(&url)
            .bearer_auth(token)
            .send()
            .await
            .map_err(|_| GraphError::Unavailable("Graph is unreachable".to_owned()))?;
        let (status, retry_after, body) = Self::read(response).await?;
        match status {
            200 => {
                let user: GraphUser = serde_json::from_slice(&body).map_err(|_| {
                    GraphError::Unavailable("Graph's answer is not a user".to_owned())
                })?;
                match user.account_enabled {
                    Some(false) => Ok(Account::Disabled),
                    Some(true) => Ok(Account::Enabled),
                    None => Err(GraphError::Unavailable(
                        "Graph's answer lacks accountEnabled".to_owned(),
                    )),
                }
            }
            // Only Graph's own "no such object" counts as deleted: a 404 from a proxy
            // or a wrong host must never disable anyone.
            404 => {
                let parsed: GraphErrorBody = serde_json::from_slice(&body).unwrap_or_default();
                if parsed.error.code == "Request_ResourceNotFound" {
                    Ok(Account::Deleted)
                } else {
                    Err(GraphError::Unavailable(
                        "HTTP 404 that is not Graph's".to_owned(),
                    ))
                }
            }
            403 => Err(GraphError::Forbidden),
            429 => Err(GraphError::Throttled(retry_after.unwrap_or(5))),
            other => Err(GraphError::Unavailable(format!(
                "Graph answered HTTP {other}"
            ))),
        }
    }
}
