//! The multi-tenant portal app registration (`/admin/portal`): its client id, secret
//! and expiry. Split from `clients.rs`, which keeps the clients themselves.

use actix_web::{HttpRequest, HttpResponse};
use serde::Deserialize;

use super::admin_chrome;
use super::clients::{Said, actor, said, split};
use crate::web::csrf::{CsrfForm, CsrfToken};
use crate::web::error::WebResult;
use crate::web::flash::{self, Flash};
use crate::web::request::{ClientOrigin, StaffAdmin};
use crate::web::views::clients::{PortalAppView, portal_app_page};
use crate::web::{AppState, html, paths};

fn render_portal(
    req: &HttpRequest,
    admin: &StaffAdmin,
    csrf: &str,
    said: Option<Said>,
) -> WebResult<HttpResponse> {
    let state = AppState::of(req);
    let app = state.services.portal_app_summary()?;
    let (status, error, notice) = split(said);
    Ok(html(
        status,
        portal_app_page(&PortalAppView {
            chrome: admin_chrome("Portal app", &admin.0, csrf),
            csrf,
            app: &app,
            error: error.as_deref(),
            notice: notice.as_deref(),
        }),
    ))
}

/// `GET /admin/portal`
pub async fn portal(
    req: HttpRequest,
    admin: StaffAdmin,
    csrf: CsrfToken,
    flash: Flash,
) -> WebResult<HttpResponse> {
    render_portal(&req, &admin, &csrf.0, flash.notice.map(Said::Notice))
}

#[derive(Debug, Deserialize)]
pub struct PortalFields {
    #[serde(default)]
    client_id: String,
    #[serde(default)]
    client_secret: String,
    #[serde(default)]
    secret_expires: String,
}

/// `POST /admin/portal`
pub async fn save_portal(
    req: HttpRequest,
    admin: StaffAdmin,
    csrf: CsrfToken,
    origin: ClientOrigin,
    form: CsrfForm<PortalFields>,
) -> WebResult<HttpResponse> {
    let state = AppState::of(&req);
    let f = form.0;
    let non_empty = |s: String| (!s.trim().is_empty()).then_some(s);
    let result = state
        .services
        .update_portal_app(
            actor(&admin, &origin),
            non_empty(f.client_id),
            non_empty(f.client_secret),
            Some(f.secret_expires),
        )
        .await;
    match said(result, |_| "Portal app saved.".to_owned())? {
        Said::Notice(n) => Ok(flash::redirect(&req, paths::ADMIN_PORTAL, Flash::notice(n))),
        refused => render_portal(&req, &admin, &csrf.0, Some(refused)),
    }
}
