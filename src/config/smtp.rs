//! `[smtp]` (DESIGN §11): the validated mail server settings. The password comes from
//! `password_file` or the `GATEHOUSE_SMTP__PASSWORD` environment variable, never from
//! the file itself or the command line, and its `Debug` prints `***`.

use std::net::IpAddr;
use std::path::PathBuf;

use super::ConfigError;
use super::raw::RawSmtp;

/// How the connection to the mail server is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpSecurity {
    /// Plain connection upgraded with STARTTLS, which is required (the default).
    StartTls,
    /// TLS from the first byte (usually port 465).
    Tls,
    /// No encryption: allowed only to a mail server on this machine (loopback).
    None,
}

impl SmtpSecurity {
    pub fn as_str(self) -> &'static str {
        match self {
            SmtpSecurity::StartTls => "starttls",
            SmtpSecurity::Tls => "tls",
            SmtpSecurity::None => "none",
        }
    }
}

/// The mail server password. `Debug` never prints it.
#[derive(Clone, PartialEq, Eq)]
pub struct SmtpPassword(String);

impl SmtpPassword {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for SmtpPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

/// `[smtp]`, validated.
#[derive(Debug, Clone)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    pub security: SmtpSecurity,
    pub username: Option<String>,
    pub password: Option<SmtpPassword>,
    /// Where the password was read from, when from a file (for `check-config`).
    pub password_file: Option<PathBuf>,
    /// The sender as written (`Name <address>` or `address`), checked to parse.
    pub from: String,
}

/// Whether `host` names this machine.
pub fn is_loopback(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    bare.eq_ignore_ascii_case("localhost")
        || bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Validates `[smtp]`; `None` when the section is absent (email is then off and every
/// link is shown to copy).
pub(super) fn smtp(raw: Option<RawSmtp>) -> Result<Option<SmtpConfig>, ConfigError> {
    let Some(raw) = raw else {
        return Ok(None);
    };
    let host = raw
        .host
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .ok_or_else(|| ConfigError::new("smtp.host", "is required in [smtp]"))?;
    if host.contains(['/', ' ', '@']) {
        return Err(ConfigError::new(
            "smtp.host",
            format!("`{host}` is not a host name"),
        ));
    }
    let security = match raw.security.as_deref().map(str::trim) {
        None | Some("starttls") => SmtpSecurity::StartTls,
        Some("tls") => SmtpSecurity::Tls,
        Some("none") => SmtpSecurity::None,
        Some(other) => {
            return Err(ConfigError::new(
                "smtp.security",
                format!("`{other}` is not `starttls`, `tls` or `none`"),
            ));
        }
    };
    if security == SmtpSecurity::None && !is_loopback(&host) {
        return Err(ConfigError::new(
            "smtp.security",
            "`none` sends mail unencrypted and is allowed only to a mail server on this machine (localhost); use `starttls` or `tls`",
        ));
    }
    let port = raw.port.unwrap_or(match security {
        SmtpSecurity::StartTls => 587,
        SmtpSecurity::Tls => 465,
        SmtpSecurity::None => 25,
    });
    if port == 0 {
        return Err(ConfigError::new("smtp.port", "must not be 0"));
    }
    let password_file = raw
        .password_file
        .map(|p| super::fields::path("smtp.password_file", p))
        .transpose()?;
    let password = match (&password_file, raw.password) {
        (Some(_), Some(_)) => {
            return Err(ConfigError::new(
                "smtp.password_file",
                "give either smtp.password_file or GATEHOUSE_SMTP__PASSWORD, not both",
            ));
        }
        (Some(path), None) => Some(read_password(path)?),
        (None, Some(text)) if !text.is_empty() => Some(SmtpPassword(text)),
        (None, _) => None,
    };
    let username = raw
        .username
        .map(|u| u.trim().to_owned())
        .filter(|u| !u.is_empty());
    if password.is_some() && username.is_none() {
        return Err(ConfigError::new(
            "smtp.username",
            "is required when a password is given",
        ));
    }
    if username.is_some() && password.is_none() {
        return Err(ConfigError::new(
            "smtp.password_file",
            "is required when smtp.username is set (or set GATEHOUSE_SMTP__PASSWORD)",
        ));
    }
    let from = raw
        .from
        .map(|f| f.trim().to_owned())
        .filter(|f| !f.is_empty())
        .ok_or_else(|| {
            ConfigError::new(
                "smtp.from",
                "is required in [smtp] (like `Gatehouse <login@example.com>`)",
            )
        })?;
    if from.parse::<lettre::message::Mailbox>().is_err() {
        return Err(ConfigError::new(
            "smtp.from",
            format!("`{from}` is not an address like `Gatehouse <login@example.com>`"),
        ));
    }
    Ok(Some(SmtpConfig {
        host,
        port,
        security,
        username,
        password,
        password_file,
        from,
    }))
}

fn read_password(path: &PathBuf) -> Result<SmtpPassword, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        ConfigError::new(
            "smtp.password_file",
            format!("cannot read {}: {e}", path.display()),
        )
    })?;
    let line = text.lines().next().unwrap_or_default();
    if line.is_empty() {
        return Err(ConfigError::new(
            "smtp.password_file",
            format!("{} is empty", path.display()),
        ));
    }
    Ok(SmtpPassword(line.to_owned()))
}

/// Refuses `smtp.password` written in the file itself: it belongs in a file of its own
/// or the environment, where it does not end up in backups of the configuration.
pub(super) fn refuse_password_in_file(table: &toml::Table) -> Result<(), ConfigError> {
    let written = table
        .get("smtp")
        .and_then(|s| s.as_table())
        .is_some_and(|s| s.contains_key("password"));
    if written {
        return Err(ConfigError::new(
            "smtp.password",
            "is not read from the configuration file; use smtp.password_file or the GATEHOUSE_SMTP__PASSWORD environment variable",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(host: &str, security: Option<&str>) -> RawSmtp {
        RawSmtp {
            host: Some(host.to_owned()),
            security: security.map(str::to_owned),
            from: Some("Gatehouse <login@example.com>".to_owned()),
            ..RawSmtp::default()
        }
    }

    #[test]
    fn plain_smtp_only_to_this_machine() {
        for host in ["localhost", "127.0.0.1", "::1", "[::1]"] {
            assert!(smtp(Some(raw(host, Some("none")))).is_ok(), "{host}");
        }
        let e = smtp(Some(raw("mail.example.com", Some("none")))).unwrap_err();
        assert_eq!(e.key, "smtp.security");
    }

    #[test]
    fn defaults_and_ports() {
        let c = smtp(Some(raw("mail.example.com", None))).unwrap().unwrap();
        assert_eq!((c.security, c.port), (SmtpSecurity::StartTls, 587));
        let c = smtp(Some(raw("mail.example.com", Some("tls"))))
            .unwrap()
            .unwrap();
        assert_eq!(c.port, 465);
        assert_eq!(
            smtp(Some(raw("mail.example.com", Some("ssl"))))
                .unwrap_err()
                .key,
            "smtp.security"
        );
    }

    #[test]
    fn the_password_never_prints() {
        let mut r = raw("mail.example.com", None);
        r.username = Some("gh".into());
        r.password = Some("hunter2-secret".into());
        let c = smtp(Some(r)).unwrap().unwrap();
        assert!(!format!("{c:?}").contains("hunter2"));
    }

    #[test]
    fn a_bad_sender_is_refused() {
        let mut r = raw("mail.example.com", None);
        r.from = Some("not an address".into());
        assert_eq!(smtp(Some(r)).unwrap_err().key, "smtp.from");
    }
}
