//! `POST /admin/clients/{client}/logo`: a client's logo, uploaded as
//! `multipart/form-data` with the same CSRF and origin checks as every other form.
//! Parts are size-limited while they are read; the image is checked by its content.

use actix_multipart::Multipart;
use actix_web::{HttpRequest, HttpResponse, web};
use futures_util::StreamExt;
use serde::Deserialize;

use crate::domain::client::LOGO_LIMIT;
use crate::service::ServiceError;
use crate::service::admin::AdminActor;
use crate::service::clients::ClientUpdate;
use crate::web::csrf::{CsrfToken, origin_allowed, request_token_matches};
use crate::web::error::{WebError, WebResult};
use crate::web::request::{ClientOrigin, StaffAdmin};
use crate::web::{AppState, see_other};

#[derive(Debug, Deserialize)]
pub struct LogoPath {
    client: String,
}

/// Reads one part fully, refusing it past `limit` bytes.
async fn read_part(field: &mut actix_multipart::Field, limit: usize) -> WebResult<Vec<u8>> {
    let mut bytes = Vec::new();
    while let Some(chunk) = field.next().await {
        let chunk =
            chunk.map_err(|_| WebError::BadForm("the upload could not be read".to_owned()))?;
        if bytes.len() + chunk.len() > limit {
            return Err(WebError::TooLarge);
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

/// Reads a logo upload (`csrf_token` and `logo` parts), checking the origin and the
/// CSRF token before anything is stored; the image itself is checked by the service.
pub(super) async fn read_upload(req: &HttpRequest, mut parts: Multipart) -> WebResult<Vec<u8>> {
    let state = AppState::of(req);
    if !origin_allowed(req, state) {
        return Err(WebError::Csrf);
    }
    let mut token = String::new();
    let mut logo = None;
    while let Some(part) = parts.next().await {
        let mut field =
            part.map_err(|_| WebError::BadForm("it is not a valid upload".to_owned()))?;
        match field.name() {
            Some("csrf_token") => {
                token = String::from_utf8(read_part(&mut field, 256).await?).unwrap_or_default()
            }
            Some("logo") => logo = Some(read_part(&mut field, LOGO_LIMIT).await?),
            _ => {
                read_part(&mut field, 1024).await?;
            }
        }
    }
    // The token is checked before anything is stored.
    if !request_token_matches(req, state, &token) {
        return Err(WebError::Csrf);
    }
    logo.filter(|l| !l.is_empty())
        .ok_or_else(|| WebError::BadForm("choose an image file".to_owned()))
}

/// `POST /admin/clients/{client}/logo`
pub async fn upload(
    req: HttpRequest,
    admin: StaffAdmin,
    csrf: CsrfToken,
    origin: ClientOrigin,
    path: web::Path<LogoPath>,
    parts: Multipart,
) -> WebResult<HttpResponse> {
    let state = AppState::of(&req);
    let logo = read_upload(&req, parts).await?;
    let update = ClientUpdate {
        logo: Some(Some(logo)),
        ..ClientUpdate::default()
    };
    let actor = AdminActor::user(&admin.0.user, &origin.0.ip);
    match state
        .services
        .update_client(actor, path.client.clone(), update)
        .await
    {
        Ok(client) => Ok(see_other(&format!("/admin/clients/{}", client.slug))),
        Err(ServiceError::NotFound(_)) => Err(WebError::NotFound),
        Err(ServiceError::Invalid(m)) => {
            super::clients::render_error(&req, &admin, &path.client, &csrf.0, m)
        }
        Err(e) => Err(e.into()),
    }
}
