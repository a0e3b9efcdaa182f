//! What admins are shown of the Entra app registrations (the staff app and the
//! portal app): every setting but the sealed client secret, which never leaves the
//! service layer — only whether one is set and when it expires.

use std::sync::Arc;

use super::settings::{ConnectionTest, PortalApp, StaffSso, expiry_warning};
use super::sso_only::StaffSsoOnlyReadiness;
use crate::domain::time::Timestamp;
use crate::service::policy::StaffLogin;
use crate::service::sso::registration::secret_status;
use crate::service::{Result, ServiceError, Services};
use crate::store::prelude::*;

/// The client secret of an app registration as admins see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretSummary {
    pub set: bool,
    /// `YYYY-MM-DD`, as the admin entered it.
    pub expires: Option<String>,
    /// "not set", "set, expires on D (in N days — renew it soon)"…
    pub status: String,
    /// Days left when the expiry is 30 days away or less (negative once past), for a
    /// secret that is set.
    pub expiry_warning: Option<i64>,
}

impl SecretSummary {
    fn new(set: bool, expires: Option<String>, now: Timestamp) -> SecretSummary {
        SecretSummary {
            set,
            status: secret_status(set, expires.as_deref(), now),
            expiry_warning: expires
                .as_deref()
                .filter(|_| set)
                .and_then(|d| expiry_warning(d, now)),
            expires,
        }
    }
}

/// The staff SSO settings without the secret, with what the admin pages and the CLI
/// show beside them.
#[derive(Debug, Clone)]
pub struct StaffSsoSummary {
    /// The tenant as entered (id or verified domain); empty until set.
    pub tenant: String,
    /// The tenant id, when known.
    pub tenant_id: Option<String>,
    pub client_id: String,
    pub secret: SecretSummary,
    pub jit: bool,
    pub allowed_domains: Vec<String>,
    /// Guest (B2B) accounts of the tenant may sign in.
    pub allow_guests: bool,
    pub enabled: bool,
    /// Tenant, client id and secret are all present.
    pub configured: bool,
    /// The revision of the settings a connection test checks.
    pub revision: u64,
    pub last_test: Option<ConnectionTest>,
    /// The last connection test passed and nothing it checked has changed since.
    pub tested_ok: bool,
    /// Staff SSO-only is on.
    pub sso_only: bool,
    /// The conditions for turning SSO-only on, counted over every provider of the
    /// staff realm (Microsoft or another OpenID provider).
    pub sso_only_ready: StaffSsoOnlyReadiness,
    /// The redirect URI to register in Entra.
    pub redirect_uri: String,
}

/// The portal app registration without the secret.
#[derive(Debug, Clone)]
pub struct PortalAppSummary {
    pub client_id: String,
    pub secret: SecretSummary,
    /// Client id and secret are both present.
    pub configured: bool,
    /// The two redirect URIs to register in Entra: sign-in and admin consent.
    pub redirect_uri: String,
    pub consent_uri: String,
}

impl Services {
    /// The staff SSO settings as admins see them (reads the staff users, so off the
    /// executor).
    pub async fn staff_sso_summary(self: &Arc<Self>) -> Result<StaffSsoSummary> {
        let (sso, staff, ready) = self
            .blocking(|s| {
                s.store.read(|r| {
                    let sso: StaffSso = r.setting()?;
                    let staff: StaffLogin = r.setting()?;
                    let ready = StaffSsoOnlyReadiness::read(r)?;
                    Ok::<_, ServiceError>((sso, staff, ready))
                })
            })
            .await?;
        Ok(StaffSsoSummary {
            secret: SecretSummary::new(
                sso.client_secret.is_some(),
                sso.secret_expires.clone(),
                self.clock.now(),
            ),
            configured: sso.is_configured(),
            tested_ok: sso.tested_ok(),
            tenant: sso.tenant,
            tenant_id: sso.tenant_id,
            client_id: sso.client_id,
            jit: sso.jit,
            allowed_domains: sso.allowed_domains,
            allow_guests: sso.allow_guests,
            enabled: sso.enabled,
            revision: sso.revision,
            last_test: sso.last_test,
            sso_only: staff.sso_only,
            sso_only_ready: ready,
            redirect_uri: self.sso_redirect_uri(),
        })
    }

    /// The portal app registration as admins see it (a point read).
    pub fn portal_app_summary(&self) -> Result<PortalAppSummary> {
        let app: PortalApp = self.portal_app()?;
        Ok(PortalAppSummary {
            configured: app.is_configured(),
            secret: SecretSummary::new(
                app.client_secret.is_some(),
                app.secret_expires,
                self.clock.now(),
            ),
            client_id: app.client_id,
            redirect_uri: self.sso_redirect_uri(),
            consent_uri: self.consent_redirect_uri(),
        })
    }
}
