//! A realm's identity providers (DESIGN §10): the list as admins see and edit it
//! (add, edit, reorder, enable/disable, remove, test connection), and what the
//! sign-in page and the flow need of it. The `entra` entry's connection lives in the
//! Entra settings records (`gatehouse sso …`, the client's tenant): the list shows it
//! and orders it, and its on/off switch is theirs.

use std::sync::Arc;

use super::AppConfig;
use super::settings::StaffSso;
use super::sso_only::StaffSsoOnlyReadiness;
use crate::domain::audit::AuditKind;
use crate::domain::sso::SsoApp;
use crate::domain::sso::provider::{
    self, IdentityProvider, MAX_PROVIDERS, ProviderButton, ProviderKind, ProviderList,
};
use crate::domain::user::Realm;
use crate::service::admin::AdminActor;
use crate::service::policy::realm_policy;
use crate::service::{Result, ServiceError, Services};
use crate::store::prelude::*;

/// What an admin changes on a provider; `None` leaves a field as it is.
#[derive(Clone, Debug, Default)]
pub struct ProviderInput {
    pub name: Option<String>,
    pub issuer: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    pub secret_expires: Option<String>,
    pub scopes: Option<String>,
    pub require_verified_email: Option<bool>,
    pub routing_domains: Option<String>,
    pub jit: Option<bool>,
    pub allowed_domains: Option<String>,
    pub require_mfa: Option<bool>,
    pub mfa_acr_values: Option<String>,
    pub auth_context: Option<String>,
}

fn invalid(message: impl Into<String>) -> ServiceError {
    ServiceError::Invalid(message.into())
}

impl Services {
    /// Whether `realm` has Entra settings (a staff tenant, or the client's tenant).
    fn entra_present(&self, r: &impl Tables, realm: Realm) -> Result<bool> {
        Ok(match realm {
            Realm::Staff => !r.setting::<StaffSso>()?.tenant.is_empty(),
            Realm::Client(id) => r.client(id)?.is_some_and(|c| c.tenant_id.is_some()),
        })
    }

    /// The realm's providers as they are in effect: the `entra` entry is there
    /// whenever the realm has Entra settings, and is on exactly when Microsoft
    /// sign-in is.
    pub fn identity_providers(&self, realm: Realm) -> Result<ProviderList> {
        let (mut list, present) = self.store.read(|r| {
            Ok::<_, ServiceError>((r.providers(realm)?, self.entra_present(r, realm)?))
        })?;
        if present && list.entra().is_none() {
            list.providers.push(IdentityProvider::entra(false));
        }
        let entra_on = self.sso_enabled(realm)?;
        for p in list.providers.iter_mut() {
            if p.kind == ProviderKind::Entra {
                p.enabled = entra_on;
            }
        }
        Ok(list)
    }

    /// The buttons of `realm`'s sign-in page, in order.
    pub fn login_buttons(&self, realm: Realm) -> Result<Vec<ProviderButton>> {
        Ok(self
            .identity_providers(realm)?
            .providers
            .into_iter()
            .filter(|p| p.enabled && (p.kind == ProviderKind::Entra || oidc_configured(p)))
            .map(|p| ProviderButton {
                id: p.id,
                name: p.name,
                kind: p.kind,
            })
            .collect())
    }

    /// The provider a sign-in uses: `id`, or the realm's first enabled one.
    pub fn provider_for(&self, realm: Realm, id: Option<&str>) -> Result<Option<IdentityProvider>> {
        let list = self.identity_providers(realm)?;
        Ok(match id {
            Some(id) => list.get(id).cloned(),
            None => list.providers.into_iter().find(|p| p.enabled),
        })
    }

    /// An `oidc` provider's configuration with its secret opened, in the shape the
    /// identity resolution uses.
    pub(crate) fn oidc_app(&self, realm: Realm, p: &IdentityProvider) -> Result<Option<AppConfig>> {
        let Some(sealed) = p.client_secret.as_ref().filter(|_| oidc_configured(p)) else {
            return Ok(None);
        };
        let secret = String::from_utf8(
            self.keys
                .open(sealed, &provider::secret_context(&realm.key(), &p.id))?,
        )
        .map_err(|_| ServiceError::Internal("client secret is not text".to_owned()))?;
        Ok(Some(AppConfig {
            app: match realm {
                Realm::Staff => SsoApp::Staff,
                Realm::Client(id) => SsoApp::Portal(id),
            },
            tenant: p.issuer.clone(),
            client_id: p.client_id.clone(),
            client_secret: secret,
            enabled: p.enabled,
            jit: p.jit,
            allowed_domains: p.allowed_domains.clone(),
            allow_guests: false,
        }))
    }

