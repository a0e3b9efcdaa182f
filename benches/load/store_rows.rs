//! Rows 8 and 9: the migration of the large store, the store's size after it, where
//! those bytes are, and the size of a store grown at the current version.

use crate::common::{self, Install, Population};
use crate::progress;
use crate::report::{Goal, Row, thousands};
use gatehouse::store::bulk::Layout;
use gatehouse::store::migrations::CURRENT_VERSION;

/// Rows 8 and 9: the migration of the large store and its size afterwards.
pub fn store_rows(large: &Install, v1_bytes: u64, migration_secs: f64, rows: &mut Vec<Row>) {
    let population = format!(
        "{} users + {} sessions",
        thousands(large.population.users as f64),
        thousands(large.population.sessions as f64)
    );
    rows.push(
        Row::new(
            "8",
            format!(
                "migration from schema version 1 to {CURRENT_VERSION} at open ({population}, one write transaction)"
            ),
        )
        .sides(
            format!("{migration_secs:.1} s"),
            format!(
                "{:.1} s (seeding the same version-1 store through `store::bulk`)",
                large.seed_secs
            ),
        ),
    );
    let sessions = large.population.sessions.max(1) as f64;
    let per_session = large.store_bytes() as f64 / sessions;
    rows.push(
        Row::new(
            "9",
            format!("store bytes per session ({population}; whole file / sessions)"),
        )
        .sides(
            format!(
                "{per_session:.0} bytes ({} MiB file; {:.0} bytes at version 1)",
                large.store_bytes() / (1024 * 1024),
                v1_bytes as f64 / sessions
            ),
            format!("{SESSION_BYTES_BUDGET:.0} bytes budget"),
        )
        .ratio(per_session / SESSION_BYTES_BUDGET, Goal::AtMost(1.0)),
    );
}

/// Row 9's detail: each table's share of the large store, per session.
pub fn table_shares(large: &Install) -> String {
    shares_of(large, "Row 9 by table")
}

fn shares_of(large: &Install, title: &str) -> String {
    let store = gatehouse::store::Store::open(&large.store_path()).expect("open the large store");
    let sizes = store.bulk_table_sizes().expect("table sizes");
    let sessions = large.population.sessions.max(1) as f64;
    let shares: Vec<String> = sizes
        .iter()
        .filter(|t| t.pages > 0)
        .take(6)
        .map(|t| {
            format!(
                "`{}` {:.0} B ({} entries; stored {:.0} B, offsets and branch keys {:.0} B, free in its pages {:.0} B)",
                t.name,
                (t.pages * 4096) as f64 / sessions,
                thousands(t.entries as f64),
                t.stored_bytes as f64 / sessions,
                t.metadata_bytes as f64 / sessions,
                t.fragmented_bytes as f64 / sessions,
            )
        })
        .collect();
    format!("{title}, per session: {}.", shares.join("; "))
}

/// Row 9's goal: bytes of store per session at a million sessions.
const SESSION_BYTES_BUDGET: f64 = 250.0;

/// Row 9's companion: the bytes per session of a store of the same population written
/// at the current version the way sign-ins grow one — sessions arriving in ten
/// batches, each spread over the whole key range, so later ones split pages that
/// earlier ones filled — rather than rebuilt in key order by a migration.
pub fn grown_store(dir: &std::path::Path, population: Population) -> String {
    progress("row 9: a store of the same size grown at the current version");
    let grown = common::seed_as(dir, population, Layout::Current);
    let sessions = population.sessions.max(1) as f64;
    let bytes = grown.store_bytes();
    let per_session = bytes as f64 / sessions;
    let shares = shares_of(&grown, "by table");
    let _ = std::fs::remove_dir_all(dir);
    format!(
        "Row 9 for a store grown at the current version instead of migrated (sessions written in {} batches spread over the whole key range, as sign-ins arrive, so B-tree pages split and are not refilled): {per_session:.0} bytes per session ({} MiB); {shares}",
        population.sessions.div_ceil(common::BATCH),
        bytes / (1024 * 1024),
    )
}
