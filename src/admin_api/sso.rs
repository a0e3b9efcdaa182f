//! The staff SSO commands of the admin API (`gatehouse sso …`, `gatehouse sso-only …`).

use std::fmt::Write;
use std::sync::Arc;

use serde_json::json;

use super::AdminResponse;
use crate::service::admin::AdminActor;
use crate::service::sso::admin::SsoUpdate;
use crate::service::sso::settings::ConnectionTest;
use crate::service::sso::summary::StaffSsoSummary;
use crate::service::{ServiceError, Services};

/// The settings (never the secret, which the summary does not hold).
fn settings_data(sso: &StaffSsoSummary) -> serde_json::Value {
    json!({
        "tenant": sso.tenant,
        "tenant_id": sso.tenant_id,
        "client_id": sso.client_id,
        "client_secret": if sso.secret.set { "set" } else { "not set" },
        "secret_expires": sso.secret.expires,
        "jit": sso.jit,
        "allowed_domains": sso.allowed_domains,
        "allow_guests": sso.allow_guests,
        "enabled": sso.enabled,
        "sso_only": sso.sso_only,
        "redirect_uri": sso.redirect_uri,
        "last_test_passed": sso.last_test.as_ref().map(|t| t.passed),
        "tested_for_current_settings": sso.tested_ok,
    })
}

fn settings_text(sso: &StaffSsoSummary) -> String {
    let mut out = String::new();
    let secret = &sso.secret.status;
    let _ = writeln!(out, "Staff sign-in with Microsoft");
    let _ = writeln!(
        out,
        "  enabled:         {}",
        if sso.enabled { "yes" } else { "no" }
    );
    let _ = writeln!(
        out,
        "  SSO-only:        {}",
        if sso.sso_only { "on" } else { "off" }
    );
    let _ = writeln!(
        out,
        "  tenant:          {}{}",
        if sso.tenant.is_empty() {
            "(not set)"
        } else {
            &sso.tenant
        },
        sso.tenant_id
            .as_ref()
            .filter(|t| **t != sso.tenant)
            .map(|t| format!(" ({t})"))
            .unwrap_or_default()
    );
    let _ = writeln!(
        out,
        "  client id:       {}",
        if sso.client_id.is_empty() {
            "(not set)"
        } else {
            &sso.client_id
        }
    );
    let _ = writeln!(out, "  client secret:   {secret}");
    let _ = writeln!(
        out,
        "  just-in-time:    {}{}",
        if sso.jit { "on" } else { "off" },
        if sso.jit && !sso.allowed_domains.is_empty() {
            format!(" ({})", sso.allowed_domains.join(", "))
        } else {
            String::new()
        }
    );
    let _ = writeln!(
        out,
        "  guests:          {}",
        if sso.allow_guests {
            "allowed"
        } else {
            "refused"
        }
    );
    let _ = writeln!(out, "  redirect URI:    {}", sso.redirect_uri);
    let _ = write!(
        out,
        "  connection test: {}",
        match &sso.last_test {
            None => "never run".to_owned(),
            Some(t) if t.revision != sso.revision =>
                "settings changed since the last test".to_owned(),
            Some(t) => format!(
                "{} at {}",
                if t.passed { "passed" } else { "failed" },
                t.at.to_rfc3339()
            ),
        }
    );
    out
}

/// A connection test as the CLI prints it (staff app or a client's), answered as
/// failed when the test failed.
pub(super) fn test_response(test: &ConnectionTest) -> AdminResponse {
    let mut out = String::new();
    for item in &test.items {
        let _ = writeln!(
            out,
            "{} {}: {}",
            if item.passed { "PASS" } else { "FAIL" },
            item.name,
            item.detail
        );
    }
    let _ = write!(
        out,
        "{}",
        if test.passed {
            "Connection test passed."
        } else {
            "Connection test failed."
        }
    );
    let mut response = AdminResponse::ok(out, serde_json::to_value(test).unwrap_or_default());
    response.ok = test.passed;
    response
}

pub async fn show(services: &Arc<Services>) -> Result<AdminResponse, ServiceError> {
    let sso = services.staff_sso_summary().await?;
    Ok(AdminResponse::ok(settings_text(&sso), settings_data(&sso)))
}

pub async fn set(
    services: &Arc<Services>,
    update: SsoUpdate,
) -> Result<AdminResponse, ServiceError> {
    services.update_staff_sso(AdminActor::cli(), update).await?;
    let sso = services.staff_sso_summary().await?;
    Ok(AdminResponse::ok(
        format!("Saved.\n{}", settings_text(&sso)),
        settings_data(&sso),
    ))
}

pub async fn enable(services: &Arc<Services>, on: bool) -> Result<AdminResponse, ServiceError> {
    services
        .set_staff_sso_enabled(AdminActor::cli(), on)
        .await?;
    let sso = services.staff_sso_summary().await?;
    let text = if on {
        "Staff Microsoft sign-in is on."
    } else {
        "Staff Microsoft sign-in is off."
    };
    Ok(AdminResponse::ok(text, settings_data(&sso)))
}

pub async fn test(services: &Arc<Services>) -> Result<AdminResponse, ServiceError> {
    let test = services.test_staff_sso(AdminActor::cli()).await?;
    Ok(test_response(&test))
}

pub async fn sso_only(services: &Arc<Services>, on: bool) -> Result<AdminResponse, ServiceError> {
    let revoked = services.set_staff_sso_only(AdminActor::cli(), on).await?;
    let text = if on {
        format!("Staff SSO-only is on. {revoked} password session(s) were ended.")
    } else {
        "Staff SSO-only is off: passwords work again.".to_owned()
    };
    Ok(AdminResponse::ok(
        text,
        json!({ "sso_only": on, "sessions_revoked": revoked }),
    ))
}
