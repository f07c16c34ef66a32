//! Property tests of everything decoded from untrusted bytes: client frames and bus envelopes.
//! Whatever arrives decodes to a value or to an error, never to a panic; what decodes encodes
//! back to something that decodes to the same value; and the shapes the contract defines
//! decode to what they say.
//!
//! Cases per property: proptest's default (256), or `PROPTEST_CASES` for a longer run.

#![allow(clippy::unwrap_used)] // tests fail loudly by design

use gochat_proto::events::{Envelope, Event, EventKind};
use gochat_proto::frames::ChatClientFrame;
use gochat_proto::ids::{AttachmentId, ClientId, ConversationId, UserId};
use gochat_proto::validate;
use proptest::prelude::*;
use serde_json::{Map, Value, json};

/// Field names the frames and events use, so random objects often hit a real field.
const FIELDS: &[&str] = &[
    "type",
    "clientId",
    "to",
    "conversationId",
    "body",
    "replyToSeq",
    "attachmentIds",
    "seq",
    "emoji",
    "on",
    "userId",
    "username",
    "registeredAt",
    "at",
    "jti",
    "expiresAt",
    "instance",
    "users",
    "online",
    "lastSeenAt",
    "senderId",
    "senderUsername",
    "sentAt",
    "origin",
    "socket",
    "message",
    "sender",
    "members",
    "title",
    "change",
    "code",
    "reason",
    "deliveredSeq",
    "readSeq",
    "recipients",
    "conversation",
    "removed",
    "notifications",
    "ids",
    "id",
    "occurredAt",
    "data",
    "epoch",
    "after",
    "through",
    "entries",
    "access",
    "disabled",
    "sessionsBefore",
];

const FRAME_TYPES: &[&str] = &["send", "delivered", "read", "typing", "edit", "delete", "react", "ping"];

/// Numbers at and around every edge a decoder or a check might trip on.
fn number() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        prop::sample::select(vec![
            json!(0),
            json!(-1),
            json!(1),
            json!(i64::MAX),
            json!(i64::MIN),
            json!(u64::MAX),
            json!(1e300),
            json!(-0.0),
            json!(4000),
            json!(4001),
        ]),
    ]
}

/// Strings shaped like the values fields hold (ids, times, emoji, words), and anything at all.
fn string() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        Just(String::new()),
        Just(UserId::new().to_string()),
        "[0-9a-fA-F-]{0,40}",
        "urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
        "[+-]?[0-9]{4,6}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{1,12})?(Z|[+-][0-9]{2}:[0-9]{2})",
        prop::sample::select(vec!["👍", "👍🏽", "❤️", "🇫🇷", "👨‍👩‍👧‍👦", " ", "\u{0}", "\u{feff}", "é"]).prop_map(str::to_owned),
        prop::sample::select(FRAME_TYPES).prop_map(str::to_owned),
        ("[ -~]{0,8}", 0usize..5000).prop_map(|(s, n)| s.repeat(n.min(5000 / s.len().max(1)))),
    ]
}

/// Any JSON value, nested a few levels, with objects that use the contract's field names.
fn value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        number(),
        string().prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            object(inner),
        ]
    })
}

fn object(values: impl Strategy<Value = Value>) -> impl Strategy<Value = Value> {
    let key = prop_oneof![4 => prop::sample::select(FIELDS).prop_map(str::to_owned), 1 => any::<String>()];
    prop::collection::vec((key, values), 0..8)
        .prop_map(|fields| Value::Object(fields.into_iter().collect::<Map<_, _>>()))
}

/// An object with a frame `type` (known or not) and random fields.
fn frame_like() -> impl Strategy<Value = Value> {
    let kind = prop_oneof![4 => prop::sample::select(FRAME_TYPES).prop_map(str::to_owned), 1 => string()];
    (kind, object(value())).prop_map(|(kind, mut frame)| {
        frame["type"] = Value::String(kind);
        frame
    })
}

