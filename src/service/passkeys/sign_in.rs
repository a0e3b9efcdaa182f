//! Signing in with a passkey: as the second step after the password (in place of a
//! TOTP code), or alone where the realm allows it (a discoverable credential with user
//! verification). Every refusal gives the same answer whatever went wrong — unknown
//! credential, another user's or another realm's, wrong origin or relying party,
//! replayed or lapsed challenge — and the audit trail keeps the reason. A signature
//! counter that went backwards (a cloned authenticator) is refused and audited.

use std::sync::Arc;

use webauthn_rs::prelude::{
    AuthenticationResult, Credential, PublicKeyCredential, SecurityKey, WebauthnError,
};

use crate::domain::audit::AuditKind;
use crate::domain::login::{LoginRefusal, code_refusal};
use crate::domain::passkey::{PasskeyRecord, handle_of};
use crate::domain::session::{AuthMethod, Origin, Stage};
use crate::domain::user::{Realm, User};
use crate::metrics::LoginMethod;
use crate::store::Writer;
use crate::store::prelude::*;

use super::{Ceremony, PasskeyPrompt, parse_answer};
use crate::service::login::{FailedAttempt, login_event};
use crate::service::policy::{passkey_sign_in, realm_policy};
use crate::service::throttle::account_key;
use crate::service::{NewSession, Result, ServiceError, Services};

/// A browser's answer to a sign-in challenge. `Debug` leaves out the token and the
/// answer.
pub struct PasskeyAnswer {
    pub realm: Realm,
    /// The challenge's id, from the page.
    pub ceremony: String,
    /// `PublicKeyCredential` from `navigator.credentials.get`, as JSON.
    pub credential_json: String,
    /// The pending sign-in's session token (second step only).
    pub pending_token: Option<String>,
    /// Where to go afterwards, already checked to be safe (sign-in without password).
    pub next: Option<String>,
    pub origin: Origin,
}

impl std::fmt::Debug for PasskeyAnswer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasskeyAnswer")
            .field("realm", &self.realm)
            .field("origin", &self.origin)
            .finish_non_exhaustive()
    }
}

/// Why a passkey answer was refused, for the audit trail.
enum Refusal {
    Login(LoginRefusal),
    /// The challenge is unknown, used, lapsed or for something else.
    Challenge,
    /// The credential is not one of this user's passkeys in this realm.
    UnknownCredential,
    /// The library refused the answer (origin, relying party, signature, flags…).
    Verification(String),
    /// The signature counter did not increase.
    CounterWentBack(Box<PasskeyRecord>),
}

impl Refusal {
    fn detail(&self) -> String {
        match self {
            Refusal::Login(r) => format!("passkey: {}", r.as_str()),
            Refusal::Challenge => "passkey: challenge unknown, used or expired".to_owned(),
            Refusal::UnknownCredential => {
                "passkey: not a passkey of this account in this realm".to_owned()
            }
            Refusal::Verification(e) => format!("passkey: {e}"),
            Refusal::CounterWentBack(_) => "passkey: signature counter went backwards".to_owned(),
        }
    }
}

fn verification(e: WebauthnError) -> Refusal {
    Refusal::Verification(e.to_string())
}

impl Services {
    /// The passkey challenge of a pending sign-in's second step, when its user has
    /// passkeys here.
    pub fn begin_passkey_second_factor(
        &self,
        realm: Realm,
        pending_token: &str,
    ) -> Result<Option<PasskeyPrompt>> {
        let pending = self
            .session_for(realm, pending_token, Stage::PendingMfa)?
            .ok_or(ServiceError::SignInExpired)?;
        let Ok(webauthn) = self.passkeys.webauthn() else {
            return Ok(None);
        };
        let keys: Vec<SecurityKey> = self
            .read(|r| Ok(r.passkeys_of(pending.user.id)?))?
            .into_iter()
            .filter(|p| p.realm == realm)
            .map(|p| SecurityKey::from(Credential::from(p.credential)))
            .collect();
        if keys.is_empty() {
            return Ok(None);
        }
        let (mut options, state) = webauthn
            .start_securitykey_authentication(&keys)
            .map_err(|e| ServiceError::Internal(format!("passkey challenge: {e}")))?;
        options.public_key.hints = None;
        let ceremony = self.passkeys.challenges.hold(
            Ceremony::SecondFactor {
                user: pending.user.id,
                realm,
                session: pending.key,
                state: Box::new(state),
            },
            self.clock.now(),
        )?;
        prompt(ceremony, &options)
    }

