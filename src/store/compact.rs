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
use crate::domain::session::{AuthMethod, Session, SessionStatus, Stage};
use crate::domain::time::Timestamp;
use crate::domain::user::{
    ClientId, Email, Realm, Role, Sealed, SsoLink, TotpFactor, User, UserId, UserIdentity,
    UserStatus,
};

/// The version byte of compact records.
pub const VERSION: u8 = 2;

type Id = [u8; 16];

fn id_bytes(id: uuid::Uuid) -> Id {
    *id.as_bytes()
}

fn realm_field(realm: Realm) -> Option<Id> {
    match realm {
        Realm::Staff => None,
        Realm::Client(ClientId(id)) => Some(id_bytes(id)),
    }
}

fn realm_of(field: Option<Id>) -> Realm {
    match field {
        None => Realm::Staff,
        Some(id) => Realm::Client(ClientId(uuid::Uuid::from_bytes(id))),
    }
}

/// Encodes `value` behind the version byte.
fn encode<T: Serialize>(kind: &'static str, value: &T) -> Result<Vec<u8>, StoreError> {
    let out = vec![VERSION];
    postcard::to_extend(value, out).map_err(|e| corrupt(kind, e.to_string()))
}

/// Decodes a `T` from the start of a compact record; any bytes after it (the rest of
/// the record, when `T` is a head) are not looked at.
fn decode<T: DeserializeOwned>(kind: &'static str, bytes: &[u8]) -> Result<T, StoreError> {
    match bytes.split_first() {
        Some((&VERSION, body)) => postcard::take_from_bytes(body)
            .map(|(value, _rest)| value)
            .map_err(|e| corrupt(kind, e.to_string())),
        Some((version, _)) => Err(corrupt(kind, format!("unknown record version {version}"))),
        None => Err(corrupt(kind, "empty record".to_owned())),
    }
}

fn corrupt(kind: &'static str, detail: String) -> StoreError {
    StoreError::Corrupt { kind, detail }
}

/// A byte code of one of the small enums, refusing unknown codes.
fn code<T: Copy>(kind: &'static str, all: &[T], value: u8) -> Result<T, StoreError> {
    all.get(usize::from(value))
        .copied()
        .ok_or_else(|| corrupt(kind, format!("unknown code {value}")))
}

const STAGES: [Stage; 3] = [Stage::PendingMfa, Stage::PendingEnrolment, Stage::Active];
/// In the order of their codes (`auth_code`); new methods are only ever appended.
const AUTH_METHODS: [AuthMethod; 6] = [
    AuthMethod::Password,
    AuthMethod::PasswordTotp,
    AuthMethod::Sso,
    AuthMethod::PasswordPasskey,
    AuthMethod::Passkey,
    AuthMethod::SsoMfa,
];
const ROLES: [Role; 2] = [Role::Admin, Role::Member];
const STATUSES: [UserStatus; 3] = [
    UserStatus::Invited,
    UserStatus::Active,
    UserStatus::Disabled,
];

fn stage_code(stage: Stage) -> u8 {
    match stage {
        Stage::PendingMfa => 0,
        Stage::PendingEnrolment => 1,
        Stage::Active => 2,
    }
}

fn auth_code(auth: AuthMethod) -> u8 {
    match auth {
        AuthMethod::Password => 0,
        AuthMethod::PasswordTotp => 1,
        AuthMethod::Sso => 2,
        AuthMethod::PasswordPasskey => 3,
        AuthMethod::Passkey => 4,
        AuthMethod::SsoMfa => 5,
    }
}

fn role_code(role: Role) -> u8 {
    match role {
        Role::Admin => 0,
        Role::Member => 1,
    }
}

fn status_code(status: UserStatus) -> u8 {
    match status {
        UserStatus::Invited => 0,
        UserStatus::Active => 1,
        UserStatus::Disabled => 2,
    }
}

// ---------------------------------------------------------------- sessions

/// The head of a session record: its [`SessionStatus`].
#[derive(Serialize, Deserialize)]
struct SessionHead {
    user: Id,
    client: Option<Id>,
    stage: u8,
    auth: u8,
    created_at: i64,
    last_seen: i64,
    expires_at: i64,
    idle_timeout_secs: i64,
}

#[derive(Serialize, Deserialize)]
struct SealedBytes {
    nonce: Vec<u8>,
    ciphertext: Vec<u8>,
}

