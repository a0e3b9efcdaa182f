//! Rows 4–7: the real `gatehouse serve` binary over the large store (login storm, idle
//! memory, cold start) and the criterion micro-benchmarks read from criterion's output.

use std::time::{Duration, Instant};

use gatehouse::domain::password::HashParams;
use gatehouse::service::ServiceSettings;

use crate::client::{self, Sample};
use crate::common::{self, Install};
use crate::process::Spawned;
use crate::report::{Goal, Row, mib, nanos, thousands};
use crate::{Settings, progress, servers};

/// Clients posting at once in the login storm.
const STORM_CLIENTS: usize = 500;
/// Process starts whose median is the cold-start figure.
const COLD_STARTS: usize = 5;
/// Memory every process may use besides the Argon2 blocks (row 4's goal).
const BASE_BUDGET_MIB: u64 = 64;
const IDLE_BUDGET_MIB: f64 = 20.0;
const COLD_START_BUDGET_MS: f64 = 300.0;

/// Rows 5 and 6: cold starts of the real binary over the large store, and its idle
/// memory after the last one.
pub fn startup_rows(large: &Install, rows: &mut Vec<Row>) {
    progress("rows 5 and 6: cold starts and idle memory of gatehouse serve");
    let mut starts = Vec::new();
    let mut idle_kib = 0;
    for i in 0..COLD_STARTS {
        let mut server = Spawned::start(large);
        starts.push(server.wait_healthy().as_secs_f64() * 1000.0);
        if i + 1 == COLD_STARTS {
            std::thread::sleep(Duration::from_secs(2));
            idle_kib = server.status_kib("VmRSS");
        }
        server.stop();
    }
    starts.sort_by(f64::total_cmp);
    let median = starts[starts.len() / 2];
    let population = format!(
        "{} users, {} sessions",
        thousands(large.population.users as f64),
        thousands(large.population.sessions as f64)
    );
    rows.push(
        Row::new("5", format!("idle RSS after start-up ({population})"))
            .sides(
                format!("{} (VmRSS)", mib(idle_kib)),
                format!("{IDLE_BUDGET_MIB:.0} MiB budget"),
            )
            .ratio(
                idle_kib as f64 / 1024.0 / IDLE_BUDGET_MIB,
                Goal::AtMost(1.0),
            ),
    );
    rows.push(
        Row::new(
            "6",
            format!("cold start: process start → /healthz 200 ({population})"),
        )
        .sides(
            format!(
                "{median:.0} ms (median of {COLD_STARTS}; {:.0}–{:.0})",
                starts[0],
                starts[starts.len() - 1]
            ),
            format!("{COLD_START_BUDGET_MS:.0} ms budget"),
        )
        .ratio(median / COLD_START_BUDGET_MS, Goal::AtMost(1.0)),
    );
}

/// Row 4: the login storm against the real binary.
pub fn storm_row(
    settings: &Settings,
    runtime: &tokio::runtime::Runtime,
    large: &Install,
    rows: &mut Vec<Row>,
) {
    progress(&format!(
        "row 4: {STORM_CLIENTS} clients posting passwords at once to gatehouse serve"
    ));
    let config = servers::config(large, 9);
    let permits = ServiceSettings::from_config(&config).hash_permits as u64;
    let argon2_kib = u64::from(HashParams::RECOMMENDED.memory_kib);
    let budget_kib = BASE_BUDGET_MIB * 1024 + permits * argon2_kib;

    let mut server = Spawned::start(large);
    server.wait_healthy();
    let before_kib = server.status_kib("VmHWM");
    let began = Instant::now();
    let results = runtime.block_on(client::login_storm(
        server.addr,
        settings.large.users,
        STORM_CLIENTS,
    ));
    let storm_secs = began.elapsed().as_secs_f64();
    let peak_kib = server.status_kib("VmHWM");
    let after_kib = server.status_kib("VmRSS");
    server.stop();

    let mut sample = Sample::default();
    sample.add_round(results);
    let problem = (sample.errors > 0 || sample.count() != STORM_CLIENTS).then(|| {
        format!(
            "{} of {STORM_CLIENTS} reached the TOTP step; first error: {}",
            sample.count(),
            sample.first_error.as_deref().unwrap_or("none")
        )
    });
    rows.push(
        Row::new(
            "4",
            format!("peak RSS while {STORM_CLIENTS} clients post passwords at once"),
        )
        .sides(
            format!(
                "{} (VmHWM; {} at start, {} after; storm {:.1} s, p99 {:.0} ms)",
                mib(peak_kib),
                mib(before_kib),
                mib(after_kib),
                storm_secs,
                sample.quantile_ms(0.99)
            ),
            format!(
                "{} budget (64 MiB + {permits} hash permits × {} KiB)",
                mib(budget_kib),
                argon2_kib
            ),
        )
        .ratio(peak_kib as f64 / budget_kib as f64, Goal::AtMost(1.0))
        .problem(problem),
    );
}

/// Row 7, from criterion's output of `benches/hot_paths.rs`.
pub fn micro_rows(rows: &mut Vec<Row>) {
    let micro = [
        (
            "totp_verify",
            "TOTP verify (unseal seed, check ±1 step)",
            "3 × HMAC-SHA1",
        ),
        (
            "session_lookup",
            "session lookup (`session_for`: session + user, 1,000 sessions)",
            "one redb point read",
        ),
        (
            "csrf_check",
            "CSRF token check (HMAC-SHA256 + constant-time compare)",
            "one HMAC-SHA256",
        ),
        (
            "login_write",
            "login write transaction (user, session + indexes, audit; durable)",
            "empty durable redb commit",
        ),
    ];
    let dir = common::criterion_dir();
    for (group, what, limit_name) in micro {
        let median = |side: &str| -> Option<f64> {
            let path = dir
                .join(group)
                .join(side)
                .join("new")
                .join("estimates.json");
            let text = std::fs::read_to_string(path).ok()?;
            let json: serde_json::Value = serde_json::from_str(&text).ok()?;
            json["median"]["point_estimate"].as_f64()
        };
        let row = Row::new("7", format!("micro: {what}"));
        rows.push(match (median("gatehouse"), median("limit")) {
            (Some(gate), Some(limit)) => row
                .sides(nanos(gate), format!("{} ({limit_name})", nanos(limit)))
                .ratio(limit / gate, Goal::None),
            _ => row.sides("—", "—").problem(Some(
                "no criterion results; run `cargo bench` (hot_paths runs first)".to_owned(),
            )),
        });
    }
}
