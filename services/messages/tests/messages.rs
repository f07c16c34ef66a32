//! The messages service against a real server on port 0, a real SQLite file in a temporary
//! directory and the in-process bus. Input events are published on the bus; output events are
//! read from a fan-out queue of the test's own; HTTP goes through the real router with a real
//! session cookie. Nothing sleeps: every wait is for an event or a confirm, with a time bound.

use gochat_kit::bus::{Queue, handler};
use gochat_kit::testing::TestServer;
use gochat_proto::dto::{Conversation, ConversationResponse, ConversationsResponse, DirectConversation, MessagesPage};
use gochat_proto::error::ErrorCode;
use gochat_proto::events::{
    Envelope, Event, EventData, EventKind, MessageDelivered, MessageEdited, MessageRead, MessageSent, Origin, Resent,
    UserRegistered,
};
use gochat_proto::ids::{ClientId, ConversationId, UserId};
use gochat_proto::topology::USERS;
use reqwest::StatusCode;
use serde_json::json;
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// Longest any single wait in these tests may take.
const WAIT: Duration = Duration::from_secs(20);

/// What the messages service publishes, as the test sees it.
const OUTPUTS: &[EventKind] = &[
    EventKind::MessageStored,
    EventKind::MessageRejected,
    EventKind::ReceiptUpdated,
    EventKind::ConversationUpdated,
    EventKind::MessageUpdated,
];

struct Harness {
    server: TestServer,
    events: mpsc::UnboundedReceiver<Arc<Envelope>>,
    http: reqwest::Client,
    _dir: tempfile::TempDir,
}

#[derive(Clone)]
struct User {
    id: UserId,
    cookie: String,
}

impl Harness {
    async fn start() -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let settings = TestServer::settings(dir.path(), None);
        let server = TestServer::start(settings, None, |runtime| {
            gochat_messages::build(runtime, Default::default())
        })
        .await
        .expect("the service starts");
        let (tx, events) = mpsc::unbounded_channel();
        let runtime = &server.runtime;
        runtime.bus.consume(
            Queue::fanout("test", "t1", "outputs", OUTPUTS),
            handler(move |envelope| {
                let tx = tx.clone();
                async move {
                    let _ = tx.send(envelope);
                    Ok(())
                }
            }),
            &runtime.tasks,
            runtime.shutdown.clone(),
        );
        // `user.registered` also goes to the users service's durable queue, and the in-process
        // bus confirms a publish once every durable queue acknowledged it: stand in for the users
        // service so the test's publishes are confirmed.
        let db = runtime.databases().pop().expect("the messages database is open");
        runtime.bus.consume(
            Queue::shared(&USERS, &db),
            handler(|_| async { Ok(()) }),
            &runtime.tasks,
            runtime.shutdown.clone(),
        );
        Self {
            server,
            events,
            http: reqwest::Client::new(),
            _dir: dir,
        }
    }

    /// A registered user (known to the service through `user.registered`) with a session cookie.
    async fn user(&self, name: &str) -> User {
        let id = UserId::new();
        self.publish(&UserRegistered {
            user_id: id,
            username: name.into(),
            registered_at: chrono::Utc::now(),
        })
        .await;
        let (token, _) = self
            .server
            .runtime
            .keys
            .issue(id, name, Duration::from_secs(3600))
            .expect("a token is issued");
        User {
            id,
            cookie: format!("auth={token}"),
        }
    }

    /// Publishes an event and waits until the service has applied it (the in-process bus confirms
    /// a publish once the durable queue's consumer acknowledged it, which is after its commit).
    async fn publish<E: EventData>(&self, event: &E) {
        let confirm = self
            .server
            .runtime
            .bus
            .publish_now(event)
            .await
            .expect("the bus takes the event");
        tokio::time::timeout(WAIT, confirm)
            .await
            .expect("the event is applied in time")
            .expect("the event is confirmed");
    }

    async fn publish_envelope(&self, envelope: &Envelope) {
        let json = envelope.to_json().expect("an envelope serializes");
        let confirm = self
            .server
            .runtime
            .bus
            .publish(Arc::new(envelope.clone()), json)
            .await
            .expect("the bus takes the event");
        tokio::time::timeout(WAIT, confirm)
            .await
            .expect("the event is applied in time")
            .expect("the event is confirmed");
    }

    async fn send(&self, from: &User, to: &User, body: &str) -> ClientId {
        let client_id = ClientId::new();
        self.publish(&sent(from, Some(to.id), None, client_id, body)).await;
        client_id
    }

    /// The next event the service published.
    async fn next(&mut self) -> Event {
        let envelope = tokio::time::timeout(WAIT, self.events.recv())
            .await
            .expect("an event in time")
            .expect("the event stream is open");
        envelope.event().expect("the service publishes well-formed events")
    }

    /// Skips events until `pick` accepts one.
    async fn next_where<T>(&mut self, mut pick: impl FnMut(Event) -> Option<T>) -> T {
        loop {
            if let Some(found) = pick(self.next().await) {
                return found;
            }
        }
    }

    /// Proves that nothing was published since the last event read: sends a marker message and
    /// checks that the very next event is the marker's (the outbox publishes in commit order).
    async fn assert_nothing_published(&mut self, a: &User, b: &User) {
        let marker = self.send(a, b, "marker").await;
        match self.next().await {
            Event::MessageStored(e) if e.message.client_id == marker => {}
            other => panic!("expected only the marker's message.stored, got {other:?}"),
        }
    }

    async fn get(&self, user: &User, path: &str) -> reqwest::Response {
        self.http
            .get(self.server.url(path))
            .header("cookie", &user.cookie)
            .send()
            .await
            .expect("the server answers")
    }

    async fn direct(&self, user: &User) -> Vec<DirectConversation> {
        self.conversations(user)
            .await
            .into_iter()
            .map(|c| match c {
                Conversation::Direct(d) => d,
                Conversation::Group(g) => panic!("only direct conversations here, got {g:?}"),
            })
            .collect()
    }

    async fn conversations(&self, user: &User) -> Vec<Conversation> {
        let response = self.get(user, "/api/conversations").await;
        assert_eq!(response.status(), StatusCode::OK);
        response
            .json::<ConversationsResponse>()
            .await
            .expect("a conversation list")
            .conversations
    }

    async fn page(&self, user: &User, conversation: ConversationId, query: &str) -> MessagesPage {
        let response = self
            .get(user, &format!("/api/conversations/{conversation}/messages{query}"))
            .await;
        assert_eq!(response.status(), StatusCode::OK, "{query}");
        response.json().await.expect("a page of messages")
    }

    async fn open(&self, user: &User, peer: serde_json::Value) -> reqwest::Response {
        self.http
            .post(self.server.url("/api/conversations"))
            .header("cookie", &user.cookie)
            .json(&json!({ "peerId": peer }))
            .send()
            .await
            .expect("the server answers")
    }
}

