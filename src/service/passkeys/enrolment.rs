//! A passkey instead of an authenticator app at the first sign-in, where the realm
//! requires a second step: the pending enrolment registers a passkey, gets recovery
//! codes once (as with TOTP) and becomes a full session.

use std::sync::Arc;

use crate::domain::audit::AuditKind;
use crate::domain::session::{AuthMethod, Origin, Stage};
use crate::domain::token::RecoveryCode;
use crate::domain::user::Realm;
use crate::store::prelude::*;

use super::{NewPasskey, PasskeyPrompt, passkey_event};
use crate::service::enrolment::Enrolled;
use crate::service::{Result, ServiceError, Services};

impl Services {
    /// The registration challenge shown next to the QR code of a pending enrolment.
    pub fn begin_enrolment_passkey(&self, realm: Realm, token: &str) -> Result<PasskeyPrompt> {
        let me = self.enrolling_session(realm, token)?;
        if me.session.stage != Stage::PendingEnrolment {
            return Err(ServiceError::SignInExpired);
        }
        self.begin_passkey_registration(&me)
    }

    /// Finishes a pending enrolment with a passkey.
    #[tracing::instrument(skip_all)]
    pub async fn enrol_with_passkey(
        self: &Arc<Self>,
        realm: Realm,
        token: String,
        answer: NewPasskey,
        origin: Origin,
    ) -> Result<Enrolled> {
        let me = self.enrolling_session(realm, &token)?;
        if me.session.stage != Stage::PendingEnrolment {
            return Err(ServiceError::SignInExpired);
        }
        self.blocking(move |s| {
            let codes = RecoveryCode::generate_set()?;
            let now = s.clock.now();
            let session = s.write(|w| {
                let record = s.register_passkey(w, &me, &answer, &origin)?;
                let Some(mut user) = w.user(me.user.id)? else {
                    return Err(ServiceError::SignInExpired);
                };
                user.recovery_codes = codes
                    .iter()
                    .map(|c| s.recovery_code_hash(&user, &c.canonical()))
                    .collect();
                user.last_login_at = Some(now);
                user.updated_at = now;
                w.put_user(&user)?;
                w.delete_session(&me.key)?;
                let new = s.start_session(
                    w,
                    &user,
                    Stage::Active,
                    AuthMethod::PasswordPasskey,
                    None,
                    &origin,
                )?;
                s.audit(
                    w,
                    passkey_event(AuditKind::MfaEnrolled, &user, &origin).detail(format!(
                        "passkey \"{}\"",
                        crate::domain::text::neutralise(&record.name)
                    )),
                )?;
                s.audit(
                    w,
                    passkey_event(AuditKind::LoginSucceeded, &user, &origin)
                        .detail("password + passkey enrolment"),
                )?;
                Ok(new)
            })?;
            Ok(Enrolled {
                session,
                recovery_codes: codes,
                next: me.session.next.clone(),
            })
        })
        .await
    }
}
