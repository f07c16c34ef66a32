//! Accounts for a run. Names carry a prefix unique to the run, so a server that has seen other
//! runs gets new users; an existing name (a reused data directory) is signed in instead.

use crate::api::{Api, Session, Signup};
use futures_util::{StreamExt, TryStreamExt, stream};
use rand::Rng;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Sign-ups in flight at once: each costs the server an argon2 hash, so more only queue.
pub const SIGNUP_CONCURRENCY: usize = 4;

/// The password of a load user (deterministic, so a reused data directory's users sign in).
pub fn password(username: &str) -> String {
    format!("load-{username}-password")
}

/// Five random lowercase letters and digits.
pub fn run_prefix() -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rng();
    (0..5)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect()
}

/// Usernames `<prefix>-<role>-<i>` for `i` in `0..count`.
pub fn names(prefix: &str, role: &str, count: usize) -> Vec<String> {
    (0..count).map(|i| format!("{prefix}-{role}-{i}")).collect()
}

/// Signs `username` up, or in when it exists; waits out rate limits.
pub async fn account(api: &Api, username: &str) -> anyhow::Result<Session> {
    Ok(account_timed(api, username).await?.0)
}

/// [`account`], with how long the request that succeeded took.
pub async fn account_timed(api: &Api, username: &str) -> anyhow::Result<(Session, Duration)> {
    static WARNED: AtomicBool = AtomicBool::new(false);
    let password = password(username);
    loop {
        let started = Instant::now();
        match api.signup(username, &password).await? {
            Signup::Created(session) => return Ok((session, started.elapsed())),
            Signup::Taken => {
                let started = Instant::now();
                let session = api.signin(username, &password).await?;
                return Ok((session, started.elapsed()));
            }
            Signup::RateLimited(wait) => {
                if !WARNED.swap(true, Ordering::Relaxed) {
                    eprintln!(
                        "gochat-load: sign-up is rate limited (429); waiting {wait:?} at a time. \
                         Raise the server's sign-up limit for load runs."
                    );
                }
                tokio::time::sleep(wait).await;
            }
        }
    }
}

/// Accounts for every name, in order, a few sign-ups at a time.
pub async fn accounts(api: &Api, names: Vec<String>) -> anyhow::Result<Vec<Session>> {
    stream::iter(names)
        .map(|name| async move { account(api, &name).await })
        .buffered(SIGNUP_CONCURRENCY)
        .try_collect()
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_valid_usernames() {
        let prefix = run_prefix();
        for name in names(&prefix, "receiver", 300) {
            assert!((3..=32).contains(&name.len()), "{name}");
            assert!(
                name.chars().all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c)),
                "{name}"
            );
        }
        assert!(password("abc").len() >= 8);
    }
}
