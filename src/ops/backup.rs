//! `gatehouse backup FILE [--with-key KEYFILE]`: a consistent snapshot of the store,
//! taken while the server runs or not.
//!
//! With a server running, the server copies one read transaction into a new file in
//! its own data directory (the one place a hardened service may write) and verifies
//! it; the CLI — which can reach the socket only as the server's user or root, so it
//! can read that directory too — then links or copies it to FILE and verifies it
//! again. With no server, the CLI does the same on the store directly. Writes carry
//! on during the copy: a redb read transaction is a snapshot and blocks no writer.
//!
//! The snapshot itself is `service::backup`; the server's half of the socket request
//! is `admin_api::backup`. This module is the CLI's half only.
//!
//! The master key is never in the backup. `--with-key` writes it to a separate file
//! (mode 0600, same format as `master.key`).

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use redb::TableHandle;
use serde::Deserialize;

use super::files::{self, absolute, link_or_copy, refuse_existing, remove_if_present};
use crate::admin_api::{AdminRequest, SOCKET_FILE_NAME, socket};
use crate::app::{self, OpenError};
use crate::config::Config;
use crate::keys::write_key_file;
use crate::service::backup::snapshot_verified;
use crate::store::snapshot::{TableCounts, count_rows};
use crate::store::tables::{AUDIT, SESSIONS, USERS};
use crate::store::{STORE_FILE_NAME, Store, StoreError};

#[derive(Deserialize)]
struct Answer {
    tables: TableCounts,
    #[serde(default)]
    key: Option<String>,
}

/// `gatehouse backup`.
pub fn run(
    config: &Config,
    file: &Path,
    key_file: Option<&Path>,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let file = absolute(file)?;
    refuse_existing(&file, "the backup file")?;
    let key_file = key_file.map(absolute).transpose()?;
    if let Some(key_file) = &key_file {
        refuse_existing(key_file, "the key file")?;
        anyhow::ensure!(
            *key_file != file,
            "the backup and the key must go to different files"
        );
    }
    let staged = config.data_dir.join(format!(
        ".backup-{}.redb.partial",
        uuid::Uuid::new_v4().simple()
    ));
    let taken = take_snapshot(config, &staged, key_file.is_some());
    let placed = taken.and_then(|(counts, key)| {
        link_or_copy(&staged, &file)
            .and_then(|()| files::sync_parent(&file))
            .with_context(|| format!("while writing {}", file.display()))?;
        Ok((counts, key))
    });
    remove_if_present(&staged).ok();
    let (counts, key) = placed?;

    let reread = count_rows(&file).with_context(|| format!("while verifying {}", file.display()));
    if reread.as_ref().ok() != Some(&counts) {
        let _ = std::fs::remove_file(&file);
        anyhow::bail!(
            "the backup at {} did not read back as written ({:?}); it was removed",
            file.display(),
            reread
        );
    }
    let bytes = std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);

    if let (Some(key_file), Some(hex)) = (&key_file, &key) {
        let master: [u8; 32] = hex::decode(hex)
            .ok()
            .and_then(|b| b.try_into().ok())
            .context("the master key received from the server is malformed")?;
        write_key_file(key_file, &master)
            .with_context(|| format!("while writing the key file {}", key_file.display()))?;
        files::sync_parent(key_file).ok();
    }

    if json {
        let value = serde_json::json!({
            "file": file.display().to_string(),
            "bytes": bytes,
            "tables": counts,
            "key_file": key_file.as_ref().map(|k| k.display().to_string()),
            "key_included": false,
        });
        println!("{}", serde_json::to_string_pretty(&value)?);
    } else {
        println!(
            "Backup written to {} ({}): {} user(s), {} session(s), {} audit event(s).",
            file.display(),
            files::human_size(bytes),
            counts.rows(USERS.name()),
            counts.rows(SESSIONS.name()),
            counts.rows(AUDIT.name()),
        );
        match &key_file {
            Some(key_file) => println!(
                "The master key is NOT in the backup; it was written to {} (mode 0600). Keep the two apart: together they unlock every secret in the backup.",
                key_file.display()
            ),
            None => println!(
                "The master key is NOT in the backup. Without it a restored store cannot open its TOTP secrets: keep a copy of master.key (or run backup --with-key KEYFILE) somewhere safe, apart from the backup."
            ),
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The snapshot at `staged`, by the running server or directly; with the key's hex
/// when asked.
fn take_snapshot(
    config: &Config,
    staged: &Path,
    with_key: bool,
) -> anyhow::Result<(TableCounts, Option<String>)> {
    let socket_path = config.data_dir.join(SOCKET_FILE_NAME);
    let request = AdminRequest::Backup {
        path: staged.to_owned(),
        with_key,
    };
    if let Some(answer) = socket::send(&socket_path, &request)
        .with_context(|| format!("while talking to the server on {}", socket_path.display()))?
    {
        anyhow::ensure!(
            answer.ok,
            "the server could not take the backup: {}",
            answer.text
        );
        let answer: Answer = serde_json::from_value(answer.data)
            .context("the server's answer to the backup request was not understood")?;
        anyhow::ensure!(
            !with_key || answer.key.is_some(),
            "the server did not send the master key"
        );
        return Ok((answer.tables, answer.key));
    }

    let store_path = config.data_dir.join(STORE_FILE_NAME);
    super::store_location::require_existing(config).context("nothing to back up")?;
    let in_use = || {
        anyhow::anyhow!(
            "the store is in use by a running server, but its admin socket {} does not answer",
            socket_path.display()
        )
    };
    if with_key {
        // Through the services, so the key exported is checked against the store.
        let services = match app::open_services(config) {
            Ok(s) => s,
            Err(OpenError::InUse) => return Err(in_use()),
            Err(OpenError::Other(e)) => return Err(e),
        };
        let snapshot = services.snapshot(staged, true)?;
        return Ok((snapshot.tables, snapshot.key_hex));
    }
    let store = match Store::open(&store_path) {
        Ok(store) => store,
        Err(StoreError::InUse) => return Err(in_use()),
        Err(e) => {
            return Err(anyhow::Error::new(e)
                .context(format!("while opening the store {}", store_path.display())));
        }
    };
    Ok((snapshot_verified(&store, staged)?, None))
}