impl SealedBytes {
    fn of(sealed: &Sealed) -> SealedBytes {
        SealedBytes {
            nonce: sealed.nonce.clone(),
            ciphertext: sealed.ciphertext.clone(),
        }
    }

    fn into_sealed(self) -> Sealed {
        Sealed {
            nonce: self.nonce,
            ciphertext: self.ciphertext,
        }
    }
}

#[derive(Serialize, Deserialize)]
struct SessionRecord {
    head: SessionHead,
    next: Option<String>,
    pending_totp: Option<SealedBytes>,
    user_agent: String,
    source_ip: String,
    stepped_up_at: Option<i64>,
    admin_secret: Option<String>,
    wrong_codes: u32,
}

/// The record kind, for error messages.
pub(crate) const SESSION: &str = "session";

pub fn encode_session(session: &Session) -> Result<Vec<u8>, StoreError> {
    // Every field is named, so a field added to `Session` fails to compile here
    // until its place in the layout is decided.
    let Session {
        user_id,
        realm,
        stage,
        auth,
        created_at,
        last_seen,
        expires_at,
        idle_timeout_secs,
        next,
        pending_totp,
        user_agent,
        source_ip,
        stepped_up_at,
        admin_secret,
        wrong_codes,
    } = session;
    let record = SessionRecord {
        head: SessionHead {
            user: id_bytes(user_id.0),
            client: realm_field(*realm),
            stage: stage_code(*stage),
            auth: auth_code(*auth),
            created_at: created_at.0,
            last_seen: last_seen.0,
            expires_at: expires_at.0,
            idle_timeout_secs: *idle_timeout_secs,
        },
        next: next.clone(),
        pending_totp: pending_totp.as_ref().map(SealedBytes::of),
        user_agent: user_agent.clone(),
        source_ip: source_ip.clone(),
        stepped_up_at: stepped_up_at.map(|t| t.0),
        admin_secret: admin_secret.clone(),
        wrong_codes: *wrong_codes,
    };
    encode(SESSION, &record)
}

fn status_of(head: &SessionHead) -> Result<SessionStatus, StoreError> {
    Ok(SessionStatus {
        user_id: UserId(uuid::Uuid::from_bytes(head.user)),
        realm: realm_of(head.client),
        stage: code(SESSION, &STAGES, head.stage)?,
        auth: code(SESSION, &AUTH_METHODS, head.auth)?,
        created_at: Timestamp(head.created_at),
        last_seen: Timestamp(head.last_seen),
        expires_at: Timestamp(head.expires_at),
        idle_timeout_secs: head.idle_timeout_secs,
    })
}

/// The status part of a stored session, decoding nothing else (no allocation).
pub fn decode_session_status(bytes: &[u8]) -> Result<SessionStatus, StoreError> {
    status_of(&decode::<SessionHead>(SESSION, bytes)?)
}

pub fn decode_session(bytes: &[u8]) -> Result<Session, StoreError> {
    let record: SessionRecord = decode(SESSION, bytes)?;
    let status = status_of(&record.head)?;
    Ok(Session {
        user_id: status.user_id,
        realm: status.realm,
        stage: status.stage,
        auth: status.auth,
        created_at: status.created_at,
        last_seen: status.last_seen,
        expires_at: status.expires_at,
        idle_timeout_secs: status.idle_timeout_secs,
        next: record.next,
        pending_totp: record.pending_totp.map(SealedBytes::into_sealed),
        user_agent: record.user_agent,
        source_ip: record.source_ip,
        stepped_up_at: record.stepped_up_at.map(Timestamp),
        admin_secret: record.admin_secret,
        wrong_codes: record.wrong_codes,
    })
}

// ---------------------------------------------------------------- users

/// The head of a user record: its [`UserIdentity`].
#[derive(Serialize, Deserialize)]
struct UserHead {
    id: Id,
    client: Option<Id>,
    email: Email,
    display_name: String,
    role: u8,
    status: u8,
}

#[derive(Serialize, Deserialize)]
struct TotpRecord {
    secret: SealedBytes,
    last_step: u64,
    enrolled_at: i64,
}

/// A recovery code's keyed hash: 32 raw bytes when it is the usual lower-case hex of
/// 32 bytes (half the space), otherwise the text as it was.
#[derive(Serialize, Deserialize)]
enum CodeHash {
    Bytes([u8; 32]),
    Text(String),
}

