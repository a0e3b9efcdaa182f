//! "Sign-in from a new device" (DESIGN §11). The heuristic: each browser gets a
//! long-lived random device cookie per realm at its first completed password sign-in;
//! the store keeps, per user, the keyed hashes of the device cookies they signed in
//! with. A completed sign-in whose cookie is missing or unknown for that user is from
//! a new device, and the user is notified — unless it is their first recorded device
//! (their very first sign-in, or the first since this feature arrived), which would
//! only be noise. Clearing cookies therefore looks like a new device, which errs on
//! the side of telling the user. Devices are recorded only while email is on (without
//! it there is nobody to tell, and sign-in keeps its single write).

use std::sync::Arc;

use crate::domain::session::Origin;
use crate::domain::token::SecretToken;
use crate::domain::user::UserId;
use crate::store::prelude::*;

use super::notify::SecurityNotice;
use super::{Result, Services};

/// What a completed sign-in's device check came to.
#[derive(Debug)]
pub struct DeviceCheck {
    /// The device cookie value to (re)set: the presented one, or a new one.
    pub cookie: SecretToken,
    /// The device was new to this user and they were told (when email is on).
    pub new_device: bool,
}

impl Services {
    /// Records that `user` completed a sign-in from the browser holding `presented`
    /// (its device cookie, if any); notifies them when the device is new to them.
    pub async fn recognise_device(
        self: &Arc<Self>,
        user: UserId,
        presented: Option<String>,
        origin: Origin,
    ) -> Result<DeviceCheck> {
        let cookie = match presented.as_deref().and_then(SecretToken::from_received) {
            Some(token) => token,
            None => SecretToken::generate()?,
        };
        // Without email there is nobody to tell: no store write on the sign-in path.
        if !self.mail_enabled() {
            return Ok(DeviceCheck {
                cookie,
                new_device: false,
            });
        }
        let key = self.keys.token_hash("device", cookie.expose());
        self.blocking(move |s| {
            let now = s.clock.now();
            let (user, new_device) = s.write(|w| {
                let known = w.known_device(user, &key)?.is_some();
                let first = w.devices_of_user(user)?.is_empty();
                w.remember_device(user, &key, now)?;
                Ok((w.user(user)?, !known && !first))
            })?;
            if new_device && let Some(user) = &user {
                s.notify(
                    user,
                    SecurityNotice::NewDevice {
                        ip: origin.ip.clone(),
                        user_agent: origin.user_agent.clone(),
                    },
                );
            }
            Ok(DeviceCheck { cookie, new_device })
        })
        .await
    }
}
