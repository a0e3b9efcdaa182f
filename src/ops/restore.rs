//! `gatehouse restore FILE [--key KEYFILE]`: puts a backup in place of the store of a
//! stopped server.
//!
//! Nothing is replaced until the backup has been proven usable: it is copied into the
//! data directory, every page checksum is verified, its schema is brought up to date
//! (a newer schema than this build knows is refused), and the master key — the
//! current one, or the one given with `--key` — must open the store's key-check
//! record. Only then is it moved into place, the replaced store kept as
//! `gatehouse.redb.bak` (and a replaced key as `master.key.bak`).

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;

use super::files::{self, absolute, copy_new, remove_if_present, replace_keeping_old};
use crate::app::ensure_data_dir;
use crate::config::Config;
use crate::domain::time::SystemClock;
use crate::keys::{KeySource, Keys, write_key_file};
use crate::service::status::StoreStatus;
use crate::service::{ServiceError, ServiceSettings, Services};
use crate::store::migrations::CURRENT_VERSION;
use crate::store::snapshot::check_file;
use crate::store::{STORE_FILE_NAME, Store, StoreError};

/// Where the backup is staged while it is checked.
const STAGED_NAME: &str = "gatehouse.redb.restoring";

/// What a restore did.
#[derive(Debug, serde::Serialize)]
struct Restored {
    store: PathBuf,
    previous_kept_as: Option<PathBuf>,
    key_installed: Option<PathBuf>,
    previous_key_kept_as: Option<PathBuf>,
    migrated_from: Option<u64>,
    status: StoreStatus,
}

/// `gatehouse restore`.
pub fn run(
    config: &Config,
    file: &Path,
    key_file: Option<&Path>,
    json: bool,
) -> anyhow::Result<ExitCode> {
    if files::running_server(config)?.is_some() {
        anyhow::bail!(
            "the server is running (its admin socket in {} answers): stop it first (e.g. `systemctl stop gatehouse`), then run restore again",
            config.data_dir.display()
        );
    }
    let file = absolute(file)?;
    std::fs::metadata(&file).with_context(|| format!("cannot read {}", file.display()))?;

    let key_source = KeySource::locate(&config.data_dir, config.master_key_file.as_deref(), true);
    let keys = match key_file {
        Some(path) => Keys::load(&KeySource {
            path: absolute(path)?,
            may_create: false,
        })
        .context("while reading the key given with --key")?,
        None => Keys::load(&key_source).context(
            "while reading the current master key (give the key saved with `backup --with-key` as --key FILE)",
        )?,
    };

    ensure_data_dir(&config.data_dir)?;
    let live = config.data_dir.join(STORE_FILE_NAME);
    let staged = config.data_dir.join(STAGED_NAME);
    remove_if_present(&staged)?;
    copy_new(&file, &staged)
        .with_context(|| format!("while copying {} into the data directory", file.display()))?;
    let checked = check_backup(config, &file, &staged, &keys, key_file.is_some());
    let (status, found_version) = match checked {
        Ok(ok) => ok,
        Err(e) => {
            remove_if_present(&staged).ok();
            return Err(e);
        }
    };

    if let Err(e) = ensure_not_in_use(&live) {
        remove_if_present(&staged).ok();
        return Err(e);
    }
    let kept = files::with_suffix(&live, ".bak");
    let had_old = replace_keeping_old(&staged, &live, &kept)
        .with_context(|| format!("while moving the backup into place at {}", live.display()))?;
    let data_owner = owner_of(&config.data_dir);
    give_to(&live, data_owner)?;

    let mut key_installed = None;
    let mut previous_key_kept_as = None;
    if key_file.is_some() {
        let current = Keys::load(&KeySource {
            path: key_source.path.clone(),
            may_create: false,
        })
        .ok()
        .map(|k| k.export_hex());
        if current.as_deref() != Some(keys.export_hex().as_str()) {
            previous_key_kept_as = install_key(&key_source.path, &keys)?;
            give_to(&key_source.path, data_owner)?;
            key_installed = Some(key_source.path.clone());
        }
    }

    let restored = Restored {
        store: live.clone(),
        previous_kept_as: had_old.then_some(kept),
        key_installed,
        previous_key_kept_as,
        migrated_from: found_version.filter(|v| *v < CURRENT_VERSION),
        status,
    };
    print(&file, &restored, json)?;
    Ok(ExitCode::SUCCESS)
}

