//! Email-first sign-in (DESIGN §10): where an address typed on `/login` goes. Only
//! the address's domain is looked at — never whether an account exists — so every
//! address of a domain gets the same answer: a provider of the realm that routes the
//! domain, else (staff only) a discoverable client's provider, else the password step,
//! or under SSO-only the same "sign in with your organisation" page.

use std::sync::Arc;

use crate::domain::audit::AuditKind;
use crate::domain::sso::provider::ProviderList;
use crate::domain::user::{Email, Realm};
use crate::service::admin::AdminActor;
use crate::service::policy::realm_policy;
use crate::service::{Result, ServiceError, Services};
use crate::store::prelude::*;

/// Where an address goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Identified {
    /// To provider `id` of `realm` (another realm: a discoverable client's portal).
    Provider { realm: Realm, id: String },
    /// To the password step, with the address filled in.
    Password,
    /// Passwords are off here and no provider routes the domain: the page that lists
    /// the realm's providers.
    Organisation,
}

fn on_off(on: bool) -> &'static str {
    if on { "on" } else { "off" }
}

fn routed(list: &ProviderList, domain: &str) -> Option<String> {
    list.providers
        .iter()
        .find(|p| p.enabled && p.routes(domain))
        .map(|p| p.id.clone())
}

impl Services {
    /// Where `email`, typed on `realm`'s sign-in page, goes.
    pub fn identify(&self, realm: Realm, email: &str) -> Result<Identified> {
        let domain = Email::parse(email)
            .ok()
            .map(|e| e.domain().to_owned())
            .unwrap_or_default();
        let list = self.identity_providers(realm)?;
        if let Some(id) = routed(&list, &domain) {
            return Ok(Identified::Provider { realm, id });
        }
        if realm == Realm::Staff && list.email_first {
            let clients = self.store.read(|r| r.clients())?;
            for client in clients.into_iter().filter(|c| c.enabled) {
                let client_realm = Realm::Client(client.id);
                let theirs = self.identity_providers(client_realm)?;
                if !theirs.discoverable {
                    continue;
                }
                if let Some(id) = routed(&theirs, &domain) {
                    return Ok(Identified::Provider {
                        realm: client_realm,
                        id,
                    });
                }
            }
        }
        let policy = self.store.read(|r| realm_policy(r, realm))?;
        Ok(if policy.sso_only || !policy.password_login {
            Identified::Organisation
        } else {
            Identified::Password
        })
    }

    /// Turns email-first on or off for `realm`.
    pub async fn set_email_first(
        self: &Arc<Self>,
        actor: AdminActor,
        realm: Realm,
        on: bool,
    ) -> Result<()> {
        self.save_switches(actor, realm, move |list| {
            let old = std::mem::replace(&mut list.email_first, on);
            format!("email-first: {} → {}", on_off(old), on_off(on))
        })
        .await
    }

    /// Lets the staff email-first sign-in send a client's routing domains to its
    /// portal (off by default: it reveals which clients exist).
    pub async fn set_discoverable(
        self: &Arc<Self>,
        actor: AdminActor,
        realm: Realm,
        on: bool,
    ) -> Result<()> {
        if realm == Realm::Staff {
            return Err(ServiceError::Invalid(
                "Portal discovery is a client's setting (use --client).".to_owned(),
            ));
        }
        self.save_switches(actor, realm, move |list| {
            let old = std::mem::replace(&mut list.discoverable, on);
            format!(
                "portal discovery from the staff login: {} → {}",
                on_off(old),
                on_off(on)
            )
        })
        .await
    }

    /// Applies `change` (which says what it changed, as old → new) and audits it.
    async fn save_switches(
        self: &Arc<Self>,
        actor: AdminActor,
        realm: Realm,
        change: impl FnOnce(&mut ProviderList) -> String + Send + 'static,
    ) -> Result<()> {
        self.blocking(move |s| {
            s.write(|w| {
                let mut list = w.providers(realm)?;
                let detail = change(&mut list);
                w.put_providers(realm, &list)?;
                s.audit(
                    w,
                    actor
                        .event(AuditKind::SettingsChanged)
                        .in_realm(realm)
                        .detail(detail),
                )
            })
        })
        .await
    }
}
