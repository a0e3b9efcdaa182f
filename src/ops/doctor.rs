//! `gatehouse doctor`: what is wrong, before users notice. One line per finding —
//! `ok`, `warn` or `error` — and exit code 1 when any finding is an error.
//!
//! The facts are gathered once into a [`Context`] (configuration, file metadata, and
//! the store's status: from the running server over its admin socket, or from the
//! store itself when stopped, then with a full page-checksum check). Each check is a
//! small function from the context to findings, listed in [`CHECKS`]; a new check is a
//! new function there. Checks never change anything, except that opening a stopped
//! server's store lets redb finish recovery from an unclean shutdown, as any command
//! would.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use serde::Serialize;

use super::files;
use super::status::{self, StoreStatus};
use crate::admin_api::SOCKET_FILE_NAME;
use crate::app::{self, OpenError};
use crate::config::{Config, ConfigError};
use crate::domain::time::{Clock, SystemClock, Timestamp};
use crate::keys::{CREDENTIAL_NAME, KeySource};
use crate::store::migrations::CURRENT_VERSION;
use crate::store::snapshot::verify_in_place;
use crate::store::{STORE_FILE_NAME, StoreError};

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Ok,
    Warn,
    Error,
}

impl Level {
    fn as_str(self) -> &'static str {
        match self {
            Level::Ok => "ok",
            Level::Warn => "warn",
            Level::Error => "error",
        }
    }
}

/// One line of the report.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub level: Level,
    /// Which check: `config`, `data-dir`, `master-key`, `store`, `schema`, …
    pub check: &'static str,
    pub message: String,
}

impl Finding {
    pub fn ok(check: &'static str, message: impl Into<String>) -> Finding {
        Finding {
            level: Level::Ok,
            check,
            message: message.into(),
        }
    }

    pub fn warn(check: &'static str, message: impl Into<String>) -> Finding {
        Finding {
            level: Level::Warn,
            check,
            message: message.into(),
        }
    }

    pub fn error(check: &'static str, message: impl Into<String>) -> Finding {
        Finding {
            level: Level::Error,
            check,
            message: message.into(),
        }
    }
}

/// The store as doctor found it.
#[derive(Debug)]
pub enum StoreState {
    /// A server runs and answered on its admin socket.
    Running {
        status: StoreStatus,
        socket_uid: u32,
    },
    /// No server; the store was opened and checked.
    Checked {
        /// Every page checksum verified, or why not.
        integrity: Result<(), String>,
        schema_version: Option<u64>,
        /// The status, when the store could be opened with the master key.
        status: Result<StoreStatus, String>,
    },
    /// No store file yet (first start creates it).
    Absent,
    /// The store could not be opened at all.
    Unreadable(String),
}

/// Everything the checks look at.
#[derive(Debug)]
pub struct Context<'a> {
    pub config: &'a Config,
    /// The effective user id doctor runs as.
    pub euid: u32,
    pub now: Timestamp,
    /// Lower bound for the correct time: when this binary was built.
    pub built_at: Timestamp,
    pub key_source: KeySource,
    pub store: StoreState,
}

impl Context<'_> {
    /// The uid that should own the data directory, key and store: the running
    /// server's; else, when doctor runs as root, the data directory's owner (the
    /// service user); else doctor's own.
    fn service_uid(&self) -> u32 {
        if let StoreState::Running { socket_uid, .. } = &self.store {
            return *socket_uid;
        }
        if self.euid == 0
            && let Ok(meta) = std::fs::metadata(&self.config.data_dir)
        {
            return meta.uid();
        }
        self.euid
    }

    /// The store's status, however it was obtained.
    fn status(&self) -> Option<&StoreStatus> {
        match &self.store {
            StoreState::Running { status, .. } => Some(status),
            StoreState::Checked {
                status: Ok(status), ..
            } => Some(status),
            _ => None,
        }
    }
}

type Check = fn(&Context) -> Vec<Finding>;

/// Every check, in report order.
pub const CHECKS: &[Check] = &[
    check_config,
    check_data_dir,
    check_master_key,
    check_store_file,
    check_store,
    check_schema,
    check_admins,
    check_break_glass,
    check_sso_secrets_expiring,
    check_sso_test_status,
    check_clock,
    check_leftovers,
];

/// `gatehouse doctor`.
pub fn run(config: &Config, json: bool) -> anyhow::Result<ExitCode> {
    let context = gather(config);
    let findings: Vec<Finding> = CHECKS.iter().flat_map(|check| check(&context)).collect();
    Ok(report(&findings, json))
}

