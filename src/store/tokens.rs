//! Single-use tokens (the first-admin setup link, invitations, password resets), stored by keyed hash
//! and deleted when used.

use redb::ReadableTable;
use serde::{Deserialize, Serialize};

use super::codec::{self, Record};
use super::tables::ONE_TIME_TOKENS;
use super::{Result, Tables, Writer};
use crate::domain::sso::SsoTransaction;
use crate::domain::time::Timestamp;
use crate::domain::user::{ClientId, Realm, UserId};

/// What a single-use token is for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum TokenPurpose {
    /// Creates the first staff admin.
    Setup,
    /// Lets an invited user set their password.
    Invite { user_id: UserId },
    /// A Microsoft sign-in in progress (keyed by its `state`).
    SsoSignIn { transaction: SsoTransaction },
    /// An admin-consent link sent to a client's Entra admin (keyed by its `state`).
    Consent { client_id: ClientId },
    /// Lets a user choose a new password (self-service or admin-issued reset link).
    PasswordReset { user_id: UserId },
}

/// A stored single-use token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OneTimeToken {
    pub purpose: TokenPurpose,
    pub realm: Realm,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

impl Record for OneTimeToken {
    const KIND: &'static str = "one-time token";
}

/// Reading single-use tokens.
pub trait TokenReads: Tables {
    fn one_time_token(&self, key: &[u8; 32]) -> Result<Option<OneTimeToken>> {
        let table = self.table(ONE_TIME_TOKENS)?;
        let found = table.get(key)?;
        found.map(|v| codec::decode(v.value())).transpose()
    }

    /// Every token with its key (the table stays small: setup and open invitations).
    fn one_time_tokens(&self) -> Result<Vec<([u8; 32], OneTimeToken)>> {
        let table = self.table(ONE_TIME_TOKENS)?;
        let mut out = Vec::new();
        for entry in table.iter()? {
            let (k, v) = entry?;
            out.push((k.value(), codec::decode(v.value())?));
        }
        Ok(out)
    }
}

impl<T: Tables> TokenReads for T {}

impl Writer {
    pub fn put_one_time_token(&mut self, key: &[u8; 32], token: &OneTimeToken) -> Result<()> {
        let bytes = codec::encode(token)?;
        self.table_mut(ONE_TIME_TOKENS)?
            .insert(key, bytes.as_slice())?;
        Ok(())
    }

    pub fn delete_one_time_token(&mut self, key: &[u8; 32]) -> Result<()> {
        self.table_mut(ONE_TIME_TOKENS)?.remove(key)?;
        Ok(())
    }

    /// Deletes every token for which `which` holds; returns how many.
    pub fn delete_one_time_tokens(
        &mut self,
        which: impl Fn(&OneTimeToken) -> bool,
    ) -> Result<usize> {
        let doomed: Vec<[u8; 32]> = self
            .one_time_tokens()?
            .into_iter()
            .filter(|(_, t)| which(t))
            .map(|(k, _)| k)
            .collect();
        for key in &doomed {
            self.delete_one_time_token(key)?;
        }
        Ok(doomed.len())
    }
}
