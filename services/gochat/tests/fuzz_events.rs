//! The durable consumers against events that decode but hold anything their fields can hold:
//! what any chat or notifications instance may publish (a buggy one, an old one, one whose
//! clock is wrong). Each event is handled (applied or refused) at once: its publish is
//! confirmed, never dead-lettered and never left retrying; and afterwards a real message still
//! goes all the way through.

#![allow(clippy::unwrap_used)] // test helpers fail loudly by design

mod common;

use chrono::{DateTime, Utc};
use common::{Client, connect_ws, next_of, send_frame};
use gochat_kit::bus::Bus;
use gochat_proto::events::{
    EventData, MessageDeleted, MessageDelivered, MessageEdited, MessageReacted, MessageRead, MessageSent, Origin,
    PresenceChanged, PresenceHeartbeat, UserOffline, UserOnline, UserRegistered, UserTyping,
};
use gochat_proto::ids::{AttachmentId, ClientId, ConversationId, UserId};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use serde_json::json;
use std::time::Duration;

/// How long an event may take to be handled: far longer than applying it takes, far shorter
/// than the retries a failing handler gets before its event is dead-lettered.
const HANDLED_WITHIN: Duration = Duration::from_secs(10);

/// Ids the server knows (users, a conversation) and ids it does not.
fn ids(known: Vec<uuid::Uuid>) -> impl Strategy<Value = uuid::Uuid> + Clone {
    prop_oneof![
        2 => prop::sample::select(known),
        1 => any::<u128>().prop_map(uuid::Uuid::from_u128),
    ]
}

/// Any time chrono can hold, and now.
fn time() -> impl Strategy<Value = DateTime<Utc>> + Clone {
    prop_oneof![
        Just(Utc::now()),
        (-8_334_601_228_800i64..8_210_266_876_799, 0u32..1_000_000_000)
            .prop_map(|(secs, nanos)| DateTime::from_timestamp(secs, nanos).unwrap()),
    ]
}

fn seq() -> impl Strategy<Value = i64> + Clone {
    prop_oneof![any::<i64>(), -2i64..6]
}

fn text() -> impl Strategy<Value = String> + Clone {
    prop_oneof![
        any::<String>(),
        Just(String::new()),
        prop::sample::select(vec!["👍", "🎉", "hello", " "]).prop_map(str::to_owned),
        ("[a-z ]{1,3}", 0usize..3000).prop_map(|(s, n)| s.repeat(n)),
    ]
}

fn origin() -> impl Strategy<Value = Option<Origin>> + Clone {
    prop::option::of((text(), any::<u64>()).prop_map(|(instance, socket)| Origin { instance, socket }))
}

/// One event of a kind some durable consumer applies, published as its publisher would.
#[derive(Clone, Debug)]
enum Published {
    Sent(MessageSent),
    Edited(MessageEdited),
    Deleted(MessageDeleted),
    Reacted(MessageReacted),
    Delivered(MessageDelivered),
    Read(MessageRead),
    Typing(UserTyping),
    Registered(UserRegistered),
    Online(UserOnline),
    Offline(UserOffline),
    Heartbeat(PresenceHeartbeat),
    Presence(PresenceChanged),
}

fn event(users: Vec<uuid::Uuid>, conversations: Vec<uuid::Uuid>) -> impl Strategy<Value = Published> {
    let user = ids(users).prop_map(UserId);
    let conversation = ids(conversations).prop_map(ConversationId);
    prop_oneof![
        (
            user.clone(),
            text(),
            prop::option::of(user.clone()),
            prop::option::of(conversation.clone()),
            text(),
            prop::option::of(seq()),
            prop::collection::vec(any::<u128>(), 0..12),
            time(),
            origin(),
        )
            .prop_map(
                |(sender_id, sender_username, to, conversation_id, body, reply_to_seq, files, sent_at, origin)| {
                    Published::Sent(MessageSent {
                        sender_id,
                        sender_username,
                        client_id: ClientId::new(),
                        to,
                        conversation_id,
                        body,
                        reply_to_seq,
                        attachment_ids: files
                            .into_iter()
                            .map(|n| AttachmentId(uuid::Uuid::from_u128(n)))
                            .collect(),
                        sent_at,
                        origin,
                    })
                }
            ),
        (conversation.clone(), seq(), user.clone(), text(), time(), origin()).prop_map(
            |(conversation_id, seq, user_id, body, at, origin)| Published::Edited(MessageEdited {
                conversation_id,
                seq,
                user_id,
                body,
                at,
                origin
            })
        ),
        (conversation.clone(), seq(), user.clone(), time(), origin()).prop_map(
            |(conversation_id, seq, user_id, at, origin)| Published::Deleted(MessageDeleted {
                conversation_id,
                seq,
                user_id,
                at,
                origin
            })
        ),
        (
            conversation.clone(),
            seq(),
            user.clone(),
            text(),
            any::<bool>(),
            time(),
            origin()
        )
            .prop_map(
                |(conversation_id, seq, user_id, emoji, on, at, origin)| Published::Reacted(MessageReacted {
                    conversation_id,
                    seq,
                    user_id,
                    emoji,
                    on,
                    at,
                    origin
                })
            ),
        (conversation.clone(), user.clone(), seq(), origin()).prop_map(|(conversation_id, user_id, seq, origin)| {
            Published::Delivered(MessageDelivered {
                conversation_id,
                user_id,
                seq,
                origin,
            })
        }),
        (conversation.clone(), user.clone(), seq(), origin()).prop_map(|(conversation_id, user_id, seq, origin)| {
            Published::Read(MessageRead {
                conversation_id,
                user_id,
                seq,
                origin,
            })
        }),
        (conversation, user.clone(), origin()).prop_map(|(conversation_id, user_id, origin)| {
            Published::Typing(UserTyping {
                conversation_id,
                user_id,
                origin,
            })
        }),
        (user.clone(), text(), time()).prop_map(|(user_id, username, registered_at)| Published::Registered(
            UserRegistered {
                user_id,
                username,
                registered_at
            }
        )),
        (user.clone(), text(), time()).prop_map(|(user_id, instance, at)| Published::Online(UserOnline {
            user_id,
            instance,
            at
        })),
        (user.clone(), text(), time()).prop_map(|(user_id, instance, at)| Published::Offline(UserOffline {
            user_id,
            instance,
            at
        })),
        (text(), time(), prop::collection::vec(user.clone(), 0..5))
            .prop_map(|(instance, at, users)| { Published::Heartbeat(PresenceHeartbeat { instance, at, users }) }),
        (user, text(), any::<bool>(), prop::option::of(time())).prop_map(
            |(user_id, username, online, last_seen_at)| {
                Published::Presence(PresenceChanged {
                    user_id,
                    username,
                    online,
                    last_seen_at,
                })
            }
        ),
    ]
}