/// `gatehouse doctor` when the configuration itself does not load.
pub fn config_failed(error: &ConfigError, json: bool) -> ExitCode {
    report(&[Finding::error("config", error.to_string())], json)
}

fn report(findings: &[Finding], json: bool) -> ExitCode {
    let worst = findings.iter().map(|f| f.level).max().unwrap_or(Level::Ok);
    if json {
        let value = serde_json::json!({
            "ok": worst != Level::Error,
            "findings": findings,
        });
        println!(
            "{}",
            serde_json::to_string_pretty(&value).unwrap_or_default()
        );
    } else {
        for f in findings {
            println!("{:<5} {}: {}", f.level.as_str(), f.check, f.message);
        }
    }
    if worst == Level::Error {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// Collects the facts: file metadata is read by the checks themselves; the store's
/// state needs the server or an open.
fn gather(config: &Config) -> Context<'_> {
    let store_path = config.data_dir.join(STORE_FILE_NAME);
    let store = match files::running_server(config) {
        Err(e) => StoreState::Unreadable(format!("{e:#}")),
        Ok(Some(answer)) if answer.ok => {
            let socket_uid = std::fs::metadata(config.data_dir.join(SOCKET_FILE_NAME))
                .map(|m| m.uid())
                .unwrap_or(u32::MAX);
            match serde_json::from_value(answer.data) {
                Ok(status) => StoreState::Running { status, socket_uid },
                Err(_) => StoreState::Unreadable(
                    "the running server's status was not understood (is it the same version as this CLI?)"
                        .to_owned(),
                ),
            }
        }
        Ok(Some(answer)) => StoreState::Unreadable(format!("the running server: {}", answer.text)),
        Ok(None) if !store_path.exists() => StoreState::Absent,
        Ok(None) => check_stopped_store(config, &store_path),
    };
    Context {
        config,
        euid: rustix::process::geteuid().as_raw(),
        now: SystemClock.now(),
        built_at: Timestamp(env!("BUILT_AT_UNIX").parse().unwrap_or(0)),
        key_source: KeySource::locate(&config.data_dir, config.master_key_file.as_deref(), true),
        store,
    }
}

/// Opens a stopped server's store: page checksums first (before anything trusts the
/// file), then the services for the key check and the status.
fn check_stopped_store(config: &Config, path: &Path) -> StoreState {
    let (integrity, schema_version) = match verify_in_place(path) {
        Ok(version) => (Ok(()), version),
        Err(StoreError::InUse) => {
            return StoreState::Unreadable(
                "the store is in use by a process that does not answer on the admin socket"
                    .to_owned(),
            );
        }
        Err(e @ StoreError::Corrupt { .. }) => (Err(e.to_string()), None),
        Err(e) => return StoreState::Unreadable(e.to_string()),
    };
    let status = match (&integrity, schema_version) {
        (Err(_), _) => Err("not read: the integrity check failed".to_owned()),
        // An older store would be migrated by opening it; doctor leaves that to `serve`.
        (_, Some(v)) if v != CURRENT_VERSION => Err(format!("not read: schema version {v}")),
        _ => match app::open_services(config) {
            Ok(services) => status::collect(&services).map_err(|e| e.to_string()),
            Err(OpenError::InUse) => Err(StoreError::InUse.to_string()),
            Err(OpenError::Other(e)) => Err(format!("{e:#}")),
        },
    };
    StoreState::Checked {
        integrity,
        schema_version,
        status,
    }
}

// ---- the checks ----

fn check_config(ctx: &Context) -> Vec<Finding> {
    let mut findings = Vec::new();
    if let Some(tls) = &ctx.config.tls {
        for (key, path) in [("tls.cert", &tls.cert), ("tls.key", &tls.key)] {
            if let Err(e) = std::fs::File::open(path) {
                findings.push(Finding::error(
                    "config",
                    format!("`{key}`: cannot read {}: {e}", path.display()),
                ));
            }
        }
    }
    if findings.is_empty() {
        findings.push(Finding::ok(
            "config",
            format!(
                "valid (listen {}, public_url {}, data_dir {})",
                ctx.config.listen,
                ctx.config.base_url(),
                ctx.config.data_dir.display()
            ),
        ));
    }
    findings
}

/// Who should own a file, and how bad a mismatch is.
struct Expect {
    /// Mode bits allowed (e.g. 0o600).
    mode: u32,
    /// Level when other mode bits are set.
    loose: Level,
    /// Level when someone other than the service user owns it.
    foreign: Level,
}

/// The owner and mode of `path` against `expect`.
fn ownership(ctx: &Context, check: &'static str, path: &Path, expect: Expect) -> Finding {
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) => return Finding::error(check, format!("cannot read {}: {e}", path.display())),
    };
    let mode = meta.mode() & 0o777;
    let service_uid = ctx.service_uid();
    if meta.uid() != service_uid {
        return Finding {
            level: expect.foreign,
            check,
            message: format!(
                "{} is owned by uid {}, but the server runs as uid {service_uid}: chown it to the service user",
                path.display(),
                meta.uid()
            ),
        };
    }
    if mode & !expect.mode != 0 {
        return Finding {
            level: expect.loose,
            check,
            message: format!(
                "{} has mode {mode:o}; it should be {:o} (chmod {:o} {})",
                path.display(),
                expect.mode,
                expect.mode,
                path.display()
            ),
        };
    }
    Finding::ok(
        check,
        format!("{} (mode {mode:o}, uid {})", path.display(), meta.uid()),
    )
}

