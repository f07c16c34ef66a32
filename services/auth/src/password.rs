//! Password hashing: argon2id on a few dedicated threads, one per core.
//!
//! Dedicated threads rather than the blocking pool: each hash takes `memory_kib` of memory, and
//! the allocator keeps what a thread freed for that thread's next use, so hashing on whichever
//! of the pool's many threads is idle would leave one argon2-sized block behind per thread.
//! With one thread per core, a burst of sign-ins queues and memory stays at cores × memory_kib.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use std::sync::Arc;
use tokio::sync::oneshot;

type Job = Box<dyn FnOnce(&Argon2<'static>) + Send>;

pub struct Passwords {
    jobs: flume::Sender<Job>,
    /// A real hash of a random password, verified against when the user does not exist, so an
    /// unknown user costs as much as a wrong password.
    dummy: Arc<str>,
}

impl Passwords {
    pub async fn new(memory_kib: u32, iterations: u32) -> anyhow::Result<Self> {
        let params =
            Params::new(memory_kib, iterations, 1, None).map_err(|e| anyhow::anyhow!("argon2 parameters: {e}"))?;
        let (jobs, queue) = flume::unbounded::<Job>();
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
        passwords.dummy = passwords.hash(uuid::Uuid::new_v4().to_string()).await?.into();
        Ok(passwords)
    }

    pub async fn hash(&self, password: String) -> anyhow::Result<String> {
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
    pub async fn verify(&self, password: String, hash: Option<String>) -> anyhow::Result<bool> {
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
    ) -> anyhow::Result<T> {
        let (reply, answer) = oneshot::channel();
        self.jobs
            .send(Box::new(move |argon2| {
                let _ = reply.send(f(argon2));
            }))
            .map_err(|_| anyhow::anyhow!("the hashing threads are gone"))?;
        answer.await?
    }
}
