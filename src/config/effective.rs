//! Every effective setting, key by key: what the file, the environment and the
//! defaults resolved to, for `check-config`. Key files appear as paths, never their
//! contents.

use super::Config;

/// One configuration key and its effective value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting {
    /// The key as written in the file (`session.idle_timeout`).
    pub key: &'static str,
    pub value: SettingValue,
}

/// A setting's value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SettingValue {
    Text(String),
    Flag(bool),
    List(Vec<String>),
    /// Not set; the text says what that means.
    Unset(&'static str),
}

impl std::fmt::Display for SettingValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SettingValue::Text(text) => f.write_str(text),
            SettingValue::Flag(on) => write!(f, "{on}"),
            SettingValue::List(items) if items.is_empty() => f.write_str("(none)"),
            SettingValue::List(items) => f.write_str(&items.join(", ")),
            SettingValue::Unset(meaning) => write!(f, "(not set: {meaning})"),
        }
    }
}

impl Config {
    /// Every key of [`super::raw::KNOWN_KEYS`] with its effective value, in that order.
    pub fn settings(&self) -> Vec<Setting> {
        use SettingValue::{Flag, List, Text, Unset};
        let path = |p: &std::path::Path| Text(p.display().to_string());
        let tls = self.tls.as_ref();
        let no_tls = "plain HTTP behind a TLS-terminating proxy";
        let settings = [
            ("listen", Text(self.listen.to_string())),
            ("public_url", Text(self.base_url().to_owned())),
            ("data_dir", path(&self.data_dir)),
            (
                "master_key_file",
                self.master_key_file.as_deref().map_or(
                    Unset("data_dir/master.key, or the systemd credential gatehouse.master-key"),
                    path,
                ),
            ),
            (
                "trusted_proxies",
                List(self.trusted_proxies.iter().map(|n| n.to_string()).collect()),
            ),
            (
                "cookie_domain",
                self.cookie_domain
                    .clone()
                    .map_or(Unset("host-only cookies"), Text),
            ),
            (
                "session.idle_timeout",
                Text(duration(self.session.idle_timeout_secs)),
            ),
            (
                "session.absolute_timeout",
                Text(duration(self.session.absolute_timeout_secs)),
            ),
            (
                "entra.authority_host",
                Text(
                    self.entra
                        .authority_host
                        .as_str()
                        .trim_end_matches('/')
                        .to_owned(),
                ),
            ),
            (
                "entra.allow_insecure_loopback",
                Flag(self.entra.allow_insecure_loopback),
            ),
            (
                "entra.graph_host",
                Text(
                    self.entra
                        .graph_host
                        .as_str()
                        .trim_end_matches('/')
                        .to_owned(),
                ),
            ),
            (
                "entra.sweep_interval",
                Text(if self.entra.sweep_interval_secs == 0 {
                    "0 (only on demand)".to_owned()
                } else {
                    duration(self.entra.sweep_interval_secs)
                }),
            ),
            (
                "forward_auth.allowed_hosts",
                List(self.forward_auth.allowed_hosts.clone()),
            ),
            (
                "forward_auth.remote_user",
                Text(self.forward_auth.remote_user.as_str().to_owned()),
            ),
            ("tls.cert", tls.map_or(Unset(no_tls), |t| path(&t.cert))),
            ("tls.key", tls.map_or(Unset(no_tls), |t| path(&t.key))),
            (
                "log.format",
                Text(
                    match self.log.format {
                        super::LogFormat::Text => "text",
                        super::LogFormat::Json => "json",
                    }
                    .to_owned(),
                ),
            ),
            ("log.level", Text(self.log.level.clone())),
            ("metrics.listen", Text(self.metrics.listen.to_string())),
            ("metrics.public", Flag(self.metrics.public)),
        ];
        let smtp = self.smtp.as_ref();
        let no_smtp = "email off; links are shown to copy";
        let smtp_settings = [
            (
                "smtp.host",
                smtp.map_or(Unset(no_smtp), |s| Text(s.host.clone())),
            ),
            (
                "smtp.port",
                smtp.map_or(Unset(no_smtp), |s| Text(s.port.to_string())),
            ),
            (
                "smtp.security",
                smtp.map_or(Unset(no_smtp), |s| Text(s.security.as_str().to_owned())),
            ),
            (
                "smtp.username",
                smtp.and_then(|s| s.username.clone())
                    .map_or(Unset("no authentication"), Text),
            ),
            (
                "smtp.password",
                // Never the value: only whether one is set.
                smtp.and_then(|s| s.password.as_ref())
                    .map_or(Unset("none"), |_| Text("(set)".to_owned())),
            ),
            (
                "smtp.password_file",
                smtp.and_then(|s| s.password_file.as_deref())
                    .map_or(Unset("none"), path),
            ),
            (
                "smtp.from",
                smtp.map_or(Unset(no_smtp), |s| Text(s.from.clone())),
            ),
        ];
        settings
            .into_iter()
            .chain(smtp_settings)
            .map(|(key, value)| Setting { key, value })
            .collect()
    }
}

/// Seconds as the configuration writes them: `30m`, `12h`, `1h30m`, `90s`.
fn duration(secs: i64) -> String {
    let mut rest = secs;
    let mut text = String::new();
    for (unit, size) in [("d", 86_400), ("h", 3600), ("m", 60), ("s", 1)] {
        if rest >= size {
            text.push_str(&format!("{}{unit}", rest / size));
            rest %= size;
        }
    }
    if text.is_empty() {
        text.push_str("0s");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::super::fields::parse_duration;
    use super::duration;

    #[test]
    fn durations_print_as_they_are_written() {
        for (secs, text) in [
            (1800, "30m"),
            (43_200, "12h"),
            (5400, "1h30m"),
            (90, "1m30s"),
        ] {
            assert_eq!(duration(secs), text);
            assert_eq!(parse_duration(text), Some(secs));
        }
        assert_eq!(duration(2 * 86_400), "2d");
    }
}
