//! The facts about a store that `doctor` checks and `restore` describes: schema
//! version, who can administer, break-glass accounts, sizes, the newest audit time.
//! A running server answers them over the admin socket (`AdminRequest::Status`); on a
//! stopped one the CLI collects them from the store itself. Both go through
//! [`collect`], so the two paths report the same thing.

use serde::{Deserialize, Serialize};

use crate::admin_api::AdminResponse;
use crate::domain::user::{Realm, Role, UserStatus};
use crate::service::policy::realm_policy;
use crate::service::{Result, Services};
use crate::store::migrations::CURRENT_VERSION;
use crate::store::prelude::*;
use crate::store::snapshot::schema_version;

/// A store's vital facts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoreStatus {
    /// The schema version recorded in the store.
    pub schema_version: u64,
    /// The schema version this build writes.
    pub supported_version: u64,
    pub users: u64,
    pub sessions: u64,
    /// Emails of active staff admins.
    pub active_staff_admins: Vec<String>,
    /// Staff accounts flagged break-glass, as `email (status)`.
    pub break_glass: Vec<String>,
    /// Whether staff SSO-only is on.
    pub staff_sso_only: bool,
    /// Unix time of the newest audit event, if any.
    pub newest_audit_at: Option<i64>,
    pub audit_events: u64,
}

/// Reads the facts in one read transaction.
pub fn collect(services: &Services) -> Result<StoreStatus> {
    services.read(|r| {
        let schema_version = schema_version(r)?;
        let staff = r.users_in_realm(Realm::Staff)?;
        let active_staff_admins = staff
            .iter()
            .filter(|u| u.role == Role::Admin && u.status == UserStatus::Active)
            .map(|u| u.email.to_string())
            .collect();
        let break_glass = staff
            .iter()
            .filter(|u| u.break_glass)
            .map(|u| format!("{} ({})", u.email, u.status.as_str()))
            .collect();
        let newest = r.audit_events(1, None)?;
        let audit_events = newest.first().map(|(seq, _)| *seq).unwrap_or(0);
        Ok(StoreStatus {
            schema_version,
            supported_version: CURRENT_VERSION,
            users: r.count_users()?,
            sessions: r.count_sessions()?,
            active_staff_admins,
            break_glass,
            staff_sso_only: realm_policy(r, Realm::Staff)?.sso_only,
            newest_audit_at: newest.first().map(|(_, e)| e.at.0),
            audit_events,
        })
    })
}

/// The answer to `AdminRequest::Status` on a running server.
pub async fn respond(services: &std::sync::Arc<Services>) -> Result<AdminResponse> {
    let status = services.blocking(collect).await?;
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
