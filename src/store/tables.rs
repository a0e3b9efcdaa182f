//! Every redb table Gatehouse uses, in one place. Names carry a version suffix; a
//! change of key or value layout gets a new name and a migration in `migrations.rs`.
//! Values are records encoded by `codec` (a version byte, then JSON), except users and
//! sessions, encoded by `compact` (version byte 2, then a binary layout); a layout
//! change that keeps the key may also be rewritten in place by a migration that the
//! version byte guides (as version 2 did).

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

/// Sessions, including half-finished sign-ins (schema version 4 on; the tables they
/// replaced are in `store::retired_tables`).
/// Key: `store::sessions::SessionKey` (the first half of the token's keyed hash) /
/// Value: `domain::session::Session` record (`store::compact`).
pub const SESSIONS: TableDefinition<[u8; 16], &[u8]> = TableDefinition::new("sessions-2");

/// Sessions of each user, for listing and revoking.
/// Key: (user id, session key) / Value: unit.
pub const SESSIONS_BY_USER: TableDefinition<(u128, [u8; 16]), ()> =
    TableDefinition::new("sessions-by-user-2");

/// Sessions by expiry, for purging.
/// Key: (time after which the session is purged, Unix seconds; session key) / Value: unit.
pub const SESSIONS_BY_EXPIRY: TableDefinition<(i64, [u8; 16]), ()> =
    TableDefinition::new("sessions-by-expiry-2");

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

/// Browsers each user has signed in from (the "new device" notice), one long-lived
/// random device cookie per realm, stored by keyed hash.
/// Key: (user id, keyed hash of the device cookie) / Value: last sign-in (Unix seconds).
pub const KNOWN_DEVICES: TableDefinition<(u128, [u8; 32]), i64> =
    TableDefinition::new("known-devices-1");
/// Each realm's identity providers, in order, with its email-first switches.
/// Key: realm key (`staff`, `client:<uuid>`) / Value: `domain::sso::provider::ProviderList` record.
pub const IDENTITY_PROVIDERS: TableDefinition<&str, &[u8]> =
    TableDefinition::new("identity-providers-1");
/// SCIM bearer tokens, one realm each (provisioning from Entra).
/// Key: the token's public handle (in the token itself) / Value:
/// `domain::provisioning::ScimToken` record, with the keyed hash of the secret.
pub const SCIM_TOKENS: TableDefinition<&str, &[u8]> = TableDefinition::new("scim-tokens-1");

/// What SCIM knows of a user beyond the user record (userName, externalId, names),
/// kept apart from `USERS`.
/// Key: user id / Value: `domain::provisioning::ProvisionedUser` record.
pub const SCIM_USERS: TableDefinition<u128, &[u8]> = TableDefinition::new("scim-users-1");

/// `externalId` index of `SCIM_USERS`, unique per realm, exact (caseExact).
/// Key: (realm key, externalId) / Value: user id.
pub const SCIM_EXTERNAL_IDS: TableDefinition<(&str, &str), u128> =
    TableDefinition::new("scim-external-ids-1");

/// `userName` index of `SCIM_USERS`, unique per realm, lower-cased (not caseExact).
/// Key: (realm key, lower-cased userName) / Value: user id.
pub const SCIM_USER_NAMES: TableDefinition<(&str, &str), u128> =
    TableDefinition::new("scim-user-names-1");

/// SCIM groups (what Entra's group assignment needs).
/// Key: group id (UUID as u128) / Value: `domain::provisioning::ScimGroup` record.
pub const SCIM_GROUPS: TableDefinition<u128, &[u8]> = TableDefinition::new("scim-groups-1");

/// Per realm: the last provisioning request and the last Graph sweep.
/// Key: realm key / Value: `domain::provisioning::RealmProvisioning` record.
pub const PROVISIONING_STATE: TableDefinition<&str, &[u8]> =
    TableDefinition::new("provisioning-state-1");
/// Passkeys, by user. Never part of the user record (see `store::passkeys`).
/// Key: (user id, credential id) / Value: `domain::passkey::PasskeyRecord` record.
pub const PASSKEYS: TableDefinition<(u128, &[u8]), &[u8]> = TableDefinition::new("passkeys-1");

/// Credential ids, unique across every realm, written with `PASSKEYS`.
/// Key: credential id / Value: user id.
pub const PASSKEYS_BY_CREDENTIAL: TableDefinition<&[u8], u128> =
    TableDefinition::new("passkeys-by-credential-1");
