//! Sessions as requests see them: who a cookie belongs to (one read transaction, no
//! write per request), activity recorded in memory and flushed in batches, sign-out,
//! listing / revoking a user's sessions, ending every session of a realm at once, and
//! the cap on sessions per user.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::domain::audit::{Actor, AuditEvent, AuditKind};
use crate::domain::session::{Origin, Session, SessionStatus, Stage};
use crate::domain::time::Timestamp;
use crate::domain::user::{Realm, User, UserId, UserIdentity};
use crate::store::prelude::*;
use crate::store::sessions::SessionKey;

use super::admin::AdminActor;
use super::{Result, ServiceError, Services};

/// Activity is written back at most this often per session.
pub const TOUCH_INTERVAL_SECS: i64 = 60;

/// At most this many sessions per user (any stage, any device). Starting one more
/// ends the oldest: a script that signs in in a loop cannot grow the store without
/// bound, and a forgotten device drops out in time.
pub const MAX_SESSIONS_PER_USER: usize = 20;

/// Last-seen times waiting to be written, newest per session.
#[derive(Default)]
pub struct Activity {
    pending: Mutex<HashMap<SessionKey, Timestamp>>,
}

impl Activity {
    fn latest(&self, key: &SessionKey) -> Option<Timestamp> {
        self.pending.lock().ok()?.get(key).copied()
    }

    fn note(&self, key: SessionKey, at: Timestamp) {
        if let Ok(mut map) = self.pending.lock() {
            map.insert(key, at);
        }
    }

    fn take(&self) -> Vec<(SessionKey, Timestamp)> {
        self.pending
            .lock()
            .map(|mut m| m.drain().collect())
            .unwrap_or_default()
    }
}

/// What a session check needs to know about the session's user, whichever part of
/// the user record was read.
pub(crate) trait SessionUser {
    fn realm(&self) -> Realm;
    fn is_active(&self) -> bool;
}

impl SessionUser for User {
    fn realm(&self) -> Realm {
        self.realm
    }
    fn is_active(&self) -> bool {
        User::is_active(self)
    }
}

impl SessionUser for UserIdentity {
    fn realm(&self) -> Realm {
        self.realm
    }
    fn is_active(&self) -> bool {
        UserIdentity::is_active(self)
    }
}

/// A request's signed-in user.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub key: SessionKey,
    pub session: Session,
    pub user: User,
}

/// One row of "your sessions".
#[derive(Debug, Clone)]
pub struct SessionSummary {
    /// An opaque handle for revoking (hex of the stored key; the token stays secret).
    pub handle: String,
    pub created_at: Timestamp,
    pub last_seen: Timestamp,
    pub expires_at: Timestamp,
    pub user_agent: String,
    pub source_ip: String,
    pub auth: &'static str,
    pub current: bool,
}

impl Services {
    /// How many sessions `user` has (a scan of their sessions, so off the executor).
    pub async fn count_sessions_of_user(self: &Arc<Self>, user: UserId) -> Result<usize> {
        self.blocking(move |s| Ok(s.store.read(|r| r.sessions_of_user(user))?.len()))
            .await
    }

    /// The session behind `token` if it is live, at `stage`, in `realm`, and its user
    /// is active there. Reads only; activity is noted in memory.
    pub fn session_for(&self, realm: Realm, token: &str, stage: Stage) -> Result<Option<SignedIn>> {
        let key = self.session_key(token);
        let found = self.read(|r| self.live_session(r, realm, key, stage))?;
        if let Some(signed_in) = &found {
            self.note_activity(signed_in);
        }
        Ok(found)
    }

    /// The session `key` in the open transaction if it is live, at `stage`, in
    /// `realm`, its user active there, and (for a portal) its client enabled.
    pub(crate) fn live_session(
        &self,
        r: &impl Tables,
        realm: Realm,
        key: SessionKey,
        stage: Stage,
    ) -> Result<Option<SignedIn>> {
        let found = self.live_session_with(r, realm, key, stage, |id| r.user(id))?;
        Ok(found.map(|(session, user)| SignedIn { key, session, user }))
    }

