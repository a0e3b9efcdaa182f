//! Who can sign in: users, the realm each belongs to, their roles, status and
//! factors. Pure data and the rules that only need the data itself.

use std::fmt;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::time::Timestamp;

/// A user's permanent id; sent to protected apps as `Remote-User`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UserId(pub Uuid);

impl UserId {
    pub fn random() -> Self {
        UserId(Uuid::new_v4())
    }

    pub fn as_u128(self) -> u128 {
        self.0.as_u128()
    }

    pub fn from_u128(v: u128) -> Self {
        UserId(Uuid::from_u128(v))
    }
}

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.hyphenated().fmt(f)
    }
}

/// A client (customer company) id; stable even if the client's name changes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ClientId(pub Uuid);

impl fmt::Display for ClientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.hyphenated().fmt(f)
    }
}

/// Where a user belongs. Nothing held in one realm grants anything in another.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "client", rename_all = "snake_case")]
pub enum Realm {
    Staff,
    Client(ClientId),
}

impl Realm {
    /// The realm's key in store indexes: `staff` or `client:<uuid>`.
    pub fn key(&self) -> String {
        match self {
            Realm::Staff => "staff".to_owned(),
            Realm::Client(id) => format!("client:{id}"),
        }
    }

    pub fn is_staff(&self) -> bool {
        matches!(self, Realm::Staff)
    }
}

/// What a user may do within their realm.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    Member,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Member => "member",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "admin" => Some(Role::Admin),
            "member" => Some(Role::Member),
            _ => None,
        }
    }
}

/// Whether a user can sign in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UserStatus {
    /// Created by an admin; becomes active when the invitation is accepted.
    Invited,
    Active,
    Disabled,
}

impl UserStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            UserStatus::Invited => "invited",
            UserStatus::Active => "active",
            UserStatus::Disabled => "disabled",
        }
    }
}

/// An email address as users type it, compared case-insensitively.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Email(String);

/// Why an email address was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("enter a valid email address (like name@example.com, at most 254 characters)")]
pub struct InvalidEmail;

