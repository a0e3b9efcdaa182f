//! The server side of `AdminRequest::Status`: the store's vital facts as a running
//! server sees them (for `doctor`, and "is a server running?" for `restore`). The
//! facts come from [`Services::store_status`]; this module only words the answer.

use std::sync::Arc;

use super::AdminResponse;
use crate::service::{Result, Services};

/// The answer to `AdminRequest::Status`.
pub async fn respond(services: &Arc<Services>) -> Result<AdminResponse> {
    let status = services.blocking(|s| s.store_status()).await?;
    let text = format!(
        "server running; schema version {}; {} user(s), {} session(s), {} active staff admin(s)",
        status.schema_version,
        status.users,
        status.sessions,
        status.active_staff_admins.len()
    );
    Ok(AdminResponse::ok(
        text,
        serde_json::to_value(&status).unwrap_or_default(),
    ))
}
