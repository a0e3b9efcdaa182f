//! The doctor's sign-in checks: client secrets about to expire (or expired) — of the
//! Entra app registrations and of every realm's OpenID Connect providers — and a staff
//! connection test that failed or no longer matches the settings.

use super::{Context, Finding};
use crate::service::sso::settings::expiry_warning;

/// A `warn` for every client secret expiring within 30 days, an `error` for one that
/// expired, an `ok` for the others; a `warn` for a secret without a recorded date.
pub fn check_sso_secrets_expiring(ctx: &Context) -> Vec<Finding> {
    let Some(status) = ctx.status() else {
        return vec![];
    };
    status
        .secrets
        .iter()
        .map(|secret| match secret.expires.as_deref() {
            None => Finding::warn(
                "secret expiry",
                format!("{} client secret: no expiry date recorded, so nobody will be warned before it stops working", secret.app),
            ),
            Some(date) => match expiry_warning(date, ctx.now) {
                Some(days) if days < 0 => Finding::error(
                    "secret expiry",
                    format!("{} client secret EXPIRED on {date}: sign-in through it fails until a new secret is entered", secret.app),
                ),
                Some(days) => Finding::warn("secret expiry", format!("{} client secret expires on {date}, in {days} day(s): create a new one", secret.app)),
                None => Finding::ok("secret expiry", format!("{} client secret expires on {date}", secret.app)),
            },
        })
        .collect()
}

/// A `warn` when staff Microsoft sign-in is on but the last connection test failed,
/// never ran, or tested other settings.
pub fn check_sso_test_status(ctx: &Context) -> Vec<Finding> {
    let Some(sso) = ctx.status().and_then(|s| s.staff_sso.as_ref()) else {
        return vec![];
    };
    vec![match (sso.tested_ok, sso.last_test) {
        (true, _) => Finding::ok(
            "sso test",
            "staff Microsoft sign-in passed its connection test for the current settings",
        ),
        (false, None) => Finding::warn(
            "sso test",
            "staff Microsoft sign-in is on but was never tested: run `gatehouse sso test`",
        ),
        (false, Some((_, false))) => Finding::warn(
            "sso test",
            "the last staff SSO connection test failed: run `gatehouse sso test` for details",
        ),
        (false, Some((_, true))) => Finding::warn(
            "sso test",
            "staff SSO settings changed since the last successful connection test: run `gatehouse sso test`",
        ),
    }]
}

/// The last Graph leavers sweep of each realm: `ok` when it completed, `warn` when it
/// could not (permission not granted, Graph unreachable…), so leavers may keep access.
pub fn check_sweeps(ctx: &Context) -> Vec<Finding> {
    let Some(status) = ctx.status() else {
        return vec![];
    };
    status
        .sweeps
        .iter()
        .map(|s| {
            let message = format!(
                "{}: last Graph sweep {}: {}",
                s.realm,
                crate::domain::time::Timestamp(s.at).to_rfc3339(),
                s.summary
            );
            if s.completed {
                Finding::ok("graph sweep", message)
            } else {
                Finding::warn("graph sweep", message)
            }
        })
        .collect()
}
