//! Provisioning from Entra (SCIM 2.0): per-realm bearer tokens — made, listed and
//! revoked by admins, shown once, stored by keyed hash, failed tries throttled — the
//! realm's Microsoft connection that provisioning and the Graph sweep use, and what the
//! admin page shows about a realm's provisioning. The SCIM resources themselves are in
//! [`users`] and [`groups`].
//!
//! A token selects its realm: every SCIM use case takes a [`ScimCaller`] and looks only
//! inside that realm, so an id of another realm is simply "not found".

pub mod groups;
pub mod users;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use subtle::ConstantTimeEq;

use crate::domain::audit::AuditKind;
use crate::domain::provisioning::{
    LastRequest, RealmProvisioning, ScimToken, SweepOutcome, TOKEN_PREFIX, split_token,
};
use crate::domain::scim::ScimError;
use crate::domain::time::Timestamp;
use crate::domain::token::SecretToken;
use crate::domain::user::Realm;
use crate::store::prelude::*;

use super::admin::AdminActor;
use super::{Result, ServiceError, Services};

/// The purpose SCIM tokens are hashed under.
const TOKEN_PURPOSE: &str = "scim";
/// A token's last use is written back at most this often.
const TOUCH_SECS: i64 = 60;

/// Who is calling the SCIM API: the realm their token selects.
#[derive(Debug, Clone)]
pub struct ScimCaller {
    pub realm: Realm,
    /// The token's public handle (for the audit trail).
    pub token_id: String,
    /// The token's last use is old enough to be written back.
    touch: bool,
}

/// A token just made: the secret, shown once.
#[derive(Debug)]
pub struct NewScimToken {
    pub secret: SecretToken,
    pub token: ScimToken,
}

impl NewScimToken {
    /// The bearer value to paste into Entra's "Secret Token" field.
    pub fn bearer(&self) -> String {
        format!("{TOKEN_PREFIX}{}_{}", self.token.id, self.secret.expose())
    }
}

/// Whether the realm's app may read users in Microsoft Graph, as last seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GraphPermission {
    /// No sweep has run yet (or none got an answer).
    Unknown,
    /// The last sweep read users.
    Granted,
    /// Graph answered 403: `User.Read.All` is not granted.
    NotGranted,
}

/// A realm's connection to its Entra tenant: what provisioning links identities with
/// and what the Graph sweep signs in with.
///
/// Today this is the staff app registration for staff, and the portal app with the
/// client's tenant for a client (see [`Services::realm_entra_connection`]); when
/// identity providers become per realm, that one function is re-pointed to the realm's
/// `entra` provider.
#[derive(Debug, Clone)]
pub struct EntraConnection {
    /// The tenant id (GUID): identities are keyed by (tenant id, object id).
    pub tenant_id: String,
    pub client_id: String,
    pub client_secret: String,
    pub graph_permission: GraphPermission,
}

/// SCIM requests seen since start, per realm (the admin page's "last request").
#[derive(Default)]
pub struct ProvisioningMemory {
    last: Mutex<HashMap<String, LastRequest>>,
}

/// What the admin page shows about one realm's provisioning.
#[derive(Debug, Clone)]
pub struct ProvisioningOverview {
    pub realm: Realm,
    /// `{public_url}/scim/v2`: Entra's "Tenant URL".
    pub base_url: String,
    pub tokens: Vec<ScimToken>,
    pub state: RealmProvisioning,
    pub connection: Option<(String, GraphPermission)>,
    /// (email, status, provisioned by SCIM, linked to an Entra object id in the realm's
    /// tenant — i.e. checked by the sweep).
    pub users: Vec<ProvisionedRow>,
}

/// One user row of the provisioning overview.
#[derive(Debug, Clone)]
pub struct ProvisionedRow {
    pub email: String,
    pub status: &'static str,
    pub provisioned: bool,
    pub sweep_managed: bool,
}

impl Services {
    /// The SCIM base URL (`{public_url}/scim/v2`).
    pub fn scim_base_url(&self) -> String {
        format!("{}/scim/v2", self.settings.base_url)
    }

