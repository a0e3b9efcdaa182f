//! Sign-in pages: `/login`, `/login/mfa`, `/mfa/setup`, `POST /logout` (and the same
//! under `/p/{slug}`). Each handler extracts, makes one service call and maps the
//! outcome to a page or redirect.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use super::{chrome, note_device, respond_to_step, safe_next, with_session};
use crate::domain::password::Password;
use crate::domain::session::Stage;
use crate::domain::sso::provider::ProviderKind;
use crate::service::ServiceError;
use crate::service::login::{CodeAttempt, LoginStep, PasswordAttempt};
use crate::service::passkeys::PasskeyPrompt;
use crate::service::policy::LoginOptions;
use crate::web::csrf::{CsrfForm, CsrfToken};
use crate::web::error::WebResult;
use crate::web::request::{ClientOrigin, RealmCtx};
use crate::web::views::login::{CodeView, LoginView, SsoButton, code_page, login_page};
use crate::web::{AppState, html, see_other};

#[derive(Debug, Deserialize)]
pub struct LoginQuery {
    next: Option<String>,
    /// Forward-auth's name for the return target.
    rd: Option<String>,
    /// Set when a half-finished sign-in expired.
    expired: Option<String>,
    /// Shows the password form under SSO-only (for break-glass accounts).
    emergency: Option<String>,
    /// Set by sign-out, to say so.
    signed_out: Option<String>,
    /// Set by the redirect after a password reset.
    reset: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    next: Option<String>,
    /// Set by the emergency-access form, so a failure shows that form again.
    emergency: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    pub(super) code: String,
}

#[derive(Debug, Deserialize)]
pub struct EmptyForm {}

const LOGIN_FAILED: &str = "The email or password is not right.";
pub(super) const CODE_FAILED: &str = "That code is not right, or was already used.";
const SIGN_IN_EXPIRED: &str = "Your sign-in expired. Please start again.";
const SIGNED_OUT: &str = "You have signed out.";
const NOT_SET_UP: &str = "Nobody can sign in yet: this installation has no administrator. Open the one-time setup link that `gatehouse serve` printed when it first started (restarting it prints a new one), or run `gatehouse admin create` on the server.";
const PASSWORD_RESET: &str =
    "Your password was changed and every session signed out. Sign in with your new password.";

/// The login page's inputs that do not depend on the outcome.
pub(super) struct LoginPage<'a> {
    pub ctx: &'a RealmCtx,
    pub csrf: &'a str,
    pub next: Option<&'a str>,
    pub options: LoginOptions,
    pub emergency: bool,
    /// Email-first: the page asks for the address only.
    pub identify: bool,
    /// "Forgot password?" is offered (email is on and passwords are allowed).
    pub forgot: bool,
    /// "Sign in with a passkey", where the realm allows it.
    pub passkey: Option<PasskeyPrompt>,
}

impl LoginPage<'_> {
    pub(super) fn render(
        &self,
        status: StatusCode,
        email: &str,
        error: Option<&str>,
        notice: Option<&str>,
    ) -> HttpResponse {
        self.render_with_wait(status, email, error, notice, None)
    }

    pub(super) fn render_with_wait(
        &self,
        status: StatusCode,
        email: &str,
        error: Option<&str>,
        notice: Option<&str>,
        retry_after_secs: Option<i64>,
    ) -> HttpResponse {
        let sso_buttons = self
            .options
            .buttons
            .iter()
            .map(|b| {
                let base = self.ctx.paths.login_sso_provider(&b.id);
                SsoButton {
                    label: format!("Sign in with {}", b.name),
                    url: match self.next {
                        Some(next) => format!(
                            "{base}?next={}",
                            url::form_urlencoded::byte_serialize(next.as_bytes())
                                .collect::<String>()
                        ),
                        None => base,
                    },
                    microsoft: b.kind == ProviderKind::Entra,
                }
            })
            .collect();
        html(
            status,
            login_page(&LoginView {
                chrome: chrome(self.ctx, "Sign in", None, self.csrf),
                paths: &self.ctx.paths,
                csrf: self.csrf,
                email,
                next: self.next,
                error,
                retry_after_secs,
                notice,
                sso_buttons,
                password_form: !self.options.sso_only || self.emergency,
                identify: self.identify && !self.emergency,
                emergency: self.options.sso_only && self.ctx.realm.is_staff(),
                forgot_url: self.forgot.then(|| self.ctx.paths.login_forgot()),
                passkey: self.passkey.as_ref(),
            }),
        )
    }
}

