//! Gatehouse's configuration (DESIGN §7): the validated form built from [`raw`].
//! Every mistake is reported at start-up with the key it concerns.

mod effective;
mod fields;
pub mod raw;
pub mod smtp;

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

use ipnet::IpNet;
use url::Url;

pub use effective::{Setting, SettingValue};
pub use fields::{DEFAULT_METRICS_LISTEN, parse_duration};
use fields::{
    cookie_domain, entra, host_name, log_level, metrics, parse_net, path, public_url, remote_user,
    session,
};
use raw::RawConfig;
pub use smtp::{SmtpConfig, SmtpPassword, SmtpSecurity};

/// The default Microsoft login host.
pub const DEFAULT_AUTHORITY_HOST: &str = "https://login.microsoftonline.com";
/// The default Microsoft Graph host (the leavers sweep).
pub const DEFAULT_GRAPH_HOST: &str = "https://graph.microsoft.com";
/// The default time between two Graph sweeps.
pub const DEFAULT_SWEEP_INTERVAL_SECS: i64 = 3600;

/// A configuration problem, naming the key.
#[derive(Debug, thiserror::Error)]
#[error("configuration key `{key}`: {message}")]
pub struct ConfigError {
    pub key: String,
    pub message: String,
}

impl ConfigError {
    fn new(key: &str, message: impl Into<String>) -> ConfigError {
        ConfigError {
            key: key.to_owned(),
            message: message.into(),
        }
    }
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// The validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub public_url: Url,
    pub data_dir: PathBuf,
    pub master_key_file: Option<PathBuf>,
    pub trusted_proxies: Vec<IpNet>,
    pub cookie_domain: Option<String>,
    pub session: SessionConfig,
    pub entra: EntraConfig,
    pub forward_auth: ForwardAuthConfig,
    pub tls: Option<TlsConfig>,
    pub log: LogConfig,
    pub metrics: MetricsConfig,
    /// `[smtp]`: where email goes out; `None` when email is off.
    pub smtp: Option<SmtpConfig>,
    /// The configuration file read, if any.
    pub file: Option<PathBuf>,
    /// `GATEHOUSE_` environment variables that name no key and were ignored (names
    /// only: their values may be anything).
    pub ignored_env: Vec<String>,
}

#[derive(Debug, Clone, Copy)]
pub struct SessionConfig {
    pub idle_timeout_secs: i64,
    pub absolute_timeout_secs: i64,
}

#[derive(Debug, Clone)]
pub struct EntraConfig {
    pub authority_host: Url,
    pub allow_insecure_loopback: bool,
    /// Microsoft Graph, for the leavers sweep (`entra.graph_host`).
    pub graph_host: Url,
    /// Seconds between two sweeps; 0 = only on demand (`entra.sweep_interval`).
    pub sweep_interval_secs: i64,
}

/// `[forward_auth]`: how protected apps are answered.
#[derive(Debug, Clone, Default)]
pub struct ForwardAuthConfig {
    /// Hosts sign-in may return to.
    pub allowed_hosts: Vec<String>,
    /// What the `Remote-User` header carries.
    pub remote_user: RemoteUser,
}

/// What the `Remote-User` identity header carries (`forward_auth.remote_user`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum RemoteUser {
    /// The user's id (a UUID): stable across email changes. The default.
    #[default]
    Id,
    /// The user's email address, for apps that take `Remote-User` as a login name.
    Email,
}

impl RemoteUser {
    /// The setting's value as written in the configuration.
    pub fn as_str(self) -> &'static str {
        match self {
            RemoteUser::Id => "id",
            RemoteUser::Email => "email",
        }
    }
}

#[derive(Debug, Clone)]
pub struct TlsConfig {
    pub cert: PathBuf,
    pub key: PathBuf,
}

#[derive(Debug, Clone)]
pub struct LogConfig {
    pub format: LogFormat,
    pub level: String,
}

/// `[metrics]`: where `/metrics` is served.
#[derive(Debug, Clone)]
pub struct MetricsConfig {
    /// The separate metrics listener.
    pub listen: SocketAddr,
    /// Whether `listen` is the default rather than the operator's choice: a default
    /// that cannot be bound (a second instance on the host) only warns.
    pub listen_is_default: bool,
    /// Whether `/metrics` is also served on the main listener.
    pub public: bool,
}

/// Values given on the command line, which win over file and environment.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub data_dir: Option<PathBuf>,
}

impl Config {
    /// Loads the file (the given one, else `./gatehouse.toml` if present), overlays the
    /// environment and `overrides`, and validates the result.
    pub fn load(
        file: Option<&Path>,
        env: impl Iterator<Item = (String, String)>,
        overrides: &Overrides,
    ) -> Result<Config, ConfigError> {
        let file = file.map(Path::to_path_buf).or_else(default_file);
        let mut table = match &file {
            Some(path) => read_file(path)?,
            None => toml::Table::new(),
        };
        smtp::refuse_password_in_file(&table)?;
        let ignored_env =
            raw::overlay_env(&mut table, env).map_err(|m| ConfigError::new("environment", m))?;
        if let Some(dir) = &overrides.data_dir {
            table.insert(
                "data_dir".into(),
                toml::Value::String(dir.to_string_lossy().into_owned()),
            );
        }
        let mut config = Config::from_table(table)?;
        config.file = file;
        config.ignored_env = ignored_env;
        Ok(config)
    }

