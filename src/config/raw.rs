//! The configuration as written: TOML from the file, overlaid by `GATEHOUSE_*`
//! environment variables, overlaid by command-line flags. Unknown keys are errors.
//! `super::Config` is the validated form everything else uses.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer};

/// Settings read from `gatehouse.toml`, `GATEHOUSE_*` variables and flags.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    /// Address and port to listen on (default `127.0.0.1:8080`).
    pub listen: Option<String>,
    /// The URL users reach Gatehouse at; every link and redirect URI derives from it.
    pub public_url: Option<String>,
    /// Directory holding the store, the master key and the admin socket (default `./data`).
    pub data_dir: Option<String>,
    /// Where the master key is kept, if not `data_dir/master.key`.
    pub master_key_file: Option<String>,
    /// Proxies (IPs or CIDR ranges) whose `X-Forwarded-*` headers are believed.
    #[serde(default, deserialize_with = "list")]
    pub trusted_proxies: Option<Vec<String>>,
    /// Parent domain for the session cookie, so protected apps on subdomains see it.
    pub cookie_domain: Option<String>,
    pub session: Option<RawSession>,
    pub entra: Option<RawEntra>,
    pub forward_auth: Option<RawForwardAuth>,
    pub tls: Option<RawTls>,
    pub log: Option<RawLog>,
    pub metrics: Option<RawMetrics>,
    pub smtp: Option<RawSmtp>,
}

/// `[session]`
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSession {
    /// Inactivity that ends a session, like `30m` (default).
    pub idle_timeout: Option<String>,
    /// Longest a session lasts whatever the activity, like `12h` (default).
    pub absolute_timeout: Option<String>,
}

/// `[entra]`
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawEntra {
    /// Microsoft's login host (default `https://login.microsoftonline.com`); national
    /// clouds and tests use another.
    pub authority_host: Option<String>,
    /// Allows an `http://` authority on a loopback address; for tests only.
    pub allow_insecure_loopback: Option<bool>,
    /// Microsoft Graph (default `https://graph.microsoft.com`), for the leavers sweep;
    /// national clouds and tests use another.
    pub graph_host: Option<String>,
    /// How often the Graph sweep checks linked users, like `1h` (default); `0` = never
    /// on its own (`gatehouse sso sweep` still runs it).
    pub sweep_interval: Option<String>,
}

/// `[forward_auth]`
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawForwardAuth {
    /// Hosts (exact names, optionally `host:port`) that sign-in may return to.
    #[serde(default, deserialize_with = "list")]
    pub allowed_hosts: Option<Vec<String>>,
    /// What the `Remote-User` header carries: `id` (the user's id, a UUID; default) or
    /// `email` (for apps that take it as a login name).
    pub remote_user: Option<String>,
}

/// `[tls]`
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTls {
    /// PEM certificate chain for serving HTTPS directly.
    pub cert: Option<String>,
    /// PEM private key for `cert`.
    pub key: Option<String>,
}

/// `[log]`
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLog {
    /// `text` (default) or `json`.
    pub format: Option<String>,
    /// A tracing filter such as `info` (default) or `gatehouse=debug`.
    pub level: Option<String>,
}

/// `[metrics]`
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMetrics {
    /// The separate address `/metrics` is served on (default `127.0.0.1:9464`); keep it
    /// on an internal interface.
    pub listen: Option<String>,
    /// Also serve `/metrics` on the main listener (default `false`: the numbers say
    /// who signs in when, which is nobody else's business).
    pub public: Option<bool>,
}

/// `[smtp]`: the mail server Gatehouse sends invitations, reset links and security
/// notices through.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSmtp {
    /// The mail server's host name (required to send email).
    pub host: Option<String>,
    /// Its port (default 587 for `starttls`, 465 for `tls`, 25 for `none`).
    #[serde(default, deserialize_with = "port")]
    pub port: Option<u16>,
    /// `starttls` (default), `tls` (implicit TLS) or `none` (only to a loopback host).
    pub security: Option<String>,
    /// The user name to authenticate with, if the server wants one.
    pub username: Option<String>,
    /// The password, from the environment (`GATEHOUSE_SMTP__PASSWORD`) only: the file
    /// names a `password_file` instead.
    pub password: Option<String>,
    /// A file holding the password (its first line).
    pub password_file: Option<String>,
    /// The sender, like `Gatehouse <login@example.com>`.
    pub from: Option<String>,
}

