//! HTTP: the route table, middleware (security headers, CSRF cookie, request log),
//! extractors and views. The only layer that knows about HTTP. Handlers are thin:
//! extract → one service call → one response.

pub mod assets;
pub(crate) mod cookies;
pub mod csrf;
pub(crate) mod error;
pub(crate) mod flash;
pub(crate) mod handlers;
pub(crate) mod metrics;
pub mod paths;
mod portal_errors;
pub(crate) mod protocol;
pub(crate) mod request;
pub(crate) mod scim;
pub(crate) mod views;

mod admin;

use std::borrow::Cow;
use std::sync::Arc;
use std::time::Instant;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::cookie::Cookie;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use actix_web::middleware::{Next, from_fn};
use actix_web::{App, HttpMessage, HttpRequest, HttpResponse, web};
use maud::Markup;

use crate::config::Config;
use crate::service::Services;
use cookies::CookieSettings;

/// Everything handlers share.
pub struct AppState {
    pub services: Arc<Services>,
    pub config: Arc<Config>,
    pub cookies: CookieSettings,
    /// `public_url`'s origin (`scheme://host[:port]`), for Origin checks.
    pub public_origin: String,
    /// The Content-Security-Policy sent with every response.
    csp: HeaderValue,
    /// One-time results waiting for the page a form redirected to.
    pub(crate) flashes: flash::Flashes,
}

impl AppState {
    pub fn new(services: Arc<Services>, config: Arc<Config>) -> AppState {
        let public_origin = config.public_url.origin().ascii_serialization();
        // Forms may post back to us; a 303 after a POST may lead to a protected app
        // (after sign-in) or to Microsoft (linking, test sign-in), and browsers apply
        // form-action to such redirects.
        let scheme = config.public_url.scheme();
        let mut form_targets: String = config
            .forward_auth
            .allowed_hosts
            .iter()
            .map(|h| format!(" {scheme}://{h}"))
            .collect();
        form_targets.push(' ');
        form_targets.push_str(config.entra.authority_host.as_str().trim_end_matches('/'));
        let csp = format!(
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'{form_targets}; frame-ancestors 'none'; base-uri 'none'"
        );
        AppState {
            services,
            cookies: CookieSettings::from_config(&config),
            public_origin,
            csp: HeaderValue::from_str(&csp).unwrap_or_else(|_| {
                HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'")
            }),
            config,
            flashes: flash::Flashes::default(),
        }
    }

    /// The state registered with the app. Every request goes through `app()`, which
    /// registers it, so its absence is a programming error caught by any test.
    pub fn of(req: &HttpRequest) -> &AppState {
        req.app_data::<web::Data<AppState>>()
            .map(|d| d.get_ref())
            .unwrap_or_else(|| unreachable!("AppState is registered by web::app"))
    }
}

/// The whole application, used by `serve` and by the tests alike.
pub fn app(
    state: web::Data<AppState>,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    App::new()
        .app_data(state)
        .app_data(web::PathConfig::default().error_handler(|_, _| error::WebError::NotFound.into()))
        .app_data(web::QueryConfig::default().error_handler(|_, _| {
            error::WebError::BadForm("the address has a malformed query".to_owned()).into()
        }))
        .wrap(from_fn(envelope))
        .configure(configure)
        .default_service(web::to(|| async {
            Err::<HttpResponse, _>(error::WebError::NotFound)
        }))
}

/// The route table. Every `GET` route also answers `HEAD` (`protocol::checks`).
/// `/metrics` is here for `metrics.public = true` only; otherwise it is a 404 and
/// served on the separate `metrics.listen` address (`metrics::app`).
pub fn configure(cfg: &mut web::ServiceConfig) {
    handlers::routes(cfg);
    admin::routes(cfg);
    scim::routes(cfg);
    cfg.route(metrics::METRICS, web::get().to(metrics::on_main_listener));
}

/// Paths whose responses are not pages (no CSRF cookie, long caching for assets).
fn is_machine_path(path: &str) -> bool {
    path.starts_with("/assets/")
        || path.starts_with("/api/")
        || path.starts_with("/scim/")
        || path == paths::HEALTHZ
        || path == metrics::METRICS
}

/// The machine routes that have no parameters: their path is their pattern.
const EXACT_MACHINE_ROUTES: [&str; 4] = [
    paths::AUTH_REQUEST,
    paths::FORWARD_AUTH,
    paths::HEALTHZ,
    metrics::METRICS,
];

