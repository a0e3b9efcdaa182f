//! Testing a provider's connection: for `oidc`, discovery and the exact issuer, the
//! signing keys and accepted algorithms, and the client credentials where the
//! provider allows that grant; for Microsoft, the Entra connection test.

use std::sync::Arc;

use super::oidc::OidcError;
use super::settings::{ConnectionTest, TestItem, secret_expiry_item};
use crate::domain::audit::AuditKind;
use crate::domain::sso::provider::{ProviderKind, ProviderTest};
use crate::domain::user::Realm;
use crate::service::admin::AdminActor;
use crate::service::{Result, ServiceError, Services};
use crate::store::prelude::*;

impl Services {
    /// Tests an `oidc` provider, item by item: discovery and exact issuer, signing
    /// keys and algorithms, client credentials (where the provider allows the grant).
    /// The Microsoft provider runs the Entra connection test.
    pub async fn test_provider(
        self: &Arc<Self>,
        actor: AdminActor,
        realm: Realm,
        id: &str,
    ) -> Result<ConnectionTest> {
        let p = self
            .provider_for(realm, Some(id))?
            .ok_or(ServiceError::NotFound("identity provider"))?;
        if p.kind == ProviderKind::Entra {
            return match realm {
                Realm::Staff => self.test_staff_sso(actor).await,
                Realm::Client(cid) => {
                    let slug = self
                        .store
                        .read(|r| r.client(cid))?
                        .ok_or(ServiceError::NotFound("client"))?
                        .slug;
                    self.test_client_connection(actor, slug).await
                }
            };
        }
        let app = self.oidc_app(realm, &p)?.ok_or_else(|| {
            ServiceError::Invalid("Enter the issuer, client id and client secret first.".to_owned())
        })?;
        let now = self.clock.now();
        self.oidc.forget(&p.issuer);
        let mut items = Vec::new();
        let item = |name: &str, passed: bool, detail: String| TestItem {
            name: name.to_owned(),
            passed,
            warning: false,
            detail,
        };
        match self.oidc.provider(&p.issuer, now).await {
            Err(e) => items.push(item("Discovery", false, e.to_string())),
            Ok(found) => {
                items.push(item(
                    "Discovery",
                    true,
                    format!("issuer {} matches exactly", found.issuer),
                ));
                items.push(item(
                    "Signing keys",
                    true,
                    format!(
                        "{} usable key(s); accepted algorithms: {}",
                        found.key_count(),
                        found
                            .algorithms
                            .iter()
                            .map(|a| serde_json::to_value(a)
                                .ok()
                                .and_then(|v| v.as_str().map(str::to_owned))
                                .unwrap_or_default())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ));
                let credentials = self
                    .oidc
                    .client_credentials(&found, &app.client_id, &app.client_secret)
                    .await;
                items.push(match credentials {
                    Ok(()) => item("Client id and secret", true, "accepted".to_owned()),
                    Err(OidcError::Refused { error, .. })
                        if error == "invalid_client" =>
                    {
                        item("Client id and secret", false, "refused (invalid_client)".to_owned())
                    }
                    Err(_) => item(
                        "Client id and secret",
                        true,
                        "could not be checked without a sign-in (the provider does not allow the client-credentials grant): use Test sign-in".to_owned(),
                    ),
                });
            }
        }
        let probed = items.len();
        if let Some(item) = secret_expiry_item(p.secret_expires.as_deref(), now) {
            items.push(item);
        }
        let passed = probed == 3 && items.iter().all(|i| i.passed);
        let test = ConnectionTest {
            at: now,
            revision: p.revision,
            passed,
            items,
        };
        let stored = ProviderTest {
            at: now.0,
            revision: p.revision,
            passed,
            items: test
                .items
                .iter()
                .map(|i| (i.name.clone(), i.passed, i.detail.clone()))
                .collect(),
        };
        let id = p.id.clone();
        self.blocking(move |s| {
            s.write(|w| {
                let mut list = w.providers(realm)?;
                if let Some(p) = list.get_mut(&id) {
                    p.last_test = Some(stored);
                }
                w.put_providers(realm, &list)?;
                s.audit(
                    w,
                    actor
                        .event(AuditKind::SsoConnectionTested)
                        .in_realm(realm)
                        .detail(format!(
                            "provider {id}: {}",
                            if passed { "passed" } else { "failed" }
                        )),
                )
            })
        })
        .await?;
        Ok(test)
    }
}
