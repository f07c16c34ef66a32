//! The shared runtime every GoChat service is built on, used the same way by each of them.
//!
//! Layout
//! - [`config`]: settings common to every service, layered defaults → TOML file → env → flags.
//! - [`db`]: one SQLite file per service: a dedicated writer thread (group commit), reader
//!   threads, migrations at open, and the outbox/inbox tables.
//! - [`bus`]: publish/consume with RabbitMQ semantics, over RabbitMQ (lapin) or in process.
//! - [`outbox`]: the relay that publishes committed outbox rows with confirms.
//! - [`backoff`]: the pauses of every retry loop (the broker's connection, the relay, handlers).
//! - [`record`]: recording what a user did, durably, by the cheapest path the bus allows.
//! - [`auth`]: the JWT session cookie: issuing, verifying, revocation, and the extractor.
//! - [`jwt`]: the HS256 signatures of session tokens (no RSA or elliptic curves in the tree).
//! - [`http`]: the error type and body, the JSON extractor, the Origin guard, body limits.
//! - [`listener`]: accepting connections: a connection cap, header-read and idle timeouts,
//!   request head limits.
//! - [`ops`]: `/healthz`, `/readyz`, `/metrics`, request metrics, and serving with graceful shutdown.
//! - [`private`]: owner-only modes for the data directory and the database files.
//! - [`process`]: the `process_*` metrics (memory, CPU, file descriptors) read from `/proc`.
//! - [`runtime`]: what a service is given to run: bus, keys, shutdown, tasks.
//! - [`service`]: command line, startup, serving and draining of a service process.
//! - [`telemetry`]: logging setup.
//! - [`testing`]: serving services on port 0 in integration tests.
//! - [`ws`]: WebSocket upgrade checks, limits, the hub of open sockets, the per-socket loop.

pub mod auth;
pub mod backoff;
pub mod bus;
pub mod config;
pub mod db;
pub mod http;
pub mod jwt;
pub mod listener;
pub mod ops;
pub mod outbox;
pub mod private;
pub mod process;
pub mod record;
pub mod runtime;
pub mod service;
pub mod telemetry;
pub mod testing;
pub mod ws;

pub use runtime::Runtime;
