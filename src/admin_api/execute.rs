//! Carries out admin requests against the services and renders the answers, as text
//! for people and JSON for scripts.

use std::fmt::Write;
use std::sync::Arc;

use serde::Serialize;
use serde_json::json;

use super::{AdminRequest, AdminResponse};
use crate::domain::audit::AuditEvent;
use crate::domain::text::neutralise;
use crate::domain::user::{Realm, Role, User};
use crate::service::admin::AdminActor;
use crate::service::sso::admin::SsoUpdate;
use crate::service::{ServiceError, Services};

/// A user as the CLI shows it.
#[derive(Debug, Serialize)]
pub struct UserInfo {
    pub id: String,
    pub email: String,
    pub name: String,
    pub realm: String,
    pub role: &'static str,
    pub status: &'static str,
    pub totp: bool,
    pub recovery_codes_left: usize,
    pub sso_links: usize,
    pub break_glass: bool,
    pub created_at: String,
    pub last_login_at: Option<String>,
}

impl From<&User> for UserInfo {
    fn from(u: &User) -> Self {
        UserInfo {
            id: u.id.to_string(),
            email: u.email.to_string(),
            name: u.display_name.clone(),
            realm: u.realm.key(),
            role: u.role.as_str(),
            status: u.status.as_str(),
            totp: u.totp.is_some(),
            recovery_codes_left: u.recovery_codes.len(),
            sso_links: u.sso_links.len(),
            break_glass: u.break_glass,
            created_at: u.created_at.to_rfc3339(),
            last_login_at: u.last_login_at.map(|t| t.to_rfc3339()),
        }
    }
}

fn user_data(user: &User) -> serde_json::Value {
    serde_json::to_value(UserInfo::from(user)).unwrap_or_default()
}

fn user_text(u: &User) -> String {
    let info = UserInfo::from(u);
    let mut out = String::new();
    let _ = writeln!(out, "{} <{}>", u.name_or_email(), info.email);
    let _ = writeln!(out, "  id:             {}", info.id);
    let _ = writeln!(out, "  realm:          {}", info.realm);
    let _ = writeln!(out, "  role:           {}", info.role);
    let _ = writeln!(out, "  status:         {}", info.status);
    let _ = writeln!(
        out,
        "  authenticator:  {}",
        if info.totp {
            format!("yes ({} recovery codes left)", info.recovery_codes_left)
        } else {
            "no".to_owned()
        }
    );
    let _ = writeln!(out, "  microsoft:      {} linked", info.sso_links);
    let _ = writeln!(
        out,
        "  break-glass:    {}",
        if info.break_glass { "yes" } else { "no" }
    );
    let _ = write!(
        out,
        "  last sign-in:   {}",
        info.last_login_at.as_deref().unwrap_or("never")
    );
    out
}

/// One audit event as a line of text. Stored text is escaped again: an entry written
/// before events were neutralised may still hold a line break or a terminal escape.
fn audit_line(seq: u64, e: &AuditEvent) -> String {
    let mut line = format!(
        "{seq:>6}  {}  {:<24} {}",
        e.at.to_rfc3339(),
        e.kind.as_str(),
        neutralise(&e.actor_email)
    );
    if !e.subject_email.is_empty() && e.subject_email != e.actor_email {
        line.push_str(&format!(" → {}", neutralise(&e.subject_email)));
    }
    if !e.source_ip.is_empty() {
        line.push_str(&format!(" from {}", neutralise(&e.source_ip)));
    }
    if !e.detail.is_empty() {
        line.push_str(&format!(" ({})", neutralise(&e.detail)));
    }
    line
}

/// The realm named by `--client` (staff when absent).
fn realm_of(services: &Services, client: Option<&str>) -> Result<Realm, ServiceError> {
    match client {
        None => Ok(Realm::Staff),
        Some(slug) => services.client_realm(slug),
    }
}

fn role_of(text: &str) -> Result<Role, ServiceError> {
    Role::parse(text).ok_or_else(|| {
        ServiceError::Invalid(format!("Unknown role “{text}”: use admin or member."))
    })
}

