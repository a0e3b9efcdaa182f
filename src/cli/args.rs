//! The command line's shape: every command, option and its help text (clap derive).
//! Nothing here runs anything.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

use super::provider_args::{IdpCommand, ScimCommand, SsoCommand};
use super::values::OnOff;

/// Gatehouse: staff and customer-portal sign-in with passwords, TOTP and Microsoft
/// Entra ID, in one binary.
#[derive(Debug, Parser)]
#[command(name = "gatehouse", version, about, long_about = None)]
pub struct Cli {
    /// Configuration file (default: ./gatehouse.toml if it exists; for the packaged
    /// binary, else /etc/gatehouse/gatehouse.toml).
    #[arg(long, global = true, env = "GATEHOUSE_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Data directory holding the store, master key and admin socket (default ./data;
    /// also GATEHOUSE_DATA_DIR).
    #[arg(long, global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Print machine-readable JSON instead of text.
    #[arg(long, global = true)]
    pub json: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server (prints a one-time setup link on first start).
    Serve,
    /// Manage staff administrators.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Manage users (staff, or a client's portal users with --client).
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// End sessions in bulk (staff, or a client's portal with --client).
    Sessions {
        #[command(subcommand)]
        command: SessionsCommand,
    },
    /// Show the audit log.
    Audit {
        /// Keep printing new events as they happen.
        #[arg(long)]
        follow: bool,
        /// How many recent events to show.
        #[arg(long, default_value_t = 50)]
        limit: usize,
    },
    /// Staff sign-in with Microsoft Entra ID.
    Sso {
        #[command(subcommand)]
        command: SsoCommand,
    },
    /// Identity providers of the staff realm, or of one client with --client.
    Idp {
        #[command(subcommand)]
        command: IdpCommand,
        /// The client (slug) whose providers to manage; staff without it.
        #[arg(long, global = true)]
        client: Option<String>,
    },
    /// Allow only Microsoft sign-in (staff-wide, or for one client with --client).
    /// `off` always works, even when Microsoft is unreachable.
    SsoOnly {
        #[arg(value_enum)]
        state: OnOff,
        #[arg(long)]
        client: Option<String>,
    },
    /// Offer "Sign in with a passkey" (no password) to staff, or to one client's
    /// portal with --client. Off by default; SSO-only still refuses passkeys.
    PasskeySignIn {
        #[arg(value_enum)]
        state: OnOff,
        #[arg(long)]
        client: Option<String>,
    },
    /// The business's multi-tenant Entra app for customer portals.
    PortalApp {
        #[command(subcommand)]
        command: PortalAppCommand,
    },
    /// The staff pages' organisation name and logo.
    Staff {
        #[command(subcommand)]
        command: super::staff_args::StaffCommand,
    },
    /// Clients (customer companies) and their portals.
    Client {
        #[command(subcommand)]
        command: ClientCommand,
    },
    /// SCIM provisioning (Entra's provisioning service): bearer tokens per realm.
    Scim {
        #[command(subcommand)]
        command: ScimCommand,
    },
    /// Check the configuration and print what it resolves to.
    CheckConfig,
    /// Write a consistent snapshot of the store to FILE, while the server runs or not.
    /// The master key is not in it: keep master.key, or use --with-key.
    Backup {
        /// The backup file to create (never overwritten).
        file: PathBuf,
        /// Also write the master key to this new file (mode 0600). Keep it apart from
        /// the backup.
        #[arg(long, value_name = "KEYFILE")]
        with_key: Option<PathBuf>,
    },
    /// Replace the store of a stopped server with a backup; the replaced store is kept
    /// as gatehouse.redb.bak.
    Restore {
        /// The backup file written by `gatehouse backup`.
        file: PathBuf,
        /// The master key saved with `backup --with-key`, when it is not the current
        /// one; it is installed as the master key.
        #[arg(long, value_name = "KEYFILE")]
        key: Option<PathBuf>,
    },
    /// Check configuration, files, store, accounts and clock; exit 1 on any error.
    Doctor,
    /// Ask the local server's /healthz; exit 0 when healthy (for container health checks).
    Healthcheck,
    /// Email through the configured [smtp] server.
    Mail {
        #[command(subcommand)]
        command: MailCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum MailCommand {
    /// Send a test email and report the mail server's answer.
    Test {
        /// The address to send it to.
        #[arg(long)]
        to: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum PortalAppCommand {
    /// Show the portal app registration (never the secret).
    Show,
    /// Change it; only the options given change.
    Set {
        #[arg(long)]
        client_id: Option<String>,
        /// Read the client secret value from standard input.
        #[arg(long)]
        client_secret_stdin: bool,
        /// YYYY-MM-DD ("" clears it).
        #[arg(long)]
        secret_expires: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum ClientCommand {
    /// List clients.
    List,
    /// Add a client (password + TOTP sign-in by default).
    Add {
        /// Short name: the portal lives at /p/<slug>.
        #[arg(long)]
        slug: String,
        #[arg(long)]
        name: String,
    },
    /// Show one client.
    Show { slug: String },
    /// Change a client's settings; only the options given change.
    Set {
        slug: String,
        #[arg(long)]
        name: Option<String>,
        /// The client's Entra Directory (tenant) ID ("" clears it).
        #[arg(long)]
        tenant_id: Option<String>,
        /// Email + password sign-in.
        #[arg(long, value_enum)]
        password: Option<OnOff>,
        /// Password users must use TOTP.
        #[arg(long, value_enum)]
        mfa_required: Option<OnOff>,
        /// Sign in with Microsoft.
        #[arg(long, value_enum)]
        sso: Option<OnOff>,
        /// Create users on first Microsoft sign-in.
        #[arg(long, value_enum)]
        jit: Option<OnOff>,
        /// Allowed email domains for new users, comma-separated ("" = any).
        #[arg(long)]
        domains: Option<String>,
        /// Guest accounts of the client's tenant may sign in.
        #[arg(long, value_enum)]
        guests: Option<OnOff>,
        /// Accent colour like #1f4e79 ("" = default).
        #[arg(long)]
        accent: Option<String>,
        /// The name authenticator apps show for this portal ("" = the client's name).
        #[arg(long)]
        totp_issuer: Option<String>,
        /// A line at the foot of every portal page ("" = none).
        #[arg(long)]
        footer: Option<String>,
        /// A PNG or JPEG logo of at most 64 KiB ("" removes it).
        #[arg(long, value_name = "FILE")]
        logo: Option<String>,
        /// Session idle timeout like 30m ("default" = the configured one).
        #[arg(long)]
        session_idle: Option<String>,
        /// Session lifetime like 12h ("default" = the configured one).
        #[arg(long)]
        session_absolute: Option<String>,
        /// Disable (off) or re-enable (on) the portal.
        #[arg(long, value_enum)]
        enabled: Option<OnOff>,
    },
    /// Remove a client with all its users, sessions and audit history.
    Remove { slug: String },
    /// Print the admin-consent link to send to the client's Entra admin.
    ConsentLink { slug: String },
    /// Test the client's tenant and the portal app's consent there.
    Test { slug: String },
}

/// A provider's settings on the command line; only the options given change.
#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create an active staff admin (they set up TOTP at first sign-in).
    Create {
        #[arg(long)]
        email: String,
        #[arg(long, default_value = "")]
        name: String,
        /// Read the password from standard input (required: never pass it as an argument).
        #[arg(long, required = true)]
        password_stdin: bool,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum RoleArg {
    Admin,
    Member,
}

impl RoleArg {
    pub fn as_str(self) -> &'static str {
        match self {
            RoleArg::Admin => "admin",
            RoleArg::Member => "member",
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// List users.
    List {
        #[arg(long)]
        client: Option<String>,
    },
    /// Show one user.
    Show {
        #[arg(long)]
        email: String,
        #[arg(long)]
        client: Option<String>,
    },
    /// Invite a user; prints the single-use invitation link.
    Invite {
        #[arg(long)]
        email: String,
        #[arg(long, default_value = "")]
        name: String,
        #[arg(long, value_enum, default_value = "member")]
        role: RoleArg,
        #[arg(long)]
        client: Option<String>,
    },
    /// Make a new invitation link for a user who has not accepted yet (printed, and
    /// emailed when email is on); the old link stops working.
    ResendInvite {
        #[arg(long)]
        email: String,
        #[arg(long)]
        client: Option<String>,
    },
    /// Make a password reset link for a user (printed, and emailed when email is on).
    /// Their authenticator is still asked for at the next sign-in.
    ResetPassword {
        #[arg(long)]
        email: String,
        #[arg(long)]
        client: Option<String>,
    },
    /// Disable a user and end their sessions.
    Disable {
        #[arg(long)]
        email: String,
        #[arg(long)]
        client: Option<String>,
    },
    /// Enable a disabled user.
    Enable {
        #[arg(long)]
        email: String,
        #[arg(long)]
        client: Option<String>,
    },
    /// Remove a user's authenticator and recovery codes (they enrol again).
    ResetMfa {
        #[arg(long)]
        email: String,
        #[arg(long)]
        client: Option<String>,
    },
    /// End all of a user's sessions.
    RevokeSessions {
        #[arg(long)]
        email: String,
        #[arg(long)]
        client: Option<String>,
    },
    /// Remove a user for good: their authenticator, recovery codes, linked Microsoft
    /// accounts, sessions and open invitation go too; the audit log keeps the event
    /// and the address can be invited again.
    Remove {
        #[arg(long)]
        email: String,
        #[arg(long)]
        client: Option<String>,
    },
    /// Change a user's email address (unique per realm, case-insensitive).
    SetEmail {
        #[arg(long)]
        email: String,
        #[arg(long)]
        new_email: String,
        #[arg(long)]
        client: Option<String>,
    },
    /// Change a staff user's role.
    SetRole {
        #[arg(long)]
        email: String,
        #[arg(long, value_enum)]
        role: RoleArg,
    },
    /// Mark a staff user as a break-glass account (password + TOTP still allowed
    /// under SSO-only).
    BreakGlass {
        #[arg(value_enum)]
        state: OnOff,
        #[arg(long)]
        email: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum SessionsCommand {
    /// End every session of the realm at once: everyone signs in again.
    Revoke {
        /// Required: every session of the realm (the only bulk revocation there is).
        #[arg(long, required = true)]
        all: bool,
        /// A client's portal instead of the staff realm.
        #[arg(long)]
        client: Option<String>,
    },
}
