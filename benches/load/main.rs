//! Gatehouse's load benchmarks, each measured side by side with its physical limit in
//! the same run, and the one table of all results (rows 1–7 of issue 7), printed and
//! written to `target/bench-report.md`:
//!
//! 1. forward-auth (`/api/authz/auth-request`, valid session, 64 connections) against a
//!    bare actix-web handler returning the same headers (those of a real answer,
//!    captured at start) without any lookup;
//! 2. the same over 100,000 users and 1,000,000 sessions against 1,000 sessions;
//! 3. full HTTP password sign-ins up to the TOTP step (4 × cores clients) against raw
//!    Argon2id verifications on every core;
//! 4. peak RSS of the real `gatehouse serve` while 500 clients post passwords at once;
//! 5. its idle RSS after start-up over the large store;
//! 6. its cold start (process start to `/healthz` answering) over the same store;
//! 7. the criterion micro-benchmarks of `benches/hot_paths.rs` (read from criterion's
//!    output; cargo runs that bench first);
//! 8. the migration of the large store from schema version 1 (JSON records) to the current one (4);
//! 9. the large store's bytes per session after it;
//!
//! and 1e: forward-auth measured by `wrk` as a separate process against the release
//! `gatehouse serve` and a bare actix-web process (`external.rs`), the figure a proxy
//! sees; rows 1 and 2 keep the in-process generator.
//! 10. SCIM provisioning for one realm paced at 25 requests per second, sustained
//!     without errors (`scim_row`).
//!
//! Load rows alternate their two sides round by round, so drift on a shared machine
//! hits both alike. Knobs (environment): `GH_BENCH_SECS` (measuring seconds per
//! side per round, default 3), `GH_BENCH_ROUNDS` (default 3),
//! `GH_BENCH_USERS` / `GH_BENCH_SESSIONS` (the large store, default
//! 100,000 / 1,000,000), `GH_BENCH_ROWS=1,3` (run only these rows), `GH_BENCH_KEEP=1`
//! (keep the data directories).

// Test and benchmark code may unwrap, expect and panic: a failure should stop loudly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../common/mod.rs"]
mod common;

mod client;
mod external;
mod process;
mod process_rows;
mod report;
mod scim_row;
mod servers;
mod sign_in_row;
mod store_rows;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use gatehouse::service::Services;

use client::{Sample, Window};
use common::Population;
use gatehouse::store::bulk::Layout;
use report::{Goal, Row, thousands};

/// Connections of the forward-auth rows.
const FORWARD_AUTH_CONNECTIONS: usize = 64;
/// Sessions each forward-auth run cycles through.
const HIT_SESSIONS: usize = 1_000;
/// The small store of rows 1–3.
const SMALL: Population = Population {
    users: 100,
    sessions: 1_000,
};

struct Settings {
    secs: f64,
    rounds: usize,
    warm_up: Duration,
    large: Population,
    keep: bool,
    cores: usize,
    /// Rows to run (all when empty).
    only: Vec<u32>,
}

impl Settings {
    fn from_env() -> Settings {
        Settings {
            secs: common::secs_from_env("GH_BENCH_SECS", 3.0),
            rounds: common::count_from_env("GH_BENCH_ROUNDS", 3),
            warm_up: Duration::from_millis(500),
            large: Population {
                users: common::count_from_env("GH_BENCH_USERS", 100_000),
                sessions: common::count_from_env("GH_BENCH_SESSIONS", 1_000_000),
            },
            keep: std::env::var_os("GH_BENCH_KEEP").is_some(),
            cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
            only: std::env::var("GH_BENCH_ROWS")
                .unwrap_or_default()
                .split(',')
                .filter_map(|r| r.trim().parse().ok())
                .collect(),
        }
    }

    /// Whether row `row` is to run.
    fn runs(&self, row: u32) -> bool {
        self.only.is_empty() || self.only.contains(&row)
    }

