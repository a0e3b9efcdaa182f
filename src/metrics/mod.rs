//! Prometheus metrics (`GET /metrics`): the counters, gauges and histograms Gatehouse
//! exports, kept in a `prometheus-client` registry and rendered in the Prometheus text
//! exposition format (version 0.0.4) by that crate. Recording a counter is an atomic
//! addition and a histogram observation a short uncontended lock; labelled series are
//! found under a read lock released at once (never held across an await), and label
//! values come from closed sets chosen by the code (route *patterns*, known methods,
//! enums), never from raw request data, so cardinality stays bounded and no token in a
//! URL reaches the output.
//!
//! One [`Metrics`] lives in `Services`; nothing here knows HTTP or the store.
//!
//! | metric | type | labels |
//! |---|---|---|
//! | `gatehouse_logins_total` | counter | `realm`, `method`, `outcome` |
//! | `gatehouse_throttled_total` | counter | |
//! | `gatehouse_active_sessions` | gauge | |
//! | `gatehouse_sso_errors_total` | counter | `reason` |
//! | `gatehouse_forward_auth_decisions_total` | counter | `decision` |
//! | `gatehouse_http_request_duration_seconds` | histogram | `route`, `method`, `status` |
//! | `gatehouse_store_commit_seconds` | histogram | |
//! | `gatehouse_build_info` | gauge (1) | `version` |

mod labels;

use std::borrow::Cow;
use std::time::Duration;

use prometheus_client::encoding::prometheus_text;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::Registry;

use crate::domain::user::Realm;
use labels::{
    DecisionLabel, Declared, HttpLabels, LoginLabels, ReasonLabel, ScrapedGauge, known_method,
};

/// How a sign-in step authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LoginMethod {
    Password,
    Totp,
    RecoveryCode,
    Sso,
    Passkey,
}

impl LoginMethod {
    const ALL: [LoginMethod; 5] = [
        LoginMethod::Password,
        LoginMethod::Totp,
        LoginMethod::RecoveryCode,
        LoginMethod::Sso,
        LoginMethod::Passkey,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            LoginMethod::Password => "password",
            LoginMethod::Totp => "totp",
            LoginMethod::RecoveryCode => "recovery_code",
            LoginMethod::Sso => "sso",
            LoginMethod::Passkey => "passkey",
        }
    }
}

/// Whether a sign-in step succeeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LoginOutcome {
    Success,
    Failure,
}

impl LoginOutcome {
    const ALL: [LoginOutcome; 2] = [LoginOutcome::Success, LoginOutcome::Failure];

    pub fn as_str(self) -> &'static str {
        match self {
            LoginOutcome::Success => "success",
            LoginOutcome::Failure => "failure",
        }
    }
}

/// The `Content-Type` of what [`Metrics::render`] writes: the Prometheus text format,
/// version 0.0.4.
pub const CONTENT_TYPE: &str = prometheus_text::CONTENT_TYPE;

/// Upper bounds (seconds) of the HTTP latency buckets.
const HTTP_BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];
/// Upper bounds (seconds) of the store commit buckets (an fsync each).
const COMMIT_BUCKETS: [f64; 11] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
];

// Names as registered: the encoder appends `_total` to counters and `_info` to the
// build info, which gives the served names in the table above. Help texts get a
// final full stop from the registry.
const BUILD: &str = "gatehouse_build";
const BUILD_HELP: &str = "The running Gatehouse version (always 1)";
const LOGINS: &str = "gatehouse_logins";
const LOGINS_HELP: &str = "Sign-in steps by realm (staff or client:<id>), method (password, totp, recovery_code, sso) and outcome (success, failure)";
const THROTTLED: &str = "gatehouse_throttled";
const THROTTLED_HELP: &str = "Sign-in attempts refused by failed-attempt throttling (answered 429)";
const ACTIVE_SESSIONS: &str = "gatehouse_active_sessions";
const ACTIVE_SESSIONS_HELP: &str =
    "Sessions in the store, including half-finished sign-ins and expired ones not purged yet";
const SSO_ERRORS: &str = "gatehouse_sso_errors";
const SSO_ERRORS_HELP: &str = "Single sign-on failures by reason";
const FORWARD_AUTH: &str = "gatehouse_forward_auth_decisions";
const FORWARD_AUTH_HELP: &str = "Forward-auth answers by decision";
const HTTP: &str = "gatehouse_http_request_duration_seconds";
const HTTP_HELP: &str = "HTTP request latency by route pattern, method and status";
const STORE_COMMIT: &str = "gatehouse_store_commit_seconds";
const STORE_COMMIT_HELP: &str =
    "Time to commit a store write transaction durably (including fsync)";

