//! The store's page cache is bounded: a server that reads much more of its store than
//! the cache holds keeps only the cache's worth of pages in memory, instead of growing
//! by every page it ever read. This is what keeps a login storm over a large store
//! within the memory budget (README, benchmark row 4: 64 MiB besides Argon2).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;

use gatehouse::domain::session::{AuthMethod, Lifetimes, Origin, Session, Stage};
use gatehouse::domain::time::{Clock, SystemClock};
use gatehouse::domain::user::{Email, Realm, Role, User, UserStatus};
use gatehouse::keys::Keys;
use gatehouse::store::{STORE_FILE_NAME, Store};

use crate::common::binary::Install;

/// Users in the store, each with one session. Every user record fills a page of its
/// own (see [`RECOVERY_CODES`]), so checking every session reads about 70 MiB of
/// distinct store pages: more than twice the bound below.
const USERS: usize = 9_000;
/// Recovery codes per user (hashes of 32 bytes): a ~6.5 KB record, an 8 KiB page.
const RECOVERY_CODES: usize = 200;
/// What the server may use beyond its needs over an empty store while reading them all: the page cache's share of the
/// memory budget, with room for the forward-auth cache and the allocator.
const GROWTH_LIMIT_KIB: u64 = 32 * 1024;

fn token(i: usize) -> String {
    format!("memory-test-session-{i:020}")
}

/// Fills the store of `install` with [`USERS`] users and one session each.
fn fill(install: &Install) {
    let data_dir = install.data_dir();
    let key = std::fs::read_to_string(data_dir.join("master.key")).unwrap();
    let keys = Keys::from_master(hex::decode(key.trim()).unwrap().try_into().unwrap());
    let mut store = Store::open(&data_dir.join(STORE_FILE_NAME)).unwrap();
    let now = SystemClock.now();
    let users: Vec<User> = (0..USERS)
        .map(|i| {
            let mut user = User::new(
                Realm::Staff,
                Email::parse(&format!("user{i}@example.com")).unwrap(),
                format!("User {i}"),
                Role::Member,
                UserStatus::Active,
                now,
            );
            user.recovery_codes = (0..RECOVERY_CODES)
                .map(|c| hex::encode(keys.token_hash("r", &format!("{i}-{c}"))))
                .collect();
            user
        })
        .collect();
    store.bulk_insert_users(&users).unwrap();
    let lifetimes = Lifetimes {
        idle_secs: 3600,
        absolute_secs: 36_000,
    };
    let origin = Origin {
        ip: "192.0.2.9".into(),
        user_agent: "Firefox on Linux".into(),
    };
    let sessions: Vec<([u8; 32], Session)> = users
        .iter()
        .enumerate()
        .map(|(i, user)| {
            let session = Session::start(
                user.id,
                Realm::Staff,
                Stage::Active,
                AuthMethod::PasswordTotp,
                lifetimes,
                &origin,
                now,
            );
            (keys.token_hash("session", &token(i)), session)
        })
        .collect();
    store.bulk_insert_sessions(&sessions).unwrap();
    store.bulk_finish().unwrap();
}

/// A field of `/proc/<pid>/status` in KiB.
fn status_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|line| {
            let rest = line.strip_prefix(field)?.strip_prefix(':')?;
            rest.split_whitespace().next()?.parse().ok()
        })
        .unwrap()
}

/// Forward-auth checks over one keep-alive connection; returns each answer's status.
struct Checker {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
    host: String,
}

impl Checker {
    fn connect(base: &str) -> Checker {
        let host = base.trim_start_matches("http://").to_owned();
        let stream = TcpStream::connect(&host).unwrap();
        stream.set_nodelay(true).unwrap();
        Checker {
            reader: BufReader::new(stream.try_clone().unwrap()),
            writer: stream,
            host,
        }
    }

    fn check(&mut self, token: &str) -> u16 {
        let request = format!(
            "GET /api/authz/auth-request HTTP/1.1\r\nHost: {}\r\nCookie: gh_session={token}\r\n\r\n",
            self.host
        );
        self.writer.write_all(request.as_bytes()).unwrap();
        let mut status_line = String::new();
        self.reader.read_line(&mut status_line).unwrap();
        let mut length = 0usize;
        loop {
            let mut line = String::new();
            self.reader.read_line(&mut line).unwrap();
            if line == "\r\n" {
                break;
            }
            if let Some((name, value)) = line.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse().unwrap();
            }
        }
        let mut body = vec![0; length];
        self.reader.read_exact(&mut body).unwrap();
        status_line
            .split_whitespace()
            .nth(1)
            .unwrap()
            .parse()
            .unwrap()
    }
}

/// An install with its first admin (which creates the store and the master key).
fn install_with_admin() -> Install {
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
    install
}

#[test]
fn reading_a_store_far_larger_than_the_page_cache_keeps_the_server_within_its_budget() {
    // The same binary over an almost empty store: what the process needs besides pages.
    let empty = install_with_admin();
    let server = empty.start();
    assert_eq!(Checker::connect(&server.base).check(&token(0)), 401);
    let baseline = status_kib(server.pid(), "VmHWM");
    server.stop();

    let install = install_with_admin();
    fill(&install);
    let store_bytes = std::fs::metadata(install.data_dir().join(STORE_FILE_NAME))
        .unwrap()
        .len();
    assert!(
        store_bytes > 2 * GROWTH_LIMIT_KIB * 1024,
        "the store ({store_bytes} bytes) must be far larger than the bound"
    );
    // Start-up and the checks of every session, each reading its user's page.
    let server = install.start();
    let mut checker = Checker::connect(&server.base);
    for i in 0..USERS {
        assert_eq!(checker.check(&token(i)), 200, "session {i}");
    }
    let peak = status_kib(server.pid(), "VmHWM");
    let growth = peak.saturating_sub(baseline);
    assert!(
        growth < GROWTH_LIMIT_KIB,
        "reading {USERS} users' pages took the server to a peak of {peak} KiB, {growth} KiB more than over an empty store ({baseline} KiB); the bound is {GROWTH_LIMIT_KIB} KiB"
    );
}