    /// Validates a merged TOML table.
    pub fn from_table(table: toml::Table) -> Result<Config, ConfigError> {
        let raw: RawConfig =
            serde_path_to_error::deserialize(toml::Value::Table(table)).map_err(|e| {
                let path = e.path().to_string();
                let key = if path == "." {
                    "(top level)".to_owned()
                } else {
                    path
                };
                ConfigError::new(&key, e.into_inner().to_string())
            })?;
        Config::validate(raw)
    }

    fn validate(raw: RawConfig) -> Result<Config, ConfigError> {
        let listen_text = raw.listen.as_deref().unwrap_or("127.0.0.1:8080");
        let listen: SocketAddr = listen_text.parse().map_err(|_| {
            ConfigError::new(
                "listen",
                format!("`{listen_text}` is not an address like 127.0.0.1:8080"),
            )
        })?;
        let public_url = public_url(raw.public_url.as_deref(), listen)?;
        let data_dir = PathBuf::from(raw.data_dir.as_deref().unwrap_or("./data"));
        if data_dir.as_os_str().is_empty() {
            return Err(ConfigError::new("data_dir", "must not be empty"));
        }
        let trusted_proxies = raw
            .trusted_proxies
            .unwrap_or_default()
            .iter()
            .map(|p| {
                parse_net(p).ok_or_else(|| {
                    ConfigError::new(
                        "trusted_proxies",
                        format!("`{p}` is not an IP address or CIDR range"),
                    )
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let cookie_domain = raw
            .cookie_domain
            .map(|d| cookie_domain(&d, &public_url))
            .transpose()?;
        let session = session(raw.session.unwrap_or_default())?;
        let entra = entra(raw.entra.unwrap_or_default())?;
        let raw_forward_auth = raw.forward_auth.unwrap_or_default();
        let remote_user = remote_user(raw_forward_auth.remote_user.as_deref())?;
        let allowed_hosts = raw_forward_auth
            .allowed_hosts
            .unwrap_or_default()
            .into_iter()
            .map(|h| host_name(&h).ok_or_else(|| ConfigError::new("forward_auth.allowed_hosts", format!("`{h}` is not a host name (write `app.example.com`, without scheme or path)"))))
            .collect::<Result<Vec<_>, _>>()?;
        let tls = match raw.tls.unwrap_or_default() {
            raw::RawTls {
                cert: None,
                key: None,
            } => None,
            raw::RawTls {
                cert: Some(cert),
                key: Some(key),
            } => Some(TlsConfig {
                cert: path("tls.cert", cert)?,
                key: path("tls.key", key)?,
            }),
            raw::RawTls { cert: None, .. } => {
                return Err(ConfigError::new(
                    "tls.cert",
                    "is required when tls.key is set",
                ));
            }
            raw::RawTls { key: None, .. } => {
                return Err(ConfigError::new(
                    "tls.key",
                    "is required when tls.cert is set",
                ));
            }
        };
        let raw_log = raw.log.unwrap_or_default();
        let format = match raw_log.format.as_deref().unwrap_or("text") {
            "text" => LogFormat::Text,
            "json" => LogFormat::Json,
            other => {
                return Err(ConfigError::new(
                    "log.format",
                    format!("`{other}` is not `text` or `json`"),
                ));
            }
        };
        let level = log_level(raw_log.level.as_deref())?;
        let metrics = metrics(raw.metrics.unwrap_or_default(), listen)?;
        let smtp = smtp::smtp(raw.smtp)?;
        Ok(Config {
            listen,
            public_url,
            data_dir,
            master_key_file: raw
                .master_key_file
                .map(|p| path("master_key_file", p))
                .transpose()?,
            trusted_proxies,
            cookie_domain,
            session,
            entra,
            forward_auth: ForwardAuthConfig {
                allowed_hosts,
                remote_user,
            },
            tls,
            log: LogConfig { format, level },
            metrics,
            smtp,
            file: None,
            ignored_env: Vec::new(),
        })
    }

    /// Whether cookies must be `Secure` (and carry the `__Host-`/`__Secure-` prefix).
    pub fn is_https(&self) -> bool {
        self.public_url.scheme() == "https"
    }

    /// `public_url` without a trailing slash, for building links.
    pub fn base_url(&self) -> &str {
        self.public_url.as_str().trim_end_matches('/')
    }

    /// Whether `ip` is one of the trusted proxies.
    pub fn is_trusted_proxy(&self, ip: IpAddr) -> bool {
        self.trusted_proxies.iter().any(|net| net.contains(&ip))
    }
}

/// The configuration file used without `--config`: `./gatehouse.toml` if present;
/// for the packaged binary (installed under `/usr`), else the packaged
/// `/etc/gatehouse/gatehouse.toml`, so CLI commands on a package install need no flag.
fn default_file() -> Option<PathBuf> {
    let local = PathBuf::from("gatehouse.toml");
    if local.exists() {
        return Some(local);
    }
    let packaged = std::env::current_exe().is_ok_and(|exe| exe.starts_with("/usr/"));
    let system = PathBuf::from("/etc/gatehouse/gatehouse.toml");
    (packaged && system.exists()).then_some(system)
}

fn read_file(path: &Path) -> Result<toml::Table, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        ConfigError::new("--config", format!("cannot read {}: {e}", path.display()))
    })?;
    text.parse::<toml::Table>().map_err(|e| {
        ConfigError::new(
            "--config",
            format!("{} is not valid TOML: {e}", path.display()),
        )
    })
}

#[cfg(test)]
mod tests;
