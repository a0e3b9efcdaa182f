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
    let e = load("", &[("GATEHOUSE_LISTN", "x")]).unwrap_err();
    assert!(e.to_string().contains("listn"), "{e}");
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