/// The route pattern a request matched (never its raw path). The forward-auth checks,
/// the bulk of all requests, are named without walking the route table again.
fn route_pattern(req: &HttpRequest) -> Cow<'static, str> {
    let path = req.path();
    match EXACT_MACHINE_ROUTES.iter().find(|route| **route == path) {
        Some(route) => Cow::Borrowed(route),
        None => req
            .match_pattern()
            .map_or(Cow::Borrowed("(unmatched)"), Cow::Owned),
    }
}

/// What every request gets, in one middleware (each layer of middleware costs a boxed
/// future per request, and forward-auth checks are most requests), outside in:
/// one log line and the duration metric, by route pattern (never the raw path, which
/// may hold a setup or invitation token); the security headers on every response
/// (DESIGN §9); the protocol checks (`protocol`: oversized heads refused, `HEAD` as
/// `GET`); a CSRF cookie for browsers opening a page; and error pages under
/// `/p/{slug}/` in the client's branding (`portal_errors`).
async fn envelope(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let started = Instant::now();
    let method = req.method().clone();
    // Machine paths (forward-auth checks, health, assets) are the bulk of requests;
    // they are logged at debug level to keep the hot path and the log lean.
    let machine = is_machine_path(req.path());
    let is_asset = req.path().starts_with("/assets/");
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let mut res = match protocol::refusal(&req) {
        Some(refusal) => req.into_response(refusal),
        None => {
            protocol::admit(&mut req);
            let csrf_cookie = match &state {
                Some(state) if !machine => issue_csrf_cookie(&req, state),
                _ => None,
            };
            let portal = portal_errors::portal_slug(req.path()).map(str::to_owned);
            let mut res = next.call(req).await?.map_into_boxed_body();
            if let Some(slug) = portal {
                res = portal_errors::in_portal_branding(res, &slug);
            } else if !machine {
                res = portal_errors::in_staff_branding(res);
            }
            if let Some(cookie) = csrf_cookie {
                res.response_mut().add_cookie(&cookie).ok();
            }
            res
        }
    };
    security_headers(
        res.headers_mut(),
        state.as_ref().map(|s| s.get_ref()),
        is_asset,
    );
    let status = res.status().as_u16();
    let took = started.elapsed();
    let ms = took.as_secs_f64() * 1000.0;
    let route = route_pattern(res.request());
    if machine {
        tracing::debug!(target: "gatehouse::http", %method, route = %route, status, ms, "request");
    } else {
        tracing::info!(target: "gatehouse::http", %method, route = %route, status, ms, "request");
    }
    if let Some(state) = state {
        state
            .services
            .metrics()
            .http_request(route, method.as_str(), status, took);
    }
    Ok(res)
}

/// A CSRF cookie for a browser that opens a page without one (the token is also
/// handed to the page being answered).
fn issue_csrf_cookie(req: &ServiceRequest, state: &AppState) -> Option<Cookie<'static>> {
    if req.cookie(state.cookies.csrf_name()).is_some() {
        return None;
    }
    let value = csrf::new_cookie_value();
    req.extensions_mut().insert(csrf::IssuedCsrf(value.clone()));
    Some(state.cookies.csrf(value))
}

/// The security headers of every response (DESIGN §9).
fn security_headers(headers: &mut HeaderMap, state: Option<&AppState>, is_asset: bool) {
    if let Some(state) = state {
        headers.insert(header::CONTENT_SECURITY_POLICY, state.csp.clone());
        if state.config.is_https() {
            headers.insert(
                header::STRICT_TRANSPORT_SECURITY,
                HeaderValue::from_static("max-age=63072000; includeSubDomains"),
            );
        }
    }
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        HeaderName::from_static("cross-origin-opener-policy"),
        HeaderValue::from_static("same-origin"),
    );
    headers.insert(
        HeaderName::from_static("permissions-policy"),
        HeaderValue::from_static("camera=(), microphone=(), geolocation=(), interest-cohort=()"),
    );
    // Pages are never cached; what a handler marked cacheable itself (assets, a
    // logo or accent stylesheet behind a versioned URL) keeps its own header.
    if !is_asset && !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
}

/// An HTML response with `status`.
pub fn html(status: actix_web::http::StatusCode, markup: Markup) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(markup.into_string())
}

/// A 303 See Other to `location`.
pub fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .finish()
}
