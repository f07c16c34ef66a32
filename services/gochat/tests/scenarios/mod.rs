//! The v2 scenarios (groups, replies/edits/deletes/reactions, search, blocking, notifications),
//! written against a [`Site`](crate::common::site::Site) so each runs both all in one on the
//! in-process bus and as separate services over RabbitMQ with two chat instances and two
//! notifications gateways.

#![allow(dead_code)] // each test binary runs the scenarios of its own area

pub mod attachments;
pub mod blocks;
pub mod groups;
pub mod messages;
pub mod notifications;
pub mod search;

use crate::common::site::Tab;
use serde_json::Value;

/// Reads `tab` until its log holds `n` frames of type `kind`.
pub async fn collect(tab: &mut Tab, kind: &str, n: usize) {
    while tab.frames(kind).len() < n {
        tab.next_of(kind).await;
    }
}

/// `(userId, deliveredSeq, readSeq)` of every `receipt` frame a tab received, in order.
pub fn receipts(tab: &Tab) -> Vec<(String, i64, i64)> {
    tab.frames("receipt")
        .iter()
        .map(|r| {
            (
                r["userId"].as_str().expect("userId").to_owned(),
                r["deliveredSeq"].as_i64().expect("deliveredSeq"),
                r["readSeq"].as_i64().expect("readSeq"),
            )
        })
        .collect()
}

/// The seqs of every `message` frame a tab received, in order.
pub fn message_seqs(tab: &Tab) -> Vec<i64> {
    tab.frames("message")
        .iter()
        .map(|m| m["message"]["seq"].as_i64().expect("seq"))
        .collect()
}

/// The `change` of every `message.updated` frame a tab received, in order.
pub fn changes(tab: &Tab) -> Vec<i64> {
    tab.frames("message.updated")
        .iter()
        .map(|m| m["change"].as_i64().expect("change"))
        .collect()
}

/// The `error` codes a tab received, in order.
pub fn error_codes(tab: &Tab) -> Vec<String> {
    tab.frames("error")
        .iter()
        .map(|e| e["code"].as_str().expect("code").to_owned())
        .collect()
}

/// A field of a JSON value as `&str`.
pub fn text(value: &Value) -> &str {
    value.as_str().unwrap_or_else(|| panic!("not a string: {value}"))
}
