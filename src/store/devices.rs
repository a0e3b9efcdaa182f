//! Browsers each user has signed in from, for the "sign-in from a new device" notice.
//! Keyed by user and the keyed hash of the browser's device cookie.

use redb::ReadableTable;

use super::tables::KNOWN_DEVICES;
use super::{Result, Tables, Writer};
use crate::domain::time::Timestamp;
use crate::domain::user::UserId;

/// Most devices remembered per user; the least recently used go first.
pub const DEVICES_PER_USER: usize = 20;

/// Reading known devices.
pub trait DeviceReads: Tables {
    /// When `user` last signed in from the device `device`, if ever.
    fn known_device(&self, user: UserId, device: &[u8; 32]) -> Result<Option<Timestamp>> {
        let table = self.table(KNOWN_DEVICES)?;
        let found = table.get((user.as_u128(), *device))?;
        Ok(found.map(|v| Timestamp(v.value())))
    }

    /// Every device of `user` with its last sign-in.
    fn devices_of_user(&self, user: UserId) -> Result<Vec<([u8; 32], Timestamp)>> {
        let table = self.table(KNOWN_DEVICES)?;
        let id = user.as_u128();
        let mut out = Vec::new();
        for entry in table.range((id, [0u8; 32])..=(id, [0xffu8; 32]))? {
            let (k, v) = entry?;
            out.push((k.value().1, Timestamp(v.value())));
        }
        Ok(out)
    }
}

impl<T: Tables> DeviceReads for T {}

impl Writer {
    /// Records a sign-in of `user` from `device`, forgetting the least recently used
    /// devices past [`DEVICES_PER_USER`].
    pub fn remember_device(
        &mut self,
        user: UserId,
        device: &[u8; 32],
        at: Timestamp,
    ) -> Result<()> {
        let mut devices = self.devices_of_user(user)?;
        let mut table = self.table_mut(KNOWN_DEVICES)?;
        table.insert((user.as_u128(), *device), at.0)?;
        devices.retain(|(d, _)| d != device);
        if devices.len() >= DEVICES_PER_USER {
            devices.sort_by_key(|(_, t)| *t);
            let excess = devices.len() + 1 - DEVICES_PER_USER;
            for (old, _) in devices.iter().take(excess) {
                table.remove((user.as_u128(), *old))?;
            }
        }
        Ok(())
    }

    /// Forgets every device of `user`.
    pub fn forget_devices(&mut self, user: UserId) -> Result<()> {
        let devices = self.devices_of_user(user)?;
        let mut table = self.table_mut(KNOWN_DEVICES)?;
        for (d, _) in devices {
            table.remove((user.as_u128(), d))?;
        }
        Ok(())
    }
}
