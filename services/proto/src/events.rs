//! Bus events: the envelope every event travels in, and one typed payload per event type.
//!
//! The routing key of an event is its type (`message.stored`), and the type decides the exchange,
//! so no call site ever spells a routing key or an exchange name.

use crate::Timestamp;
use crate::admin::{
    SessionsHead, SessionsReplayRequested, SessionsReplayed, UserDisabled, UserEnabled, UserSessionsRevoked,
};
use crate::conversation::ConversationState;
use crate::dto::{Message, Notification, TimelineEvent, UserRef};
use crate::error::ErrorCode;
use crate::ids::{AttachmentId, ClientId, ConversationId, EventId, NotificationId, UserId};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use std::sync::atomic::{AtomicBool, Ordering};

/// The two durable topic exchanges.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Exchange {
    UserEvents,
    MessageEvents,
}

impl Exchange {
    pub const ALL: [Exchange; 2] = [Exchange::UserEvents, Exchange::MessageEvents];

    pub fn name(self) -> &'static str {
        match self {
            Self::UserEvents => "UserEventsExchange",
            Self::MessageEvents => "MessageEventsExchange",
        }
    }
}

/// A typed event payload: knows its own type, hence its routing key and exchange.
pub trait EventData: Serialize + DeserializeOwned + Clone {
    const KIND: EventKind;

    /// The decoded event this payload is.
    fn into_event(self) -> Event;
}

macro_rules! events {
    ($($variant:ident = $key:literal in $exchange:ident => $data:ident),* $(,)?) => {
        /// The `type` of an event, which is also its routing key.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum EventKind {
            $(#[serde(rename = $key)] $variant,)*
            /// A type this version does not know; consumers acknowledge and skip it.
            #[serde(other)]
            Unknown,
        }

        impl EventKind {
            pub const ALL: &[EventKind] = &[$(EventKind::$variant),*];

            pub fn routing_key(self) -> &'static str {
                match self {
                    $(Self::$variant => $key,)*
                    Self::Unknown => "unknown",
                }
            }

            pub fn exchange(self) -> Exchange {
                match self {
                    $(Self::$variant => Exchange::$exchange,)*
                    Self::Unknown => Exchange::MessageEvents,
                }
            }

            /// The kind for a routing key, or `Unknown`.
            pub fn from_routing_key(key: &str) -> Self {
                match key {
                    $($key => Self::$variant,)*
                    _ => Self::Unknown,
                }
            }
        }

        $(impl EventData for $data {
            const KIND: EventKind = EventKind::$variant;

            fn into_event(self) -> Event {
                Event::$variant(self)
            }
        })*

        /// A decoded event. It serializes as its payload alone (`data`), as it travels.
        #[derive(Clone, Debug, PartialEq, Serialize)]
        #[serde(untagged)]
        pub enum Event {
            $($variant($data),)*
            Unknown,
        }

        impl Envelope {
            /// Decodes the payload according to the envelope's type, or copies the publisher's
            /// own when it was published in this process.
            pub fn event(&self) -> Result<Event, serde_json::Error> {
                if let Some(event) = &self.published {
                    return Ok(event.clone());
                }
                Ok(match self.kind {
                    $(EventKind::$variant => Event::$variant(serde_json::from_str(self.data.get())?),)*
                    EventKind::Unknown => Event::Unknown,
                })
            }
        }
    };
}

