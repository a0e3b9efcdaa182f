//! Forward-auth measured the way a proxy sees it: `wrk` (2 threads, 64 connections)
//! as its own process against two processes built in this same `cargo bench` run —
//! the release `gatehouse serve` over the small store, and a bare actix-web server
//! (this benchmark's own executable started again with `GH_BARE_SERVER`, running
//! nothing but an actix-web handler that answers with the captured headers of a real
//! allowed answer) — alternating round by round. Nothing of the generator runs inside
//! either server, unlike the in-process rows.

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::{App, HttpResponse, HttpServer, web};

use crate::common::{self, Install};
use crate::process::Spawned;
use crate::report::{Goal, Row, thousands};
use crate::servers::free_port;
use crate::{Settings, progress};

/// The variable that turns this executable into the bare server: `port`.
const BARE_ENV: &str = "GH_BARE_SERVER";
/// The captured headers handed to the bare server (JSON pairs of name and value).
const HEADERS_ENV: &str = "GH_BARE_HEADERS";
const WRK_THREADS: usize = 2;
const WRK_CONNECTIONS: usize = 64;

/// If this process was started as the bare server, runs it (until killed) and never
/// returns; otherwise returns at once.
pub fn bare_server_if_asked() {
    let Ok(port) = std::env::var(BARE_ENV) else {
        return;
    };
    let port: u16 = port.parse().expect("GH_BARE_SERVER=<port>");
    let pairs: Vec<(String, Vec<u8>)> =
        serde_json::from_str(&std::env::var(HEADERS_ENV).expect("GH_BARE_HEADERS"))
            .expect("GH_BARE_HEADERS as JSON");
    let headers: Vec<(HeaderName, HeaderValue)> = pairs
        .into_iter()
        .map(|(name, value)| {
            (
                HeaderName::from_bytes(name.as_bytes()).expect("a header name"),
                HeaderValue::from_bytes(&value).expect("a header value"),
            )
        })
        .collect();
    let headers = web::Data::new(headers);
    actix_web::rt::System::new()
        .block_on(async move {
            HttpServer::new(move || {
                App::new()
                    .app_data(headers.clone())
                    .route(gatehouse::web::paths::AUTH_REQUEST, web::get().to(allow))
            })
            .bind(("127.0.0.1", port))?
            .run()
            .await
        })
        .expect("the bare server");
    std::process::exit(0);
}

async fn allow(headers: web::Data<Vec<(HeaderName, HeaderValue)>>) -> HttpResponse {
    let mut response = HttpResponse::Ok();
    for (name, value) in headers.iter() {
        response.insert_header((name.clone(), value.clone()));
    }
    response.finish()
}

/// `wrk`'s path, or a clear failure.
fn wrk() -> &'static str {
    let found = Command::new("wrk")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok();
    assert!(
        found,
        "the external forward-auth rows need `wrk` on the PATH (Debian/Ubuntu: `apt-get install wrk`); \
         run other rows with GH_BENCH_ROWS=1,2,3,4,5,6,7,9"
    );
    "wrk"
}

/// The bare server as its own process.
struct Bare {
    child: Child,
    addr: SocketAddr,
}

