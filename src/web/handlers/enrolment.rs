//! TOTP enrolment during sign-in: `/mfa/setup` (and `/p/{slug}/mfa/setup`) shows the
//! QR code and setup key, and a confirmed code finishes the sign-in with recovery codes
//! shown once. Split from `login.rs`: the same extract → one service call → response.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::{chrome, set_session_cookies};
use crate::service::ServiceError;
use crate::web::csrf::{CsrfForm, CsrfToken};
use crate::web::error::WebResult;
use crate::web::flash::{self, Flash};
use crate::web::request::{ClientOrigin, RealmCtx};
use crate::web::views::login::{EnrolView, enrol_page};
use crate::web::{AppState, html};

use super::login::{CODE_FAILED, CodeForm, expired};

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
            let mut response = flash::redirect(
                &req,
                &ctx.paths.account_recovery_codes(),
                Flash {
                    recovery_codes: codes,
                    continue_url: Some(next),
                    ..Flash::default()
                },
            );
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
