//! `/admin/sso`: the staff app registration, connection test, enable/disable, SSO-only.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
use serde::Deserialize;

use super::admin_chrome;
use crate::service::ServiceError;
use crate::service::admin::AdminActor;
use crate::service::sso::admin::SsoUpdate;
use crate::service::sso::settings::ConnectionTest;
use crate::web::csrf::{CsrfForm, CsrfToken};
use crate::web::error::WebResult;
use crate::web::flash::{self, Flash};
use crate::web::request::{ClientOrigin, RealmCtx, StaffAdmin};
use crate::web::views::sso::{SsoAdminView, sso_admin_page};
use crate::web::{AppState, html};

/// What the page reports after an action.
#[derive(Default)]
struct Outcome<'a> {
    status: Option<StatusCode>,
    error: Option<&'a str>,
    notice: Option<&'a str>,
    test: Option<ConnectionTest>,
}

async fn render(
    req: &HttpRequest,
    admin: &StaffAdmin,
    csrf: &str,
    outcome: Outcome<'_>,
) -> WebResult<HttpResponse> {
    let state = AppState::of(req);
    let settings = state.services.staff_sso_summary().await?;
    let guard = vec![
        (
            "Microsoft sign-in is on",
            settings.enabled && settings.configured,
        ),
        (
            "The connection test passed since the settings last changed",
            settings.tested_ok,
        ),
        (
            "An active admin has a linked Microsoft account or is a break-glass account",
            settings.safe_admin,
        ),
    ];
    let test = outcome.test.as_ref().or(settings.last_test.as_ref());
    let options = super::sign_in_options::options_view(req, csrf, crate::web::paths::ADMIN_SSO)?;
    Ok(html(
        outcome.status.unwrap_or(StatusCode::OK),
        sso_admin_page(&SsoAdminView {
            chrome: admin_chrome("Microsoft sign-in", &admin.0, csrf),
            csrf,
            settings: &settings,
            guard,
            test,
            error: outcome.error,
            notice: outcome.notice,
            options: &options,
        }),
    ))
}

