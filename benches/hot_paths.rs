//! Micro-benchmarks (criterion) of the work behind every request, each next to the
//! physical limit it cannot beat, measured in the same run:
//!
//! - `totp_verify`: unseal a user's TOTP seed and check a code over ±1 step, against
//!   three bare HMAC-SHA1 computations (one per step checked);
//! - `session_lookup`: `Services::session_for` (session, user, liveness), against one
//!   bare redb point read of the session row;
//! - `csrf_check`: the form-token check of every POST, against one bare HMAC-SHA256;
//! - `login_write`: the write transaction of a password sign-in (user, session and its
//!   indexes, audit event; durable), against an empty durable redb commit (the fsync).
//!
//! `benches/load` reads the medians from criterion's output and puts them in the one
//! table. `GH_BENCH_QUICK=1` shortens every measurement.

// Test and benchmark code may unwrap, expect and panic: a failure should stop loudly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use criterion::{Criterion, SamplingMode, criterion_group, criterion_main};
use hmac::{Hmac, KeyInit, Mac};

use gatehouse::config::Config;
use gatehouse::domain::audit::{Actor, AuditEvent, AuditKind};
use gatehouse::domain::session::{AuthMethod, Lifetimes, Origin, Session, Stage};
use gatehouse::domain::time::{Clock, SystemClock};
use gatehouse::domain::totp::TotpSecret;
use gatehouse::domain::user::Realm;
use gatehouse::service::Services;
use gatehouse::service::secrets::totp_context;
use gatehouse::store::prelude::*;
use gatehouse::store::tables::SESSIONS;
use gatehouse::web::AppState;
use gatehouse::web::csrf;

use common::{Install, Population};

/// Sessions the lookups rotate through.
const LOOKUP_SESSIONS: usize = 1_000;

fn config(install: &Install) -> Config {
    let mut table = toml::Table::new();
    table.insert(
        "data_dir".into(),
        toml::Value::String(install.dir.display().to_string()),
    );
    table.insert("listen".into(), toml::Value::String("127.0.0.1:9".into()));
    Config::from_table(table).expect("bench config")
}

fn services(install: &Install) -> Arc<Services> {
    gatehouse::app::open_services(&config(install))
        .unwrap_or_else(|_| panic!("open the bench store {}", install.dir.display()))
}

fn totp_verify(c: &mut Criterion, services: &Services) {
    let user = services
        .store()
        .read(|r| r.user_by_email(Realm::Staff, &email(1)))
        .expect("read a user")
        .expect("seeded user");
    let factor = user.totp.clone().expect("seeded TOTP factor");
    let context = totp_context(user.id);
    let now = SystemClock.now();
    let seed = services
        .keys()
        .open(&factor.secret, &context)
        .expect("unseal");
    let code = TotpSecret::from_bytes(seed.clone()).code_at(now.0 as u64, 6);

    let mut group = c.benchmark_group("totp_verify");
    group.bench_function("gatehouse", |b| {
        b.iter(|| {
            let seed = services
                .keys()
                .open(&factor.secret, &context)
                .expect("unseal");
            let step = TotpSecret::from_bytes(seed).verify(black_box(&code), now, Some(0));
            assert!(step.is_some());
        })
    });
    group.bench_function("limit", |b| {
        let origin = now.0 as u64 / 30;
        b.iter(|| {
            for step in origin - 1..=origin + 1 {
                let mut mac = <Hmac<sha1::Sha1> as KeyInit>::new_from_slice(&seed)
                    .unwrap_or_else(|_| unreachable!());
                mac.update(&step.to_be_bytes());
                black_box(mac.finalize().into_bytes());
            }
        })
    });
    group.finish();
}

fn email(i: usize) -> gatehouse::domain::user::Email {
    gatehouse::domain::user::Email::parse(&common::email(i)).expect("email")
}

fn session_lookup(c: &mut Criterion, services: &Services) {
    let tokens: Vec<String> = (0..LOOKUP_SESSIONS).map(common::session_token).collect();
    let keys: Vec<gatehouse::store::sessions::SessionKey> =
        tokens.iter().map(|t| services.session_key(t)).collect();
    let mut group = c.benchmark_group("session_lookup");
    let mut i = 0;
    group.bench_function("gatehouse", |b| {
        b.iter(|| {
            i = (i + 1) % tokens.len();
            let found = services
                .session_for(Realm::Staff, black_box(&tokens[i]), Stage::Active)
                .expect("session lookup");
            assert!(found.is_some());
        })
    });
    group.bench_function("limit", |b| {
        b.iter(|| {
            i = (i + 1) % keys.len();
            let len = services
                .store()
                .read(|r| {
                    let table = r.table(SESSIONS)?;
                    let row = table.get(black_box(&keys[i])).map_err(StoreError::from)?;
                    Ok::<_, StoreError>(row.map(|v| v.value().len()))
                })
                .expect("raw read");
            assert!(len.is_some());
        })
    });
    group.finish();
}

