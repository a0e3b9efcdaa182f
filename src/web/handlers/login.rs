//! Sign-in pages: `/login`, `/login/mfa`, `/mfa/setup`, `POST /logout` (and the same
//! under `/p/{slug}`). Each handler extracts, makes one service call and maps the
//! outcome to a page or redirect.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;

use super::{chrome, respond_to_step, safe_next, set_session_cookies, with_session};
use crate::domain::password::Password;
use crate::domain::session::Stage;
use crate::service::ServiceError;
use crate::service::login::{CodeAttempt, PasswordAttempt};
use crate::service::passkeys::PasskeyPrompt;
use crate::service::policy::LoginOptions;
use crate::web::csrf::{CsrfForm, CsrfToken};
use crate::web::error::WebResult;
use crate::web::request::{ClientOrigin, RealmCtx};
use crate::web::views::login::{
    CodeView, EnrolView, LoginView, RecoveryCodesView, code_page, enrol_page, login_page,
    recovery_codes_page,
};
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
    code: String,
}

#[derive(Debug, Deserialize)]
pub struct EmptyForm {}

const LOGIN_FAILED: &str = "The email or password is not right.";
const CODE_FAILED: &str = "That code is not right, or was already used.";
const SIGN_IN_EXPIRED: &str = "Your sign-in expired. Please start again.";

/// The login page's inputs that do not depend on the outcome.
pub(super) struct LoginPage<'a> {
    pub(super) ctx: &'a RealmCtx,
    pub(super) csrf: &'a str,
    pub(super) next: Option<&'a str>,
    pub(super) options: LoginOptions,
    pub(super) emergency: bool,
    /// "Sign in with a passkey", where the realm allows it.
    pub(super) passkey: Option<PasskeyPrompt>,
}

impl LoginPage<'_> {
    pub(super) fn render(
        &self,
        status: StatusCode,
        email: &str,
        error: Option<&str>,
        notice: Option<&str>,
    ) -> HttpResponse {
        let sso_url = self.options.sso.then(|| match self.next {
            Some(next) => format!(
                "{}?next={}",
                self.ctx.paths.login_sso(),
                url::form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
            ),
            None => self.ctx.paths.login_sso(),
        });
        html(
            status,
            login_page(&LoginView {
                chrome: chrome(self.ctx, "Sign in", None, self.csrf),
                paths: &self.ctx.paths,
                csrf: self.csrf,
                email,
                next: self.next,
                error,
                notice,
                sso_url,
                password_form: !self.options.sso_only || self.emergency,
                emergency: self.options.sso_only && self.ctx.realm.is_staff(),
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
    let notice = query.expired.as_ref().map(|_| SIGN_IN_EXPIRED);
    let page = LoginPage {
        ctx: &ctx,
        csrf: &csrf.0,
        next: next.as_deref(),
        options: state.services.login_options(ctx.realm)?,
        emergency: query.emergency.is_some() && ctx.realm.is_staff(),
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
    let page = LoginPage {
        ctx: &ctx,
        csrf: &csrf.0,
        next: next.as_deref(),
        options: state.services.login_options(ctx.realm)?,
        emergency: form.emergency.is_some() && ctx.realm.is_staff(),
        passkey: state.services.begin_passkey_sign_in(ctx.realm)?,
    };
    let attempt = PasswordAttempt {
        realm: ctx.realm,
        email: form.email.clone(),
        password: Password::new(form.password),
        next: next.clone(),
        origin: origin.0,
    };
    match state.services.login_with_password(attempt).await {
        Ok(step) => Ok(respond_to_step(state, &ctx, step)),
        // The same page, status and body for every kind of failure.
        Err(ServiceError::LoginFailed) => {
            Ok(page.render(StatusCode::UNAUTHORIZED, "", Some(LOGIN_FAILED), None))
        }
        Err(ServiceError::Invalid(message)) => {
            Ok(page.render(StatusCode::BAD_REQUEST, "", Some(&message), None))
        }
        Err(e) => Err(e.into()),
    }
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
            Ok(with_session(&state.cookies, &ctx, &session, &next))
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

/// `GET /mfa/setup`
pub async fn enrol_form(
    req: HttpRequest,
    ctx: RealmCtx,
    csrf: CsrfToken,
) -> WebResult<HttpResponse> {
    let state = AppState::of(&req);
    let Some(token) = ctx.token(&req) else {
        return Ok(expired(&ctx));
    };
    match state.services.enrolment_offer(ctx.realm, token).await {
        Ok(offer) => Ok(render_enrol_page(
            &req,
            &ctx,
            &csrf.0,
            &offer,
            StatusCode::OK,
            None,
        )),
        Err(ServiceError::SignInExpired) => Ok(expired(&ctx)),
        Err(e) => Err(e.into()),
    }
}

pub(super) fn render_enrol_page(
    req: &HttpRequest,
    ctx: &RealmCtx,
    csrf: &str,
    offer: &crate::service::enrolment::EnrolmentOffer,
    status: StatusCode,
    error: Option<&str>,
) -> HttpResponse {
    let state = AppState::of(req);
    let me = ctx.signed_in(req, state).ok().flatten();
    let qr = qr_data_uri(&offer.otpauth_uri);
    let passkey = ctx.token(req).and_then(|token| {
        state
            .services
            .begin_enrolment_passkey(ctx.realm, &token)
            .ok()
    });
    html(
        status,
        enrol_page(&EnrolView {
            chrome: chrome(ctx, "Set up your authenticator app", me.as_ref(), csrf),
            paths: &ctx.paths,
            csrf,
            error,
            qr_data_uri: &qr,
            secret: &offer.secret_base32,
            otpauth_uri: &offer.otpauth_uri,
            account: &offer.account,
            passkey: passkey.as_ref(),
        }),
    )
}

/// The QR code of `text` as an SVG `data:` URI.
fn qr_data_uri(text: &str) -> String {
    match qrcode::QrCode::new(text.as_bytes()) {
        Ok(code) => {
            let svg = code
                .render::<qrcode::render::svg::Color>()
                .min_dimensions(200, 200)
                .quiet_zone(true)
                .build();
            format!("data:image/svg+xml;base64,{}", STANDARD.encode(svg))
        }
        Err(_) => String::new(),
    }
}

/// `POST /mfa/setup`
pub async fn enrol_submit(
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
    match state
        .services
        .confirm_enrolment(ctx.realm, token.clone(), form.0.code, origin.0)
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
        Err(ServiceError::InvalidCode) => {
            let offer = state.services.enrolment_offer(ctx.realm, token).await?;
            Ok(render_enrol_page(
                &req,
                &ctx,
                &csrf.0,
                &offer,
                StatusCode::UNAUTHORIZED,
                Some(CODE_FAILED),
            ))
        }
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
    let mut response = see_other(&ctx.paths.login());
    response
        .add_cookie(&state.cookies.session_removal(ctx.cookie.clone()))
        .ok();
    if ctx.realm.is_staff() {
        response.add_cookie(&state.cookies.admin_removal()).ok();
    }
    Ok(response)
}
