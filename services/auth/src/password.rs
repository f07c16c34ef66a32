//! Password hashing: argon2id on a few dedicated threads, one per core.
//!
//! Dedicated threads rather than the blocking pool: each hash takes `memory_kib` of memory, and
//! the allocator keeps what a thread freed for that thread's next use, so hashing on whichever
//! of the pool's many threads is idle would leave one argon2-sized block behind per thread.
//! With one thread per core, a burst of sign-ins queues and memory stays at cores × memory_kib.
//!
//! The queue is bounded: when it is full, a hash is refused at once ([`Busy`]) instead of making
//! every later sign-in wait behind a flood of junk ones.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use std::sync::Arc;
use tokio::sync::oneshot;

type Job = Box<dyn FnOnce(&Argon2<'static>) + Send>;

/// Every hashing thread is busy and the queue is full: try again in a moment.
#[derive(Debug, thiserror::Error)]
#[error("too many passwords are being checked right now")]
pub struct Busy;

/// Why a hash did not happen.
#[derive(Debug, thiserror::Error)]
pub enum HashError {
    #[error(transparent)]
    Busy(#[from] Busy),
    #[error(transparent)]
    Failed(#[from] anyhow::Error),
}

pub struct Passwords {
    jobs: flume::Sender<Job>,
    /// A real hash of a random password, verified against when the user does not exist, so an
    /// unknown user costs as much as a wrong password.
    dummy: Arc<str>,
}

impl Passwords {
    /// `queue`: hashes that may wait for a thread.
    pub async fn new(memory_kib: u32, iterations: u32, queue: usize) -> anyhow::Result<Self> {
        let params =
            Params::new(memory_kib, iterations, 1, None).map_err(|e| anyhow::anyhow!("argon2 parameters: {e}"))?;
        let (jobs, queue) = flume::bounded::<Job>(queue.max(1));
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        for i in 0..cores {
            let (queue, argon2) = (
                queue.clone(),
                Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone()),
            );
            std::thread::Builder::new().name(format!("argon2-{i}")).spawn(move || {
                for job in queue.iter() {
                    job(&argon2);
                }
            })?;
        }
        let mut passwords = Self {
            jobs,
            dummy: Arc::from(""),
        };
        passwords.dummy = passwords
            .hash(uuid::Uuid::new_v4().to_string())
            .await
            .map_err(anyhow::Error::from)?
            .into();
        Ok(passwords)
    }

    pub async fn hash(&self, password: String) -> Result<String, HashError> {
        self.run(move |argon2| {
            let salt = SaltString::generate(&mut OsRng);
            argon2
                .hash_password(password.as_bytes(), &salt)
                .map(|h| h.to_string())
                .map_err(|e| anyhow::anyhow!("hashing failed: {e}"))
        })
        .await
    }

    /// Whether `password` matches `hash`; with `None`, checks against the dummy and says no.
    pub async fn verify(&self, password: String, hash: Option<String>) -> Result<bool, HashError> {
        let known = hash.is_some();
        let hash = hash.unwrap_or_else(|| self.dummy.to_string());
        let matches = self
            .run(move |argon2| {
                let parsed = PasswordHash::new(&hash).map_err(|e| anyhow::anyhow!("stored hash unreadable: {e}"))?;
                Ok(argon2.verify_password(password.as_bytes(), &parsed).is_ok())
            })
            .await?;
        Ok(known && matches)
    }

    async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Argon2<'static>) -> anyhow::Result<T> + Send + 'static,
    ) -> Result<T, HashError> {
        let (reply, answer) = oneshot::channel();
        let job: Job = Box::new(move |argon2| {
            let _ = reply.send(f(argon2));
        });
        self.jobs.try_send(job).map_err(|e| match e {
            flume::TrySendError::Full(_) => HashError::Busy(Busy),
            flume::TrySendError::Disconnected(_) => HashError::Failed(anyhow::anyhow!("the hashing threads are gone")),
        })?;
        Ok(answer.await.map_err(anyhow::Error::from)??)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[tokio::test]
    async fn a_full_queue_refuses_at_once_instead_of_queueing_everyone() {
        // Expensive enough that the threads stay busy while the queue fills.
        let passwords = Arc::new(Passwords::new(8 * 1024, 4, 2).await.unwrap());
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let attempts: Vec<_> = (0..cores + 16)
            .map(|_| {
                let passwords = passwords.clone();
                tokio::spawn(async move { passwords.verify("guess".into(), None).await })
            })
            .collect();
        let mut busy = 0;
        for attempt in attempts {
            match attempt.await.unwrap() {
                Ok(matches) => assert!(!matches),
                Err(HashError::Busy(_)) => busy += 1,
                Err(e) => panic!("{e}"),
            }
        }
        assert!(busy > 0, "some attempts found the queue full");
        // Once the burst is over, hashing works again.
        let hash = passwords.hash("correct horse".into()).await.unwrap();
        assert!(passwords.verify("correct horse".into(), Some(hash)).await.unwrap());
    }
}
