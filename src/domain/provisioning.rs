//! Provisioning and leavers as data: SCIM bearer tokens, what SCIM knows of a user
//! beyond the user record, SCIM groups, and per realm the last provisioning request
//! and the last Microsoft Graph sweep. Pure data; no store, no HTTP.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::time::Timestamp;
use super::user::{Realm, UserId};

/// The prefix of every SCIM bearer token, so a leaked one is recognisable.
pub const TOKEN_PREFIX: &str = "ghscim_";

/// A SCIM bearer token as stored: it selects its realm. The bearer value is
/// `ghscim_{id}_{secret}`; only a keyed hash of the secret is kept, and it is compared
/// in constant time.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScimToken {
    /// A short public handle for listing and revoking (never the secret).
    pub id: String,
    /// The keyed hash of the secret, hex.
    pub hash: String,
    pub realm: Realm,
    /// What the admin called it (e.g. "Entra provisioning").
    pub label: String,
    pub created_at: Timestamp,
    #[serde(default)]
    pub last_used_at: Option<Timestamp>,
}

/// What SCIM knows of a user beyond the user record. A user of the realm with no such
/// record is shown to SCIM with their email as `userName`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProvisionedUser {
    pub user_name: String,
    /// Entra's object id under the default attribute mapping; exact (caseExact).
    #[serde(default)]
    pub external_id: Option<String>,
    #[serde(default)]
    pub given_name: Option<String>,
    #[serde(default)]
    pub family_name: Option<String>,
    #[serde(default)]
    pub formatted_name: Option<String>,
    /// The `work` email as SCIM sent it (the user's email follows it).
    #[serde(default)]
    pub work_email: Option<String>,
    /// The (tenant, object id) this record linked as the user's Microsoft identity.
    #[serde(default)]
    pub linked: Option<(String, String)>,
    /// Created by SCIM (not an existing user SCIM later matched).
    #[serde(default)]
    pub created_by_scim: bool,
    pub provisioned_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A SCIM group of one realm (for Entra's group assignment; it grants nothing by
/// itself).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScimGroup {
    pub id: Uuid,
    pub realm: Realm,
    pub display_name: String,
    #[serde(default)]
    pub external_id: Option<String>,
    #[serde(default)]
    pub members: Vec<UserId>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// One SCIM request as the admin page shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LastRequest {
    pub at: Timestamp,
    pub method: String,
    /// The route pattern (never ids or filters).
    pub route: String,
    pub status: u16,
}

/// How a Graph sweep of one realm ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum SweepOutcome {
    /// Every linked user was checked.
    Completed,
    /// The realm has no Microsoft connection to sweep with.
    NoConnection,
    /// Graph answered 403: the app lacks the `User.Read.All` application permission.
    NotGranted,
    /// A token could not be had, Graph was unreachable, answered 5xx or kept
    /// throttling: the sweep stopped and disabled nobody it had not confirmed.
    Interrupted { reason: String },
}

/// The last Graph sweep of a realm.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SweepReport {
    pub at: Timestamp,
    pub outcome: SweepOutcome,
    /// Linked users whose Entra account was looked up.
    pub checked: usize,
    /// Emails of the users disabled by this sweep.
    pub disabled: Vec<String>,
}

impl SweepReport {
    /// The outcome in plain words.
    pub fn summary(&self) -> String {
        let base = match &self.outcome {
            SweepOutcome::Completed => "completed".to_owned(),
            SweepOutcome::NoConnection => "no Microsoft connection in this realm".to_owned(),
            SweepOutcome::NotGranted => {
                "Graph refused (403): grant the application permission User.Read.All and admin consent"
                    .to_owned()
            }
            SweepOutcome::Interrupted { reason } => format!("interrupted: {reason}"),
        };
        format!(
            "{base}; {} checked, {} disabled",
            self.checked,
            self.disabled.len()
        )
    }

    /// Whether the sweep did its job.
    pub fn is_ok(&self) -> bool {
        matches!(self.outcome, SweepOutcome::Completed)
    }
}

/// Per realm: the last provisioning request and the last sweep.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RealmProvisioning {
    #[serde(default)]
    pub last_request: Option<LastRequest>,
    #[serde(default)]
    pub last_sweep: Option<SweepReport>,
}

/// Splits a presented bearer value `ghscim_{id}_{secret}` into its handle and secret.
pub fn split_token(bearer: &str) -> Option<(&str, &str)> {
    let rest = bearer.strip_prefix(TOKEN_PREFIX)?;
    let (id, secret) = rest.split_once('_')?;
    (id.len() == 8 && id.bytes().all(|b| b.is_ascii_hexdigit())).then_some((id, secret))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_values_split_into_handle_and_secret() {
        assert_eq!(
            split_token("ghscim_0a1b2c3d_abc_def"),
            Some(("0a1b2c3d", "abc_def"))
        );
        assert_eq!(split_token("ghscim_0a1b2c3_abc"), None);
        assert_eq!(split_token("ghscim_zzzzzzzz_abc"), None);
        assert_eq!(split_token("Bearer x"), None);
    }
}
