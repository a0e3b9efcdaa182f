//! Is the service healthy: the liveness check behind `/healthz`. It reads the store
//! (a table length, so a point read that may run inline) and says nothing else.

use crate::store::prelude::*;

use super::{Result, Services};

impl Services {
    /// `Ok` when the store answers a read.
    pub fn check_health(&self) -> Result<()> {
        self.store.read(|r| r.count_users())?;
        Ok(())
    }
}