/// Every metric Gatehouse exports.
pub struct Metrics {
    /// Everything counted, for rendering; the fields below are handles to the same
    /// series (each metric is an `Arc` inside).
    registry: Registry,
    logins: Family<LoginLabels, Counter>,
    throttled: Counter,
    sso_errors: Family<ReasonLabel, Counter>,
    forward_auth: Family<DecisionLabel, Counter>,
    http: Family<HttpLabels, Histogram, fn() -> Histogram>,
    store_commit: Histogram,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

/// Values read at scrape time rather than counted.
#[derive(Debug, Clone, Copy, Default)]
pub struct Gauges {
    /// Rows of the sessions table, when the store could be read.
    pub active_sessions: Option<u64>,
}

fn http_histogram() -> Histogram {
    Histogram::new(HTTP_BUCKETS)
}

impl Metrics {
    /// Every metric registered, the staff login series at 0.
    pub fn new() -> Metrics {
        let logins = Family::default();
        let throttled = Counter::default();
        let sso_errors = Family::default();
        let forward_auth = Family::default();
        let http = Family::new_with_constructor(http_histogram as fn() -> Histogram);
        let store_commit = Histogram::new(COMMIT_BUCKETS);

        let mut registry = Registry::default();
        let version = Info::new([("version", env!("CARGO_PKG_VERSION"))]);
        registry.register(BUILD, BUILD_HELP, version);
        registry.register(LOGINS, LOGINS_HELP, Declared(logins.clone()));
        registry.register(THROTTLED, THROTTLED_HELP, throttled.clone());
        registry.register(SSO_ERRORS, SSO_ERRORS_HELP, Declared(sso_errors.clone()));
        registry.register(
            FORWARD_AUTH,
            FORWARD_AUTH_HELP,
            Declared(forward_auth.clone()),
        );
        registry.register(HTTP, HTTP_HELP, Declared(http.clone()));
        registry.register(STORE_COMMIT, STORE_COMMIT_HELP, store_commit.clone());

        let metrics = Metrics {
            registry,
            logins,
            throttled,
            sso_errors,
            forward_auth,
            http,
            store_commit,
        };
        // Staff series exist from the start (at 0), so rates work before the first login.
        metrics.declare_realm(Realm::Staff);
        metrics
    }

    /// Counts one sign-in step.
    pub fn login(&self, realm: Realm, method: LoginMethod, outcome: LoginOutcome) {
        let labels = LoginLabels {
            realm,
            method,
            outcome,
        };
        if let Some(counter) = self.logins.get(&labels) {
            counter.inc();
            return;
        }
        self.declare_realm(realm);
        self.logins.get_or_create(&labels).inc();
    }

    /// Creates every (method, outcome) series of a realm at 0, so a realm that has
    /// signed anyone in shows all its series.
    fn declare_realm(&self, realm: Realm) {
        for method in LoginMethod::ALL {
            for outcome in LoginOutcome::ALL {
                let labels = LoginLabels {
                    realm,
                    method,
                    outcome,
                };
                drop(self.logins.get_or_create(&labels));
            }
        }
    }

    /// Counts an attempt refused because of failed-attempt throttling (a 429).
    pub fn throttled(&self) {
        self.throttled.inc();
    }

    /// Counts an SSO failure; `reason` is a short fixed identifier chosen by the caller
    /// (`bad_state`, `unreachable`, `not_verified`, `not_registered`…; see
    /// `service::observe`), never text from a provider.
    pub fn sso_error(&self, reason: &'static str) {
        self.sso_errors.get_or_create(&ReasonLabel { reason }).inc();
    }

    /// Counts a forward-auth answer; `decision` is a fixed identifier (`allow`,
    /// `sign_in`, `forbidden`, `unknown_realm`).
    pub fn forward_auth_decision(&self, decision: &'static str) {
        self.forward_auth
            .get_or_create(&DecisionLabel { decision })
            .inc();
    }

    /// Records one HTTP request by route pattern (never the raw path), method and status.
    pub fn http_request(
        &self,
        route: Cow<'static, str>,
        method: &str,
        status: u16,
        took: Duration,
    ) {
        let labels = HttpLabels {
            route,
            method: known_method(method),
            status,
        };
        self.http.get_or_create(&labels).observe(took.as_secs_f64());
    }

    /// Records one store commit.
    pub fn store_commit(&self, took: Duration) {
        self.store_commit.observe(took.as_secs_f64());
    }

