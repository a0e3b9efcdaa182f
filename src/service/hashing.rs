//! Argon2 off the async executor, with a cap on concurrent hashes so a login storm
//! costs bounded memory (permits × Argon2 memory) instead of one hash per request.
//! Every use case hashes through [`Hashing::hash`] and [`Hashing::verify`], which
//! wait for a permit, run Argon2 on a blocking thread, count it, and give the permit
//! back as soon as Argon2 is done — before the caller's durable write, so a slow disk
//! never keeps the next sign-in's hash waiting. Nothing here reads or writes the store.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::domain::password::{HashParams, Password, PasswordHashing, Verified};

use super::{Result, ServiceError};

/// The password hasher shared by all use cases.
pub struct Hashing {
    hasher: Arc<PasswordHashing>,
    permits: Arc<Semaphore>,
    permit_count: usize,
    computed: Arc<AtomicU64>,
}

impl Hashing {
    pub fn new(params: HashParams, permits: usize) -> Hashing {
        let permits = permits.max(1);
        Hashing {
            hasher: Arc::new(PasswordHashing::new(params)),
            permits: Arc::new(Semaphore::new(permits)),
            permit_count: permits,
            computed: Arc::new(AtomicU64::new(0)),
        }
    }

    /// A PHC string for a new `password`.
    pub async fn hash(&self, password: &Password) -> Result<String> {
        let password = password.clone();
        self.run(move |hasher| hasher.hash(password.expose())).await
    }

    /// Checks `password` against `stored`. Without a stored hash (unknown user, no
    /// password set) the same Argon2 work is done against a dummy and the answer is
    /// no, so the two cases cannot be told apart by timing.
    pub async fn verify(&self, password: &Password, stored: Option<&str>) -> Result<Verified> {
        let password = password.clone();
        let stored = stored.map(str::to_owned);
        self.run(move |hasher| match stored {
            Some(hash) => hasher.verify(password.expose(), &hash),
            None => {
                hasher.burn(password.expose());
                Verified::No
            }
        })
        .await
    }

    /// Runs other CPU-heavy work on a password (the guessability estimate of a new
    /// one) the same way — under a permit, on a blocking thread — without counting it
    /// as an Argon2 computation.
    pub async fn judge<T, F>(&self, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        self.on_blocking_thread(false, move |_| work()).await
    }

    /// Runs one Argon2 computation under a permit on a blocking thread, and counts it.
    async fn run<T, F>(&self, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&PasswordHashing) -> T + Send + 'static,
    {
        self.on_blocking_thread(true, work).await
    }

    async fn on_blocking_thread<T, F>(&self, counted: bool, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&PasswordHashing) -> T + Send + 'static,
    {
        let permit = self.permit().await;
        let hasher = Arc::clone(&self.hasher);
        let computed = Arc::clone(&self.computed);
        tokio::task::spawn_blocking(move || {
            if counted {
                computed.fetch_add(1, Ordering::Relaxed);
            }
            let result = work(&hasher);
            drop(permit);
            result
        })
        .await
        .map_err(|e| ServiceError::Internal(format!("hashing task failed: {e}")))
    }

    /// Waits (asynchronously) for a hashing slot. Hold it while hashing; tests hold
    /// them all to prove that a sign-in waits instead of hashing.
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

    /// Argon2 computations so far (for metrics and for tests proving that some inputs
    /// are refused before any hashing).
    pub fn computed(&self) -> u64 {
        self.computed.load(Ordering::Relaxed)
    }
}
