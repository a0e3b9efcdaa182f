//! Where the command line looks for the store, and the refusal when none is there.
//! Only `serve` and `admin create` (the scripted first install) create a store; any
//! other command run from the wrong folder would otherwise create a new, empty one
//! with a new master key and report "0 user(s)" as if that were the truth.

use std::path::Path;

use crate::config::Config;
use crate::store::STORE_FILE_NAME;

/// Succeeds when the store exists; otherwise says where it was looked for.
pub fn require_existing(config: &Config) -> anyhow::Result<()> {
    if config.data_dir.join(STORE_FILE_NAME).exists() {
        return Ok(());
    }
    anyhow::bail!("{}", not_found(config))
}

/// The message for a missing store: the data directory, the store file and the
/// configuration file that named them (or that none was found), all absolute.
pub fn not_found(config: &Config) -> String {
    let store = shown(&config.data_dir.join(STORE_FILE_NAME));
    let dir = shown(&config.data_dir);
    let source = match &config.file {
        Some(file) => format!("configuration file {}", shown(file)),
        None => format!(
            "no configuration file found (no --config, no GATEHOUSE_CONFIG, no gatehouse.toml in {})",
            shown(Path::new("."))
        ),
    };
    format!(
        "no Gatehouse store at {store} (data directory {dir}; {source}). Nothing was created. \
         Run the command where the installation's gatehouse.toml is, or pass --config FILE \
         or --data-dir DIR; a new installation starts with `gatehouse serve` or \
         `gatehouse admin create`."
    )
}

fn shown(path: &Path) -> String {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_owned());
    // `absolute` keeps `.` components; they only make the message harder to read.
    absolute
        .components()
        .filter(|c| !matches!(c, std::path::Component::CurDir))
        .collect::<std::path::PathBuf>()
        .display()
        .to_string()
}
