//! The checks of a new password, wherever one is set (setup, invitation, change, admin
//! create): length and confirmation inline (`domain::password::check_new_password`),
//! then guessability the way Argon2 runs — on a blocking thread under a hashing
//! permit, since a hostile input costs up to tens of milliseconds of CPU (see
//! `domain::password_strength`).

use std::sync::Arc;

use crate::domain::password::{Password, check_new_password};
use crate::domain::password_strength::check_guessable;

use super::{Result, ServiceError, Services};

impl Services {
    /// Refuses a new password that is too long or short, differs from its `confirm`,
    /// or is guessable for the account of `email`, with a sentence for the person
    /// choosing it.
    pub(super) async fn check_new_password(
        self: &Arc<Self>,
        password: &Password,
        confirm: &Password,
        email: &str,
    ) -> Result<()> {
        check_new_password(password.expose(), confirm.expose())
            .map_err(|e| ServiceError::Invalid(e.sentence()))?;
        self.refuse_guessable(password, email).await
    }

    /// Refuses a new password that is common, breached, or built from `email` (the
    /// account's) with a sentence for the person choosing it.
    async fn refuse_guessable(self: &Arc<Self>, password: &Password, email: &str) -> Result<()> {
        let password = password.clone();
        let email = email.to_owned();
        let verdict = self
            .hashing
            .judge(move || check_guessable(password.expose(), &email))
            .await?;
        verdict.map_err(|rejected| ServiceError::Invalid(rejected.sentence()))
    }
}
