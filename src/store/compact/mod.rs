//! The compact layout (schema version 2) of the two records forward-auth reads on
//! every request: sessions and users. One version byte ([`VERSION`]), then the fields
//! in [postcard](https://docs.rs/postcard)'s binary form (integers as varints, strings
//! and byte strings with a length prefix, no field names).
//!
//! Each record starts with its *head*: the fields a check needs (a session's status, a
//! user's identity), in a fixed order. A hot read decodes only the head and stops
//! there; the rest (user agent, password hash, factors, recovery codes…) is never
//! looked at. A session's head holds no text, so reading it allocates nothing.
//!
//! Layouts are written here field by field, independent of the domain types' serde
//! form (which is JSON-shaped): enums get explicit one-byte codes, ids are 16 raw
//! bytes, recovery-code hashes 32 raw bytes. Changing a layout means a new version
//! byte and a migration in `migrations.rs`.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::StoreError;
use crate::domain::session::{AuthMethod, Stage};
use crate::domain::user::{ClientId, Realm, Role, Sealed, UserStatus};

mod session;
mod user;

pub(crate) use session::SESSION;
pub use session::{decode_session, decode_session_status, encode_session};
pub(crate) use user::USER;
pub use user::{decode_user, decode_user_identity, encode_user};

/// The version byte of compact records.
pub const VERSION: u8 = 2;

pub(super) type Id = [u8; 16];

pub(super) fn id_bytes(id: uuid::Uuid) -> Id {
    *id.as_bytes()
}

pub(super) fn realm_field(realm: Realm) -> Option<Id> {
    match realm {
        Realm::Staff => None,
        Realm::Client(ClientId(id)) => Some(id_bytes(id)),
    }
}

pub(super) fn realm_of(field: Option<Id>) -> Realm {
    match field {
        None => Realm::Staff,
        Some(id) => Realm::Client(ClientId(uuid::Uuid::from_bytes(id))),
    }
}

/// Encodes `value` behind the version byte.
pub(super) fn encode<T: Serialize>(kind: &'static str, value: &T) -> Result<Vec<u8>, StoreError> {
    let out = vec![VERSION];
    postcard::to_extend(value, out).map_err(|e| corrupt(kind, e.to_string()))
}

/// Decodes a `T` from the start of a compact record; any bytes after it (the rest of
/// the record, when `T` is a head) are not looked at.
pub(super) fn decode<T: DeserializeOwned>(
    kind: &'static str,
    bytes: &[u8],
) -> Result<T, StoreError> {
    match bytes.split_first() {
        Some((&VERSION, body)) => postcard::take_from_bytes(body)
            .map(|(value, _rest)| value)
            .map_err(|e| corrupt(kind, e.to_string())),
        Some((version, _)) => Err(corrupt(kind, format!("unknown record version {version}"))),
        None => Err(corrupt(kind, "empty record".to_owned())),
    }
}

pub(super) fn corrupt(kind: &'static str, detail: String) -> StoreError {
    StoreError::Corrupt { kind, detail }
}

/// A byte code of one of the small enums, refusing unknown codes.
pub(super) fn code<T: Copy>(kind: &'static str, all: &[T], value: u8) -> Result<T, StoreError> {
    all.get(usize::from(value))
        .copied()
        .ok_or_else(|| corrupt(kind, format!("unknown code {value}")))
}

pub(super) const STAGES: [Stage; 3] = [Stage::PendingMfa, Stage::PendingEnrolment, Stage::Active];
/// In the order of their codes (`auth_code`); new methods are only ever appended.
pub(super) const AUTH_METHODS: [AuthMethod; 6] = [
    AuthMethod::Password,
    AuthMethod::PasswordTotp,
    AuthMethod::Sso,
    AuthMethod::PasswordPasskey,
    AuthMethod::Passkey,
    AuthMethod::SsoMfa,
];
pub(super) const ROLES: [Role; 2] = [Role::Admin, Role::Member];
pub(super) const STATUSES: [UserStatus; 3] = [
    UserStatus::Invited,
    UserStatus::Active,
    UserStatus::Disabled,
];

pub(super) fn stage_code(stage: Stage) -> u8 {
    match stage {
        Stage::PendingMfa => 0,
        Stage::PendingEnrolment => 1,
        Stage::Active => 2,
    }
}

pub(super) fn auth_code(auth: AuthMethod) -> u8 {
    match auth {
        AuthMethod::Password => 0,
        AuthMethod::PasswordTotp => 1,
        AuthMethod::Sso => 2,
        AuthMethod::PasswordPasskey => 3,
        AuthMethod::Passkey => 4,
        AuthMethod::SsoMfa => 5,
    }
}

