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
use crate::admin_api::SOCKET_FILE_NAME;
use crate::app::{self, OpenError};
use crate::config::{Config, ConfigError};
use crate::domain::time::{Clock, SystemClock, Timestamp};
use crate::keys::{CREDENTIAL_NAME, KeySource};
use crate::service::status::StoreStatus;
use crate::store::migrations::CURRENT_VERSION;
use crate::store::snapshot::verify_in_place;
use crate::store::{STORE_FILE_NAME, StoreError};

mod checks;
mod mail;
mod sso;
use checks::*;

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
    pub(super) fn status(&self) -> Option<&StoreStatus> {
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
    sso::check_sso_secrets_expiring,
    sso::check_sso_test_status,
    mail::check_email,
    sso::check_sweeps,
    check_clock,
    check_forwarding,
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
            Ok(services) => services.store_status().map_err(|e| e.to_string()),
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
        assert_eq!(levels(&check_forwarding(&ctx)), [Level::Ok]);

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