    fn measure(&self) -> Duration {
        Duration::from_secs_f64(self.secs)
    }

    fn window(&self) -> Window {
        Window::after(self.warm_up, self.measure())
    }
}

fn main() {
    // Started again by itself as the bare server of the external rows.
    external::bare_server_if_asked();
    // `cargo test --benches` runs this without `--bench`: nothing to check there.
    if !std::env::args().any(|a| a == "--bench") {
        println!("the load benchmark runs under `cargo bench`");
        return;
    }
    let started = Instant::now();
    let settings = Settings::from_env();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(settings.cores)
        .enable_all()
        .build()
        .expect("the load generator's runtime");
    let data = common::bench_data_dir();
    let mut rows = Vec::new();
    let mut notes = Vec::new();

    progress(&format!(
        "seeding {} users / {} sessions, and {} / {}",
        thousands(settings.large.users as f64),
        thousands(settings.large.sessions as f64),
        SMALL.users,
        SMALL.sessions
    ));
    let small = common::seed(&data.join("small"), SMALL);
    let large = common::seed_as(&data.join("large"), settings.large, Layout::V1);
    let v1_bytes = large.store_bytes();
    progress("migrating the large store from schema version 1 to the current one");
    let migration_secs = common::migrate(&large);
    store_rows::store_rows(&large, v1_bytes, migration_secs, &mut rows);
    notes.push(store_rows::table_shares(&large));
    if settings.runs(9) {
        notes.push(store_rows::grown_store(&data.join("grown"), settings.large));
    }
    notes.push(format!(
        "Large store: {} staff users and {} active sessions, seeded through `store::bulk` as schema version 1 (JSON records) in {:.1} s ({} MiB file), then migrated to the current version ({}) by opening it and compacted ({} MiB file); small store: {} users, {} sessions.",
        thousands(large.population.users as f64),
        thousands(large.population.sessions as f64),
        large.seed_secs,
        v1_bytes / (1024 * 1024),
        gatehouse::store::migrations::CURRENT_VERSION,
        large.store_bytes() / (1024 * 1024),
        SMALL.users,
        SMALL.sessions,
    ));

    let headers = {
        let (small_server, small_services) = servers::gatehouse(&small);
        let (large_server, large_services) = servers::gatehouse(&large);
        let headers = runtime.block_on(client::allowed_headers(
            small_server.addr,
            &common::session_token(0),
        ));
        let bare = servers::bare(headers.clone());

        forward_auth_rows(
            &settings,
            &runtime,
            &bare,
            &small_server,
            &large_server,
            &mut rows,
        );
        if settings.runs(3) {
            sign_in_row::login_rows(
                &settings,
                &runtime,
                &small_server,
                &small_services,
                &mut rows,
            );
        }

        if settings.runs(10) {
            scim_row::scim_row(
                &settings,
                &runtime,
                &small_server,
                &small_services,
                &mut rows,
            );
        }

        bare.stop();
        small_server.stop();
        large_server.stop();
        close(small_services);
        close(large_services);
        headers
    };
    if settings.runs(1) {
        external::wrk_rows(&settings, &small, &headers, &mut rows);
    }

    if settings.runs(5) || settings.runs(6) {
        process_rows::startup_rows(&large, &mut rows);
    }
    if settings.runs(4) {
        process_rows::storm_row(&settings, &runtime, &large, &mut rows);
    }
    if settings.runs(7) {
        process_rows::micro_rows(&mut rows);
    }

    notes.push(format!(
        "Load rows 1–3: {} rounds of {:.1} s per side (after {:.1} s warm-up each), sides alternating; generator: hyper HTTP/1.1 keep-alive connections on {} tokio threads in the same process as the in-process servers (both sides share the cores with it alike).",
        settings.rounds,
        settings.secs,
        settings.warm_up.as_secs_f64(),
        settings.cores
    ));
    notes.push(format!(
        "Row 1e: `wrk` (Debian's package) as its own process, one session cookie, {} rounds of {:.0} s per side after a 1 s warm-up of each, sides alternating; the ratio is the median of the rounds' ratios (each round's ratio listed). The bare side is this benchmark's executable started again as nothing but an actix-web server answering the captured headers of a real allowed answer, with actix's default worker count like `gatehouse serve`.",
        settings.rounds,
        settings.secs.ceil()
    ));
    notes.push(
        "Rows 4–6 run the release `gatehouse serve` binary as its own process over the large store; memory from `/proc/<pid>/status` (VmHWM = peak, VmRSS = now). The store file is in the OS page cache (warm disk), so cold start means a cold process.".to_owned(),
    );
    notes.push(
        "Row 7: criterion medians from `benches/hot_paths.rs` (ratio = limit time / Gatehouse time).".to_owned(),
    );
    let verdicts: Vec<bool> = rows.iter().filter_map(Row::met).collect();
    notes.push(format!(
        "Goals met: {} of {}.",
        verdicts.iter().filter(|m| **m).count(),
        verdicts.len()
    ));
    notes.push(format!(
        "Load benchmark wall time: {:.0} s.",
        started.elapsed().as_secs_f64()
    ));

    let text = report::render(&rows, &notes);
    println!("\n{text}");
    report::write(&common::target_dir().join("bench-report.md"), &text);
    if !settings.keep {
        let _ = std::fs::remove_dir_all(&data);
    }
}

