//! The tables a forward-auth check reads, opened once per read transaction, and the
//! partial reads it makes through them (see `store::compact`: only a session's status
//! and a user's identity are decoded).

use redb::ReadOnlyTable;

use super::compact;
use super::sessions::SessionKey;
use super::tables::{SESSIONS, USERS};
use super::{Reader, Result};
use crate::domain::session::SessionStatus;
use crate::domain::user::{UserId, UserIdentity};

/// The sessions and users tables of one read transaction.
pub struct SessionCheckTables {
    sessions: ReadOnlyTable<SessionKey, &'static [u8]>,
    users: ReadOnlyTable<u128, &'static [u8]>,
}

impl Reader {
    /// Opens the tables a session check reads.
    pub fn session_check_tables(&self) -> Result<SessionCheckTables> {
        Ok(SessionCheckTables {
            sessions: self.txn.open_table(SESSIONS)?,
            users: self.txn.open_table(USERS)?,
        })
    }
}

impl SessionCheckTables {
    /// The status of session `key`, decoded without its free-text fields (no
    /// allocation).
    pub fn session_status(&self, key: &SessionKey) -> Result<Option<SessionStatus>> {
        let found = self.sessions.get(key)?;
        found
            .map(|v| compact::decode_session_status(v.value()))
            .transpose()
    }

    /// The identity part of user `id`, without the rest of the record.
    pub fn user_identity(&self, id: UserId) -> Result<Option<UserIdentity>> {
        let found = self.users.get(id.as_u128())?;
        found
            .map(|v| compact::decode_user_identity(v.value()))
            .transpose()
    }
}