fn check_data_dir(ctx: &Context) -> Vec<Finding> {
    let dir = &ctx.config.data_dir;
    match std::fs::metadata(dir) {
        Err(_) => vec![Finding::warn(
            "data-dir",
            format!(
                "{} does not exist yet; the first start creates it (mode 700)",
                dir.display()
            ),
        )],
        Ok(meta) if !meta.is_dir() => vec![Finding::error(
            "data-dir",
            format!("{} is not a directory", dir.display()),
        )],
        Ok(_) => vec![ownership(
            ctx,
            "data-dir",
            dir,
            Expect {
                mode: 0o700,
                loose: Level::Warn,
                foreign: Level::Warn,
            },
        )],
    }
}

fn check_master_key(ctx: &Context) -> Vec<Finding> {
    let path = &ctx.key_source.path;
    if path.file_name().is_some_and(|n| n == CREDENTIAL_NAME) {
        return vec![Finding::ok(
            "master-key",
            format!("from the systemd credential {}", path.display()),
        )];
    }
    if std::fs::metadata(path).is_err() {
        let store_exists = ctx.config.data_dir.join(STORE_FILE_NAME).exists();
        return vec![if store_exists {
            Finding::error(
                "master-key",
                format!(
                    "{} is missing but the store exists: restore the key file; without it no secret in the store can be read",
                    path.display()
                ),
            )
        } else {
            Finding::ok(
                "master-key",
                format!("{} will be created at first start", path.display()),
            )
        }];
    }
    // The server refuses to start with a key others can read, or cannot read its own.
    vec![ownership(
        ctx,
        "master-key",
        path,
        Expect {
            mode: 0o600,
            loose: Level::Error,
            foreign: Level::Error,
        },
    )]
}

fn check_store_file(ctx: &Context) -> Vec<Finding> {
    let path = ctx.config.data_dir.join(STORE_FILE_NAME);
    if !path.exists() {
        return vec![];
    }
    vec![ownership(
        ctx,
        "store-file",
        &path,
        Expect {
            mode: 0o600,
            loose: Level::Warn,
            foreign: Level::Error,
        },
    )]
}

fn check_store(ctx: &Context) -> Vec<Finding> {
    match &ctx.store {
        StoreState::Running { status, .. } => vec![Finding::ok(
            "store",
            format!(
                "a server is running and answered on the admin socket ({} user(s), {} session(s)); page checksums are checked only while it is stopped",
                status.users, status.sessions
            ),
        )],
        StoreState::Absent => vec![Finding::warn(
            "store",
            "no store yet; the first `gatehouse serve` creates it and prints a setup link",
        )],
        StoreState::Unreadable(why) => {
            vec![Finding::error("store", format!("cannot be opened: {why}"))]
        }
        StoreState::Checked {
            integrity, status, ..
        } => {
            let mut findings = vec![match integrity {
                Ok(()) => Finding::ok("store", "every page checksum verified"),
                Err(e) => Finding::error(
                    "store",
                    format!(
                        "integrity check failed: {e}; restore a backup (`gatehouse restore FILE`)"
                    ),
                ),
            }];
            if let Err(why) = status
                && integrity.is_ok()
                && !why.starts_with("not read: schema")
            {
                findings.push(Finding::error("store", format!("cannot be read: {why}")));
            }
            findings
        }
    }
}

