//! What the use cases report to the metrics: sign-in outcomes, throttling and SSO
//! failures, derived from a use case's result so every path (password, code, SSO) is
//! counted the same way.

use crate::domain::user::Realm;
use crate::metrics::{LoginMethod, LoginOutcome};
use crate::store::prelude::*;

use super::sso::{SsoFailure, SsoOutcome};
use super::{Result, ServiceError, Services};

impl Services {
    /// The sessions in the store, for the `gatehouse_active_sessions` gauge (a table
    /// length, so a point read).
    pub fn active_sessions(&self) -> Result<u64> {
        Ok(self.store.read(|r| r.count_sessions())?)
    }

    /// Counts one sign-in step from its result: a throttled attempt counts as
    /// throttled, a storage or internal failure as neither success nor failure (it says
    /// nothing about the person signing in; the HTTP metrics show the 503).
    pub fn count_login<T>(&self, realm: Realm, method: LoginMethod, result: &Result<T>) {
        let outcome = match result {
            Ok(_) => LoginOutcome::Success,
            Err(ServiceError::Throttled { .. }) => {
                self.metrics.throttled();
                return;
            }
            Err(ServiceError::Store(_) | ServiceError::Internal(_)) => return,
            Err(
                ServiceError::LoginFailed
                | ServiceError::InvalidCode
                | ServiceError::Invalid(_)
                | ServiceError::LinkInvalid
                | ServiceError::LinkExpired
                | ServiceError::SignInExpired
                | ServiceError::NotFound(_)
                | ServiceError::Forbidden(_)
                | ServiceError::Conflict(_)
                | ServiceError::Sso(_),
            ) => LoginOutcome::Failure,
        };
        self.metrics.login(realm, method, outcome);
    }

    /// Counts a finished Microsoft sign-in callback: a session is a successful `sso`
    /// sign-in; a refusal is an SSO error by reason (and a failed sign-in when its
    /// realm is known). Linking an account, test sign-ins and step-ups start no session and
    /// count only when they fail.
    pub fn count_sso(&self, result: &Result<SsoOutcome>) {
        match result {
            Ok(SsoOutcome::SignedIn { realm, .. }) => {
                self.metrics
                    .login(*realm, LoginMethod::Sso, LoginOutcome::Success);
            }
            Ok(SsoOutcome::Failed { realm, failure, .. }) => {
                self.metrics.sso_error(sso_reason(failure));
                if let Some(realm) = realm {
                    self.metrics
                        .login(*realm, LoginMethod::Sso, LoginOutcome::Failure);
                }
            }
            Ok(
                SsoOutcome::Linked { .. }
                | SsoOutcome::Tested { .. }
                | SsoOutcome::SteppedUp { .. },
            ) => {}
            Err(_) => self.metrics.sso_error("internal"),
        }
    }
}

/// The `reason` label of an SSO failure: a fixed word, never provider text.
fn sso_reason(failure: &SsoFailure) -> &'static str {
    match failure {
        SsoFailure::NotAvailable => "not_available",
        SsoFailure::BadState => "bad_state",
        SsoFailure::Expired => "expired",
        SsoFailure::Unreachable => "unreachable",
        SsoFailure::NotVerified => "not_verified",
        SsoFailure::NotRegistered => "not_registered",
        SsoFailure::Disabled => "disabled",
        SsoFailure::AlreadyLinked => "already_linked",
        SsoFailure::Provider { .. } => "provider_error",
        SsoFailure::MfaNotProven => "mfa_not_proven",
    }
}
