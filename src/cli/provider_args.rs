//! The command line's shape for sign-in providers and provisioning: `gatehouse idp …`,
//! `gatehouse sso …` and `gatehouse scim …` (clap derive). Nothing here runs anything.

use clap::{Subcommand, ValueEnum};

use super::values::OnOff;

#[derive(Debug, clap::Args)]
pub struct IdpOptions {
    /// The button reads "Sign in with NAME".
    #[arg(long)]
    pub name: Option<String>,
    /// `oidc`: the issuer URL (discovery at ISSUER/.well-known/openid-configuration).
    #[arg(long)]
    pub issuer: Option<String>,
    #[arg(long)]
    pub client_id: Option<String>,
    /// Read the client secret from standard input.
    #[arg(long)]
    pub client_secret_stdin: bool,
    /// The secret's expiry date, YYYY-MM-DD ("" clears it).
    #[arg(long)]
    pub secret_expires: Option<String>,
    /// Scopes, space-separated (default "openid profile email").
    #[arg(long)]
    pub scopes: Option<String>,
    /// Email domains allowed for just-in-time users, comma-separated ("" = any).
    #[arg(long)]
    pub domains: Option<String>,
    /// Email domains that email-first sign-in sends to this provider.
    #[arg(long)]
    pub routing_domains: Option<String>,
    /// Create users on first sign-in.
    #[arg(long, value_enum)]
    pub jit: Option<OnOff>,
    /// Only addresses with email_verified = true link or provision (default on).
    #[arg(long, value_enum)]
    pub require_verified_email: Option<OnOff>,
    /// A session only when the ID token proves MFA at the provider.
    #[arg(long, value_enum)]
    pub require_mfa: Option<OnOff>,
    /// `oidc`: acr values that count as MFA, comma-separated.
    #[arg(long)]
    pub mfa_acr_values: Option<String>,
    /// `entra`: the Conditional Access authentication context id (e.g. c1).
    #[arg(long)]
    pub auth_context: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum IdpCommand {
    /// The providers, in button order.
    List,
    /// One provider's settings (never the secret).
    Show { id: String },
    /// Add a provider (disabled until `idp enable`).
    Add {
        #[arg(long)]
        id: String,
        #[arg(long, default_value = "oidc")]
        kind: String,
        #[command(flatten)]
        options: IdpOptions,
    },
    /// Change a provider's settings.
    Set {
        id: String,
        #[command(flatten)]
        options: IdpOptions,
    },
    /// Remove an `oidc` provider.
    Remove { id: String },
    /// Test discovery, signing keys and the client credentials.
    Test { id: String },
    /// Offer the provider on the sign-in page.
    Enable { id: String },
    /// Stop offering the provider.
    Disable { id: String },
    /// Email-first sign-in: /login asks for the address and routes it by domain.
    EmailFirst {
        #[arg(value_enum)]
        state: OnOff,
    },
    /// A client's: the staff email-first sign-in may send its routing domains to
    /// its portal (off by default, since it reveals the client).
    Discoverable {
        #[arg(value_enum)]
        state: OnOff,
    },
    /// Move the provider's button up or down.
    Move {
        id: String,
        #[arg(value_enum)]
        direction: UpDown,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum UpDown {
    Up,
    Down,
}

#[derive(Debug, Subcommand)]
pub enum SsoCommand {
    /// Show the settings (never the secret).
    Show,
    /// Change settings; only the options given change.
    Set {
        /// Directory (tenant) ID, or a verified domain of the tenant.
        #[arg(long)]
        tenant_id: Option<String>,
        /// Application (client) ID of the app registration.
        #[arg(long)]
        client_id: Option<String>,
        /// Read the client secret value from standard input.
        #[arg(long)]
        client_secret_stdin: bool,
        /// The secret's expiry date, YYYY-MM-DD ("" clears it).
        #[arg(long)]
        secret_expires: Option<String>,
        /// Create users on first Microsoft sign-in.
        #[arg(long, value_enum)]
        jit: Option<OnOff>,
        /// Email domains allowed for just-in-time users, comma-separated ("" = any).
        #[arg(long)]
        domains: Option<String>,
        /// Let guest (B2B) accounts of the tenant sign in as staff (off by default).
        #[arg(long, value_enum)]
        guests: Option<OnOff>,
    },
    /// Turn Microsoft sign-in on.
    Enable,
    /// Turn Microsoft sign-in off.
    Disable,
    /// Test discovery, signing keys and the client secret against Microsoft.
    Test,
    /// Check linked users in Microsoft Graph now and disable leavers (staff, or one
    /// client's portal with --client).
    Sweep {
        #[arg(long)]
        client: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum ScimCommand {
    /// Manage the bearer tokens Entra's provisioning service uses.
    Token {
        #[command(subcommand)]
        command: ScimTokenCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum ScimTokenCommand {
    /// Make a token (printed once; paste it into Entra's "Secret Token").
    Create {
        /// A client's portal instead of the staff realm.
        #[arg(long)]
        client: Option<String>,
        /// What to call it.
        #[arg(long, default_value = "Entra provisioning")]
        label: String,
    },
    /// List tokens (never their secrets) with their last use.
    List {
        #[arg(long)]
        client: Option<String>,
    },
    /// Revoke a token by its id (from `list`); it stops working at once.
    Revoke {
        id: String,
        #[arg(long)]
        client: Option<String>,
    },
}
