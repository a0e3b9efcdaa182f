//! Linking sign-in accounts from the account page (DESIGN §10): one link button per
//! enabled provider of the user's realm, Microsoft or another OpenID provider. The
//! identity a link records is keyed by (tid, oid) or (iss, sub), never by email; the
//! callback ([`Services::link_identity`]) refuses an identity already linked to
//! someone else. Also: naming the provider of each linked account and the providers
//! a user may step up with.

use std::sync::Arc;

use super::SsoFailure;
use super::flow::SsoStart;
use super::settings::StaffSso;
use crate::domain::sso::SsoPurpose;
use crate::domain::sso::provider::{IdentityProvider, ProviderButton, ProviderKind};
use crate::domain::time::Timestamp;
use crate::domain::user::{Realm, SsoLink, User};
use crate::service::sessions::SignedIn;
use crate::service::{Result, ServiceError, Services};
use crate::store::prelude::*;

/// A linked account as the account page lists it.
#[derive(Debug, Clone)]
pub struct LinkedAccount {
    /// The display name of the provider that issued it ("Microsoft", "Okta"…), or
    /// the issuer when no provider of the realm issues it any more.
    pub provider: String,
    pub username: String,
    pub tenant: String,
    pub subject: String,
    pub linked_at: Timestamp,
}

/// Whether `link` is an identity issued by provider `p` of the realm whose Microsoft
/// tenant id is `entra_tenant`.
pub(crate) fn issued_by(p: &IdentityProvider, link: &SsoLink, entra_tenant: Option<&str>) -> bool {
    match p.kind {
        ProviderKind::Oidc => !p.issuer.is_empty() && p.issuer == link.tenant,
        ProviderKind::Entra => issued_by_entra(link, entra_tenant),
    }
}

/// Whether `link` is a Microsoft identity of the tenant `entra_tenant` (any Microsoft
/// identity, i.e. one keyed by a tenant id rather than an issuer URL, while the
/// tenant id is not known).
pub(crate) fn issued_by_entra(link: &SsoLink, entra_tenant: Option<&str>) -> bool {
    match entra_tenant {
        Some(tid) => link.tenant.eq_ignore_ascii_case(tid),
        None => !link.tenant.contains("://"),
    }
}

impl Services {
    /// The tenant id of the realm's Microsoft settings, when known.
    pub(crate) fn entra_tenant_id(&self, realm: Realm) -> Result<Option<String>> {
        let tenant = self.store.read(|r| {
            Ok::<_, ServiceError>(match realm {
                Realm::Staff => r.setting::<StaffSso>()?.tenant_id,
                Realm::Client(id) => r.client(id)?.and_then(|c| c.tenant_id),
            })
        })?;
        Ok(tenant.filter(|t| uuid::Uuid::parse_str(t).is_ok()))
    }

    /// The providers the account page offers to link: every enabled provider of
    /// the realm, in order.
    pub fn link_buttons(&self, realm: Realm) -> Result<Vec<ProviderButton>> {
        self.login_buttons(realm)
    }

    /// The user's linked accounts with the provider each came from.
    pub fn linked_accounts(&self, user: &User) -> Result<Vec<LinkedAccount>> {
        let providers = self.identity_providers(user.realm)?.providers;
        let tenant = self.entra_tenant_id(user.realm)?;
        Ok(user
            .sso_links
            .iter()
            .map(|l| LinkedAccount {
                provider: providers
                    .iter()
                    .find(|p| issued_by(p, l, tenant.as_deref()))
                    .map(|p| p.name.clone())
                    .unwrap_or_else(|| l.tenant.clone()),
                username: l.username.clone(),
                tenant: l.tenant.clone(),
                subject: l.subject.clone(),
                linked_at: l.linked_at,
            })
            .collect())
    }

    /// Begins linking an account of `provider` (`None`: the realm's Microsoft
    /// provider, else its first enabled one) to the signed-in user.
    pub async fn start_link(
        self: &Arc<Self>,
        me: &SignedIn,
        provider: Option<&str>,
    ) -> Result<SsoStart> {
        let realm = me.user.realm;
        let buttons = self.link_buttons(realm)?;
        let chosen = match provider.filter(|p| !p.is_empty()) {
            Some(id) => buttons.iter().find(|b| b.id == id),
            None => buttons
                .iter()
                .find(|b| b.kind == ProviderKind::Entra)
                .or_else(|| buttons.first()),
        }
        .ok_or(ServiceError::Sso(SsoFailure::NotAvailable))?;
        let purpose = SsoPurpose::Link {
            user_id: me.user.id,
        };
        self.start_sso_via(realm, Some(&chosen.id), purpose, None)
            .await
    }

    /// The enabled providers at which `user` has a linked identity, in the realm's
    /// order: the ways they can prove themselves again by signing in there.
    pub(crate) fn providers_linked_to(&self, user: &User) -> Result<Vec<IdentityProvider>> {
        let tenant = self.entra_tenant_id(user.realm)?;
        let entra_on = self.sso_enabled(user.realm)?;
        Ok(self
            .identity_providers(user.realm)?
            .providers
            .into_iter()
            .filter(|p| match p.kind {
                ProviderKind::Entra => entra_on,
                ProviderKind::Oidc => p.enabled && p.oidc_configured(),
            })
            .filter(|p| {
                user.sso_links
                    .iter()
                    .any(|l| issued_by(p, l, tenant.as_deref()))
            })
            .collect())
    }
}
