//! Row 3: full HTTP password sign-ins against raw Argon2id verifications with the
//! same parameters on every core.

use std::time::Instant;

use argon2::{Argon2, PasswordHash, PasswordVerifier};
use gatehouse::domain::password::PasswordHashing;
use gatehouse::service::Services;

use crate::client::{self, Sample, Window};
use crate::report::{Goal, Row};
use crate::{SMALL, Settings, common, load_problem, progress, servers};

/// Row 3.
pub fn login_rows(
    settings: &Settings,
    runtime: &tokio::runtime::Runtime,
    server: &servers::Running,
    services: &Services,
    rows: &mut Vec<Row>,
) {
    let clients = 4 * settings.cores;
    let params = services.settings().hash_params;
    let hash = PasswordHashing::new(params).hash(common::PASSWORD);
    progress(&format!(
        "row 3: {clients} clients signing in against raw Argon2id on {} threads",
        settings.cores
    ));
    let (mut gate, mut limit) = (Sample::default(), Sample::default());
    for _ in 0..settings.rounds {
        limit.add_round(argon2_round(&hash, settings.cores, settings.window()));
        let round = runtime.block_on(client::login_round(
            server.addr,
            SMALL.users,
            clients,
            settings.window(),
        ));
        gate.add_round(round);
    }
    let problem = load_problem(&[&gate, &limit]);
    rows.push(
        Row::new(
            "3",
            format!("password sign-in (GET /login, POST → 303 /login/mfa), {clients} clients: sign-ins/s"),
        )
        .sides(
            format!("{:.1} /s", gate.rate()),
            format!(
                "{:.1} /s (raw Argon2id verifies, m={} KiB t={} p={}, {} threads)",
                limit.rate(),
                params.memory_kib,
                params.iterations,
                params.parallelism,
                settings.cores
            ),
        )
        .ratio(gate.rate() / limit.rate(), Goal::AtLeast(0.85))
        .problem(problem.clone()),
    );
    rows.push(
        Row::new("3", "… p99 latency of a sign-in vs of one verify")
            .sides(
                format!("{:.1} ms", gate.quantile_ms(0.99)),
                format!("{:.1} ms", limit.quantile_ms(0.99)),
            )
            .problem(problem),
    );
}

/// One round of raw Argon2id verifications of `hash` on `threads` threads.
fn argon2_round(hash: &str, threads: usize, window: Window) -> Vec<client::LoopResult> {
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(move || {
                    let parsed = PasswordHash::new(hash).expect("a PHC string");
                    let argon2 = Argon2::default();
                    let mut result = client::LoopResult::new(window);
                    loop {
                        let began = Instant::now();
                        let ok = argon2
                            .verify_password(common::PASSWORD.as_bytes(), &parsed)
                            .map_err(|e| e.to_string());
                        if !result.record(began, ok) {
                            break;
                        }
                    }
                    result
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("an Argon2 thread panicked"))
            .collect()
    })
}
