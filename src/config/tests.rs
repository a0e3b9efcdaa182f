use super::*;

fn load(toml_text: &str, env: &[(&str, &str)]) -> Result<Config, ConfigError> {
    let mut table: toml::Table = toml_text.parse().unwrap();
    raw::overlay_env(
        &mut table,
        env.iter().map(|(k, v)| (k.to_string(), v.to_string())),
    )
    .map_err(|m| ConfigError::new("environment", m))?;
    Config::from_table(table)
}

#[test]
fn defaults_are_a_local_http_install() {
    let c = load("", &[]).unwrap();
    assert_eq!(c.listen.to_string(), "127.0.0.1:8080");
    assert_eq!(c.base_url(), "http://localhost:8080");
    assert_eq!(c.data_dir, PathBuf::from("./data"));
    assert_eq!(c.session.idle_timeout_secs, 1800);
    assert_eq!(c.session.absolute_timeout_secs, 43_200);
    assert_eq!(
        c.entra.authority_host.as_str(),
        "https://login.microsoftonline.com/"
    );
    assert!(!c.is_https());
}

#[test]
fn environment_overrides_the_file_and_nests_with_double_underscore() {
    let c = load(
        "listen = '127.0.0.1:9000'\n[session]\nidle_timeout = '10m'\n",
        &[
            ("GATEHOUSE_LISTEN", "127.0.0.1:9100"),
            ("GATEHOUSE_SESSION__IDLE_TIMEOUT", "1h30m"),
            ("GATEHOUSE_TRUSTED_PROXIES", "10.0.0.0/8, 127.0.0.1"),
            ("GATEHOUSE_ENTRA__ALLOW_INSECURE_LOOPBACK", "true"),
            ("GATEHOUSE_ENTRA__AUTHORITY_HOST", "http://127.0.0.1:5556"),
            ("GATEHOUSE_CONFIG", "ignored.toml"),
            ("OTHER", "ignored"),
        ],
    )
    .unwrap();
    assert_eq!(c.listen.port(), 9100);
    assert_eq!(c.session.idle_timeout_secs, 5400);
    assert_eq!(c.trusted_proxies.len(), 2);
    assert!(c.is_trusted_proxy("10.1.2.3".parse().unwrap()));
    assert!(!c.is_trusted_proxy("192.168.1.1".parse().unwrap()));
    assert!(c.entra.allow_insecure_loopback);
}

#[test]
fn unknown_keys_are_errors_naming_the_key() {
    let e = load("[session]\nidle_timeuot = '5m'\n", &[]).unwrap_err();
    assert_eq!(e.key, "session.idle_timeuot");
    assert!(e.to_string().contains("idle_timeuot"), "{e}");
}

#[test]
fn only_environment_variables_naming_a_key_are_configuration() {
    let mut table = toml::Table::new();
    let vars = [
        ("GATEHOUSE_PORT", "tcp://10.0.0.1:8080"),
        ("GATEHOUSE_E2E_BIN", "/tmp/gatehouse"),
        ("GATEHOUSE_LISTN", "x"),
        ("GATEHOUSE_SESSION", "x"),
        ("GATEHOUSE_SESSION__", "x"),
        ("GATEHOUSE_CONFIG", "gatehouse.toml"),
        ("GATEHOUSE_LOG__LEVEL", "debug"),
        ("GATEHOUSE_METRICS__PUBLIC", "true"),
        ("PATH", "/usr/bin"),
    ];
    let ignored = raw::overlay_env(
        &mut table,
        vars.iter().map(|(k, v)| (k.to_string(), v.to_string())),
    )
    .unwrap();
    assert_eq!(
        ignored,
        [
            "GATEHOUSE_E2E_BIN",
            "GATEHOUSE_LISTN",
            "GATEHOUSE_PORT",
            "GATEHOUSE_SESSION",
            "GATEHOUSE_SESSION__"
        ]
    );
    let c = Config::from_table(table).unwrap();
    assert_eq!(c.listen.port(), 8080);
    assert_eq!(c.log.level, "debug");
    assert!(c.metrics.public);
    // A known key with a bad value is still an error naming it.
    let e = load("", &[("GATEHOUSE_LISTEN", "tcp://10.0.0.1:8080")]).unwrap_err();
    assert_eq!(e.key, "listen");
}

