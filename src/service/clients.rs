//! Clients and their portals: create, change, disable, remove; per-client SSO-only.
//! Removing a client removes everything of its realm.

use std::sync::Arc;

use uuid::Uuid;

use crate::domain::audit::AuditKind;
use crate::domain::client::{
    Client, Logo, SHORT_TEXT_LIMIT, check_accent, check_short_text, check_slug,
};
use crate::domain::entra::TenantRef;
use crate::domain::session::Stage;
use crate::domain::user::{ClientId, Realm};
use crate::store::prelude::*;

use super::admin::AdminActor;
use super::{Result, ServiceError, Services};

/// Changes to a client; `None` leaves a value as it is.
#[derive(Debug, Default, Clone)]
pub struct ClientUpdate {
    pub name: Option<String>,
    /// `Some("")` clears it.
    pub accent: Option<String>,
    /// `Some(None)` removes the logo.
    pub logo: Option<Option<Vec<u8>>>,
    /// The name in authenticator apps; `Some("")` returns to the client's name.
    pub totp_issuer: Option<String>,
    /// The portal's footer line; `Some("")` removes it.
    pub footer: Option<String>,
    /// `Some("")` clears it.
    pub tenant_id: Option<String>,
    pub password_login: Option<bool>,
    pub mfa_required: Option<bool>,
    pub sso_enabled: Option<bool>,
    pub jit: Option<bool>,
    pub allowed_domains: Option<String>,
    pub allow_guests: Option<bool>,
    /// Seconds; `Some(None)` returns to the configured default.
    pub idle_timeout_secs: Option<Option<i64>>,
    pub absolute_timeout_secs: Option<Option<i64>>,
}

fn invalid(message: impl Into<String>) -> ServiceError {
    ServiceError::Invalid(message.into())
}

fn clean_name(name: &str) -> Result<String> {
    let name = crate::domain::user::clean_display_name(name);
    if name.is_empty() {
        return Err(invalid("Enter the client's name."));
    }
    Ok(name)
}

impl Services {
    pub fn list_clients(&self) -> Result<Vec<Client>> {
        Ok(self.store.read(|r| r.clients())?)
    }

    pub fn client_by_slug(&self, slug: &str) -> Result<Client> {
        self.store
            .read(|r| r.client_by_slug(slug))?
            .ok_or(ServiceError::NotFound("client"))
    }

    /// The realm of the client with `slug`.
    pub fn client_realm(&self, slug: &str) -> Result<Realm> {
        Ok(Realm::Client(self.client_by_slug(slug)?.id))
    }

    /// Path prefix of a realm's pages: empty for staff, `/p/{slug}` for a client.
    pub fn realm_path(&self, realm: Realm) -> Result<String> {
        match realm {
            Realm::Staff => Ok(String::new()),
            Realm::Client(id) => {
                let client = self
                    .store
                    .read(|r| r.client(id))?
                    .ok_or(ServiceError::NotFound("client"))?;
                Ok(format!("/p/{}", client.slug))
            }
        }
    }

    /// Creates a client with default settings (password + TOTP).
    pub async fn create_client(
        self: &Arc<Self>,
        actor: AdminActor,
        slug: String,
        name: String,
    ) -> Result<Client> {
        let slug = slug.trim().to_owned();
        check_slug(&slug).map_err(|e| invalid(format!("Slug: {e}.")))?;
        let name = clean_name(&name)?;
        self.blocking(move |s| {
            s.write(|w| {
                if w.client_by_slug(&slug)?.is_some() {
                    return Err(ServiceError::Conflict(format!(
                        "A client with the slug “{slug}” already exists."
                    )));
                }
                let client = Client::new(
                    ClientId(Uuid::new_v4()),
                    slug.clone(),
                    name.clone(),
                    s.clock.now(),
                );
                w.put_client(&client)?;
                s.audit(
                    w,
                    actor
                        .event(AuditKind::ClientChanged)
                        .detail(format!("client {slug} created")),
                )?;
                Ok(client)
            })
        })
        .await
    }

