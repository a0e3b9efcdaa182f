//! The admin API behind the CLI. One request type, executed the same way whether
//! the CLI reaches a running server over its Unix socket (`socket`) or opens the
//! stopped server's store itself. Requests and responses are JSON. Every answer is
//! built here from `service` use cases; nothing here uses `ops` (the CLI's side).

mod backup;
mod branding;
mod clients;
pub mod execute;
mod idp;
mod mail;
mod provisioning;
pub mod socket;
mod sso;
mod status;

use serde::{Deserialize, Serialize};

/// The admin socket's file name inside the data directory.
pub const SOCKET_FILE_NAME: &str = "admin.sock";

/// What `gatehouse idp` does.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "kebab-case")]
pub enum IdpAction {
    List,
    Show {
        id: String,
    },
    Add {
        id: String,
        kind: String,
        settings: IdpSettings,
    },
    Set {
        id: String,
        settings: IdpSettings,
    },
    Remove {
        id: String,
    },
    Test {
        id: String,
    },
    Enable {
        id: String,
        on: bool,
    },
    Move {
        id: String,
        up: bool,
    },
    EmailFirst {
        on: bool,
    },
    Discoverable {
        on: bool,
    },
}

/// A provider's settings as the CLI sends them; `None` leaves one as it is.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct IdpSettings {
    pub name: Option<String>,
    pub issuer: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    pub secret_expires: Option<String>,
    pub scopes: Option<String>,
    pub domains: Option<String>,
    pub routing_domains: Option<String>,
    pub jit: Option<bool>,
    pub require_verified_email: Option<bool>,
    pub require_mfa: Option<bool>,
    pub mfa_acr_values: Option<String>,
    pub auth_context: Option<String>,
}

/// One management command.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "kebab-case")]
pub enum AdminRequest {
    AdminCreate {
        email: String,
        name: String,
        password: String,
    },
    UserList {
        client: Option<String>,
    },
    UserShow {
        email: String,
        client: Option<String>,
    },
    UserInvite {
        email: String,
        name: String,
        role: String,
        client: Option<String>,
    },
    UserDisable {
        email: String,
        client: Option<String>,
    },
    /// A new invitation link for a still-invited user (the old one dies).
    UserResendInvite {
        email: String,
        client: Option<String>,
    },
    /// A password reset link for a user (emailed when email is on).
    UserResetPassword {
        email: String,
        client: Option<String>,
    },
    /// Sends a test email.
    MailTest {
        to: String,
    },
    UserEnable {
        email: String,
        client: Option<String>,
    },
    UserResetMfa {
        email: String,
        client: Option<String>,
    },
    UserRevokeSessions {
        email: String,
        client: Option<String>,
    },
    UserRemove {
        email: String,
        client: Option<String>,
    },
    UserSetEmail {
        email: String,
        new_email: String,
        client: Option<String>,
    },
    /// Ends every session of the staff realm, or of one client's portal.
    SessionsRevokeAll {
        client: Option<String>,
    },
    UserSetRole {
        email: String,
        role: String,
    },
    UserBreakGlass {
        email: String,
        on: bool,
    },
    Audit {
        limit: usize,
        /// Only events after this sequence number, oldest first (for `--follow`).
        after: Option<u64>,
    },
    /// `gatehouse idp …` on the staff realm, or a client's with `client`.
    Idp {
        client: Option<String>,
        action: IdpAction,
    },
    SsoShow,
    SsoSet {
        tenant_id: Option<String>,
        client_id: Option<String>,
        client_secret: Option<String>,
        secret_expires: Option<String>,
        jit: Option<bool>,
        domains: Option<String>,
        #[serde(default)]
        guests: Option<bool>,
    },
    SsoEnable,
    SsoDisable,
    SsoTest,
    /// Runs the Graph leavers sweep of the staff realm or one client's portal now.
    SsoSweep {
        client: Option<String>,
    },
    ScimTokenCreate {
        client: Option<String>,
        label: String,
    },
    ScimTokenList {
        client: Option<String>,
    },
    ScimTokenRevoke {
        id: String,
        client: Option<String>,
    },
    SsoOnly {
        on: bool,
        client: Option<String>,
    },
    PasskeySignIn {
        on: bool,
        client: Option<String>,
    },
    PortalAppShow,
    PortalAppSet {
        client_id: Option<String>,
        client_secret: Option<String>,
        secret_expires: Option<String>,
    },
    /// The staff pages' organisation name and logo.
    StaffShow,
    StaffSet {
        org_name: Option<String>,
        /// A PNG or JPEG, base64; `Some("")` removes the logo.
        logo_base64: Option<String>,
    },
    ClientList,
    ClientAdd {
        slug: String,
        name: String,
    },
    ClientShow {
        slug: String,
    },
    ClientSet {
        slug: String,
        settings: ClientSettings,
    },
    ClientRemove {
        slug: String,
    },
    ClientConsentLink {
        slug: String,
    },
    ClientTest {
        slug: String,
    },
    /// The store's vital facts (`doctor`, and "is a server running?" for `restore`).
    Status,
    /// Writes a consistent snapshot of the store to `path` (a new file; the CLI puts it
    /// in the data directory, then moves it where the operator asked). The master key
    /// comes back in the answer only when `with_key` is set.
    Backup {
        path: std::path::PathBuf,
        with_key: bool,
    },
}

/// The client settings `gatehouse client set` can change; `None` leaves a value.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ClientSettings {
    pub name: Option<String>,
    pub tenant_id: Option<String>,
    pub password: Option<bool>,
    pub mfa_required: Option<bool>,
    pub sso: Option<bool>,
    pub jit: Option<bool>,
    pub domains: Option<String>,
    pub guests: Option<bool>,
    pub accent: Option<String>,
    #[serde(default)]
    pub totp_issuer: Option<String>,
    #[serde(default)]
    pub footer: Option<String>,
    /// A PNG or JPEG, base64; `Some("")` removes the logo.
    pub logo_base64: Option<String>,
    pub session_idle: Option<String>,
    pub session_absolute: Option<String>,
    pub enabled: Option<bool>,
}

/// The answer to one request.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AdminResponse {
    pub ok: bool,
    /// What to print for a person.
    pub text: String,
    /// What to print with `--json`.
    pub data: serde_json::Value,
}

impl AdminResponse {
    pub fn ok(text: impl Into<String>, data: serde_json::Value) -> AdminResponse {
        AdminResponse {
            ok: true,
            text: text.into(),
            data,
        }
    }

    pub fn error(text: impl Into<String>) -> AdminResponse {
        let text = text.into();
        AdminResponse {
            ok: false,
            data: serde_json::json!({ "error": text }),
            text,
        }
    }
}
