//! Passkeys (DESIGN §13): registering them (on the account page, or at the first
//! sign-in where the realm requires a second step), listing and removing them, and
//! the realm switch for signing in with a passkey alone. Signing in with one is in
//! [`sign_in`]. The relying party is the host of `public_url`, and an answer must come
//! from exactly that origin; attestation is not asked for.
//!
//! Passkeys are a local method: SSO-only refuses them like passwords (break-glass
//! accounts excepted), and they are bound to the realm they were registered in.

mod challenges;
mod enrolment;
pub mod sign_in;

use std::sync::Arc;

use url::Url;
use webauthn_rs::prelude::{
    Credential, Passkey, RegisterPublicKeyCredential, SecurityKey, Webauthn, WebauthnBuilder,
};

use crate::domain::audit::{Actor, AuditEvent, AuditKind};
use crate::domain::passkey::{PasskeyRecord, clean_name, credential_id_of};
use crate::domain::session::{Origin, Stage};
use crate::domain::time::Timestamp;
use crate::domain::user::{Realm, User};
use crate::store::Writer;
use crate::store::prelude::*;

use super::admin::AdminActor;
use super::policy::{StaffLogin, passkey_sign_in, realm_policy};
use super::sessions::SignedIn;
use super::{Result, ServiceError, Services};
pub(crate) use challenges::{Ceremony, Challenges};

/// A challenge for the browser: the id the page sends back and the options for
/// `navigator.credentials` (JSON, as the WebAuthn library writes them).
#[derive(Debug, Clone)]
pub struct PasskeyPrompt {
    pub ceremony: String,
    pub options_json: String,
}

/// One row of "your passkeys".
#[derive(Debug, Clone)]
pub struct PasskeySummary {
    /// The credential id (base64url), which the remove form sends back.
    pub handle: String,
    pub name: String,
    pub created_at: Timestamp,
    pub last_used_at: Option<Timestamp>,
}

/// An answer from the browser to a registration challenge. `Debug` leaves it out.
pub struct NewPasskey {
    pub ceremony: String,
    /// The name the user gave it.
    pub name: String,
    /// `PublicKeyCredential` from `navigator.credentials.create`, as JSON.
    pub credential_json: String,
}

impl std::fmt::Debug for NewPasskey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewPasskey")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// The relying party and the challenges in flight.
pub(crate) struct RelyingParty {
    /// `None` when `public_url`'s host cannot be a relying-party id (an IP address).
    webauthn: Option<Webauthn>,
    pub(crate) challenges: Challenges,
}

impl RelyingParty {
    /// The relying party of `base_url`: its host is the id, its origin the only one
    /// accepted.
    pub(crate) fn new(base_url: &str) -> RelyingParty {
        let webauthn = Url::parse(base_url).ok().and_then(|url| {
            let host = url.host_str()?.to_owned();
            if host.parse::<std::net::IpAddr>().is_ok() || host.starts_with('[') {
                return None;
            }
            // The name devices show beside the passkey: the site's own host, which
            // staff and every portal share (never "Gatehouse" to a client's user).
            WebauthnBuilder::new(&host, &url)
                .ok()?
                .rp_name(&host)
                .build()
                .ok()
        });
        RelyingParty {
            webauthn,
            challenges: Challenges::default(),
        }
    }

    pub(crate) fn webauthn(&self) -> Result<&Webauthn> {
        self.webauthn.as_ref().ok_or_else(|| {
            ServiceError::Forbidden(
                "Passkeys need public_url to be a host name (not an IP address).".to_owned(),
            )
        })
    }
}

/// Parses a browser's JSON answer; anything malformed is a plain refusal.
pub(crate) fn parse_answer<T: serde::de::DeserializeOwned>(json: &str) -> Option<T> {
    if json.len() > 64 * 1024 {
        return None;
    }
    serde_json::from_str(json).ok()
}

/// The stored form of a credential the library verified.
fn as_passkey(key: SecurityKey) -> Passkey {
    Passkey::from(Credential::from(key))
}

/// What an audit event about `user`'s passkeys looks like.
fn passkey_event(kind: AuditKind, user: &User, origin: &Origin) -> AuditEvent {
    AuditEvent::new(kind, Timestamp(0))
        .by(Actor::User(user.id), user.email.as_str())
        .about(user.id, user.email.as_str())
        .in_realm(user.realm)
        .from_ip(&origin.ip)
}

