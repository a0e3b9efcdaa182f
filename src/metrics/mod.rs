//! Prometheus metrics (`GET /metrics`): a small registry of the counters, gauges and
//! histograms Gatehouse exports, rendered in the Prometheus text exposition format
//! (version 0.0.4). Recording costs a few atomic additions; labelled series are found
//! under a read lock that is released at once (never held across an await), and the
//! label values come from closed sets chosen by the code (route *patterns*, known
//! methods, enums), never from raw request data, so cardinality stays bounded and no
//! token in a URL reaches the output.
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

mod series;

use std::borrow::Cow;
use std::fmt::Write;
use std::sync::Arc;
use std::time::Duration;

use crate::domain::user::Realm;
use series::{Counter, Family, Histogram, escape, header};

/// How a sign-in step authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LoginMethod {
    Password,
    Totp,
    RecoveryCode,
    Sso,
}

impl LoginMethod {
    const ALL: [LoginMethod; 4] = [
        LoginMethod::Password,
        LoginMethod::Totp,
        LoginMethod::RecoveryCode,
        LoginMethod::Sso,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            LoginMethod::Password => "password",
            LoginMethod::Totp => "totp",
            LoginMethod::RecoveryCode => "recovery_code",
            LoginMethod::Sso => "sso",
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

/// Upper bounds (seconds) of the HTTP latency buckets.
const HTTP_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];
/// Upper bounds (seconds) of the store commit buckets (an fsync each).
const COMMIT_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
];

/// Every metric Gatehouse exports.
pub struct Metrics {
    logins: Family<Realm, LoginCounters>,
    throttled: Counter,
    sso_errors: Family<&'static str, Counter>,
    forward_auth: Family<&'static str, Counter>,
    http: Family<HttpKey, Histogram>,
    store_commit: Arc<Histogram>,
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

impl Metrics {
    pub fn new() -> Metrics {
        let metrics = Metrics {
            logins: Family::new(LoginCounters::default),
            throttled: Counter::default(),
            sso_errors: Family::new(Counter::default),
            forward_auth: Family::new(Counter::default),
            http: Family::new(|| Histogram::new(HTTP_BUCKETS)),
            store_commit: Arc::new(Histogram::new(COMMIT_BUCKETS)),
        };
        // Staff series exist from the start (at 0), so rates work before the first login.
        metrics.logins.with(Realm::Staff, |_| {});
        metrics
    }

    /// Counts one sign-in step.
    pub fn login(&self, realm: Realm, method: LoginMethod, outcome: LoginOutcome) {
        self.logins.with(realm, |c| c.get(method, outcome).inc());
    }

    /// Counts an attempt refused because of failed-attempt throttling (a 429).
    pub fn throttled(&self) {
        self.throttled.inc();
    }

    /// Counts an SSO failure; `reason` is a short fixed identifier chosen by the caller
    /// (`bad_state`, `unreachable`, `not_verified`, `not_registered`…; see
    /// `service::observe`), never text from a provider.
    pub fn sso_error(&self, reason: &'static str) {
        self.sso_errors.with(reason, Counter::inc);
    }

    /// Counts a forward-auth answer; `decision` is a fixed identifier (`allow`,
    /// `sign_in`, `forbidden`, `unknown_realm`).
    pub fn forward_auth_decision(&self, decision: &'static str) {
        self.forward_auth.with(decision, Counter::inc);
    }

    /// Records one HTTP request by route pattern (never the raw path), method and status.
    pub fn http_request(
        &self,
        route: Cow<'static, str>,
        method: &str,
        status: u16,
        took: Duration,
    ) {
        let key = HttpKey {
            route,
            method: known_method(method),
            status,
        };
        self.http.with(key, |h| h.observe(took.as_secs_f64()));
    }

    /// Records one store commit.
    pub fn store_commit(&self, took: Duration) {
        self.store_commit.observe(took.as_secs_f64());
    }

    /// A closure for `Store::observe_commits` feeding the commit histogram.
    pub fn commit_observer(&self) -> Box<dyn Fn(Duration) + Send + Sync> {
        let histogram = Arc::clone(&self.store_commit);
        Box::new(move |took| histogram.observe(took.as_secs_f64()))
    }

