//! The server side of `gatehouse backup` (`AdminRequest::Backup`): the running server
//! snapshots its store into a file in its data directory and answers with the rows
//! copied. Moving the file where the operator asked is the CLI's half (`ops::backup`);
//! this module never touches files itself.

use std::path::PathBuf;
use std::sync::Arc;

use super::AdminResponse;
use crate::service::{self, Services};

/// Snapshots to `path`, verifies, and answers with the rows copied (and the master
/// key in hex when asked).
pub async fn respond(
    services: &Arc<Services>,
    path: PathBuf,
    with_key: bool,
) -> service::Result<AdminResponse> {
    let snapshot = services
        .blocking(move |s| s.snapshot(&path, with_key))
        .await?;
    tracing::info!(
        users = snapshot.users(),
        "backup snapshot written through the admin socket"
    );
    let mut data = serde_json::json!({ "tables": snapshot.tables });
    if let Some(key) = snapshot.key_hex {
        data["key"] = serde_json::Value::String(key);
    }
    Ok(AdminResponse::ok("snapshot written", data))
}
