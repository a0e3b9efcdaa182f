//! The provisioning pages of the admin console: `/admin/provisioning` for staff and
//! `/admin/clients/{slug}/provisioning` for a client's portal — SCIM tokens (made,
//! shown once, revoked), the Entra steps, the last request and the leavers sweep.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use super::admin_chrome;
use crate::domain::user::Realm;
use crate::service::ServiceError;
use crate::service::admin::AdminActor;
use crate::web::csrf::{CsrfForm, CsrfToken};
use crate::web::error::{WebError, WebResult};
use crate::web::request::{ClientOrigin, StaffAdmin};
use crate::web::views::provisioning::{ProvisioningView, provisioning_page};
use crate::web::{AppState, html, see_other};

#[derive(Debug, Deserialize)]
pub struct ClientPath {
    client: String,
}

#[derive(Debug, Deserialize)]
pub struct TokenPath {
    #[serde(default)]
    client: Option<String>,
    id: String,
}

#[derive(Debug, Deserialize)]
pub struct LabelFields {
    #[serde(default)]
    label: String,
}

#[derive(Debug, Deserialize)]
pub struct Said {
    said: Option<String>,
}

/// The realm, its name and the page's path for `slug` (staff when `None`).
fn realm_of(req: &HttpRequest, slug: Option<&str>) -> WebResult<(Realm, String, String)> {
    let services = &AppState::of(req).services;
    match slug {
        None => Ok((
            Realm::Staff,
            "Staff".to_owned(),
            crate::web::paths::ADMIN_PROVISIONING.to_owned(),
        )),
        Some(slug) => match services.client_by_slug(slug) {
            Ok(c) => Ok((
                Realm::Client(c.id),
                c.name,
                format!("/admin/clients/{}/provisioning", c.slug),
            )),
            Err(ServiceError::NotFound(_)) => Err(WebError::NotFound),
            Err(e) => Err(e.into()),
        },
    }
}

async fn render(
    req: &HttpRequest,
    admin: &StaffAdmin,
    csrf: &str,
    slug: Option<&str>,
    new_token: Option<&str>,
    notice: Option<&str>,
) -> WebResult<HttpResponse> {
    let (realm, name, base) = realm_of(req, slug)?;
    let overview = AppState::of(req)
        .services
        .provisioning_overview(realm)
        .await?;
    let back = slug.map(|s| format!("/admin/clients/{s}"));
    Ok(html(
        StatusCode::OK,
        provisioning_page(&ProvisioningView {
            chrome: admin_chrome("Provisioning", &admin.0, csrf),
            csrf,
            realm_name: &name,
            base: &base,
            back: back.as_deref().map(|b| (b, "Client")),
            overview: &overview,
            new_token,
            notice,
        }),
    ))
}

fn notice_of(said: Option<&str>) -> Option<&'static str> {
    match said {
        Some("revoked") => Some("Token revoked; it stopped working at once."),
        Some("swept") => Some("Sweep finished; see the result below."),
        _ => None,
    }
}

/// `GET /admin/provisioning`
pub async fn staff_page(
    req: HttpRequest,
    admin: StaffAdmin,
    csrf: CsrfToken,
    q: web::Query<Said>,
) -> WebResult<HttpResponse> {
    render(
        &req,
        &admin,
        &csrf.0,
        None,
        None,
        notice_of(q.said.as_deref()),
    )
    .await
}

/// `GET /admin/clients/{slug}/provisioning`
pub async fn client_page(
    req: HttpRequest,
    admin: StaffAdmin,
    csrf: CsrfToken,
    path: web::Path<ClientPath>,
    q: web::Query<Said>,
) -> WebResult<HttpResponse> {
    render(
        &req,
        &admin,
        &csrf.0,
        Some(&path.client),
        None,
        notice_of(q.said.as_deref()),
    )
    .await
}

async fn create(
    req: HttpRequest,
    admin: StaffAdmin,
    origin: ClientOrigin,
    csrf: CsrfToken,
    slug: Option<String>,
    label: String,
) -> WebResult<HttpResponse> {
    let (realm, _, _) = realm_of(&req, slug.as_deref())?;
    let made = AppState::of(&req)
        .services
        .create_scim_token(AdminActor::user(&admin.0.user, &origin.0.ip), realm, label)
        .await?;
    // The secret is shown in this answer only: no redirect, nothing to reload it from.
    render(
        &req,
        &admin,
        &csrf.0,
        slug.as_deref(),
        Some(&made.bearer()),
        None,
    )
    .await
}

/// `POST /admin/provisioning/tokens`
pub async fn staff_create(
    req: HttpRequest,
    admin: StaffAdmin,
    origin: ClientOrigin,
    csrf: CsrfToken,
    form: CsrfForm<LabelFields>,
) -> WebResult<HttpResponse> {
    create(req, admin, origin, csrf, None, form.0.label).await
}

/// `POST /admin/clients/{slug}/provisioning/tokens`
pub async fn client_create(
    req: HttpRequest,
    admin: StaffAdmin,
    origin: ClientOrigin,
    csrf: CsrfToken,
    path: web::Path<ClientPath>,
    form: CsrfForm<LabelFields>,
) -> WebResult<HttpResponse> {
    create(
        req,
        admin,
        origin,
        csrf,
        Some(path.into_inner().client),
        form.0.label,
    )
    .await
}

/// `POST …/provisioning/tokens/{id}/revoke`
pub async fn revoke(
    req: HttpRequest,
    admin: StaffAdmin,
    origin: ClientOrigin,
    path: web::Path<TokenPath>,
    _form: CsrfForm<LabelFields>,
) -> WebResult<HttpResponse> {
    let path = path.into_inner();
    let (realm, _, base) = realm_of(&req, path.client.as_deref())?;
    AppState::of(&req)
        .services
        .revoke_scim_token(
            AdminActor::user(&admin.0.user, &origin.0.ip),
            realm,
            path.id,
        )
        .await?;
    Ok(see_other(&format!("{base}?said=revoked")))
}

#[derive(Debug, Deserialize)]
pub struct MaybeClientPath {
    #[serde(default)]
    client: Option<String>,
}

/// `POST …/provisioning/sweep`
pub async fn sweep(
    req: HttpRequest,
    _admin: StaffAdmin,
    path: web::Path<MaybeClientPath>,
    _form: CsrfForm<LabelFields>,
) -> WebResult<HttpResponse> {
    let (realm, _, base) = realm_of(&req, path.client.as_deref())?;
    AppState::of(&req).services.sweep_realm(realm).await?;
    Ok(see_other(&format!("{base}?said=swept")))
}
