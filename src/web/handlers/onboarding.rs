//! The first-admin setup page and invitation acceptance.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use super::{chrome, respond_to_step, with_session};
use crate::domain::password::Password;
use crate::service::ServiceError;
use crate::service::invites::Acceptance;
use crate::service::setup::SetupForm;
use crate::web::csrf::{CsrfForm, CsrfToken};
use crate::web::error::WebResult;
use crate::web::paths;
use crate::web::request::{ClientOrigin, RealmCtx};
use crate::web::views::onboarding::{InviteView, SetupView, invite_page, setup_page};
use crate::web::{AppState, html};

#[derive(Debug, Deserialize)]
pub struct SetupFields {
    #[serde(default)]
    email: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    password_confirm: String,
}

#[derive(Debug, Deserialize)]
pub struct PasswordFields {
    #[serde(default)]
    password: String,
    #[serde(default)]
    password_confirm: String,
}

/// `GET /setup/{token}`
pub async fn setup_form(
    req: HttpRequest,
    token: web::Path<String>,
    csrf: CsrfToken,
) -> WebResult<HttpResponse> {
    let state = AppState::of(&req);
    state.services.check_setup_token(&token)?;
    let action = paths::setup(&token);
    Ok(html(
        StatusCode::OK,
        setup_page(&SetupView {
            action: &action,
            csrf: &csrf.0,
            email: "",
            name: "",
            error: None,
        }),
    ))
}

/// `POST /setup/{token}`
pub async fn setup_submit(
    req: HttpRequest,
    token: web::Path<String>,
    csrf: CsrfToken,
    origin: ClientOrigin,
    form: CsrfForm<SetupFields>,
) -> WebResult<HttpResponse> {
    let state = AppState::of(&req);
    let fields = form.0;
    let (email, name) = (fields.email.clone(), fields.name.clone());
    let submitted = SetupForm {
        token: token.to_string(),
        email: fields.email,
        name: fields.name,
        password: Password::new(fields.password),
        password_confirm: Password::new(fields.password_confirm),
        origin: origin.0,
    };
    match state.services.complete_setup(submitted).await {
        Ok(pending) => {
            let ctx = RealmCtx::staff(state);
            Ok(with_session(
                &state.cookies,
                &ctx,
                &pending,
                &ctx.paths.mfa_setup(),
            ))
        }
        Err(ServiceError::Invalid(message) | ServiceError::Conflict(message)) => {
            let action = paths::setup(&token);
            Ok(html(
                StatusCode::BAD_REQUEST,
                setup_page(&SetupView {
                    action: &action,
                    csrf: &csrf.0,
                    email: &email,
                    name: &name,
                    error: Some(&message),
                }),
            ))
        }
        Err(e) => Err(e.into()),
    }
}

fn render_invite(
    ctx: &RealmCtx,
    csrf: &str,
    token: &str,
    email: &str,
    status: StatusCode,
    error: Option<&str>,
    password_allowed: bool,
) -> HttpResponse {
    let action = ctx.paths.invite(token);
    let login = ctx.paths.login();
    html(
        status,
        invite_page(&InviteView {
            chrome: chrome(ctx, "Accept invitation", None, csrf),
            action: &action,
            csrf,
            email,
            error,
            password_allowed,
            login_url: &login,
        }),
    )
}

/// `GET /invite/{token}`
pub async fn invite_form(
    req: HttpRequest,
    ctx: RealmCtx,
    csrf: CsrfToken,
) -> WebResult<HttpResponse> {
    let state = AppState::of(&req);
    let token = req.match_info().get("token").unwrap_or_default().to_owned();
    let invited = state.services.check_invite(ctx.realm, &token)?;
    let allowed = state.services.password_allowed(&invited)?;
    Ok(render_invite(
        &ctx,
        &csrf.0,
        &token,
        invited.email.as_str(),
        StatusCode::OK,
        None,
        allowed,
    ))
}

/// `POST /invite/{token}`
pub async fn invite_submit(
    req: HttpRequest,
    ctx: RealmCtx,
    csrf: CsrfToken,
    origin: ClientOrigin,
    form: CsrfForm<PasswordFields>,
) -> WebResult<HttpResponse> {
    let state = AppState::of(&req);
    let token = req.match_info().get("token").unwrap_or_default().to_owned();
    let acceptance = Acceptance {
        realm: ctx.realm,
        token: token.clone(),
        password: Password::new(form.0.password),
        password_confirm: Password::new(form.0.password_confirm),
        origin: origin.0,
    };
    match state.services.accept_invite(acceptance).await {
        Ok(step) => Ok(respond_to_step(state, &ctx, step)),
        Err(ServiceError::Invalid(message)) => {
            let invited = state.services.check_invite(ctx.realm, &token)?;
            Ok(render_invite(
                &ctx,
                &csrf.0,
                &token,
                invited.email.as_str(),
                StatusCode::BAD_REQUEST,
                Some(&message),
                true,
            ))
        }
        Err(e) => Err(e.into()),
    }
}
