//! Crash safety: the real binary is killed with SIGKILL at random moments while the CLI
//! invites users and browsers accept invitations, enrol authenticators and sign in with
//! recovery codes. After every kill the store must open cleanly and hold every write
//! that was acknowledged before it (an invitation printed, a 303 or a page received).
//!
//! The random moments come from a seed printed at the start; set `CRASH_TEST_SEED` to
//! replay a run.

use std::collections::BTreeMap;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::common::binary::{BIN, HttpBrowser, Install, code_now};

/// Kills at least this many times…
const ROUNDS: usize = 24;
/// …and, on a loaded machine where the browser got little done, up to this many until
/// the HTTP paths (enrolment, sign-in) were acknowledged at least once.
const MAX_ROUNDS: usize = 40;
const PASSWORD: &str = "crash-test passphrase";

/// What the test was told had happened, per email.
#[derive(Debug, Default, Clone)]
struct Acked {
    link: String,
    /// An acceptance was sent (its answer may have been lost to a kill).
    accept_sent: bool,
    active: bool,
    totp: bool,
    /// Recovery codes not used yet (known once enrolment was acknowledged).
    unused_codes: Vec<String>,
    /// Recovery codes whose sign-in was acknowledged.
    used_codes: usize,
    /// Cookies of acknowledged complete sign-ins.
    sessions: Vec<String>,
}

type Ledger = Arc<Mutex<BTreeMap<String, Acked>>>;

/// A small deterministic generator (xorshift64*), so a seed replays a run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn between(&mut self, low: u64, high: u64) -> u64 {
        low + self.next() % (high - low)
    }
}

/// Invites users through the CLI (the admin socket; after the kill, the store
/// directly) until told to stop.
fn invite_until(
    install_config: std::path::PathBuf,
    round: usize,
    stop: Arc<AtomicBool>,
    ledger: Ledger,
) {
    let mut n = 0;
    while !stop.load(Ordering::Relaxed) {
        let email = format!("r{round}-u{n}@example.com");
        n += 1;
        let out = Command::new(BIN)
            .arg("--config")
            .arg(&install_config)
            .args(["--json", "user", "invite", "--email", &email])
            .stdin(Stdio::null())
            .output()
            .unwrap();
        if !out.status.success() {
            // Killed mid-request: not acknowledged, so either outcome is fine.
            continue;
        }
        let answer: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let link = answer["link"].as_str().unwrap().to_owned();
        ledger.lock().unwrap().insert(
            email,
            Acked {
                link,
                ..Acked::default()
            },
        );
        // Leave the browser thread room to catch up with the invitations.
        std::thread::sleep(Duration::from_millis(40));
    }
}

/// Moves users forward over HTTP: accept the invitation and enrol, or sign in with
/// password + recovery code. Returns when the server stops answering.
async fn browse_until_dead(base: String, stop: Arc<AtomicBool>, ledger: Ledger) {
    let mut turn = 0u64;
    while !stop.load(Ordering::Relaxed) {
        turn += 1;
        let next = {
            let ledger = ledger.lock().unwrap();
            let fresh = ledger.iter().find(|(_, a)| !a.active);
            let enrolled = ledger
                .iter()
                .filter(|(_, a)| a.totp && !a.unused_codes.is_empty())
                .min_by_key(|(_, a)| a.used_codes);
            // Alternate between onboarding and signing in, so both keep happening.
            let pick = if turn.is_multiple_of(2) {
                enrolled.or(fresh)
            } else {
                fresh.or(enrolled)
            };
            pick.map(|(e, a)| (e.clone(), a.clone()))
        };
        let Some((email, acked)) = next else {
            tokio::time::sleep(Duration::from_millis(5)).await;
            continue;
        };
        let alive = if !acked.active {
            onboard(&base, &email, &acked.link, &ledger).await
        } else {
            sign_in(&base, &email, &acked.unused_codes[0], &ledger).await
        };
        if alive.is_none() {
            return;
        }
    }
}

async fn onboard(base: &str, email: &str, link: &str, ledger: &Ledger) -> Option<()> {
    let mut browser = HttpBrowser::new(base);
    let form = browser.try_get(link).await?;
    if form.status != 200 {
        let accept_sent = ledger.lock().unwrap().get(email)?.accept_sent;
        assert!(
            accept_sent,
            "{email}: the acknowledged invitation link no longer works ({})",
            form.status
        );
        // Accepted just before a kill, unacknowledged: the user's state is unknown
        // to the test, so it is not followed further.
        ledger.lock().unwrap().remove(email);
        return Some(());
    }
    ledger.lock().unwrap().get_mut(email)?.accept_sent = true;
    let page = browser
        .try_post(
            link,
            &[("password", PASSWORD), ("password_confirm", PASSWORD)],
        )
        .await?;
    assert_eq!(page.location, "/mfa/setup", "{email}: {}", page.status);
    ledger.lock().unwrap().get_mut(email)?.active = true;
    let page = browser.try_get("/mfa/setup").await?;
    let secret = page.input_value("secret")?;
    let page = browser
        .try_post("/mfa/setup", &[("code", &code_now(&secret, 0))])
        .await?;
    if page.status != 303 {
        return None;
    }
    // The redirect acknowledges the enrolment; the codes are on the page it names
    // (shown once, from the server's memory: gone if the server died meanwhile).
    ledger.lock().unwrap().get_mut(email)?.totp = true;
    let page = browser.try_get(&page.location).await?;
    if page.status != 200 {
        return None;
    }
    let codes = page.codes();
    assert_eq!(codes.len(), 10, "{email}: {}", page.body);
    ledger.lock().unwrap().get_mut(email)?.unused_codes = codes;
    Some(())
}

