//! The customer-portal side of Entra: the business's multi-tenant portal app, the
//! admin-consent link each client's Entra admin opens once, the consent callback, and
//! a per-client connection test.

use std::sync::Arc;

use url::Url;

use super::connection::{Probe, Tested};
use super::settings::{ConnectionTest, PORTAL_SECRET_CONTEXT, PortalApp, secret_expiry_item};
use crate::domain::audit::{AuditEvent, AuditKind};
use crate::domain::client::{Client, Consent, ConsentLink};
use crate::domain::session::Origin;
use crate::domain::token::SecretToken;
use crate::domain::user::Realm;
use crate::service::admin::AdminActor;
use crate::service::{Result, ServiceError, Services};
use crate::store::prelude::*;
use crate::store::tokens::{OneTimeToken, TokenPurpose};

/// How long an admin-consent link stays valid (it is sent to the client's admin).
pub const CONSENT_LINK_LIFETIME_SECS: i64 = 30 * 24 * 3600;
const CONSENT_STATE_CONTEXT: &str = "consent-state";

/// What came back on `/sso/consent`.
#[derive(Debug, Default)]
pub struct ConsentCallback {
    pub admin_consent: Option<String>,
    pub tenant: Option<String>,
    pub state: Option<String>,
    pub error: Option<String>,
    pub error_description: Option<String>,
    pub origin: Origin,
}

/// What the consent callback recorded, for the page it shows.
#[derive(Debug)]
pub enum ConsentOutcome {
    Granted {
        client: String,
    },
    Failed {
        client: String,
        error: String,
        description: String,
    },
    /// Consent came from another tenant than the client's: nothing was changed.
    TenantMismatch {
        client: String,
        claimed: String,
        expected: String,
    },
    /// `state` missing, unknown, used or expired.
    Refused,
}

impl Services {
    pub fn portal_app(&self) -> Result<PortalApp> {
        Ok(self.store.read(|r| r.setting::<PortalApp>())?)
    }

    /// Saves the portal app registration; `None` leaves a value as it is.
    pub async fn update_portal_app(
        self: &Arc<Self>,
        actor: AdminActor,
        client_id: Option<String>,
        secret: Option<String>,
        expires: Option<String>,
    ) -> Result<PortalApp> {
        let change = self.check_registration(
            client_id.as_deref(),
            secret.as_deref(),
            expires.as_deref(),
            PORTAL_SECRET_CONTEXT,
        )?;
        let saved = self
            .blocking(move |s| {
                s.write(|w| {
                    let mut app: PortalApp = w.setting()?;
                    if let Some(c) = change.client_id {
                        app.client_id = c;
                    }
                    if let Some(sealed) = change.secret {
                        app.client_secret = Some(sealed);
                    }
                    if let Some(e) = change.expires {
                        app.secret_expires = e;
                    }
                    w.put_setting(&app)?;
                    s.audit(
                        w,
                        actor
                            .event(AuditKind::SettingsChanged)
                            .detail("portal app registration changed"),
                    )?;
                    Ok(app)
                })
            })
            .await?;
        self.entra.forget();
        Ok(saved)
    }

    /// The admin-consent link for a client (DESIGN §4), reusing a still-valid one so
    /// a link already sent keeps working.
    pub async fn consent_link(self: &Arc<Self>, actor: AdminActor, slug: String) -> Result<String> {
        let portal = self.portal_app()?;
        if portal.client_id.is_empty() {
            return Err(ServiceError::Invalid(
                "Set up the portal app registration first (Admin → Portal app).".to_owned(),
            ));
        }
        let host = self.entra.host().to_owned();
        let redirect = self.consent_redirect_uri();
        self.blocking(move |s| {
            s.write(|w| {
                let mut client = w
                    .client_by_slug(&slug)?
                    .ok_or(ServiceError::NotFound("client"))?;
                let tenant = client.tenant_id.clone().ok_or_else(|| {
                    ServiceError::Invalid("Enter the client's tenant ID first.".to_owned())
                })?;
                let now = s.clock.now();
                let current = client
                    .consent_link
                    .as_ref()
                    .filter(|l| l.expires_at > now)
                    .and_then(|l| s.keys.open(&l.state, CONSENT_STATE_CONTEXT).ok())
                    .and_then(|b| String::from_utf8(b).ok());
                let state = match current {
                    Some(state) => state,
                    None => {
                        let token = SecretToken::generate()?;
                        let expires_at = now.plus_secs(CONSENT_LINK_LIFETIME_SECS);
                        w.delete_one_time_tokens(|t| {
                            t.purpose
                                == TokenPurpose::Consent {
                                    client_id: client.id,
                                }
                        })?;
                        w.put_one_time_token(
                            &s.one_time_key(token.expose()),
                            &OneTimeToken {
                                purpose: TokenPurpose::Consent {
                                    client_id: client.id,
                                },
                                realm: Realm::Client(client.id),
                                created_at: now,
                                expires_at,
                            },
                        )?;
                        client.consent_link = Some(ConsentLink {
                            state: s
                                .keys
                                .seal(token.expose().as_bytes(), CONSENT_STATE_CONTEXT)?,
                            expires_at,
                        });
                        w.put_client(&client)?;
                        s.audit(
                            w,
                            actor
                                .event(AuditKind::ConsentRecorded)
                                .in_realm(Realm::Client(client.id))
                                .detail("admin-consent link created"),
                        )?;
                        token.expose().to_owned()
                    }
                };
                let mut url = Url::parse(&format!("{host}/{tenant}/v2.0/adminconsent"))
                    .map_err(|e| ServiceError::Internal(e.to_string()))?;
                url.query_pairs_mut()
                    .append_pair("client_id", &portal.client_id)
                    .append_pair("scope", "openid profile email")
                    .append_pair("redirect_uri", &redirect)
                    .append_pair("state", &state);
                // Entra documents `%20` between scopes; form encoding would write `+`.
                Ok(url.to_string().replace(
                    "scope=openid+profile+email",
                    "scope=openid%20profile%20email",
                ))
            })
        })
        .await
    }

