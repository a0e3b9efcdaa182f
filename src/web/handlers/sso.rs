//! Microsoft sign-in pages: `/login/sso` (start), `/sso/callback` (finish), and
//! linking / unlinking a Microsoft account from the account page. The browser that
//! starts a sign-in gets a short-lived binding cookie; the callback only counts in
//! that same browser.

use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use super::{chrome, safe_next, with_session};
use crate::domain::sso::{STATE_PARAMETER_MAX, SsoPurpose, TRANSACTION_LIFETIME_SECS};
use crate::domain::text::neutralised;
use crate::domain::user::Realm;
use crate::service::sso::SsoOutcome;
use crate::service::sso::flow::{SsoCallback, SsoStart};
use crate::service::sso::portal::{ConsentCallback, ConsentOutcome};
use crate::web::csrf::{CsrfForm, CsrfToken};
use crate::web::error::{WebError, WebResult};
use crate::web::request::{ClientOrigin, CurrentUser, RealmCtx, StaffAdmin};
use crate::web::views::sso::{ClaimsView, claims_page};
use crate::web::{AppState, html, see_other, views};

const BINDING_COOKIE: &str = "gh_sso";

fn binding_name(state: &AppState) -> String {
    if state.config.is_https() {
        format!("__Host-{BINDING_COOKIE}")
    } else {
        BINDING_COOKIE.to_owned()
    }
}

/// A redirect to Microsoft that also sets the binding cookie.
pub fn to_microsoft(state: &AppState, start: &SsoStart) -> HttpResponse {
    let cookie = Cookie::build(binding_name(state), start.binding.expose().to_owned())
        .path("/")
        .http_only(true)
        .secure(state.config.is_https())
        .same_site(SameSite::Lax)
        .max_age(actix_web::cookie::time::Duration::seconds(
            TRANSACTION_LIFETIME_SECS,
        ))
        .finish();
    let mut response = see_other(&start.authorize_url);
    response.add_cookie(&cookie).ok();
    response
}

#[derive(Debug, Deserialize)]
pub struct StartQuery {
    next: Option<String>,
    rd: Option<String>,
}

/// `GET /login/sso`
pub async fn start(
    req: HttpRequest,
    ctx: RealmCtx,
    query: web::Query<StartQuery>,
) -> WebResult<HttpResponse> {
    let state = AppState::of(&req);
    let next = safe_next(state, query.next.as_deref(), query.rd.as_deref());
    let start = state
        .services
        .start_sso_via(ctx.realm, None, SsoPurpose::Login { next }, None)
        .await?;
    Ok(to_microsoft(state, &start))
}

/// `GET /login/sso/{provider}`
pub async fn start_provider(
    req: HttpRequest,
    ctx: RealmCtx,
    query: web::Query<StartQuery>,
) -> WebResult<HttpResponse> {
    let state = AppState::of(&req);
    let next = safe_next(state, query.next.as_deref(), query.rd.as_deref());
    // Under `/p/{slug}` the path has two parameters; take this one by name.
    let provider = req
        .match_info()
        .get("provider")
        .unwrap_or_default()
        .to_owned();
    if provider.len() > 32 {
        return Err(WebError::Service(crate::service::ServiceError::Sso(
            crate::service::sso::SsoFailure::NotAvailable,
        )));
    }
    let start = state
        .services
        .start_sso_via(ctx.realm, Some(&provider), SsoPurpose::Login { next }, None)
        .await?;
    Ok(to_microsoft(state, &start))
}