/// Publishes `event` and waits until every durable consumer of it has handled it.
async fn handled<E: EventData + std::fmt::Debug>(bus: &Bus, event: &E) -> Result<(), TestCaseError> {
    let confirm = bus
        .publish_now(event)
        .await
        .map_err(|e| TestCaseError::fail(format!("not published: {e}")))?;
    match tokio::time::timeout(HANDLED_WITHIN, confirm).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(TestCaseError::fail(format!("dead-lettered ({e}): {event:?}"))),
        Err(_) => Err(TestCaseError::fail(format!(
            "not handled within {HANDLED_WITHIN:?} (its handler keeps failing): {event:?}"
        ))),
    }
}

async fn publish(bus: &Bus, event: Published) -> Result<(), TestCaseError> {
    match event {
        Published::Sent(e) => handled(bus, &e).await,
        Published::Edited(e) => handled(bus, &e).await,
        Published::Deleted(e) => handled(bus, &e).await,
        Published::Reacted(e) => handled(bus, &e).await,
        Published::Delivered(e) => handled(bus, &e).await,
        Published::Read(e) => handled(bus, &e).await,
        Published::Typing(e) => handled(bus, &e).await,
        Published::Registered(e) => handled(bus, &e).await,
        Published::Online(e) => handled(bus, &e).await,
        Published::Offline(e) => handled(bus, &e).await,
        Published::Heartbeat(e) => handled(bus, &e).await,
        Published::Presence(e) => handled(bus, &e).await,
    }
}

#[test]
fn consumers_handle_any_decodable_event_at_once_and_keep_working() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let server = rt.block_on(common::start_all_in_one(dir.path(), None, None));
    let (mut alice, bob_id, users, conversations) = rt.block_on(async {
        let mut alice = Client::new(&server);
        let alice_id: uuid::Uuid = alice.signup("alice").await.parse().unwrap();
        let bob_id = Client::new(&server).signup("bob").await;
        let (_, direct) = alice.post("/api/conversations", json!({"peerId": bob_id})).await;
        let direct: uuid::Uuid = direct["conversation"]["id"].as_str().unwrap().parse().unwrap();
        let (_, group) = alice
            .post("/api/conversations", json!({"title": "g", "memberIds": [bob_id]}))
            .await;
        let group: uuid::Uuid = group["conversation"]["id"].as_str().unwrap().parse().unwrap();
        let bob: uuid::Uuid = bob_id.parse().unwrap();
        (alice, bob_id, vec![alice_id, bob], vec![direct, group])
    });
    let bus = server.runtime.bus.clone();
    common::fuzz::run(&rt, event(users, conversations), |event| publish(&bus, event));

    // Everything still works: alice's message reaches her socket stored, and the list shows it.
    rt.block_on(async {
        let mut tab = connect_ws(&server.url(""), "/ws/chat", alice.cookie.as_deref(), None)
            .await
            .unwrap();
        let frame = json!({"type": "send", "clientId": uuid::Uuid::new_v4(), "to": bob_id, "body": "still here"});
        send_frame(&mut tab, frame).await;
        let stored = next_of(&mut tab, "message", HANDLED_WITHIN).await;
        assert_eq!(stored["message"]["body"], "still here");
        let (status, _) = alice.get("/api/users").await;
        assert_eq!(status, 200);
    });
    rt.block_on(server.stop()).unwrap();
}
