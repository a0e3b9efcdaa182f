//! The provisioning commands of the admin API: `gatehouse scim token create|list|
//! revoke` and `gatehouse sso sweep`.

use std::fmt::Write;
use std::sync::Arc;

use serde_json::json;

use super::AdminResponse;
use crate::domain::user::Realm;
use crate::service::admin::AdminActor;
use crate::service::provisioning::last_used_text;
use crate::service::{ServiceError, Services};

fn realm_name(services: &Services, realm: Realm) -> String {
    match realm {
        Realm::Staff => "the staff realm".to_owned(),
        Realm::Client(id) => services
            .list_clients()
            .ok()
            .and_then(|cs| cs.into_iter().find(|c| c.id == id))
            .map_or_else(|| "a client".to_owned(), |c| format!("client {}", c.slug)),
    }
}

pub(super) async fn token_create(
    services: &Arc<Services>,
    realm: Realm,
    label: String,
) -> Result<AdminResponse, ServiceError> {
    let made = services
        .create_scim_token(AdminActor::cli(), realm, label)
        .await?;
    let bearer = made.bearer();
    let base = services.scim_base_url();
    Ok(AdminResponse::ok(
        format!(
            "SCIM token {} for {} (shown once; only a hash is kept):\n{bearer}\n\nIn Entra: Enterprise application → Provisioning → Admin credentials:\n  Tenant URL:   {base}\n  Secret Token: the token above",
            made.token.id,
            realm_name(services, realm)
        ),
        json!({ "id": made.token.id, "token": bearer, "tenant_url": base, "realm": realm.key() }),
    ))
}

pub(super) fn token_list(
    services: &Arc<Services>,
    realm: Realm,
) -> Result<AdminResponse, ServiceError> {
    let tokens = services.list_scim_tokens(realm)?;
    let mut text = format!(
        "{:<10} {:<24} {:<22} {}\n",
        "ID", "LABEL", "CREATED", "LAST USED"
    );
    for t in &tokens {
        let _ = writeln!(
            text,
            "{:<10} {:<24} {:<22} {}",
            t.id,
            t.label,
            t.created_at.to_rfc3339(),
            last_used_text(t)
        );
    }
    let _ = write!(
        text,
        "{} token(s) for {}",
        tokens.len(),
        realm_name(services, realm)
    );
    Ok(AdminResponse::ok(
        text,
        json!(
            tokens
                .iter()
                .map(|t| json!({
                    "id": t.id,
                    "label": t.label,
                    "created_at": t.created_at.to_rfc3339(),
                    "last_used_at": t.last_used_at.map(|at| at.to_rfc3339()),
                }))
                .collect::<Vec<_>>()
        ),
    ))
}

pub(super) async fn token_revoke(
    services: &Arc<Services>,
    realm: Realm,
    id: String,
) -> Result<AdminResponse, ServiceError> {
    let token = services
        .revoke_scim_token(AdminActor::cli(), realm, id)
        .await?;
    Ok(AdminResponse::ok(
        format!("Revoked SCIM token {}; it stops working at once.", token.id),
        json!({ "id": token.id, "revoked": true }),
    ))
}

pub(super) async fn sweep(
    services: &Arc<Services>,
    realm: Realm,
) -> Result<AdminResponse, ServiceError> {
    let report = services.sweep_realm(realm).await?;
    let mut text = format!(
        "Graph sweep of {}: {}",
        realm_name(services, realm),
        report.summary()
    );
    for email in &report.disabled {
        let _ = write!(text, "\n  disabled {email}");
    }
    let response = AdminResponse {
        ok: report.is_ok()
            || matches!(
                report.outcome,
                crate::domain::provisioning::SweepOutcome::NoConnection
            ),
        text,
        data: serde_json::to_value(&report).unwrap_or_default(),
    };
    Ok(response)
}