/// Accepts a port as a TOML integer or a string (environment variables are strings).
fn port<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u16>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum PortValue {
        Number(u16),
        Text(String),
    }
    match PortValue::deserialize(d)? {
        PortValue::Number(n) => Ok(Some(n)),
        PortValue::Text(t) => t
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| serde::de::Error::custom(format!("`{t}` is not a port number"))),
    }
}

/// Accepts a TOML list or a comma-separated string (handy in environment variables).
fn list<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<String>>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum ListOrString {
        List(Vec<String>),
        String(String),
    }
    Ok(Some(match ListOrString::deserialize(d)? {
        ListOrString::List(v) => v,
        ListOrString::String(s) => s
            .split(',')
            .map(|p| p.trim().to_owned())
            .filter(|p| !p.is_empty())
            .collect(),
    }))
}

/// Every configuration key, as written in the file (sections joined with `.`). An
/// environment variable is configuration only when it names one of these.
pub const KNOWN_KEYS: &[&str] = &[
    "listen",
    "public_url",
    "data_dir",
    "master_key_file",
    "trusted_proxies",
    "cookie_domain",
    "session.idle_timeout",
    "session.absolute_timeout",
    "entra.authority_host",
    "entra.allow_insecure_loopback",
    "entra.graph_host",
    "entra.sweep_interval",
    "forward_auth.allowed_hosts",
    "forward_auth.remote_user",
    "tls.cert",
    "tls.key",
    "log.format",
    "log.level",
    "metrics.listen",
    "metrics.public",
    "smtp.host",
    "smtp.port",
    "smtp.security",
    "smtp.username",
    "smtp.password",
    "smtp.password_file",
    "smtp.from",
];

/// `GATEHOUSE_` variables the command line reads itself (clap `env`): neither
/// configuration nor worth a warning.
const COMMAND_LINE_VARS: &[&str] = &["GATEHOUSE_CONFIG"];

/// Puts each `GATEHOUSE_A__B=value` that names a known key into `table` as
/// `a.b = value`. Values that look like TOML booleans or arrays are parsed as such;
/// everything else is a string. Returns the names of the other `GATEHOUSE_` variables
/// (Kubernetes injects `GATEHOUSE_PORT` for a Service named gatehouse; test harnesses
/// have their own), which are not configuration and are left alone.
pub fn overlay_env(
    table: &mut toml::Table,
    vars: impl Iterator<Item = (String, String)>,
) -> Result<Vec<String>, String> {
    let vars: BTreeMap<String, String> = vars
        .filter(|(k, _)| k.starts_with("GATEHOUSE_") && !COMMAND_LINE_VARS.contains(&k.as_str()))
        .collect();
    let mut ignored = Vec::new();
    for (name, value) in vars {
        let path: Vec<String> = name["GATEHOUSE_".len()..]
            .split("__")
            .map(|p| p.to_ascii_lowercase())
            .collect();
        if !KNOWN_KEYS.contains(&path.join(".").as_str()) {
            ignored.push(name);
            continue;
        }
        let value = env_value(&value);
        set_path(table, &path, value).map_err(|e| format!("environment variable {name}: {e}"))?;
    }
    Ok(ignored)
}

fn env_value(raw: &str) -> toml::Value {
    let trimmed = raw.trim();
    if (trimmed == "true" || trimmed == "false" || trimmed.starts_with('['))
        && let Ok(parsed) = format!("v = {trimmed}").parse::<toml::Table>()
        && let Some(v) = parsed.get("v")
    {
        return v.clone();
    }
    toml::Value::String(raw.to_owned())
}

/// Sets `a.b.c = value`, creating tables on the way.
pub fn set_path(
    table: &mut toml::Table,
    path: &[String],
    value: toml::Value,
) -> Result<(), String> {
    let Some((last, parents)) = path.split_last() else {
        return Ok(());
    };
    let mut current = table;
    for part in parents {
        let entry = current
            .entry(part.clone())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        current = entry
            .as_table_mut()
            .ok_or_else(|| format!("`{part}` is a value, not a section"))?;
    }
    current.insert(last.clone(), value);
    Ok(())
}
