//! "Forgot password?" and reset links: `GET,POST /login/forgot` and
//! `GET,POST /reset/{token}` (and the same under `/p/{slug}`). Every request for a
//! link gets the same redirect and then the same page, whatever the address; the
//! service decides whether an email goes out.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use super::chrome;
use crate::domain::password::Password;
use crate::service::ServiceError;
use crate::service::password_reset::{ResetRequest, ResetSubmission};
use crate::web::csrf::{CsrfForm, CsrfToken};
use crate::web::error::WebResult;
use crate::web::request::{ClientOrigin, RealmCtx};
use crate::web::views::forgot::{ForgotState, ForgotView, ResetView, forgot_page, reset_page};
use crate::web::{AppState, html, see_other};

#[derive(Debug, Deserialize)]
pub struct ForgotQuery {
    /// Set by the redirect after a request.
    sent: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct ForgotFields {
    #[serde(default)]
    email: String,
}

#[derive(Debug, Deserialize)]
pub struct ResetFields {
    #[serde(default)]
    password: String,
    #[serde(default)]
    password_confirm: String,
}

/// `GET /login/forgot`
pub async fn forgot_form(
    req: HttpRequest,
    ctx: RealmCtx,
    csrf: CsrfToken,
    query: web::Query<ForgotQuery>,
) -> WebResult<HttpResponse> {
    let state = AppState::of(&req);
    let view_state = if !state.services.mail_enabled() {
        ForgotState::NoEmail
    } else if query.sent.is_some() {
        ForgotState::Sent
    } else {
        ForgotState::Ask
    };
    Ok(html(
        StatusCode::OK,
        forgot_page(&ForgotView {
            chrome: chrome(&ctx, "Forgot password", None, &csrf.0),
            paths: &ctx.paths,
            csrf: &csrf.0,
            state: view_state,
        }),
    ))
}

/// `POST /login/forgot`: one answer for every address (a redirect to the "sent"
/// page), or 429 for every address once the limits trip.
pub async fn forgot_submit(
    req: HttpRequest,
    ctx: RealmCtx,
    origin: ClientOrigin,
    form: CsrfForm<ForgotFields>,
) -> WebResult<HttpResponse> {
    let state = AppState::of(&req);
    let request = ResetRequest {
        realm: ctx.realm,
        email: form.0.email,
        origin: origin.0,
    };
    state.services.request_password_reset(request).await?;
    Ok(see_other(&format!("{}?sent=1", ctx.paths.login_forgot())))
}

fn token_of(req: &HttpRequest) -> String {
    req.match_info().get("token").unwrap_or_default().to_owned()
}

fn render_reset(
    ctx: &RealmCtx,
    csrf: &str,
    token: &str,
    email: &str,
    status: StatusCode,
    error: Option<&str>,
) -> HttpResponse {
    let action = ctx.paths.reset(token);
    html(
        status,
        reset_page(&ResetView {
            chrome: chrome(ctx, "Choose a new password", None, csrf),
            action: &action,
            csrf,
            email,
            error,
        }),
    )
}

/// `GET /reset/{token}`
pub async fn reset_form(
    req: HttpRequest,
    ctx: RealmCtx,
    csrf: CsrfToken,
) -> WebResult<HttpResponse> {
    let state = AppState::of(&req);
    let token = token_of(&req);
    let user = state.services.check_reset_link(ctx.realm, &token)?;
    Ok(render_reset(
        &ctx,
        &csrf.0,
        &token,
        user.email.as_str(),
        StatusCode::OK,
        None,
    ))
}

/// `POST /reset/{token}`: on success back to sign-in (POST-redirect-GET), where the
/// new password and then the second factor are asked for.
pub async fn reset_submit(
    req: HttpRequest,
    ctx: RealmCtx,
    csrf: CsrfToken,
    origin: ClientOrigin,
    form: CsrfForm<ResetFields>,
) -> WebResult<HttpResponse> {
    let state = AppState::of(&req);
    let token = token_of(&req);
    let submission = ResetSubmission {
        realm: ctx.realm,
        token: token.clone(),
        password: Password::new(form.0.password),
        password_confirm: Password::new(form.0.password_confirm),
        origin: origin.0,
    };
    match state.services.reset_password(submission).await {
        Ok(_) => {
            // Any session cookie this browser held is dead now; drop it too.
            let mut response = see_other(&format!("{}?reset=1", ctx.paths.login()));
            response
                .add_cookie(&state.cookies.session_removal(ctx.cookie.clone()))
                .ok();
            Ok(response)
        }
        Err(ServiceError::Invalid(message)) => {
            let user = state.services.check_reset_link(ctx.realm, &token)?;
            Ok(render_reset(
                &ctx,
                &csrf.0,
                &token,
                user.email.as_str(),
                StatusCode::BAD_REQUEST,
                Some(&message),
            ))
        }
        Err(e) => Err(e.into()),
    }
}