/// Every frame a client can send, with any values its fields can hold.
fn chat_frame() -> impl Strategy<Value = ChatClientFrame> {
    let conversation = || any::<u128>().prop_map(|n| ConversationId(uuid::Uuid::from_u128(n)));
    prop_oneof![
        (
            any::<u128>(),
            prop::option::of(any::<u128>()),
            prop::option::of(conversation()),
            any::<String>(),
            prop::option::of(any::<i64>()),
            prop::collection::vec(any::<u128>(), 0..12),
        )
            .prop_map(
                |(client, to, conversation_id, body, reply_to_seq, files)| ChatClientFrame::Send {
                    client_id: ClientId(uuid::Uuid::from_u128(client)),
                    to: to.map(|n| UserId(uuid::Uuid::from_u128(n))),
                    conversation_id,
                    body,
                    reply_to_seq,
                    attachment_ids: files
                        .into_iter()
                        .map(|n| AttachmentId(uuid::Uuid::from_u128(n)))
                        .collect(),
                }
            ),
        (conversation(), any::<i64>())
            .prop_map(|(conversation_id, seq)| ChatClientFrame::Delivered { conversation_id, seq }),
        (conversation(), any::<i64>())
            .prop_map(|(conversation_id, seq)| ChatClientFrame::Read { conversation_id, seq }),
        conversation().prop_map(|conversation_id| ChatClientFrame::Typing { conversation_id }),
        (conversation(), any::<i64>(), any::<String>()).prop_map(|(conversation_id, seq, body)| {
            ChatClientFrame::Edit {
                conversation_id,
                seq,
                body,
            }
        }),
        (conversation(), any::<i64>())
            .prop_map(|(conversation_id, seq)| ChatClientFrame::Delete { conversation_id, seq }),
        (conversation(), any::<i64>(), string(), any::<bool>()).prop_map(|(conversation_id, seq, emoji, on)| {
            ChatClientFrame::React {
                conversation_id,
                seq,
                emoji,
                on,
            }
        }),
        Just(ChatClientFrame::Ping),
    ]
}

/// Valid payloads of the events consumers see most, to mutate.
fn samples() -> Vec<(EventKind, Value)> {
    let (user, other, conversation) = (UserId::new(), UserId::new(), ConversationId::new());
    let now = "2026-01-01T00:00:00Z";
    vec![
        (
            EventKind::MessageSent,
            json!({"senderId": user, "senderUsername": "alice", "clientId": ClientId::new(), "to": other,
                   "conversationId": null, "body": "hi", "replyToSeq": 3, "attachmentIds": [AttachmentId::new()],
                   "sentAt": now, "origin": {"instance": "chat-1", "socket": 7}}),
        ),
        (
            EventKind::MessageReacted,
            json!({"conversationId": conversation, "seq": 2, "userId": user, "emoji": "👍", "on": true, "at": now, "origin": null}),
        ),
        (
            EventKind::MessageRead,
            json!({"conversationId": conversation, "userId": user, "seq": 9}),
        ),
        (
            EventKind::UserRegistered,
            json!({"userId": user, "username": "alice", "registeredAt": now}),
        ),
        (
            EventKind::PresenceHeartbeat,
            json!({"instance": "n-1", "at": now, "users": [user, other]}),
        ),
        (
            EventKind::UserSignedOut,
            json!({"userId": user, "jti": "j", "expiresAt": now, "seq": 4}),
        ),
        (
            EventKind::ReceiptUpdated,
            json!({"conversationId": conversation, "userId": user, "deliveredSeq": 3, "readSeq": 2, "recipients": [other]}),
        ),
    ]
}

/// A valid payload with one field removed or replaced by anything.
fn mutated() -> impl Strategy<Value = (EventKind, Value)> {
    (
        prop::sample::select(samples()),
        any::<prop::sample::Index>(),
        prop::option::of(value()),
    )
        .prop_map(|((kind, mut data), field, replacement)| {
            let fields = data.as_object_mut().unwrap();
            let key = fields.keys().nth(field.index(fields.len())).unwrap().clone();
            match replacement {
                Some(value) => fields.insert(key, value),
                None => fields.remove(&key),
            };
            (kind, data)
        })
}

fn envelope_like() -> impl Strategy<Value = Value> {
    prop_oneof![
        2 => random_envelope(),
        1 => mutated().prop_map(|(kind, data)| {
            json!({"id": UserId::new(), "type": kind.routing_key(), "occurredAt": "2026-01-01T00:00:00Z", "data": data})
        }),
        1 => prop::sample::select(samples()).prop_map(|(kind, data)| {
            json!({"id": UserId::new(), "type": kind.routing_key(), "occurredAt": "2026-01-01T00:00:00Z", "data": data})
        }),
    ]
}

fn random_envelope() -> impl Strategy<Value = Value> {
    let kind = prop_oneof![
        4 => prop::sample::select(EventKind::ALL).prop_map(|k| k.routing_key().to_owned()),
        1 => string(),
    ];
    let occurred = prop_oneof![
        3 => Just(json!("2026-01-01T00:00:00Z")),
        1 => string().prop_map(Value::String),
        1 => number(),
    ];
    let id = prop_oneof![3 => Just(json!(UserId::new().to_string())), 1 => value()];
    (id, kind, occurred, prop_oneof![3 => object(value()), 1 => value()]).prop_map(
        |(id, kind, occurred_at, data)| json!({"id": id, "type": kind, "occurredAt": occurred_at, "data": data}),
    )
}

