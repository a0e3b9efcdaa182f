//! Server-side sessions: what a session cookie stands for, which stage of sign-in it
//! is at, and when it stops being valid. The cookie holds a random token; the store
//! keys the session by that token's keyed hash.

use serde::{Deserialize, Serialize};

use super::time::Timestamp;
use super::user::{Realm, Sealed, UserId};

/// How long a half-finished sign-in (waiting for a code or TOTP enrolment) may last.
pub const PENDING_LIFETIME_SECS: i64 = 10 * 60;

/// How recent the last full authentication of an admin session must be for a change
/// in the admin console (DESIGN §9). Sign-in itself counts; after this long, the admin
/// confirms again (password + second factor, or a fresh Microsoft sign-in) before
/// the next change. Reading pages needs nothing.
pub const STEP_UP_WINDOW_SECS: i64 = 10 * 60;

/// How far along sign-in a session is. Only `Active` grants anything.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// Password accepted; a TOTP or recovery code is still needed.
    PendingMfa,
    /// Password accepted; the user must enrol TOTP before getting a session.
    PendingEnrolment,
    /// Fully signed in.
    Active,
}

/// How the user proved who they are; sent to apps as `Remote-Auth`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthMethod {
    Password,
    PasswordTotp,
    Sso,
    /// Password, then a passkey as the second step.
    PasswordPasskey,
    /// A passkey alone (user verification required).
    Passkey,
    /// Single sign-on whose ID token proved multi-factor authentication at the
    /// provider (`amr`/`acr` for OpenID providers, `acrs` for Entra; DESIGN §10).
    SsoMfa,
}

impl AuthMethod {
    /// The `Remote-Auth` header value.
    pub fn as_header(self) -> &'static str {
        match self {
            AuthMethod::Password => "password",
            AuthMethod::PasswordTotp => "password+totp",
            AuthMethod::Sso => "sso",
            AuthMethod::PasswordPasskey => "password+passkey",
            AuthMethod::Passkey => "passkey",
            AuthMethod::SsoMfa => "sso+mfa",
        }
    }

    /// Whether the sign-in used a local method (a password or a passkey): such
    /// sessions end when SSO-only is turned on.
    pub fn used_password(self) -> bool {
        !matches!(self, AuthMethod::Sso | AuthMethod::SsoMfa)
    }
}

/// One browser's session.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    pub user_id: UserId,
    pub realm: Realm,
    pub stage: Stage,
    pub auth: AuthMethod,
    pub created_at: Timestamp,
    pub last_seen: Timestamp,
    /// The absolute end of this session, whatever its activity.
    pub expires_at: Timestamp,
    /// Inactivity after which the session ends, in seconds.
    pub idle_timeout_secs: i64,
    /// Where to go once sign-in completes (already checked to be safe).
    #[serde(default)]
    pub next: Option<String>,
    /// A TOTP seed offered during enrolment, sealed, until the user confirms it.
    #[serde(default)]
    pub pending_totp: Option<Sealed>,
    /// Shown in the session list so users can tell their sessions apart.
    #[serde(default)]
    pub user_agent: String,
    #[serde(default)]
    pub source_ip: String,
    /// The last step-up (a full authentication while signed in). Sessions made before
    /// step-up existed have none; their sign-in ([`Session::created_at`]) counts.
    #[serde(default)]
    pub stepped_up_at: Option<Timestamp>,
    /// Keyed hash (hex) of the separate admin secret: the host-only cookie that alone
    /// opens the admin console, bound to this session. Staff sessions only.
    #[serde(default)]
    pub admin_secret: Option<String>,
    /// Wrong second-step codes given to this pending sign-in so far.
    #[serde(default)]
    pub wrong_codes: u32,
}

/// The part of a session that decides whether it grants anything now: what the
/// forward-auth check reads on every request (decoded from the stored record without
/// the free-text fields, so without allocating).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SessionStatus {
    pub user_id: UserId,
    pub realm: Realm,
    pub stage: Stage,
    pub auth: AuthMethod,
    pub created_at: Timestamp,
    pub last_seen: Timestamp,
    pub expires_at: Timestamp,
    pub idle_timeout_secs: i64,
}

impl SessionStatus {
    /// Whether the session is still usable at `now`, given the latest activity known
    /// (which may be newer than `last_seen` while activity is being batched).
    pub fn is_live(&self, now: Timestamp, latest_activity: Timestamp) -> bool {
        let seen = self.last_seen.max(latest_activity);
        now < self.expires_at && now.secs_since(seen) < self.idle_timeout_secs
    }
}

/// Session lifetimes for one realm.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Lifetimes {
    pub idle_secs: i64,
    pub absolute_secs: i64,
}

/// Where the request came from, as recorded on sessions and audit events.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Origin {
    pub ip: String,
    pub user_agent: String,
}

