//! `POST /login/identify` (and under `/p/{slug}`): email-first sign-in. The address
//! goes to the provider that routes its domain (with `login_hint`, and `domain_hint`
//! for Entra), or to the password step with the address filled in, or — with
//! passwords off — to the page of the realm's providers. Whether an account exists is
//! never looked at, so every address of a domain gets the same answer.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
use serde::Deserialize;

use super::login::LoginPage;
use super::safe_next;
use super::sso::to_microsoft;
use crate::domain::sso::SsoPurpose;
use crate::service::sso::email_first::Identified;
use crate::web::AppState;
use crate::web::csrf::{CsrfForm, CsrfToken};
use crate::web::error::WebResult;
use crate::web::request::RealmCtx;

#[derive(Debug, Deserialize)]
pub struct IdentifyForm {
    #[serde(default)]
    email: String,
    next: Option<String>,
}

const ORGANISATION: &str = "Sign in with your organisation's account below.";

/// `POST /login/identify`
pub async fn identify(
    req: HttpRequest,
    ctx: RealmCtx,
    csrf: CsrfToken,
    form: CsrfForm<IdentifyForm>,
) -> WebResult<HttpResponse> {
    let state = AppState::of(&req);
    let form = form.0;
    let next = safe_next(state, form.next.as_deref(), None);
    let email: String = form.email.trim().chars().take(254).collect();
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
    match state.services.identify(ctx.realm, &email)? {
        Identified::Provider { realm, id } => {
            // Another realm (a discoverable client): no `next` of this one carries over.
            let next = if realm == ctx.realm {
                next.clone()
            } else {
                None
            };
            let start = state
                .services
                .start_sso_via(realm, Some(&id), SsoPurpose::Login { next }, Some(&email))
                .await?;
            Ok(to_microsoft(state, &start))
        }
        Identified::Password => Ok(page.render(StatusCode::OK, &email, None, None)),
        Identified::Organisation => Ok(page.render(StatusCode::OK, "", None, Some(ORGANISATION))),
    }
}
