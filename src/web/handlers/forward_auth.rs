//! `GET /api/authz/forward-auth` (Traefik ForwardAuth, Caddy forward_auth) and
//! `GET /api/authz/auth-request` (nginx auth_request): 200 with the identity headers
//! when the visitor is signed in to the app's realm; otherwise a 302 to the right
//! sign-in page (forward-auth) or a 401 (auth-request); 403 when a required role is
//! missing. The original URL is believed only from trusted proxies.

use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use super::safe_next;
use crate::config::RemoteUser;
use crate::service::forward_auth::{Decision, Identity, RealmChoice};
use crate::web::AppState;
use crate::web::error::WebResult;
use crate::web::paths::RealmPaths;

#[derive(Debug, Deserialize)]
pub struct CheckQuery {
    realm: Option<String>,
    client: Option<String>,
    role: Option<String>,
}

/// The two flavours of the endpoint.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Flavour {
    /// Traefik / Caddy: unauthenticated → 302 to the sign-in page.
    Redirect,
    /// nginx auth_request: unauthenticated → 401.
    Status,
}

/// `GET /api/authz/forward-auth`
pub async fn forward_auth(
    req: HttpRequest,
    query: web::Query<CheckQuery>,
) -> WebResult<HttpResponse> {
    check(&req, &query, Flavour::Redirect)
}

/// `GET /api/authz/auth-request`
pub async fn auth_request(
    req: HttpRequest,
    query: web::Query<CheckQuery>,
) -> WebResult<HttpResponse> {
    check(&req, &query, Flavour::Status)
}

fn check(req: &HttpRequest, query: &CheckQuery, flavour: Flavour) -> WebResult<HttpResponse> {
    let state = AppState::of(req);
    let (choice, portal) = match (query.client.as_deref(), query.realm.as_deref()) {
        (Some(slug), None | Some("client")) => (RealmChoice::Client(slug), Some(slug)),
        (None, None | Some("staff")) => (RealmChoice::Staff, None),
        _ => return Ok(misconfigured("use ?realm=staff or ?client=<slug>")),
    };
    let admin = match query.role.as_deref() {
        None => false,
        Some("admin") => true,
        Some(_) => return Ok(misconfigured("the only role that can be required is admin")),
    };
    let token = session_cookie(req, |name| state.cookies.is_session_name(name, portal));
    let decision = state.services.forward_auth(choice, token, admin)?;
    tracing::debug!(target: "gatehouse::forward_auth", decision = decision.as_str(), "forward-auth");
    Ok(match decision {
        Decision::Allow(identity) => allowed(identity, state.config.forward_auth.remote_user),
        Decision::MissingRole => plain(HttpResponse::Forbidden()),
        Decision::SignIn | Decision::NoSuchRealm => {
            // The sign-in page, returning to the original URL when it is safe. nginx
            // cannot URL-encode `rd` itself, so the 401 carries the finished URL in
            // `Location` too (`error_page 401 =302 $gatehouse_login`).
            let paths = portal.map_or_else(RealmPaths::staff, RealmPaths::portal);
            let mut login = format!("{}{}", state.services.base_url(), paths.login());
            if let Some(rd) = safe_next(state, original_url(req, state).as_deref(), None) {
                let encoded: String = url::form_urlencoded::byte_serialize(rd.as_bytes()).collect();
                login.push_str("?rd=");
                login.push_str(&encoded);
            }
            let mut response = match flavour {
                Flavour::Status => HttpResponse::Unauthorized(),
                Flavour::Redirect => HttpResponse::Found(),
            };
            response.insert_header((header::LOCATION, login));
            plain(response)
        }
    })
}

/// The value of the first cookie whose name `wanted` accepts, read in place from the
/// `Cookie` headers (actix's cookie jar would copy every cookie of the request into
/// its own strings first; this runs on every request of every protected app).
fn session_cookie(req: &HttpRequest, wanted: impl Fn(&str) -> bool) -> Option<&str> {
    req.headers()
        .get_all(header::COOKIE)
        .filter_map(|value| value.to_str().ok())
        .flat_map(|line| line.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| wanted(name.trim()))
        .map(|(_, value)| value.trim())
}

