//! Queue topology: which durable queue receives which events.
//!
//! Every service declares all of it on connect, so an event published before its consumer ever
//! started waits in that consumer's queue instead of being dropped as unroutable.
//! Per-instance fan-out queues are not listed: each instance declares its own, named
//! `<service>.<instance>.<purpose>`, exclusive to its connection.

use crate::events::EventKind;

/// A durable queue shared by every instance of one service (competing consumers).
pub struct SharedQueue {
    pub name: &'static str,
    pub events: &'static [EventKind],
}

pub const USERS: SharedQueue = SharedQueue {
    name: "users.events",
    events: &[
        EventKind::UserRegistered,
        EventKind::UserOnline,
        EventKind::UserOffline,
        EventKind::PresenceHeartbeat,
    ],
};

pub const MESSAGES: SharedQueue = SharedQueue {
    name: "messages.events",
    events: &[
        EventKind::MessageSent,
        EventKind::MessageEdited,
        EventKind::MessageDeleted,
        EventKind::MessageReacted,
        EventKind::MessageDelivered,
        EventKind::MessageRead,
        EventKind::UserTyping,
        EventKind::UserRegistered,
        EventKind::PresenceChanged,
    ],
};

pub const NOTIFICATIONS: SharedQueue = SharedQueue {
    name: "notifications.events",
    events: &[
        EventKind::MessageStored,
        EventKind::MessageUpdated,
        EventKind::ReceiptUpdated,
        EventKind::ConversationUpdated,
        // Who is online, so the store pushes (Web Push) only to users without an open socket.
        EventKind::PresenceChanged,
    ],
};

/// What every chat instance pushes to the sockets it holds (its own fan-out queue).
pub const CHAT_PUSH: &[EventKind] = &[
    EventKind::MessageStored,
    EventKind::MessageUpdated,
    EventKind::MessageRejected,
    EventKind::ReceiptUpdated,
    EventKind::ConversationUpdated,
    EventKind::Typing,
];

pub const SHARED_QUEUES: &[SharedQueue] = &[USERS, MESSAGES, NOTIFICATIONS];

/// Dead letters of a queue: events that failed every retry, kept for an operator to inspect.
pub fn dead_letter_queue(queue: &str) -> String {
    format!("{queue}.dead")
}