/// Runs one request.
pub async fn execute(services: &Arc<Services>, request: AdminRequest) -> AdminResponse {
    match run(services, request).await {
        Ok(response) => response,
        Err(e) => AdminResponse::error(describe(&e)),
    }
}

/// The CLI's wording of a service error (no internal detail beyond what an operator
/// on the server may see).
fn describe(e: &ServiceError) -> String {
    match e {
        ServiceError::NotFound(what) => format!("No such {what}."),
        ServiceError::Store(inner) => format!("Storage error: {inner}"),
        ServiceError::Internal(inner) => format!("Internal error: {inner}"),
        other => other.to_string(),
    }
}

async fn run(
    services: &Arc<Services>,
    request: AdminRequest,
) -> Result<AdminResponse, ServiceError> {
    let cli = AdminActor::cli();
    let user_in = |email: &str, client: Option<&str>| -> Result<User, ServiceError> {
        let realm = realm_of(services, client)?;
        services.user_by_email(realm, email)
    };
    Ok(match request {
        AdminRequest::AdminCreate {
            email,
            name,
            password,
        } => {
            let admin = services.create_admin(cli, email, name, password).await?;
            AdminResponse::ok(
                format!(
                    "Created staff admin {}. They set up their authenticator app at first sign-in.",
                    admin.email
                ),
                user_data(&admin),
            )
        }
        AdminRequest::UserList { client } => {
            let realm = realm_of(services, client.as_deref())?;
            let users = services.list_users(realm)?;
            let mut text = format!(
                "{:<36}  {:<32} {:<7} {:<9} {}\n",
                "ID", "EMAIL", "ROLE", "STATUS", "MFA"
            );
            for u in &users {
                let _ = writeln!(
                    text,
                    "{:<36}  {:<32} {:<7} {:<9} {}",
                    u.id,
                    u.email,
                    u.role.as_str(),
                    u.status.as_str(),
                    if u.totp.is_some() { "totp" } else { "-" }
                );
            }
            let _ = write!(text, "{} user(s)", users.len());
            AdminResponse::ok(
                text,
                json!(users.iter().map(UserInfo::from).collect::<Vec<_>>()),
            )
        }
        AdminRequest::UserShow { email, client } => {
            let user = user_in(&email, client.as_deref())?;
            AdminResponse::ok(user_text(&user), user_data(&user))
        }
        AdminRequest::UserInvite {
            email,
            name,
            role,
            client,
        } => {
            let realm = realm_of(services, client.as_deref())?;
            let invitation = services
                .invite(cli, realm, email, name, role_of(&role)?)
                .await?;
            let again = if invitation.resent {
                "; already invited, so this is a new link and the old one no longer works"
            } else {
                ""
            };
            let (emailed, mail) = super::mail::report(invitation.delivery).await;
            AdminResponse::ok(
                format!(
                    "Invitation for {} (valid 7 days, single use{again}):\n{}\n{emailed}",
                    invitation.user.email, invitation.link
                ),
                json!({ "user": UserInfo::from(&invitation.user), "link": invitation.link, "email": mail }),
            )
        }
        AdminRequest::UserResendInvite { email, client } => {
            let user = user_in(&email, client.as_deref())?;
            super::mail::resend_invite(services, cli, user).await?
        }
        AdminRequest::UserResetPassword { email, client } => {
            let user = user_in(&email, client.as_deref())?;
            super::mail::reset_password(services, cli, user).await?
        }
        AdminRequest::MailTest { to } => super::mail::test(services, &to).await?,
        AdminRequest::UserDisable { email, client } => {
            let user = user_in(&email, client.as_deref())?;
            let user = services.set_enabled(cli, user.id, false).await?;
            AdminResponse::ok(
                format!("Disabled {} and ended their sessions.", user.email),
                user_data(&user),
            )
        }
        AdminRequest::UserEnable { email, client } => {
            let user = user_in(&email, client.as_deref())?;
            let user = services.set_enabled(cli, user.id, true).await?;
            AdminResponse::ok(format!("Enabled {}.", user.email), user_data(&user))
        }
        AdminRequest::UserResetMfa { email, client } => {
            let user = user_in(&email, client.as_deref())?;
            let user = services.reset_mfa(cli, user.id).await?;
            AdminResponse::ok(
                format!(
                    "Removed the authenticator of {}; they enrol again at next sign-in.",
                    user.email
                ),
                user_data(&user),
            )
        }
        AdminRequest::UserRevokeSessions { email, client } => {
            let user = user_in(&email, client.as_deref())?;
            let user = services.revoke_sessions(cli, user.id).await?;
            AdminResponse::ok(
                format!("Signed {} out everywhere.", user.email),
                user_data(&user),
            )
        }
        AdminRequest::UserRemove { email, client } => {
            let user = user_in(&email, client.as_deref())?;
            let removed = services.remove_user(cli, user.id).await?;
            AdminResponse::ok(
                format!(
                    "Removed {} ({} session(s) ended, {} open link(s) revoked). The address can be invited again.",
                    removed.user.email, removed.sessions_ended, removed.links_revoked
                ),
                json!({
                    "removed": UserInfo::from(&removed.user),
                    "sessions_ended": removed.sessions_ended,
                    "links_revoked": removed.links_revoked,
                }),
            )
        }
        AdminRequest::UserSetEmail {
            email,
            new_email,
            client,
        } => {
            let user = user_in(&email, client.as_deref())?;
            let old = user.email.clone();
            let user = services.set_email(cli, user.id, new_email).await?;
            AdminResponse::ok(format!("{old} is now {}.", user.email), user_data(&user))
        }
        AdminRequest::SessionsRevokeAll { client } => {
            let realm = realm_of(services, client.as_deref())?;
            let ended = services.revoke_all_sessions(cli, realm, None).await?;
            let whose = match &client {
                Some(slug) => format!("client {slug}'s portal"),
                None => "the staff realm".to_owned(),
            };
            AdminResponse::ok(
                format!("Ended {ended} session(s) of {whose}; everyone there signs in again."),
                json!({ "client": client, "sessions_ended": ended }),
            )
        }
        AdminRequest::UserSetRole { email, role } => {
            let user = user_in(&email, None)?;
            let user = services.set_role(cli, user.id, role_of(&role)?).await?;
            AdminResponse::ok(
                format!("{} is now {}.", user.email, user.role.as_str()),
                user_data(&user),
            )
        }
        AdminRequest::UserBreakGlass { email, on } => {
            let user = user_in(&email, None)?;
            let user = services.set_break_glass(cli, user.id, on).await?;
            let state = if user.break_glass {
                "a break-glass account"
            } else {
                "no longer a break-glass account"
            };
            AdminResponse::ok(format!("{} is {state}.", user.email), user_data(&user))
        }
        AdminRequest::Audit { limit, after } => {
            let mut events = match after {
                Some(after) => services.audit_after(after, limit)?,
                None => services.audit_log(limit, None)?,
            };
            if after.is_none() {
                events.reverse();
            }
            let text = events
                .iter()
                .map(|(seq, e)| audit_line(*seq, e))
                .collect::<Vec<_>>()
                .join("\n");
            let data = json!(
                events
                    .iter()
                    .map(|(seq, e)| json!({ "seq": seq, "event": e }))
                    .collect::<Vec<_>>()
            );
            AdminResponse::ok(text, data)
        }
        AdminRequest::Idp { client, action } => {
            super::idp::execute(services, client, action).await?
        }
        AdminRequest::SsoShow => super::sso::show(services).await?,
        AdminRequest::SsoSet {
            tenant_id,
            client_id,
            client_secret,
            secret_expires,
            jit,
            domains,
            guests,
        } => {
            let update = SsoUpdate {
                tenant: tenant_id,
                client_id,
                client_secret,
                secret_expires,
                jit,
                allowed_domains: domains,
                allow_guests: guests,
            };
            super::sso::set(services, update).await?
        }
        AdminRequest::SsoEnable => super::sso::enable(services, true).await?,
        AdminRequest::SsoDisable => super::sso::enable(services, false).await?,
        AdminRequest::SsoTest => super::sso::test(services).await?,
        AdminRequest::SsoSweep { client } => {
            let realm = realm_of(services, client.as_deref())?;
            super::provisioning::sweep(services, realm).await?
        }
        AdminRequest::ScimTokenCreate { client, label } => {
            let realm = realm_of(services, client.as_deref())?;
            super::provisioning::token_create(services, realm, label).await?
        }
        AdminRequest::ScimTokenList { client } => {
            let realm = realm_of(services, client.as_deref())?;
            super::provisioning::token_list(services, realm)?
        }
        AdminRequest::ScimTokenRevoke { id, client } => {
            let realm = realm_of(services, client.as_deref())?;
            super::provisioning::token_revoke(services, realm, id).await?
        }
        AdminRequest::PasskeySignIn { on, client } => passkey_sign_in(services, on, client).await?,
        AdminRequest::SsoOnly { on, client: None } => super::sso::sso_only(services, on).await?,
        AdminRequest::SsoOnly {
            on,
            client: Some(slug),
        } => super::clients::sso_only(services, slug, on).await?,
        AdminRequest::PortalAppShow => super::clients::portal_app_show(services).await?,
        AdminRequest::PortalAppSet {
            client_id,
            client_secret,
            secret_expires,
        } => {
            super::clients::portal_app_set(services, client_id, client_secret, secret_expires)
                .await?
        }
        AdminRequest::StaffShow => super::branding::show(services)?,
        AdminRequest::StaffSet {
            org_name,
            logo_base64,
        } => super::branding::set(services, org_name, logo_base64).await?,
        AdminRequest::ClientList => super::clients::list(services).await?,
        AdminRequest::ClientAdd { slug, name } => super::clients::add(services, slug, name).await?,
        AdminRequest::ClientShow { slug } => super::clients::show(services, &slug).await?,
        AdminRequest::ClientSet { slug, settings } => {
            super::clients::set(services, slug, settings).await?
        }
        AdminRequest::ClientRemove { slug } => super::clients::remove(services, slug).await?,
        AdminRequest::ClientConsentLink { slug } => {
            super::clients::consent_link(services, slug).await?
        }
        AdminRequest::ClientTest { slug } => super::clients::test(services, slug).await?,
        AdminRequest::Status => super::status::respond(services).await?,
        AdminRequest::Backup { path, with_key } => {
            super::backup::respond(services, path, with_key).await?
        }
    })
}