    /// The realm's Entra connection (tenant id, client id, secret, Graph permission as
    /// last seen), or `None` when it has none — or only a tenant domain, not an id.
    /// Re-point this to the realm's `entra` provider when providers are per realm.
    pub fn realm_entra_connection(&self, realm: Realm) -> Result<Option<EntraConnection>> {
        let Some(app) = self.sso_app(realm)? else {
            return Ok(None);
        };
        if !crate::domain::entra::is_tenant_id(&app.tenant) {
            return Ok(None);
        }
        let state = self.store.read(|r| r.realm_provisioning(realm))?;
        // Only a sweep that read users proves the permission.
        let graph_permission = match state.last_sweep {
            Some(s) if s.outcome == SweepOutcome::Completed && s.checked > 0 => {
                GraphPermission::Granted
            }
            Some(s) if s.outcome == SweepOutcome::NotGranted => GraphPermission::NotGranted,
            _ => GraphPermission::Unknown,
        };
        Ok(Some(EntraConnection {
            tenant_id: app.tenant.to_ascii_lowercase(),
            client_id: app.client_id,
            client_secret: app.client_secret,
            graph_permission,
        }))
    }

    /// Makes a SCIM token for `realm`; the secret is in the answer only.
    pub async fn create_scim_token(
        self: &Arc<Self>,
        actor: AdminActor,
        realm: Realm,
        label: String,
    ) -> Result<NewScimToken> {
        let label = crate::domain::user::clean_display_name(&label);
        let label = if label.is_empty() {
            "Entra provisioning".to_owned()
        } else {
            label
        };
        let secret = SecretToken::generate()?;
        let mut handle = [0u8; 4];
        getrandom::fill(&mut handle)
            .map_err(|_| ServiceError::Internal("no randomness".to_owned()))?;
        let token = ScimToken {
            id: hex::encode(handle),
            hash: hex::encode(self.keys.token_hash(TOKEN_PURPOSE, secret.expose())),
            realm,
            label,
            created_at: self.clock.now(),
            last_used_at: None,
        };
        let stored = token.clone();
        self.blocking(move |s| {
            s.write(|w| {
                if w.scim_token(&stored.id)?.is_some() {
                    return Err(ServiceError::Conflict("Please try again.".to_owned()));
                }
                w.put_scim_token(&stored)?;
                s.audit(
                    w,
                    actor
                        .event(AuditKind::SettingsChanged)
                        .in_realm(realm)
                        .detail(format!("SCIM token {} created", stored.id)),
                )
            })
        })
        .await?;
        Ok(NewScimToken { secret, token })
    }

    /// The SCIM tokens of `realm` (never their secrets).
    pub fn list_scim_tokens(&self, realm: Realm) -> Result<Vec<ScimToken>> {
        let mut tokens: Vec<ScimToken> = self
            .store
            .read(|r| r.scim_tokens())?
            .into_iter()
            .filter(|t| t.realm == realm)
            .collect();
        tokens.sort_by_key(|t| t.created_at);
        Ok(tokens)
    }

    /// Revokes the token of `realm` with handle `id`; it stops working at once.
    pub async fn revoke_scim_token(
        self: &Arc<Self>,
        actor: AdminActor,
        realm: Realm,
        id: String,
    ) -> Result<ScimToken> {
        self.blocking(move |s| {
            s.write(|w| {
                let token = w
                    .scim_token(&id)?
                    .filter(|t| t.realm == realm)
                    .ok_or(ServiceError::NotFound("SCIM token"))?;
                w.delete_scim_token(&token.id)?;
                s.audit(
                    w,
                    actor
                        .event(AuditKind::SettingsChanged)
                        .in_realm(realm)
                        .detail(format!("SCIM token {} revoked", token.id)),
                )?;
                Ok(token)
            })
        })
        .await
    }

