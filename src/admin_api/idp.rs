//! `gatehouse idp …`: a realm's identity providers (DESIGN §10).

use std::fmt::Write;
use std::sync::Arc;

use serde_json::json;

use super::sso::test_response;
use super::{AdminResponse, IdpAction, IdpSettings};
use crate::domain::sso::provider::{IdentityProvider, ProviderKind};
use crate::domain::user::Realm;
use crate::service::admin::AdminActor;
use crate::service::sso::providers::ProviderInput;
use crate::service::{ServiceError, Services};

fn input(s: IdpSettings) -> ProviderInput {
    ProviderInput {
        name: s.name,
        issuer: s.issuer,
        client_id: s.client_id,
        client_secret: s.client_secret,
        secret_expires: s.secret_expires,
        scopes: s.scopes,
        require_verified_email: s.require_verified_email,
        routing_domains: s.routing_domains,
        jit: s.jit,
        allowed_domains: s.domains,
        require_mfa: s.require_mfa,
        mfa_acr_values: s.mfa_acr_values,
        auth_context: s.auth_context,
    }
}

/// A provider as the CLI shows it (never the secret).
fn data(p: &IdentityProvider) -> serde_json::Value {
    json!({
        "id": p.id,
        "kind": p.kind.as_str(),
        "name": p.name,
        "enabled": p.enabled,
        "issuer": p.issuer,
        "client_id": p.client_id,
        "client_secret": if p.client_secret.is_some() { "set" } else { "not set" },
        "secret_expires": p.secret_expires,
        "scopes": p.scopes,
        "require_verified_email": p.require_verified_email,
        "routing_domains": p.routing_domains,
        "jit": p.jit,
        "allowed_domains": p.allowed_domains,
        "require_mfa": p.require_mfa,
        "mfa_acr_values": p.mfa_acr_values,
        "auth_context": p.auth_context,
        "last_test_passed": p.last_test.as_ref().filter(|t| t.revision == p.revision).map(|t| t.passed),
    })
}

fn line(p: &IdentityProvider) -> String {
    format!(
        "{:<12} {:<6} {:<8} {}{}",
        p.id,
        p.kind.as_str(),
        if p.enabled { "enabled" } else { "off" },
        p.name,
        if p.require_mfa { " (MFA required)" } else { "" }
    )
}

fn text(p: &IdentityProvider) -> String {
    let mut out = String::new();
    let yes = |b: bool| if b { "on" } else { "off" };
    let _ = writeln!(out, "Provider {} ({})", p.id, p.kind.as_str());
    let _ = writeln!(out, "  button:          Sign in with {}", p.name);
    let _ = writeln!(out, "  enabled:         {}", yes(p.enabled));
    match p.kind {
        ProviderKind::Entra => {
            let _ = writeln!(
                out,
                "  connection:      the Entra settings (gatehouse sso show / client show)"
            );
            let _ = writeln!(
                out,
                "  auth context:    {}",
                p.auth_context.as_deref().unwrap_or("(none)")
            );
        }
        ProviderKind::Oidc => {
            let _ = writeln!(out, "  issuer:          {}", p.issuer);
            let _ = writeln!(out, "  client id:       {}", p.client_id);
            let _ = writeln!(
                out,
                "  client secret:   {}{}",
                if p.client_secret.is_some() {
                    "set"
                } else {
                    "not set"
                },
                p.secret_expires
                    .as_ref()
                    .map(|e| format!(", expires {e}"))
                    .unwrap_or_default()
            );
            let _ = writeln!(out, "  scopes:          {}", p.scope_list());
            let _ = writeln!(out, "  verified email:  {}", yes(p.require_verified_email));
            let _ = writeln!(
                out,
                "  just-in-time:    {}{}",
                yes(p.jit),
                if p.allowed_domains.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", p.allowed_domains.join(", "))
                }
            );
        }
    }
    let _ = writeln!(out, "  routing domains: {}", p.routing_domains.join(", "));
    let _ = write!(out, "  require MFA:     {}", yes(p.require_mfa));
    out
}

pub async fn execute(
    services: &Arc<Services>,
    client: Option<String>,
    action: IdpAction,
) -> Result<AdminResponse, ServiceError> {
    let realm = match &client {
        Some(slug) => services.client_realm(slug)?,
        None => Realm::Staff,
    };
    let actor = AdminActor::cli();
    let show = |id: &str| -> Result<AdminResponse, ServiceError> {
        let p = services
            .provider_for(realm, Some(id))?
            .ok_or(ServiceError::NotFound("identity provider"))?;
        Ok(AdminResponse::ok(text(&p), data(&p)))
    };
    Ok(match action {
        IdpAction::List => {
            let list = services.identity_providers(realm)?;
            let text = if list.providers.is_empty() {
                "No identity providers.".to_owned()
            } else {
                list.providers
                    .iter()
                    .map(line)
                    .collect::<Vec<_>>()
                    .join("\n")
            };
            AdminResponse::ok(
                text,
                json!({
                    "providers": list.providers.iter().map(data).collect::<Vec<_>>(),
                    "email_first": list.email_first,
                    "discoverable": list.discoverable,
                }),
            )
        }
        IdpAction::Show { id } => show(&id)?,
        IdpAction::Add { id, kind, settings } => {
            let kind = ProviderKind::parse(&kind).map_err(ServiceError::Invalid)?;
            let p = services
                .add_provider(actor, realm, &id, kind, input(settings))
                .await?;
            let shown = show(&p.id)?;
            AdminResponse::ok(format!("Added.\n{}", shown.text), shown.data)
        }
        IdpAction::Set { id, settings } => {
            services
                .update_provider(actor, realm, &id, input(settings))
                .await?;
            let shown = show(&id)?;
            AdminResponse::ok(format!("Saved.\n{}", shown.text), shown.data)
        }
        IdpAction::Remove { id } => {
            services.remove_provider(actor, realm, &id).await?;
            AdminResponse::ok(format!("Removed {id}."), json!({ "removed": id }))
        }
        IdpAction::Test { id } => {
            let test = services.test_provider(actor, realm, &id).await?;
            test_response(&test)
        }
        IdpAction::Enable { id, on } => {
            services.set_provider_enabled(actor, realm, &id, on).await?;
            show(&id)?
        }
        IdpAction::EmailFirst { on } => {
            services.set_email_first(actor, realm, on).await?;
            AdminResponse::ok(
                format!("Email-first sign-in {}.", if on { "on" } else { "off" }),
                json!({ "email_first": on }),
            )
        }
        IdpAction::Discoverable { on } => {
            services.set_discoverable(actor, realm, on).await?;
            AdminResponse::ok(
                format!("Portal discovery {}.", if on { "on" } else { "off" }),
                json!({ "discoverable": on }),
            )
        }
        IdpAction::Move { id, up } => {
            services.move_provider(actor, realm, &id, up).await?;
            let list = services.identity_providers(realm)?;
            AdminResponse::ok(
                list.providers
                    .iter()
                    .map(line)
                    .collect::<Vec<_>>()
                    .join("\n"),
                json!({ "order": list.providers.iter().map(|p| p.id.clone()).collect::<Vec<_>>() }),
            )
        }
    })
}