/// Verifies the staged copy: intact, a schema this build can use (migrating older
/// ones), and opened by `keys`. Returns its facts and the version found.
fn check_backup(
    config: &Config,
    file: &Path,
    staged: &Path,
    keys: &Keys,
    key_given: bool,
) -> anyhow::Result<(StoreStatus, Option<u64>)> {
    let found = check_file(staged)
        .map_err(|e| anyhow::anyhow!("{} is not a usable Gatehouse backup: {e}", file.display()))?;
    let Some(found) = found else {
        anyhow::bail!(
            "{} is a redb file but holds no Gatehouse data",
            file.display()
        );
    };
    if found > CURRENT_VERSION {
        anyhow::bail!(
            "{} was made by a newer Gatehouse (schema version {found}; this one knows up to {CURRENT_VERSION}): upgrade gatehouse first",
            file.display()
        );
    }
    let store = match Store::open(staged) {
        Ok(store) => store,
        Err(e) => {
            return Err(anyhow::Error::new(e)
                .context(format!("while bringing {} up to date", file.display())));
        }
    };
    let services = match Services::new(
        store,
        copy_of(keys)?,
        Arc::new(SystemClock),
        ServiceSettings::from_config(config),
    ) {
        Ok(services) => services,
        Err(ServiceError::Forbidden(_)) => {
            let which = if key_given {
                "the key given with --key".to_owned()
            } else {
                "the current master key".to_owned()
            };
            anyhow::bail!(
                "{which} does not open {}: the backup was made with another master key. Give the key saved with `backup --with-key` as `restore --key KEYFILE`. Nothing was changed.",
                file.display()
            );
        }
        Err(e) => return Err(anyhow::Error::new(e).context("while checking the backup")),
    };
    let status = services
        .store_status()
        .context("while reading the backup")?;
    Ok((status, Some(found)))
}

/// A second handle on the same master key.
fn copy_of(keys: &Keys) -> anyhow::Result<Keys> {
    let mut master = [0u8; 32];
    hex::decode_to_slice(keys.export_hex(), &mut master).context("master key")?;
    Ok(Keys::from_master(master))
}

/// Fails when another process (a server that does not answer on its socket) holds the
/// live store open.
fn ensure_not_in_use(live: &Path) -> anyhow::Result<()> {
    if !live.exists() {
        return Ok(());
    }
    // The checking open reports a damaged file as an error where a plain open might
    // panic; it may repair what redb can, in a file that is about to be kept as `.bak`.
    match redb::Builder::new()
        .set_check_integrity_on_open(true)
        .open(live)
    {
        Err(redb::DatabaseError::DatabaseAlreadyOpen) => Err(anyhow::Error::new(StoreError::InUse)
            .context(format!("cannot replace {}", live.display()))),
        // Anything else (even a damaged live store) may be replaced: that is what
        // restoring is for.
        _ => Ok(()),
    }
}

/// Writes `keys` as the master key at `path`, keeping a different previous key as
/// `<path>.bak`. Returns where the previous key was kept.
fn install_key(path: &Path, keys: &Keys) -> anyhow::Result<Option<PathBuf>> {
    let new = files::with_suffix(path, ".restoring");
    remove_if_present(&new)?;
    let mut master = [0u8; 32];
    hex::decode_to_slice(keys.export_hex(), &mut master).context("master key")?;
    write_key_file(&new, &master)
        .with_context(|| format!("while writing the master key next to {}", path.display()))?;
    let kept = files::with_suffix(path, ".bak");
    let had_old = replace_keeping_old(&new, path, &kept)
        .with_context(|| format!("while installing the master key at {}", path.display()))?;
    Ok(had_old.then_some(kept))
}

/// The owner (uid, gid) of `path`, when it can be read.
fn owner_of(path: &Path) -> Option<(u32, u32)> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).ok().map(|m| (m.uid(), m.gid()))
}

/// Gives `path` to `owner` when we run as root and the data directory belongs to
/// someone else (the service user), so the server can open what root restored.
fn give_to(path: &Path, owner: Option<(u32, u32)>) -> anyhow::Result<()> {
    let Some((uid, gid)) = owner else {
        return Ok(());
    };
    if rustix::process::geteuid().is_root() && uid != 0 {
        std::os::unix::fs::chown(path, Some(uid), Some(gid))
            .with_context(|| format!("while handing {} to uid {uid}", path.display()))?;
    }
    Ok(())
}

fn print(file: &Path, restored: &Restored, json: bool) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(restored)?);
        return Ok(());
    }
    let s = &restored.status;
    println!(
        "Restored {} into {}: schema version {}, {} user(s) ({} active staff admin(s)), {} audit event(s).",
        file.display(),
        restored.store.display(),
        s.schema_version,
        s.users,
        s.active_staff_admins.len(),
        s.audit_events
    );
    if let Some(from) = restored.migrated_from {
        println!("The backup had schema version {from} and was brought up to date.");
    }
    if let Some(kept) = &restored.previous_kept_as {
        println!("The previous store is kept as {}.", kept.display());
    }
    if let Some(key) = &restored.key_installed {
        print!("Installed the backup's master key at {}", key.display());
        match &restored.previous_key_kept_as {
            Some(kept) => println!("; the previous key is kept as {}.", kept.display()),
            None => println!("."),
        }
    }
    println!("Start the server again (e.g. `systemctl start gatehouse`).");
    Ok(())
}
