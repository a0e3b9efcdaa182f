//! Row 10: SCIM provisioning for one realm paced at 25 requests per second (the rate
//! Microsoft asks of gallery SCIM apps), sustained, over one keep-alive connection as
//! Entra's provisioning service sends them: a cycle of filter → create → get → PATCH
//! `active` "False" (default dialect) → PATCH `active` true (compliant dialect) →
//! delete. Every answer must have the expected status; any other is an error.

use std::sync::Arc;
use std::time::{Duration, Instant};

use hyper::Method;
use hyper::body::Bytes;
use hyper::header::{AUTHORIZATION, CONTENT_TYPE, HeaderName};
use serde_json::{Value, json};

use gatehouse::service::Services;
use gatehouse::service::admin::AdminActor;

use crate::client::Connection;
use crate::report::{Goal, Row};
use crate::{Settings, progress, servers};

/// Microsoft's rate for gallery SCIM apps.
const TARGET_RPS: f64 = 25.0;

struct Outcome {
    done: usize,
    errors: usize,
    first_error: Option<String>,
    latencies_ms: Vec<f64>,
    elapsed: Duration,
}

pub fn scim_row(
    settings: &Settings,
    runtime: &tokio::runtime::Runtime,
    server: &servers::Running,
    services: &Arc<Services>,
    rows: &mut Vec<Row>,
) {
    progress("row 10: SCIM for one realm at 25 requests per second");
    let bearer = runtime.block_on(async {
        services
            .create_client(AdminActor::cli(), "bench-scim".into(), "Bench SCIM".into())
            .await
            .expect("bench client");
        let realm = services.client_realm("bench-scim").expect("bench realm");
        services
            .create_scim_token(AdminActor::cli(), realm, "bench".into())
            .await
            .expect("SCIM token")
            .bearer()
    });
    let duration = Duration::from_secs_f64((settings.secs * settings.rounds as f64).max(5.0));
    let outcome = runtime.block_on(paced(server.addr, bearer, duration));
    let rate = outcome.done as f64 / outcome.elapsed.as_secs_f64();
    let mut latencies = outcome.latencies_ms.clone();
    latencies.sort_by(f64::total_cmp);
    let p99 = latencies
        .get(((latencies.len() as f64 * 0.99) as usize).min(latencies.len().saturating_sub(1)))
        .copied()
        .unwrap_or(0.0);
    let problem = (outcome.errors > 0).then(|| {
        format!(
            "{} of {} SCIM requests failed (first: {})",
            outcome.errors,
            outcome.done + outcome.errors,
            outcome.first_error.clone().unwrap_or_default()
        )
    });
    rows.push(
        Row::new(
            "10",
            format!(
                "SCIM, one realm, paced at {TARGET_RPS} req/s for {:.0} s (create, filter, get, PATCH both dialects, delete)",
                duration.as_secs_f64()
            ),
        )
        .sides(
            format!("{rate:.1} req/s sustained, {} errors, p99 {p99:.1} ms", outcome.errors),
            format!("{TARGET_RPS} req/s (Microsoft's gallery requirement)"),
        )
        .ratio(rate / TARGET_RPS, Goal::AtLeast(0.97))
        .problem(problem),
    );
}

/// One request and the status it must get.
fn cycle_step(step: usize, id: Option<&str>, n: usize) -> (Method, String, Option<Value>, u16) {
    let name = format!("scim-bench-{n}@contoso.com");
    let path = format!("/scim/v2/Users/{}", id.unwrap_or("missing"));
    match step {
        0 => (
            Method::GET,
            format!(
                "/scim/v2/Users?{}",
                serde_urlencoded::to_string([("filter", format!("userName eq \"{name}\""))])
                    .unwrap_or_default()
            ),
            None,
            200,
        ),
        1 => (
            Method::POST,
            "/scim/v2/Users".to_owned(),
            Some(json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                "externalId": uuid::Uuid::new_v4().to_string(),
                "userName": name,
                "active": true,
                "emails": [{"primary": true, "type": "work", "value": name}],
                "name": {"givenName": "Bench", "familyName": format!("User {n}")}
            })),
            201,
        ),
        2 => (Method::GET, path, None, 200),
        3 => (
            Method::PATCH,
            path,
            Some(
                json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                "Operations": [{"op": "Replace", "path": "active", "value": "False"}]}),
            ),
            200,
        ),
        4 => (
            Method::PATCH,
            path,
            Some(
                json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                "Operations": [{"op": "replace", "value": {"active": true}}]}),
            ),
            200,
        ),
        _ => (Method::DELETE, path, None, 204),
    }
}

async fn paced(addr: std::net::SocketAddr, bearer: String, duration: Duration) -> Outcome {
    let mut connection = Connection::open(addr).await.expect("connect");
    let auth = format!("Bearer {bearer}");
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / TARGET_RPS));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut outcome = Outcome {
        done: 0,
        errors: 0,
        first_error: None,
        latencies_ms: Vec::new(),
        elapsed: Duration::ZERO,
    };
    let started = Instant::now();
    let (mut step, mut n, mut id) = (0usize, 0usize, None::<String>);
    while started.elapsed() < duration {
        tick.tick().await;
        let (method, path, body, want) = cycle_step(step, id.as_deref(), n);
        let began = Instant::now();
        let headers: Vec<(HeaderName, &str)> = vec![
            (AUTHORIZATION, auth.as_str()),
            (CONTENT_TYPE, "application/scim+json"),
        ];
        let sent = connection
            .send(
                method,
                &path,
                &headers,
                body.map_or_else(Bytes::new, |b| Bytes::from(b.to_string())),
            )
            .await;
        let result = match sent {
            Ok(answer) if answer.status.as_u16() == want => {
                if step == 1 {
                    id = serde_json::from_slice::<Value>(&answer.body)
                        .ok()
                        .and_then(|v| v["id"].as_str().map(str::to_owned));
                }
                Ok(())
            }
            Ok(answer) => Err(format!("{path}: HTTP {} (wanted {want})", answer.status)),
            Err(e) => Err(e),
        };
        match result {
            Ok(()) => {
                outcome.done += 1;
                outcome
                    .latencies_ms
                    .push(began.elapsed().as_secs_f64() * 1000.0);
            }
            Err(e) => {
                outcome.errors += 1;
                outcome.first_error.get_or_insert(e);
            }
        }
        step = (step + 1) % 6;
        if step == 0 {
            n += 1;
            id = None;
        }
    }
    outcome.elapsed = started.elapsed();
    outcome
}
