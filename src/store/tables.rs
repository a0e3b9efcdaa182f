//! Every redb table Gatehouse uses, in one place. Names carry a version suffix; a
//! change of key or value layout gets a new name and a migration in `migrations.rs`.
//! Values are records encoded by `codec` (a version byte, then JSON).

use redb::TableDefinition;

/// Installation facts.
/// Key: name (`schema_version`, `key_check`, `installed_at`) / Value: raw bytes.
pub const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta-1");

/// Users of every realm.
/// Key: user id (UUID as u128) / Value: `domain::user::User` record.
pub const USERS: TableDefinition<u128, &[u8]> = TableDefinition::new("users-1");

/// Email index, unique per realm, written with `USERS` in the same transaction.
/// Key: (realm key, lower-cased email) / Value: user id.
pub const USERS_BY_EMAIL: TableDefinition<(&str, &str), u128> =
    TableDefinition::new("users-by-email-1");

/// Linked SSO identities, written with `USERS` in the same transaction. Keyed per
/// realm, so one Microsoft account linked in two realms never crosses between them.
/// Key: (realm key, tenant id or issuer, object id or subject) / Value: user id.
pub const SSO_IDENTITIES: TableDefinition<(&str, &str, &str), u128> =
    TableDefinition::new("sso-identities-1");

/// Sessions, including half-finished sign-ins.
/// Key: keyed hash of the session token / Value: `domain::session::Session` record.
pub const SESSIONS: TableDefinition<[u8; 32], &[u8]> = TableDefinition::new("sessions-1");

/// Sessions of each user, for listing and revoking.
/// Key: (user id, session hash) / Value: absolute expiry (Unix seconds).
pub const SESSIONS_BY_USER: TableDefinition<(u128, [u8; 32]), i64> =
    TableDefinition::new("sessions-by-user-1");

/// Sessions by expiry, for purging.
/// Key: (absolute expiry in Unix seconds, session hash) / Value: unit.
pub const SESSIONS_BY_EXPIRY: TableDefinition<(i64, [u8; 32]), ()> =
    TableDefinition::new("sessions-by-expiry-1");

/// Single-use tokens: the setup link, invitations.
/// Key: keyed hash of the token / Value: `store::tokens::OneTimeToken` record.
pub const ONE_TIME_TOKENS: TableDefinition<[u8; 32], &[u8]> =
    TableDefinition::new("one-time-tokens-1");

/// The audit trail, oldest first.
/// Key: sequence number / Value: `domain::audit::AuditEvent` record.
pub const AUDIT: TableDefinition<u64, &[u8]> = TableDefinition::new("audit-1");

/// Clients (customer companies) and their portal settings.
/// Key: client id (UUID as u128) / Value: `domain::client::Client` record.
pub const CLIENTS: TableDefinition<u128, &[u8]> = TableDefinition::new("clients-1");

/// Slug index, unique, written with `CLIENTS` in the same transaction.
/// Key: slug / Value: client id.
pub const CLIENTS_BY_SLUG: TableDefinition<&str, u128> = TableDefinition::new("clients-by-slug-1");

/// Settings an admin edits (SSO, portal app, SSO-only…), one record per name.
/// Key: setting name / Value: the setting's record.
pub const SETTINGS: TableDefinition<&str, &[u8]> = TableDefinition::new("settings-1");

/// Passkeys, by user. Never part of the user record (see `store::passkeys`).
/// Key: (user id, credential id) / Value: `domain::passkey::PasskeyRecord` record.
pub const PASSKEYS: TableDefinition<(u128, &[u8]), &[u8]> = TableDefinition::new("passkeys-1");

/// Credential ids, unique across every realm, written with `PASSKEYS`.
/// Key: credential id / Value: user id.
pub const PASSKEYS_BY_CREDENTIAL: TableDefinition<&[u8], u128> =
    TableDefinition::new("passkeys-by-credential-1");