/// `passkey-sign-in on|off [--client SLUG]`.
async fn passkey_sign_in(
    services: &Arc<Services>,
    on: bool,
    client: Option<String>,
) -> Result<AdminResponse, ServiceError> {
    let state = if on { "on" } else { "off" };
    let text = match &client {
        None => {
            services
                .set_staff_passkey_sign_in(AdminActor::cli(), on)
                .await?;
            format!("Staff passkey sign-in is {state}.")
        }
        Some(slug) => {
            services
                .set_client_passkey_sign_in(AdminActor::cli(), slug.clone(), on)
                .await?;
            format!("Passkey sign-in for client {slug} is {state}.")
        }
    };
    Ok(AdminResponse::ok(
        text,
        serde_json::json!({ "client": client, "passkey_sign_in": on }),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::audit::{AuditEvent, AuditKind};
    use crate::domain::time::Timestamp;

    #[test]
    fn an_older_raw_record_is_printed_escaped() {
        // Written before events were neutralised: set the fields directly.
        let mut event = AuditEvent::new(AuditKind::LoginFailed, Timestamp(0));
        event.actor_email = "x@y.z\nforged".to_owned();
        event.subject_email = "\x1b[2Jv@y.z".to_owned();
        event.source_ip = "1.2.3.4\r".to_owned();
        event.detail = "why\u{2028}".to_owned();
        let line = audit_line(1, &event);
        assert!(!line.contains(['\n', '\r', '\x1b', '\u{2028}']), "{line:?}");
        for shown in [
            "x@y.z\\nforged",
            "\\u{1b}[2Jv@y.z",
            "1.2.3.4\\r",
            "why\\u{2028}",
        ] {
            assert!(line.contains(shown), "{shown} in {line}");
        }
    }
}
