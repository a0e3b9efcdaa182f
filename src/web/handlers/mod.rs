//! Handlers for the sign-in, onboarding and account pages, and the route table for
//! them. Realm pages are registered twice: at the root for staff and under
//! `/p/{slug}` for client portals.

pub mod account;
pub mod enrolment;
pub mod forgot;
pub mod forward_auth;
pub mod health;
pub mod identify;
pub mod login;
pub mod onboarding;
pub mod passkeys;
pub mod portal;
pub mod sso;

use actix_web::{HttpRequest, HttpResponse, web};

use super::AppState;
use super::assets;
use super::cookies::CookieSettings;
use super::error::WebResult;
use super::paths;
use super::request::RealmCtx;
use super::views::layout::{CardLogo, Chrome, Nav};
use crate::domain::user::Role;
use crate::service::NewSession;
use crate::service::login::LoginStep;
use crate::service::sessions::SignedIn;

/// Where to send the browser after sign-in: `next` (or, when absent, nginx's `rd`) if
/// it is a safe target — our own origin or an allowed forward-auth host.
pub(crate) fn safe_next(state: &AppState, next: Option<&str>, rd: Option<&str>) -> Option<String> {
    next.or(rd).and_then(|n| state.services.safe_target(n))
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    // Routes are tried in order. The forward-auth checks come first: every request of
    // every protected app is one, and each pattern tried before them (the dynamic ones
    // run a regex) costs them time.
    cfg.route(
        paths::AUTH_REQUEST,
        web::get().to(forward_auth::auth_request),
    )
    .route(
        paths::FORWARD_AUTH,
        web::get().to(forward_auth::forward_auth),
    )
    .route(paths::HOME, web::get().to(home))
    .route(paths::HEALTHZ, web::get().to(health::healthz))
    .route(paths::STAFF_LOGO, web::get().to(portal::staff_logo))
    .route(paths::ASSETS, web::get().to(assets::serve))
    .route(paths::SETUP, web::get().to(onboarding::setup_form))
    .route(paths::SETUP, web::post().to(onboarding::setup_submit))
    .route(paths::SSO_CALLBACK, web::get().to(sso::callback))
    .route(paths::SSO_CONSENT, web::get().to(sso::consent));
    realm_routes(cfg);
    cfg.service(
        web::scope(paths::PORTAL_SCOPE)
            .route(paths::PORTAL_BRAND_CSS, web::get().to(portal::brand_css))
            .route(paths::PORTAL_LOGO, web::get().to(portal::logo))
            .route(paths::HOME, web::get().to(portal_home))
            .configure(realm_routes),
    );
}

/// The pages every realm has.
fn realm_routes(cfg: &mut web::ServiceConfig) {
    cfg.route(paths::LOGIN, web::get().to(login::login_form))
        .route(paths::LOGIN, web::post().to(login::login_submit))
        .route(paths::LOGIN_FORGOT, web::get().to(forgot::forgot_form))
        .route(paths::LOGIN_FORGOT, web::post().to(forgot::forgot_submit))
        .route(paths::RESET, web::get().to(forgot::reset_form))
        .route(paths::RESET, web::post().to(forgot::reset_submit))
        .route(paths::LOGIN_MFA, web::get().to(login::code_form))
        .route(paths::LOGIN_MFA, web::post().to(login::code_submit))
        .route(paths::MFA_SETUP, web::get().to(enrolment::enrol_form))
        .route(paths::MFA_SETUP, web::post().to(enrolment::enrol_submit))
        .route(paths::LOGOUT, web::post().to(login::logout))
        .route(paths::LOGIN_SSO, web::get().to(sso::start))
        .route(paths::LOGIN_IDENTIFY, web::post().to(identify::identify))
        .route(
            paths::LOGIN_SSO_PROVIDER,
            web::get().to(sso::start_provider),
        )
        .route(paths::ACCOUNT_SSO_LINK, web::post().to(sso::link))
        .route(paths::ACCOUNT_SSO_UNLINK, web::post().to(sso::unlink))
        .route(paths::INVITE, web::get().to(onboarding::invite_form))
        .route(paths::INVITE, web::post().to(onboarding::invite_submit))
        .route(paths::ACCOUNT, web::get().to(account::account_page))
        .route(
            paths::ACCOUNT_PASSWORD,
            web::post().to(account::change_password),
        )
        .route(
            paths::ACCOUNT_RECOVERY_CODES,
            web::get().to(account::recovery_codes),
        )
        .route(
            paths::ACCOUNT_RECOVERY_CODES,
            web::post().to(account::regenerate_recovery_codes),
        )
        .route(
            paths::ACCOUNT_SESSIONS_REVOKE,
            web::post().to(account::revoke_session),
        )
        .route(paths::ACCOUNT_PASSKEYS, web::get().to(passkeys::passkeys))
        .route(paths::ACCOUNT_PASSKEYS, web::post().to(passkeys::add))
        .route(
            paths::ACCOUNT_PASSKEYS_REMOVE,
            web::post().to(passkeys::remove),
        )
        .route(
            paths::LOGIN_MFA_PASSKEY,
            web::post().to(passkeys::second_step),
        )
        .route(paths::LOGIN_PASSKEY, web::post().to(passkeys::sign_in))
        .route(paths::MFA_SETUP_PASSKEY, web::post().to(passkeys::enrol));
}

