//! Queue topology: which durable queue receives which events.
//!
//! Every service declares all of it on connect, so an event published before its consumer ever
//! started waits in that consumer's queue instead of being dropped as unroutable.
//! Per-instance fan-out queues are named `<service>.<instance>.<purpose>`; each instance
//! declares its own (the events of each purpose are listed here), and they outlive a lost
//! connection for a while so that nothing routed meanwhile is lost.

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
        // Sessions that ended: a push subscription belongs to the session that registered it
        // and goes with it (signed out; all of an account's sessions at a password change or
        // when it is disabled).
        EventKind::UserSignedOut,
        EventKind::UserDisabled,
        EventKind::UserSessionsRevoked,
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

/// What every notifications instance pushes to the sockets it holds (its own fan-out queue).
pub const NOTIFICATIONS_PUSH: &[EventKind] = &[
    EventKind::NotificationsCreated,
    EventKind::NotificationsRead,
    EventKind::PresenceChanged,
    EventKind::UserRegistered,
];

/// What keeps every instance's replica of the session ledger up to date (`<service>.<instance>.sessions`).
pub const SESSIONS: &[EventKind] = &[
    EventKind::UserSignedOut,
    EventKind::UserDisabled,
    EventKind::UserEnabled,
    EventKind::UserSessionsRevoked,
    EventKind::SessionsHead,
    EventKind::SessionsReplayed,
];

/// What every auth instance answers from its ledger (`auth.<instance>.ledger`).
pub const LEDGER_REQUESTS: &[EventKind] = &[EventKind::SessionsReplayRequested];

pub const SHARED_QUEUES: &[SharedQueue] = &[USERS, MESSAGES, NOTIFICATIONS];

/// Dead letters of a queue: events that failed every retry, kept for an operator to inspect.
pub fn dead_letter_queue(queue: &str) -> String {
    format!("{queue}.dead")
}

/// The durable topic exchange dead letters go through: `<queue>.dead` is bound to it with the
/// routing key `<queue>`, so a consumer may only be allowed to dead-letter its own queue's events.
pub const DEAD_LETTER_EXCHANGE: &str = "DeadLettersExchange";