    /// [`Self::live_session`]'s rules with the user read by `load` (the whole record,
    /// or only the part a caller needs).
    pub(crate) fn live_session_with<U: SessionUser>(
        &self,
        r: &impl Tables,
        realm: Realm,
        key: SessionKey,
        stage: Stage,
        load: impl FnOnce(UserId) -> crate::store::Result<Option<U>>,
    ) -> Result<Option<(Session, U)>> {
        let Some(session) = r.session(&key)? else {
            return Ok(None);
        };
        if !self.grants(&key, &session.status(), realm, stage) {
            return Ok(None);
        }
        let Some(user) = load(session.user_id)? else {
            return Ok(None);
        };
        if user.realm() != realm || !user.is_active() {
            return Ok(None);
        }
        // A disabled or removed client's portal grants nothing, at once.
        if let Realm::Client(id) = realm
            && !r.client(id)?.is_some_and(|c| c.enabled)
        {
            return Ok(None);
        }
        Ok(Some((session, user)))
    }

    /// Whether session `key` with `status` is at `stage` in `realm` and still live now
    /// (counting activity noted in memory but not yet written). The user and client
    /// are checked by the caller.
    pub(crate) fn grants(
        &self,
        key: &SessionKey,
        status: &SessionStatus,
        realm: Realm,
        stage: Stage,
    ) -> bool {
        if status.realm != realm || status.stage != stage {
            return false;
        }
        let latest = self.activity.latest(key).unwrap_or(status.last_seen);
        status.is_live(self.clock.now(), latest)
    }

    /// Notes that a full session was used, at most once a minute per session.
    pub(crate) fn note_activity(&self, signed_in: &SignedIn) {
        self.note_session_activity(&signed_in.key, &signed_in.session.status());
    }

    /// [`Self::note_activity`] for session `key`.
    pub(crate) fn note_session_activity(&self, key: &SessionKey, session: &SessionStatus) {
        if session.stage != Stage::Active {
            return;
        }
        let now = self.clock.now();
        let seen = self.activity.latest(key).unwrap_or(session.last_seen);
        if now.secs_since(seen) >= TOUCH_INTERVAL_SECS {
            self.activity.note(*key, now);
        }
    }

    /// Writes noted activity in one transaction; called periodically and at shutdown.
    pub fn flush_activity(&self) -> Result<usize> {
        let touches = self.activity.take();
        if touches.is_empty() {
            return Ok(0);
        }
        self.store.write(|w| w.touch_sessions(&touches))?;
        Ok(touches.len())
    }

    /// Deletes expired sessions and one-time tokens; called periodically.
    pub fn purge_expired(&self) -> Result<usize> {
        let now = self.clock.now();
        let sessions = self
            .store
            .write(|w| w.purge_expired_sessions(now, 10_000))?;
        let tokens = self
            .store
            .write(|w| w.delete_one_time_tokens(|t| t.expires_at <= now))?;
        Ok(sessions + tokens)
    }

    /// Ends the session behind `token` (any stage).
    pub async fn logout(self: &Arc<Self>, token: String, origin: Origin) -> Result<()> {
        self.blocking(move |s| {
            let key = s.session_key(&token);
            s.write(|w| {
                if let Some(session) = w.delete_session(&key)?
                    && session.stage == Stage::Active
                {
                    let email = w
                        .user(session.user_id)?
                        .map(|u| u.email.to_string())
                        .unwrap_or_default();
                    s.audit(
                        w,
                        AuditEvent::new(AuditKind::Logout, s.clock.now())
                            .by(Actor::User(session.user_id), &email)
                            .in_realm(session.realm)
                            .from_ip(&origin.ip),
                    )?;
                }
                Ok(())
            })?;
            Ok(())
        })
        .await
    }

