//! Checks and parsers for single configuration values: each turns one raw key into
//! its validated form, or a [`ConfigError`] naming the key.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

use ipnet::IpNet;
use url::Url;

use super::raw;
use super::{
    ConfigError, DEFAULT_AUTHORITY_HOST, DEFAULT_GRAPH_HOST, DEFAULT_SWEEP_INTERVAL_SECS,
    EntraConfig, MetricsConfig, RemoteUser, SessionConfig,
};

fn is_loopback_host(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

pub(super) fn public_url(raw: Option<&str>, listen: SocketAddr) -> Result<Url, ConfigError> {
    let key = "public_url";
    let Some(text) = raw else {
        if !listen.ip().is_loopback() {
            return Err(ConfigError::new(
                key,
                "is required when `listen` is not a loopback address (set it to the URL users open, like https://login.example.com)",
            ));
        }
        return Url::parse(&format!("http://localhost:{}", listen.port()))
            .map_err(|e| ConfigError::new(key, e.to_string()));
    };
    let url = Url::parse(text).map_err(|_| {
        ConfigError::new(
            key,
            format!("`{text}` is not a URL like https://login.example.com"),
        )
    })?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(ConfigError::new(key, "must be an http(s) URL with a host"));
    }
    if url.scheme() == "http" && !is_loopback_host(&url) {
        return Err(ConfigError::new(
            key,
            "must use https (plain http is only allowed for localhost)",
        ));
    }
    if !url.username().is_empty()
        || url.password().is_some()
        || url.query().is_some()
        || url.fragment().is_some()
        || url.path() != "/"
    {
        return Err(ConfigError::new(
            key,
            "must be just scheme, host and optional port (no path, query or credentials)",
        ));
    }
    Ok(url)
}

pub(super) fn parse_net(text: &str) -> Option<IpNet> {
    let text = text.trim();
    text.parse::<IpNet>()
        .ok()
        .or_else(|| text.parse::<IpAddr>().ok().map(IpNet::from))
}

pub(super) fn host_name(text: &str) -> Option<String> {
    let host = text.trim().to_ascii_lowercase();
    let (name, port) = match host.rsplit_once(':') {
        Some((n, p)) if p.parse::<u16>().is_ok() => (n.to_owned(), Some(p)),
        _ => (host.clone(), None),
    };
    let valid = !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        });
    valid.then(|| match port {
        Some(p) => format!("{name}:{p}"),
        None => name,
    })
}

pub(super) fn cookie_domain(text: &str, public_url: &Url) -> Result<String, ConfigError> {
    let key = "cookie_domain";
    let domain = text.trim().trim_start_matches('.').to_ascii_lowercase();
    if host_name(&domain).is_none_or(|h| h.contains(':')) || !domain.contains('.') {
        return Err(ConfigError::new(
            key,
            format!("`{text}` is not a domain like example.com"),
        ));
    }
    let host = public_url
        .host_str()
        .unwrap_or_default()
        .to_ascii_lowercase();
    if host != domain && !host.ends_with(&format!(".{domain}")) {
        return Err(ConfigError::new(
            key,
            format!("`{domain}` must be the host of public_url ({host}) or a parent domain of it"),
        ));
    }
    Ok(domain)
}

pub(super) fn remote_user(raw: Option<&str>) -> Result<RemoteUser, ConfigError> {
    match raw.map(str::trim) {
        None | Some("id") => Ok(RemoteUser::Id),
        Some("email") => Ok(RemoteUser::Email),
        Some(other) => Err(ConfigError::new(
            "forward_auth.remote_user",
            format!("`{other}` is not `id` or `email`"),
        )),
    }
}

pub(super) fn session(raw: raw::RawSession) -> Result<SessionConfig, ConfigError> {
    let idle = match raw.idle_timeout {
        Some(t) => parse_duration(&t).ok_or_else(|| {
            ConfigError::new(
                "session.idle_timeout",
                format!("`{t}` is not a duration like 30m, 12h or 1h30m"),
            )
        })?,
        None => 30 * 60,
    };
    let absolute = match raw.absolute_timeout {
        Some(t) => parse_duration(&t).ok_or_else(|| {
            ConfigError::new(
                "session.absolute_timeout",
                format!("`{t}` is not a duration like 30m, 12h or 1h30m"),
            )
        })?,
        None => 12 * 60 * 60,
    };
    if idle < 60 {
        return Err(ConfigError::new(
            "session.idle_timeout",
            "must be at least 1m",
        ));
    }
    if absolute < idle {
        return Err(ConfigError::new(
            "session.absolute_timeout",
            "must not be shorter than session.idle_timeout",
        ));
    }
    if absolute > 366 * 24 * 3600 {
        return Err(ConfigError::new(
            "session.absolute_timeout",
            "must be at most 366d",
        ));
    }
    Ok(SessionConfig {
        idle_timeout_secs: idle,
        absolute_timeout_secs: absolute,
    })
}

