//! File handling shared by backup and restore: durable copies, directory fsyncs, and
//! the question every operation asks first — is a server running on this data
//! directory?

use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::admin_api::{AdminRequest, AdminResponse, SOCKET_FILE_NAME, socket};
use crate::config::Config;

/// The running server's status answer, or `None` when no server listens on the data
/// directory's admin socket.
pub fn running_server(config: &Config) -> anyhow::Result<Option<AdminResponse>> {
    let path = config.data_dir.join(SOCKET_FILE_NAME);
    socket::send(&path, &AdminRequest::Status)
        .with_context(|| format!("while talking to the server on {}", path.display()))
}

/// `path` made absolute against the current directory (the server may run elsewhere).
pub fn absolute(path: &Path) -> anyhow::Result<PathBuf> {
    std::path::absolute(path).with_context(|| format!("while resolving {}", path.display()))
}

/// Fails when `path` exists: nothing here overwrites a file.
pub fn refuse_existing(path: &Path, what: &str) -> anyhow::Result<()> {
    if fs::symlink_metadata(path).is_ok() {
        anyhow::bail!(
            "{what} {} already exists; choose a new name (nothing is overwritten)",
            path.display()
        );
    }
    Ok(())
}

/// Copies `from` to the new file `to` (mode 0600, never overwriting) and fsyncs it.
pub fn copy_new(from: &Path, to: &Path) -> io::Result<()> {
    let mut source = File::open(from)?;
    let mut target = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(to)?;
    let copied = io::copy(&mut source, &mut target).and_then(|_| target.sync_all());
    if copied.is_err() {
        let _ = fs::remove_file(to);
    }
    copied
}

/// Makes `from` appear at `to` without overwriting: a hard link when both are on one
/// file system, else a synced copy. `from` stays where it is.
pub fn link_or_copy(from: &Path, to: &Path) -> io::Result<()> {
    match fs::hard_link(from, to) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Err(e),
        Err(_) => copy_new(from, to),
    }
}

/// Fsyncs the directory holding `path`, so a created or renamed entry survives a
/// crash.
pub fn sync_parent(path: &Path) -> io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    File::open(dir)?.sync_all()
}

/// Removes `path` if it exists.
pub fn remove_if_present(path: &Path) -> io::Result<()> {
    match fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// `path` with `suffix` appended to its file name (`gatehouse.redb` → `gatehouse.redb.bak`).
pub fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(suffix);
    path.with_file_name(name)
}

/// Puts `new` in place of `live`, keeping the file it replaces as `kept`. At every
/// moment `live` exists (old or new) and the previous `kept` is replaced only once the
/// new one is complete, so a crash part-way never loses both. Returns whether there
/// was a file to keep.
pub fn replace_keeping_old(new: &Path, live: &Path, kept: &Path) -> io::Result<bool> {
    let pending = with_suffix(kept, ".new");
    remove_if_present(&pending)?;
    let had_old = live.exists();
    if had_old {
        link_or_copy(live, &pending)?;
    }
    sync_parent(live)?;
    // rename() replaces atomically: `live` is the old file or the new one, never absent.
    fs::rename(new, live)?;
    if had_old {
        fs::rename(&pending, kept)?;
    }
    sync_parent(live)?;
    Ok(had_old)
}

/// A size for people: `812 B`, `64 KiB`, `3.2 MiB`.
pub fn human_size(bytes: u64) -> String {
    match bytes {
        b if b < 1024 => format!("{b} B"),
        b if b < 1024 * 1024 => format!("{} KiB", b / 1024),
        b => format!("{:.1} MiB", b as f64 / (1024.0 * 1024.0)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replacing_keeps_the_old_file_and_refreshes_the_kept_one() {
        let dir = tempfile::tempdir().unwrap();
        let live = dir.path().join("store");
        let kept = dir.path().join("store.bak");
        let new = dir.path().join("store.new-copy");
        fs::write(&live, "v1").unwrap();
        fs::write(&kept, "v0").unwrap();
        fs::write(&new, "v2").unwrap();
        assert!(replace_keeping_old(&new, &live, &kept).unwrap());
        assert_eq!(fs::read_to_string(&live).unwrap(), "v2");
        assert_eq!(fs::read_to_string(&kept).unwrap(), "v1");
        assert!(!new.exists());
        assert!(!with_suffix(&kept, ".new").exists());

        let fresh = dir.path().join("other");
        fs::write(&new, "v3").unwrap();
        assert!(!replace_keeping_old(&new, &fresh, &with_suffix(&fresh, ".bak")).unwrap());
        assert_eq!(fs::read_to_string(&fresh).unwrap(), "v3");
    }

    #[test]
    fn copies_never_overwrite() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a");
        let b = dir.path().join("b");
        fs::write(&a, "a").unwrap();
        fs::write(&b, "b").unwrap();
        assert!(copy_new(&a, &b).is_err());
        assert!(link_or_copy(&a, &b).is_err());
        assert_eq!(fs::read_to_string(&b).unwrap(), "b");
        assert_eq!(human_size(70 * 1024), "70 KiB");
    }
}