#[derive(Debug, Deserialize)]
pub struct CallbackQuery {
    state: Option<String>,
    code: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

/// `GET /sso/callback`
pub async fn callback(
    req: HttpRequest,
    origin: ClientOrigin,
    csrf: CsrfToken,
    query: web::Query<CallbackQuery>,
) -> WebResult<HttpResponse> {
    let state = AppState::of(&req);
    let query = query.into_inner();
    let callback = SsoCallback {
        state: query.state.filter(|s| s.len() <= STATE_PARAMETER_MAX),
        code: query.code,
        // The provider's words reach the audit trail and the log: no forged lines.
        error: query.error.as_deref().map(neutralised),
        error_description: query.error_description.as_deref().map(neutralised),
        binding: req
            .cookie(&binding_name(state))
            .map(|c| c.value().to_owned()),
        origin: origin.0,
    };
    let outcome = state.services.finish_sso(callback).await?;
    let mut response = match outcome {
        SsoOutcome::SignedIn {
            realm,
            portal,
            session,
            next,
        } => {
            let ctx = RealmCtx::for_realm(state, realm, portal.as_ref())?;
            let target = next.unwrap_or_else(|| ctx.paths.account());
            with_session(&state.cookies, &ctx, &session, &target)
        }
        SsoOutcome::Linked { realm, portal } => see_other(
            &RealmCtx::for_realm(state, realm, portal.as_ref())?
                .paths
                .account(),
        ),
        SsoOutcome::SteppedUp { next } => see_other(&next),
        SsoOutcome::Tested { identity } => html(
            StatusCode::OK,
            claims_page(&ClaimsView {
                chrome: chrome(&RealmCtx::staff(state), "Test sign-in", None, &csrf.0),
                identity: &identity,
            }),
        ),
        SsoOutcome::Failed {
            realm,
            portal,
            failure,
        } => {
            let login = match realm {
                Some(realm) => RealmCtx::for_realm(state, realm, portal.as_ref())
                    .map(|c| c.paths.login())
                    .unwrap_or_else(|_| "/login".to_owned()),
                None => "/login".to_owned(),
            };
            let error = WebError::Service(crate::service::ServiceError::Sso(failure));
            let (status, title, message) = error.describe();
            html(
                status,
                views::errors::page_with_link(title, &message, "Back to sign-in", &login),
            )
        }
    };
    let mut removal = Cookie::build(binding_name(state), "").path("/").finish();
    removal.make_removal();
    response.add_cookie(&removal).ok();
    Ok(response)
}

#[derive(Debug, Deserialize)]
pub struct ConsentQuery {
    admin_consent: Option<String>,
    tenant: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

/// `GET /sso/consent`: where a client's Entra admin lands after the consent prompt.
pub async fn consent(
    req: HttpRequest,
    origin: ClientOrigin,
    query: web::Query<ConsentQuery>,
) -> WebResult<HttpResponse> {
    let state = AppState::of(&req);
    let q = query.into_inner();
    let callback = ConsentCallback {
        admin_consent: q.admin_consent,
        tenant: q.tenant.as_deref().map(neutralised),
        state: q.state.filter(|s| s.len() <= STATE_PARAMETER_MAX),
        error: q.error.as_deref().map(neutralised),
        error_description: q.error_description.as_deref().map(neutralised),
        origin: origin.0,
    };
    let (status, title, message) = match state.services.finish_consent(callback).await? {
        ConsentOutcome::Granted { client } => (StatusCode::OK, "Consent granted", format!("Thank you: {client}'s users can now sign in to their portal with their Microsoft accounts.")),
        ConsentOutcome::Failed { client, error, description } => (
            StatusCode::BAD_REQUEST,
            "Consent not granted",
            format!("Microsoft reported that consent for {client} was not granted ({error}): {description}"),
        ),
        ConsentOutcome::TenantMismatch { client, claimed, expected } => (
            StatusCode::BAD_REQUEST,
            "Consent from another tenant",
            format!("Consent came from tenant {claimed}, but {client} is set up for tenant {expected}. Nothing was changed; ask the provider to check the tenant ID."),
        ),
        ConsentOutcome::Refused => (
            StatusCode::BAD_REQUEST,
            "Link not valid",
            "This consent answer is not valid: the link was already used, has expired, or was not made by this site. Ask the provider for a new link.".to_owned(),
        ),
    };
    Ok(html(
        status,
        views::errors::page_with_link(title, &message, "Close", "/"),
    ))
}

#[derive(Debug, Deserialize)]
pub struct NoFields {}

#[derive(Debug, Deserialize)]
pub struct LinkFields {
    /// The provider to link an account of (absent: the realm's Microsoft provider).
    #[serde(default)]
    provider: Option<String>,
}

/// `POST /account/sso/link`
pub async fn link(
    req: HttpRequest,
    current: CurrentUser,
    form: CsrfForm<LinkFields>,
) -> WebResult<HttpResponse> {
    let state = AppState::of(&req);
    let provider = form.0.provider.filter(|p| p.len() <= 32);
    let start = state
        .services
        .start_link(&current.me, provider.as_deref())
        .await?;
    Ok(to_microsoft(state, &start))
}

#[derive(Debug, Deserialize)]
pub struct UnlinkFields {
    #[serde(default)]
    tenant: String,
    #[serde(default)]
    subject: String,
}

/// `POST /account/sso/unlink`
pub async fn unlink(
    req: HttpRequest,
    current: CurrentUser,
    origin: ClientOrigin,
    form: CsrfForm<UnlinkFields>,
) -> WebResult<HttpResponse> {
    let state = AppState::of(&req);
    state
        .services
        .unlink_sso(current.me.clone(), form.0.tenant, form.0.subject, origin.0)
        .await?;
    Ok(see_other(&current.ctx.paths.account()))
}

/// `POST /admin/sso/test-sign-in`
pub async fn test_sign_in(
    req: HttpRequest,
    admin: StaffAdmin,
    _form: CsrfForm<NoFields>,
) -> WebResult<HttpResponse> {
    let state = AppState::of(&req);
    let start = state
        .services
        .start_sso(
            Realm::Staff,
            SsoPurpose::TestSignIn {
                admin_id: admin.0.user.id,
            },
        )
        .await?;
    Ok(to_microsoft(state, &start))
}
