//! `gatehouse staff show|set`: the staff pages' organisation name and logo.

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::AdminResponse;
use crate::service::admin::AdminActor;
use crate::service::branding::{StaffBrandingUpdate, StaffLook};
use crate::service::{ServiceError, Services};

fn answer(look: &StaffLook, first: &str) -> AdminResponse {
    let name = if look.org_name_set {
        look.name.as_str()
    } else {
        "(none: the pages say Gatehouse)"
    };
    AdminResponse::ok(
        format!(
            "{first}Organisation name: {name}\nLogo: {}",
            if look.has_logo { "set" } else { "none" }
        ),
        serde_json::json!({
            "org_name": look.org_name_set.then_some(&look.name),
            "logo": look.has_logo,
        }),
    )
}

pub fn show(services: &Arc<Services>) -> Result<AdminResponse, ServiceError> {
    Ok(answer(&services.staff_look()?, ""))
}

pub async fn set(
    services: &Arc<Services>,
    org_name: Option<String>,
    logo_base64: Option<String>,
) -> Result<AdminResponse, ServiceError> {
    let logo = match logo_base64.as_deref() {
        None => None,
        Some("") => Some(None),
        Some(b64) => Some(Some(STANDARD.decode(b64).map_err(|_| {
            ServiceError::Invalid("Logo: the file could not be read.".to_owned())
        })?)),
    };
    let look = services
        .set_staff_branding(AdminActor::cli(), StaffBrandingUpdate { org_name, logo })
        .await?;
    Ok(answer(&look, "Saved.\n"))
}