    /// Changes a client's settings.
    pub async fn update_client(
        self: &Arc<Self>,
        actor: AdminActor,
        slug: String,
        update: ClientUpdate,
    ) -> Result<Client> {
        let name = update.name.as_deref().map(clean_name).transpose()?;
        let accent = match update.accent.as_deref().map(str::trim) {
            None => None,
            Some("") => Some(None),
            Some(c) => {
                Some(Some(check_accent(c).ok_or_else(|| {
                    invalid("Accent colour: use the form #1f4e79.")
                })?))
            }
        };
        let logo = match update.logo {
            None => None,
            Some(None) => Some(None),
            Some(Some(bytes)) => {
                Some(Some(Logo::from_bytes(bytes).ok_or_else(|| {
                    invalid("Logo: use a PNG or JPEG image of at most 64 KiB.")
                })?))
            }
        };
        let short_text = |text: &Option<String>, what: &str| -> Result<Option<Option<String>>> {
            match text.as_deref().map(check_short_text) {
                None => Ok(None),
                Some(None) => Err(invalid(format!(
                    "{what}: at most {SHORT_TEXT_LIMIT} characters on one line."
                ))),
                Some(Some(t)) if t.is_empty() => Ok(Some(None)),
                Some(Some(t)) => Ok(Some(Some(t))),
            }
        };
        let totp_issuer = short_text(&update.totp_issuer, "Name in authenticator apps")?;
        let footer = short_text(&update.footer, "Footer")?;
        let tenant = match update.tenant_id.as_deref().map(str::trim) {
            None => None,
            Some("") => Some(None),
            Some(t) => match TenantRef::parse(t) {
                Ok(TenantRef::Id(id)) => Some(Some(id)),
                Ok(TenantRef::Domain(_)) => {
                    return Err(invalid(
                        "Tenant ID: enter the client's Directory (tenant) ID as a GUID.",
                    ));
                }
                Err(e) => return Err(invalid(format!("Tenant ID: {e}."))),
            },
        };
        let domains = update
            .allowed_domains
            .as_deref()
            .map(super::sso::admin::parse_domains)
            .transpose()?;
        for secs in [update.idle_timeout_secs, update.absolute_timeout_secs]
            .into_iter()
            .flatten()
            .flatten()
        {
            if !(60..=366 * 86_400).contains(&secs) {
                return Err(invalid(
                    "Session lifetimes must be between 1 minute and 366 days.",
                ));
            }
        }
        self.blocking(move |s| {
            s.write(|w| {
                let mut client = w
                    .client_by_slug(&slug)?
                    .ok_or(ServiceError::NotFound("client"))?;
                let before = client.clone();
                if let Some(n) = name {
                    client.name = n;
                }
                if let Some(a) = accent {
                    client.accent = a;
                }
                if let Some(l) = logo {
                    client.logo = l;
                }
                if let Some(t) = totp_issuer {
                    client.totp_issuer = t;
                }
                if let Some(f) = footer {
                    client.footer = f;
                }
                if let Some(t) = tenant {
                    if t != client.tenant_id {
                        client.consent = crate::domain::client::Consent::NotRequested;
                        client.consent_link = None;
                    }
                    client.tenant_id = t;
                }
                let flags = [
                    (update.password_login, &mut client.password_login),
                    (update.mfa_required, &mut client.mfa_required),
                    (update.sso_enabled, &mut client.sso_enabled),
                    (update.jit, &mut client.jit),
                    (update.allow_guests, &mut client.allow_guests),
                ];
                for (new, field) in flags {
                    if let Some(v) = new {
                        *field = v;
                    }
                }
                if let Some(d) = domains {
                    client.allowed_domains = d;
                }
                if let Some(i) = update.idle_timeout_secs {
                    client.idle_timeout_secs = i;
                }
                if let Some(a) = update.absolute_timeout_secs {
                    client.absolute_timeout_secs = a;
                }
                if client.sso_enabled && client.tenant_id.is_none() {
                    return Err(invalid(
                        "Enter the client's tenant ID before turning Microsoft sign-in on.",
                    ));
                }
                // SSO-only means "only providers": another provider that is on and
                // configured keeps the portal reachable without Microsoft.
                let other_provider = w
                    .providers(Realm::Client(client.id))?
                    .providers
                    .iter()
                    .any(|p| p.enabled && p.oidc_configured());
                if client.sso_only && !client.sso_enabled && !other_provider {
                    return Err(ServiceError::Conflict(
                        "Turn SSO-only off before turning Microsoft sign-in off: it is the client's only sign-in provider.".to_owned(),
                    ));
                }
                if !client.password_login && !client.sso_enabled {
                    return Err(invalid(
                        "Keep at least one way to sign in: password or Microsoft.",
                    ));
                }
                if client
                    .idle_timeout_secs
                    .zip(client.absolute_timeout_secs)
                    .is_some_and(|(i, a)| a < i)
                {
                    return Err(invalid(
                        "The absolute session lifetime must not be shorter than the idle timeout.",
                    ));
                }
                if client == before {
                    return Ok(client);
                }
                client.updated_at = s.clock.now();
                w.put_client(&client)?;
                // Password users lose their sessions when passwords are turned off.
                if before.password_login && !client.password_login {
                    revoke_password_sessions(w, Realm::Client(client.id))?;
                }
                s.audit(
                    w,
                    actor
                        .event(AuditKind::ClientChanged)
                        .in_realm(Realm::Client(client.id))
                        .detail(format!(
                            "client {} settings changed: {}",
                            client.slug,
                            client.changes_since(&before)
                        )),
                )?;
                Ok(client)
            })
        })
        .await
    }

