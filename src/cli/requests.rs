//! Turning parsed commands into admin requests, reading secrets from standard input.

use std::io::Read;

use anyhow::Context;

use super::args::{ClientCommand, SessionsCommand, UserCommand};
use super::provider_args::{
    IdpCommand, IdpOptions, ScimCommand, ScimTokenCommand, SsoCommand, UpDown,
};
use super::staff_args::StaffCommand;
use super::values::OnOff;
use crate::admin_api::{AdminRequest, ClientSettings};

pub(super) fn user_request(command: UserCommand) -> AdminRequest {
    match command {
        UserCommand::List { client } => AdminRequest::UserList { client },
        UserCommand::Show { email, client } => AdminRequest::UserShow { email, client },
        UserCommand::Invite {
            email,
            name,
            role,
            client,
        } => AdminRequest::UserInvite {
            email,
            name,
            role: role.as_str().to_owned(),
            client,
        },
        UserCommand::Disable { email, client } => AdminRequest::UserDisable { email, client },
        UserCommand::ResendInvite { email, client } => {
            AdminRequest::UserResendInvite { email, client }
        }
        UserCommand::ResetPassword { email, client } => {
            AdminRequest::UserResetPassword { email, client }
        }
        UserCommand::Enable { email, client } => AdminRequest::UserEnable { email, client },
        UserCommand::ResetMfa { email, client } => AdminRequest::UserResetMfa { email, client },
        UserCommand::RevokeSessions { email, client } => {
            AdminRequest::UserRevokeSessions { email, client }
        }
        UserCommand::Remove { email, client } => AdminRequest::UserRemove { email, client },
        UserCommand::SetEmail {
            email,
            new_email,
            client,
        } => AdminRequest::UserSetEmail {
            email,
            new_email,
            client,
        },
        UserCommand::SetRole { email, role } => AdminRequest::UserSetRole {
            email,
            role: role.as_str().to_owned(),
        },
        UserCommand::BreakGlass { state, email } => AdminRequest::UserBreakGlass {
            email,
            on: matches!(state, OnOff::On),
        },
    }
}

pub(super) fn scim_request(command: ScimCommand) -> AdminRequest {
    match command {
        ScimCommand::Token { command } => match command {
            ScimTokenCommand::Create { client, label } => {
                AdminRequest::ScimTokenCreate { client, label }
            }
            ScimTokenCommand::List { client } => AdminRequest::ScimTokenList { client },
            ScimTokenCommand::Revoke { id, client } => AdminRequest::ScimTokenRevoke { id, client },
        },
    }
}

pub(super) fn sessions_request(command: SessionsCommand) -> AdminRequest {
    match command {
        SessionsCommand::Revoke { all: _, client } => AdminRequest::SessionsRevokeAll { client },
    }
}

pub(super) fn sso_request(command: SsoCommand) -> anyhow::Result<AdminRequest> {
    Ok(match command {
        SsoCommand::Show => AdminRequest::SsoShow,
        SsoCommand::Set {
            tenant_id,
            client_id,
            client_secret_stdin,
            secret_expires,
            jit,
            domains,
            guests,
        } => AdminRequest::SsoSet {
            tenant_id,
            client_id,
            client_secret: if client_secret_stdin {
                Some(read_secret("client secret")?)
            } else {
                None
            },
            secret_expires,
            jit: jit.map(|j| matches!(j, OnOff::On)),
            domains,
            guests: on(guests),
        },
        SsoCommand::Enable => AdminRequest::SsoEnable,
        SsoCommand::Disable => AdminRequest::SsoDisable,
        SsoCommand::Test => AdminRequest::SsoTest,
        SsoCommand::Sweep { client } => AdminRequest::SsoSweep { client },
    })
}

fn on(value: Option<OnOff>) -> Option<bool> {
    value.map(|v| matches!(v, OnOff::On))
}