fn sent(
    from: &User,
    to: Option<UserId>,
    conversation: Option<ConversationId>,
    client_id: ClientId,
    body: &str,
) -> MessageSent {
    MessageSent {
        sender_id: from.id,
        sender_username: String::new(),
        client_id,
        to,
        conversation_id: conversation,
        body: body.into(),
        reply_to_seq: None,
        attachment_ids: Vec::new(),
        sent_at: chrono::Utc::now(),
        origin: None,
    }
}

async fn error_code(response: reqwest::Response) -> String {
    let body: serde_json::Value = response.json().await.expect("an error body");
    body["error"]["code"].as_str().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn seq_runs_one_to_n_without_gaps_under_a_burst_from_both_sides() {
    let mut h = Harness::start().await;
    let (a, b) = (h.user("alice").await, h.user("bob").await);
    let mut client_ids = HashSet::new();
    let mut confirms = Vec::new();
    for i in 0..200 {
        let (from, to) = if i % 2 == 0 { (&a, &b) } else { (&b, &a) };
        let client_id = ClientId::new();
        client_ids.insert(client_id);
        let event = sent(from, Some(to.id), None, client_id, &format!("message {i}"));
        confirms.push(h.server.runtime.bus.publish_now(&event).await.unwrap());
    }
    for confirm in confirms {
        tokio::time::timeout(WAIT, confirm).await.unwrap().unwrap();
    }

    let (mut stored, mut created, mut conversations) = (Vec::new(), 0, HashSet::new());
    while stored.len() < 200 {
        match h.next().await {
            Event::MessageStored(e) => {
                conversations.insert(e.message.conversation_id);
                stored.push(e.message.seq);
            }
            Event::ConversationUpdated(_) => created += 1,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(stored, (1..=200).collect::<Vec<_>>(), "stored in seq order, 1..200");
    assert_eq!((created, conversations.len()), (1, 1), "one conversation for the pair");
    let conversation = *conversations.iter().next().unwrap();

    let mut history = Vec::new();
    let mut after = 0;
    loop {
        let page = h.page(&b, conversation, &format!("?after={after}&limit=100")).await;
        history.extend(page.messages.iter().map(|m| (m.seq, m.client_id)));
        match page.messages.last() {
            Some(last) if page.has_more => after = last.seq,
            _ => break,
        }
    }
    assert_eq!(
        history.iter().map(|(seq, _)| *seq).collect::<Vec<_>>(),
        (1..=200).collect::<Vec<_>>()
    );
    assert_eq!(history.iter().map(|(_, c)| *c).collect::<HashSet<_>>(), client_ids);
    let listed = h.direct(&a).await;
    // Alice sent 199 (which also read everything before it); bob sent the last one.
    assert_eq!((listed.len(), listed[0].last_seq, listed[0].unread), (1, 200, 1));
}

#[tokio::test]
async fn the_same_client_id_twice_makes_one_message() {
    let mut h = Harness::start().await;
    let (a, b) = (h.user("alice").await, h.user("bob").await);
    let client_id = ClientId::new();
    h.publish(&sent(&a, Some(b.id), None, client_id, "hello")).await;
    let first = h
        .next_where(|e| {
            if let Event::MessageStored(e) = e {
                Some(e.message)
            } else {
                None
            }
        })
        .await;
    // A resend (another event, same clientId), even with another body: the stored message again.
    h.publish(&sent(&a, Some(b.id), None, client_id, "hello again")).await;
    let again = h
        .next_where(|e| {
            if let Event::MessageStored(e) = e {
                Some(e.message)
            } else {
                None
            }
        })
        .await;
    assert_eq!(again, first);

    let third = h.send(&a, &b, "next").await;
    let next = h
        .next_where(|e| {
            if let Event::MessageStored(e) = e {
                Some(e.message)
            } else {
                None
            }
        })
        .await;
    assert_eq!((next.client_id, next.seq), (third, 2));
    let page = h.page(&b, first.conversation_id, "").await;
    assert_eq!(
        page.messages.iter().map(|m| m.body.as_str()).collect::<Vec<_>>(),
        ["hello", "next"]
    );
}

#[tokio::test]
async fn history_pages_back_and_forth_return_each_message_once() {
    let h = Harness::start().await;
    let (a, b) = (h.user("alice").await, h.user("bob").await);
    for i in 1..=45 {
        let (from, to) = if i % 3 == 0 { (&b, &a) } else { (&a, &b) };
        h.send(from, to, &format!("m{i}")).await;
    }
    let conversation = h.direct(&a).await[0].id;

    let newest = h.page(&a, conversation, "?limit=10").await;
    assert!(newest.has_more);
    let mut back: Vec<i64> = newest.messages.iter().map(|m| m.seq).collect();
    assert_eq!(back, (36..=45).collect::<Vec<_>>());
    while let Some(first) = back.first().copied().filter(|s| *s > 1) {
        let page = h.page(&b, conversation, &format!("?before={first}&limit=10")).await;
        back.splice(0..0, page.messages.iter().map(|m| m.seq));
        assert_eq!(page.has_more, back[0] > 1);
    }
    assert_eq!(back, (1..=45).collect::<Vec<_>>());

    let mut forth = Vec::new();
    let mut after = 0;
    loop {
        let page = h.page(&a, conversation, &format!("?after={after}&limit=7")).await;
        forth.extend(page.messages.iter().map(|m| m.seq));
        match page.messages.last() {
            Some(last) if page.has_more => after = last.seq,
            _ => break,
        }
    }
    assert_eq!(forth, (1..=45).collect::<Vec<_>>());
    let default_page = h.page(&a, conversation, "").await;
    assert_eq!(default_page.messages.len(), 45);
    assert!(!default_page.has_more);

    // The cached newest page is replaced as soon as a message is stored.
    h.send(&b, &a, "m46").await;
    let newest = h.page(&a, conversation, "?limit=10").await;
    assert_eq!(newest.messages.last().map(|m| m.body.as_str()), Some("m46"));
    assert_eq!(h.page(&a, conversation, "").await.messages.len(), 46);

    for bad in ["?limit=0", "?limit=101", "?limit=ten", "?before=3&after=1", "?before=x"] {
        let response = h
            .get(&a, &format!("/api/conversations/{conversation}/messages{bad}"))
            .await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{bad}");
        assert_eq!(error_code(response).await, "invalid_input");
    }
}

#[tokio::test]
async fn conversation_list_and_unread_counts_before_and_after_reading() {
    let mut h = Harness::start().await;
    let (a, b, c) = (h.user("alice").await, h.user("bob").await, h.user("carol").await);
    for i in 1..=3 {
        h.send(&a, &b, &format!("m{i}")).await;
    }
    let for_b = h.direct(&b).await;
    assert_eq!(for_b.len(), 1);
    let ab = &for_b[0];
    assert_eq!((ab.peer.id, ab.peer.username.as_str()), (a.id, "alice"));
    assert_eq!((ab.last_seq, ab.unread, ab.my_read_seq), (3, 3, 0));
    assert_eq!(ab.last_message.as_ref().map(|m| m.body.as_str()), Some("m3"));
    let for_a = h.direct(&a).await;
    assert_eq!(
        (for_a[0].unread, for_a[0].my_read_seq),
        (0, 3),
        "your own messages are never unread"
    );
    assert_eq!((for_a[0].peer_delivered_seq, for_a[0].peer_read_seq), (0, 0));

    let conversation = ab.id;
    h.publish(&delivered(conversation, &b, 3)).await;
    h.publish(&read(conversation, &b, 2)).await;
    let receipts: Vec<(UserId, i64, i64)> = {
        let mut found = Vec::new();
        while found.len() < 2 {
            if let Event::ReceiptUpdated(e) = h.next().await
                && e.user_id == b.id
            {
                assert_eq!(
                    e.recipients.iter().copied().collect::<HashSet<_>>(),
                    HashSet::from([a.id, b.id])
                );
                found.push((e.user_id, e.delivered_seq, e.read_seq));
            }
        }
        found
    };
    assert_eq!(receipts, [(b.id, 3, 0), (b.id, 3, 2)]);
    let ab = &h.direct(&b).await[0];
    assert_eq!((ab.unread, ab.my_read_seq), (1, 2));
    let seen_by_a = &h.direct(&a).await[0];
    assert_eq!((seen_by_a.peer_delivered_seq, seen_by_a.peer_read_seq), (3, 2));

    // Most recent activity first: a new conversation comes first until the old one has news.
    let response = h.open(&a, json!(c.id)).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let ac = response.json::<ConversationResponse>().await.unwrap().conversation;
    assert_eq!(
        h.conversations(&a)
            .await
            .iter()
            .map(Conversation::id)
            .collect::<Vec<_>>(),
        [ac.id(), conversation]
    );
    h.send(&b, &a, "news").await;
    assert_eq!(
        h.conversations(&a)
            .await
            .iter()
            .map(Conversation::id)
            .collect::<Vec<_>>(),
        [conversation, ac.id()]
    );
    assert_eq!(h.direct(&a).await[0].unread, 1);
}

fn delivered(conversation: ConversationId, user: &User, seq: i64) -> MessageDelivered {
    MessageDelivered {
        conversation_id: conversation,
        user_id: user.id,
        seq,
        origin: None,
    }
}

fn read(conversation: ConversationId, user: &User, seq: i64) -> MessageRead {
    MessageRead {
        conversation_id: conversation,
        user_id: user.id,
        seq,
        origin: None,
    }
}

#[tokio::test]
async fn watermarks_never_go_backwards_and_read_implies_delivered() {
    let mut h = Harness::start().await;
    let (a, b, c) = (h.user("alice").await, h.user("bob").await, h.user("carol").await);
    for i in 1..=3 {
        h.send(&a, &b, &format!("m{i}")).await;
    }
    let conversation = h.direct(&b).await[0].id;
    while !matches!(h.next().await, Event::MessageStored(e) if e.message.seq == 3) {}

    h.publish(&read(conversation, &b, 2)).await;
    let Event::ReceiptUpdated(e) = h.next().await else {
        panic!("a receipt")
    };
    assert_eq!(
        (e.user_id, e.delivered_seq, e.read_seq),
        (b.id, 2, 2),
        "read implies delivered"
    );

    // Lower or equal values: nothing.
    h.publish(&delivered(conversation, &b, 1)).await;
    h.publish(&read(conversation, &b, 2)).await;
    h.assert_nothing_published(&a, &b).await; // the marker is message 4
    // A receipt from a non-member, or for no conversation: refused, nothing moves.
    for (conversation, user) in [(conversation, &c), (ConversationId::new(), &b)] {
        h.publish(&read(conversation, user, 3)).await;
        let Event::MessageRejected(e) = h.next().await else {
            panic!("a refusal")
        };
        assert_eq!((e.user_id, e.code, e.client_id), (user.id, ErrorCode::NotFound, None));
    }
    let ab = &h.direct(&b).await[0];
    assert_eq!((ab.my_read_seq, ab.unread), (2, 2));

    // Beyond the last seq: clamped to it.
    h.publish(&read(conversation, &b, 1000)).await;
    let Event::ReceiptUpdated(e) = h.next().await else {
        panic!("a receipt")
    };
    assert_eq!((e.user_id, e.delivered_seq, e.read_seq), (b.id, 4, 4));
}

#[tokio::test]
async fn a_message_to_an_unknown_user_or_yourself_or_without_text_is_rejected() {
    let mut h = Harness::start().await;
    let a = h.user("alice").await;
    let b = h.user("bob").await;
    for (to, body, code) in [
        (UserId::new(), "hi", ErrorCode::NotFound),
        (a.id, "hi", ErrorCode::InvalidInput),
        (b.id, "   ", ErrorCode::InvalidInput),
        (b.id, &"x".repeat(4001), ErrorCode::InvalidInput),
    ] {
        let client_id = ClientId::new();
        h.publish(&sent(&a, Some(to), None, client_id, body)).await;
        let Event::MessageRejected(e) = h.next().await else {
            panic!("a rejection")
        };
        assert_eq!((e.user_id, e.client_id, e.code), (a.id, Some(client_id), code));
        assert!(!e.reason.is_empty());
    }
    h.publish(&sent(&a, None, None, ClientId::new(), "to nobody")).await;
    assert!(matches!(h.next().await, Event::MessageRejected(_)));
    assert!(h.conversations(&a).await.is_empty());
}

#[tokio::test]
async fn sending_into_someone_elses_conversation_is_rejected() {
    let mut h = Harness::start().await;
    let (a, b, c) = (h.user("alice").await, h.user("bob").await, h.user("carol").await);
    h.send(&a, &b, "private").await;
    let conversation = h.direct(&a).await[0].id;
    // By conversation id, as a member: fine.
    h.publish(&sent(&b, None, Some(conversation), ClientId::new(), "reply"))
        .await;
    for (from, target) in [(&c, conversation), (&a, ConversationId::new())] {
        let client_id = ClientId::new();
        h.publish(&sent(from, None, Some(target), client_id, "intrusion")).await;
        let rejection = h
            .next_where(|e| {
                if let Event::MessageRejected(e) = e {
                    Some(e)
                } else {
                    None
                }
            })
            .await;
        assert_eq!(
            (rejection.user_id, rejection.client_id, rejection.code),
            (from.id, Some(client_id), ErrorCode::NotFound)
        );
    }
    let page = h.page(&a, conversation, "").await;
    assert_eq!(
        page.messages.iter().map(|m| m.body.as_str()).collect::<Vec<_>>(),
        ["private", "reply"]
    );
    assert!(h.conversations(&c).await.is_empty());
}

#[tokio::test]
async fn someone_elses_conversation_is_not_found() {
    let h = Harness::start().await;
    let (a, b, c) = (h.user("alice").await, h.user("bob").await, h.user("carol").await);
    h.send(&a, &b, "private").await;
    let conversation = h.direct(&a).await[0].id;
    // Cached for alice first: the cache must not answer carol.
    assert_eq!(h.page(&a, conversation, "").await.messages.len(), 1);
    for path in [
        format!("/api/conversations/{conversation}/messages"),
        format!("/api/conversations/{conversation}/changes"),
        format!("/api/conversations/{}/messages", ConversationId::new()),
        "/api/conversations/not-an-id/messages".to_owned(),
    ] {
        let response = h.get(&c, &path).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
        assert_eq!(error_code(response).await, "not_found");
    }
    let anonymous = h
        .http
        .get(h.server.url(&format!("/api/conversations/{conversation}/messages")))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    let anonymous = h.http.get(h.server.url("/api/conversations")).send().await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn opening_a_conversation_is_idempotent() {
    let mut h = Harness::start().await;
    let (a, b) = (h.user("alice").await, h.user("bob").await);
    let response = h.open(&a, json!(b.id)).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let Conversation::Direct(created) = response.json::<ConversationResponse>().await.unwrap().conversation else {
        panic!("a direct conversation")
    };
    assert_eq!(
        (created.peer.id, created.last_seq, created.unread, created.last_message),
        (b.id, 0, 0, None)
    );
    let Event::ConversationUpdated(e) = h.next().await else {
        panic!("conversation.updated")
    };
    assert_eq!(e.conversation.id, created.id);
    assert_eq!(
        e.conversation.member_ids().into_iter().collect::<HashSet<_>>(),
        HashSet::from([a.id, b.id])
    );
    assert!(e.removed.is_empty());

    for (user, peer) in [(&a, &b), (&b, &a)] {
        let response = h.open(user, json!(peer.id)).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(
            response.json::<ConversationResponse>().await.unwrap().conversation.id(),
            created.id
        );
    }
    // A first message by recipient lands in the same conversation; no second announcement.
    h.send(&b, &a, "hi").await;
    let Event::MessageStored(e) = h.next().await else {
        panic!("message.stored")
    };
    assert_eq!(e.message.conversation_id, created.id);

    let yourself = h.open(&a, json!(a.id)).await;
    assert_eq!(yourself.status(), StatusCode::BAD_REQUEST);
    let unknown = h.open(&a, json!(UserId::new())).await;
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    assert_eq!(error_code(unknown).await, "not_found");
    let malformed = h.open(&a, json!("bob")).await;
    assert_eq!(malformed.status(), StatusCode::BAD_REQUEST);
    h.assert_nothing_published(&a, &b).await;
}

#[tokio::test]
async fn a_redelivered_event_applies_nothing_twice() {
    let mut h = Harness::start().await;
    let (a, b) = (h.user("alice").await, h.user("bob").await);
    let client_id = ClientId::new();
    let envelope = Envelope::new(&sent(&a, Some(b.id), None, client_id, "once")).unwrap();
    h.publish_envelope(&envelope).await;
    assert!(matches!(h.next().await, Event::ConversationUpdated(_)));
    let Event::MessageStored(first) = h.next().await else {
        panic!("message.stored")
    };
    assert_eq!((&first.resent, first.members.len()), (&None, 2));
    // The same event again: no second message; the stored one (same id, seq) answers the
    // sender alone (on every socket: the event names none).
    h.publish_envelope(&envelope).await;
    let Event::MessageStored(again) = h.next().await else {
        panic!("message.stored")
    };
    assert_eq!(again.message, first.message);
    assert_eq!(
        (again.resent, again.members),
        (Some(Resent { origin: None }), vec![a.id])
    );
    // The same send repeated from another socket: answered there.
    let origin = Origin {
        instance: "chat-b".into(),
        socket: 7,
    };
    h.publish(&MessageSent {
        origin: Some(origin.clone()),
        ..sent(&a, Some(b.id), None, client_id, "once")
    })
    .await;
    let Event::MessageStored(repeat) = h.next().await else {
        panic!("message.stored")
    };
    assert_eq!(repeat.message, first.message);
    assert_eq!(repeat.resent, Some(Resent { origin: Some(origin) }));
    h.assert_nothing_published(&a, &b).await;

    let conversation = first.message.conversation_id;
    let read = Envelope::new(&read(conversation, &b, 1)).unwrap();
    h.publish_envelope(&read).await;
    assert!(matches!(h.next().await, Event::ReceiptUpdated(e) if e.read_seq == 1));
    h.publish_envelope(&read).await;
    h.assert_nothing_published(&a, &b).await;
    assert_eq!(
        h.page(&b, conversation, "").await.messages.len(),
        3,
        "the message and two markers"
    );

    // An edit redelivered after a newer one does not bring the older text back.
    let first_edit = Envelope::new(&edit(conversation, &a, 1, "edited once")).unwrap();
    h.publish_envelope(&first_edit).await;
    h.publish(&edit(conversation, &a, 1, "edited twice")).await;
    h.publish_envelope(&first_edit).await;
    for want in ["edited once", "edited twice"] {
        let Event::MessageUpdated(e) = h.next().await else {
            panic!("message.updated")
        };
        assert_eq!(e.message.body, want);
    }
    h.assert_nothing_published(&a, &b).await;
    assert_eq!(h.page(&b, conversation, "").await.messages[0].body, "edited twice");
}

fn edit(conversation: ConversationId, user: &User, seq: i64, body: &str) -> MessageEdited {
    MessageEdited {
        conversation_id: conversation,
        seq,
        user_id: user.id,
        body: body.into(),
        at: chrono::Utc::now(),
        origin: None,
    }
}