events! {
    UserRegistered = "user.registered" in UserEvents => UserRegistered,
    UserLoggedIn = "user.logged_in" in UserEvents => UserLoggedIn,
    UserSignedOut = "user.signed_out" in UserEvents => UserSignedOut,
    UserDisabled = "user.disabled" in UserEvents => UserDisabled,
    UserEnabled = "user.enabled" in UserEvents => UserEnabled,
    UserSessionsRevoked = "user.sessions_revoked" in UserEvents => UserSessionsRevoked,
    SessionsHead = "sessions.head" in UserEvents => SessionsHead,
    SessionsReplayRequested = "sessions.replay_requested" in UserEvents => SessionsReplayRequested,
    SessionsReplayed = "sessions.replayed" in UserEvents => SessionsReplayed,
    UserOnline = "user.online" in UserEvents => UserOnline,
    UserOffline = "user.offline" in UserEvents => UserOffline,
    PresenceHeartbeat = "presence.heartbeat" in UserEvents => PresenceHeartbeat,
    PresenceChanged = "presence.changed" in UserEvents => PresenceChanged,
    // What a user did, recorded by chat for the messages service.
    MessageSent = "message.sent" in MessageEvents => MessageSent,
    MessageEdited = "message.edited" in MessageEvents => MessageEdited,
    MessageDeleted = "message.deleted" in MessageEvents => MessageDeleted,
    MessageReacted = "message.reacted" in MessageEvents => MessageReacted,
    MessageDelivered = "message.delivered" in MessageEvents => MessageDelivered,
    MessageRead = "message.read" in MessageEvents => MessageRead,
    UserTyping = "user.typing" in MessageEvents => UserTyping,
    // What a conversation became, announced by the messages service.
    MessageStored = "message.stored" in MessageEvents => MessageStored,
    MessageUpdated = "message.updated" in MessageEvents => MessageUpdated,
    MessageRejected = "message.rejected" in MessageEvents => MessageRejected,
    ReceiptUpdated = "receipt.updated" in MessageEvents => ReceiptUpdated,
    ConversationUpdated = "conversation.updated" in MessageEvents => ConversationUpdated,
    Typing = "typing" in MessageEvents => Typing,
    // Announced by the notifications store to every notifications instance.
    NotificationsCreated = "notifications.created" in MessageEvents => NotificationsCreated,
    NotificationsRead = "notifications.read" in MessageEvents => NotificationsRead,
}

impl EventKind {
    /// Events worth nothing once late (typing, heartbeats): published without persistence and
    /// never kept by an outbox.
    pub fn is_ephemeral(self) -> bool {
        matches!(self, Self::UserTyping | Self::Typing | Self::PresenceHeartbeat)
    }
}

/// `{"id","type","occurredAt","data":{...}}`. The payload stays raw JSON until a consumer asks
/// for it, so routing and deduplication never decode what they do not need.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Envelope {
    pub id: EventId,
    #[serde(rename = "type")]
    pub kind: EventKind,
    pub occurred_at: Timestamp,
    pub data: Box<RawValue>,
    /// The payload as its publisher had it, kept by the envelope made in this process: its
    /// consumers here (the in-process bus) copy it instead of each decoding `data` again, which
    /// was a tenth of a message's instructions in `gochat serve`. Never sent; a decoded envelope
    /// has none. Made over RabbitMQ too, where no consumer of this process may want it.
    #[serde(skip)]
    published: Option<Event>,
    /// Set by a consumer in this process that refused the event in the commit that applied it
    /// (the messages service refusing a message), before it acknowledges it: the publisher
    /// here that waits for the confirm learns it with the confirm (in `gochat serve`, chat then
    /// answers the refusal alone, not `accepted` as well). Never sent: a consumer over RabbitMQ
    /// has an envelope of its own.
    #[serde(skip)]
    refused: AtomicBool,
}

impl Envelope {
    /// Wraps a payload in a new envelope with a fresh id.
    pub fn new<E: EventData>(data: &E) -> Result<Self, serde_json::Error> {
        Ok(Self {
            id: EventId::new(),
            kind: E::KIND,
            occurred_at: chrono::Utc::now(),
            data: serde_json::value::to_raw_value(data)?,
            published: Some(data.clone().into_event()),
            refused: AtomicBool::new(false),
        })
    }

    /// Says that a consumer in this process refused the event (see `refused`).
    pub fn mark_refused(&self) {
        self.refused.store(true, Ordering::Release);
    }

    /// Whether a consumer in this process refused the event; asked once its confirm came.
    pub fn is_refused(&self) -> bool {
        self.refused.load(Ordering::Acquire)
    }

    pub fn to_json(&self) -> Result<Vec<u8>, serde_json::Error> {
        serde_json::to_vec(self)
    }

    pub fn from_json(bytes: &[u8]) -> Result<Self, serde_json::Error> {
        serde_json::from_slice(bytes)
    }
}

