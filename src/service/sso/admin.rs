//! What admins do with staff SSO: save the app registration, turn sign-in on and off,
//! test the connection item by item, and switch SSO-only — refused unless it cannot
//! lock everyone out (DESIGN §3).

use std::sync::Arc;

use super::connection::{Probe, Tested};
use super::settings::{ConnectionTest, SECRET_CONTEXT, StaffSso, secret_expiry_item};
use super::sso_only::StaffSsoOnlyReadiness;
use crate::domain::audit::AuditKind;
use crate::domain::entra::TenantRef;
use crate::domain::session::Stage;
use crate::domain::sso::provider::ENTRA_PROVIDER_ID;
use crate::domain::user::Realm;
use crate::service::admin::AdminActor;
use crate::service::policy::StaffLogin;
use crate::service::{Result, ServiceError, Services};
use crate::store::prelude::*;

/// Changes to the staff SSO settings; `None` leaves a value as it is.
#[derive(Debug, Default, Clone)]
pub struct SsoUpdate {
    pub tenant: Option<String>,
    pub client_id: Option<String>,
    /// A new secret (never shown again); empty strings are ignored.
    pub client_secret: Option<String>,
    /// `Some("")` clears the expiry date.
    pub secret_expires: Option<String>,
    pub jit: Option<bool>,
    /// Comma- or space-separated domains.
    pub allowed_domains: Option<String>,
    /// Guest (B2B) accounts of the tenant may sign in.
    pub allow_guests: Option<bool>,
}

fn invalid(message: impl Into<String>) -> ServiceError {
    ServiceError::Invalid(message.into())
}

pub(crate) fn parse_domains(text: &str) -> Result<Vec<String>> {
    let mut domains = Vec::new();
    for part in text
        .split([',', ' ', '\n'])
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        let domain = part.trim_start_matches('@').to_ascii_lowercase();
        let valid = domain.contains('.')
            && domain.len() <= 253
            && domain.split('.').all(|l| {
                !l.is_empty() && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            });
        if !valid {
            return Err(invalid(format!(
                "“{part}” is not an email domain like contoso.com."
            )));
        }
        if !domains.contains(&domain) {
            domains.push(domain);
        }
    }
    Ok(domains)
}

impl Services {
    /// Saves staff SSO settings. Changing the tenant, client id or secret invalidates
    /// the last connection test.
    pub async fn update_staff_sso(
        self: &Arc<Self>,
        actor: AdminActor,
        update: SsoUpdate,
    ) -> Result<StaffSso> {
        let tenant = update
            .tenant
            .as_deref()
            .map(|t| TenantRef::parse(t).map_err(|e| invalid(format!("Tenant ID: {e}."))))
            .transpose()?;
        let change = self.check_registration(
            update.client_id.as_deref(),
            update.client_secret.as_deref(),
            update.secret_expires.as_deref(),
            SECRET_CONTEXT,
        )?;
        let domains = update
            .allowed_domains
            .as_deref()
            .map(parse_domains)
            .transpose()?;
        let settings = self
            .blocking(move |s| {
                s.write(|w| {
                    let mut sso: StaffSso = w.setting()?;
                    let mut changed = Vec::new();
                    let mut retest = false;
                    if let Some(t) = tenant
                        && t.as_path() != sso.tenant
                    {
                        sso.tenant = t.as_path().to_owned();
                        sso.tenant_id = match &t {
                            TenantRef::Id(id) => Some(id.clone()),
                            TenantRef::Domain(_) => None,
                        };
                        changed.push("tenant");
                        retest = true;
                    }
                    if let Some(c) = change.client_id
                        && c != sso.client_id
                    {
                        sso.client_id = c;
                        changed.push("client id");
                        retest = true;
                    }
                    if let Some(sealed) = change.secret {
                        sso.client_secret = Some(sealed);
                        changed.push("client secret");
                        retest = true;
                    }
                    if let Some(e) = change.expires {
                        sso.secret_expires = e;
                        changed.push("secret expiry");
                    }
                    if let Some(j) = update.jit {
                        sso.jit = j;
                        changed.push("just-in-time provisioning");
                    }
                    if let Some(d) = domains {
                        sso.allowed_domains = d;
                        changed.push("allowed domains");
                    }
                    if let Some(g) = update.allow_guests
                        && g != sso.allow_guests
                    {
                        sso.allow_guests = g;
                        changed.push(if g {
                            "guests allowed"
                        } else {
                            "guests refused"
                        });
                    }
                    if retest {
                        sso.revision += 1;
                    }
                    w.put_setting(&sso)?;
                    if !changed.is_empty() {
                        s.audit(
                            w,
                            actor
                                .event(AuditKind::SettingsChanged)
                                .in_realm(Realm::Staff)
                                .detail(format!("staff SSO: {}", changed.join(", "))),
                        )?;
                    }
                    Ok(sso)
                })
            })
            .await?;
        self.entra.forget();
        Ok(settings)
    }