/// Records the field names a `Deserialize` impl asks for, without any data.
struct FieldNames(std::cell::RefCell<Vec<&'static str>>);

impl<'de> serde::Deserializer<'de> for &FieldNames {
    type Error = serde::de::value::Error;

    fn deserialize_any<V: serde::de::Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
        Err(serde::de::Error::custom("not a struct"))
    }

    fn deserialize_struct<V: serde::de::Visitor<'de>>(
        self,
        _: &'static str,
        fields: &'static [&'static str],
        _: V,
    ) -> Result<V::Value, Self::Error> {
        self.0.borrow_mut().extend_from_slice(fields);
        Err(serde::de::Error::custom("fields recorded"))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes
        byte_buf option unit unit_struct newtype_struct seq tuple tuple_struct map enum
        identifier ignored_any
    }
}

fn fields_of<T: for<'de> serde::Deserialize<'de>>() -> Vec<&'static str> {
    let names = FieldNames(Default::default());
    let _ = T::deserialize(&names);
    names.0.into_inner()
}

#[test]
fn the_known_keys_are_exactly_the_keys_of_the_file() {
    let sections = [
        ("session", fields_of::<raw::RawSession>()),
        ("entra", fields_of::<raw::RawEntra>()),
        ("forward_auth", fields_of::<raw::RawForwardAuth>()),
        ("tls", fields_of::<raw::RawTls>()),
        ("log", fields_of::<raw::RawLog>()),
        ("metrics", fields_of::<raw::RawMetrics>()),
        ("smtp", fields_of::<raw::RawSmtp>()),
    ];
    let mut keys = Vec::new();
    for field in fields_of::<raw::RawConfig>() {
        match sections.iter().find(|(name, _)| *name == field) {
            Some((name, inner)) => keys.extend(inner.iter().map(|f| format!("{name}.{f}"))),
            None => keys.push(field.to_owned()),
        }
    }
    assert!(keys.len() > 10, "{keys:?}");
    assert_eq!(keys, raw::KNOWN_KEYS);
    let printed: Vec<&str> = load("", &[])
        .unwrap()
        .settings()
        .iter()
        .map(|s| s.key)
        .collect();
    assert_eq!(printed, raw::KNOWN_KEYS, "check-config prints every key");
}

#[test]
fn log_levels_are_levels_or_target_equals_level() {
    for good in [
        "info",
        "DEBUG",
        "off",
        "warn,gatehouse=debug",
        "gatehouse::http=trace, info",
    ] {
        assert!(
            load(&format!("[log]\nlevel = '{good}'"), &[]).is_ok(),
            "{good}"
        );
    }
    for bad in [
        "verbose",
        "",
        "info,verbose",
        "gatehouse=loud",
        "=debug",
        "info,",
        "gatehouse",
    ] {
        let e = load(&format!("[log]\nlevel = '{bad}'"), &[]).expect_err(bad);
        assert_eq!(e.key, "log.level", "{bad}: {e}");
    }
}

#[test]
fn metrics_are_on_their_own_loopback_listener_by_default() {
    let c = load("", &[]).unwrap();
    assert_eq!(c.metrics.listen.to_string(), "127.0.0.1:9464");
    assert!(c.metrics.listen_is_default);
    assert!(!c.metrics.public);
    let c = load("[metrics]\nlisten = '10.0.0.5:9100'\npublic = true", &[]).unwrap();
    assert_eq!(c.metrics.listen.to_string(), "10.0.0.5:9100");
    assert!(!c.metrics.listen_is_default);
    assert!(c.metrics.public);
    for clash in ["127.0.0.1:8080", "0.0.0.0:8080"] {
        let e = load(&format!("[metrics]\nlisten = '{clash}'"), &[]).expect_err(clash);
        assert_eq!(e.key, "metrics.listen");
    }
}

