//! Argon2 off the async executor, with a cap on concurrent hashes so a login storm
//! costs bounded memory (permits × Argon2 memory) instead of one hash per request.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::domain::password::{HashParams, PasswordHashing};

/// The password hasher shared by all use cases.
pub struct Hashing {
    pub hasher: PasswordHashing,
    permits: Arc<Semaphore>,
    permit_count: usize,
    computed: AtomicU64,
}

impl Hashing {
    pub fn new(params: HashParams, permits: usize) -> Hashing {
        let permits = permits.max(1);
        Hashing {
            hasher: PasswordHashing::new(params),
            permits: Arc::new(Semaphore::new(permits)),
            permit_count: permits,
            computed: AtomicU64::new(0),
        }
    }

    /// Waits (asynchronously) for a hashing slot. Hold it while hashing.
    pub async fn permit(&self) -> OwnedSemaphorePermit {
        // The semaphore is never closed, so acquiring cannot fail.
        Arc::clone(&self.permits)
            .acquire_owned()
            .await
            .unwrap_or_else(|_| unreachable!("hash semaphore closed"))
    }

    /// How many concurrent hashes are allowed.
    pub fn permit_count(&self) -> usize {
        self.permit_count
    }

    /// Counts one Argon2 computation (for metrics and for tests proving that some
    /// inputs are refused before any hashing).
    pub fn count(&self) {
        self.computed.fetch_add(1, Ordering::Relaxed);
    }

    /// Argon2 computations so far.
    pub fn computed(&self) -> u64 {
        self.computed.load(Ordering::Relaxed)
    }
}
