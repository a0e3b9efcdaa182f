//! `/metrics` parses as Prometheus text and its counters move with the actions that
//! should move them; it is served on `metrics.listen`, and on the main listener only
//! with `metrics.public = true`.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use openmetrics_parser::prometheus::parse_prometheus;
use openmetrics_parser::{PrometheusType, PrometheusValue};

use crate::common::binary::Install;
use crate::common::sso::{app_with_entra_and, configure_staff_sso, sso_sign_in, user};
use crate::common::{Browser, TestApp, config_with};

/// One scrape, parsed by a strict Prometheus text-format parser: sample values (the
/// observation count for histograms) by `family{k=v,…}` with labels sorted.
struct Metrics {
    samples: HashMap<String, f64>,
    types: HashMap<String, PrometheusType>,
}

impl Metrics {
    fn parse(text: &str) -> Metrics {
        let exposition = parse_prometheus(text)
            .unwrap_or_else(|e| panic!("not Prometheus text format: {e:?}\n{text}"));
        let mut samples = HashMap::new();
        let mut types = HashMap::new();
        for (name, family) in &exposition.families {
            types.insert(name.clone(), family.family_type.clone());
            for sample in family.iter_samples() {
                let labelset = sample.get_labelset().unwrap();
                let mut labels: Vec<String> =
                    labelset.iter().map(|(k, v)| format!("{k}={v}")).collect();
                labels.sort();
                let value = match &sample.value {
                    PrometheusValue::Counter(c) => c.value.as_f64(),
                    PrometheusValue::Gauge(v) | PrometheusValue::Unknown(v) => v.as_f64(),
                    PrometheusValue::Histogram(h) => h.count.unwrap_or(0) as f64,
                    PrometheusValue::Summary(_) => f64::NAN,
                };
                samples.insert(format!("{name}{{{}}}", labels.join(",")), value);
            }
        }
        Metrics { samples, types }
    }

    fn get(&self, key: &str) -> f64 {
        *self
            .samples
            .get(key)
            .unwrap_or_else(|| panic!("no sample {key}; have {:?}", self.samples.keys()))
    }

    fn logins(&self, method: &str, outcome: &str) -> f64 {
        self.get(&format!(
            "gatehouse_logins_total{{method={method},outcome={outcome},realm=staff}}"
        ))
    }

    /// The observation count of the HTTP latency series (0 when absent).
    fn http_count(&self, route: &str, method: &str, status: u16) -> f64 {
        let key = format!(
            "gatehouse_http_request_duration_seconds{{method={method},route={route},status={status}}}"
        );
        self.samples.get(&key).copied().unwrap_or(0.0)
    }
}

