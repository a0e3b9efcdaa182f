//! Session records in the compact layout: the head (a [`SessionStatus`], no text) and
//! the rest.

use serde::{Deserialize, Serialize};

use super::*;
use crate::domain::session::{Session, SessionStatus};
use crate::domain::time::Timestamp;
use crate::domain::user::UserId;

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