impl Clone for Envelope {
    fn clone(&self) -> Self {
        Self {
            id: self.id,
            kind: self.kind,
            occurred_at: self.occurred_at,
            data: self.data.clone(),
            published: self.published.clone(),
            refused: AtomicBool::new(self.is_refused()),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserRegistered {
    pub user_id: UserId,
    pub username: String,
    pub registered_at: Timestamp,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserLoggedIn {
    pub user_id: UserId,
    pub at: Timestamp,
}

/// A session ended: every service refuses the token with this `jti` until it expires.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserSignedOut {
    pub user_id: UserId,
    pub jti: String,
    pub expires_at: Timestamp,
    /// Its place in auth's session ledger (0 from publishers that predate the ledger).
    #[serde(default)]
    pub seq: i64,
}

/// A notifications instance holds the first socket of this user.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserOnline {
    pub user_id: UserId,
    pub instance: String,
    pub at: Timestamp,
}

/// A notifications instance closed the last socket of this user.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserOffline {
    pub user_id: UserId,
    pub instance: String,
    pub at: Timestamp,
}

/// A notifications instance is alive; its claims expire when these stop.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PresenceHeartbeat {
    pub instance: String,
    pub at: Timestamp,
    /// Users this instance holds sockets for, so a lost `user.online` heals at the next beat.
    pub users: Vec<UserId>,
}

/// A user's aggregated presence changed (published by the users service, coalesced).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PresenceChanged {
    pub user_id: UserId,
    pub username: String,
    pub online: bool,
    pub last_seen_at: Option<Timestamp>,
}

/// The chat instance and socket a request came from, so that a refusal (or the answer to a
/// repeated `send`) is answered there.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Origin {
    pub instance: String,
    pub socket: u64,
}

/// A message sent by a user, not yet stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageSent {
    pub sender_id: UserId,
    /// The sender's name from their token, so the messages service can name a sender whose
    /// `user.registered` has not reached it yet (events of different publishers are not ordered).
    #[serde(default)]
    pub sender_username: String,
    pub client_id: ClientId,
    pub to: Option<UserId>,
    pub conversation_id: Option<ConversationId>,
    pub body: String,
    #[serde(default)]
    pub reply_to_seq: Option<i64>,
    #[serde(default)]
    pub attachment_ids: Vec<AttachmentId>,
    pub sent_at: Timestamp,
    #[serde(default)]
    pub origin: Option<Origin>,
}

/// A user replaced the body of their message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageEdited {
    pub conversation_id: ConversationId,
    pub seq: i64,
    pub user_id: UserId,
    pub body: String,
    pub at: Timestamp,
    pub origin: Option<Origin>,
}

/// A user deleted their message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageDeleted {
    pub conversation_id: ConversationId,
    pub seq: i64,
    pub user_id: UserId,
    pub at: Timestamp,
    pub origin: Option<Origin>,
}

/// A user put (`on`) or took back a reaction.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageReacted {
    pub conversation_id: ConversationId,
    pub seq: i64,
    pub user_id: UserId,
    pub emoji: String,
    pub on: bool,
    pub at: Timestamp,
    pub origin: Option<Origin>,
}

/// Ephemeral: a user is typing; the messages service fans it out to the other members.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserTyping {
    pub conversation_id: ConversationId,
    pub user_id: UserId,
    pub origin: Option<Origin>,
}

/// A stored message with its `seq`. It also moves the sender's watermarks to that seq.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageStored {
    pub message: Message,
    /// Who sent it, for notifications' "from".
    pub sender: UserRef,
    /// Every member of the conversation, sender included; the sender alone in a resend's answer.
    pub members: Vec<UserId>,
    /// Set when this answers a `send` repeated with a `clientId` already stored: the message
    /// goes again to the socket that repeated it, and to nobody else (every member had it when
    /// it was stored; it is nothing new for notifications). Such an answer names the sender
    /// alone in `members` and has no title nor mentions, so a consumer that predates this field
    /// tells nobody else either.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resent: Option<Resent>,
    /// The group's title (none for a direct conversation), for notifications.
    #[serde(default)]
    pub title: Option<String>,
    /// The members the body names as `@username` (sender excluded): a mention reaches them
    /// even where they muted the conversation.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mentions: Vec<UserId>,
}

/// Who repeated a `send` whose message was stored already (see [`MessageStored::resent`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Resent {
    /// The socket the repeat came from; none from a publisher that predates origins (then
    /// every socket of the sender is answered).
    #[serde(default)]
    pub origin: Option<Origin>,
}

