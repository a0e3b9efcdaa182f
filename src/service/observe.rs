//! What the use cases report to the metrics: sign-in outcomes and throttling, derived
//! from a use case's result so every path (password, code, and later SSO) is counted
//! the same way.

use crate::domain::user::Realm;
use crate::metrics::{LoginMethod, LoginOutcome};

use super::{Result, ServiceError, Services};

impl Services {
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
}