fn check_schema(ctx: &Context) -> Vec<Finding> {
    let version = match &ctx.store {
        StoreState::Running { status, .. } => Some(status.schema_version),
        StoreState::Checked { schema_version, .. } => *schema_version,
        StoreState::Absent | StoreState::Unreadable(_) => return vec![],
    };
    vec![match version {
        Some(v) if v == CURRENT_VERSION => Finding::ok("schema", format!("version {v} (current)")),
        Some(v) if v < CURRENT_VERSION => Finding::warn(
            "schema",
            format!(
                "version {v}; the next start migrates it to {CURRENT_VERSION} (take a backup first)"
            ),
        ),
        Some(v) => Finding::error(
            "schema",
            format!(
                "version {v} was written by a newer Gatehouse (this one knows {CURRENT_VERSION}): upgrade gatehouse"
            ),
        ),
        None => Finding::error(
            "schema",
            "no schema version recorded: not a Gatehouse store?",
        ),
    }]
}

fn check_admins(ctx: &Context) -> Vec<Finding> {
    let Some(status) = ctx.status() else {
        return vec![];
    };
    vec![match status.active_staff_admins.len() {
        0 => Finding::warn(
            "admins",
            "no active staff admin: open the setup link printed at start, or run `gatehouse admin create`",
        ),
        n => Finding::ok(
            "admins",
            format!(
                "{n} active staff admin(s): {}",
                status.active_staff_admins.join(", ")
            ),
        ),
    }]
}

fn check_break_glass(ctx: &Context) -> Vec<Finding> {
    let Some(status) = ctx.status() else {
        return vec![];
    };
    vec![match (status.break_glass.len(), status.staff_sso_only) {
        (0, true) => Finding::warn(
            "break-glass",
            "staff SSO-only is on and no account is flagged break-glass: if Microsoft sign-in fails, only `gatehouse sso-only off` on this server gets admins back in",
        ),
        (0, false) => Finding::ok("break-glass", "no break-glass accounts"),
        (n, _) => Finding::ok(
            "break-glass",
            format!(
                "{n} break-glass account(s): {}",
                status.break_glass.join(", ")
            ),
        ),
    }]
}

/// Extension point for the SSO work: a `warn` for every client secret (staff app,
/// portal app) that expires within 30 days, an `error` for one already expired.
/// Reads expiry dates that `StoreStatus` will carry; nothing to check until then.
fn check_sso_secrets_expiring(_ctx: &Context) -> Vec<Finding> {
    Vec::new()
}

/// Extension point for the SSO work: a `warn` when SSO is enabled but the last
/// connection test failed or predates the current settings.
fn check_sso_test_status(_ctx: &Context) -> Vec<Finding> {
    Vec::new()
}

/// Clock sanity. Without a network time source doctor can only catch clocks that are
/// provably wrong: (1) earlier than the moment this binary was built — an error, as
/// sessions and TOTP would misbehave; (2) more than 5 minutes earlier than the newest
/// audit event — the clock stepped back, and TOTP codes may be refused until it
/// catches up (each code must be newer than the last one used); (3) more than 20 years
/// after the build, which suggests a clock set far in the future.
fn check_clock(ctx: &Context) -> Vec<Finding> {
    const SLACK_SECS: i64 = 5 * 60;
    const FAR_FUTURE_SECS: i64 = 20 * 365 * 86_400;
    let now = ctx.now;
    if now.0 + SLACK_SECS < ctx.built_at.0 {
        return vec![Finding::error(
            "clock",
            format!(
                "the system clock says {}, before this binary was built ({}): set the time (NTP)",
                now.to_rfc3339(),
                ctx.built_at.to_rfc3339()
            ),
        )];
    }
    if let Some(newest) = ctx.status().and_then(|s| s.newest_audit_at)
        && now.0 + SLACK_SECS < newest
    {
        return vec![Finding::warn(
            "clock",
            format!(
                "the system clock ({}) is behind the newest audit event ({}): it stepped back; TOTP codes may be refused until it catches up",
                now.to_rfc3339(),
                Timestamp(newest).to_rfc3339()
            ),
        )];
    }
    if now.0 > ctx.built_at.0 + FAR_FUTURE_SECS {
        return vec![Finding::warn(
            "clock",
            format!(
                "the system clock says {}, decades after this binary was built: check the time",
                now.to_rfc3339()
            ),
        )];
    }
    vec![Finding::ok(
        "clock",
        format!(
            "{} (after the build date and the newest audit event)",
            now.to_rfc3339()
        ),
    )]
}

