//! Tables a migration replaced, as the schema versions before it defined them. Only
//! migrations open them (and tests of migrations, and the benchmarks' loader of old
//! stores); the current tables are in `tables.rs`.

use redb::TableDefinition;

/// Sessions up to schema version 3, keyed by the whole 32-byte keyed hash of their
/// token. Version 4 moved them to `tables::SESSIONS`.
pub const SESSIONS_V1: TableDefinition<[u8; 32], &[u8]> = TableDefinition::new("sessions-1");

/// Sessions of each user up to version 3. Key: (user id, session hash) / Value:
/// absolute expiry (Unix seconds), which nothing read.
pub const SESSIONS_BY_USER_V1: TableDefinition<(u128, [u8; 32]), i64> =
    TableDefinition::new("sessions-by-user-1");

/// Sessions by expiry up to version 3. Key: (purge time, session hash) / Value: unit.
pub const SESSIONS_BY_EXPIRY_V1: TableDefinition<(i64, [u8; 32]), ()> =
    TableDefinition::new("sessions-by-expiry-1");