pub(super) fn client_request(command: ClientCommand) -> anyhow::Result<AdminRequest> {
    Ok(match command {
        ClientCommand::List => AdminRequest::ClientList,
        ClientCommand::Add { slug, name } => AdminRequest::ClientAdd { slug, name },
        ClientCommand::Show { slug } => AdminRequest::ClientShow { slug },
        ClientCommand::Remove { slug } => AdminRequest::ClientRemove { slug },
        ClientCommand::ConsentLink { slug } => AdminRequest::ClientConsentLink { slug },
        ClientCommand::Test { slug } => AdminRequest::ClientTest { slug },
        ClientCommand::Set {
            slug,
            name,
            tenant_id,
            password,
            mfa_required,
            sso,
            jit,
            domains,
            guests,
            accent,
            totp_issuer,
            footer,
            logo,
            session_idle,
            session_absolute,
            enabled,
        } => {
            let logo_base64 = logo_base64(logo)?;
            AdminRequest::ClientSet {
                slug,
                settings: ClientSettings {
                    name,
                    tenant_id,
                    password: on(password),
                    mfa_required: on(mfa_required),
                    sso: on(sso),
                    jit: on(jit),
                    domains,
                    guests: on(guests),
                    accent,
                    totp_issuer,
                    footer,
                    logo_base64,
                    session_idle,
                    session_absolute,
                    enabled: on(enabled),
                },
            }
        }
    })
}

/// Reads one secret line from standard input.
pub(super) fn read_secret(what: &str) -> anyhow::Result<String> {
    let mut input = String::new();
    std::io::stdin()
        .take(64 * 1024)
        .read_to_string(&mut input)
        .with_context(|| format!("while reading the {what} from standard input"))?;
    let secret = input.strip_suffix('\n').unwrap_or(&input);
    let secret = secret.strip_suffix('\r').unwrap_or(secret);
    if secret.is_empty() {
        anyhow::bail!(
            "no {what} on standard input (pipe it in, e.g. `printf '%s' \"$PW\" | gatehouse …`)"
        );
    }
    Ok(secret.to_owned())
}

pub(super) fn idp_request(
    command: IdpCommand,
    client: Option<String>,
) -> anyhow::Result<AdminRequest> {
    use crate::admin_api::{IdpAction, IdpSettings};
    let settings = |o: IdpOptions| -> anyhow::Result<IdpSettings> {
        Ok(IdpSettings {
            name: o.name,
            issuer: o.issuer,
            client_id: o.client_id,
            client_secret: if o.client_secret_stdin {
                Some(read_secret("client secret")?)
            } else {
                None
            },
            secret_expires: o.secret_expires,
            scopes: o.scopes,
            domains: o.domains,
            routing_domains: o.routing_domains,
            jit: on(o.jit),
            require_verified_email: on(o.require_verified_email),
            require_mfa: on(o.require_mfa),
            mfa_acr_values: o.mfa_acr_values,
            auth_context: o.auth_context,
        })
    };
    let action = match command {
        IdpCommand::List => IdpAction::List,
        IdpCommand::Show { id } => IdpAction::Show { id },
        IdpCommand::Add { id, kind, options } => IdpAction::Add {
            id,
            kind,
            settings: settings(options)?,
        },
        IdpCommand::Set { id, options } => IdpAction::Set {
            id,
            settings: settings(options)?,
        },
        IdpCommand::Remove { id } => IdpAction::Remove { id },
        IdpCommand::Test { id } => IdpAction::Test { id },
        IdpCommand::Enable { id } => IdpAction::Enable { id, on: true },
        IdpCommand::Disable { id } => IdpAction::Enable { id, on: false },
        IdpCommand::EmailFirst { state } => IdpAction::EmailFirst {
            on: matches!(state, OnOff::On),
        },
        IdpCommand::Discoverable { state } => IdpAction::Discoverable {
            on: matches!(state, OnOff::On),
        },
        IdpCommand::Move { id, direction } => IdpAction::Move {
            id,
            up: matches!(direction, UpDown::Up),
        },
    };
    Ok(AdminRequest::Idp { client, action })
}

/// A logo file for the admin API: base64 of its bytes, `""` to remove it (an empty
/// path), `None` to leave it. Files over the limit are refused before sending.
fn logo_base64(logo: Option<String>) -> anyhow::Result<Option<String>> {
    use base64::Engine;
    Ok(match logo {
        None => None,
        Some(path) if path.is_empty() => Some(String::new()),
        Some(path) => {
            let path = std::path::PathBuf::from(path);
            let bytes = std::fs::read(&path)
                .with_context(|| format!("while reading the logo {}", path.display()))?;
            if bytes.len() > crate::domain::client::LOGO_LIMIT {
                anyhow::bail!("the logo {} is larger than 64 KiB", path.display());
            }
            Some(base64::engine::general_purpose::STANDARD.encode(bytes))
        }
    })
}

pub(super) fn staff_request(command: StaffCommand) -> anyhow::Result<AdminRequest> {
    Ok(match command {
        StaffCommand::Show => AdminRequest::StaffShow,
        StaffCommand::Set { org_name, logo } => AdminRequest::StaffSet {
            org_name,
            logo_base64: logo_base64(logo)?,
        },
    })
}