impl Bare {
    fn start(headers: &[(String, Vec<u8>)]) -> Bare {
        let port = free_port();
        let child = Command::new(std::env::current_exe().expect("this executable"))
            .env(BARE_ENV, port.to_string())
            .env(HEADERS_ENV, serde_json::to_string(headers).expect("JSON"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .spawn()
            .expect("start the bare server");
        let addr: SocketAddr = ([127, 0, 0, 1], port).into();
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(addr).is_err() {
            assert!(Instant::now() < deadline, "the bare server did not start");
            std::thread::sleep(Duration::from_millis(10));
        }
        Bare { child, addr }
    }
}

impl Drop for Bare {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One `wrk` run's figures.
#[derive(Clone, Copy, Debug, Default)]
struct WrkRun {
    rate: f64,
    p99_ms: f64,
    errors: u64,
}

fn run_wrk(addr: SocketAddr, cookie: &str, secs: f64) -> WrkRun {
    let output = Command::new(wrk())
        .args([
            &format!("-t{WRK_THREADS}"),
            &format!("-c{WRK_CONNECTIONS}"),
            &format!("-d{}s", secs.ceil() as u64),
            "--latency",
            "-H",
            &format!("Cookie: {cookie}"),
            &format!("http://{addr}{}", gatehouse::web::paths::AUTH_REQUEST),
        ])
        .output()
        .expect("run wrk");
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "wrk failed: {text}");
    parse_wrk(&text).unwrap_or_else(|| panic!("wrk output not understood:\n{text}"))
}

fn parse_wrk(text: &str) -> Option<WrkRun> {
    let rate = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("Requests/sec:"))?
        .trim()
        .parse()
        .ok()?;
    let p99 = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("99%"))?
        .trim();
    let p99_ms = if let Some(v) = p99.strip_suffix("us") {
        v.parse::<f64>().ok()? / 1000.0
    } else if let Some(v) = p99.strip_suffix("ms") {
        v.parse().ok()?
    } else {
        p99.strip_suffix('s')?.parse::<f64>().ok()? * 1000.0
    };
    let count = |prefix: &str| -> u64 {
        text.lines()
            .find_map(|l| l.trim().strip_prefix(prefix))
            .and_then(|rest| rest.trim().split([' ', ',']).next()?.parse().ok())
            .unwrap_or(0)
    };
    let socket_errors: u64 = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("Socket errors:"))
        .map(|rest| {
            rest.split(',')
                .filter_map(|part| part.split_whitespace().nth(1)?.parse::<u64>().ok())
                .sum()
        })
        .unwrap_or(0);
    Some(WrkRun {
        rate,
        p99_ms,
        errors: count("Non-2xx or 3xx responses:") + socket_errors,
    })
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// Rows 1e: forward-auth with `wrk` against the release binary and the bare server.
pub fn wrk_rows(
    settings: &Settings,
    small: &Install,
    headers: &[(String, Vec<u8>)],
    rows: &mut Vec<Row>,
) {
    wrk();
    progress(
        "row 1e: forward-auth with wrk (separate process) against gatehouse serve and a bare actix-web process",
    );
    let mut gatehouse = Spawned::start(small);
    gatehouse.wait_healthy();
    let bare = Bare::start(headers);
    let cookie = format!("gh_session={}", common::session_token(0));
    // Warm both up (connections, page cache, the CPU's frequency).
    run_wrk(gatehouse.addr, &cookie, 1.0);
    run_wrk(bare.addr, &cookie, 1.0);
    let (mut gate, mut limit) = (Vec::new(), Vec::new());
    for round in 0..settings.rounds {
        let l = run_wrk(bare.addr, &cookie, settings.secs);
        let g = run_wrk(gatehouse.addr, &cookie, settings.secs);
        progress(&format!(
            "  round {}: gatehouse {} req/s (p99 {:.2} ms), bare {} req/s (p99 {:.2} ms): {:.2}",
            round + 1,
            thousands(g.rate),
            g.p99_ms,
            thousands(l.rate),
            l.p99_ms,
            g.rate / l.rate
        ));
        gate.push(g);
        limit.push(l);
    }
    gatehouse.stop();
    drop(bare);

    let errors: u64 = gate.iter().chain(&limit).map(|r| r.errors).sum();
    let problem = (errors > 0).then(|| format!("{errors} non-2xx answers or socket errors"));
    let mut ratios: Vec<f64> = gate
        .iter()
        .zip(&limit)
        .map(|(g, l)| g.rate / l.rate)
        .collect();
    let spread = format!(
        "rounds {}",
        ratios
            .iter()
            .map(|r| format!("{r:.2}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let ratio = median(&mut ratios);
    let rate = |runs: &[WrkRun]| median(&mut runs.iter().map(|r| r.rate).collect::<Vec<_>>());
    let p99 = |runs: &[WrkRun]| median(&mut runs.iter().map(|r| r.p99_ms).collect::<Vec<_>>());
    let range = |runs: &[WrkRun]| {
        let mut rates: Vec<f64> = runs.iter().map(|r| r.rate).collect();
        rates.sort_by(f64::total_cmp);
        format!(
            "{}–{}",
            thousands(rates[0]),
            thousands(rates[rates.len() - 1])
        )
    };
    rows.push(
        Row::new(
            "1e",
            format!(
                "forward-auth `auth-request`, external `wrk` ({WRK_THREADS} threads, {WRK_CONNECTIONS} connections), release `gatehouse serve` vs a bare actix-web process: throughput (median of {} alternating rounds; {spread})",
                settings.rounds
            ),
        )
        .sides(
            format!("{} req/s ({})", thousands(rate(&gate)), range(&gate)),
            format!("{} req/s ({}; bare actix-web process)", thousands(rate(&limit)), range(&limit)),
        )
        .ratio(ratio, Goal::AtLeast(0.8))
        .problem(problem.clone()),
    );
    let (gp, lp) = (p99(&gate), p99(&limit));
    rows.push(
        Row::new(
            "1e",
            "… p99 latency (wrk; ratio = bare / Gatehouse; goal: within 1.5×)",
        )
        .sides(format!("{gp:.2} ms"), format!("{lp:.2} ms"))
        .ratio(lp / gp, Goal::AtLeast(1.0 / 1.5))
        .problem(problem),
    );
}