#[test]
fn bad_values_are_errors_naming_the_key() {
    let cases = [
        ("listen = 'nowhere'", "listen"),
        ("listen = '0.0.0.0:80'", "public_url"),
        ("public_url = 'http://login.example.com'", "public_url"),
        ("public_url = 'https://login.example.com/sub'", "public_url"),
        ("public_url = 'ftp://x'", "public_url"),
        ("trusted_proxies = ['10.0.0.0/33']", "trusted_proxies"),
        (
            "cookie_domain = 'other.com'\npublic_url = 'https://login.example.com'",
            "cookie_domain",
        ),
        ("[session]\nidle_timeout = '30'", "session.idle_timeout"),
        (
            "[session]\nidle_timeout = '2h'\nabsolute_timeout = '1h'",
            "session.absolute_timeout",
        ),
        (
            "[entra]\nauthority_host = 'http://login.example.com'",
            "entra.authority_host",
        ),
        (
            "[entra]\nauthority_host = 'http://127.0.0.1:9'",
            "entra.authority_host",
        ),
        (
            "[forward_auth]\nallowed_hosts = ['https://app.example.com/']",
            "forward_auth.allowed_hosts",
        ),
        (
            "[forward_auth]\nremote_user = 'login'",
            "forward_auth.remote_user",
        ),
        ("[tls]\ncert = 'c.pem'", "tls.key"),
        ("[log]\nformat = 'xml'", "log.format"),
        ("[metrics]\nlisten = 'x'", "metrics.listen"),
        ("[metrics]\npublic = 'yes'", "metrics.public"),
        ("[log]\nlevel = 'verbose'", "log.level"),
        ("master_key_file = ''", "master_key_file"),
        ("[tls]\ncert = ''\nkey = 'k.pem'", "tls.cert"),
        ("listen = 8080", "listen"),
    ];
    for (text, key) in cases {
        let e = load(text, &[]).expect_err(text);
        assert_eq!(e.key, key, "{text}: {e}");
    }
}

#[test]
fn https_install_with_cookie_domain_and_allowed_hosts() {
    let c = load(
        "listen = '0.0.0.0:8080'\npublic_url = 'https://login.example.com'\ncookie_domain = '.Example.com'\n[forward_auth]\nallowed_hosts = ['App.example.com', 'wiki.example.com:8443']\n",
        &[],
    )
    .unwrap();
    assert!(c.is_https());
    assert_eq!(c.cookie_domain.as_deref(), Some("example.com"));
    assert_eq!(
        c.forward_auth.allowed_hosts,
        vec!["app.example.com", "wiki.example.com:8443"]
    );
}

#[test]
fn remote_user_carries_the_id_unless_email_is_chosen() {
    assert_eq!(
        load("", &[]).unwrap().forward_auth.remote_user,
        RemoteUser::Id
    );
    let c = load("[forward_auth]\nremote_user = 'email'\n", &[]).unwrap();
    assert_eq!(c.forward_auth.remote_user, RemoteUser::Email);
    let c = load("", &[("GATEHOUSE_FORWARD_AUTH__REMOTE_USER", "email")]).unwrap();
    assert_eq!(c.forward_auth.remote_user, RemoteUser::Email);
}

#[test]
fn durations() {
    assert_eq!(parse_duration("90s"), Some(90));
    assert_eq!(parse_duration("1h30m"), Some(5400));
    assert_eq!(parse_duration("2d"), Some(172_800));
    for bad in ["", "30", "m", "1x", "-5m", "99999999999999999999d"] {
        assert_eq!(parse_duration(bad), None, "{bad}");
    }
}

#[test]
fn the_packaged_example_configuration_is_valid() {
    let text = include_str!("../../packaging/gatehouse.toml");
    let c = Config::from_table(text.parse().unwrap()).unwrap();
    assert_eq!(c.base_url(), "https://login.example.com");
    assert_eq!(c.data_dir, PathBuf::from("/var/lib/gatehouse"));
}