impl CodeHash {
    fn of(text: &str) -> CodeHash {
        let mut bytes = [0u8; 32];
        match hex::decode_to_slice(text, &mut bytes) {
            Ok(()) if hex::encode(bytes) == text => CodeHash::Bytes(bytes),
            _ => CodeHash::Text(text.to_owned()),
        }
    }

    fn into_text(self) -> String {
        match self {
            CodeHash::Bytes(bytes) => hex::encode(bytes),
            CodeHash::Text(text) => text,
        }
    }
}

#[derive(Serialize, Deserialize)]
struct LinkRecord {
    tenant: String,
    subject: String,
    username: String,
    linked_at: i64,
}

#[derive(Serialize, Deserialize)]
struct UserRecord {
    head: UserHead,
    password_hash: Option<String>,
    totp: Option<TotpRecord>,
    recovery_codes: Vec<CodeHash>,
    sso_links: Vec<LinkRecord>,
    break_glass: bool,
    created_at: i64,
    updated_at: i64,
    last_login_at: Option<i64>,
}

/// The record kind, for error messages.
pub(crate) const USER: &str = "user";

pub fn encode_user(user: &User) -> Result<Vec<u8>, StoreError> {
    // Every field is named, so a field added to `User` fails to compile here until
    // its place in the layout is decided.
    let User {
        id,
        realm,
        email,
        display_name,
        role,
        status,
        password_hash,
        totp,
        recovery_codes,
        sso_links,
        break_glass,
        created_at,
        updated_at,
        last_login_at,
    } = user;
    let record = UserRecord {
        head: UserHead {
            id: id_bytes(id.0),
            client: realm_field(*realm),
            email: email.clone(),
            display_name: display_name.clone(),
            role: role_code(*role),
            status: status_code(*status),
        },
        password_hash: password_hash.clone(),
        totp: totp.as_ref().map(|t| TotpRecord {
            secret: SealedBytes::of(&t.secret),
            last_step: t.last_step,
            enrolled_at: t.enrolled_at.0,
        }),
        recovery_codes: recovery_codes.iter().map(|c| CodeHash::of(c)).collect(),
        sso_links: sso_links
            .iter()
            .map(|l| LinkRecord {
                tenant: l.tenant.clone(),
                subject: l.subject.clone(),
                username: l.username.clone(),
                linked_at: l.linked_at.0,
            })
            .collect(),
        break_glass: *break_glass,
        created_at: created_at.0,
        updated_at: updated_at.0,
        last_login_at: last_login_at.map(|t| t.0),
    };
    encode(USER, &record)
}

fn identity_of(head: UserHead) -> Result<UserIdentity, StoreError> {
    Ok(UserIdentity {
        id: UserId(uuid::Uuid::from_bytes(head.id)),
        realm: realm_of(head.client),
        email: head.email,
        display_name: head.display_name,
        role: code(USER, &ROLES, head.role)?,
        status: code(USER, &STATUSES, head.status)?,
    })
}

/// The identity part of a stored user, decoding nothing after it.
pub fn decode_user_identity(bytes: &[u8]) -> Result<UserIdentity, StoreError> {
    identity_of(decode::<UserHead>(USER, bytes)?)
}

pub fn decode_user(bytes: &[u8]) -> Result<User, StoreError> {
    let record: UserRecord = decode(USER, bytes)?;
    let identity = identity_of(record.head)?;
    Ok(User {
        id: identity.id,
        realm: identity.realm,
        email: identity.email,
        display_name: identity.display_name,
        role: identity.role,
        status: identity.status,
        password_hash: record.password_hash,
        totp: record.totp.map(|t| TotpFactor {
            secret: t.secret.into_sealed(),
            last_step: t.last_step,
            enrolled_at: Timestamp(t.enrolled_at),
        }),
        recovery_codes: record
            .recovery_codes
            .into_iter()
            .map(CodeHash::into_text)
            .collect(),
        sso_links: record
            .sso_links
            .into_iter()
            .map(|l| SsoLink {
                tenant: l.tenant,
                subject: l.subject,
                username: l.username,
                linked_at: Timestamp(l.linked_at),
            })
            .collect(),
        break_glass: record.break_glass,
        created_at: Timestamp(record.created_at),
        updated_at: Timestamp(record.updated_at),
        last_login_at: record.last_login_at.map(Timestamp),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::session::{Lifetimes, Origin};

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