    /// Disables a client (its sessions end, its portal refuses everyone) or enables it.
    pub async fn set_client_enabled(
        self: &Arc<Self>,
        actor: AdminActor,
        slug: String,
        enabled: bool,
    ) -> Result<Client> {
        self.blocking(move |s| {
            s.write(|w| {
                let mut client = w
                    .client_by_slug(&slug)?
                    .ok_or(ServiceError::NotFound("client"))?;
                client.enabled = enabled;
                client.updated_at = s.clock.now();
                w.put_client(&client)?;
                let realm = Realm::Client(client.id);
                let mut revoked = 0;
                if !enabled {
                    for user in w.users_in_realm(realm)? {
                        revoked += w.delete_sessions_of_user(user.id, |_, _| true)?;
                    }
                }
                let detail = if enabled {
                    format!("client {slug} enabled")
                } else {
                    format!("client {slug} disabled; {revoked} session(s) ended")
                };
                s.audit(
                    w,
                    actor
                        .event(AuditKind::ClientChanged)
                        .in_realm(realm)
                        .detail(detail),
                )?;
                Ok(client)
            })
        })
        .await
    }

    /// Removes a client and everything of its portal: users, sessions, links, audit.
    pub async fn remove_client(self: &Arc<Self>, actor: AdminActor, slug: String) -> Result<usize> {
        self.blocking(move |s| {
            s.write(|w| {
                let client = w
                    .client_by_slug(&slug)?
                    .ok_or(ServiceError::NotFound("client"))?;
                let removed = w.delete_realm(Realm::Client(client.id))?;
                w.delete_client(&client)?;
                s.audit(
                    w,
                    actor
                        .event(AuditKind::ClientChanged)
                        .detail(format!("client {slug} removed with {removed} user(s)")),
                )?;
                Ok(removed)
            })
        })
        .await
    }

    /// Turns a client's SSO-only on (needs Microsoft sign-in ready for the client) or
    /// off (always allowed). Turning it on ends the portal's password sessions.
    pub async fn set_client_sso_only(
        self: &Arc<Self>,
        actor: AdminActor,
        slug: String,
        on: bool,
    ) -> Result<usize> {
        let ready = {
            let client = self.client_by_slug(&slug)?;
            // Microsoft or any other identity provider of the client that is on.
            !self.login_buttons(Realm::Client(client.id))?.is_empty()
        };
        self.blocking(move |s| {
            s.write(|w| {
                let mut client = w.client_by_slug(&slug)?.ok_or(ServiceError::NotFound("client"))?;
                if on && !ready {
                    return Err(ServiceError::Conflict(
                        "SSO-only cannot be turned on yet: a sign-in provider must be on for this client (Microsoft, with its tenant ID and the portal app set up, or another OpenID provider with its issuer, client id and secret).".to_owned(),
                    ));
                }
                client.sso_only = on;
                client.updated_at = s.clock.now();
                w.put_client(&client)?;
                let realm = Realm::Client(client.id);
                let revoked = if on { revoke_password_sessions(w, realm)? } else { 0 };
                let detail = if on { format!("client {slug} SSO-only on; {revoked} password session(s) revoked") } else { format!("client {slug} SSO-only off") };
                s.audit(w, actor.event(AuditKind::SsoOnlyChanged).in_realm(realm).detail(detail))?;
                Ok(revoked)
            })
        })
        .await
    }
}

/// Ends every password-based (or half-finished) session of `realm`.
fn revoke_password_sessions(w: &mut crate::store::Writer, realm: Realm) -> Result<usize> {
    let mut revoked = 0;
    for user in w.users_in_realm(realm)? {
        revoked += w.delete_sessions_of_user(user.id, |_, s| {
            s.auth.used_password() || s.stage != Stage::Active
        })?;
    }
    Ok(revoked)
}