/// `GET /login`
pub async fn login_form(
    req: HttpRequest,
    ctx: RealmCtx,
    csrf: CsrfToken,
    query: web::Query<LoginQuery>,
) -> WebResult<HttpResponse> {
    let state = AppState::of(&req);
    let next = safe_next(state, query.next.as_deref(), query.rd.as_deref());
    if ctx.signed_in(&req, state)?.is_some() {
        return Ok(see_other(next.as_deref().unwrap_or(&ctx.paths.account())));
    }
    let notice = if query.reset.is_some() {
        Some(PASSWORD_RESET)
    } else if query.expired.is_some() {
        Some(SIGN_IN_EXPIRED)
    } else if query.signed_out.is_some() {
        Some(SIGNED_OUT)
    } else if ctx.realm.is_staff() && !state.services.has_staff_admin()? {
        Some(NOT_SET_UP)
    } else {
        None
    };
    let options = state.services.login_options(ctx.realm)?;
    let forgot = state.services.mail_enabled() && !options.sso_only;
    let email_first = options.email_first;
    let page = LoginPage {
        ctx: &ctx,
        csrf: &csrf.0,
        next: next.as_deref(),
        options,
        emergency: query.emergency.is_some() && ctx.realm.is_staff(),
        forgot,
        identify: email_first,
        passkey: state.services.begin_passkey_sign_in(ctx.realm)?,
    };
    Ok(page.render(StatusCode::OK, "", None, notice))
}

/// `POST /login`
pub async fn login_submit(
    req: HttpRequest,
    ctx: RealmCtx,
    csrf: CsrfToken,
    origin: ClientOrigin,
    form: CsrfForm<LoginForm>,
) -> WebResult<HttpResponse> {
    let state = AppState::of(&req);
    let form = form.0;
    let next = safe_next(state, form.next.as_deref(), None);
    let options = state.services.login_options(ctx.realm)?;
    let forgot = state.services.mail_enabled() && !options.sso_only;
    let page = LoginPage {
        ctx: &ctx,
        csrf: &csrf.0,
        next: next.as_deref(),
        options,
        emergency: form.emergency.is_some() && ctx.realm.is_staff(),
        forgot,
        identify: false,
        passkey: state.services.begin_passkey_sign_in(ctx.realm)?,
    };
    // A failed attempt shows the form again with the address as typed (the same for
    // every address, so it tells nothing).
    let email = form.email.clone();
    let attempt = PasswordAttempt {
        realm: ctx.realm,
        email: form.email.clone(),
        password: Password::new(form.password),
        next: next.clone(),
        origin: origin.0,
    };
    let origin = attempt.origin.clone();
    match state.services.login_with_password(attempt).await {
        Ok(step) => {
            let signed_in = match &step {
                LoginStep::Done(new) => Some(new.session.user_id),
                LoginStep::NeedCode(_) | LoginStep::NeedEnrolment(_) => None,
            };
            let mut response = respond_to_step(state, &ctx, step);
            if let Some(user) = signed_in {
                note_device(&req, state, &ctx, user, origin, &mut response).await;
            }
            Ok(response)
        }
        // The same page, status and body for every kind of failure.
        Err(ServiceError::LoginFailed) => {
            Ok(page.render(StatusCode::UNAUTHORIZED, &email, Some(LOGIN_FAILED), None))
        }
        Err(ServiceError::Invalid(message)) => {
            Ok(page.render(StatusCode::BAD_REQUEST, &email, Some(&message), None))
        }
        // Held off: the form stays, with how long to wait in words (counted down by
        // the page script where it runs).
        Err(ServiceError::Throttled { retry_after_secs }) => {
            let wait = retry_after_secs.max(1);
            let mut response = page.render_with_wait(
                StatusCode::TOO_MANY_REQUESTS,
                &email,
                Some(&throttled_message(wait)),
                None,
                Some(wait),
            );
            response.headers_mut().insert(
                actix_web::http::header::RETRY_AFTER,
                actix_web::http::header::HeaderValue::from(wait),
            );
            Ok(response)
        }
        Err(e) => Err(e.into()),
    }
}

