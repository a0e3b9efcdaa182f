//! What a request tells us, as extractors: where it came from ([`ClientOrigin`]),
//! which realm's pages it is on ([`RealmCtx`]), and who is signed in there
//! ([`CurrentUser`], [`StaffAdmin`]: the session cookie and the admin cookie). Forwarded headers are believed only from
//! `trusted_proxies`.

use std::future::{Ready, ready};
use std::net::IpAddr;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest};

use super::AppState;
use super::error::WebError;
use super::paths::RealmPaths;
use crate::domain::session::{Origin, Stage};
use crate::domain::user::{Realm, Role};
use crate::service::ServiceError;
use crate::service::branding::StaffLook;
use crate::service::portal::Portal;
use crate::service::sessions::SignedIn;

/// The client's address: the peer, or — when the peer is a trusted proxy — the
/// right-most address in `X-Forwarded-For` that is not itself a trusted proxy.
pub fn client_ip(req: &HttpRequest, state: &AppState) -> Option<IpAddr> {
    let peer = req.peer_addr().map(|a| a.ip())?;
    if !state.config.is_trusted_proxy(peer) {
        return Some(peer);
    }
    let forwarded = req
        .headers()
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let mut client = peer;
    for hop in forwarded.rsplit(',') {
        match hop.trim().parse::<IpAddr>() {
            Ok(ip) => {
                client = ip;
                if !state.config.is_trusted_proxy(ip) {
                    break;
                }
            }
            Err(_) => break,
        }
    }
    Some(client)
}

/// Where a request came from, for audit events, throttling and session lists.
#[derive(Debug, Clone)]
pub struct ClientOrigin(pub Origin);

impl FromRequest for ClientOrigin {
    type Error = WebError;
    type Future = Ready<Result<Self, WebError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = AppState::of(req);
        let ip = client_ip(req, state)
            .map(|ip| ip.to_string())
            .unwrap_or_else(|| "unknown".to_owned());
        let user_agent = req
            .headers()
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(describe_agent)
            .unwrap_or_default();
        ready(Ok(ClientOrigin(Origin { ip, user_agent })))
    }
}

/// A short "Browser on System" description instead of the raw user agent.
fn describe_agent(agent: &str) -> String {
    let browser = ["Edg/", "Firefox/", "Chrome/", "Safari/"]
        .iter()
        .find(|b| agent.contains(*b))
        .map(|b| match *b {
            "Edg/" => "Edge",
            "Firefox/" => "Firefox",
            "Chrome/" => "Chrome",
            _ => "Safari",
        });
    let system = [
        ("Windows", "Windows"),
        ("Android", "Android"),
        ("iPhone", "iPhone"),
        ("iPad", "iPad"),
        ("Mac OS", "macOS"),
        ("Linux", "Linux"),
    ]
    .iter()
    .find(|(needle, _)| agent.contains(needle))
    .map(|(_, name)| *name);
    match (browser, system) {
        (Some(b), Some(s)) => format!("{b} on {s}"),
        (Some(b), None) => b.to_owned(),
        (None, Some(s)) => s.to_owned(),
        (None, None) => agent.chars().take(60).collect(),
    }
}

/// The staff pages' name and logo; the plain "Gatehouse" look if they cannot be read
/// (branding never stops a sign-in).
fn staff_look(state: &AppState) -> StaffLook {
    state.services.staff_look().unwrap_or_else(|e| {
        tracing::warn!(error = %e, "staff branding unreadable; using the default look");
        StaffLook::default()
    })
}

/// The text alternative of the staff logo: it names the organisation.
fn staff_logo_alt(look: &StaffLook) -> String {
    if look.org_name_set {
        format!("{} logo", look.name)
    } else {
        "Organisation logo".to_owned()
    }
}

/// The realm whose pages a request is on: staff at the root, a client under
/// `/p/{slug}`.
#[derive(Debug, Clone)]
pub struct RealmCtx {
    pub realm: Realm,
    pub paths: RealmPaths,
    /// The name shown in the top bar.
    pub brand: String,
    /// The realm's session cookie name.
    pub cookie: String,
    /// A client's accent stylesheet and logo, when it has them.
    pub style_url: Option<String>,
    pub logo_url: Option<String>,
    /// The logo's text alternative where it stands alone (the sign-in card).
    pub logo_alt: String,
    /// The logo is also shown on the sign-in card (the staff side's organisation logo).
    pub logo_on_card: bool,
    /// The footer line (none on a portal unless its admin set one).
    pub footer: Option<String>,
}

impl RealmCtx {
    /// The staff pages, with the organisation name and logo when an admin set them.
    pub fn staff(state: &AppState) -> RealmCtx {
        let look = staff_look(state);
        RealmCtx {
            realm: Realm::Staff,
            paths: RealmPaths::staff(),
            cookie: state.cookies.session_name(None),
            style_url: None,
            logo_url: look
                .has_logo
                .then(|| format!("{}?v={}", super::paths::STAFF_LOGO, look.version)),
            logo_alt: staff_logo_alt(&look),
            logo_on_card: true,
            brand: look.name,
            footer: Some(crate::web::views::layout::STAFF_FOOTER.to_owned()),
        }
    }

    /// The pages of `portal`.
    pub fn portal(state: &AppState, portal: &Portal) -> RealmCtx {
        let paths = RealmPaths::portal(&portal.slug);
        let version = portal.version;
        RealmCtx {
            realm: Realm::Client(portal.id),
            style_url: portal
                .has_accent
                .then(|| format!("{}/brand.css?v={version}", paths.prefix())),
            logo_url: portal
                .has_logo
                .then(|| format!("{}/logo?v={version}", paths.prefix())),
            logo_alt: format!("{} logo", portal.name),
            logo_on_card: false,
            footer: portal.footer.clone(),
            paths,
            brand: portal.name.clone(),
            cookie: state.cookies.session_name(Some(&portal.slug)),
        }
    }

