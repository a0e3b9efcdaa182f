//! The leavers sweep (DESIGN §12): for a realm with a Microsoft connection whose app
//! has `User.Read.All`, every active user linked to the realm's tenant is looked up in
//! Microsoft Graph; an account deleted in Entra or with `accountEnabled: false` is
//! disabled here and all its sessions end, audited. Graph's 429 `Retry-After` is
//! honoured. Only a definite answer disables anyone: an unreachable Graph, a 5xx, a
//! token that cannot be had or endless throttling stop the sweep and disable nobody
//! more. The outcome is kept per realm for the admin page and `doctor`.

pub mod graph;

use std::sync::Arc;
use std::time::Duration;

use crate::domain::audit::Actor;
use crate::domain::provisioning::{SweepOutcome, SweepReport};
use crate::domain::user::{Realm, UserId, UserStatus};
use crate::store::prelude::*;

use super::admin::AdminActor;
use super::{Result, Services};
use graph::{Account, GraphError};

/// How often one user's lookup is retried after a 429.
const THROTTLE_RETRIES: u32 = 3;
/// The longest `Retry-After` waited for; longer ones end the sweep.
const LONGEST_WAIT_SECS: u64 = 60;

/// The sweep as an actor in the audit trail.
fn sweeper(why: &str) -> AdminActor {
    AdminActor {
        actor: Actor::Anonymous,
        email: format!("graph sweep: {why}"),
        ip: "local".to_owned(),
    }
}

impl Services {
    /// Sweeps every realm with a Microsoft connection (the periodic task).
    pub async fn sweep_all(self: &Arc<Self>) -> Result<Vec<(Realm, SweepReport)>> {
        let mut realms = vec![Realm::Staff];
        realms.extend(
            self.list_clients()?
                .into_iter()
                .filter(|c| c.enabled)
                .map(|c| Realm::Client(c.id)),
        );
        let mut reports = Vec::new();
        for realm in realms {
            if self.realm_entra_connection(realm)?.is_none() {
                continue;
            }
            let report = self.sweep_realm(realm).await?;
            if !report.is_ok() {
                tracing::warn!(realm = %realm.key(), outcome = %report.summary(), "graph sweep did not complete");
            }
            reports.push((realm, report));
        }
        Ok(reports)
    }

    /// Sweeps one realm now (`gatehouse sso sweep`) and records the report.
    pub async fn sweep_realm(self: &Arc<Self>, realm: Realm) -> Result<SweepReport> {
        let report = self.run_sweep(realm).await?;
        if report.outcome == SweepOutcome::NoConnection {
            // Nothing was swept: keep the last real sweep on record.
            return Ok(report);
        }
        let stored = report.clone();
        self.blocking(move |s| {
            s.write(|w| {
                let mut state = w.realm_provisioning(realm)?;
                state.last_sweep = Some(stored);
                w.put_realm_provisioning(realm, &state)?;
                Ok(())
            })
        })
        .await?;
        Ok(report)
    }

    async fn run_sweep(self: &Arc<Self>, realm: Realm) -> Result<SweepReport> {
        let mut report = SweepReport {
            at: self.clock.now(),
            outcome: SweepOutcome::Completed,
            checked: 0,
            disabled: Vec::new(),
        };
        let Some(connection) = self.realm_entra_connection(realm)? else {
            report.outcome = SweepOutcome::NoConnection;
            return Ok(report);
        };
        let tenant = connection.tenant_id.clone();
        let linked: Vec<(UserId, String, String)> = self
            .blocking(move |s| {
                let users = s.read(|r| Ok(r.users_in_realm(realm)?))?;
                Ok(users
                    .into_iter()
                    .filter(|u| u.status != UserStatus::Disabled)
                    .flat_map(|u| {
                        u.sso_links
                            .iter()
                            .filter(|l| l.tenant == tenant)
                            .map(|l| (u.id, u.email.to_string(), l.subject.clone()))
                            .collect::<Vec<_>>()
                    })
                    .collect())
            })
            .await?;
        if linked.is_empty() {
            return Ok(report);
        }
        let token = match self.graph_token(&connection).await {
            Ok(t) => t,
            Err(reason) => {
                report.outcome = SweepOutcome::Interrupted { reason };
                return Ok(report);
            }
        };
        for (id, email, oid) in linked {
            let verdict = match self.look_up(&token, &oid).await {
                Ok(v) => v,
                Err(GraphError::Forbidden) => {
                    report.outcome = SweepOutcome::NotGranted;
                    break;
                }
                Err(e) => {
                    report.outcome = SweepOutcome::Interrupted {
                        reason: e.to_string(),
                    };
                    break;
                }
            };
            report.checked += 1;
            let why = match verdict {
                Account::Enabled => continue,
                Account::Disabled => "account disabled in Entra",
                Account::Deleted => "account deleted in Entra",
            };
            match self.set_enabled(sweeper(why), id, false).await {
                Ok(_) => report.disabled.push(email),
                Err(e) => tracing::warn!(error = %e, "the graph sweep could not disable a user"),
            }
        }
        Ok(report)
    }

    /// An app-only Graph token from the realm's tenant.
    async fn graph_token(
        &self,
        connection: &super::provisioning::EntraConnection,
    ) -> std::result::Result<String, String> {
        let provider = self
            .entra
            .provider(&connection.tenant_id, self.clock.now())
            .await
            .map_err(|e| format!("tenant discovery failed: {}", e.reason()))?;
        self.graph
            .app_token(
                &provider.token_endpoint,
                &connection.client_id,
                &connection.client_secret,
            )
            .await
            .map_err(|e| e.to_string())
    }

    /// One user's account, retrying after 429 as Graph asks.
    async fn look_up(&self, token: &str, oid: &str) -> std::result::Result<Account, GraphError> {
        let mut tries = 0;
        loop {
            match self.graph.account(token, oid).await {
                Err(GraphError::Throttled(after))
                    if tries < THROTTLE_RETRIES && after <= LONGEST_WAIT_SECS =>
                {
                    tries += 1;
                    tokio::time::sleep(Duration::from_secs(after)).await;
                }
                other => return other,
            }
        }
    }
}