    /// Adds a provider of kind `oidc` at the end of the realm's list (disabled).
    pub async fn add_provider(
        self: &Arc<Self>,
        actor: AdminActor,
        realm: Realm,
        id: &str,
        kind: ProviderKind,
        input: ProviderInput,
    ) -> Result<IdentityProvider> {
        let id = provider::check_id(id).map_err(invalid)?;
        if kind == ProviderKind::Entra {
            return Err(invalid(
                "The Microsoft (entra) provider comes from the Entra settings: `gatehouse sso set` for staff, `gatehouse client set SLUG --tenant-id …` for a client. It then appears as provider `microsoft`.",
            ));
        }
        let name = input.name.clone().unwrap_or_else(|| id.clone());
        let mut p = IdentityProvider::new(&id, kind, &name);
        self.apply_input(realm, &mut p, input)?;
        let mut list = self.identity_providers(realm)?;
        if list.get(&id).is_some() {
            return Err(ServiceError::Conflict(format!(
                "There is already a provider {id} here."
            )));
        }
        if list.providers.len() >= MAX_PROVIDERS {
            return Err(invalid(format!(
                "At most {MAX_PROVIDERS} providers per realm."
            )));
        }
        list.providers.push(p.clone());
        self.save_providers(actor, realm, list, format!("provider {id} added"))
            .await?;
        Ok(p)
    }

    /// Changes a provider's settings.
    pub async fn update_provider(
        self: &Arc<Self>,
        actor: AdminActor,
        realm: Realm,
        id: &str,
        input: ProviderInput,
    ) -> Result<IdentityProvider> {
        let mut list = self.identity_providers(realm)?;
        let p = list
            .get_mut(id)
            .ok_or(ServiceError::NotFound("identity provider"))?;
        let old_issuer = p.issuer.clone();
        self.apply_input(realm, p, input)?;
        let updated = p.clone();
        self.oidc.forget(&old_issuer);
        self.save_providers(actor, realm, list, format!("provider {id} changed"))
            .await?;
        Ok(updated)
    }

    fn apply_input(
        &self,
        realm: Realm,
        p: &mut IdentityProvider,
        input: ProviderInput,
    ) -> Result<()> {
        let oidc_only = |field: &str| {
            invalid(format!(
                "{field} is set in the Entra settings for the Microsoft provider (gatehouse sso set / client set)."
            ))
        };
        let entra = p.kind == ProviderKind::Entra;
        if let Some(name) = input.name {
            let name = name.trim().to_owned();
            if name.is_empty() || name.chars().count() > 60 || name.chars().any(char::is_control) {
                return Err(invalid("The name is 1–60 characters."));
            }
            p.name = name;
        }
        if let Some(issuer) = input.issuer {
            if entra {
                return Err(oidc_only("The issuer"));
            }
            let issuer = provider::check_issuer(&issuer, self.settings.allow_insecure_authority)
                .map_err(invalid)?;
            if issuer != p.issuer {
                p.issuer = issuer;
                p.revision += 1;
            }
        }
        if let Some(client_id) = input.client_id {
            if entra {
                return Err(oidc_only("The client id"));
            }
            let client_id = client_id.trim().to_owned();
            if client_id.is_empty()
                || client_id.len() > 200
                || client_id.chars().any(char::is_control)
            {
                return Err(invalid("Enter the client id the provider gave you."));
            }
            p.client_id = client_id;
            p.revision += 1;
        }
        if let Some(secret) = input.client_secret {
            if entra {
                return Err(oidc_only("The client secret"));
            }
            if secret.is_empty() || secret.len() > 1000 {
                return Err(invalid("Enter the client secret."));
            }
            p.client_secret = Some(self.keys.seal(
                secret.as_bytes(),
                &provider::secret_context(&realm.key(), &p.id),
            )?);
            p.revision += 1;
        }
        if let Some(expires) = input.secret_expires {
            let expires = expires.trim().to_owned();
            let format = time::macros::format_description!("[year]-[month]-[day]");
            if !expires.is_empty() && time::Date::parse(&expires, &format).is_err() {
                return Err(invalid("The secret expiry is a date like 2027-06-30."));
            }
            p.secret_expires = (!expires.is_empty()).then_some(expires);
        }
        if let Some(scopes) = input.scopes {
            let ok = scopes.split_whitespace().all(|s| {
                s.bytes()
                    .all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\\')
            });
            if !ok || scopes.len() > 500 {
                return Err(invalid("Scopes are words separated by spaces."));
            }
            p.scopes = scopes.split_whitespace().collect::<Vec<_>>().join(" ");
        }
        if let Some(v) = input.require_verified_email {
            p.require_verified_email = v;
        }
        if let Some(d) = input.routing_domains {
            p.routing_domains = provider::parse_domains(&d).map_err(invalid)?;
        }
        if let Some(j) = input.jit {
            if entra {
                return Err(oidc_only("Just-in-time provisioning"));
            }
            p.jit = j;
        }
        if let Some(d) = input.allowed_domains {
            if entra {
                return Err(oidc_only("The allowed domains"));
            }
            p.allowed_domains = provider::parse_domains(&d).map_err(invalid)?;
        }
        if let Some(values) = input.mfa_acr_values {
            p.mfa_acr_values = values
                .split([',', ' '])
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
                .collect();
        }
        if let Some(c) = input.auth_context {
            p.auth_context = if c.trim().is_empty() {
                None
            } else {
                Some(provider::check_auth_context(&c).map_err(invalid)?)
            };
        }
        if let Some(m) = input.require_mfa {
            p.require_mfa = m;
        }
        if p.require_mfa && entra && p.auth_context.is_none() {
            return Err(invalid(
                "Name the Conditional Access authentication context (e.g. c1) that requires MFA in Entra; Gatehouse asks for it and checks it in the token.",
            ));
        }
        Ok(())
    }

