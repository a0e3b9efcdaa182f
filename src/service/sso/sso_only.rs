//! What staff SSO-only needs (DESIGN §3, §10). SSO-only means "only providers": any
//! enabled provider of the realm that can sign people in carries it, Microsoft or
//! another OpenID provider, and the admin who must still get in may have their
//! identity linked at any of them. "Can sign people in" means: on, configured, and
//! its connection test passed since its settings last changed.

use super::settings::StaffSso;
use crate::domain::sso::provider::{ENTRA_PROVIDER_ID, IdentityProvider, ProviderKind};
use crate::domain::user::{Realm, SsoLink, User};
use crate::service::Result;
use crate::store::prelude::*;

/// The providers of a realm that can sign people in under SSO-only.
#[derive(Debug, Default)]
pub(crate) struct UsableProviders {
    /// Microsoft: `Some(tenant id)` when usable (`None` inside while the tenant id is
    /// not known yet).
    entra: Option<Option<String>>,
    /// The issuers of the usable `oidc` providers.
    issuers: Vec<String>,
}

impl UsableProviders {
    /// At least one provider can sign people in.
    pub(crate) fn any(&self) -> bool {
        self.entra.is_some() || !self.issuers.is_empty()
    }

    /// Whether a usable provider issues the identity of `link`: an `oidc` link is keyed
    /// by its issuer, a Microsoft link by its tenant id.
    pub(crate) fn signs_in(&self, link: &SsoLink) -> bool {
        if self.issuers.contains(&link.tenant) {
            return true;
        }
        self.entra
            .as_ref()
            .is_some_and(|tenant| super::linking::issued_by_entra(link, tenant.as_deref()))
    }

    /// An active admin who can still sign in once SSO-only is on: a break-glass
    /// account, or one with an identity linked at a usable provider.
    pub(crate) fn safe_admin(&self, user: &User) -> bool {
        user.is_active_admin()
            && (user.break_glass || user.sso_links.iter().any(|l| self.signs_in(l)))
    }
}

/// Whether an `oidc` provider is on, configured and passed its connection test since
/// its settings last changed.
pub(crate) fn oidc_usable(p: &IdentityProvider) -> bool {
    p.kind == ProviderKind::Oidc
        && p.enabled
        && p.oidc_configured()
        && p.last_test
            .as_ref()
            .is_some_and(|t| t.passed && t.revision == p.revision)
}

/// The staff realm's usable providers, read in the caller's transaction, leaving out
/// provider `except` (about to be turned off or removed).
pub(crate) fn staff_usable(r: &impl Tables, except: Option<&str>) -> Result<UsableProviders> {
    let sso: StaffSso = r.setting()?;
    let list = r.providers(Realm::Staff)?;
    let entra_kept = except != Some(ENTRA_PROVIDER_ID);
    Ok(UsableProviders {
        entra: (entra_kept && sso.enabled && sso.is_configured() && sso.tested_ok())
            .then(|| sso.tenant_id.clone()),
        issuers: list
            .providers
            .iter()
            .filter(|p| oidc_usable(p) && Some(p.id.as_str()) != except)
            .map(|p| p.issuer.clone())
            .collect(),
    })
}

/// Where staff SSO-only stands: the two conditions the admin page shows and the
/// server checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StaffSsoOnlyReadiness {
    /// A provider is on, configured and tested since its settings last changed.
    pub provider: bool,
    /// An active admin has an identity linked at such a provider, or is break-glass.
    pub safe_admin: bool,
}

impl StaffSsoOnlyReadiness {
    /// Reads both conditions in the caller's transaction.
    pub(crate) fn read(r: &impl Tables) -> Result<StaffSsoOnlyReadiness> {
        Self::read_without(r, None)
    }

    /// Both conditions as they would be without provider `except`.
    pub(crate) fn read_without(
        r: &impl Tables,
        except: Option<&str>,
    ) -> Result<StaffSsoOnlyReadiness> {
        let usable = staff_usable(r, except)?;
        let safe_admin = r
            .find_user_in_realm(Realm::Staff, |u| usable.safe_admin(u))?
            .is_some();
        Ok(StaffSsoOnlyReadiness {
            provider: usable.any(),
            safe_admin,
        })
    }

    /// Both conditions hold.
    pub(crate) fn holds(&self) -> bool {
        self.provider && self.safe_admin
    }

    /// What is missing, in words, for the refusal.
    pub(crate) fn missing(&self) -> Vec<&'static str> {
        let mut missing = Vec::new();
        if !self.provider {
            missing.push("a sign-in provider (Microsoft or another OpenID provider) must be on, with its connection test passed since its settings last changed");
        }
        if !self.safe_admin {
            missing.push("at least one active admin must have an account linked at such a provider (a linked Microsoft account or another OpenID provider's) or be a break-glass account");
        }
        missing
    }
}
