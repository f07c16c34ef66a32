//! Bus events: the envelope every event travels in, and one typed payload per event type.
//!
//! The routing key of an event is its type (`message.stored`), and the type decides the exchange,
//! so no call site ever spells a routing key or an exchange name.

use crate::Timestamp;
use crate::dto::{Message, Notification, UserRef};
use crate::ids::{ClientId, ConversationId, EventId, NotificationId, UserId};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

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
pub trait EventData: Serialize + DeserializeOwned {
    const KIND: EventKind;
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
        })*

        /// A decoded event.
        #[derive(Clone, Debug, PartialEq)]
        pub enum Event {
            $($variant($data),)*
            Unknown,
        }

        impl Envelope {
            /// Decodes the payload according to the envelope's type.
            pub fn event(&self) -> Result<Event, serde_json::Error> {
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
    UserOnline = "user.online" in UserEvents => UserOnline,
    UserOffline = "user.offline" in UserEvents => UserOffline,
    PresenceHeartbeat = "presence.heartbeat" in UserEvents => PresenceHeartbeat,
    PresenceChanged = "presence.changed" in UserEvents => PresenceChanged,
    ConversationCreated = "conversation.created" in MessageEvents => ConversationCreated,
    MessageSent = "message.sent" in MessageEvents => MessageSent,
    MessageStored = "message.stored" in MessageEvents => MessageStored,
    MessageRejected = "message.rejected" in MessageEvents => MessageRejected,
    MessageDelivered = "message.delivered" in MessageEvents => MessageDelivered,
    MessageRead = "message.read" in MessageEvents => MessageRead,
    ReceiptUpdated = "receipt.updated" in MessageEvents => ReceiptUpdated,
    Typing = "typing" in MessageEvents => Typing,
    NotificationCreated = "notification.created" in MessageEvents => NotificationCreated,
    NotificationsRead = "notifications.read" in MessageEvents => NotificationsRead,
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
}

impl Envelope {
    /// Wraps a payload in a new envelope with a fresh id.
    pub fn new<E: EventData>(data: &E) -> Result<Self, serde_json::Error> {
        Ok(Self {
            id: EventId::new(),
            kind: E::KIND,
            occurred_at: chrono::Utc::now(),
            data: serde_json::value::to_raw_value(data)?,
        })
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

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConversationCreated {
    pub conversation_id: ConversationId,
    pub members: Vec<UserId>,
}

/// A message accepted by chat, not yet stored.
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
    pub sent_at: Timestamp,
}

/// A message stored with its `seq`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageStored {
    pub message: Message,
    /// Who sent it, for notifications' "from".
    pub sender: UserRef,
    /// Both participants, sender included.
    pub members: Vec<UserId>,
}

/// An accepted message the messages service could not store (its conversation is not the
/// sender's); chat tells the sender's tabs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageRejected {
    pub sender_id: UserId,
    pub client_id: ClientId,
    pub reason: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageDelivered {
    pub conversation_id: ConversationId,
    pub user_id: UserId,
    pub seq: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageRead {
    pub conversation_id: ConversationId,
    pub user_id: UserId,
    pub seq: i64,
}

/// A member's watermarks moved.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReceiptUpdated {
    pub conversation_id: ConversationId,
    pub user_id: UserId,
    pub delivered_seq: i64,
    pub read_seq: i64,
    pub members: Vec<UserId>,
}

/// Ephemeral: fanned out, never stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Typing {
    pub conversation_id: ConversationId,
    pub user_id: UserId,
    pub members: Vec<UserId>,
}

/// A notification was stored for `user_id`; every notifications instance pushes it to that
/// user's open sockets.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NotificationCreated {
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