    /// The active sessions of the signed-in user, newest first.
    pub fn list_sessions(&self, me: &SignedIn) -> Result<Vec<SessionSummary>> {
        let now = self.clock.now();
        let mut rows: Vec<SessionSummary> = self
            .store
            .read(|r| r.sessions_of_user(me.user.id))?
            .into_iter()
            .filter(|(key, s)| {
                s.stage == Stage::Active
                    && s.is_live(now, self.activity.latest(key).unwrap_or(s.last_seen))
            })
            .map(|(key, s)| SessionSummary {
                handle: hex::encode(key),
                created_at: s.created_at,
                last_seen: self
                    .activity
                    .latest(&key)
                    .unwrap_or(s.last_seen)
                    .max(s.last_seen),
                expires_at: s.expires_at,
                user_agent: s.user_agent.clone(),
                source_ip: s.source_ip.clone(),
                auth: s.auth.as_header(),
                current: key == me.key,
            })
            .collect();
        rows.sort_by_key(|r| std::cmp::Reverse(r.created_at));
        Ok(rows)
    }

    /// Revokes one of the signed-in user's own sessions by its handle.
    pub async fn revoke_own_session(
        self: &Arc<Self>,
        me: SignedIn,
        handle: String,
        origin: Origin,
    ) -> Result<()> {
        let key: SessionKey = hex::decode(&handle)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or(ServiceError::NotFound("session"))?;
        self.blocking(move |s| {
            s.write(|w| {
                match w.session(&key)? {
                    Some(session) if session.user_id == me.user.id => {
                        w.delete_session(&key)?;
                    }
                    _ => return Ok(Err(ServiceError::NotFound("session"))),
                }
                s.audit(
                    w,
                    AuditEvent::new(AuditKind::SessionRevoked, s.clock.now())
                        .by(Actor::User(me.user.id), me.user.email.as_str())
                        .in_realm(me.user.realm)
                        .from_ip(&origin.ip),
                )?;
                Ok(Ok(()))
            })?
        })
        .await
    }

    /// Makes room for one more session of `user` in the open transaction by ending
    /// their oldest ones beyond [`MAX_SESSIONS_PER_USER`]; returns how many ended.
    /// Called by `start_session`, the one place sessions are created.
    pub(crate) fn make_room_for_session(&self, w: &mut Writer, user: UserId) -> Result<usize> {
        // Counted from the per-user index first: only a user at the cap has their
        // session records read (each is a page of its own in a large store).
        if w.count_sessions_of_user(user)? < MAX_SESSIONS_PER_USER {
            return Ok(0);
        }
        let mut sessions = w.sessions_of_user(user)?;
        let Some(excess) = (sessions.len() + 1).checked_sub(MAX_SESSIONS_PER_USER) else {
            return Ok(0);
        };
        sessions.sort_by_key(|(key, s)| (s.created_at, *key));
        for (key, _) in sessions.iter().take(excess) {
            w.delete_session(key)?;
        }
        Ok(excess)
    }

    /// Ends every session of `realm` at once (any stage), except `keep` (the acting
    /// admin's own, from the console); returns how many ended. Audited.
    pub async fn revoke_all_sessions(
        self: &Arc<Self>,
        actor: AdminActor,
        realm: Realm,
        keep: Option<SessionKey>,
    ) -> Result<usize> {
        self.blocking(move |s| {
            s.write(|w| {
                let mut ended = 0;
                for user in w.users_in_realm(realm)? {
                    ended += w.delete_sessions_of_user(user.id, |key, _| Some(*key) != keep)?;
                }
                let event = actor
                    .event(AuditKind::SessionsRevoked)
                    .in_realm(realm)
                    .detail(format!("every session of the realm: {ended} ended"));
                s.audit(w, event)?;
                Ok(ended)
            })
        })
        .await
    }
}