impl Services {
    /// The passkeys of the signed-in user.
    pub fn passkeys(&self, me: &SignedIn) -> Result<Vec<PasskeySummary>> {
        let records = self.read(|r| Ok(r.passkeys_of(me.user.id)?))?;
        let mut rows: Vec<PasskeySummary> = records
            .iter()
            .filter(|p| p.realm == me.user.realm)
            .map(|p| PasskeySummary {
                handle: p.handle(),
                name: p.name.clone(),
                created_at: p.created_at,
                last_used_at: p.last_used_at,
            })
            .collect();
        rows.sort_by_key(|p| p.created_at);
        Ok(rows)
    }

    /// Whether `user` may register or use passkeys under their realm's rules.
    fn passkeys_allowed(&self, r: &impl Tables, user: &User) -> Result<bool> {
        Ok(realm_policy(r, user.realm)?.password_allowed(user))
    }

    /// A registration challenge for the signed-in user (account page) or the user of
    /// a pending enrolment. Adding a passkey to an account needs a sign-in from the
    /// last ten minutes.
    pub fn begin_passkey_registration(&self, me: &SignedIn) -> Result<PasskeyPrompt> {
        let webauthn = self.passkeys.webauthn()?;
        let now = self.clock.now();
        if me.session.stage == Stage::Active && !me.session.recently_authenticated(now) {
            return Err(ServiceError::Forbidden(
                "Adding a passkey needs a recent sign-in: sign out and in again first.".to_owned(),
            ));
        }
        let (existing, allowed, discoverable) = self.read(|r| {
            Ok((
                r.passkeys_of(me.user.id)?,
                self.passkeys_allowed(r, &me.user)?,
                passkey_sign_in(r, me.user.realm)?,
            ))
        })?;
        if !allowed {
            return Err(ServiceError::Forbidden(
                "Sign-in here uses Microsoft only; passkeys are not used.".to_owned(),
            ));
        }
        let exclude = existing
            .iter()
            .map(|p| p.credential.cred_id().clone())
            .collect();
        let (mut options, state) = webauthn
            .start_securitykey_registration(
                me.user.id.0,
                me.user.email.as_str(),
                me.user.name_or_email(),
                Some(exclude),
                None,
                None,
            )
            .map_err(|e| ServiceError::Internal(format!("passkey registration: {e}")))?;
        // Any authenticator (not only security keys); discoverable where the realm
        // lets passkeys sign in alone, so that works later.
        options.public_key.hints = None;
        let mut options =
            serde_json::to_value(&options).map_err(|e| ServiceError::Internal(e.to_string()))?;
        if let Some(selection) = options
            .pointer_mut("/publicKey/authenticatorSelection")
            .and_then(|v| v.as_object_mut())
        {
            let resident = if discoverable {
                "required"
            } else {
                "preferred"
            };
            selection.insert("residentKey".to_owned(), resident.into());
            selection.insert("requireResidentKey".to_owned(), discoverable.into());
        }
        // Browsers refuse a "user verification required" protection policy together
        // with user verification only preferred; user verification is checked here at
        // each use instead.
        if let Some(extensions) = options
            .pointer_mut("/publicKey/extensions")
            .and_then(|v| v.as_object_mut())
        {
            extensions.remove("credentialProtectionPolicy");
            extensions.remove("enforceCredentialProtectionPolicy");
        }
        let ceremony = self.passkeys.challenges.hold(
            Ceremony::Register {
                user: me.user.id,
                realm: me.user.realm,
                session: me.key,
                state: Box::new(state),
            },
            now,
        )?;
        Ok(PasskeyPrompt {
            ceremony,
            options_json: serde_json::to_string(&options)
                .map_err(|e| ServiceError::Internal(e.to_string()))?,
        })
    }

    /// Checks the browser's answer to a registration challenge of `me`'s session and
    /// stores the passkey in the open transaction. Refusals say only that the passkey
    /// was not accepted.
    pub(crate) fn register_passkey(
        &self,
        w: &mut Writer,
        me: &SignedIn,
        answer: &NewPasskey,
        origin: &Origin,
    ) -> Result<PasskeyRecord> {
        let refused =
            || ServiceError::Invalid("The passkey was not accepted. Please try again.".to_owned());
        let now = self.clock.now();
        let Some(Ceremony::Register {
            user,
            realm,
            session,
            state,
        }) = self.passkeys.challenges.take(&answer.ceremony, now)
        else {
            return Err(refused());
        };
        if user != me.user.id || realm != me.user.realm || session != me.key {
            return Err(refused());
        }
        let Some(fresh) = w.user(me.user.id)? else {
            return Err(ServiceError::SignInExpired);
        };
        if !self.passkeys_allowed(w, &fresh)? {
            return Err(refused());
        }
        let credential: RegisterPublicKeyCredential =
            parse_answer(&answer.credential_json).ok_or_else(refused)?;
        let key = self
            .passkeys
            .webauthn()?
            .finish_securitykey_registration(&credential, &state)
            .map_err(|e| {
                tracing::info!(error = %e, "passkey registration refused");
                refused()
            })?;
        let record = PasskeyRecord {
            user_id: fresh.id,
            realm: fresh.realm,
            name: clean_name(&answer.name),
            created_at: now,
            last_used_at: None,
            credential: as_passkey(key),
        };
        if w.passkey_by_credential(record.credential_id())?.is_some() {
            return Err(ServiceError::Conflict(
                "That passkey is already registered.".to_owned(),
            ));
        }
        w.put_passkey(&record)?;
        self.audit(
            w,
            passkey_event(AuditKind::PasskeyRegistered, &fresh, origin).detail(format!(
                "\"{}\"",
                crate::domain::text::neutralise(&record.name)
            )),
        )?;
        Ok(record)
    }

