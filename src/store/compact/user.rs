//! User records in the compact layout: the head (a [`UserIdentity`]) and the rest
//! (password hash, factors, recovery codes, links).

use serde::{Deserialize, Serialize};

use super::*;
use crate::domain::time::Timestamp;
use crate::domain::user::{Email, SsoLink, TotpFactor, User, UserId, UserIdentity};

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
