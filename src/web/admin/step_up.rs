//! The step-up gate and page. Every state-changing request under `/admin` passes the
//! [`gate`], which wraps the whole admin scope: an admin whose last full
//! authentication is older than the step-up window is sent to `/admin/confirm` and
//! nothing is changed (the form is not replayed; they come back to the page it was
//! on). Only the confirmation itself is exempt.

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use super::admin_chrome;
use crate::domain::password::Password;
use crate::service::ServiceError;
use crate::web::csrf::{CsrfForm, CsrfToken};
use crate::web::error::WebResult;
use crate::web::handlers::sso::to_microsoft;
use crate::web::request::{ClientOrigin, StaffAdmin};
use crate::web::views::step_up::{StepUpView, step_up_page};
use crate::web::{AppState, html, paths, see_other};

/// The requests under `/admin` that change nothing but the step-up itself.
const EXEMPT: [&str; 2] = [paths::ADMIN_CONFIRM, paths::ADMIN_CONFIRM_MICROSOFT];

/// The admin pages a form can be on, to return to after a step-up.
const FORM_PAGES: [&str; 10] = [
    paths::ADMIN,
    paths::ADMIN_USERS,
    paths::ADMIN_USER,
    paths::ADMIN_AUDIT,
    paths::ADMIN_CLIENTS,
    paths::ADMIN_CLIENT,
    paths::ADMIN_CLIENT_USERS,
    paths::ADMIN_CLIENT_USER,
    paths::ADMIN_PORTAL,
    paths::ADMIN_SSO,
];

const STEP_UP_FAILED: &str = "The password or code is not right.";