    /// Adds a passkey to the signed-in user's account.
    pub async fn add_passkey(
        self: &Arc<Self>,
        me: SignedIn,
        answer: NewPasskey,
        origin: Origin,
    ) -> Result<PasskeySummary> {
        self.blocking(move |s| {
            let record = s.write(|w| s.register_passkey(w, &me, &answer, &origin))?;
            // Told by email once it is stored (DESIGN §11).
            s.notify(
                &me.user,
                crate::service::notify::SecurityNotice::SecondFactorAdded("passkey".to_owned()),
            );
            Ok(PasskeySummary {
                handle: record.handle(),
                name: record.name,
                created_at: record.created_at,
                last_used_at: None,
            })
        })
        .await
    }

    /// Removes one of the signed-in user's passkeys.
    pub async fn remove_passkey(
        self: &Arc<Self>,
        me: SignedIn,
        handle: String,
        origin: Origin,
    ) -> Result<()> {
        let credential_id = credential_id_of(&handle).ok_or(ServiceError::NotFound("passkey"))?;
        self.blocking(move |s| {
            s.write(|w| {
                let Some(record) = w.passkey_by_credential(&credential_id)? else {
                    return Err(ServiceError::NotFound("passkey"));
                };
                if record.user_id != me.user.id {
                    return Err(ServiceError::NotFound("passkey"));
                }
                w.delete_passkey(me.user.id, &credential_id)?;
                s.audit(
                    w,
                    passkey_event(AuditKind::PasskeyRemoved, &me.user, &origin).detail(format!(
                        "\"{}\"",
                        crate::domain::text::neutralise(&record.name)
                    )),
                )?;
                Ok(())
            })?;
            s.notify(
                &me.user,
                crate::service::notify::SecurityNotice::SecondFactorRemoved("passkey".to_owned()),
            );
            Ok(())
        })
        .await
    }

    /// Turns "Sign in with a passkey" on or off for staff.
    pub async fn set_staff_passkey_sign_in(
        self: &Arc<Self>,
        actor: AdminActor,
        on: bool,
    ) -> Result<()> {
        self.blocking(move |s| {
            s.write(|w| {
                let mut staff: StaffLogin = w.setting()?;
                staff.passkey_sign_in = on;
                w.put_setting(&staff)?;
                let detail = format!("staff passkey sign-in {}", if on { "on" } else { "off" });
                s.audit(
                    w,
                    actor
                        .event(AuditKind::SettingsChanged)
                        .in_realm(Realm::Staff)
                        .detail(detail),
                )?;
                Ok(())
            })
        })
        .await
    }

    /// Turns "Sign in with a passkey" on or off for the portal of client `slug`.
    pub async fn set_client_passkey_sign_in(
        self: &Arc<Self>,
        actor: AdminActor,
        slug: String,
        on: bool,
    ) -> Result<()> {
        self.blocking(move |s| {
            s.write(|w| {
                let mut client = w
                    .client_by_slug(&slug)?
                    .ok_or(ServiceError::NotFound("client"))?;
                client.passkey_sign_in = on;
                client.updated_at = s.clock.now();
                w.put_client(&client)?;
                let detail = format!(
                    "client {slug} passkey sign-in {}",
                    if on { "on" } else { "off" }
                );
                s.audit(
                    w,
                    actor
                        .event(AuditKind::ClientChanged)
                        .in_realm(Realm::Client(client.id))
                        .detail(detail),
                )?;
                Ok(())
            })
        })
        .await
    }

    /// Whether "Sign in with a passkey" is on for staff.
    pub fn staff_passkey_sign_in(&self) -> Result<bool> {
        self.read(|r| Ok(passkey_sign_in(r, Realm::Staff)?))
    }
}