    /// A challenge for signing in with a passkey alone, when `realm` allows it.
    pub fn begin_passkey_sign_in(&self, realm: Realm) -> Result<Option<PasskeyPrompt>> {
        if !self.login_options(realm)?.passkey_sign_in {
            return Ok(None);
        }
        let Ok(webauthn) = self.passkeys.webauthn() else {
            return Ok(None);
        };
        let (options, state) = webauthn
            .start_discoverable_authentication()
            .map_err(|e| ServiceError::Internal(format!("passkey challenge: {e}")))?;
        let ceremony = self.passkeys.challenges.hold(
            Ceremony::Passwordless {
                realm,
                state: Box::new(state),
            },
            self.clock.now(),
        )?;
        prompt(ceremony, &options)
    }

    /// The second step with a passkey, in place of a code.
    #[tracing::instrument(skip_all)]
    pub async fn login_with_passkey_second_factor(
        self: &Arc<Self>,
        answer: PasskeyAnswer,
    ) -> Result<NewSession> {
        let realm = answer.realm;
        let result = self.passkey_second_factor(answer).await;
        self.count_login(realm, LoginMethod::Passkey, &result);
        result
    }

    async fn passkey_second_factor(self: &Arc<Self>, answer: PasskeyAnswer) -> Result<NewSession> {
        let token = answer.pending_token.clone().unwrap_or_default();
        let pending = self
            .session_for(answer.realm, &token, Stage::PendingMfa)?
            .ok_or(ServiceError::SignInExpired)?;
        let account = account_key(&answer.realm.key(), pending.user.email.as_str());
        let reservation = self.reserve_attempt(&account, &answer.origin)?;
        self.blocking(move |s| {
            let now = s.clock.now();
            let checked = match s.passkeys.challenges.take(&answer.ceremony, now) {
                Some(Ceremony::SecondFactor {
                    user,
                    realm,
                    session,
                    state,
                }) if user == pending.user.id
                    && realm == answer.realm
                    && session == pending.key =>
                {
                    match parse_answer::<PublicKeyCredential>(&answer.credential_json) {
                        Some(credential) => s
                            .passkeys
                            .webauthn()?
                            .finish_securitykey_authentication(&credential, &state)
                            .map_err(|e| s.second_factor_refusal(e, &pending.user, &credential)),
                        None => Err(Refusal::Verification("malformed answer".to_owned())),
                    }
                }
                _ => Err(Refusal::Challenge),
            };
            let outcome = s.write(|w| {
                let result = match checked {
                    Ok(result) => result,
                    Err(refusal) => return Ok(Err(refusal)),
                };
                let user = w.user(pending.user.id)?;
                let policy = realm_policy(w, answer.realm)?;
                let refusal = code_refusal(user.as_ref(), &policy);
                let user = match (user, refusal) {
                    (Some(user), None) => user,
                    (_, refusal) => {
                        return Ok(Err(Refusal::Login(
                            refusal.unwrap_or(LoginRefusal::UserRemoved),
                        )));
                    }
                };
                let Some(record) = s.used_passkey(w, &user, &result)? else {
                    return Ok(Err(Refusal::UnknownCredential));
                };
                if w.session(&pending.key)?.is_none() {
                    return Err(ServiceError::SignInExpired);
                }
                w.delete_session(&pending.key)?;
                let new = s.signed_in_with_passkey(
                    w,
                    user,
                    &record,
                    AuthMethod::PasswordPasskey,
                    pending.session.next.clone(),
                    &answer.origin,
                )?;
                s.audit_break_glass(w, &new.1, &policy, &answer.origin)?;
                Ok(Ok(new.0))
            })?;
            match outcome {
                Ok(new) => {
                    s.throttle.succeeded(reservation, now);
                    Ok(new)
                }
                Err(refusal) => {
                    s.audit_counter(&refusal, &answer.origin)?;
                    s.refuse_because(
                        FailedAttempt {
                            realm: answer.realm,
                            reservation: &reservation,
                            typed_email: pending.user.email.as_str(),
                            subject: Some((pending.user.id, pending.user.email.as_str())),
                            reason: LoginRefusal::WrongCode,
                            origin: &answer.origin,
                        },
                        Some(refusal.detail()),
                        ServiceError::InvalidCode,
                    )
                }
            }
        })
        .await
    }