    /// Removes an `oidc` provider.
    pub async fn remove_provider(
        self: &Arc<Self>,
        actor: AdminActor,
        realm: Realm,
        id: &str,
    ) -> Result<()> {
        let mut list = self.identity_providers(realm)?;
        let p = list
            .get(id)
            .ok_or(ServiceError::NotFound("identity provider"))?;
        if p.kind == ProviderKind::Entra {
            return Err(invalid(
                "The Microsoft provider is turned off with `gatehouse sso disable` (staff) or the client's Microsoft sign-in switch.",
            ));
        }
        self.refuse_if_last_under_sso_only(realm, &list, id)?;
        list.providers.retain(|p| p.id != id);
        self.save_providers(actor, realm, list, format!("provider {id} removed"))
            .await
    }

    /// Moves a provider one place up (towards the first button) or down.
    pub async fn move_provider(
        self: &Arc<Self>,
        actor: AdminActor,
        realm: Realm,
        id: &str,
        up: bool,
    ) -> Result<()> {
        let mut list = self.identity_providers(realm)?;
        let at = list
            .providers
            .iter()
            .position(|p| p.id == id)
            .ok_or(ServiceError::NotFound("identity provider"))?;
        let to = if up { at.checked_sub(1) } else { Some(at + 1) };
        if let Some(to) = to.filter(|t| *t < list.providers.len()) {
            list.providers.swap(at, to);
        }
        self.save_providers(actor, realm, list, format!("provider {id} moved"))
            .await
    }

    /// Turns a provider on or off. The Microsoft provider's switch is the Entra one.
    pub async fn set_provider_enabled(
        self: &Arc<Self>,
        actor: AdminActor,
        realm: Realm,
        id: &str,
        on: bool,
    ) -> Result<()> {
        let mut list = self.identity_providers(realm)?;
        let p = list
            .get(id)
            .ok_or(ServiceError::NotFound("identity provider"))?;
        if p.kind == ProviderKind::Entra {
            return match realm {
                Realm::Staff => self.set_staff_sso_enabled(actor, on).await.map(|_| ()),
                Realm::Client(cid) => {
                    let slug = self
                        .store
                        .read(|r| r.client(cid))?
                        .ok_or(ServiceError::NotFound("client"))?
                        .slug;
                    self.update_client(
                        actor,
                        slug,
                        crate::service::clients::ClientUpdate {
                            sso_enabled: Some(on),
                            ..Default::default()
                        },
                    )
                    .await
                    .map(|_| ())
                }
            };
        }
        if on && !oidc_configured(p) {
            return Err(invalid(
                "Enter the issuer, client id and client secret first.",
            ));
        }
        if !on {
            self.refuse_if_last_under_sso_only(realm, &list, id)?;
        }
        if let Some(p) = list.get_mut(id) {
            p.enabled = on;
        }
        let what = if on { "enabled" } else { "disabled" };
        self.save_providers(actor, realm, list, format!("provider {id} {what}"))
            .await
    }

    fn refuse_if_last_under_sso_only(
        &self,
        realm: Realm,
        list: &ProviderList,
        id: &str,
    ) -> Result<()> {
        let policy = self.store.read(|r| realm_policy(r, realm))?;
        let others = match realm {
            // Staff: another usable provider must still let an admin in.
            Realm::Staff => self
                .store
                .read(|r| StaffSsoOnlyReadiness::read_without(r, Some(id)))?
                .holds(),
            Realm::Client(_) => list.providers.iter().any(|p| p.id != id && p.enabled),
        };
        if policy.sso_only && !others {
            return Err(ServiceError::Conflict(
                "Turn SSO-only off first; otherwise nobody could sign in.".to_owned(),
            ));
        }
        Ok(())
    }

    async fn save_providers(
        self: &Arc<Self>,
        actor: AdminActor,
        realm: Realm,
        list: ProviderList,
        detail: String,
    ) -> Result<()> {
        self.blocking(move |s| {
            s.write(|w| {
                // The email-first switches are not part of what the caller edited.
                let stored = w.providers(realm)?;
                let list = ProviderList {
                    email_first: stored.email_first,
                    discoverable: stored.discoverable,
                    ..list
                };
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

/// Issuer, client id and secret are all present.
pub fn oidc_configured(p: &IdentityProvider) -> bool {
    p.oidc_configured()
}
