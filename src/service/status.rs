//! The facts about a store that `doctor` checks and `restore` describes: schema
//! version, who can administer, break-glass accounts, sizes, the newest audit time.
//! A running server answers them over the admin socket (`AdminRequest::Status`); on a
//! stopped one the CLI collects them from the store itself. Both go through
//! [`Services::store_status`], so the two paths report the same thing. Only reads:
//! nothing here changes the store or knows how the facts are shown.

use serde::{Deserialize, Serialize};

use super::forwarding::UntrustedForwarding;
use super::policy::realm_policy;
use super::sso::secret_expiry::stored_secrets;
use super::sso::settings::StaffSso;
use super::{Result, Services};
use crate::domain::user::{Realm, Role, UserStatus};
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
    /// Client secrets that are set, with their recorded expiry dates.
    #[serde(default)]
    pub secrets: Vec<SecretExpiry>,
    /// Staff Microsoft sign-in, when it is turned on.
    #[serde(default)]
    pub staff_sso: Option<SsoTestState>,
    /// Forwarded requests from untrusted peers seen by the running server (none when
    /// the status was read from a stopped store).
    #[serde(default)]
    pub untrusted_forwarding: Option<UntrustedForwarding>,
    /// Emails the running server could not send since it started (none when read from
    /// a stopped store, or when all went out).
    #[serde(default)]
    pub mail_failures: Option<MailFailures>,
    /// The last Graph leavers sweep of each realm that had one.
    #[serde(default)]
    pub sweeps: Vec<SweepStatus>,
}

/// Emails given up on since the server started, for `doctor`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailFailures {
    pub failed: u64,
    /// The newest failure's reason.
    pub last_error: String,
}

/// The last Graph sweep of one realm.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SweepStatus {
    /// `staff` or the client's slug.
    pub realm: String,
    /// Unix time of the sweep.
    pub at: i64,
    pub completed: bool,
    /// The outcome in plain words.
    pub summary: String,
}

/// A stored client secret: of an Entra app registration or of an `oidc` provider.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecretExpiry {
    /// "staff sign-in app", "portal app", or "identity provider N (id) of staff" /
    /// "… of client N (slug)".
    pub app: String,
    /// `YYYY-MM-DD`, when the admin recorded one.
    pub expires: Option<String>,
}

/// Staff Microsoft sign-in and its connection test.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SsoTestState {
    /// The last connection test passed and the settings have not changed since.
    pub tested_ok: bool,
    /// When the last test ran and whether it passed, if it ever ran.
    pub last_test: Option<(i64, bool)>,
}

impl Services {
    /// The store's vital facts, read in one read transaction.
    pub fn store_status(&self) -> Result<StoreStatus> {
        self.read(|r| {
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
            let staff_app: StaffSso = r.setting()?;
            let secrets = stored_secrets(r)?
                .into_iter()
                .map(|s| SecretExpiry {
                    app: s.owner.describe(),
                    expires: s.expires,
                })
                .collect();
            let staff_sso = staff_app.enabled.then(|| SsoTestState {
                tested_ok: staff_app.tested_ok(),
                last_test: staff_app.last_test.as_ref().map(|t| (t.at.0, t.passed)),
            });
            let audit_events = newest.first().map(|(seq, _)| *seq).unwrap_or(0);
            let mut sweeps = Vec::new();
            let clients = r.clients()?;
            let realms = std::iter::once((Realm::Staff, "staff".to_owned())).chain(
                clients
                    .iter()
                    .map(|c| (Realm::Client(c.id), c.slug.clone())),
            );
            for (realm, name) in realms {
                if let Some(sweep) = r.realm_provisioning(realm)?.last_sweep {
                    sweeps.push(SweepStatus {
                        realm: name,
                        at: sweep.at.0,
                        completed: sweep.is_ok(),
                        summary: sweep.summary(),
                    });
                }
            }
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
                secrets,
                staff_sso,
                untrusted_forwarding: self.untrusted_forwarding(),
                mail_failures: self.mail_failures(),
                sweeps,
            })
        })
    }
}