    /// Turns staff Microsoft sign-in on or off.
    pub async fn set_staff_sso_enabled(
        self: &Arc<Self>,
        actor: AdminActor,
        on: bool,
    ) -> Result<StaffSso> {
        self.blocking(move |s| {
            s.write(|w| {
                let mut sso: StaffSso = w.setting()?;
                let staff: StaffLogin = w.setting()?;
                if on && !sso.is_configured() {
                    return Err(invalid(
                        "Enter the tenant ID, client ID and client secret first.",
                    ));
                }
                // Under SSO-only, Microsoft may go only if another provider still
                // lets an admin in.
                let still_safe = !on
                    && staff.sso_only
                    && StaffSsoOnlyReadiness::read_without(w, Some(ENTRA_PROVIDER_ID))?.holds();
                if !on && staff.sso_only && !still_safe {
                    return Err(ServiceError::Conflict(
                        "Turn SSO-only off first; otherwise nobody could sign in.".to_owned(),
                    ));
                }
                sso.enabled = on;
                w.put_setting(&sso)?;
                let detail = if on {
                    "staff SSO enabled"
                } else {
                    "staff SSO disabled"
                };
                s.audit(
                    w,
                    actor
                        .event(AuditKind::SettingsChanged)
                        .in_realm(Realm::Staff)
                        .detail(detail),
                )?;
                Ok(sso)
            })
        })
        .await
    }

    /// Tests the staff app registration against Microsoft, item by item, and
    /// remembers the result for the current settings.
    pub async fn test_staff_sso(self: &Arc<Self>, actor: AdminActor) -> Result<ConnectionTest> {
        let sso = self.staff_sso()?;
        let app = self
            .sso_app(Realm::Staff)?
            .ok_or_else(|| invalid("Enter the tenant ID, client ID and client secret first."))?;
        let now = self.clock.now();
        let Probe {
            mut items,
            tenant_id,
        } = self.probe_app(Tested::Staff, &sso.tenant, &app, now).await;
        if let Some(item) = secret_expiry_item(sso.secret_expires.as_deref(), now) {
            items.push(item);
        }
        let passed = items.iter().all(|i| i.passed) && items.len() >= 3;
        let test = ConnectionTest {
            at: now,
            revision: sso.revision,
            passed,
            items,
        };
        let saved = test.clone();
        self.blocking(move |s| {
            s.write(|w| {
                let mut current: StaffSso = w.setting()?;
                // Only record it if nothing changed while the test ran.
                if current.revision == saved.revision {
                    if current.tenant_id.is_none() {
                        current.tenant_id = tenant_id;
                    }
                    current.last_test = Some(saved.clone());
                    w.put_setting(&current)?;
                }
                let detail = if saved.passed {
                    "staff SSO: passed"
                } else {
                    "staff SSO: failed"
                };
                s.audit(
                    w,
                    actor
                        .event(AuditKind::SsoConnectionTested)
                        .in_realm(Realm::Staff)
                        .detail(detail),
                )
            })
        })
        .await?;
        Ok(test)
    }

    /// Turns staff SSO-only on (guarded) or off (always allowed).
    pub async fn set_staff_sso_only(
        self: &Arc<Self>,
        actor: AdminActor,
        on: bool,
    ) -> Result<usize> {
        self.blocking(move |s| {
            s.write(|w| {
                let mut staff: StaffLogin = w.setting()?;
                let mut revoked = 0;
                if on {
                    let missing = StaffSsoOnlyReadiness::read(w)?.missing();
                    if !missing.is_empty() {
                        return Err(ServiceError::Conflict(format!(
                            "SSO-only cannot be turned on yet: {}.",
                            missing.join("; ")
                        )));
                    }
                    for user in w.users_in_realm(Realm::Staff)? {
                        if !user.break_glass {
                            revoked += w.delete_sessions_of_user(user.id, |_, session| {
                                session.auth.used_password() || session.stage != Stage::Active
                            })?;
                        }
                    }
                }
                staff.sso_only = on;
                w.put_setting(&staff)?;
                let detail = if on {
                    format!("staff SSO-only on; {revoked} password session(s) revoked")
                } else {
                    "staff SSO-only off".to_owned()
                };
                s.audit(
                    w,
                    actor
                        .event(AuditKind::SsoOnlyChanged)
                        .in_realm(Realm::Staff)
                        .detail(detail),
                )?;
                Ok(revoked)
            })
        })
        .await
    }
}
