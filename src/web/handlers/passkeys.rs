//! Passkey pages: the account's list (add, remove), the second step answered with a
//! passkey, signing in with a passkey alone, and a passkey at the first sign-in's
//! enrolment. Each handler extracts, makes one service call and maps the outcome.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use super::enrolment::render_enrol_page;
use super::login::{LoginPage, expired, render_code_page};
use super::{chrome, safe_next, set_session_cookies, with_session};
use crate::service::ServiceError;
use crate::service::passkeys::NewPasskey;
use crate::service::passkeys::sign_in::PasskeyAnswer;
use crate::web::csrf::{CsrfForm, CsrfToken};
use crate::web::error::WebResult;
use crate::web::request::{ClientOrigin, CurrentUser, RealmCtx};
use crate::web::views::login::{RecoveryCodesView, recovery_codes_page};
use crate::web::views::passkeys::{PasskeysView, passkeys_page};
use crate::web::{AppState, html, see_other};

/// A browser's answer to a ceremony (filled in by `passkeys.js`).
#[derive(Debug, Deserialize)]
pub struct AnswerForm {
    #[serde(default)]
    ceremony: String,
    #[serde(default)]
    credential: String,
    #[serde(default)]
    name: String,
    next: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct RemoveForm {
    #[serde(default)]
    passkey: String,
}

#[derive(Debug, Deserialize)]
pub struct NoticeQuery {
    added: Option<String>,
    removed: Option<String>,
}

const PASSKEY_FAILED: &str = "That passkey was not accepted.";

fn render(
    req: &HttpRequest,
    current: &CurrentUser,
    csrf: &str,
    status: StatusCode,
    error: Option<&str>,
    notice: Option<&str>,
) -> WebResult<HttpResponse> {
    let state = AppState::of(req);
    let passkeys = state.services.passkeys(&current.me)?;
    let add = match state.services.begin_passkey_registration(&current.me) {
        Ok(prompt) => Ok(prompt),
        Err(ServiceError::Forbidden(why)) => Err(why),
        Err(e) => return Err(e.into()),
    };
    Ok(html(
        status,
        passkeys_page(&PasskeysView {
            chrome: chrome(&current.ctx, "Passkeys", Some(&current.me), csrf),
            paths: &current.ctx.paths,
            csrf,
            passkeys: &passkeys,
            add,
            error,
            notice,
        }),
    ))
}

/// `GET /account/passkeys`
pub async fn passkeys(
    req: HttpRequest,
    current: CurrentUser,
    csrf: CsrfToken,
    query: web::Query<NoticeQuery>,
) -> WebResult<HttpResponse> {
    let notice = if query.added.is_some() {
        Some("Your passkey was added.")
    } else if query.removed.is_some() {
        Some("The passkey was removed.")
    } else {
        None
    };
    render(&req, &current, &csrf.0, StatusCode::OK, None, notice)
}

/// `POST /account/passkeys`
pub async fn add(
    req: HttpRequest,
    current: CurrentUser,
    csrf: CsrfToken,
    origin: ClientOrigin,
    form: CsrfForm<AnswerForm>,
) -> WebResult<HttpResponse> {
    let state = AppState::of(&req);
    let f = form.0;
    let answer = NewPasskey {
        ceremony: f.ceremony,
        name: f.name,
        credential_json: f.credential,
    };
    match state
        .services
        .add_passkey(current.me.clone(), answer, origin.0)
        .await
    {
        Ok(_) => Ok(see_other(&format!(
            "{}?added=1",
            current.ctx.paths.account_passkeys()
        ))),
        Err(ServiceError::Invalid(message)) => render(
            &req,
            &current,
            &csrf.0,
            StatusCode::BAD_REQUEST,
            Some(&message),
            None,
        ),
        Err(ServiceError::Conflict(message)) => render(
            &req,
            &current,
            &csrf.0,
            StatusCode::CONFLICT,
            Some(&message),
            None,
        ),
        Err(e) => Err(e.into()),
    }
}

/// `POST /account/passkeys/remove`
pub async fn remove(
    req: HttpRequest,
    current: CurrentUser,
    origin: ClientOrigin,
    form: CsrfForm<RemoveForm>,
) -> WebResult<HttpResponse> {
    let state = AppState::of(&req);
    state
        .services
        .remove_passkey(current.me.clone(), form.0.passkey, origin.0)
        .await?;
    Ok(see_other(&format!(
        "{}?removed=1",
        current.ctx.paths.account_passkeys()
    )))
}

/// `POST /login/mfa/passkey`
pub async fn second_step(
    req: HttpRequest,
    ctx: RealmCtx,
    csrf: CsrfToken,
    origin: ClientOrigin,
    form: CsrfForm<AnswerForm>,
) -> WebResult<HttpResponse> {
    let state = AppState::of(&req);
    let Some(token) = ctx.token(&req) else {
        return Ok(expired(&ctx));
    };
    let answer = PasskeyAnswer {
        realm: ctx.realm,
        ceremony: form.0.ceremony,
        credential_json: form.0.credential,
        pending_token: Some(token),
        next: None,
        origin: origin.0,
    };
    match state
        .services
        .login_with_passkey_second_factor(answer)
        .await
    {
        Ok(session) => {
            let next = session
                .session
                .next
                .clone()
                .unwrap_or_else(|| ctx.paths.account());
            Ok(with_session(&state.cookies, &ctx, &session, &next))
        }
        Err(ServiceError::InvalidCode) => Ok(render_code_page(
            &req,
            &ctx,
            &csrf.0,
            StatusCode::UNAUTHORIZED,
            Some(PASSKEY_FAILED),
        )),
        Err(ServiceError::SignInExpired) => Ok(expired(&ctx)),
        Err(e) => Err(e.into()),
    }
}

/// `POST /login/passkey`
pub async fn sign_in(
    req: HttpRequest,
    ctx: RealmCtx,
    csrf: CsrfToken,
    origin: ClientOrigin,
    form: CsrfForm<AnswerForm>,
) -> WebResult<HttpResponse> {
    let state = AppState::of(&req);
    let f = form.0;
    let next = safe_next(state, f.next.as_deref(), None);
    let answer = PasskeyAnswer {
        realm: ctx.realm,
        ceremony: f.ceremony,
        credential_json: f.credential,
        pending_token: None,
        next: next.clone(),
        origin: origin.0,
    };
    match state.services.login_with_passkey(answer).await {
        Ok(session) => {
            let to = session
                .session
                .next
                .clone()
                .unwrap_or_else(|| ctx.paths.account());
            Ok(with_session(&state.cookies, &ctx, &session, &to))
        }
        // The same page, status and body whatever was wrong.
        Err(ServiceError::LoginFailed) => {
            let options = state.services.login_options(ctx.realm)?;
            let page = LoginPage {
                ctx: &ctx,
                csrf: &csrf.0,
                next: next.as_deref(),
                forgot: state.services.mail_enabled() && !options.sso_only,
                options,
                emergency: false,
                identify: false,
                passkey: state.services.begin_passkey_sign_in(ctx.realm)?,
            };
            Ok(page.render(StatusCode::UNAUTHORIZED, "", Some(PASSKEY_FAILED), None))
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /mfa/setup/passkey`
pub async fn enrol(
    req: HttpRequest,
    ctx: RealmCtx,
    csrf: CsrfToken,
    origin: ClientOrigin,
    form: CsrfForm<AnswerForm>,
) -> WebResult<HttpResponse> {
    let state = AppState::of(&req);
    let Some(token) = ctx.token(&req) else {
        return Ok(expired(&ctx));
    };
    let f = form.0;
    let answer = NewPasskey {
        ceremony: f.ceremony,
        name: f.name,
        credential_json: f.credential,
    };
    match state
        .services
        .enrol_with_passkey(ctx.realm, token.clone(), answer, origin.0)
        .await
    {
        Ok(enrolled) => {
            let codes: Vec<String> = enrolled
                .recovery_codes
                .iter()
                .map(|c| c.expose().to_owned())
                .collect();
            let next = enrolled.next.clone().unwrap_or_else(|| ctx.paths.account());
            let markup = recovery_codes_page(&RecoveryCodesView {
                chrome: chrome(&ctx, "Save your recovery codes", None, &csrf.0),
                codes: &codes,
                continue_url: &next,
            });
            let mut response = html(StatusCode::OK, markup);
            set_session_cookies(&mut response, &state.cookies, &ctx, &enrolled.session);
            Ok(response)
        }
        Err(ServiceError::Invalid(message)) => {
            let offer = state.services.enrolment_offer(ctx.realm, token).await?;
            Ok(render_enrol_page(
                &req,
                &ctx,
                &csrf.0,
                &offer,
                StatusCode::BAD_REQUEST,
                Some(&message),
            ))
        }
        Err(ServiceError::SignInExpired) => Ok(expired(&ctx)),
        Err(e) => Err(e.into()),
    }
}