impl Session {
    /// A session at `stage` starting now. Pending stages get a short fixed lifetime.
    pub fn start(
        user_id: UserId,
        realm: Realm,
        stage: Stage,
        auth: AuthMethod,
        lifetimes: Lifetimes,
        origin: &Origin,
        now: Timestamp,
    ) -> Session {
        let (idle, absolute) = match stage {
            Stage::Active => (lifetimes.idle_secs, lifetimes.absolute_secs),
            Stage::PendingMfa | Stage::PendingEnrolment => {
                (PENDING_LIFETIME_SECS, PENDING_LIFETIME_SECS)
            }
        };
        Session {
            user_id,
            realm,
            stage,
            auth,
            created_at: now,
            last_seen: now,
            expires_at: now.plus_secs(absolute),
            idle_timeout_secs: idle,
            next: None,
            pending_totp: None,
            user_agent: origin.user_agent.chars().take(200).collect(),
            source_ip: origin.ip.clone(),
            stepped_up_at: None,
            admin_secret: None,
            wrong_codes: 0,
        }
    }

    /// When the user last fully proved who they are in this session: the sign-in that
    /// made it, or a later step-up.
    pub fn authenticated_at(&self) -> Timestamp {
        self.stepped_up_at
            .map_or(self.created_at, |at| at.max(self.created_at))
    }

    /// Whether that was recent enough at `now` for an admin change.
    pub fn recently_authenticated(&self, now: Timestamp) -> bool {
        now.secs_since(self.authenticated_at()) < STEP_UP_WINDOW_SECS
    }

    /// Whether the session is still usable at `now`, given the latest activity known
    /// (which may be newer than `last_seen` while activity is being batched).
    pub fn is_live(&self, now: Timestamp, latest_activity: Timestamp) -> bool {
        self.status().is_live(now, latest_activity)
    }

    /// The part of this session that decides whether it grants anything.
    pub fn status(&self) -> SessionStatus {
        SessionStatus {
            user_id: self.user_id,
            realm: self.realm,
            stage: self.stage,
            auth: self.auth,
            created_at: self.created_at,
            last_seen: self.last_seen,
            expires_at: self.expires_at,
            idle_timeout_secs: self.idle_timeout_secs,
        }
    }

    /// The moment after which the store may delete this session.
    pub fn purge_after(&self) -> Timestamp {
        self.expires_at
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(stage: Stage) -> Session {
        Session::start(
            UserId::random(),
            Realm::Staff,
            stage,
            AuthMethod::PasswordTotp,
            Lifetimes {
                idle_secs: 1_800,
                absolute_secs: 43_200,
            },
            &Origin::default(),
            Timestamp(1_000_000),
        )
    }

    #[test]
    fn idle_timeout_counts_from_latest_activity() {
        let s = session(Stage::Active);
        let start = Timestamp(1_000_000);
        assert!(s.is_live(start.plus_secs(1_799), start));
        assert!(!s.is_live(start.plus_secs(1_800), start));
        assert!(s.is_live(start.plus_secs(3_000), start.plus_secs(1_500)));
    }

    #[test]
    fn absolute_lifetime_ends_even_with_activity() {
        let s = session(Stage::Active);
        let end = Timestamp(1_000_000 + 43_200);
        assert!(!s.is_live(end, end));
        assert!(s.is_live(end.plus_secs(-1), end.plus_secs(-1)));
    }

    #[test]
    fn sign_in_counts_as_fresh_until_the_window_ends_and_a_step_up_renews_it() {
        let mut s = session(Stage::Active);
        let start = Timestamp(1_000_000);
        assert!(s.recently_authenticated(start.plus_secs(STEP_UP_WINDOW_SECS - 1)));
        assert!(!s.recently_authenticated(start.plus_secs(STEP_UP_WINDOW_SECS)));
        s.stepped_up_at = Some(start.plus_secs(3_000));
        assert!(s.recently_authenticated(start.plus_secs(3_000 + STEP_UP_WINDOW_SECS - 1)));
        assert!(!s.recently_authenticated(start.plus_secs(3_000 + STEP_UP_WINDOW_SECS)));
    }

    #[test]
    fn old_records_without_the_new_fields_still_read() {
        let s = session(Stage::Active);
        let mut json = serde_json::to_value(&s).unwrap();
        let map = json.as_object_mut().unwrap();
        map.remove("stepped_up_at");
        map.remove("admin_secret");
        map.remove("wrong_codes");
        let back: Session = serde_json::from_value(json).unwrap();
        assert_eq!(back, s);
    }

    #[test]
    fn pending_sessions_are_short() {
        let s = session(Stage::PendingMfa);
        assert_eq!(s.expires_at, Timestamp(1_000_000 + PENDING_LIFETIME_SECS));
    }
}
