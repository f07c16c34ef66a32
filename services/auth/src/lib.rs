//! The auth service: sign-up, sign-in, sign-out, the current user, changing one's password,
//! and the admin's controls (sign-up policy, invitations, disabling accounts, password reset
//! links).
//!
//! Layout
//! - [`Settings`]: argon2 cost, the sign-up policy and the attempt limits.
//! - `password`: argon2id hashing on one dedicated thread per core behind a bounded queue, with
//!   a dummy verification for unknown users so both failures cost the same.
//! - `limiter`: attempt budgets counted as attempts start: sign-in failures per client address,
//!   a progressive delay per account and address (wrong current passwords of a password change
//!   count as failed sign-ins), sign-ups per client address.
//! - `store`: accounts, settings, invitations, password reset codes.
//! - `ledger`: every sign-out and access change, numbered, for the other services' replicas.
//! - `routes`: the HTTP handlers of `/api/auth/*` but two; `password_change`:
//!   `/api/auth/password` and setting a password for both; `password_reset`:
//!   `/api/auth/password-reset`; `admin`: those of `/api/admin/*`.
//!
//! It owns credentials and sessions, and publishes `user.registered`, `user.logged_in`,
//! `user.signed_out`, `user.disabled`, `user.enabled` and `user.sessions_revoked` through its
//! outbox, and the ledger's `sessions.head` and `sessions.replayed` directly.

mod admin;
mod ledger;
mod limiter;
mod password;
mod password_change;
mod password_reset;
mod routes;
mod store;

use clap::Args;
use gochat_kit::Runtime;
use gochat_kit::auth::Sessions;
use gochat_kit::db::Db;
use gochat_kit::http::Origins;
use gochat_proto::admin::SignupPolicy;
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

    /// Passwords that may wait for a hashing thread; beyond, sign-ins, sign-ups and password
    /// changes get 429.
    /// [default: 8 per core]
    #[arg(long, env = "GOCHAT_ARGON2_QUEUE")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub argon2_queue: Option<usize>,

    /// Failed sign-ins allowed per client address per window. [default: 20]
    #[arg(long, env = "GOCHAT_SIGNIN_FAILURES_PER_ADDRESS")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signin_failures_per_address: Option<u32>,

    /// Failed sign-ins to one account from one address before each further attempt waits
    /// (1 s, doubling, at most the window). [default: 5]
    #[arg(long, env = "GOCHAT_SIGNIN_FAILURES_PER_ACCOUNT")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signin_failures_per_account: Option<u32>,

    /// Length of the sign-in failure window, in seconds. [default: 900]
    #[arg(long, env = "GOCHAT_SIGNIN_WINDOW_SECS")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signin_window_secs: Option<u64>,

    /// Who may sign up until an admin decides: open, invite or closed. [default: open]
    #[arg(long, env = "GOCHAT_SIGNUP")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signup: Option<SignupPolicy>,

    /// Sign-ups allowed per client address per minute. [default: 10]
    #[arg(long, env = "GOCHAT_SIGNUP_PER_MINUTE")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signup_per_minute: Option<u32>,
}

/// Shared by every handler.
#[derive(Clone)]
pub struct AppState {
    db: Db,
    sessions: Sessions,
    origins: Origins,
    passwords: Arc<password::Passwords>,
    /// Failed sign-ins (and wrong current passwords of password changes) per client address.
    signin_failures: Arc<limiter::Window>,
    /// Failed sign-ins (and wrong current passwords) per account and client address.
    signin_backoff: Arc<limiter::Backoff>,
    /// Sign-ups per client address.
    signups: Arc<limiter::Window>,
    /// The sign-up policy until an admin sets one.
    signup_default: SignupPolicy,
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
    ledger::serve(&runtime, &db);
    let window = Duration::from_secs(settings.signin_window_secs.unwrap_or(900));
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let passwords = password::Passwords::new(
        settings.argon2_memory_kib.unwrap_or(19_456),
        settings.argon2_iterations.unwrap_or(2),
        settings.argon2_queue.unwrap_or(8 * cores),
    )
    .await?;
    let state = AppState {
        db,
        sessions,
        origins: runtime.origins.clone(),
        passwords: Arc::new(passwords),
        signin_failures: Arc::new(limiter::Window::new(
            settings.signin_failures_per_address.unwrap_or(20),
            window,
        )),
        signin_backoff: Arc::new(limiter::Backoff::new(
            settings.signin_failures_per_account.unwrap_or(5),
            window,
        )),
        signups: Arc::new(limiter::Window::new(
            settings.signup_per_minute.unwrap_or(10),
            Duration::from_secs(60),
        )),
        signup_default: settings.signup.unwrap_or_default(),
        session_ttl: Duration::from_secs(u64::from(runtime.settings.session_hours()) * 3600),
    };
    let router = routes::router(state.clone())
        .merge(password_change::router(state.clone()))
        .merge(password_reset::router(state.clone()))
        .merge(admin::router(state));
    Ok(runtime.api_layers(router))
}
