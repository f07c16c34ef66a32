//! GoChat's wire contract: what browsers, services and tests exchange. No I/O lives here.
//!
//! Layout
//! - [`ids`]: opaque id newtypes, so a user id is never passed where a conversation id belongs.
//! - [`admin`]: roles, sign-up policy, invitations, and the session ledger's events.
//! - [`dto`]: the JSON bodies of the HTTP API (users, messages, conversations, notifications).
//! - [`conversation`]: a conversation's shared state and the view each member gets of it.
//! - [`frames`]: WebSocket frames of `/ws/chat` and `/ws/notifications`.
//! - [`events`]: bus events, their envelope, routing keys and exchanges.
//! - [`error`]: the error codes and error body every service answers with.
//! - [`limits`]: the size bounds of the contract, shared by validation on both sides.
//! - [`topology`]: the durable queues and the events bound to each.
//! - [`validate`]: checks of user input shared by the services that apply them.
//!
//! With the `ts` feature, every public type of the client's wire derives `ts_rs::TS`, and
//! `cargo test -p gochat-proto --features ts` writes the TypeScript bindings (and the limits)
//! the web client imports, so the client never hand-copies the contract. With `sqlite`, ids
//! are SQLite values.

pub mod admin;
pub mod conversation;
pub mod dto;
pub mod error;
pub mod events;
pub mod frames;
pub mod ids;
pub mod limits;
pub mod topology;
pub mod validate;

pub use chrono::{DateTime, Utc};

/// A point in time on the wire: RFC 3339, UTC.
pub type Timestamp = DateTime<Utc>;
