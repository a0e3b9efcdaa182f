//! The admin console (staff admins only): dashboard, staff users, audit log.

mod users;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use super::csrf::CsrfToken;
use super::error::WebResult;
use super::paths;
use super::request::{RealmCtx, StaffAdmin};
use super::views::admin::{AuditView, Warning, audit_page, dashboard_page};
use super::views::layout::{Chrome, Nav};
use super::{AppState, html};
use crate::service::sessions::SignedIn;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(paths::ADMIN, web::get().to(dashboard))
        .route(paths::ADMIN_USERS, web::get().to(users::list))
        .route(paths::ADMIN_USERS, web::post().to(users::invite))
        .route(paths::ADMIN_USER, web::get().to(users::detail))
        .route(paths::ADMIN_USER_ACTION, web::post().to(users::action))
        .route(paths::ADMIN_AUDIT, web::get().to(audit));
}

/// The page frame of admin pages.
fn admin_chrome<'a>(title: &'a str, me: &'a SignedIn, csrf: &'a str) -> Chrome<'a> {
    let staff = super::paths::RealmPaths::staff();
    Chrome {
        title,
        brand: "Gatehouse admin",
        nav: Some(Nav {
            user_name: me.user.name_or_email(),
            account_url: staff.account(),
            logout_url: staff.logout(),
            csrf,
            admin: true,
        }),
    }
}

/// `GET /admin`
async fn dashboard(
    req: HttpRequest,
    admin: StaffAdmin,
    csrf: CsrfToken,
) -> WebResult<HttpResponse> {
    let state = AppState::of(&req);
    let figures = state.services.dashboard()?;
    let mut warnings = Vec::new();
    if figures.staff_admins == 1 {
        warnings.push(Warning {
            text:
                "There is only one active admin. Invite a second one so you are never locked out."
                    .to_owned(),
        });
    }
    let _ = RealmCtx::staff(state);
    Ok(html(
        StatusCode::OK,
        dashboard_page(
            &admin_chrome("Dashboard", &admin.0, &csrf.0),
            &figures,
            &warnings,
        ),
    ))
}

#[derive(Debug, Deserialize)]
struct AuditQuery {
    before: Option<u64>,
}

const AUDIT_PAGE: usize = 100;

/// `GET /admin/audit`
async fn audit(
    req: HttpRequest,
    admin: StaffAdmin,
    csrf: CsrfToken,
    query: web::Query<AuditQuery>,
) -> WebResult<HttpResponse> {
    let state = AppState::of(&req);
    let events = state.services.audit_log(AUDIT_PAGE, query.before)?;
    let older = (events.len() == AUDIT_PAGE)
        .then(|| {
            events
                .last()
                .map(|(seq, _)| format!("{}?before={seq}", paths::ADMIN_AUDIT))
        })
        .flatten();
    Ok(html(
        StatusCode::OK,
        audit_page(&AuditView {
            chrome: admin_chrome("Audit log", &admin.0, &csrf.0),
            events: &events,
            older,
        }),
    ))
}