    /// A closure for `Store::observe_commits` feeding the commit histogram.
    pub fn commit_observer(&self) -> Box<dyn Fn(Duration) + Send + Sync> {
        let histogram = self.store_commit.clone();
        Box::new(move |took| histogram.observe(took.as_secs_f64()))
    }

    /// Everything in the Prometheus text format (version 0.0.4).
    pub fn render(&self, gauges: &Gauges) -> String {
        let mut scraped = Registry::default();
        scraped.register(
            ACTIVE_SESSIONS,
            ACTIVE_SESSIONS_HELP,
            ScrapedGauge(gauges.active_sessions),
        );
        let mut out = String::with_capacity(8192);
        // Writing into a String cannot fail.
        let _ = prometheus_text::encode(&mut out, &self.registry);
        let _ = prometheus_text::encode(&mut out, &scraped);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(text: &str, line_start: &str) -> Option<f64> {
        text.lines()
            .find(|l| l.starts_with(line_start))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse().ok())
    }

    #[test]
    fn counters_and_histograms_render_in_text_format() {
        let m = Metrics::new();
        m.login(Realm::Staff, LoginMethod::Password, LoginOutcome::Success);
        m.login(Realm::Staff, LoginMethod::Password, LoginOutcome::Success);
        m.login(Realm::Staff, LoginMethod::Totp, LoginOutcome::Failure);
        m.throttled();
        m.sso_error("token_exchange");
        m.http_request(
            Cow::Borrowed("/login"),
            "POST",
            303,
            Duration::from_millis(30),
        );
        m.http_request(
            Cow::Borrowed("/login"),
            "BREW",
            404,
            Duration::from_millis(1),
        );
        m.store_commit(Duration::from_micros(700));
        let text = m.render(&Gauges {
            active_sessions: Some(4),
        });
        assert_eq!(
            sample(
                &text,
                "gatehouse_logins_total{realm=\"staff\",method=\"password\",outcome=\"success\"}"
            ),
            Some(2.0)
        );
        assert_eq!(
            sample(
                &text,
                "gatehouse_logins_total{realm=\"staff\",method=\"sso\",outcome=\"failure\"}"
            ),
            Some(0.0)
        );
        assert_eq!(sample(&text, "gatehouse_throttled_total"), Some(1.0));
        assert_eq!(sample(&text, "gatehouse_active_sessions"), Some(4.0));
        assert_eq!(
            sample(
                &text,
                "gatehouse_http_request_duration_seconds_bucket{route=\"/login\",method=\"POST\",status=\"303\",le=\"0.025\"}"
            ),
            Some(0.0)
        );
        assert_eq!(
            sample(
                &text,
                "gatehouse_http_request_duration_seconds_bucket{route=\"/login\",method=\"POST\",status=\"303\",le=\"0.05\"}"
            ),
            Some(1.0)
        );
        assert!(text.contains("method=\"other\",status=\"404\""), "{text}");
        assert_eq!(
            sample(&text, "gatehouse_store_commit_seconds_bucket{le=\"0.001\"}"),
            Some(1.0)
        );
        assert_eq!(
            sample(&text, "gatehouse_store_commit_seconds_count"),
            Some(1.0)
        );
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            assert_eq!(line.rsplit(' ').count(), 2, "one value per line: {line}");
        }
    }

    #[test]
    fn every_family_is_declared_before_its_first_series() {
        let text = Metrics::new().render(&Gauges::default());
        for (name, kind) in [
            ("gatehouse_build_info", "gauge"),
            ("gatehouse_logins_total", "counter"),
            ("gatehouse_throttled_total", "counter"),
            ("gatehouse_active_sessions", "gauge"),
            ("gatehouse_sso_errors_total", "counter"),
            ("gatehouse_forward_auth_decisions_total", "counter"),
            ("gatehouse_http_request_duration_seconds", "histogram"),
            ("gatehouse_store_commit_seconds", "histogram"),
        ] {
            assert!(text.contains(&format!("# TYPE {name} {kind}\n")), "{text}");
        }
        // Sessions not counted: the header, no made-up value.
        assert_eq!(sample(&text, "gatehouse_active_sessions"), None);
    }

    #[test]
    fn label_values_are_escaped() {
        let m = Metrics::new();
        m.sso_error("a\"b\\c\nd");
        let text = m.render(&Gauges::default());
        assert!(
            text.contains(&format!("reason=\"{}\"", "a\\\"b\\\\c\\nd")),
            "{text}"
        );
    }
}