    /// Everything in the Prometheus text format.
    pub fn render(&self, gauges: &Gauges) -> String {
        let mut out = String::with_capacity(4096);
        header(
            &mut out,
            "gatehouse_build_info",
            "gauge",
            "The running Gatehouse version (always 1).",
        );
        let _ = writeln!(
            out,
            "gatehouse_build_info{{version=\"{}\"}} 1",
            escape(env!("CARGO_PKG_VERSION"))
        );

        header(
            &mut out,
            "gatehouse_logins_total",
            "counter",
            "Sign-in steps by realm (staff or client:<id>), method (password, totp, recovery_code, sso) and outcome (success, failure).",
        );
        for (realm, counters) in self.logins.sorted_by(|r| r.key()) {
            let realm = realm.key();
            for method in LoginMethod::ALL {
                for outcome in LoginOutcome::ALL {
                    let _ = writeln!(
                        out,
                        "gatehouse_logins_total{{realm=\"{}\",method=\"{}\",outcome=\"{}\"}} {}",
                        escape(&realm),
                        method.as_str(),
                        outcome.as_str(),
                        counters.get(method, outcome).value()
                    );
                }
            }
        }

        header(
            &mut out,
            "gatehouse_throttled_total",
            "counter",
            "Sign-in attempts refused by failed-attempt throttling (answered 429).",
        );
        let _ = writeln!(out, "gatehouse_throttled_total {}", self.throttled.value());

        header(
            &mut out,
            "gatehouse_active_sessions",
            "gauge",
            "Sessions in the store, including half-finished sign-ins and expired ones not purged yet.",
        );
        if let Some(n) = gauges.active_sessions {
            let _ = writeln!(out, "gatehouse_active_sessions {n}");
        }

        header(
            &mut out,
            "gatehouse_sso_errors_total",
            "counter",
            "Single sign-on failures by reason.",
        );
        for (reason, counter) in self.sso_errors.sorted_by(|r| *r) {
            let _ = writeln!(
                out,
                "gatehouse_sso_errors_total{{reason=\"{}\"}} {}",
                escape(reason),
                counter.value()
            );
        }

        header(
            &mut out,
            "gatehouse_forward_auth_decisions_total",
            "counter",
            "Forward-auth answers by decision.",
        );
        for (decision, counter) in self.forward_auth.sorted_by(|d| *d) {
            let _ = writeln!(
                out,
                "gatehouse_forward_auth_decisions_total{{decision=\"{}\"}} {}",
                escape(decision),
                counter.value()
            );
        }

        header(
            &mut out,
            "gatehouse_http_request_duration_seconds",
            "histogram",
            "HTTP request latency by route pattern, method and status.",
        );
        for (key, histogram) in self
            .http
            .sorted_by(|k| (k.route.clone(), k.method, k.status))
        {
            let labels = format!(
                "route=\"{}\",method=\"{}\",status=\"{}\"",
                escape(&key.route),
                key.method,
                key.status
            );
            histogram.render(&mut out, "gatehouse_http_request_duration_seconds", &labels);
        }

        header(
            &mut out,
            "gatehouse_store_commit_seconds",
            "histogram",
            "Time to commit a store write transaction durably (including fsync).",
        );
        self.store_commit
            .render(&mut out, "gatehouse_store_commit_seconds", "");
        out
    }
}

/// The method label: standard methods by name, anything else as `other`, so odd
/// methods sent by scanners cannot create new series.
fn known_method(method: &str) -> &'static str {
    match method {
        "GET" => "GET",
        "HEAD" => "HEAD",
        "POST" => "POST",
        "PUT" => "PUT",
        "PATCH" => "PATCH",
        "DELETE" => "DELETE",
        "OPTIONS" => "OPTIONS",
        _ => "other",
    }
}

/// The login counters of one realm, one per (method, outcome).
#[derive(Debug, Default)]
struct LoginCounters([Counter; 8]);

impl LoginCounters {
    fn get(&self, method: LoginMethod, outcome: LoginOutcome) -> &Counter {
        let m = match method {
            LoginMethod::Password => 0,
            LoginMethod::Totp => 1,
            LoginMethod::RecoveryCode => 2,
            LoginMethod::Sso => 3,
        };
        let o = match outcome {
            LoginOutcome::Success => 0,
            LoginOutcome::Failure => 1,
        };
        &self.0[m * 2 + o]
    }
}

/// The labels of one HTTP latency series.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct HttpKey {
    /// Borrowed for the static routes, so their requests allocate nothing here.
    route: Cow<'static, str>,
    method: &'static str,
    status: u16,
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
    fn label_values_are_escaped() {
        assert_eq!(escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
