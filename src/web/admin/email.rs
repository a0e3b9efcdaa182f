//! `/admin/email`: the outbox at a glance and "Send test email".

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use super::admin_chrome;
use crate::service::ServiceError;
use crate::web::csrf::{CsrfForm, CsrfToken};
use crate::web::error::WebResult;
use crate::web::request::StaffAdmin;
use crate::web::views::admin_email::{EmailView, email_page};
use crate::web::{AppState, html, paths, see_other};

#[derive(Debug, Deserialize)]
pub struct EmailQuery {
    /// Set by the redirect after "Send test email".
    tested: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct TestFields {
    #[serde(default)]
    to: String,
}

fn render(
    req: &HttpRequest,
    admin: &StaffAdmin,
    csrf: &str,
    status: StatusCode,
    notice: Option<&str>,
    error: Option<&str>,
) -> HttpResponse {
    let state = AppState::of(req);
    let mail = state.services.mail_status();
    html(
        status,
        email_page(&EmailView {
            chrome: admin_chrome("Email", &admin.0, csrf),
            csrf,
            status: &mail,
            notice,
            error,
        }),
    )
}

/// `GET /admin/email`
pub async fn page(
    req: HttpRequest,
    admin: StaffAdmin,
    csrf: CsrfToken,
    query: web::Query<EmailQuery>,
) -> WebResult<HttpResponse> {
    let notice = query
        .tested
        .as_ref()
        .map(|_| "Test email queued. Its state shows below (reload to follow it).");
    Ok(render(&req, &admin, &csrf.0, StatusCode::OK, notice, None))
}

/// `POST /admin/email/test`: queues a test message, then back to the page.
pub async fn send_test(
    req: HttpRequest,
    admin: StaffAdmin,
    csrf: CsrfToken,
    form: CsrfForm<TestFields>,
) -> WebResult<HttpResponse> {
    let state = AppState::of(&req);
    match state.services.send_test_mail(&form.0.to) {
        Ok(_) => Ok(see_other(&format!("{}?tested=1", paths::ADMIN_EMAIL))),
        Err(ServiceError::Invalid(m) | ServiceError::Forbidden(m)) => Ok(render(
            &req,
            &admin,
            &csrf.0,
            StatusCode::BAD_REQUEST,
            None,
            Some(&m),
        )),
        Err(e) => Err(e.into()),
    }
}