fn csrf_check(c: &mut Criterion, services: Arc<Services>, config: Config) {
    let state = AppState::new(services, Arc::new(config));
    let cookie = csrf::new_cookie_value();
    let sent = csrf::token_for(&state, &cookie);
    let mut group = c.benchmark_group("csrf_check");
    group.bench_function("gatehouse", |b| {
        b.iter(|| assert!(csrf::token_matches(&state, black_box(&cookie), &sent)))
    });
    group.bench_function("limit", |b| {
        let key = [7u8; 32];
        b.iter(|| {
            let mut mac = <Hmac<sha2::Sha256> as KeyInit>::new_from_slice(&key)
                .unwrap_or_else(|_| unreachable!());
            mac.update(black_box(cookie.as_bytes()));
            black_box(mac.finalize().into_bytes());
        })
    });
    group.finish();
}

fn login_write(c: &mut Criterion, services: &Services) {
    let user = services
        .store()
        .read(|r| r.user_by_email(Realm::Staff, &email(2)))
        .expect("read a user")
        .expect("seeded user");
    let origin = Origin {
        ip: "203.0.113.9".to_owned(),
        user_agent: "Firefox on Linux".to_owned(),
    };
    let lifetimes = Lifetimes {
        idle_secs: 30 * 60,
        absolute_secs: 12 * 3600,
    };
    let counter = AtomicU64::new(0);
    let mut group = c.benchmark_group("login_write");
    group.sampling_mode(SamplingMode::Flat);
    group.bench_function("gatehouse", |b| {
        b.iter(|| {
            // What `password_step` writes: the user (updated_at), a pending session
            // and its index rows, and one audit event, committed durably.
            let now = SystemClock.now();
            let n = counter.fetch_add(1, Ordering::Relaxed);
            let key = services.session_key(&format!("login-write-{n}"));
            let mut fresh = user.clone();
            fresh.updated_at = now;
            let session = Session::start(
                user.id,
                Realm::Staff,
                Stage::PendingMfa,
                AuthMethod::PasswordTotp,
                lifetimes,
                &origin,
                now,
            );
            let event = AuditEvent::new(AuditKind::PasswordAccepted, now)
                .by(Actor::User(user.id), user.email.as_str())
                .about(user.id, user.email.as_str())
                .in_realm(Realm::Staff)
                .from_ip(&origin.ip)
                .detail("password");
            services
                .store()
                .write(|w| {
                    w.put_user(&fresh)?;
                    w.put_session(&key, &session)?;
                    w.append_audit(&event)?;
                    Ok::<_, StoreError>(())
                })
                .expect("login write");
        })
    });
    group.bench_function("limit", |b| {
        b.iter(|| {
            services
                .store()
                .write(|_| Ok::<_, StoreError>(()))
                .expect("empty durable commit")
        })
    });
    group.finish();
}

fn hot_paths(c: &mut Criterion) {
    let dir = common::bench_data_dir().join("micro");
    let install = common::seed(
        &dir,
        Population {
            users: 100,
            sessions: LOOKUP_SESSIONS,
        },
    );
    let services = services(&install);
    totp_verify(c, &services);
    session_lookup(c, &services);
    csrf_check(c, Arc::clone(&services), config(&install));
    login_write(c, &services);
    drop(services);
    let _ = std::fs::remove_dir_all(&dir);
}

fn settings() -> Criterion {
    let quick = std::env::var_os("GH_BENCH_QUICK").is_some();
    let (warm_up, measure, samples) = if quick {
        (0.3, 0.7, 10)
    } else {
        (1.0, 3.0, 40)
    };
    Criterion::default()
        .warm_up_time(Duration::from_secs_f64(warm_up))
        .measurement_time(Duration::from_secs_f64(measure))
        .sample_size(samples)
}

criterion_group! {
    name = benches;
    config = settings();
    targets = hot_paths
}
criterion_main!(benches);
