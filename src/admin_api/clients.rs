//! The client and portal-app commands of the admin API (`gatehouse client …`,
//! `gatehouse portal-app …`, `gatehouse sso-only … --client`).

use std::fmt::Write;
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::json;

use super::{AdminResponse, ClientSettings};
use crate::config::parse_duration;
use crate::domain::client::{Client, Consent};
use crate::domain::user::Realm;
use crate::service::admin::AdminActor;
use crate::service::clients::ClientUpdate;
use crate::service::{ServiceError, Services};

fn consent_text(c: &Consent) -> String {
    match c {
        Consent::NotRequested => "not requested".to_owned(),
        Consent::Granted { at } => format!("granted at {}", at.to_rfc3339()),
        Consent::Failed {
            at,
            error,
            description,
        } => format!("failed at {} ({error}: {description})", at.to_rfc3339()),
    }
}

fn client_data(c: &Client, services: &Services) -> serde_json::Value {
    let users = services
        .list_users(Realm::Client(c.id))
        .map(|u| u.len())
        .unwrap_or(0);
    json!({
        "id": c.id.to_string(),
        "slug": c.slug,
        "name": c.name,
        "enabled": c.enabled,
        "login_url": services.portal_login_url(&c.slug),
        "password_login": c.password_login,
        "mfa_required": c.mfa_required,
        "sso_enabled": c.sso_enabled,
        "tenant_id": c.tenant_id,
        "sso_only": c.sso_only,
        "jit": c.jit,
        "allowed_domains": c.allowed_domains,
        "allow_guests": c.allow_guests,
        "accent": c.accent,
        "totp_issuer": c.totp_issuer,
        "footer": c.footer,
        "logo": c.logo.is_some(),
        "session_idle_secs": c.idle_timeout_secs,
        "session_absolute_secs": c.absolute_timeout_secs,
        "consent": consent_text(&c.consent),
        "users": users,
    })
}

fn client_text(c: &Client, services: &Services) -> String {
    let d = client_data(c, services);
    let yes = |b: bool| if b { "on" } else { "off" };
    let mut out = String::new();
    let _ = writeln!(out, "{} ({})", c.name, c.slug);
    let _ = writeln!(
        out,
        "  status:        {}",
        if c.enabled { "active" } else { "disabled" }
    );
    let _ = writeln!(
        out,
        "  portal:        {}",
        d["login_url"].as_str().unwrap_or_default()
    );
    let _ = writeln!(
        out,
        "  password:      {} (TOTP required: {})",
        yes(c.password_login),
        yes(c.mfa_required)
    );
    let _ = writeln!(
        out,
        "  Microsoft:     {} (tenant {})",
        yes(c.sso_enabled),
        c.tenant_id.as_deref().unwrap_or("not set")
    );
    let _ = writeln!(out, "  SSO-only:      {}", yes(c.sso_only));
    let _ = writeln!(
        out,
        "  just-in-time:  {}{}",
        yes(c.jit),
        if c.allowed_domains.is_empty() {
            String::new()
        } else {
            format!(" ({})", c.allowed_domains.join(", "))
        }
    );
    let _ = writeln!(out, "  guests:        {}", yes(c.allow_guests));
    let _ = writeln!(out, "  consent:       {}", consent_text(&c.consent));
    let _ = write!(out, "  users:         {}", d["users"]);
    out
}

fn duration(label: &str, text: Option<String>) -> Result<Option<Option<i64>>, ServiceError> {
    match text.as_deref().map(str::trim) {
        None => Ok(None),
        Some("") | Some("default") => Ok(Some(None)),
        Some(t) => parse_duration(t).map(|s| Some(Some(s))).ok_or_else(|| {
            ServiceError::Invalid(format!("{label}: use a duration like 30m or 12h."))
        }),
    }
}

pub async fn list(services: &Arc<Services>) -> Result<AdminResponse, ServiceError> {
    let clients = services.list_clients()?;
    let mut text = format!(
        "{:<24} {:<30} {:<9} {}\n",
        "SLUG", "NAME", "STATUS", "SIGN-IN"
    );
    for c in &clients {
        let mut methods = Vec::new();
        if c.password_login && !c.sso_only {
            methods.push(if c.mfa_required {
                "password+totp"
            } else {
                "password"
            });
        }
        if c.sso_enabled {
            methods.push(if c.sso_only {
                "microsoft only"
            } else {
                "microsoft"
            });
        }
        let _ = writeln!(
            text,
            "{:<24} {:<30} {:<9} {}",
            c.slug,
            c.name,
            if c.enabled { "active" } else { "disabled" },
            methods.join(", ")
        );
    }
    let _ = write!(text, "{} client(s)", clients.len());
    Ok(AdminResponse::ok(
        text,
        json!(
            clients
                .iter()
                .map(|c| client_data(c, services))
                .collect::<Vec<_>>()
        ),
    ))
}

