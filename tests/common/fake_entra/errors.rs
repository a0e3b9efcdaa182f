//! Entra's refusals: the AADSTS codes and wording the fake answers with, as the JSON
//! body of the token and discovery endpoints or as the HTML error page of the
//! browser-facing endpoints (authorize, admin consent).

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::http::header::ContentType;
use serde_json::json;

/// One AADSTS refusal.
#[derive(Debug, Clone)]
pub(super) struct Refusal {
    pub status: StatusCode,
    /// The OAuth `error` value.
    pub error: &'static str,
    /// The AADSTS number.
    pub code: u32,
    pub message: String,
}

fn refusal(status: StatusCode, error: &'static str, code: u32, message: String) -> Refusal {
    Refusal {
        status,
        error,
        code,
        message,
    }
}

impl Refusal {
    pub fn tenant_not_found(tenant: &str) -> Refusal {
        refusal(
            StatusCode::BAD_REQUEST,
            "invalid_tenant",
            90002,
            format!(
                "Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant."
            ),
        )
    }

    pub fn missing_parameter(name: &str) -> Refusal {
        refusal(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            900144,
            format!("The request body must contain the following parameter: '{name}'."),
        )
    }

    pub fn invalid_redirect_uri() -> Refusal {
        refusal(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            90102,
            "'redirect_uri' value must be a valid absolute URI.".into(),
        )
    }

    pub fn app_not_found(client_id: &str, tenant: &str) -> Refusal {
        refusal(
            StatusCode::BAD_REQUEST,
            "unauthorized_client",
            700016,
            format!(
                "Application with identifier '{client_id}' was not found in the directory '{tenant}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant."
            ),
        )
    }

    pub fn missing_secret() -> Refusal {
        refusal(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            7000218,
            "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.".into(),
        )
    }

    pub fn wrong_secret(client_id: &str) -> Refusal {
        refusal(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            7000215,
            format!(
                "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{client_id}'."
            ),
        )
    }

    pub fn expired_secret(client_id: &str) -> Refusal {
        refusal(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            7000222,
            format!(
                "The provided client secret keys for app '{client_id}' are expired. Visit the Azure portal to create new keys for your app: https://aka.ms/NewClientSecret, or consider using certificate credentials for added security: https://aka.ms/certCreds."
            ),
        )
    }

    pub fn unsupported_grant(grant_type: &str) -> Refusal {
        refusal(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            70003,
            format!("The app requested an unsupported grant type '{grant_type}'."),
        )
    }

    pub fn code_invalid() -> Refusal {
        refusal(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            70000,
            "The provided value for the 'code' parameter is not valid.".into(),
        )
    }

    pub fn code_redeemed() -> Refusal {
        refusal(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            54005,
            "OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.".into(),
        )
    }

    pub fn code_expired() -> Refusal {
        refusal(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            70008,
            "The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.".into(),
        )
    }

    pub fn reply_address_mismatch(got: &str, expected: &str) -> Refusal {
        refusal(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            500112,
            format!(
                "The reply address '{got}' does not match the reply address '{expected}' provided when requesting Authorization code."
            ),
        )
    }

    pub fn verifier_missing() -> Refusal {
        refusal(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            50148,
            "The code_verifier does not match the code_challenge supplied in the authorization request for PKCE.".into(),
        )
    }

    pub fn verifier_mismatch() -> Refusal {
        refusal(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            501481,
            "The Code_Verifier does not match the code_challenge supplied in the authorization request.".into(),
        )
    }

    pub fn client_credentials_scope(scope: &str) -> Refusal {
        refusal(
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            1002012,
            format!(
                "The provided value for scope {scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI)."
            ),
        )
    }

    pub fn response_type_not_enabled(response_type: &str) -> Refusal {
        refusal(
            StatusCode::BAD_REQUEST,
            "unsupported_response_type",
            700054,
            format!("response_type '{response_type}' is not enabled for the application."),
        )
    }

    /// The test forgot to say who signs in (not an Entra error).
    pub fn no_user() -> Refusal {
        refusal(
            StatusCode::BAD_REQUEST,
            "fake_entra_no_user",
            0,
            "FakeEntra: nobody is signing in; call FakeEntra::next_login first.".into(),
        )
    }

    fn description(&self, trace: &Trace) -> String {
        format!(
            "AADSTS{}: {}\r\nTrace ID: {}\r\nCorrelation ID: {}\r\nTimestamp: {}",
            self.code, self.message, trace.trace_id, trace.correlation_id, trace.timestamp
        )
    }

    /// The JSON body of the token and metadata endpoints.
    pub fn json(&self, base: &str, now: i64) -> HttpResponse {
        let trace = Trace::new(now);
        HttpResponse::build(self.status).json(json!({
            "error": self.error,
            "error_description": self.description(&trace),
            "error_codes": [self.code],
            "timestamp": trace.timestamp,
            "trace_id": trace.trace_id,
            "correlation_id": trace.correlation_id,
            "error_uri": format!("{base}/error?code={}", self.code),
        }))
    }

    /// The "Sorry, but we're having trouble signing you in" page of the browser endpoints.
    pub fn page(&self, now: i64) -> HttpResponse {
        let trace = Trace::new(now);
        let text = escape(&self.description(&trace));
        HttpResponse::build(self.status)
            .content_type(ContentType::html())
            .body(format!(
                "<!DOCTYPE html><html><head><title>Sign in to your account</title></head><body>\
                 <h1>Sign in</h1><p>Sorry, but we're having trouble signing you in.</p>\
                 <pre id=\"error\">{text}</pre></body></html>"
            ))
    }
}

struct Trace {
    trace_id: String,
    correlation_id: String,
    timestamp: String,
}

impl Trace {
    fn new(now: i64) -> Trace {
        let format =
            time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]Z");
        Trace {
            trace_id: uuid::Uuid::new_v4().to_string(),
            correlation_id: uuid::Uuid::new_v4().to_string(),
            timestamp: time::OffsetDateTime::from_unix_timestamp(now)
                .expect("sane clock")
                .format(&format)
                .expect("timestamp format"),
        }
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