/// Whether `method` may change state (everything but reading).
fn changes_state(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// The step-up gate around the admin scope.
pub async fn gate(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    if changes_state(req.method()) && !EXEMPT.contains(&req.path()) {
        // Anyone but a signed-in admin is answered by the handler's own extractor.
        if let Some(admin) = StaffAdmin::of(req.request()) {
            let state = AppState::of(req.request());
            if !state.services.recently_authenticated(&admin.0) {
                let location = confirm_url(&form_page(req.path()));
                return Ok(req
                    .into_response(see_other(&location))
                    .map_into_right_body());
            }
        }
    }
    next.call(req)
        .await
        .map(ServiceResponse::map_into_left_body)
}

/// `/admin/confirm?next=…`
fn confirm_url(next: &str) -> String {
    let encoded: String = url::form_urlencoded::byte_serialize(next.as_bytes()).collect();
    format!("{}?next={encoded}", paths::ADMIN_CONFIRM)
}

/// The page a form posting to `path` is on: the longest leading part of `path` that
/// is an admin page (`/admin/users/7/disable` → `/admin/users/7`).
pub fn form_page(path: &str) -> String {
    let mut candidate = path.trim_end_matches('/');
    while candidate.len() > paths::ADMIN.len() {
        if FORM_PAGES.iter().any(|p| matches_pattern(p, candidate)) {
            return candidate.to_owned();
        }
        match candidate.rfind('/') {
            Some(cut) => candidate = &candidate[..cut],
            None => break,
        }
    }
    paths::ADMIN.to_owned()
}

/// Whether `path` fits a route `pattern` segment by segment (`{x}` fits any segment).
fn matches_pattern(pattern: &str, path: &str) -> bool {
    let (mut p, mut q) = (pattern.split('/'), path.split('/'));
    loop {
        match (p.next(), q.next()) {
            (None, None) => return true,
            (Some(want), Some(got)) => {
                let fits = if want.starts_with('{') {
                    !got.is_empty()
                } else {
                    want == got
                };
                if !fits {
                    return false;
                }
            }
            _ => return false,
        }
    }
}

/// `next` if it is an admin page of ours, else the dashboard.
fn safe_admin_next(next: Option<&str>) -> String {
    next.filter(|n| {
        let rest = n.strip_prefix(paths::ADMIN);
        rest.is_some_and(|r| r.is_empty() || r.starts_with('/') || r.starts_with('?'))
            && !n.contains("//")
            && !n.contains('\\')
            && n.bytes().all(|b| b.is_ascii_graphic())
    })
    .map_or_else(|| paths::ADMIN.to_owned(), str::to_owned)
}

#[derive(Debug, Deserialize)]
pub struct ConfirmQuery {
    next: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct ConfirmFields {
    #[serde(default)]
    password: String,
    #[serde(default)]
    code: String,
    next: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct MicrosoftFields {
    next: Option<String>,
    /// The provider to sign in at (absent: the first one the admin is linked at).
    #[serde(default)]
    provider: Option<String>,
}

fn render(
    req: &HttpRequest,
    admin: &StaffAdmin,
    csrf: &str,
    next: &str,
    status: StatusCode,
    error: Option<&str>,
) -> WebResult<HttpResponse> {
    let state = AppState::of(req);
    let options = state.services.step_up_options(&admin.0)?;
    Ok(html(
        status,
        step_up_page(&StepUpView {
            chrome: admin_chrome("Confirm it is you", &admin.0, csrf),
            csrf,
            next,
            error,
            window_minutes: state.services.step_up_window_minutes(),
            password_form: options.password,
            providers: &options.providers,
        }),
    ))
}

/// `GET /admin/confirm`
pub async fn page(
    req: HttpRequest,
    admin: StaffAdmin,
    csrf: CsrfToken,
    query: web::Query<ConfirmQuery>,
) -> WebResult<HttpResponse> {
    let next = safe_admin_next(query.next.as_deref());
    render(&req, &admin, &csrf.0, &next, StatusCode::OK, None)
}

/// `POST /admin/confirm`
pub async fn confirm(
    req: HttpRequest,
    admin: StaffAdmin,
    csrf: CsrfToken,
    origin: ClientOrigin,
    form: CsrfForm<ConfirmFields>,
) -> WebResult<HttpResponse> {
    let state = AppState::of(&req);
    let ConfirmFields {
        password,
        code,
        next,
    } = form.0;
    let next = safe_admin_next(next.as_deref());
    match state
        .services
        .step_up_with_password(
            admin.0.signed_in.clone(),
            Password::new(password),
            code,
            origin.0,
        )
        .await
    {
        Ok(()) => Ok(see_other(&next)),
        // The same page, status and body for every kind of failure.
        Err(ServiceError::LoginFailed) => render(
            &req,
            &admin,
            &csrf.0,
            &next,
            StatusCode::UNAUTHORIZED,
            Some(STEP_UP_FAILED),
        ),
        Err(e) => Err(e.into()),
    }
}

/// `POST /admin/confirm/microsoft`
pub async fn confirm_with_microsoft(
    req: HttpRequest,
    admin: StaffAdmin,
    form: CsrfForm<MicrosoftFields>,
) -> WebResult<HttpResponse> {
    let state = AppState::of(&req);
    let next = safe_admin_next(form.0.next.as_deref());
    let provider = form.0.provider.filter(|p| p.len() <= 32);
    let start = state
        .services
        .start_sso_step_up(&admin.0, next, provider.as_deref())
        .await?;
    Ok(to_microsoft(state, &start))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_form_returns_to_the_page_it_is_on() {
        assert_eq!(form_page("/admin/users"), "/admin/users");
        assert_eq!(form_page("/admin/users/7/disable"), "/admin/users/7");
        assert_eq!(
            form_page("/admin/clients/acme/do/remove"),
            "/admin/clients/acme"
        );
        assert_eq!(form_page("/admin/clients/acme/logo"), "/admin/clients/acme");
        assert_eq!(
            form_page("/admin/clients/acme/users/7/reset-mfa"),
            "/admin/clients/acme/users/7"
        );
        assert_eq!(form_page("/admin/sso/sso-only"), "/admin/sso");
        assert_eq!(form_page("/admin/unknown/thing"), "/admin");
    }

    #[test]
    fn only_admin_pages_are_returned_to() {
        assert_eq!(safe_admin_next(Some("/admin/sso")), "/admin/sso");
        assert_eq!(safe_admin_next(Some("/admin")), "/admin");
        for bad in [
            "https://evil.example/admin",
            "//evil.example/admin",
            "/administrator",
            "/admin//evil",
            "/admin/\\evil",
            "/account",
            "/admin/x y",
        ] {
            assert_eq!(safe_admin_next(Some(bad)), "/admin", "{bad}");
        }
        assert_eq!(safe_admin_next(None), "/admin");
    }
}