/// Renders the outcome of an action: a message on success, the reason on refusal.
async fn after<T>(
    req: &HttpRequest,
    admin: &StaffAdmin,
    csrf: &str,
    result: Result<T, ServiceError>,
    notice: &str,
) -> WebResult<HttpResponse> {
    match result {
        // POST-redirect-GET: reloading the page repeats nothing.
        Ok(_) => Ok(flash::redirect(
            req,
            crate::web::paths::ADMIN_SSO,
            Flash::notice(notice),
        )),
        Err(ServiceError::Invalid(m)) => {
            render(
                req,
                admin,
                csrf,
                Outcome {
                    status: Some(StatusCode::BAD_REQUEST),
                    error: Some(&m),
                    ..Outcome::default()
                },
            )
            .await
        }
        Err(ServiceError::Conflict(m)) => {
            render(
                req,
                admin,
                csrf,
                Outcome {
                    status: Some(StatusCode::CONFLICT),
                    error: Some(&m),
                    ..Outcome::default()
                },
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

/// `GET /admin/sso`
pub async fn page(
    req: HttpRequest,
    admin: StaffAdmin,
    csrf: CsrfToken,
    flash: Flash,
) -> WebResult<HttpResponse> {
    let notice = flash.notice.as_deref();
    render(
        &req,
        &admin,
        &csrf.0,
        Outcome {
            notice,
            ..Outcome::default()
        },
    )
    .await
}

#[derive(Debug, Deserialize)]
pub struct SettingsFields {
    #[serde(default)]
    tenant_id: String,
    #[serde(default)]
    client_id: String,
    #[serde(default)]
    client_secret: String,
    #[serde(default)]
    secret_expires: String,
    jit: Option<String>,
    #[serde(default)]
    allowed_domains: String,
    allow_guests: Option<String>,
}

/// `POST /admin/sso`
pub async fn save(
    req: HttpRequest,
    admin: StaffAdmin,
    csrf: CsrfToken,
    origin: ClientOrigin,
    form: CsrfForm<SettingsFields>,
) -> WebResult<HttpResponse> {
    let state = AppState::of(&req);
    let f = form.0;
    let non_empty = |s: String| (!s.trim().is_empty()).then_some(s);
    let update = SsoUpdate {
        tenant: non_empty(f.tenant_id),
        client_id: non_empty(f.client_id),
        client_secret: non_empty(f.client_secret),
        secret_expires: Some(f.secret_expires),
        jit: Some(f.jit.is_some_and(|v| v == "on")),
        allowed_domains: Some(f.allowed_domains),
        allow_guests: Some(f.allow_guests.is_some_and(|v| v == "on")),
    };
    let result = state
        .services
        .update_staff_sso(AdminActor::user(&admin.0.user, &origin.0.ip), update)
        .await;
    after(
        &req,
        &admin,
        &csrf.0,
        result,
        "Settings saved. Run the connection test to check them.",
    )
    .await
}

#[derive(Debug, Deserialize)]
pub struct NoFields {}

/// `POST /admin/sso/enable`
pub async fn enable(
    req: HttpRequest,
    admin: StaffAdmin,
    csrf: CsrfToken,
    origin: ClientOrigin,
    _form: CsrfForm<NoFields>,
) -> WebResult<HttpResponse> {
    let state = AppState::of(&req);
    let result = state
        .services
        .set_staff_sso_enabled(AdminActor::user(&admin.0.user, &origin.0.ip), true)
        .await;
    after(&req, &admin, &csrf.0, result, "Microsoft sign-in is on.").await
}

/// `POST /admin/sso/disable`
pub async fn disable(
    req: HttpRequest,
    admin: StaffAdmin,
    csrf: CsrfToken,
    origin: ClientOrigin,
    _form: CsrfForm<NoFields>,
) -> WebResult<HttpResponse> {
    let state = AppState::of(&req);
    let result = state
        .services
        .set_staff_sso_enabled(AdminActor::user(&admin.0.user, &origin.0.ip), false)
        .await;
    after(&req, &admin, &csrf.0, result, "Microsoft sign-in is off.").await
}

/// `POST /admin/sso/test`
pub async fn test(
    req: HttpRequest,
    admin: StaffAdmin,
    csrf: CsrfToken,
    origin: ClientOrigin,
    _form: CsrfForm<NoFields>,
) -> WebResult<HttpResponse> {
    let state = AppState::of(&req);
    match state
        .services
        .test_staff_sso(AdminActor::user(&admin.0.user, &origin.0.ip))
        .await
    {
        // The page shows the last test's result, which the test just recorded.
        Ok(_) => Ok(flash::redirect(
            &req,
            crate::web::paths::ADMIN_SSO,
            Flash::default(),
        )),
        Err(e) => after(&req, &admin, &csrf.0, Err::<(), _>(e), "").await,
    }
}

#[derive(Debug, Deserialize)]
pub struct SsoOnlyFields {
    #[serde(default)]
    state: String,
}

/// `POST /admin/sso/sso-only`
pub async fn sso_only(
    req: HttpRequest,
    admin: StaffAdmin,
    csrf: CsrfToken,
    origin: ClientOrigin,
    form: CsrfForm<SsoOnlyFields>,
) -> WebResult<HttpResponse> {
    let state = AppState::of(&req);
    let on = match form.0.state.as_str() {
        "on" => true,
        "off" => false,
        _ => {
            return after(
                &req,
                &admin,
                &csrf.0,
                Err::<(), _>(ServiceError::Invalid("Choose on or off.".to_owned())),
                "",
            )
            .await;
        }
    };
    let result = state
        .services
        .set_staff_sso_only(AdminActor::user(&admin.0.user, &origin.0.ip), on)
        .await;
    let notice = if on {
        "SSO-only is on. Password sign-ins are refused and password sessions were ended."
    } else {
        "SSO-only is off. Passwords work again."
    };
    // Turning it on may have ended this admin's own password session.
    let still_signed_in = RealmCtx::staff(state).signed_in(&req, state)?.is_some();
    if result.is_ok() && !still_signed_in {
        return Ok(crate::web::see_other(&format!(
            "{}?next=/admin/sso",
            crate::web::paths::LOGIN
        )));
    }
    after(&req, &admin, &csrf.0, result, notice).await
}
