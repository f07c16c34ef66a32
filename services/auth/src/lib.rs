//! The auth service: sign-up, sign-in, sign-out and the current user.
//!
//! Layout
//! - [`Settings`]: argon2 cost and sign-in limits.
//! - `password`: argon2id hashing on one dedicated thread per core, with a dummy
//!   verification for unknown users so both failures cost the same.
//! - `limiter`: failed sign-ins per client address and per account.
//! - `store`: the credentials table.
//! - `routes`: the HTTP handlers of `/api/auth/*`.
//!
//! It owns credentials and sessions, and publishes `user.registered`, `user.logged_in` and
//! `user.signed_out` through its outbox.

mod limiter;
mod password;
mod routes;
mod store;

use clap::Args;
use gochat_kit::Runtime;
use gochat_kit::auth::Sessions;
use gochat_kit::db::Db;
use gochat_kit::http::Origins;
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

pub const DEFAULT_LISTEN: SocketAddr = SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 8081);

/// Settings of the auth service.
#[derive(Clone, Debug, Default, Args, Serialize, Deserialize)]
#[group(id = "auth")]
#[command(next_help_heading = "Auth service")]
pub struct Settings {
    /// argon2id memory cost in KiB (OWASP: 19456). Lower it on small boards. [default: 19456]
    #[arg(long, env = "GOCHAT_ARGON2_MEMORY_KIB")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub argon2_memory_kib: Option<u32>,

    /// argon2id iterations (OWASP: 2). [default: 2]
    #[arg(long, env = "GOCHAT_ARGON2_ITERATIONS")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub argon2_iterations: Option<u32>,

    /// Failed sign-ins allowed per client address per window. [default: 20]
    #[arg(long, env = "GOCHAT_SIGNIN_FAILURES_PER_ADDRESS")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signin_failures_per_address: Option<u32>,

    /// Failed sign-ins allowed per account per window. [default: 5]
    #[arg(long, env = "GOCHAT_SIGNIN_FAILURES_PER_ACCOUNT")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signin_failures_per_account: Option<u32>,

    /// Length of the sign-in failure window, in seconds. [default: 900]
    #[arg(long, env = "GOCHAT_SIGNIN_WINDOW_SECS")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signin_window_secs: Option<u64>,
}

/// Shared by every handler.
#[derive(Clone)]
pub struct AppState {
    db: Db,
    sessions: Sessions,
    origins: Origins,
    passwords: Arc<password::Passwords>,
    per_address: Arc<limiter::FailureLimiter>,
    per_account: Arc<limiter::FailureLimiter>,
    session_ttl: Duration,
}

impl axum::extract::FromRef<AppState> for Sessions {
    fn from_ref(state: &AppState) -> Self {
        state.sessions.clone()
    }
}

/// Opens the database, starts the consumers and returns the service's router.
pub async fn build(runtime: Runtime, settings: Settings) -> anyhow::Result<axum::Router> {
    let db = runtime.open_db("auth", store::MIGRATIONS)?;
    let sessions = runtime.sessions("auth", &db).await?;
    let window = Duration::from_secs(settings.signin_window_secs.unwrap_or(900));
    let passwords = password::Passwords::new(
        settings.argon2_memory_kib.unwrap_or(19_456),
        settings.argon2_iterations.unwrap_or(2),
    )
    .await?;
    let state = AppState {
        db,
        sessions,
        origins: runtime.origins.clone(),
        passwords: Arc::new(passwords),
        per_address: Arc::new(limiter::FailureLimiter::new(
            settings.signin_failures_per_address.unwrap_or(20),
            window,
        )),
        per_account: Arc::new(limiter::FailureLimiter::new(
            settings.signin_failures_per_account.unwrap_or(5),
            window,
        )),
        session_ttl: Duration::from_secs(u64::from(runtime.settings.session_hours()) * 3600),
    };
    Ok(runtime.api_layers(routes::router(state)))
}
