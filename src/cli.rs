//! The command line (DESIGN §6). Management commands go to a running server over its
//! admin socket, or — when none runs — open the store directly; both paths execute
//! the same `admin_api` requests. Secrets are read from standard input, never argv.

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};

use crate::admin_api::{
    AdminRequest, AdminResponse, ClientSettings, SOCKET_FILE_NAME, execute, socket,
};
use crate::app::{self, OpenError};
use crate::config::{Config, Overrides};
use crate::ops;

/// Gatehouse: staff and customer-portal sign-in with passwords, TOTP and Microsoft
/// Entra ID, in one binary.
#[derive(Debug, Parser)]
#[command(name = "gatehouse", version, about, long_about = None)]
pub struct Cli {
    /// Configuration file (default: ./gatehouse.toml if it exists).
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
    /// Allow only Microsoft sign-in (staff-wide, or for one client with --client).
    /// `off` always works, even when Microsoft is unreachable.
    SsoOnly {
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
    /// Clients (customer companies) and their portals.
    Client {
        #[command(subcommand)]
        command: ClientCommand,
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
        /// A PNG or JPEG logo of at most 64 KiB ("" removes it).
        #[arg(long, value_name = "FILE")]
        logo: Option<PathBuf>,
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
    },
    /// Turn Microsoft sign-in on.
    Enable,
    /// Turn Microsoft sign-in off.
    Disable,
    /// Test discovery, signing keys and the client secret against Microsoft.
    Test,
}

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
pub enum OnOff {
    On,
    Off,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum RoleArg {
    Admin,
    Member,
}

impl RoleArg {
    fn as_str(self) -> &'static str {
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

/// Runs the CLI; the exit code is 0 on success, 1 when a command failed, 2 for
/// configuration errors.
pub fn run() -> ExitCode {
    let cli = Cli::parse();
    let overrides = Overrides {
        data_dir: cli.data_dir.clone(),
    };
    let config = match Config::load(cli.config.as_deref(), std::env::vars(), &overrides) {
        Ok(c) => c,
        Err(e) if matches!(cli.command, Command::Doctor) => {
            return crate::ops::doctor::config_failed(&e, cli.json);
        }
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    match dispatch(cli, config) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}

fn dispatch(cli: Cli, config: Config) -> anyhow::Result<ExitCode> {
    let json = cli.json;
    let request = match cli.command {
        Command::Serve => {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()?;
            runtime.block_on(app::serve(config))?;
            return Ok(ExitCode::SUCCESS);
        }
        Command::CheckConfig => return Ok(check_config(&config, json)),
        Command::Backup { file, with_key } => {
            return ops::backup::run(&config, &file, with_key.as_deref(), json);
        }
        Command::Restore { file, key } => {
            return ops::restore::run(&config, &file, key.as_deref(), json);
        }
        Command::Doctor => return ops::doctor::run(&config, json),
        Command::Healthcheck => return ops::healthcheck::run(&config),
        Command::Audit { follow, limit } => {
            return follow_audit(&config, json, follow, limit);
        }
        Command::Admin {
            command:
                AdminCommand::Create {
                    email,
                    name,
                    password_stdin: _,
                },
        } => AdminRequest::AdminCreate {
            email,
            name,
            password: read_secret("password")?,
        },
        Command::User { command } => user_request(command),
        Command::Sso { command } => sso_request(command)?,
        Command::SsoOnly { state, client } => AdminRequest::SsoOnly {
            on: matches!(state, OnOff::On),
            client,
        },
        Command::PortalApp { command } => match command {
            PortalAppCommand::Show => AdminRequest::PortalAppShow,
            PortalAppCommand::Set {
                client_id,
                client_secret_stdin,
                secret_expires,
            } => AdminRequest::PortalAppSet {
                client_id,
                client_secret: if client_secret_stdin {
                    Some(read_secret("client secret")?)
                } else {
                    None
                },
                secret_expires,
            },
        },
        Command::Client { command } => client_request(command)?,
    };
    let response = perform(&config, &request)?;
    Ok(print(&response, json))
}

fn user_request(command: UserCommand) -> AdminRequest {
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
        UserCommand::Enable { email, client } => AdminRequest::UserEnable { email, client },
        UserCommand::ResetMfa { email, client } => AdminRequest::UserResetMfa { email, client },
        UserCommand::RevokeSessions { email, client } => {
            AdminRequest::UserRevokeSessions { email, client }
        }
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

fn sso_request(command: SsoCommand) -> anyhow::Result<AdminRequest> {
    Ok(match command {
        SsoCommand::Show => AdminRequest::SsoShow,
        SsoCommand::Set {
            tenant_id,
            client_id,
            client_secret_stdin,
            secret_expires,
            jit,
            domains,
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
        },
        SsoCommand::Enable => AdminRequest::SsoEnable,
        SsoCommand::Disable => AdminRequest::SsoDisable,
        SsoCommand::Test => AdminRequest::SsoTest,
    })
}

fn on(value: Option<OnOff>) -> Option<bool> {
    value.map(|v| matches!(v, OnOff::On))
}

fn client_request(command: ClientCommand) -> anyhow::Result<AdminRequest> {
    use base64::Engine;
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
            logo,
            session_idle,
            session_absolute,
            enabled,
        } => {
            let logo_base64 = match logo {
                None => None,
                Some(path) if path.as_os_str().is_empty() => Some(String::new()),
                Some(path) => {
                    let bytes = std::fs::read(&path)
                        .with_context(|| format!("while reading the logo {}", path.display()))?;
                    if bytes.len() > crate::domain::client::LOGO_LIMIT {
                        anyhow::bail!("the logo {} is larger than 64 KiB", path.display());
                    }
                    Some(base64::engine::general_purpose::STANDARD.encode(bytes))
                }
            };
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
fn read_secret(what: &str) -> anyhow::Result<String> {
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

/// Sends `request` to the running server, or executes it on the store directly.
pub fn perform(config: &Config, request: &AdminRequest) -> anyhow::Result<AdminResponse> {
    let socket_path = config.data_dir.join(SOCKET_FILE_NAME);
    if let Some(response) = socket::send(&socket_path, request)
        .with_context(|| format!("while talking to the server on {}", socket_path.display()))?
    {
        return Ok(response);
    }
    let services = match app::open_services(config) {
        Ok(s) => s,
        Err(OpenError::InUse) => anyhow::bail!(
            "the store is in use by a running server, but its admin socket {} does not answer",
            socket_path.display()
        ),
        Err(OpenError::Other(e)) => return Err(e),
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    Ok(runtime.block_on(execute::execute(&services, request.clone())))
}

fn print(response: &AdminResponse, json: bool) -> ExitCode {
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&response.data).unwrap_or_default()
        );
    } else if response.ok {
        if !response.text.is_empty() {
            println!("{}", response.text);
        }
    } else {
        eprintln!("error: {}", response.text);
    }
    if response.ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn follow_audit(
    config: &Config,
    json: bool,
    follow: bool,
    limit: usize,
) -> anyhow::Result<ExitCode> {
    let first = perform(config, &AdminRequest::Audit { limit, after: None })?;
    let code = print(&first, json);
    if !follow || !first.ok {
        return Ok(code);
    }
    let mut last = first
        .data
        .as_array()
        .and_then(|events| events.iter().filter_map(|e| e["seq"].as_u64()).max())
        .unwrap_or(0);
    loop {
        std::thread::sleep(Duration::from_secs(1));
        let next = perform(
            config,
            &AdminRequest::Audit {
                limit: 1000,
                after: Some(last),
            },
        )?;
        if !next.ok {
            return Ok(print(&next, json));
        }
        if let Some(events) = next.data.as_array()
            && !events.is_empty()
        {
            last = events
                .iter()
                .filter_map(|e| e["seq"].as_u64())
                .max()
                .unwrap_or(last);
            print(&next, json);
        }
    }
}

fn check_config(config: &Config, json: bool) -> ExitCode {
    let mut problems = Vec::new();
    if let Some(tls) = &config.tls {
        for (key, path) in [("tls.cert", &tls.cert), ("tls.key", &tls.key)] {
            if std::fs::metadata(path).is_err() {
                problems.push(format!(
                    "configuration key `{key}`: cannot read {}",
                    path.display()
                ));
            }
        }
    }
    if json {
        let value = serde_json::json!({
            "ok": problems.is_empty(),
            "problems": problems,
            "listen": config.listen.to_string(),
            "public_url": config.base_url(),
            "data_dir": config.data_dir.display().to_string(),
        });
        println!(
            "{}",
            serde_json::to_string_pretty(&value).unwrap_or_default()
        );
    } else if problems.is_empty() {
        println!("configuration OK");
        println!("  listen:      {}", config.listen);
        println!("  public_url:  {}", config.base_url());
        println!("  data_dir:    {}", config.data_dir.display());
        println!(
            "  sessions:    idle {}s, absolute {}s",
            config.session.idle_timeout_secs, config.session.absolute_timeout_secs
        );
        println!("  entra:       {}", config.entra.authority_host);
    } else {
        for p in &problems {
            eprintln!("error: {p}");
        }
    }
    if problems.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    }
}
