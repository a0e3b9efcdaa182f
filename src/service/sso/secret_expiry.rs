//! Client secrets and their expiry dates, wherever Gatehouse holds one: the staff
//! Entra app, the portal app (every client's Microsoft provider signs in with it), and
//! each `oidc` provider of every realm. `doctor` reports all of them; the dashboard
//! warns about those expiring within 30 days or already expired.

use super::registration::secret_status;
use super::settings::{PortalApp, StaffSso, expiry_warning};
use crate::domain::sso::provider::ProviderKind;
use crate::domain::user::Realm;
use crate::service::{Result, Services};
use crate::store::prelude::*;

/// Whose client secret it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SecretOwner {
    /// The staff Microsoft sign-in app registration.
    StaffApp,
    /// The multi-tenant portal app registration.
    PortalApp,
    /// An `oidc` provider of a realm.
    Provider {
        /// `None` for staff; the client's (slug, name) otherwise.
        client: Option<(String, String)>,
        id: String,
        name: String,
    },
}

impl SecretOwner {
    /// In words, naming the realm and the provider: "the staff sign-in app",
    /// "identity provider Okta (okta) of client Acme (acme)"…
    pub fn describe(&self) -> String {
        match self {
            SecretOwner::StaffApp => "staff sign-in app".to_owned(),
            SecretOwner::PortalApp => "portal app".to_owned(),
            SecretOwner::Provider { client, id, name } => match client {
                None => format!("identity provider {name} ({id}) of staff"),
                Some((slug, client)) => {
                    format!("identity provider {name} ({id}) of client {client} ({slug})")
                }
            },
        }
    }
}

/// A client secret that is set, with its recorded expiry date.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredSecret {
    pub owner: SecretOwner,
    /// `YYYY-MM-DD`, when the admin recorded one.
    pub expires: Option<String>,
}

/// A client secret that expires within 30 days or has expired.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExpiringSecret {
    pub owner: SecretOwner,
    /// `YYYY-MM-DD`.
    pub expires: String,
    /// Days left; negative once past.
    pub days: i64,
}

/// Every client secret that is set, staff app and portal app first, then the
/// `oidc` providers of staff and of each client in list order.
pub(crate) fn stored_secrets(r: &impl Tables) -> crate::store::Result<Vec<StoredSecret>> {
    let mut out = Vec::new();
    let staff_app: StaffSso = r.setting()?;
    if staff_app.client_secret.is_some() {
        out.push(StoredSecret {
            owner: SecretOwner::StaffApp,
            expires: staff_app.secret_expires,
        });
    }
    let portal_app: PortalApp = r.setting()?;
    if portal_app.client_secret.is_some() {
        out.push(StoredSecret {
            owner: SecretOwner::PortalApp,
            expires: portal_app.secret_expires,
        });
    }
    let clients = r.clients()?;
    let realms = std::iter::once((Realm::Staff, None)).chain(
        clients
            .into_iter()
            .map(|c| (Realm::Client(c.id), Some((c.slug, c.name)))),
    );
    for (realm, client) in realms {
        for p in r.providers(realm)?.providers {
            if p.kind == ProviderKind::Oidc && p.client_secret.is_some() {
                out.push(StoredSecret {
                    owner: SecretOwner::Provider {
                        client: client.clone(),
                        id: p.id,
                        name: p.name,
                    },
                    expires: p.secret_expires,
                });
            }
        }
    }
    Ok(out)
}

/// The client secret of one `oidc` provider as its admin page shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProviderSecret {
    pub id: String,
    /// "not set", "set, expires on D (in N days — renew it soon)", "set, EXPIRED on D"…
    pub status: String,
    /// It expires within 30 days or has expired.
    pub warn: bool,
}

impl Services {
    /// The client secrets of `realm`'s `oidc` providers, in list order.
    pub fn provider_secrets(&self, realm: Realm) -> Result<Vec<ProviderSecret>> {
        let now = self.clock.now();
        let list = self.store.read(|r| r.providers(realm))?;
        Ok(list
            .providers
            .into_iter()
            .filter(|p| p.kind == ProviderKind::Oidc)
            .map(|p| {
                let set = p.client_secret.is_some();
                let expires = p.secret_expires.as_deref();
                ProviderSecret {
                    status: secret_status(set, expires, now),
                    warn: set && expires.and_then(|d| expiry_warning(d, now)).is_some(),
                    id: p.id,
                }
            })
            .collect())
    }

    /// The client secrets that expire within 30 days or have expired, for the
    /// dashboard.
    pub fn expiring_secrets(&self) -> Result<Vec<ExpiringSecret>> {
        let now = self.clock.now();
        let stored = self.store.read(stored_secrets)?;
        Ok(stored
            .into_iter()
            .filter_map(|s| {
                let expires = s.expires?;
                let days = expiry_warning(&expires, now)?;
                Some(ExpiringSecret {
                    owner: s.owner,
                    expires,
                    days,
                })
            })
            .collect())
    }
}