    /// Signing in with a passkey alone, where the realm allows it.
    #[tracing::instrument(skip_all)]
    pub async fn login_with_passkey(self: &Arc<Self>, answer: PasskeyAnswer) -> Result<NewSession> {
        let realm = answer.realm;
        let result = self.passwordless(answer).await;
        self.count_login(realm, LoginMethod::Passkey, &result);
        result
    }

    async fn passwordless(self: &Arc<Self>, answer: PasskeyAnswer) -> Result<NewSession> {
        let credential = parse_answer::<PublicKeyCredential>(&answer.credential_json);
        // Throttled per credential and per source address: nothing here is guessable,
        // but refusals cost an audit write.
        let handle = credential
            .as_ref()
            .map_or_else(String::new, |c| handle_of(c.get_credential_id()));
        let account = account_key(&answer.realm.key(), &format!("passkey:{handle}"));
        let reservation = self.reserve_attempt(&account, &answer.origin)?;
        self.blocking(move |s| {
            let now = s.clock.now();
            let outcome = s.write(|w| {
                let state = match s.passkeys.challenges.take(&answer.ceremony, now) {
                    Some(Ceremony::Passwordless { realm, state }) if realm == answer.realm => state,
                    _ => return Ok(Err((None, Refusal::Challenge))),
                };
                let Some(credential) = credential else {
                    return Ok(Err((
                        None,
                        Refusal::Verification("malformed answer".to_owned()),
                    )));
                };
                let webauthn = s.passkeys.webauthn()?;
                let Ok((user_handle, credential_id)) =
                    webauthn.identify_discoverable_authentication(&credential)
                else {
                    return Ok(Err((None, Refusal::UnknownCredential)));
                };
                let record = w.passkey_by_credential(credential_id)?;
                let Some(record) =
                    record.filter(|r| r.user_id.0 == user_handle && r.realm == answer.realm)
                else {
                    return Ok(Err((None, Refusal::UnknownCredential)));
                };
                let Some(user) = w.user(record.user_id)? else {
                    return Ok(Err((None, Refusal::UnknownCredential)));
                };
                let policy = realm_policy(w, answer.realm)?;
                if let Some(refusal) = code_refusal(Some(&user), &policy) {
                    return Ok(Err((Some(user), Refusal::Login(refusal))));
                }
                if !passkey_sign_in(w, answer.realm)? {
                    return Ok(Err((Some(user), Refusal::Login(LoginRefusal::PasswordOff))));
                }
                let result = match webauthn.finish_discoverable_authentication_v2(
                    &credential,
                    *state,
                    &record.credential,
                ) {
                    Ok(result) => result,
                    Err(WebauthnError::CredentialPossibleCompromise) => {
                        return Ok(Err((
                            Some(user),
                            Refusal::CounterWentBack(Box::new(record)),
                        )));
                    }
                    Err(e) => return Ok(Err((Some(user), verification(e)))),
                };
                let Some(record) = s.used_passkey(w, &user, &result)? else {
                    return Ok(Err((Some(user), Refusal::UnknownCredential)));
                };
                let new = s.signed_in_with_passkey(
                    w,
                    user,
                    &record,
                    AuthMethod::Passkey,
                    answer.next.clone(),
                    &answer.origin,
                )?;
                s.audit_break_glass(w, &new.1, &policy, &answer.origin)?;
                Ok(Ok(new.0))
            })?;
            match outcome {
                Ok(new) => {
                    s.throttle.succeeded(reservation, now);
                    Ok(new)
                }
                Err((user, refusal)) => {
                    s.audit_counter(&refusal, &answer.origin)?;
                    let subject = user.as_ref().map(|u| (u.id, u.email.as_str()));
                    let typed = user.as_ref().map_or("", |u| u.email.as_str());
                    s.refuse_because(
                        FailedAttempt {
                            realm: answer.realm,
                            reservation: &reservation,
                            typed_email: typed,
                            subject,
                            reason: LoginRefusal::UnknownEmail,
                            origin: &answer.origin,
                        },
                        Some(refusal.detail()),
                        ServiceError::LoginFailed,
                    )
                }
            }
        })
        .await
    }