/// `GET /`: the account page when signed in, else sign-in.
async fn home(req: HttpRequest) -> WebResult<HttpResponse> {
    let state = AppState::of(&req);
    let ctx = RealmCtx::staff(state);
    Ok(match ctx.signed_in(&req, state)? {
        Some(_) => super::see_other(paths::ACCOUNT),
        None => super::see_other(paths::LOGIN),
    })
}

/// `GET /p/{slug}/`: the portal's account page when signed in, else its sign-in.
async fn portal_home(req: HttpRequest, ctx: RealmCtx) -> WebResult<HttpResponse> {
    let state = AppState::of(&req);
    Ok(match ctx.signed_in(&req, state)? {
        Some(_) => super::see_other(&ctx.paths.account()),
        None => super::see_other(&ctx.paths.login()),
    })
}

/// The page frame for a realm page, with the user's menu when signed in.
pub fn chrome<'a>(
    ctx: &'a RealmCtx,
    title: &'a str,
    me: Option<&'a SignedIn>,
    csrf: &'a str,
) -> Chrome<'a> {
    Chrome {
        title,
        brand: &ctx.brand,
        style_url: ctx.style_url.as_deref(),
        logo_url: ctx.logo_url.as_deref(),
        card_logo: ctx
            .logo_url
            .as_deref()
            .filter(|_| ctx.logo_on_card)
            .map(|url| CardLogo {
                url,
                alt: &ctx.logo_alt,
            }),
        footer: ctx.footer.as_deref(),
        nav: me.map(|me| Nav {
            user_name: me.user.name_or_email(),
            account_url: ctx.paths.account(),
            logout_url: ctx.paths.logout(),
            csrf,
            admin: me.user.realm.is_staff() && me.user.role == Role::Admin,
        }),
    }
}

/// A redirect that also sets the realm's session cookie to a new session.
pub fn with_session(
    cookies: &CookieSettings,
    ctx: &RealmCtx,
    new: &NewSession,
    location: &str,
) -> HttpResponse {
    let mut response = super::see_other(location);
    set_session_cookies(&mut response, cookies, ctx, new);
    response
}

/// Sets the realm's session cookie to `new`, and the admin cookie when it has one.
pub fn set_session_cookies(
    response: &mut HttpResponse,
    cookies: &CookieSettings,
    ctx: &RealmCtx,
    new: &NewSession,
) {
    response
        .add_cookie(&cookies.session(ctx.cookie.clone(), new.token.expose().to_owned()))
        .ok();
    if let Some(secret) = &new.admin_secret {
        response
            .add_cookie(&cookies.admin(secret.expose().to_owned()))
            .ok();
    }
}

/// The one place a sign-in step becomes a response.
pub fn respond_to_step(state: &AppState, ctx: &RealmCtx, step: LoginStep) -> HttpResponse {
    match step {
        LoginStep::NeedCode(pending) => {
            with_session(&state.cookies, ctx, &pending, &ctx.paths.login_mfa())
        }
        LoginStep::NeedEnrolment(pending) => {
            with_session(&state.cookies, ctx, &pending, &ctx.paths.mfa_setup())
        }
        LoginStep::Done(session) => {
            let next = session
                .session
                .next
                .clone()
                .unwrap_or_else(|| ctx.paths.account());
            with_session(&state.cookies, ctx, &session, &next)
        }
    }
}

/// After a completed password sign-in: records the browser as one of the user's
/// devices (the user is told when it is new to them) and (re)sets its device cookie.
/// A failure here never fails the sign-in.
pub async fn note_device(
    req: &HttpRequest,
    state: &AppState,
    ctx: &RealmCtx,
    user: crate::domain::user::UserId,
    origin: crate::domain::session::Origin,
    response: &mut HttpResponse,
) {
    let name = state.cookies.device_name(&ctx.cookie);
    let presented = req.cookie(&name).map(|c| c.value().to_owned());
    match state
        .services
        .recognise_device(user, presented, origin)
        .await
    {
        Ok(check) => {
            response
                .add_cookie(&state.cookies.device(name, check.cookie.expose().to_owned()))
                .ok();
        }
        Err(e) => tracing::warn!(error = %e, "device check failed; sign-in goes on"),
    }
}
