//! Sign-in with Microsoft Entra ID: settings, the outbound client, the sign-in flow,
//! identity resolution and the admin operations (test connection, SSO-only).

pub mod admin;
mod callback;
pub mod client;
pub mod connection;
pub mod email_first;
pub mod flow;
pub mod id_token;
pub mod identity;
pub mod linking;
pub mod oidc;
mod oidc_token;
mod outbound;
pub mod portal;
pub mod provider_flow;
pub mod provider_test;
pub mod providers;
pub mod registration;
pub mod secret_expiry;
pub mod settings;
pub mod sso_only;
pub mod summary;

use crate::domain::entra::SsoIdentity;
use crate::domain::sso::SsoApp;
use crate::domain::user::Realm;
use crate::store::prelude::*;

use super::portal::Portal;
use super::{NewSession, Result, ServiceError, Services};
use settings::{PORTAL_SECRET_CONTEXT, PortalApp, SECRET_CONTEXT, StaffSso};

/// Why a Microsoft sign-in did not succeed, as the user is told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SsoFailure {
    /// Microsoft sign-in is not turned on for this realm.
    NotAvailable,
    /// `state` missing, unknown, already used, or started in another browser.
    BadState,
    /// The sign-in took longer than ten minutes.
    Expired,
    /// Microsoft could not be reached or answered strangely.
    Unreachable,
    /// The ID token did not pass verification.
    NotVerified,
    /// Nobody here matches the account and it may not be created — or an account
    /// with its email exists but is not linked (told the same, to disclose nothing).
    NotRegistered,
    /// The matching account is disabled.
    Disabled,
    /// The Microsoft account is already linked to someone else here.
    AlreadyLinked,
    /// Microsoft sent the user back with an error (cancelled, no consent…).
    Provider { description: String },
    /// The provider requires MFA here and the ID token does not prove it.
    MfaNotProven,
}

/// What a finished callback leads to. The web layer maps each to one response, and
/// finds here all it needs for it: `portal` is the client's portal for a client realm
/// (`None` for staff, or when the client is gone), so nothing is read again.
#[derive(Debug)]
pub enum SsoOutcome {
    SignedIn {
        realm: Realm,
        portal: Option<Portal>,
        /// Boxed: far larger than the other variants.
        session: Box<NewSession>,
        next: Option<String>,
    },
    Linked {
        realm: Realm,
        portal: Option<Portal>,
    },
    Tested {
        identity: SsoIdentity,
    },
    /// A staff admin confirmed who they are (step-up); back to `next`.
    SteppedUp {
        next: String,
    },
    Failed {
        realm: Option<Realm>,
        portal: Option<Portal>,
        failure: SsoFailure,
    },
}

/// One realm's Microsoft sign-in configuration, with the secret opened.
#[derive(Debug, Clone)]
pub struct AppConfig {
    pub app: SsoApp,
    /// The tenant path used for discovery (id or domain).
    pub tenant: String,
    pub client_id: String,
    pub client_secret: String,
    pub enabled: bool,
    pub jit: bool,
    pub allowed_domains: Vec<String>,
    /// Guest (B2B) accounts of the tenant may sign in.
    pub allow_guests: bool,
}

impl AppConfig {
    pub fn domain_allowed(&self, domain: &str) -> bool {
        self.allowed_domains.is_empty()
            || self
                .allowed_domains
                .iter()
                .any(|d| d.eq_ignore_ascii_case(domain))
    }
}

impl Services {
    /// The staff SSO settings as stored.
    pub fn staff_sso(&self) -> Result<StaffSso> {
        Ok(self.store.read(|r| r.setting::<StaffSso>())?)
    }

    /// The sign-in configuration of `realm`, if it has a complete one.
    pub fn sso_app(&self, realm: Realm) -> Result<Option<AppConfig>> {
        match realm {
            Realm::Staff => {
                let sso = self.staff_sso()?;
                let Some(sealed) = sso.client_secret.as_ref().filter(|_| sso.is_configured())
                else {
                    return Ok(None);
                };
                let secret = String::from_utf8(self.keys.open(sealed, SECRET_CONTEXT)?)
                    .map_err(|_| ServiceError::Internal("client secret is not text".to_owned()))?;
                Ok(Some(AppConfig {
                    app: SsoApp::Staff,
                    tenant: sso.tenant_id.clone().unwrap_or(sso.tenant.clone()),
                    client_id: sso.client_id,
                    client_secret: secret,
                    enabled: sso.enabled,
                    jit: sso.jit,
                    allowed_domains: sso.allowed_domains,
                    allow_guests: sso.allow_guests,
                }))
            }
            Realm::Client(id) => {
                let (client, portal) = self.store.read(|r| {
                    Ok::<_, crate::store::StoreError>((r.client(id)?, r.setting::<PortalApp>()?))
                })?;
                let (Some(client), Some(sealed)) = (
                    client,
                    portal
                        .client_secret
                        .as_ref()
                        .filter(|_| portal.is_configured()),
                ) else {
                    return Ok(None);
                };
                let Some(tenant) = client.tenant_id.clone() else {
                    return Ok(None);
                };
                let secret = String::from_utf8(self.keys.open(sealed, PORTAL_SECRET_CONTEXT)?)
                    .map_err(|_| ServiceError::Internal("client secret is not text".to_owned()))?;
                Ok(Some(AppConfig {
                    app: SsoApp::Portal(client.id),
                    tenant,
                    client_id: portal.client_id,
                    client_secret: secret,
                    enabled: client.sso_enabled && client.enabled,
                    jit: client.jit,
                    allowed_domains: client.allowed_domains,
                    allow_guests: client.allow_guests,
                }))
            }
        }
    }

    /// Whether "Sign in with Microsoft" is offered in `realm`.
    pub fn sso_enabled(&self, realm: Realm) -> Result<bool> {
        match realm {
            Realm::Staff => {
                let sso = self.staff_sso()?;
                Ok(sso.enabled && sso.is_configured())
            }
            Realm::Client(id) => {
                let (client, portal) = self.store.read(|r| {
                    Ok::<_, crate::store::StoreError>((r.client(id)?, r.setting::<PortalApp>()?))
                })?;
                Ok(portal.is_configured()
                    && client.is_some_and(|c| c.enabled && c.sso_enabled && c.tenant_id.is_some()))
            }
        }
    }

    /// The one redirect URI for staff and all portals.
    pub fn sso_redirect_uri(&self) -> String {
        format!("{}/sso/callback", self.settings.base_url)
    }

    /// Where a client's Entra admin lands after the admin-consent prompt.
    pub fn consent_redirect_uri(&self) -> String {
        format!("{}/sso/consent", self.settings.base_url)
    }
}