/// CPU time (user + system) this process used so far, in seconds.
fn process_cpu_secs() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which may hold spaces) start after the last ')'.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or("", |(_, rest)| rest)
        .split_whitespace()
        .collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    (ticks(11) + ticks(12)) / 100.0
}

fn progress(message: &str) {
    eprintln!("[bench] {message}");
}

/// Closes a store opened in this process (the spawned server needs it to itself).
/// actix's worker threads drop their copy of the app state after the server thread
/// has ended, so this waits (up to ten seconds) for them.
fn close(services: Arc<Services>) {
    let waited = Instant::now();
    while Arc::strong_count(&services) > 1 && waited.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(10));
    }
    match Arc::try_unwrap(services) {
        Ok(services) => drop(services),
        Err(_) => panic!("a stopped bench server still holds its store"),
    }
}

/// Rows 1 and 2.
fn forward_auth_rows(
    settings: &Settings,
    runtime: &tokio::runtime::Runtime,
    bare: &servers::Running,
    small: &servers::Running,
    large: &servers::Running,
    rows: &mut Vec<Row>,
) {
    let small_tokens = Arc::new(hit_tokens(SMALL));
    let large_tokens = Arc::new(hit_tokens(settings.large));
    let run = |addr: SocketAddr, tokens: &Arc<Vec<String>>, sample: &mut Sample| {
        let cpu_before = process_cpu_secs();
        let wall = Instant::now();
        let round = runtime.block_on(client::forward_auth_round(
            addr,
            Arc::clone(tokens),
            FORWARD_AUTH_CONNECTIONS,
            settings.window(),
        ));
        let cpu = process_cpu_secs() - cpu_before;
        let wall = wall.elapsed().as_secs_f64();
        let done: usize = round.iter().map(|r| r.count()).sum();
        sample.add_round(round);
        progress(&format!(
            "  {addr}: {} req/s; this process (servers + generator) used {:.2} of {} cores, {:.1} µs CPU per request",
            thousands(sample.rates.last().copied().unwrap_or(0.0)),
            cpu / wall,
            settings.cores,
            cpu * 1e6 / done.max(1) as f64 * (settings.secs / wall),
        ));
    };

    if settings.runs(1) {
        row_1(settings, &run, bare, small, &small_tokens, rows);
    }
    if settings.runs(2) {
        row_2(
            settings,
            &run,
            small,
            large,
            &small_tokens,
            &large_tokens,
            rows,
        );
    }
}

type Run<'a> = dyn Fn(SocketAddr, &Arc<Vec<String>>, &mut Sample) + 'a;