    /// Handles `/sso/consent`: `error` is checked before `admin_consent` (Entra sends
    /// `admin_consent=True` with errors too), the answer is tied to the client by the
    /// single-use `state`, and the `tenant` it claims never re-binds anything.
    pub async fn finish_consent(
        self: &Arc<Self>,
        callback: ConsentCallback,
    ) -> Result<ConsentOutcome> {
        let Some(state) = callback
            .state
            .as_deref()
            .and_then(SecretToken::from_received)
        else {
            tracing::warn!("admin-consent callback without a valid state");
            return Ok(ConsentOutcome::Refused);
        };
        let key = self.one_time_key(state.expose());
        self.blocking(move |s| {
            s.write(|w| {
                let Some(record) = w.one_time_token(&key)? else {
                    tracing::warn!("admin-consent callback with an unknown or used state");
                    return Ok(ConsentOutcome::Refused);
                };
                // Another kind of token (an invitation, a sign-in) is left alone.
                let TokenPurpose::Consent { client_id } = record.purpose else {
                    tracing::warn!("admin-consent callback with a state that is not a consent link");
                    return Ok(ConsentOutcome::Refused);
                };
                w.delete_one_time_token(&key)?;
                let now = s.clock.now();
                let Some(mut client) = w.client(client_id)?.filter(|_| record.expires_at > now) else {
                    return Ok(ConsentOutcome::Refused);
                };
                client.consent_link = None;
                let realm = Realm::Client(client.id);
                let event = |detail: String| AuditEvent::new(AuditKind::ConsentRecorded, now).in_realm(realm).from_ip(&callback.origin.ip).detail(detail);
                let expected = client.tenant_id.clone().unwrap_or_default();
                let outcome = if let Some(error) = callback.error.clone() {
                    let description: String = callback.error_description.clone().unwrap_or_default().chars().take(500).collect();
                    client.consent = Consent::Failed { at: now, error: error.clone(), description: description.clone() };
                    s.audit(w, event(format!("client {}: consent failed: {error}: {description}", client.slug)))?;
                    ConsentOutcome::Failed { client: client.name.clone(), error, description }
                } else if callback.admin_consent.as_deref().is_some_and(|v| v.eq_ignore_ascii_case("true")) {
                    let claimed = callback.tenant.clone().unwrap_or_default();
                    if !claimed.eq_ignore_ascii_case(&expected) {
                        tracing::warn!(client = %client.slug, %claimed, %expected, "admin consent came from another tenant; nothing changed");
                        s.audit(w, event(format!("client {}: consent from tenant {claimed}, expected {expected}; ignored", client.slug)))?;
                        w.put_client(&client)?;
                        return Ok(ConsentOutcome::TenantMismatch { client: client.name.clone(), claimed, expected });
                    }
                    client.consent = Consent::Granted { at: now };
                    s.audit(w, event(format!("client {}: consent granted", client.slug)))?;
                    ConsentOutcome::Granted { client: client.name.clone() }
                } else {
                    client.consent = Consent::Failed { at: now, error: "no_consent".to_owned(), description: "Microsoft did not report consent.".to_owned() };
                    s.audit(w, event(format!("client {}: no consent reported", client.slug)))?;
                    ConsentOutcome::Failed { client: client.name.clone(), error: "no_consent".to_owned(), description: "Microsoft did not report consent.".to_owned() }
                };
                client.updated_at = now;
                w.put_client(&client)?;
                Ok(outcome)
            })
        })
        .await
    }

    /// Tests a client's setup: discovery for its tenant, and the portal app's
    /// credentials in that tenant (AADSTS700016 there means consent is missing).
    pub async fn test_client_connection(
        self: &Arc<Self>,
        actor: AdminActor,
        slug: String,
    ) -> Result<ConnectionTest> {
        let client: Client = self.client_by_slug(&slug)?;
        let app = self.sso_app(Realm::Client(client.id))?.ok_or_else(|| {
            ServiceError::Invalid(
                "Enter the client's tenant ID and set up the portal app first.".to_owned(),
            )
        })?;
        let now = self.clock.now();
        let Probe { mut items, .. } = self.probe_app(Tested::Portal, &app.tenant, &app, now).await;
        let probed = items.len();
        if let Some(item) = secret_expiry_item(self.portal_app()?.secret_expires.as_deref(), now) {
            items.push(item);
        }
        let passed = probed == 2 && items.iter().all(|i| i.passed);
        let test = ConnectionTest {
            at: now,
            revision: 0,
            passed,
            items,
        };
        let realm = Realm::Client(client.id);
        let detail = format!(
            "client {slug}: {}",
            if passed { "passed" } else { "failed" }
        );
        self.blocking(move |s| {
            s.write(|w| {
                s.audit(
                    w,
                    actor
                        .event(AuditKind::SsoConnectionTested)
                        .in_realm(realm)
                        .detail(detail),
                )
            })
        })
        .await?;
        Ok(test)
    }
}