/// A 400 for a proxy configured with an unknown query (a deployment mistake, not a
/// visitor's).
fn misconfigured(why: &str) -> HttpResponse {
    tracing::warn!(target: "gatehouse::forward_auth", "forward-auth request: {why}");
    HttpResponse::BadRequest()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .content_type("text/plain; charset=utf-8")
        .body(format!("gatehouse forward-auth: {why}\n"))
}

fn plain(mut builder: actix_web::HttpResponseBuilder) -> HttpResponse {
    builder
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish()
}

/// The identity headers (names checked once, at compile time, not per answer).
const REMOTE_USER: HeaderName = HeaderName::from_static("remote-user");
const REMOTE_EMAIL: HeaderName = HeaderName::from_static("remote-email");
const REMOTE_NAME: HeaderName = HeaderName::from_static("remote-name");
const REMOTE_REALM: HeaderName = HeaderName::from_static("remote-realm");
const REMOTE_CLIENT: HeaderName = HeaderName::from_static("remote-client");
const REMOTE_ROLE: HeaderName = HeaderName::from_static("remote-role");
const REMOTE_AUTH: HeaderName = HeaderName::from_static("remote-auth");
const REMOTE_GROUPS: HeaderName = HeaderName::from_static("remote-groups");
/// Cache-Control plus the eight identity headers.
const ANSWER_HEADERS: usize = 9;

/// The 200 answer. Every identity header is always present, empty when it does not
/// apply (DESIGN §14): a proxy that copies headers by name then always overwrites what
/// the visitor sent. This is the hottest path: fixed values are static, owned ones
/// (name, slug) are moved into their header, and the id is formatted on the stack.
fn allowed(identity: Identity, remote_user: RemoteUser) -> HttpResponse {
    let mut response = HttpResponse::Ok().finish();
    let headers = response.headers_mut();
    headers.reserve(ANSWER_HEADERS);
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    // Names and emails never hold control characters (they are cleaned on input);
    // anything a header still could not carry is sent empty rather than failing the
    // check or leaving the header out.
    let email = HeaderValue::from_str(identity.email.as_str()).unwrap_or(EMPTY);
    let user = match remote_user {
        RemoteUser::Id => {
            let mut buffer = uuid::Uuid::encode_buffer();
            let id: &str = identity.user_id.0.hyphenated().encode_lower(&mut buffer);
            HeaderValue::from_str(id).unwrap_or(EMPTY)
        }
        RemoteUser::Email => email.clone(),
    };
    headers.insert(REMOTE_USER, user);
    headers.insert(REMOTE_EMAIL, email);
    headers.insert(REMOTE_NAME, owned(identity.name));
    let (realm, client) = match identity.client {
        Some(slug) => ("client", owned(slug)),
        None => ("staff", EMPTY),
    };
    headers.insert(REMOTE_REALM, HeaderValue::from_static(realm));
    headers.insert(REMOTE_CLIENT, client);
    let role = HeaderValue::from_static(identity.role.as_str());
    // Groups are the role for now; directory groups will join it here.
    headers.insert(REMOTE_GROUPS, role.clone());
    headers.insert(REMOTE_ROLE, role);
    headers.insert(
        REMOTE_AUTH,
        HeaderValue::from_static(identity.auth.as_header()),
    );
    response
}

/// The value of a header that does not apply.
const EMPTY: HeaderValue = HeaderValue::from_static("");

/// A header value taking over `text`'s buffer (no copy).
fn owned(text: String) -> HeaderValue {
    HeaderValue::from_maybe_shared(web::Bytes::from(text)).unwrap_or(EMPTY)
}

/// The URL the visitor asked the protected app for, from a trusted proxy's headers.
fn original_url(req: &HttpRequest, state: &AppState) -> Option<String> {
    let peer = req.peer_addr()?.ip();
    if !state.config.is_trusted_proxy(peer) {
        return None;
    }
    let get = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|v| !v.is_empty())
    };
    if let Some(full) = get("x-original-url") {
        return Some(full.to_owned());
    }
    let proto = get("x-forwarded-proto").unwrap_or("https");
    if !matches!(proto, "http" | "https") {
        return None;
    }
    let host = get("x-forwarded-host")?;
    let uri = get("x-forwarded-uri").unwrap_or("/");
    if !uri.starts_with('/') {
        return None;
    }
    Some(format!("{proto}://{host}{uri}"))
}