impl Email {
    /// Accepts `local@domain` with no spaces or control characters, at most 254
    /// bytes. Stored lower-cased so lookups are case-insensitive.
    pub fn parse(input: &str) -> Result<Email, InvalidEmail> {
        let trimmed = input.trim();
        if trimmed.is_empty() || trimmed.len() > 254 {
            return Err(InvalidEmail);
        }
        let (local, domain) = trimmed.rsplit_once('@').ok_or(InvalidEmail)?;
        let bad_char = |c: char| c.is_whitespace() || c.is_control() || c == '<' || c == '>';
        if local.is_empty()
            || domain.is_empty()
            || local.contains('@')
            || trimmed.chars().any(bad_char)
            || !domain.contains('.')
            || domain.starts_with('.')
            || domain.ends_with('.')
        {
            return Err(InvalidEmail);
        }
        Ok(Email(trimmed.to_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The part after `@`, for allowed-domain checks.
    pub fn domain(&self) -> &str {
        self.0.rsplit_once('@').map(|(_, d)| d).unwrap_or("")
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An encrypted secret as stored: nonce and ciphertext (see `keys::SecretBox`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sealed {
    #[serde(with = "hex_bytes")]
    pub nonce: Vec<u8>,
    #[serde(with = "hex_bytes")]
    pub ciphertext: Vec<u8>,
}

/// An enrolled TOTP authenticator.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TotpFactor {
    /// The seed, encrypted with the master key.
    pub secret: Sealed,
    /// The last accepted time step; a code is accepted only for a later step.
    pub last_step: u64,
    pub enrolled_at: Timestamp,
}

/// A Microsoft (or other OpenID) account linked to a user, keyed by (tenant, object id)
/// for Entra or (issuer, subject) otherwise; never by email.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SsoLink {
    /// The Entra tenant id, or the issuer URL for a generic provider.
    pub tenant: String,
    /// The Entra object id, or the `sub` claim for a generic provider.
    pub subject: String,
    /// The username shown when the link was made (display only).
    pub username: String,
    pub linked_at: Timestamp,
}

/// A person who can sign in to one realm.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: UserId,
    pub realm: Realm,
    pub email: Email,
    pub display_name: String,
    pub role: Role,
    pub status: UserStatus,
    /// Argon2id PHC string; `None` for users who only sign in with SSO or have not
    /// accepted their invitation yet.
    #[serde(default)]
    pub password_hash: Option<String>,
    #[serde(default)]
    pub totp: Option<TotpFactor>,
    /// Keyed hashes (hex) of the unused recovery codes.
    #[serde(default)]
    pub recovery_codes: Vec<String>,
    #[serde(default)]
    pub sso_links: Vec<SsoLink>,
    /// Staff only: may still use password + TOTP when SSO-only is on. Set from the CLI.
    #[serde(default)]
    pub break_glass: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    #[serde(default)]
    pub last_login_at: Option<Timestamp>,
}

impl User {
    /// A new user of `realm` as an admin or the setup page creates them.
    pub fn new(
        realm: Realm,
        email: Email,
        display_name: String,
        role: Role,
        status: UserStatus,
        now: Timestamp,
    ) -> User {
        User {
            id: UserId::random(),
            realm,
            email,
            display_name,
            role,
            status,
            password_hash: None,
            totp: None,
            recovery_codes: Vec::new(),
            sso_links: Vec::new(),
            break_glass: false,
            created_at: now,
            updated_at: now,
            last_login_at: None,
        }
    }

    pub fn is_active(&self) -> bool {
        self.status == UserStatus::Active
    }

    pub fn is_active_admin(&self) -> bool {
        self.is_active() && self.role == Role::Admin
    }

    /// The name to greet the user with.
    pub fn name_or_email(&self) -> &str {
        if self.display_name.trim().is_empty() {
            self.email.as_str()
        } else {
            &self.display_name
        }
    }
}

/// The part of a user that a session check and the forward-auth identity headers
/// need. Read on every forward-auth request, it is decoded from the user record
/// without the password hash, factors and recovery codes.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct UserIdentity {
    pub id: UserId,
    pub realm: Realm,
    pub email: Email,
    pub display_name: String,
    pub role: Role,
    pub status: UserStatus,
}

impl UserIdentity {
    pub fn is_active(&self) -> bool {
        self.status == UserStatus::Active
    }
}

/// Cleans a display name: trimmed, control characters removed, at most 200 characters.
pub fn clean_display_name(input: &str) -> String {
    input
        .trim()
        .chars()
        .filter(|c| !c.is_control())
        .take(200)
        .collect()
}

mod hex_bytes {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let s = String::deserialize(d)?;
        hex::decode(s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_compare_case_insensitively() {
        assert_eq!(
            Email::parse(" Alice@Example.COM ").unwrap(),
            Email::parse("alice@example.com").unwrap()
        );
        assert_eq!(Email::parse("a@b.co").unwrap().domain(), "b.co");
    }

    #[test]
    fn refuses_malformed_emails() {
        for bad in [
            "",
            "alice",
            "@example.com",
            "alice@",
            "alice@localhost",
            "a b@example.com",
            "a@b@example.com",
            "alice@.example.com",
            "alice@example.com.",
            "a\u{0}@example.com",
        ] {
            assert_eq!(Email::parse(bad), Err(InvalidEmail), "{bad:?}");
        }
        let long = format!("{}@example.com", "a".repeat(250));
        assert_eq!(Email::parse(&long), Err(InvalidEmail));
    }

    #[test]
    fn realm_keys_are_distinct() {
        let client = Realm::Client(ClientId(Uuid::from_u128(7)));
        assert_eq!(Realm::Staff.key(), "staff");
        assert_eq!(client.key(), "client:00000000-0000-0000-0000-000000000007");
    }

    #[test]
    fn display_names_are_cleaned() {
        assert_eq!(clean_display_name("  Ann\u{7}e  "), "Anne");
        assert_eq!(clean_display_name(&"x".repeat(500)).len(), 200);
    }
}
