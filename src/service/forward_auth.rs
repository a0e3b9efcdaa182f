//! The forward-auth decision: is the visitor signed in to the realm a protected app
//! asked about (and with the role it needs)? This runs on every request of every
//! protected app, so it is one store read transaction with the two tables it needs
//! opened once — no write (activity is noted in memory and flushed in batches), no
//! Argon2, and only the parts of the records it needs decoded (see `store::compact`).

use crate::domain::session::{AuthMethod, Stage};
use crate::domain::user::{Email, Realm, Role, UserId};
use crate::store::prelude::*;

use super::{Result, Services};

/// Which realm a protected app belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RealmChoice<'a> {
    Staff,
    /// A client's portal, by slug.
    Client(&'a str),
}

/// Who the visitor is, for the identity headers. Owned values moved out of the
/// store record (not copied): the headers are built from them directly.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    pub user_id: UserId,
    pub email: Email,
    pub name: String,
    pub realm: Realm,
    /// The client's slug, for portal realms.
    pub client: Option<String>,
    pub role: Role,
    pub auth: AuthMethod,
}

/// The answer to one check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    Allow(Identity),
    /// Signed in, but without the role the app requires.
    MissingRole,
    /// Not signed in to this realm (no cookie, unknown, expired, revoked, disabled…).
    SignIn,
    /// No such client, or its portal is disabled.
    NoSuchRealm,
}

impl Decision {
    /// A short name for logs and metrics.
    pub fn as_str(&self) -> &'static str {
        match self {
            Decision::Allow(_) => "allow",
            Decision::MissingRole => "forbidden",
            Decision::SignIn => "sign_in",
            Decision::NoSuchRealm => "unknown_realm",
        }
    }
}

impl Services {
    /// Decides a forward-auth request for `choice` with the session token from the
    /// realm's cookie; `admin` asks for the admin role.
    pub fn forward_auth(
        &self,
        choice: RealmChoice,
        token: Option<&str>,
        admin: bool,
    ) -> Result<Decision> {
        let key = token.map(|t| self.session_key(t));
        let decided = self.read(|r| {
            let (realm, client) = match choice {
                RealmChoice::Staff => (Realm::Staff, None),
                // Enabled in this same transaction, so the session check below need
                // not read the client again.
                RealmChoice::Client(slug) => match r.client_by_slug(slug)? {
                    Some(c) if c.enabled => (Realm::Client(c.id), Some(c.slug)),
                    _ => return Ok((Decision::NoSuchRealm, None)),
                },
            };
            let Some(key) = key else {
                return Ok((Decision::SignIn, None));
            };
            // The two tables are opened once; only the session's status and the
            // user's identity are decoded (neither the session's free text nor the
            // user's hash, factors and codes).
            let tables = r.session_check_tables()?;
            let Some(session) = tables.session_status(&key)? else {
                return Ok((Decision::SignIn, None));
            };
            if !self.grants(&key, &session, realm, Stage::Active) {
                return Ok((Decision::SignIn, None));
            }
            let Some(user) = tables.user_identity(session.user_id)? else {
                return Ok((Decision::SignIn, None));
            };
            if user.realm != realm || !user.is_active() {
                return Ok((Decision::SignIn, None));
            }
            if admin && user.role != Role::Admin {
                return Ok((Decision::MissingRole, Some(session)));
            }
            let identity = Identity {
                user_id: user.id,
                email: user.email,
                name: user.display_name,
                realm,
                client,
                role: user.role,
                auth: session.auth,
            };
            Ok((Decision::Allow(identity), Some(session)))
        })?;
        let (decision, session) = decided;
        self.metrics.forward_auth_decision(decision.as_str());
        if let (Some(key), Some(session)) = (key, &session) {
            self.note_session_activity(&key, session);
        }
        Ok(decision)
    }
}
