//! The guessability check of a new password, run the way Argon2 is: on a blocking
//! thread under a hashing permit, since a hostile input costs up to tens of
//! milliseconds of CPU (see `domain::password_strength`). Length and confirmation are
//! checked first, inline, by `domain::password::check_new_password`.

use std::sync::Arc;

use crate::domain::password::Password;
use crate::domain::password_strength::check_guessable;

use super::{Result, ServiceError, Services};

impl Services {
    /// Refuses a new password that is common, breached, or built from `email` (the
    /// account's) with a sentence for the person choosing it.
    pub(super) async fn refuse_guessable(
        self: &Arc<Self>,
        password: &Password,
        email: &str,
    ) -> Result<()> {
        let password = password.clone();
        let email = email.to_owned();
        let verdict = self
            .hashing
            .judge(move || check_guessable(password.expose(), &email))
            .await?;
        verdict.map_err(|rejected| ServiceError::Invalid(rejected.sentence()))
    }
}