fn row_1(
    settings: &Settings,
    run: &Run,
    bare: &servers::Running,
    small: &servers::Running,
    small_tokens: &Arc<Vec<String>>,
    rows: &mut Vec<Row>,
) {
    progress("row 1: forward-auth against the bare handler");
    let (mut gate, mut limit) = (Sample::default(), Sample::default());
    for _ in 0..settings.rounds {
        run(bare.addr, small_tokens, &mut limit);
        run(small.addr, small_tokens, &mut gate);
    }
    let problem = load_problem(&[&gate, &limit]);
    rows.push(
        Row::new(
            "1",
            format!("forward-auth `auth-request`, valid session, {FORWARD_AUTH_CONNECTIONS} connections, in-process generator (see 1e for the external one): throughput"),
        )
        .sides(
            format!("{} req/s", thousands(gate.rate())),
            format!("{} req/s (bare actix-web handler)", thousands(limit.rate())),
        )
        .ratio(gate.rate() / limit.rate(), Goal::AtLeast(0.7))
        .problem(problem.clone()),
    );
    rows.push(
        Row::new("1", "… p99 latency (ratio = limit / Gatehouse)")
            .sides(
                format!("{:.2} ms", gate.quantile_ms(0.99)),
                format!("{:.2} ms", limit.quantile_ms(0.99)),
            )
            .ratio(limit.quantile_ms(0.99) / gate.quantile_ms(0.99), Goal::None)
            .problem(problem),
    );
}

fn row_2(
    settings: &Settings,
    run: &Run,
    small: &servers::Running,
    large: &servers::Running,
    small_tokens: &Arc<Vec<String>>,
    large_tokens: &Arc<Vec<String>>,
    rows: &mut Vec<Row>,
) {
    progress("row 2: forward-auth over the large store against the small one");
    let (mut big, mut small_sample) = (Sample::default(), Sample::default());
    for _ in 0..settings.rounds {
        run(large.addr, large_tokens, &mut big);
        run(small.addr, small_tokens, &mut small_sample);
    }
    let problem = load_problem(&[&big, &small_sample]);
    rows.push(
        Row::new(
            "2",
            format!(
                "forward-auth at scale, in-process generator: {} users, {} sessions vs {} sessions: throughput",
                thousands(settings.large.users as f64),
                thousands(settings.large.sessions as f64),
                thousands(SMALL.sessions as f64)
            ),
        )
        .sides(
            format!("{} req/s", thousands(big.rate())),
            format!("{} req/s", thousands(small_sample.rate())),
        )
        .ratio(big.rate() / small_sample.rate(), Goal::AtLeast(0.9))
        .problem(problem.clone()),
    );
    rows.push(
        Row::new("2", "… p99 latency (ratio = small / large)")
            .sides(
                format!("{:.2} ms", big.quantile_ms(0.99)),
                format!("{:.2} ms", small_sample.quantile_ms(0.99)),
            )
            .ratio(
                small_sample.quantile_ms(0.99) / big.quantile_ms(0.99),
                Goal::None,
            )
            .problem(problem),
    );
}

/// The sessions a forward-auth run cycles through: `HIT_SESSIONS` spread over the
/// whole store (and so over many users).
fn hit_tokens(population: Population) -> Vec<String> {
    let count = HIT_SESSIONS.min(population.sessions);
    let stride = (population.sessions / count).max(1);
    let stride = if stride > 1 { stride + 1 } else { stride };
    (0..count)
        .map(|i| common::session_token((i * stride) % population.sessions))
        .collect()
}

fn load_problem(samples: &[&Sample]) -> Option<String> {
    samples
        .iter()
        .find(|s| s.errors > 0 || s.count() == 0)
        .map(|s| {
            format!(
                "{} errors, {} answers; first: {}",
                s.errors,
                s.count(),
                s.first_error.as_deref().unwrap_or("none")
            )
        })
}