/// What the sign-in page says while attempts are held off.
pub fn throttled_message(wait_secs: i64) -> String {
    format!(
        "Too many failed attempts. Wait {}, then try again.",
        crate::web::views::components::wait_in_words(wait_secs)
    )
}

pub(super) fn expired(ctx: &RealmCtx) -> HttpResponse {
    see_other(&format!("{}?expired=1", ctx.paths.login()))
}

/// `GET /login/mfa`
pub async fn code_form(
    req: HttpRequest,
    ctx: RealmCtx,
    csrf: CsrfToken,
) -> WebResult<HttpResponse> {
    let state = AppState::of(&req);
    let pending = match ctx.token(&req) {
        Some(token) => state
            .services
            .session_for(ctx.realm, &token, Stage::PendingMfa)?,
        None => None,
    };
    if pending.is_none() {
        return Ok(expired(&ctx));
    }
    Ok(render_code_page(&req, &ctx, &csrf.0, StatusCode::OK, None))
}

/// The second step's page, offering the user's passkeys when they have any.
pub(super) fn render_code_page(
    req: &HttpRequest,
    ctx: &RealmCtx,
    csrf: &str,
    status: StatusCode,
    error: Option<&str>,
) -> HttpResponse {
    let state = AppState::of(req);
    let passkey = ctx.token(req).and_then(|token| {
        state
            .services
            .begin_passkey_second_factor(ctx.realm, &token)
            .ok()
            .flatten()
    });
    html(
        status,
        code_page(&CodeView {
            chrome: chrome(ctx, "Enter your code", None, csrf),
            paths: &ctx.paths,
            csrf,
            error,
            passkey: passkey.as_ref(),
        }),
    )
}

/// `POST /login/mfa`
pub async fn code_submit(
    req: HttpRequest,
    ctx: RealmCtx,
    csrf: CsrfToken,
    origin: ClientOrigin,
    form: CsrfForm<CodeForm>,
) -> WebResult<HttpResponse> {
    let state = AppState::of(&req);
    let Some(token) = ctx.token(&req) else {
        return Ok(expired(&ctx));
    };
    let origin_for_device = origin.0.clone();
    let attempt = CodeAttempt {
        realm: ctx.realm,
        pending_token: token,
        code: form.0.code,
        origin: origin.0,
    };
    match state.services.login_with_code(attempt).await {
        Ok(session) => {
            let next = session
                .session
                .next
                .clone()
                .unwrap_or_else(|| ctx.paths.account());
            let mut response = with_session(&state.cookies, &ctx, &session, &next);
            note_device(
                &req,
                state,
                &ctx,
                session.session.user_id,
                origin_for_device,
                &mut response,
            )
            .await;
            Ok(response)
        }
        Err(ServiceError::InvalidCode) => Ok(render_code_page(
            &req,
            &ctx,
            &csrf.0,
            StatusCode::UNAUTHORIZED,
            Some(CODE_FAILED),
        )),
        Err(ServiceError::SignInExpired) => Ok(expired(&ctx)),
        Err(e) => Err(e.into()),
    }
}

/// `POST /logout`
pub async fn logout(
    req: HttpRequest,
    ctx: RealmCtx,
    origin: ClientOrigin,
    _form: CsrfForm<EmptyForm>,
) -> WebResult<HttpResponse> {
    let state = AppState::of(&req);
    if let Some(token) = ctx.token(&req) {
        state.services.logout(token, origin.0).await?;
    }
    let mut response = see_other(&format!("{}?signed_out=1", ctx.paths.login()));
    response
        .add_cookie(&state.cookies.session_removal(ctx.cookie.clone()))
        .ok();
    if ctx.realm.is_staff() {
        response.add_cookie(&state.cookies.admin_removal()).ok();
    }
    Ok(response)
}