async fn scrape(browser: &mut Browser) -> Metrics {
    let page = browser.get("/metrics").await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(
        page.header("content-type"),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    Metrics::parse(&page.body)
}

#[actix_web::test]
async fn metrics_parse_and_move_with_logins_throttling_sessions_and_requests() {
    let app = TestApp::with_config(config_with("[metrics]\npublic = true\n")).await;
    let token = app.services.issue_setup_token().unwrap().unwrap();
    let mut ops = app.browser();
    let before = scrape(&mut ops).await;
    assert_eq!(before.logins("password", "success"), 0.0);
    assert_eq!(before.get("gatehouse_throttled_total{}"), 0.0);
    assert_eq!(before.get("gatehouse_active_sessions{}"), 0.0);
    assert_eq!(before.get("gatehouse_build_info{version=0.1.0}"), 1.0);
    for (family, kind) in [
        ("gatehouse_logins_total", PrometheusType::Counter),
        ("gatehouse_throttled_total", PrometheusType::Counter),
        ("gatehouse_active_sessions", PrometheusType::Gauge),
        ("gatehouse_sso_errors_total", PrometheusType::Counter),
        (
            "gatehouse_forward_auth_decisions_total",
            PrometheusType::Counter,
        ),
        ("gatehouse_store_commit_seconds", PrometheusType::Histogram),
        (
            "gatehouse_http_request_duration_seconds",
            PrometheusType::Histogram,
        ),
    ] {
        assert_eq!(
            before.types.get(family),
            Some(&kind),
            "{family} is registered"
        );
    }

    // First admin through the setup link, then a full password + TOTP sign-in.
    let mut ann = app.browser();
    let setup = format!("/setup/{}", token.expose());
    ann.get(&setup).await;
    let pw = "correct horse battery";
    ann.post(
        &setup,
        &[
            ("email", "ann@example.com"),
            ("name", "Ann"),
            ("password", pw),
            ("password_confirm", pw),
        ],
    )
    .await;
    let (secret, recovery) = ann.enrol(&app).await;
    app.next_step();
    let mut second = app.browser();
    let page = second
        .sign_in(&app, "ann@example.com", pw, Some(&secret))
        .await;
    assert_eq!(page.location(), "/account");

    // A wrong password, a wrong code, and a recovery code.
    let mut mallory = app.browser();
    mallory.get("/login").await;
    let page = mallory
        .post(
            "/login",
            &[("email", "ann@example.com"), ("password", "wrong one!")],
        )
        .await;
    assert_eq!(page.status, StatusCode::UNAUTHORIZED);
    let mut third = app.browser();
    third.get("/login").await;
    third
        .post("/login", &[("email", "ann@example.com"), ("password", pw)])
        .await;
    third.get("/login/mfa").await;
    let page = third.post("/login/mfa", &[("code", "000000")]).await;
    assert_eq!(page.status, StatusCode::UNAUTHORIZED);
    let page = third.post("/login/mfa", &[("code", &recovery[0])]).await;
    assert_eq!(page.location(), "/account");

    // Throttling: one address failing on an unknown account until it is refused.
    let mut scanner = app.browser();
    scanner.ip = "198.51.100.7".parse().unwrap();
    scanner.get("/login").await;
    let mut throttled = 0;
    for _ in 0..8 {
        let page = scanner
            .post(
                "/login",
                &[("email", "nobody@example.com"), ("password", "guess guess")],
            )
            .await;
        if page.status == StatusCode::TOO_MANY_REQUESTS {
            throttled += 1;
        }
    }
    assert!(throttled >= 1, "the account limit trips");

    let after = scrape(&mut ops).await;
    assert_eq!(after.logins("password", "success"), 2.0, "Ann twice");
    assert_eq!(
        after.logins("password", "failure"),
        1.0 + (8 - throttled) as f64
    );
    assert_eq!(after.logins("totp", "success"), 1.0);
    assert_eq!(after.logins("totp", "failure"), 1.0);
    assert_eq!(after.logins("recovery_code", "success"), 1.0);
    assert_eq!(after.logins("sso", "success"), 0.0);
    assert_eq!(after.get("gatehouse_throttled_total{}"), throttled as f64);
    let sessions = app
        .services
        .store()
        .read(|r| {
            use gatehouse::store::prelude::*;
            r.count_sessions()
        })
        .unwrap();
    assert!(sessions >= 3);
    assert_eq!(after.get("gatehouse_active_sessions{}"), sessions as f64);

    // Latency by route pattern: the setup token never appears, the pattern does.
    assert_eq!(after.http_count("/setup/{token}", "POST", 303), 1.0);
    assert_eq!(
        after.http_count("/login", "POST", 401),
        1.0 + (8 - throttled) as f64
    );
    assert_eq!(after.http_count("/login", "POST", 429), throttled as f64);
    let raw = ops.get("/metrics").await.body;
    assert!(!raw.contains(token.expose()), "no raw paths in labels");
    let commits = after.get("gatehouse_store_commit_seconds{}");
    assert!(commits >= 10.0, "every write commits: {commits}");
}

#[test]
fn a_separate_metrics_listener_serves_metrics_and_the_main_one_does_not() {
    let install = Install::new();
    let metrics_port = install.metrics_port;
    let server = install.start();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (main, separate) = runtime.block_on(async {
        let client = reqwest::Client::new();
        let main = client
            .get(format!("{}/metrics", install.base()))
            .send()
            .await
            .unwrap()
            .status();
        let separate = client
            .get(format!("http://127.0.0.1:{metrics_port}/metrics"))
            .send()
            .await
            .unwrap();
        let status = separate.status();
        (main, (status, separate.text().await.unwrap()))
    });
    assert_eq!(main.as_u16(), 404);
    assert_eq!(separate.0.as_u16(), 200);
    let parsed = Metrics::parse(&separate.1);
    // The health checks that waited for the server were counted.
    assert!(parsed.http_count("/healthz", "GET", 200) >= 1.0);
    server.stop();
}

#[actix_web::test]
async fn sso_sign_ins_sso_errors_and_forward_auth_decisions_are_counted() {
    let (app, fake) = app_with_entra_and("[metrics]\npublic = true\n").await;
    configure_staff_sso(&app, true, "").await;
    let mut ops = app.browser();

    let mut erin = app.browser();
    let page = sso_sign_in(&mut erin, &fake, user("oid-erin", "erin@contoso.com")).await;
    assert_eq!(page.location(), "/account", "{}", page.body);
    let mut forger = app.browser();
    let page = forger
        .get("/sso/callback?state=made-up-state&code=abc")
        .await;
    assert_ne!(page.status, StatusCode::OK);

    // Forward-auth: signed in, not signed in, missing role, unknown client.
    assert_eq!(
        erin.get("/api/authz/auth-request").await.status,
        StatusCode::OK
    );
    assert_eq!(
        forger.get("/api/authz/auth-request").await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        erin.get("/api/authz/auth-request?role=admin").await.status,
        StatusCode::FORBIDDEN
    );
    erin.get("/api/authz/auth-request?client=no-such-client")
        .await;

    let m = scrape(&mut ops).await;
    assert_eq!(m.logins("sso", "success"), 1.0);
    assert_eq!(
        m.get("gatehouse_sso_errors_total{reason=bad_state}"),
        1.0,
        "made-up state"
    );
    for decision in ["allow", "sign_in", "forbidden", "unknown_realm"] {
        assert_eq!(
            m.get(&format!(
                "gatehouse_forward_auth_decisions_total{{decision={decision}}}"
            )),
            1.0,
            "{decision}"
        );
    }
    assert_eq!(m.http_count("/api/authz/auth-request", "GET", 200), 1.0);
}
