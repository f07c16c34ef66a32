//! GoChat's wire contract: what browsers, services and tests exchange. No I/O lives here.
//!
//! Layout
//! - [`ids`]: opaque id newtypes, so a user id is never passed where a conversation id belongs.
//! - [`dto`]: the JSON bodies of the HTTP API (users, messages, conversations, notifications).
//! - [`frames`]: WebSocket frames of `/ws/chat` and `/ws/notifications`.
//! - [`events`]: bus events, their envelope, routing keys and exchanges.
//! - [`error`]: the error codes and error body every service answers with.
//! - [`limits`]: the size bounds of the contract, shared by validation on both sides.
//! - [`topology`]: the durable queues and the events bound to each.
//!
//! Every public type derives `ts_rs::TS`; `cargo test -p gochat-proto` writes the TypeScript
//! bindings the web client imports, so the client never hand-copies the contract.

pub mod dto;
pub mod error;
pub mod events;
pub mod frames;
pub mod ids;
pub mod limits;
pub mod topology;

pub use chrono::{DateTime, Utc};

/// A point in time on the wire: RFC 3339, UTC.
pub type Timestamp = DateTime<Utc>;