async fn sign_in(base: &str, email: &str, code: &str, ledger: &Ledger) -> Option<()> {
    let mut browser = HttpBrowser::new(base);
    browser.try_get("/login").await?;
    let page = browser
        .try_post("/login", &[("email", email), ("password", PASSWORD)])
        .await?;
    assert_eq!(page.location, "/login/mfa", "{email}: {}", page.status);
    // Whatever happens next, this code is spent or in flight: never try it again.
    ledger
        .lock()
        .unwrap()
        .get_mut(email)?
        .unused_codes
        .retain(|c| c != code);
    let page = browser.try_post("/login/mfa", &[("code", code)]).await?;
    assert_eq!(page.location, "/account", "{email}: {}", page.status);
    let cookie = browser.cookies.get("gh_session")?.clone();
    let mut ledger = ledger.lock().unwrap();
    let acked = ledger.get_mut(email)?;
    acked.used_codes += 1;
    acked.sessions.push(cookie);
    Some(())
}

/// Checks the stopped store against the ledger through the CLI (which opens the store
/// itself, so this also proves it opens cleanly after the kill).
fn check_store(install: &Install, ledger: &BTreeMap<String, Acked>, round: usize) {
    let list: serde_json::Value =
        serde_json::from_str(&install.cli_ok(&["--json", "user", "list"], "")).unwrap();
    let users: BTreeMap<&str, &serde_json::Value> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|u| (u["email"].as_str().unwrap(), u))
        .collect();
    for (email, acked) in ledger {
        let user = users
            .get(email.as_str())
            .unwrap_or_else(|| panic!("round {round}: acknowledged invitation of {email} lost"));
        if acked.active {
            assert_eq!(user["status"], "active", "round {round}: {email}");
        }
        if acked.totp {
            assert_eq!(
                user["totp"], true,
                "round {round}: {email} lost its authenticator"
            );
            let left = user["recovery_codes_left"].as_u64().unwrap() as usize;
            assert!(
                left <= 10 - acked.used_codes,
                "round {round}: {email} has {left} codes left after {} acknowledged uses",
                acked.used_codes
            );
        }
    }
}

#[test]
fn kill_9_at_random_moments_loses_no_acknowledged_write() {
    let seed = std::env::var("CRASH_TEST_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
                | 1
        });
    println!("crash test seed: {seed} (replay with CRASH_TEST_SEED={seed})");
    let mut rng = Rng(seed);
    let started = Instant::now();
    let install = Install::new();
    install.cli_ok(
        &[
            "admin",
            "create",
            "--email",
            "ops@example.com",
            "--password-stdin",
        ],
        "a long passphrase\n",
    );
    let ledger: Ledger = Arc::default();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();

    let http_exercised = |ledger: &BTreeMap<String, Acked>| {
        ledger.values().any(|a| a.totp) && ledger.values().any(|a| a.used_codes > 0)
    };
    let mut round = 0;
    while round < ROUNDS || (round < MAX_ROUNDS && !http_exercised(&ledger.lock().unwrap())) {
        round += 1;
        let server = install.start();

        // Sessions acknowledged before earlier kills still sign their holders in.
        let snapshot = ledger.lock().unwrap().clone();
        runtime.block_on(async {
            for (email, acked) in &snapshot {
                for cookie in &acked.sessions {
                    let mut browser = HttpBrowser::new(&install.base());
                    browser.cookies.insert("gh_session".into(), cookie.clone());
                    let page = browser.get("/account").await;
                    assert_eq!(page.status, 200, "round {round}: session of {email} lost");
                }
            }
        });

        let stop = Arc::new(AtomicBool::new(false));
        let cli = {
            let (config, stop, ledger) = (install.config_path(), stop.clone(), ledger.clone());
            std::thread::spawn(move || invite_until(config, round, stop, ledger))
        };
        let http = {
            let (base, stop, ledger) = (install.base(), stop.clone(), ledger.clone());
            std::thread::spawn(move || {
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap()
                    .block_on(browse_until_dead(base, stop, ledger))
            })
        };
        std::thread::sleep(Duration::from_millis(rng.between(150, 650)));
        server.kill();
        stop.store(true, Ordering::Relaxed);
        cli.join().unwrap();
        http.join().unwrap();

        check_store(&install, &ledger.lock().unwrap(), round);
    }

    let ledger = ledger.lock().unwrap();
    let logins: usize = ledger.values().map(|a| a.used_codes).sum();
    let enrolled = ledger.values().filter(|a| a.totp).count();
    println!(
        "{round} kills in {:.1}s: {} invitations, {enrolled} enrolments, {logins} sign-ins acknowledged",
        started.elapsed().as_secs_f64(),
        ledger.len()
    );
    assert!(ledger.len() >= ROUNDS, "the CLI wrote in most rounds");
    assert!(enrolled > 0 && logins > 0, "the HTTP paths were exercised");
    let doctor = install.cli(&["doctor"], "");
    assert!(
        doctor.status.success(),
        "{}",
        String::from_utf8_lossy(&doctor.stdout)
    );
}