proptest! {
    #[test]
    fn any_text_is_a_frame_or_an_error(text in any::<String>()) {
        let _ = serde_json::from_str::<ChatClientFrame>(&text);
    }

    #[test]
    fn frame_shaped_json_decodes_to_what_it_says_or_is_refused(frame in frame_like()) {
        let text = frame.to_string();
        let kind = frame["type"].as_str().unwrap_or_default();
        match serde_json::from_str::<ChatClientFrame>(&text) {
            Ok(decoded) => {
                let known = FRAME_TYPES.contains(&kind);
                prop_assert_eq!(decoded == ChatClientFrame::Unknown, !known, "type {} decoded as {:?}", kind, decoded);
                // Encoding what was understood and decoding it again changes nothing.
                let again: ChatClientFrame = serde_json::from_str(&serde_json::to_string(&decoded).unwrap()).unwrap();
                prop_assert_eq!(again, decoded);
            }
            Err(_) => prop_assert!(FRAME_TYPES.contains(&kind), "an unknown type is Unknown, not an error: {}", text),
        }
    }

    #[test]
    fn every_client_frame_survives_the_wire(frame in chat_frame()) {
        let text = serde_json::to_string(&frame).unwrap();
        let back: ChatClientFrame = serde_json::from_str(&text).unwrap();
        prop_assert_eq!(back, frame);
    }

    #[test]
    fn any_bytes_are_an_envelope_or_an_error(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        if let Ok(envelope) = Envelope::from_json(&bytes) {
            let _ = envelope.event();
        }
    }

    #[test]
    fn envelope_shaped_json_decodes_to_a_stable_event_or_an_error(raw in envelope_like()) {
        let Ok(envelope) = Envelope::from_json(raw.to_string().as_bytes()) else { return Ok(()) };
        // The type alone decides the kind; a type this version does not know is Unknown.
        let kind = EventKind::from_routing_key(raw["type"].as_str().unwrap_or_default());
        prop_assert_eq!(envelope.kind, kind);
        match envelope.event() {
            Ok(Event::Unknown) => prop_assert_eq!(kind, EventKind::Unknown),
            Ok(event) => {
                let again = Envelope::from_json(&envelope.to_json().unwrap()).unwrap();
                prop_assert_eq!(again.id, envelope.id);
                prop_assert_eq!(&again.event().unwrap(), &event);
                // Encoding a decoded event and decoding it again changes nothing: so a consumer
                // in the publisher's process, which gets the publisher's own value, sees what
                // one over RabbitMQ decodes from the wire.
                let wire = json!({"id": envelope.id, "type": raw["type"], "occurredAt": envelope.occurred_at, "data": &event});
                let decoded = Envelope::from_json(wire.to_string().as_bytes()).unwrap().event().unwrap();
                prop_assert_eq!(decoded, event);
            }
            Err(_) => prop_assert_ne!(kind, EventKind::Unknown),
        }
    }

    #[test]
    fn checks_of_user_input_answer_for_any_text(text in string(), files in prop::collection::vec(0u128..4, 0..12), seq in any::<i64>()) {
        let files: Vec<AttachmentId> = files.into_iter().map(|n| AttachmentId(uuid::Uuid::from_u128(n))).collect();
        if validate::body(&text, &files).is_ok() {
            prop_assert!(text.chars().count() <= gochat_proto::limits::MAX_BODY_CHARS);
            prop_assert!(files.len() <= gochat_proto::limits::MAX_ATTACHMENTS);
            prop_assert!(!files.is_empty() || !text.trim().is_empty());
        }
        if validate::emoji(&text).is_ok() {
            prop_assert!(!text.is_empty() && text.len() <= gochat_proto::limits::MAX_EMOJI_BYTES);
        }
        if let Ok(title) = validate::title(&text) {
            prop_assert!(gochat_proto::limits::TITLE_CHARS.contains(&title.chars().count()));
        }
        prop_assert_eq!(validate::seq(seq).is_ok(), seq >= 1);
    }
}

/// The samples the mutations start from are events this version decodes.
#[test]
fn the_samples_decode() {
    for (kind, data) in samples() {
        let raw = json!({"id": UserId::new(), "type": kind.routing_key(), "occurredAt": "2026-01-01T00:00:00Z", "data": data});
        let envelope = Envelope::from_json(raw.to_string().as_bytes()).unwrap();
        assert!(!matches!(envelope.event().unwrap(), Event::Unknown), "{kind:?}");
    }
}
