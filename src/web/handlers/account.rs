//! `/account`: profile, MFA status, sessions, password change and recovery codes.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
use serde::Deserialize;

use super::{chrome, set_session_cookies};
use crate::domain::password::Password;
use crate::service::ServiceError;
use crate::service::account::Reauth;
use crate::web::csrf::{CsrfForm, CsrfToken};
use crate::web::error::WebResult;
use crate::web::flash::{self, Flash};
use crate::web::request::{ClientOrigin, CurrentUser, RealmCtx};
use crate::web::views::account::{AccountView, SessionRow, account_page as render_account};
use crate::web::views::login::{RecoveryCodesView, recovery_codes_page};
use crate::web::{AppState, html, see_other};

#[derive(Debug, Deserialize)]
pub struct PasswordChange {
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    new_password: String,
    #[serde(default)]
    new_password_confirm: String,
}

#[derive(Debug, Deserialize)]
pub struct ReauthFields {
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    code: String,
}

#[derive(Debug, Deserialize)]
pub struct RevokeFields {
    #[serde(default)]
    session: String,
}

async fn render(
    req: &HttpRequest,
    current: &CurrentUser,
    csrf: &str,
    status: StatusCode,
    error: Option<&str>,
    notice: Option<&str>,
) -> WebResult<HttpResponse> {
    let state = AppState::of(req);
    let me = &current.me;
    let activity = state.services.account_activity(me).await?;
    let sessions = state
        .services
        .list_sessions(me)?
        .into_iter()
        .map(|s| SessionRow {
            handle: s.handle,
            created: s.created_at,
            last_seen: s.last_seen,
            device: if s.user_agent.is_empty() {
                "Unknown device".to_owned()
            } else {
                s.user_agent
            },
            ip: s.source_ip,
            method: s.auth,
            current: s.current,
        })
        .collect();
    let password_allowed = state.services.password_allowed(&me.user)?;
    let passkeys = password_allowed
        .then(|| state.services.passkeys(me).map(|p| p.len()))
        .transpose()?;
    Ok(html(
        status,
        render_account(&AccountView {
            chrome: chrome(&current.ctx, "Your account", Some(me), csrf),
            paths: &current.ctx.paths,
            csrf,
            name: me.user.name_or_email(),
            email: me.user.email.as_str(),
            role: me.user.realm.is_staff().then(|| me.user.role.as_str()),
            has_totp: me.user.totp.is_some(),
            recovery_codes_left: me.user.recovery_codes.len(),
            has_password: me.user.password_hash.is_some(),
            password_allowed,
            sessions,
            link_buttons: &state.services.link_buttons(me.user.realm)?,
            linked: &state.services.linked_accounts(&me.user)?,
            passkeys,
            error,
            notice,
            activity: &activity,
        }),
    ))
}

/// `GET /account`
pub async fn account_page(
    req: HttpRequest,
    current: CurrentUser,
    csrf: CsrfToken,
    flash: Flash,
) -> WebResult<HttpResponse> {
    render(
        &req,
        &current,
        &csrf.0,
        StatusCode::OK,
        None,
        flash.notice.as_deref(),
    )
    .await
}

/// `GET /account/recovery-codes`: the codes just made, shown once (they come as a
/// flash from the form that made them); otherwise back to the account page.
pub async fn recovery_codes(
    ctx: RealmCtx,
    csrf: CsrfToken,
    flash: Flash,
) -> WebResult<HttpResponse> {
    let account = ctx.paths.account();
    if flash.recovery_codes.is_empty() {
        return Ok(see_other(&account));
    }
    let next = flash.continue_url.as_deref().unwrap_or(&account);
    Ok(html(
        StatusCode::OK,
        recovery_codes_page(&RecoveryCodesView {
            chrome: chrome(&ctx, "Save your recovery codes", None, &csrf.0),
            codes: &flash.recovery_codes,
            continue_url: next,
        }),
    ))
}

/// Maps a failed account change back onto the page; other errors become error pages.
async fn refused(
    req: &HttpRequest,
    current: &CurrentUser,
    csrf: &str,
    error: ServiceError,
) -> WebResult<HttpResponse> {
    match error {
        ServiceError::Invalid(message) => {
            render(
                req,
                current,
                csrf,
                StatusCode::BAD_REQUEST,
                Some(&message),
                None,
            )
            .await
        }
        ServiceError::Forbidden(message) => {
            render(
                req,
                current,
                csrf,
                StatusCode::FORBIDDEN,
                Some(&message),
                None,
            )
            .await
        }
        other => Err(other.into()),
    }
}

/// `POST /account/password`
pub async fn change_password(
    req: HttpRequest,
    current: CurrentUser,
    csrf: CsrfToken,
    origin: ClientOrigin,
    form: CsrfForm<PasswordChange>,
) -> WebResult<HttpResponse> {
    let state = AppState::of(&req);
    let f = form.0;
    let proof = Reauth {
        current_password: Password::new(f.current_password),
        code: f.code,
    };
    match state
        .services
        .change_password(
            current.me.clone(),
            proof,
            Password::new(f.new_password),
            Password::new(f.new_password_confirm),
            origin.0,
        )
        .await
    {
        Ok(rotated) => {
            // The same session under a new id: the old cookie value no longer works.
            let mut response = flash::redirect(
                &req,
                &current.ctx.paths.account(),
                Flash::notice("Your password was changed. Other sessions were signed out."),
            );
            set_session_cookies(&mut response, &state.cookies, &current.ctx, &rotated);
            Ok(response)
        }
        Err(e) => refused(&req, &current, &csrf.0, e).await,
    }
}

/// `POST /account/recovery-codes`
pub async fn regenerate_recovery_codes(
    req: HttpRequest,
    current: CurrentUser,
    csrf: CsrfToken,
    origin: ClientOrigin,
    form: CsrfForm<ReauthFields>,
) -> WebResult<HttpResponse> {
    let state = AppState::of(&req);
    let proof = Reauth {
        current_password: Password::new(form.0.current_password),
        code: form.0.code,
    };
    match state
        .services
        .regenerate_recovery_codes(current.me.clone(), proof, origin.0)
        .await
    {
        Ok(codes) => Ok(flash::redirect(
            &req,
            &current.ctx.paths.account_recovery_codes(),
            Flash {
                recovery_codes: codes.iter().map(|c| c.expose().to_owned()).collect(),
                ..Flash::default()
            },
        )),
        Err(e) => refused(&req, &current, &csrf.0, e).await,
    }
}

/// `POST /account/sessions/revoke`
pub async fn revoke_session(
    req: HttpRequest,
    current: CurrentUser,
    origin: ClientOrigin,
    form: CsrfForm<RevokeFields>,
) -> WebResult<HttpResponse> {
    let state = AppState::of(&req);
    state
        .services
        .revoke_own_session(current.me.clone(), form.0.session, origin.0)
        .await?;
    Ok(see_other(&current.ctx.paths.account()))
}
