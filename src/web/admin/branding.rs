//! `/admin/branding`: the organisation name and logo of the staff pages. The name is
//! a plain form; the logo is uploaded like a client's (see [`super::logo`]). Success
//! answers 303 to the page with a notice; a refused value re-shows the page with the
//! reason (400) and changes nothing.

use actix_multipart::Multipart;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
use serde::Deserialize;

use super::admin_chrome;
use crate::service::ServiceError;
use crate::service::admin::AdminActor;
use crate::service::branding::StaffBrandingUpdate;
use crate::web::csrf::{CsrfForm, CsrfToken};
use crate::web::error::WebResult;
use crate::web::flash::{self, Flash};
use crate::web::request::{ClientOrigin, RealmCtx, StaffAdmin};
use crate::web::views::branding::{BrandingView, branding_page};
use crate::web::{AppState, html, paths};

/// What the page shows besides the stored settings.
struct Shown<'a> {
    csrf: &'a str,
    /// What the admin typed, re-shown after an error.
    typed_name: Option<&'a str>,
    error: Option<String>,
    notice: Option<String>,
}

fn render(req: &HttpRequest, admin: &StaffAdmin, shown: Shown) -> WebResult<HttpResponse> {
    let state = AppState::of(req);
    let look = state.services.staff_look()?;
    // The staff pages' own context gives the logo's address and text alternative.
    let ctx = RealmCtx::staff(state);
    let stored_name = if look.org_name_set {
        look.name.as_str()
    } else {
        ""
    };
    let status = if shown.error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    Ok(html(
        status,
        branding_page(&BrandingView {
            chrome: admin_chrome("Branding", &admin.0, shown.csrf),
            csrf: shown.csrf,
            org_name: shown.typed_name.unwrap_or(stored_name),
            logo_url: ctx.logo_url.as_deref(),
            logo_alt: &ctx.logo_alt,
            error: shown.error.as_deref(),
            notice: shown.notice.as_deref(),
        }),
    ))
}

/// `GET /admin/branding`
pub async fn page(
    req: HttpRequest,
    admin: StaffAdmin,
    csrf: CsrfToken,
    flash: Flash,
) -> WebResult<HttpResponse> {
    render(
        &req,
        &admin,
        Shown {
            csrf: &csrf.0,
            typed_name: None,
            error: None,
            notice: flash.notice,
        },
    )
}

#[derive(Debug, Deserialize)]
pub struct BrandingFields {
    /// `remove-logo`, or empty to save the name.
    #[serde(default)]
    action: String,
    #[serde(default)]
    org_name: String,
}

/// `POST /admin/branding`: saves the organisation name, or removes the logo.
pub async fn save(
    req: HttpRequest,
    admin: StaffAdmin,
    csrf: CsrfToken,
    origin: ClientOrigin,
    form: CsrfForm<BrandingFields>,
) -> WebResult<HttpResponse> {
    let f = form.0;
    let (update, done) = match f.action.as_str() {
        "remove-logo" => (
            StaffBrandingUpdate {
                logo: Some(None),
                ..StaffBrandingUpdate::default()
            },
            "Logo removed.",
        ),
        "" | "save" => (
            StaffBrandingUpdate {
                org_name: Some(f.org_name.clone()),
                ..StaffBrandingUpdate::default()
            },
            "Organisation name saved.",
        ),
        _ => {
            return Err(crate::web::error::WebError::BadForm(
                "unknown action".to_owned(),
            ));
        }
    };
    let typed_name = (f.action != "remove-logo").then_some(f.org_name.as_str());
    answer(&req, &admin, &csrf.0, &origin, update, done, typed_name).await
}

/// `POST /admin/branding/logo`: a new logo (multipart, like a client's logo).
pub async fn upload_logo(
    req: HttpRequest,
    admin: StaffAdmin,
    csrf: CsrfToken,
    origin: ClientOrigin,
    parts: Multipart,
) -> WebResult<HttpResponse> {
    let logo = super::logo::read_upload(&req, parts).await?;
    let update = StaffBrandingUpdate {
        logo: Some(Some(logo)),
        ..StaffBrandingUpdate::default()
    };
    answer(&req, &admin, &csrf.0, &origin, update, "Logo saved.", None).await
}

async fn answer(
    req: &HttpRequest,
    admin: &StaffAdmin,
    csrf: &str,
    origin: &ClientOrigin,
    update: StaffBrandingUpdate,
    done: &str,
    typed_name: Option<&str>,
) -> WebResult<HttpResponse> {
    let state = AppState::of(req);
    let actor = AdminActor::user(&admin.0.user, &origin.0.ip);
    match state.services.set_staff_branding(actor, update).await {
        Ok(_) => Ok(flash::redirect(
            req,
            paths::ADMIN_BRANDING,
            Flash::notice(done),
        )),
        Err(ServiceError::Invalid(message)) => render(
            req,
            admin,
            Shown {
                csrf,
                typed_name,
                error: Some(message),
                notice: None,
            },
        ),
        Err(e) => Err(e.into()),
    }
}