pub(super) fn role_code(role: Role) -> u8 {
    match role {
        Role::Admin => 0,
        Role::Member => 1,
    }
}

pub(super) fn status_code(status: UserStatus) -> u8 {
    match status {
        UserStatus::Invited => 0,
        UserStatus::Active => 1,
        UserStatus::Disabled => 2,
    }
}

#[derive(Serialize, Deserialize)]
pub(super) struct SealedBytes {
    nonce: Vec<u8>,
    ciphertext: Vec<u8>,
}

impl SealedBytes {
    pub(super) fn of(sealed: &Sealed) -> SealedBytes {
        SealedBytes {
            nonce: sealed.nonce.clone(),
            ciphertext: sealed.ciphertext.clone(),
        }
    }

    pub(super) fn into_sealed(self) -> Sealed {
        Sealed {
            nonce: self.nonce,
            ciphertext: self.ciphertext,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::session::Session;
    use crate::domain::session::{Lifetimes, Origin};
    use crate::domain::time::Timestamp;
    use crate::domain::user::{Email, SsoLink, TotpFactor, User, UserId};

    fn full_user() -> User {
        let mut user = User::new(
            Realm::Client(ClientId(uuid::Uuid::from_u128(9))),
            Email::parse("ann@example.com").unwrap(),
            "Ann Ñ".into(),
            Role::Member,
            UserStatus::Disabled,
            Timestamp(1_700_000_000),
        );
        user.password_hash = Some("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into());
        user.totp = Some(TotpFactor {
            secret: Sealed {
                nonce: vec![1; 24],
                ciphertext: vec![2; 36],
            },
            last_step: 57_000_000,
            enrolled_at: Timestamp(1_700_000_100),
        });
        user.recovery_codes = vec!["ab".repeat(32), "not hex".into(), "AB".repeat(32)];
        user.sso_links = vec![SsoLink {
            tenant: "t".into(),
            subject: "s".into(),
            username: "ann@contoso.com".into(),
            linked_at: Timestamp(5),
        }];
        user.break_glass = true;
        user.last_login_at = Some(Timestamp(-3));
        user
    }

    #[test]
    fn users_round_trip_field_for_field() {
        let user = full_user();
        let bytes = encode_user(&user).unwrap();
        assert_eq!(bytes[0], VERSION);
        assert_eq!(decode_user(&bytes).unwrap(), user);
        let identity = decode_user_identity(&bytes).unwrap();
        assert_eq!(
            (identity.id, identity.realm, &identity.email, identity.role),
            (user.id, user.realm, &user.email, user.role)
        );
        assert_eq!(identity.display_name, user.display_name);
        assert_eq!(identity.status, user.status);
    }

    #[test]
    fn sessions_round_trip_and_their_status_reads_alone() {
        let mut session = Session::start(
            UserId::random(),
            Realm::Staff,
            Stage::PendingEnrolment,
            AuthMethod::Sso,
            Lifetimes {
                idle_secs: 60,
                absolute_secs: 600,
            },
            &Origin {
                ip: "2001:db8::1".into(),
                user_agent: "Firefox".into(),
            },
            Timestamp(1_700_000_000),
        );
        session.next = Some("/app?x=1".into());
        session.pending_totp = Some(Sealed {
            nonce: vec![3; 24],
            ciphertext: vec![4; 40],
        });
        session.stepped_up_at = Some(Timestamp(1_700_000_050));
        session.admin_secret = Some("cd".repeat(32));
        session.wrong_codes = 3;
        let bytes = encode_session(&session).unwrap();
        assert_eq!(decode_session(&bytes).unwrap(), session);
        assert_eq!(decode_session_status(&bytes).unwrap(), session.status());
    }

    #[test]
    fn damaged_records_are_errors_not_panics() {
        let user = encode_user(&full_user()).unwrap();
        for cut in 0..user.len() {
            let _ = decode_user(&user[..cut]);
            let _ = decode_user_identity(&user[..cut]);
        }
        assert!(decode_user(&[]).is_err());
        assert!(decode_user(&[1, b'{', b'}']).is_err());
        let mut bad_role = user.clone();
        // The role code sits after id, realm, email and name in the head.
        let role_at = 1 + 16 + 1 + 16 + 1 + "ann@example.com".len() + 1 + "Ann Ñ".len();
        bad_role[role_at] = 7;
        assert!(matches!(
            decode_user_identity(&bad_role),
            Err(StoreError::Corrupt { .. })
        ));
    }
}