    /// The stored passkey `result` was made with, updated (counter, backup state, last
    /// use), if it is one of `user`'s in their realm.
    fn used_passkey(
        &self,
        w: &mut Writer,
        user: &User,
        result: &AuthenticationResult,
    ) -> Result<Option<PasskeyRecord>> {
        let Some(mut record) = w.passkey_by_credential(result.cred_id().as_slice())? else {
            return Ok(None);
        };
        if record.user_id != user.id || record.realm != user.realm {
            return Ok(None);
        }
        record.credential.update_credential(result);
        record.last_used_at = Some(self.clock.now());
        w.put_passkey(&record)?;
        Ok(Some(record))
    }

    /// The full session after a passkey was accepted, with its audit event.
    fn signed_in_with_passkey(
        &self,
        w: &mut Writer,
        mut user: User,
        record: &PasskeyRecord,
        auth: AuthMethod,
        next: Option<String>,
        origin: &Origin,
    ) -> Result<(NewSession, User)> {
        let now = self.clock.now();
        user.last_login_at = Some(now);
        user.updated_at = now;
        w.put_user(&user)?;
        let new = self.start_session(w, &user, Stage::Active, auth, next, origin)?;
        let how = match auth {
            AuthMethod::Passkey => "passkey",
            _ => "password + passkey",
        };
        self.audit(
            w,
            login_event(AuditKind::LoginSucceeded, &user, origin).detail(format!(
                "{how} \"{}\"",
                crate::domain::text::neutralise(&record.name)
            )),
        )?;
        Ok((new, user))
    }

    /// Why the library refused a second-step answer; a counter that went back names
    /// the passkey, for its own audit event.
    fn second_factor_refusal(
        &self,
        e: WebauthnError,
        user: &User,
        credential: &PublicKeyCredential,
    ) -> Refusal {
        if !matches!(e, WebauthnError::CredentialPossibleCompromise) {
            return verification(e);
        }
        let record = self
            .read(|r| Ok(r.passkey_by_credential(credential.get_credential_id())?))
            .ok()
            .flatten()
            .filter(|p| p.user_id == user.id);
        match record {
            Some(record) => Refusal::CounterWentBack(Box::new(record)),
            None => verification(e),
        }
    }

    /// Audits a cloned-authenticator signal on its own (besides the failed sign-in).
    fn audit_counter(&self, refusal: &Refusal, origin: &Origin) -> Result<()> {
        let Refusal::CounterWentBack(record) = refusal else {
            return Ok(());
        };
        let Some(user) = self.read(|r| Ok(r.user(record.user_id)?))? else {
            return Ok(());
        };
        self.write(|w| {
            self.audit(
                w,
                login_event(AuditKind::PasskeyRefused, &user, origin).detail(format!(
                    "passkey \"{}\": signature counter went backwards (possible cloned authenticator)",
                    crate::domain::text::neutralise(&record.name)
                )),
            )
        })
    }
}

fn prompt(ceremony: String, options: &impl serde::Serialize) -> Result<Option<PasskeyPrompt>> {
    Ok(Some(PasskeyPrompt {
        ceremony,
        options_json: serde_json::to_string(options)
            .map_err(|e| ServiceError::Internal(e.to_string()))?,
    }))
}