    /// The pages of `realm` (for responses that learn the realm late, like callbacks),
    /// given the portal the use case found for it.
    pub fn for_realm(
        state: &AppState,
        realm: Realm,
        portal: Option<&Portal>,
    ) -> Result<RealmCtx, WebError> {
        match (realm, portal) {
            (Realm::Staff, _) => Ok(RealmCtx::staff(state)),
            (Realm::Client(_), Some(portal)) => Ok(RealmCtx::portal(state, portal)),
            (Realm::Client(_), None) => Err(WebError::NotFound),
        }
    }

    /// The session token this realm's cookie carries, if any.
    pub fn token(&self, req: &HttpRequest) -> Option<String> {
        req.cookie(&self.cookie).map(|c| c.value().to_owned())
    }

    /// The signed-in user of this realm, if any.
    pub fn signed_in(
        &self,
        req: &HttpRequest,
        state: &AppState,
    ) -> Result<Option<SignedIn>, WebError> {
        match self.token(req) {
            Some(token) => Ok(state
                .services
                .session_for(self.realm, &token, Stage::Active)?),
            None => Ok(None),
        }
    }
}

impl FromRequest for RealmCtx {
    type Error = WebError;
    type Future = Ready<Result<Self, WebError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = AppState::of(req);
        ready(match req.match_info().get("slug") {
            None => Ok(RealmCtx::staff(state)),
            Some(slug) => match state.services.portal(slug) {
                Ok(Some(portal)) if portal.enabled => Ok(RealmCtx::portal(state, &portal)),
                Ok(Some(_)) => Err(WebError::PortalDisabled),
                Ok(None) => Err(WebError::NotFound),
                Err(e) => Err(WebError::Service(e)),
            },
        })
    }
}

/// The signed-in user of the request's realm; otherwise a redirect to its sign-in page
/// that comes back here.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub ctx: RealmCtx,
    pub me: SignedIn,
}

impl FromRequest for CurrentUser {
    type Error = WebError;
    type Future = Ready<Result<Self, WebError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        ready(current_user(req, payload))
    }
}

fn current_user(req: &HttpRequest, payload: &mut Payload) -> Result<CurrentUser, WebError> {
    let state = AppState::of(req);
    let ctx = RealmCtx::from_request(req, payload).into_inner()?;
    match ctx.signed_in(req, state)? {
        Some(me) => Ok(CurrentUser { ctx, me }),
        None => {
            let here = req
                .uri()
                .path_and_query()
                .map(|p| p.as_str())
                .unwrap_or("/");
            let back = if req.method() == actix_web::http::Method::GET {
                here
            } else {
                ""
            };
            let login = if back.is_empty() {
                ctx.paths.login()
            } else {
                ctx.paths.login_then(back)
            };
            Err(WebError::SignInRequired { login })
        }
    }
}

/// A signed-in staff admin whose browser holds the session's admin cookie (the
/// session cookie alone, which protected apps may see, never opens the console).
#[derive(Debug, Clone)]
pub struct StaffAdmin(pub AdminSession);

/// A staff admin's session, with what the console's top bar shows: the
/// organisation's name (or "Gatehouse") and logo. Reads as the [`SignedIn`] it holds.
#[derive(Debug, Clone)]
pub struct AdminSession {
    pub signed_in: SignedIn,
    /// "Acme Ltd admin", or "Gatehouse admin" without an organisation name.
    pub console_name: String,
    pub logo_url: Option<String>,
}

impl std::ops::Deref for AdminSession {
    type Target = SignedIn;

    fn deref(&self) -> &SignedIn {
        &self.signed_in
    }
}

/// Shown when the session is right but the admin cookie is missing or wrong.
const NO_ADMIN_COOKIE: &str = "This browser's session does not open the admin console. Sign out, then sign in again at this address.";

impl StaffAdmin {
    fn check(req: &HttpRequest) -> Result<StaffAdmin, WebError> {
        // Always the staff realm, whatever the path's parameters are called.
        let state = AppState::of(req);
        let ctx = RealmCtx::staff(state);
        match ctx.signed_in(req, state) {
            Ok(Some(me)) if me.user.role == Role::Admin => {
                let admin_cookie = req.cookie(state.cookies.admin_name());
                let secret = admin_cookie.as_ref().map(|c| c.value());
                if state.services.admin_secret_matches(&me.session, secret) {
                    Ok(StaffAdmin(AdminSession {
                        signed_in: me,
                        console_name: format!("{} admin", ctx.brand),
                        logo_url: ctx.logo_url.clone(),
                    }))
                } else {
                    Err(WebError::Service(ServiceError::Forbidden(
                        NO_ADMIN_COOKIE.to_owned(),
                    )))
                }
            }
            Ok(Some(_)) => Err(WebError::AdminOnly),
            Ok(None) => {
                let here = req
                    .uri()
                    .path_and_query()
                    .map(|p| p.as_str())
                    .unwrap_or("/");
                let login = if req.method() == actix_web::http::Method::GET {
                    ctx.paths.login_then(here)
                } else {
                    ctx.paths.login()
                };
                Err(WebError::SignInRequired { login })
            }
            Err(e) => Err(e),
        }
    }

    /// The admin of a request, if it has one (for the step-up gate, which lets the
    /// handler's own extractor answer every other case).
    pub fn of(req: &HttpRequest) -> Option<StaffAdmin> {
        StaffAdmin::check(req).ok()
    }
}

impl FromRequest for StaffAdmin {
    type Error = WebError;
    type Future = Ready<Result<Self, WebError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(StaffAdmin::check(req))
    }
}
