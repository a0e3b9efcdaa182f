//! How an Entra app registration is configured, as stored: the staff app here (the
//! portal app and per-client tenants follow the same shape). The client secret is
//! sealed with the master key; `revision` changes whenever what a connection test
//! checks changes, so a passed test counts only for the settings it tested.

use serde::{Deserialize, Serialize};

use crate::domain::time::Timestamp;
use crate::domain::user::Sealed;
use crate::store::codec::Record;
use crate::store::settings::Setting;

/// One line of a connection test report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TestItem {
    pub name: String,
    pub passed: bool,
    /// Passed, but needs the admin's attention soon (a secret about to expire): shown
    /// as a warning, never as a plain pass.
    #[serde(default)]
    pub warning: bool,
    /// What was found, or what to fix, in plain words.
    pub detail: String,
}

/// The last connection test.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectionTest {
    pub at: Timestamp,
    /// The settings revision it tested.
    pub revision: u64,
    pub passed: bool,
    pub items: Vec<TestItem>,
}

/// The staff sign-in app registration (single tenant).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffSso {
    /// The tenant as entered: its id or a verified domain. Empty until set.
    #[serde(default)]
    pub tenant: String,
    /// The tenant id, learnt from discovery when `tenant` is a domain.
    #[serde(default)]
    pub tenant_id: Option<String>,
    #[serde(default)]
    pub client_id: String,
    /// Sealed under `SECRET_CONTEXT`; never shown again.
    #[serde(default)]
    pub client_secret: Option<Sealed>,
    /// `YYYY-MM-DD`, as the admin read it in Entra.
    #[serde(default)]
    pub secret_expires: Option<String>,
    /// Create users on first Microsoft sign-in.
    #[serde(default)]
    pub jit: bool,
    /// Email domains allowed for just-in-time users; empty = anyone in the tenant.
    #[serde(default)]
    pub allowed_domains: Vec<String>,
    /// Guest (B2B) accounts of the tenant may sign in as staff. Off by default: with
    /// just-in-time on and no domain list, any guest of the tenant would become staff.
    #[serde(default)]
    pub allow_guests: bool,
    #[serde(default)]
    pub enabled: bool,
    #[serde(default)]
    pub revision: u64,
    #[serde(default)]
    pub last_test: Option<ConnectionTest>,
}

impl Record for StaffSso {
    const KIND: &'static str = "staff SSO settings";
}

impl Setting for StaffSso {
    const NAME: &'static str = "staff-sso";
}

/// The context the staff client secret is sealed under.
pub const SECRET_CONTEXT: &str = "sso-client-secret:staff";

impl StaffSso {
    /// Tenant, client id and secret are all present.
    pub fn is_configured(&self) -> bool {
        !self.tenant.is_empty() && !self.client_id.is_empty() && self.client_secret.is_some()
    }

    /// The last connection test passed and nothing it checked has changed since.
    pub fn tested_ok(&self) -> bool {
        self.last_test
            .as_ref()
            .is_some_and(|t| t.passed && t.revision == self.revision)
    }

    /// Whether `domain` may be provisioned just in time.
    pub fn domain_allowed(&self, domain: &str) -> bool {
        self.allowed_domains.is_empty()
            || self
                .allowed_domains
                .iter()
                .any(|d| d.eq_ignore_ascii_case(domain))
    }
}

/// The connection test's line about a client secret that expires within 30 days: a
/// warning while it still works, a failure once it has expired; none otherwise.
pub fn secret_expiry_item(date: Option<&str>, now: Timestamp) -> Option<TestItem> {
    let days = expiry_warning(date?, now)?;
    Some(TestItem {
        name: "Secret expiry".to_owned(),
        passed: days >= 0,
        warning: days >= 0,
        detail: if days >= 0 {
            format!("The secret expires in {days} day(s); create a new one soon.")
        } else {
            "The secret's expiry date has passed.".to_owned()
        },
    })
}

/// Whether a secret expiring on `date` (`YYYY-MM-DD`) needs a warning at `now`
/// (from 30 days before), and how many days are left (negative when past).
pub fn expiry_warning(date: &str, now: Timestamp) -> Option<i64> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let expires = time::Date::parse(date, &format).ok()?;
    let today = time::OffsetDateTime::from_unix_timestamp(now.0)
        .ok()?
        .date();
    let days_left = (expires - today).whole_days();
    (days_left <= 30).then_some(days_left)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warns_from_thirty_days_before_expiry() {
        let now = Timestamp(time::macros::datetime!(2026-11-22 12:00 UTC).unix_timestamp());
        assert_eq!(expiry_warning("2027-01-30", now), None);
        assert_eq!(expiry_warning("2026-12-22", now), Some(30));
        assert_eq!(expiry_warning("2026-12-23", now), None);
        assert_eq!(expiry_warning("2026-11-01", now), Some(-21));
        assert_eq!(expiry_warning("not a date", now), None);
    }
}

/// The business's multi-tenant portal app registration, used in every client's
/// tenant.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortalApp {
    #[serde(default)]
    pub client_id: String,
    /// Sealed under `PORTAL_SECRET_CONTEXT`; never shown again.
    #[serde(default)]
    pub client_secret: Option<Sealed>,
    #[serde(default)]
    pub secret_expires: Option<String>,
}

impl Record for PortalApp {
    const KIND: &'static str = "portal app settings";
}

impl Setting for PortalApp {
    const NAME: &'static str = "portal-app";
}

/// The context the portal app's client secret is sealed under.
pub const PORTAL_SECRET_CONTEXT: &str = "sso-client-secret:portal";

impl PortalApp {
    pub fn is_configured(&self) -> bool {
        !self.client_id.is_empty() && self.client_secret.is_some()
    }
}
