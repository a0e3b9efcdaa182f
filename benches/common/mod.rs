//! What both benchmarks share: seeded installations (a data directory with a master key
//! and a store holding N staff users and M sessions) whose session tokens and user
//! passwords the benchmarks know, and where results go on disk.
//!
//! Seeding uses the store's bulk path (`store::bulk`): large transactions committed
//! without fsync, then one durable commit. Every user gets the same Argon2id hash (one
//! hash computed at the configured parameters, so each login still costs one real
//! verification), their own sealed TOTP seed and ten hashed recovery codes (the
//! record of a typical enrolled user), so a correct password leads to the TOTP step.

#![allow(dead_code)] // each benchmark uses part of this module

use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::time::Instant;

use gatehouse::domain::password::{HashParams, PasswordHashing};
use gatehouse::domain::session::{AuthMethod, Lifetimes, Origin, Session, Stage};
use gatehouse::domain::time::{Clock, SystemClock, Timestamp};
use gatehouse::domain::user::{Email, Realm, Role, TotpFactor, User, UserStatus};
use gatehouse::keys::{Keys, write_key_file};
use gatehouse::service::secrets::totp_context;
use gatehouse::store::bulk::Layout;
use gatehouse::store::{STORE_FILE_NAME, Store};

/// Every seeded user's password.
pub const PASSWORD: &str = "correct horse battery staple";
/// Rows per bulk transaction.
pub const BATCH: usize = 100_000;

/// How many users and sessions an installation holds. Sessions are spread evenly over
/// the users (session `i` belongs to user `i % users`).
#[derive(Clone, Copy, Debug)]
pub struct Population {
    pub users: usize,
    pub sessions: usize,
}

/// A seeded data directory.
pub struct Install {
    pub dir: PathBuf,
    pub population: Population,
    /// Seconds the seeding took.
    pub seed_secs: f64,
}

impl Install {
    pub fn store_path(&self) -> PathBuf {
        self.dir.join(STORE_FILE_NAME)
    }

    /// The keys of this installation (read back from its `master.key`).
    pub fn keys(&self) -> Keys {
        let text = std::fs::read_to_string(self.dir.join("master.key")).expect("master.key");
        let bytes: [u8; 32] = hex::decode(text.trim())
            .expect("hex master key")
            .try_into()
            .expect("32-byte master key");
        Keys::from_master(bytes)
    }

    /// Size of the store file in bytes.
    pub fn store_bytes(&self) -> u64 {
        std::fs::metadata(self.store_path()).map_or(0, |m| m.len())
    }
}

/// The email of seeded user `i`. User 0 is the staff admin; its address sorts first
/// in the realm's email index.
pub fn email(i: usize) -> String {
    if i == 0 {
        "admin@bench.example".to_owned()
    } else {
        format!("user{i:06}@bench.example")
    }
}

/// The cookie value of seeded session `i` (43 characters, like a real token).
pub fn session_token(i: usize) -> String {
    format!("bench{i:038}")
}

/// The TOTP seed of seeded user `i`.
fn totp_seed(i: usize) -> Vec<u8> {
    let mut seed = (i as u64).to_le_bytes().repeat(3);
    seed.truncate(20);
    seed
}

/// Creates (or re-creates) a data directory at `dir` holding `population`.
pub fn seed(dir: &Path, population: Population) -> Install {
    seed_as(dir, population, Layout::Current)
}