    /// Who a SCIM request's `Authorization` header belongs to. Every try first takes a
    /// throttle reservation for its source address; a valid token gives it back.
    pub fn scim_authenticate(
        &self,
        authorization: Option<&str>,
        address: &str,
    ) -> std::result::Result<ScimCaller, ScimError> {
        let now = self.clock.now();
        let reservation = self
            .throttle
            .reserve(&format!("scim|{address}"), address, now)
            .map_err(|_| ScimError::too_many())?;
        let presented = authorization.and_then(|h| {
            let (scheme, value) = h.trim().split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| value.trim())
        });
        let Some((id, secret)) = presented.and_then(split_token) else {
            return Err(ScimError::unauthorized());
        };
        let Some(secret) = SecretToken::from_received(secret) else {
            return Err(ScimError::unauthorized());
        };
        let token = self
            .store
            .read(|r| r.scim_token(id))
            .map_err(|_| ScimError::internal())?;
        let computed = hex::encode(self.keys.token_hash(TOKEN_PURPOSE, secret.expose()));
        // A missing token is compared against a dummy so both paths do the same work.
        let expected = token.as_ref().map_or("", |t| t.hash.as_str());
        let matches: bool = computed.as_bytes().ct_eq(expected.as_bytes()).into();
        let Some(token) = token.filter(|_| matches) else {
            return Err(ScimError::unauthorized());
        };
        self.throttle.release(reservation);
        let touch = token
            .last_used_at
            .is_none_or(|at| now.secs_since(at) >= TOUCH_SECS);
        Ok(ScimCaller {
            realm: token.realm,
            token_id: token.id,
            touch,
        })
    }

    /// Notes a finished SCIM request (the admin page's "last request"); the token's
    /// last use and the request are written back at most once a minute per token.
    pub async fn note_scim_request(
        self: &Arc<Self>,
        caller: &ScimCaller,
        method: &str,
        route: &str,
        status: u16,
    ) -> Result<()> {
        let request = LastRequest {
            at: self.clock.now(),
            method: method.to_owned(),
            route: route.to_owned(),
            status,
        };
        if let Ok(mut map) = self.provisioning.last.lock() {
            map.insert(caller.realm.key(), request.clone());
        }
        if !caller.touch {
            return Ok(());
        }
        let (realm, id) = (caller.realm, caller.token_id.clone());
        self.blocking(move |s| {
            s.write(|w| {
                if let Some(mut token) = w.scim_token(&id)? {
                    token.last_used_at = Some(request.at);
                    w.put_scim_token(&token)?;
                }
                let mut state = w.realm_provisioning(realm)?;
                state.last_request = Some(request);
                w.put_realm_provisioning(realm, &state)?;
                Ok(())
            })
        })
        .await
    }

    /// Everything the admin page shows about `realm`'s provisioning.
    pub async fn provisioning_overview(
        self: &Arc<Self>,
        realm: Realm,
    ) -> Result<ProvisioningOverview> {
        let connection = self
            .realm_entra_connection(realm)?
            .map(|c| (c.tenant_id, c.graph_permission));
        let remembered = self
            .provisioning
            .last
            .lock()
            .ok()
            .and_then(|m| m.get(&realm.key()).cloned());
        let tenant = connection.as_ref().map(|(t, _)| t.clone());
        let (tokens, mut state, users) = self
            .blocking(move |s| {
                s.read(|r| {
                    let state = r.realm_provisioning(realm)?;
                    let mut rows = Vec::new();
                    for user in r.users_in_realm(realm)? {
                        let provisioned = r
                            .provisioned_user(realm, user.id)?
                            .is_some_and(|p| p.created_by_scim || p.external_id.is_some());
                        let sweep_managed = tenant
                            .as_ref()
                            .is_some_and(|t| user.sso_links.iter().any(|l| &l.tenant == t));
                        rows.push(ProvisionedRow {
                            email: user.email.to_string(),
                            status: user.status.as_str(),
                            provisioned,
                            sweep_managed,
                        });
                    }
                    Ok((s.list_scim_tokens(realm)?, state, rows))
                })
            })
            .await?;
        if let Some(request) = remembered {
            state.last_request = Some(request);
        }
        Ok(ProvisioningOverview {
            realm,
            base_url: self.scim_base_url(),
            tokens,
            state,
            connection,
            users,
        })
    }

    /// The last sweep and provisioning request of every realm that has either
    /// (`doctor`, `status`).
    pub fn provisioning_states(&self) -> Result<Vec<(Realm, RealmProvisioning)>> {
        let clients = self.list_clients()?;
        let mut out = Vec::new();
        let realms =
            std::iter::once(Realm::Staff).chain(clients.iter().map(|c| Realm::Client(c.id)));
        for realm in realms {
            let state = self.store.read(|r| r.realm_provisioning(realm))?;
            if state.last_request.is_some() || state.last_sweep.is_some() {
                out.push((realm, state));
            }
        }
        Ok(out)
    }
}

/// When a token was last used, for lists.
pub fn last_used_text(token: &ScimToken) -> String {
    token
        .last_used_at
        .map_or_else(|| "never".to_owned(), Timestamp::to_rfc3339)
}