/// Files an interrupted backup or restore may leave in the data directory.
fn check_leftovers(ctx: &Context) -> Vec<Finding> {
    let Ok(entries) = std::fs::read_dir(&ctx.config.data_dir) else {
        return vec![];
    };
    let leftovers: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            let name = p.file_name().unwrap_or_default().to_string_lossy();
            (name.starts_with(".backup-") && name.ends_with(".partial"))
                || name.ends_with(".restoring")
                || name.ends_with(".bak.new")
        })
        .collect();
    if leftovers.is_empty() {
        return vec![];
    }
    vec![Finding::warn(
        "leftovers",
        format!(
            "an interrupted backup or restore left {}; remove them once no backup or restore runs",
            leftovers
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    )]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context(config: &Config, store: StoreState) -> Context<'_> {
        Context {
            config,
            euid: 1000,
            now: Timestamp(1_800_000_000),
            built_at: Timestamp(1_790_000_000),
            key_source: KeySource::locate(&config.data_dir, None, true),
            store,
        }
    }

    fn config() -> Config {
        let table: toml::Table = "data_dir = '/nonexistent-doctor-test'".parse().unwrap();
        Config::from_table(table).unwrap()
    }

    fn levels(findings: &[Finding]) -> Vec<Level> {
        findings.iter().map(|f| f.level).collect()
    }

    #[test]
    fn the_clock_rule() {
        let config = config();
        let mut ctx = context(&config, StoreState::Absent);
        assert_eq!(levels(&check_clock(&ctx)), [Level::Ok]);
        ctx.now = Timestamp(1_700_000_000);
        assert_eq!(levels(&check_clock(&ctx)), [Level::Error]);

        ctx.now = Timestamp(1_800_000_000);
        ctx.store = StoreState::Running {
            socket_uid: 1000,
            status: StoreStatus {
                newest_audit_at: Some(1_800_000_000 + 3600),
                ..StoreStatus::default()
            },
        };
        assert_eq!(levels(&check_clock(&ctx)), [Level::Warn]);
        ctx.now = Timestamp(1_790_000_000 + 30 * 365 * 86_400);
        assert_eq!(levels(&check_clock(&ctx)), [Level::Warn]);
    }

    #[test]
    fn admins_break_glass_and_schema_from_the_status() {
        let config = config();
        let status = StoreStatus {
            schema_version: CURRENT_VERSION,
            supported_version: CURRENT_VERSION,
            staff_sso_only: true,
            ..StoreStatus::default()
        };
        let ctx = context(
            &config,
            StoreState::Running {
                status,
                socket_uid: 1000,
            },
        );
        assert_eq!(levels(&check_admins(&ctx)), [Level::Warn]);
        assert_eq!(levels(&check_break_glass(&ctx)), [Level::Warn]);
        assert_eq!(levels(&check_schema(&ctx)), [Level::Ok]);

        let ctx = context(
            &config,
            StoreState::Checked {
                integrity: Ok(()),
                schema_version: Some(CURRENT_VERSION + 1),
                status: Err("not read: schema version 2".into()),
            },
        );
        assert_eq!(levels(&check_schema(&ctx)), [Level::Error]);
        assert_eq!(levels(&check_store(&ctx)), [Level::Ok]);
        assert!(check_admins(&ctx).is_empty());
    }

    #[test]
    fn a_readable_key_is_an_error_and_a_loose_directory_a_warning() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let table: toml::Table = format!("data_dir = '{}'", dir.path().display())
            .parse()
            .unwrap();
        let config = Config::from_table(table).unwrap();
        let mut ctx = context(&config, StoreState::Absent);
        ctx.euid = rustix::process::geteuid().as_raw();
        let key = dir.path().join("master.key");
        std::fs::write(&key, "00").unwrap();
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        assert_eq!(levels(&check_master_key(&ctx)), [Level::Error]);
        assert_eq!(levels(&check_data_dir(&ctx)), [Level::Warn]);
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
        assert_eq!(levels(&check_master_key(&ctx)), [Level::Ok]);
        assert_eq!(levels(&check_data_dir(&ctx)), [Level::Ok]);
    }
}