/// [`seed`] with the user and session records in `layout`; a [`Layout::V1`] store is
/// marked as schema version 1, so its next open migrates it.
pub fn seed_as(dir: &Path, population: Population, layout: Layout) -> Install {
    let started = Instant::now();
    if dir.exists() {
        std::fs::remove_dir_all(dir).expect("remove the old bench data directory");
    }
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .expect("create the bench data directory");
    let mut master = [0u8; 32];
    getrandom::fill(&mut master).expect("OS randomness");
    write_key_file(&dir.join("master.key"), &master).expect("write master.key");
    let keys = Keys::from_master(master);
    let mut store = Store::open(&dir.join(STORE_FILE_NAME)).expect("open the bench store");

    let now = SystemClock.now();
    let hash = PasswordHashing::new(HashParams::RECOMMENDED).hash(PASSWORD);
    let mut ids = Vec::with_capacity(population.users);
    for start in (0..population.users).step_by(BATCH) {
        let end = (start + BATCH).min(population.users);
        let users: Vec<User> = (start..end).map(|i| user(i, &hash, &keys, now)).collect();
        ids.extend(users.iter().map(|u| u.id));
        store
            .bulk_insert_users_as(layout, &users)
            .expect("insert users");
    }

    let lifetimes = Lifetimes {
        idle_secs: 30 * 60,
        absolute_secs: 12 * 3600,
    };
    let origin = Origin {
        ip: "203.0.113.7".to_owned(),
        user_agent: "Firefox on Linux".to_owned(),
    };
    for start in (0..population.sessions).step_by(BATCH) {
        let end = (start + BATCH).min(population.sessions);
        let sessions: Vec<([u8; 32], Session)> = (start..end)
            .map(|i| {
                let key = keys.token_hash("session", &session_token(i));
                let session = Session::start(
                    ids[i % ids.len()],
                    Realm::Staff,
                    Stage::Active,
                    AuthMethod::PasswordTotp,
                    lifetimes,
                    &origin,
                    now,
                );
                (key, session)
            })
            .collect();
        store
            .bulk_insert_sessions_as(layout, &sessions)
            .expect("insert sessions");
    }
    if layout == Layout::V1 {
        store
            .bulk_set_schema_version(1)
            .expect("mark the store as version 1");
    }
    store
        .bulk_finish()
        .expect("final durable commit and compaction");
    drop(store);
    Install {
        dir: dir.to_owned(),
        population,
        seed_secs: started.elapsed().as_secs_f64(),
    }
}

fn user(i: usize, hash: &str, keys: &Keys, now: Timestamp) -> User {
    let role = if i == 0 { Role::Admin } else { Role::Member };
    let mut user = User::new(
        Realm::Staff,
        Email::parse(&email(i)).expect("valid email"),
        format!("Bench User {i}"),
        role,
        UserStatus::Active,
        now,
    );
    user.password_hash = Some(hash.to_owned());
    user.totp = Some(TotpFactor {
        secret: keys
            .seal(&totp_seed(i), &totp_context(user.id))
            .expect("seal a TOTP seed"),
        last_step: 0,
        enrolled_at: now,
    });
    // Like every user with an authenticator: ten recovery codes, stored as keyed hashes.
    user.recovery_codes = (0..10)
        .map(|n| {
            hex::encode(keys.token_hash(&format!("recovery:{}", user.id), &format!("{i}-{n}")))
        })
        .collect();
    user
}

/// Opens `install`'s version-1 store, which migrates it, then compacts it (giving back
/// the pages the old records held, as a store grown at the current version would not have
/// them). Returns the seconds the open (the migration) took.
pub fn migrate(install: &Install) -> f64 {
    let started = Instant::now();
    let mut store = Store::open(&install.store_path()).expect("open and migrate the store");
    let secs = started.elapsed().as_secs_f64();
    store.bulk_finish().expect("compact the migrated store");
    secs
}

/// Cargo's target directory: `CARGO_TARGET_DIR`, else what `cargo metadata` says
/// (criterion finds it the same way), else `target`.
pub fn target_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR") {
        return PathBuf::from(dir);
    }
    let from_metadata = std::env::var_os("CARGO").and_then(|cargo| {
        let output = std::process::Command::new(cargo)
            .args(["metadata", "--format-version", "1", "--no-deps"])
            .output()
            .ok()?;
        let metadata: serde_json::Value = serde_json::from_slice(&output.stdout).ok()?;
        metadata["target_directory"].as_str().map(PathBuf::from)
    });
    from_metadata.unwrap_or_else(|| PathBuf::from("target"))
}

/// Where the benchmarks keep their data directories (removed when a run ends).
pub fn bench_data_dir() -> PathBuf {
    target_dir().join("bench-data")
}

/// Criterion's output directory.
pub fn criterion_dir() -> PathBuf {
    std::env::var_os("CRITERION_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| target_dir().join("criterion"))
}

/// Seconds from the environment variable `name`, else `default`.
pub fn secs_from_env(name: &str, default: f64) -> f64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse::<f64>().ok())
        .filter(|v| *v > 0.0)
        .unwrap_or(default)
}

/// A count from the environment variable `name`, else `default`.
pub fn count_from_env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.replace('_', "").parse::<usize>().ok())
        .filter(|v| *v > 0)
        .unwrap_or(default)
}