pub(super) fn entra(raw: raw::RawEntra) -> Result<EntraConfig, ConfigError> {
    let allow_insecure_loopback = raw.allow_insecure_loopback.unwrap_or(false);
    let authority_host = microsoft_host(
        "entra.authority_host",
        raw.authority_host.as_deref(),
        DEFAULT_AUTHORITY_HOST,
        allow_insecure_loopback,
    )?;
    let graph_host = microsoft_host(
        "entra.graph_host",
        raw.graph_host.as_deref(),
        DEFAULT_GRAPH_HOST,
        allow_insecure_loopback,
    )?;
    let sweep_interval_secs = match raw.sweep_interval.as_deref() {
        None => DEFAULT_SWEEP_INTERVAL_SECS,
        Some(text) => match parse_duration(text) {
            Some(0) => 0,
            Some(secs) if secs >= 60 => secs,
            _ => {
                return Err(ConfigError::new(
                    "entra.sweep_interval",
                    format!(
                        "`{text}` is not a duration of at least a minute like 1h (or 0 for never)"
                    ),
                ));
            }
        },
    };
    Ok(EntraConfig {
        authority_host,
        allow_insecure_loopback,
        graph_host,
        sweep_interval_secs,
    })
}

/// A Microsoft host setting: scheme, host and optional port; https, or http on a
/// loopback address when `allow_insecure_loopback` is set (tests).
fn microsoft_host(
    key: &str,
    text: Option<&str>,
    default: &str,
    allow_insecure_loopback: bool,
) -> Result<Url, ConfigError> {
    let text = text.unwrap_or(default);
    let url = Url::parse(text)
        .map_err(|_| ConfigError::new(key, format!("`{text}` is not a URL like {default}")))?;
    if url.path() != "/"
        || url.query().is_some()
        || !url.username().is_empty()
        || url.host().is_none()
    {
        return Err(ConfigError::new(
            key,
            "must be just scheme, host and optional port",
        ));
    }
    match url.scheme() {
        "https" => {}
        "http" if is_loopback_host(&url) && allow_insecure_loopback => {}
        "http" if is_loopback_host(&url) => {
            return Err(ConfigError::new(
                key,
                "plain http is refused; for a test provider on loopback set entra.allow_insecure_loopback = true",
            ));
        }
        _ => {
            return Err(ConfigError::new(
                key,
                "must use https (http only for a loopback test provider with entra.allow_insecure_loopback = true)",
            ));
        }
    }
    Ok(url)
}

/// Parses `90s`, `30m`, `12h`, `2d` and combinations like `1h30m` into seconds.
pub fn parse_duration(text: &str) -> Option<i64> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    let mut total: i64 = 0;
    let mut number = String::new();
    for c in text.chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            _ => return None,
        };
        let n: i64 = number.parse().ok()?;
        total = total.checked_add(n.checked_mul(unit)?)?;
        number.clear();
    }
    number.is_empty().then_some(total)
}

/// The levels a `log.level` directive may name.
const LOG_LEVELS: [&str; 6] = ["off", "error", "warn", "info", "debug", "trace"];

/// `log.level`: comma-separated directives, each a level (`info`) or `target=level`
/// (`gatehouse=debug`). tracing would take any bare word as a target name and so
/// silence every other log line; a typo like `verbose` must not do that quietly.
pub(super) fn log_level(raw: Option<&str>) -> Result<String, ConfigError> {
    let key = "log.level";
    let text = raw.map_or("info", str::trim);
    let bad = |why: String| {
        ConfigError::new(
            key,
            format!(
                "`{text}` {why}; write a level (off, error, warn, info, debug, trace) or target=level, comma-separated, like `info` or `info,gatehouse=debug`"
            ),
        )
    };
    if text.is_empty() {
        return Err(bad("is empty".to_owned()));
    }
    for directive in text.split(',').map(str::trim) {
        let (target, level) = match directive.split_once('=') {
            Some((target, level)) => (Some(target.trim()), level.trim()),
            None => (None, directive),
        };
        if !LOG_LEVELS.contains(&level.to_ascii_lowercase().as_str()) {
            return Err(bad(format!("names no log level in `{directive}`")));
        }
        let target_ok = |t: &str| {
            !t.is_empty()
                && t.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b':' | b'-' | b'.'))
        };
        if target.is_some_and(|t| !target_ok(t)) {
            return Err(bad(format!(
                "has no module name before `=` in `{directive}`"
            )));
        }
    }
    if tracing_subscriber::EnvFilter::try_new(text).is_err() {
        return Err(bad("is not a log filter".to_owned()));
    }
    Ok(text.to_owned())
}

/// A path-valued key that is set: an empty one is a mistake, not "the default".
pub(super) fn path(key: &str, text: String) -> Result<PathBuf, ConfigError> {
    if text.trim().is_empty() {
        return Err(ConfigError::new(key, "must not be empty"));
    }
    Ok(PathBuf::from(text))
}

/// The default address of the separate metrics listener.
pub const DEFAULT_METRICS_LISTEN: &str = "127.0.0.1:9464";

pub(super) fn metrics(
    raw: raw::RawMetrics,
    listen: SocketAddr,
) -> Result<MetricsConfig, ConfigError> {
    let key = "metrics.listen";
    let text = raw.listen.as_deref().unwrap_or(DEFAULT_METRICS_LISTEN);
    let metrics_listen: SocketAddr = text.trim().parse().map_err(|_| {
        ConfigError::new(
            key,
            format!("`{text}` is not an address like {DEFAULT_METRICS_LISTEN}"),
        )
    })?;
    let overlaps = metrics_listen.port() == listen.port()
        && (metrics_listen.ip() == listen.ip()
            || metrics_listen.ip().is_unspecified()
            || listen.ip().is_unspecified());
    if overlaps {
        return Err(ConfigError::new(
            key,
            format!(
                "must differ from `listen` ({listen}); set metrics.public = true to serve /metrics on the main listener"
            ),
        ));
    }
    Ok(MetricsConfig {
        listen: metrics_listen,
        listen_is_default: raw.listen.is_none(),
        public: raw.public.unwrap_or(false),
    })
}