pub async fn add(
    services: &Arc<Services>,
    slug: String,
    name: String,
) -> Result<AdminResponse, ServiceError> {
    let client = services
        .create_client(AdminActor::cli(), slug, name)
        .await?;
    Ok(AdminResponse::ok(
        format!("Created client.\n{}", client_text(&client, services)),
        client_data(&client, services),
    ))
}

pub async fn show(services: &Arc<Services>, slug: &str) -> Result<AdminResponse, ServiceError> {
    let client = services.client_by_slug(slug)?;
    Ok(AdminResponse::ok(
        client_text(&client, services),
        client_data(&client, services),
    ))
}

pub async fn set(
    services: &Arc<Services>,
    slug: String,
    s: ClientSettings,
) -> Result<AdminResponse, ServiceError> {
    let logo = match s.logo_base64.as_deref() {
        None => None,
        Some("") => Some(None),
        Some(b64) => Some(Some(STANDARD.decode(b64).map_err(|_| {
            ServiceError::Invalid("Logo: the file could not be read.".to_owned())
        })?)),
    };
    let update = ClientUpdate {
        name: s.name,
        accent: s.accent,
        logo,
        totp_issuer: s.totp_issuer,
        footer: s.footer,
        tenant_id: s.tenant_id,
        password_login: s.password,
        mfa_required: s.mfa_required,
        sso_enabled: s.sso,
        jit: s.jit,
        allowed_domains: s.domains,
        allow_guests: s.guests,
        idle_timeout_secs: duration("--session-idle", s.session_idle)?,
        absolute_timeout_secs: duration("--session-absolute", s.session_absolute)?,
    };
    let mut client = services
        .update_client(AdminActor::cli(), slug.clone(), update)
        .await?;
    if let Some(enabled) = s.enabled
        && enabled != client.enabled
    {
        client = services
            .set_client_enabled(AdminActor::cli(), slug, enabled)
            .await?;
    }
    Ok(AdminResponse::ok(
        format!("Saved.\n{}", client_text(&client, services)),
        client_data(&client, services),
    ))
}

pub async fn remove(services: &Arc<Services>, slug: String) -> Result<AdminResponse, ServiceError> {
    let users = services
        .remove_client(AdminActor::cli(), slug.clone())
        .await?;
    Ok(AdminResponse::ok(
        format!(
            "Removed client {slug} with its {users} user(s), their sessions and its audit history."
        ),
        json!({ "removed": slug, "users": users }),
    ))
}

pub async fn consent_link(
    services: &Arc<Services>,
    slug: String,
) -> Result<AdminResponse, ServiceError> {
    let link = services.consent_link(AdminActor::cli(), slug).await?;
    Ok(AdminResponse::ok(link.clone(), json!({ "link": link })))
}

pub async fn test(services: &Arc<Services>, slug: String) -> Result<AdminResponse, ServiceError> {
    let test = services
        .test_client_connection(AdminActor::cli(), slug)
        .await?;
    Ok(super::sso::test_response(&test))
}

pub async fn sso_only(
    services: &Arc<Services>,
    slug: String,
    on: bool,
) -> Result<AdminResponse, ServiceError> {
    let revoked = services
        .set_client_sso_only(AdminActor::cli(), slug.clone(), on)
        .await?;
    let text = if on {
        format!("SSO-only is on for {slug}; {revoked} password session(s) ended.")
    } else {
        format!("SSO-only is off for {slug}.")
    };
    Ok(AdminResponse::ok(
        text,
        json!({ "client": slug, "sso_only": on, "sessions_revoked": revoked }),
    ))
}

pub async fn portal_app_show(services: &Arc<Services>) -> Result<AdminResponse, ServiceError> {
    let app = services.portal_app_summary()?;
    let text = format!(
        "Portal app (multi-tenant)\n  client id:      {}\n  client secret:  {}{}\n  redirect URIs:  {}\n                  {}",
        if app.client_id.is_empty() {
            "(not set)"
        } else {
            &app.client_id
        },
        if app.secret.set { "set" } else { "not set" },
        app.secret
            .expires
            .as_deref()
            .map(|d| format!(", expires on {d}"))
            .unwrap_or_default(),
        app.redirect_uri,
        app.consent_uri
    );
    Ok(AdminResponse::ok(
        text,
        json!({
            "client_id": app.client_id,
            "client_secret": if app.secret.set { "set" } else { "not set" },
            "secret_expires": app.secret.expires,
            "redirect_uris": [app.redirect_uri, app.consent_uri],
        }),
    ))
}

pub async fn portal_app_set(
    services: &Arc<Services>,
    client_id: Option<String>,
    secret: Option<String>,
    expires: Option<String>,
) -> Result<AdminResponse, ServiceError> {
    services
        .update_portal_app(AdminActor::cli(), client_id, secret, expires)
        .await?;
    portal_app_show(services).await
}
