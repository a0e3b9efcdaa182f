//! The forward-auth decision: is the visitor signed in to the realm a protected app
//! asked about (and with the role it needs)? This runs on every request of every
//! protected app, so it is one store read transaction with the two tables it needs
//! opened once — no write (activity is noted in memory and flushed in batches), no
//! Argon2, and only the parts of the records it needs decoded (see `store::compact`).

use crate::domain::session::{AuthMethod, Stage};
use crate::domain::user::{Email, Realm, Role, UserId};
use crate::store::prelude::*;
use crate::store::sessions::SessionKey;

use super::forward_auth_cache::Checked;
use std::sync::Arc;

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

/// What the store said about a check, before the decision.
enum Looked {
    NoSuchRealm,
    /// The realm exists; the session (or its user) does not, or there is no cookie.
    NoSession,
    Found(Arc<Checked>),
}

impl Services {
    /// Decides a forward-auth request for `choice` with the session token from the
    /// realm's cookie; `admin` asks for the admin role. A session checked before
    /// is answered from memory while no write has happened since (see
    /// `forward_auth_cache`); the clock-dependent rules run every time.
    pub fn forward_auth(
        &self,
        choice: RealmChoice,
        token: Option<&str>,
        admin: bool,
    ) -> Result<Decision> {
        let key = token.map(|t| self.session_key(t));
        let portal = match choice {
            RealmChoice::Staff => None,
            RealmChoice::Client(slug) => Some(slug),
        };
        // Read before the store is: an entry made from older reads is then refused.
        let generation = self.store.generation();
        let cached = key.and_then(|k| self.forward_auth_cache.get(&k, portal, generation));
        let looked = match cached {
            Some(checked) => Looked::Found(checked),
            None => self.check_in_store(portal, key, generation)?,
        };
        let decision = match (&looked, key) {
            (Looked::NoSuchRealm, _) => Decision::NoSuchRealm,
            (Looked::NoSession, _) | (Looked::Found(_), None) => Decision::SignIn,
            (Looked::Found(checked), Some(key)) => {
                let decision = self.decide(&key, checked, admin);
                if !matches!(decision, Decision::SignIn) {
                    self.note_session_activity(&key, &checked.session);
                }
                decision
            }
        };
        self.metrics.forward_auth_decision(decision.as_str());
        Ok(decision)
    }

    /// The store's answer for session `key` in the realm of `portal`, remembered for
    /// the next check when the session and its user exist.
    fn check_in_store(
        &self,
        portal: Option<&str>,
        key: Option<SessionKey>,
        generation: u64,
    ) -> Result<Looked> {
        let found = self.read(|r| {
            let (realm, slug) = match portal {
                None => (Realm::Staff, None),
                // Enabled in this same transaction, so the session check below need
                // not read the client again.
                Some(slug) => match r.client_by_slug(slug)? {
                    Some(c) if c.enabled => (Realm::Client(c.id), Some(c.slug)),
                    _ => return Ok(None),
                },
            };
            let Some(key) = key else {
                return Ok(Some(None));
            };
            // The two tables are opened once; only the session's status and the
            // user's identity are decoded (neither the session's free text nor the
            // user's hash, factors and codes).
            let tables = r.session_check_tables()?;
            let Some(session) = tables.session_status(&key)? else {
                return Ok(Some(None));
            };
            let Some(user) = tables.user_identity(session.user_id)? else {
                return Ok(Some(None));
            };
            Ok(Some(Some(Checked {
                generation,
                portal: slug,
                realm,
                session,
                user,
            })))
        })?;
        Ok(match (found, key) {
            (None, _) => Looked::NoSuchRealm,
            (Some(None), _) | (Some(Some(_)), None) => Looked::NoSession,
            (Some(Some(checked)), Some(key)) => {
                let checked = Arc::new(checked);
                self.forward_auth_cache.put(key, Arc::clone(&checked));
                Looked::Found(checked)
            }
        })
    }

    /// The decision for a session and its user as read for `checked.realm`, now.
    fn decide(&self, key: &SessionKey, checked: &Checked, admin: bool) -> Decision {
        let (session, user, realm) = (&checked.session, &checked.user, checked.realm);
        if !self.grants(key, session, realm, Stage::Active) {
            return Decision::SignIn;
        }
        if user.realm != realm || !user.is_active() {
            return Decision::SignIn;
        }
        if admin && user.role != Role::Admin {
            return Decision::MissingRole;
        }
        Decision::Allow(Identity {
            user_id: user.id,
            email: user.email.clone(),
            name: user.display_name.clone(),
            realm,
            client: checked.portal.clone(),
            role: user.role,
            auth: session.auth,
        })
    }
}
