//! Named settings records that admins edit (SSO, portal app, SSO-only switches…).
//! Each record type names itself through [`Setting`].

use redb::ReadableTable;

use super::codec::{self, Record};
use super::tables::{META, SETTINGS};
use super::{Result, Tables, Writer};
use crate::domain::user::Sealed;

/// A record stored under a fixed name in the settings table.
pub trait Setting: Record + Default {
    const NAME: &'static str;
}

/// Reading settings and installation facts.
pub trait SettingReads: Tables {
    /// The stored setting, or its default when never saved.
    fn setting<S: Setting>(&self) -> Result<S> {
        let table = self.table(SETTINGS)?;
        let found = table.get(S::NAME)?;
        match found {
            Some(v) => codec::decode(v.value()),
            None => Ok(S::default()),
        }
    }

    /// The sealed known value that proves which master key this store belongs to.
    fn key_check(&self) -> Result<Option<Sealed>> {
        let table = self.table(META)?;
        let found = table.get(KEY_CHECK)?;
        match found {
            Some(v) => serde_json::from_slice(v.value()).map(Some).map_err(|e| {
                super::StoreError::Corrupt {
                    kind: "key check",
                    detail: e.to_string(),
                }
            }),
            None => Ok(None),
        }
    }
}

impl<T: Tables> SettingReads for T {}

const KEY_CHECK: &str = "key_check";

impl Writer {
    pub fn put_setting<S: Setting>(&mut self, value: &S) -> Result<()> {
        let bytes = codec::encode(value)?;
        self.table_mut(SETTINGS)?
            .insert(S::NAME, bytes.as_slice())?;
        Ok(())
    }

    pub fn put_key_check(&mut self, sealed: &Sealed) -> Result<()> {
        let bytes = serde_json::to_vec(sealed).map_err(|e| super::StoreError::Corrupt {
            kind: "key check",
            detail: e.to_string(),
        })?;
        self.table_mut(META)?.insert(KEY_CHECK, bytes.as_slice())?;
        Ok(())
    }
}