/// A message was edited, deleted or reacted to; `change` is the conversation's change counter
/// after it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageUpdated {
    pub message: Message,
    pub change: i64,
    pub members: Vec<UserId>,
    /// After an edit in a group: the members the body names now (as `MessageStored.mentions`),
    /// so a notification stops saying it mentions someone it no longer names. `None` for every
    /// other update, and from publishers that predate it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mentions: Option<Vec<UserId>>,
}

/// A request the messages service refused; chat answers it on the socket it came from (or on
/// every socket of the user when the origin is unknown).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageRejected {
    #[serde(alias = "senderId")]
    pub user_id: UserId,
    pub client_id: Option<ClientId>,
    #[serde(default = "not_found")]
    pub code: ErrorCode,
    pub reason: String,
    #[serde(default)]
    pub origin: Option<Origin>,
}

fn not_found() -> ErrorCode {
    ErrorCode::NotFound
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageDelivered {
    pub conversation_id: ConversationId,
    pub user_id: UserId,
    pub seq: i64,
    #[serde(default)]
    pub origin: Option<Origin>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageRead {
    pub conversation_id: ConversationId,
    pub user_id: UserId,
    pub seq: i64,
    #[serde(default)]
    pub origin: Option<Origin>,
}

/// A member's watermarks moved. `recipients`: whose tabs are told (in a direct conversation
/// both members; in a group the member themselves and the senders of the messages the move
/// covers, so a group's receipts cost one frame per interested member, not one per member).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReceiptUpdated {
    pub conversation_id: ConversationId,
    pub user_id: UserId,
    pub delivered_seq: i64,
    pub read_seq: i64,
    #[serde(alias = "members")]
    pub recipients: Vec<UserId>,
}

/// A conversation was created or changed (title, members); `removed` lost their membership.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConversationUpdated {
    pub conversation: ConversationState,
    #[serde(default)]
    pub removed: Vec<UserId>,
    /// What happened, for the group's timeline (none for changes that are not shown there).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<TimelineEvent>,
}

/// Ephemeral: fanned out to the other members, never stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Typing {
    pub conversation_id: ConversationId,
    pub user_id: UserId,
    pub members: Vec<UserId>,
}

/// Notifications were stored; every notifications instance pushes each to its user's sockets.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NotificationsCreated {
    pub notifications: Vec<UserNotification>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserNotification {
    pub user_id: UserId,
    pub notification: Notification,
}

/// Notifications of `user_id` were read (in any tab, or by reading the conversation).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NotificationsRead {
    pub user_id: UserId,
    pub ids: Vec<NotificationId>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelope_round_trips_with_type_as_routing_key() {
        let data = UserRegistered {
            user_id: UserId::new(),
            username: "alice".into(),
            registered_at: chrono::Utc::now(),
        };
        let env = Envelope::new(&data).unwrap();
        let json = String::from_utf8(env.to_json().unwrap()).unwrap();
        assert!(json.contains(r#""type":"user.registered""#));
        let back = Envelope::from_json(json.as_bytes()).unwrap();
        assert_eq!(back.kind.routing_key(), "user.registered");
        assert_eq!(back.kind.exchange().name(), "UserEventsExchange");
        assert_eq!(back.event().unwrap(), Event::UserRegistered(data));
        // A consumer in the publisher's process gets the very event one elsewhere decodes.
        assert_eq!(env.event().unwrap(), back.event().unwrap());
    }

    #[test]
    fn unknown_event_type_is_unknown_not_an_error() {
        let json = r#"{"id":"0190b3a4-5d6e-7f80-9a1b-2c3d4e5f6a7b","type":"future.thing","occurredAt":"2026-01-01T00:00:00Z","data":{}}"#;
        let env = Envelope::from_json(json.as_bytes()).unwrap();
        assert_eq!(env.kind, EventKind::Unknown);
        assert_eq!(env.event().unwrap(), Event::Unknown);
    }

    #[test]
    fn routing_keys_map_back_to_kinds() {
        for kind in EventKind::ALL {
            assert_eq!(EventKind::from_routing_key(kind.routing_key()), *kind);
        }
    }
}
