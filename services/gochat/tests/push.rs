//! Web Push to closed tabs, against a push service of the test's own on 127.0.0.1 (listed in
//! the insecure hosts): the test plays the browser, decrypting what arrives with the
//! subscription's private key (RFC 8291, the receiving side) and checking the VAPID token
//! (RFC 8292) against the key the server publishes.

#![allow(clippy::unwrap_used)] // test helpers fail loudly by design

mod common;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::{Client, Socket, eventually, next_of, send_frame, signed_up, socket};
use gochat_kit::testing::TestServer;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

const WAIT: Duration = Duration::from_secs(20);

// ----- a push service -------------------------------------------------------------------------

/// What the push service saw.
#[derive(Debug)]
enum Seen {
    Push(Push),
    /// The sender gave up on a push this service never answered (it closed the connection).
    Abandoned(String),
}

#[derive(Debug)]
struct Push {
    path: String,
    headers: HashMap<String, String>,
    body: Vec<u8>,
}

/// A push service on 127.0.0.1: `/gone/…` answers 410, `/hang/…` never answers, anything else
/// 201. Every request and every abandoned one is reported, in order.
struct PushService {
    addr: SocketAddr,
    seen: mpsc::UnboundedReceiver<Seen>,
}

impl PushService {
    async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, seen) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                tokio::spawn(serve(socket, tx.clone()));
            }
        });
        Self { addr, seen }
    }

    fn endpoint(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    async fn next(&mut self) -> Seen {
        tokio::time::timeout(WAIT, self.seen.recv())
            .await
            .expect("the push service heard something in time")
            .expect("the push service runs")
    }

    async fn next_push(&mut self) -> Push {
        match self.next().await {
            Seen::Push(push) => push,
            other => panic!("expected a push, got {other:?}"),
        }
    }

    /// Nothing more was seen so far.
    fn quiet(&mut self) -> bool {
        self.seen.try_recv().is_err()
    }
}

/// One connection, HTTP/1.1 with keep-alive: just enough of it for a push sender.
async fn serve(mut socket: TcpStream, seen: mpsc::UnboundedSender<Seen>) {
    let mut buf = Vec::new();
    loop {
        let head_end = loop {
            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            let mut chunk = [0u8; 4096];
            match socket.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
        let mut lines = head.lines();
        let path = lines.next().unwrap().split(' ').nth(1).unwrap().to_owned();
        let headers: HashMap<String, String> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
            .collect();
        let length: usize = headers.get("content-length").map_or(0, |l| l.parse().unwrap());
        while buf.len() < head_end + length {
            let mut chunk = [0u8; 4096];
            match socket.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
        let body = buf[head_end..head_end + length].to_vec();
        buf.drain(..head_end + length);
        let _ = seen.send(Seen::Push(Push {
            path: path.clone(),
            headers,
            body,
        }));
        let status = if path.starts_with("/gone/") {
            "410 Gone"
        } else if path.starts_with("/hang/") {
            // Hold the request until the sender gives up and closes the connection.
            let mut rest = [0u8; 1024];
            while matches!(socket.read(&mut rest).await, Ok(n) if n > 0) {}
            let _ = seen.send(Seen::Abandoned(path));
            return;
        } else {
            "201 Created"
        };
        let answer = format!("HTTP/1.1 {status}\r\ncontent-length: 0\r\n\r\n");
        if socket.write_all(answer.as_bytes()).await.is_err() {
            return;
        }
    }
}

// ----- a browser ------------------------------------------------------------------------------

/// The keys a browser makes when it subscribes, and what it does with a push.
struct Browser {
    secret: p256::SecretKey,
    auth: [u8; 16],
}

impl Browser {
    fn new(seed: u8) -> Self {
        Self {
            secret: p256::SecretKey::from_slice(&[seed; 32]).unwrap(),
            auth: [seed.wrapping_add(1); 16],
        }
    }

    fn public(&self) -> Vec<u8> {
        use p256::elliptic_curve::sec1::ToEncodedPoint;
        self.secret.public_key().to_encoded_point(false).as_bytes().to_vec()
    }

    fn subscription(&self, endpoint: &str) -> Value {
        json!({"endpoint": endpoint, "keys": {"p256dh": URL_SAFE_NO_PAD.encode(self.public()), "auth": URL_SAFE_NO_PAD.encode(self.auth)}})
    }

    /// RFC 8291 from the receiving side: the sender's key and salt from the header, the shared
    /// secret with our private key, the content key and nonce, then AES-128-GCM and the padding.
    fn decrypt(&self, body: &[u8]) -> Value {
        use aes_gcm::aead::{Aead, KeyInit};
        use hkdf::Hkdf;
        use sha2::Sha256;
        let salt = &body[..16];
        let record_size = u32::from_be_bytes(body[16..20].try_into().unwrap()) as usize;
        let id_len = body[20] as usize;
        let sender_public = &body[21..21 + id_len];
        let ciphertext = &body[21 + id_len..];
        assert!(ciphertext.len() <= record_size, "one record");
        let sender = p256::PublicKey::from_sec1_bytes(sender_public).unwrap();
        let shared = p256::ecdh::diffie_hellman(self.secret.to_nonzero_scalar(), sender.as_affine());
        let key_info = [b"WebPush: info\0".as_slice(), &self.public(), sender_public].concat();
        let mut ikm = [0u8; 32];
        Hkdf::<Sha256>::new(Some(&self.auth), shared.raw_secret_bytes())
            .expand(&key_info, &mut ikm)
            .unwrap();
        let prk = Hkdf::<Sha256>::new(Some(salt), &ikm);
        let (mut cek, mut nonce) = ([0u8; 16], [0u8; 12]);
        prk.expand(b"Content-Encoding: aes128gcm\0", &mut cek).unwrap();
        prk.expand(b"Content-Encoding: nonce\0", &mut nonce).unwrap();
        let mut plain = aes_gcm::Aes128Gcm::new_from_slice(&cek)
            .unwrap()
            .decrypt(&nonce.into(), ciphertext)
            .expect("the push decrypts with the subscription's key");
        while plain.last() == Some(&0) {
            plain.pop();
        }
        assert_eq!(plain.pop(), Some(2), "the last record's delimiter");
        serde_json::from_slice(&plain).unwrap()
    }
}

/// Checks the VAPID `Authorization` of a push: the server's public key, a token for this push
/// service's origin, not expired and valid at most a day, from `contact`, signed by that key.
fn check_vapid(push: &Push, server_key: &str, audience: &str, contact: &str) {
    use p256::ecdsa::signature::Verifier;
    use p256::ecdsa::{Signature, VerifyingKey};
    let authorization = &push.headers["authorization"];
    let (token, k) = authorization
        .strip_prefix("vapid t=")
        .and_then(|rest| rest.split_once(", k="))
        .unwrap_or_else(|| panic!("not a vapid authorization: {authorization}"));
    assert_eq!(k, server_key);
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3, "{token}");
    let header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap();
    assert_eq!(header["alg"], "ES256");
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    assert_eq!((&claims["aud"], &claims["sub"]), (&json!(audience), &json!(contact)));
    let now = chrono::Utc::now().timestamp();
    let exp = claims["exp"].as_i64().unwrap();
    assert!(exp > now && exp <= now + 24 * 3600, "exp {exp}, now {now}");
    let key = VerifyingKey::from_sec1_bytes(&URL_SAFE_NO_PAD.decode(k).unwrap()).unwrap();
    let signature = Signature::from_slice(&URL_SAFE_NO_PAD.decode(parts[2]).unwrap()).unwrap();
    key.verify(format!("{}.{}", parts[0], parts[1]).as_bytes(), &signature)
        .expect("signed by the server's VAPID key");
}

// ----- the site -------------------------------------------------------------------------------

/// All in one, with pushes to `push_service` allowed and a short push timeout.
/// A push service, and GoChat on a fresh data directory that may send to it.
async fn start() -> (PushService, tempfile::TempDir, TestServer) {
    let push_service = PushService::start().await;
    let dir = tempfile::tempdir().unwrap();
    let mut settings = common::fast_settings();
    settings.notifications.push_insecure_hosts = Some(vec![push_service.addr.to_string().parse().unwrap()]);
    settings.notifications.push_timeout_secs = Some(5);
    let server = common::start_all_in_one_with(dir.path(), settings).await;
    (push_service, dir, server)
}

async fn say(chat: &mut Socket, to: &str, body: &str) {
    send_frame(
        chat,
        json!({"type": "send", "clientId": uuid::Uuid::new_v4(), "to": to, "body": body}),
    )
    .await;
}

/// `who` turns Web Push on in a browser (keys from `seed`) whose push service endpoint is
/// `path`: the browser, and its endpoint.
async fn subscribed(push_service: &PushService, who: &mut Client, path: &str, seed: u8) -> (Browser, String) {
    let browser = Browser::new(seed);
    let endpoint = push_service.endpoint(path);
    let (status, body) = who
        .post("/api/push/subscriptions", browser.subscription(&endpoint))
        .await;
    assert_eq!(status, 201, "{body}");
    (browser, endpoint)
}

/// A group "Team" of `owner` and `member`: its id.
async fn team(owner: &mut Client, member: &str) -> String {
    let (status, created) = owner
        .post("/api/conversations", json!({"title": "Team", "memberIds": [member]}))
        .await;
    assert_eq!(status, 201, "{created}");
    created["conversation"]["id"].as_str().unwrap().to_owned()
}

/// The subscriptions stored for an endpoint (read beside the running store).
fn subscriptions_at(dir: &std::path::Path, endpoint: &str) -> i64 {
    let conn =
        rusqlite::Connection::open_with_flags(dir.join("notifications.db"), rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .unwrap();
    conn.query_row(
        "SELECT count(*) FROM push_subscriptions WHERE endpoint = ?1",
        [endpoint],
        |r| r.get(0),
    )
    .unwrap()
}

/// The group titles kept with the unread notifications (read beside the running store).
fn stored_group_titles(dir: &std::path::Path) -> Vec<String> {
    let conn =
        rusqlite::Connection::open_with_flags(dir.join("notifications.db"), rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .unwrap();
    let mut titles = conn
        .prepare("SELECT group_title FROM notifications WHERE read_at IS NULL AND group_title IS NOT NULL")
        .unwrap();
    titles
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

// ----- the tests ------------------------------------------------------------------------------

#[tokio::test]
async fn an_offline_user_gets_an_encrypted_push_that_only_their_browser_can_read() {
    let (mut push_service, dir, server) = start().await;
    let (alice_id, alice) = signed_up(&server, "alice").await;
    let (bob_id, mut bob) = signed_up(&server, "bob").await;

    let (status, key) = bob.get("/api/push/key").await;
    assert_eq!(status, 200, "{key}");
    let server_key = key["publicKey"].as_str().unwrap().to_owned();
    let point = URL_SAFE_NO_PAD.decode(&server_key).unwrap();
    assert_eq!((point.len(), point[0]), (65, 4), "an uncompressed P-256 point");
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(dir.path().join("vapid.key")).unwrap().permissions(),
    );
    assert_eq!(mode & 0o777, 0o600, "the key is kept with the data, owner-only");

    // Bob turns notifications on in one browser and closes every tab.
    let browser = Browser::new(7);
    let endpoint = push_service.endpoint("/push/bob-laptop");
    let (status, body) = bob
        .post("/api/push/subscriptions", browser.subscription(&endpoint))
        .await;
    assert_eq!(status, 201, "{body}");

    let mut alice_chat = socket(&server, "/ws/chat", &alice).await;
    say(&mut alice_chat, &bob_id, "Are you there? 🍉").await;
    let push = push_service.next_push().await;
    assert_eq!(push.path, "/push/bob-laptop");
    assert_eq!(push.headers["content-encoding"], "aes128gcm");
    assert!(push.headers["ttl"].parse::<u32>().unwrap() > 0);
    let message = browser.decrypt(&push.body);
    let conversation = message["conversationId"].as_str().unwrap().to_owned();
    assert_eq!(
        message,
        json!({"kind": "message", "conversationId": conversation, "seq": 1,
               "from": {"id": alice_id, "username": "alice"}, "preview": "Are you there? 🍉",
               "mentioned": false, "groupTitle": null})
    );
    assert_eq!(
        push.headers["topic"],
        conversation.replace('-', ""),
        "one per conversation"
    );
    // No Origin from this client: the contact is the site as it was asked for.
    check_vapid(
        &push,
        &server_key,
        &format!("http://{}", push_service.addr),
        &server.url(""),
    );

    // Another browser of someone else cannot read it.
    let stranger = std::panic::catch_unwind(|| Browser::new(9).decrypt(&push.body));
    assert!(stranger.is_err(), "only the subscribed browser decrypts");
}

/// A push from a group names it, and says when its message mentions the one it goes to.
#[tokio::test]
async fn a_push_says_a_mention_and_names_its_group() {
    let (mut push_service, _dir, server) = start().await;
    let (_, mut alice) = signed_up(&server, "alice").await;
    let (bob_id, mut bob) = signed_up(&server, "bob").await;
    let (browser, _) = subscribed(&push_service, &mut bob, "/push/bob", 5).await;
    let group = team(&mut alice, &bob_id).await;
    let mut alice_chat = socket(&server, "/ws/chat", &alice).await;
    let mut told = Vec::new();
    for body in ["@bob can you look?", "thanks"] {
        send_frame(
            &mut alice_chat,
            json!({"type": "send", "clientId": uuid::Uuid::new_v4(), "conversationId": group, "body": body}),
        )
        .await;
        // One push at a time: a newer message would replace one not sent yet.
        let message = browser.decrypt(&push_service.next_push().await.body);
        told.push((
            message["preview"].clone(),
            message["mentioned"].clone(),
            message["groupTitle"].clone(),
        ));
    }
    assert_eq!(
        told,
        [
            (json!("@bob can you look?"), json!(true), json!("Team")),
            (json!("thanks"), json!(false), json!("Team"))
        ]
    );
}

/// The push that catches a member up after they leave names their group as it is called then:
/// a rename while they were reading elsewhere is not undone by it.
#[tokio::test]
async fn a_catch_up_push_names_the_group_as_renamed() {
    let (mut push_service, dir, server) = start().await;
    let (_, mut alice) = signed_up(&server, "alice").await;
    let (bob_id, mut bob) = signed_up(&server, "bob").await;
    let (browser, _) = subscribed(&push_service, &mut bob, "/push/bob", 6).await;
    let group = team(&mut alice, &bob_id).await;
    // Bob is online, so the message reaches his tab, not his browser's pushes.
    let mut bob_notes = socket(&server, "/ws/notifications", &bob).await;
    let cookie = bob.cookie.clone();
    let is_online = || {
        let mut bob = Client {
            cookie: cookie.clone(),
            ..Client::new(&server)
        };
        async move {
            let (_, users) = bob.get("/api/users?q=bob").await;
            (users["users"][0]["online"] == true).then_some(())
        }
    };
    eventually(WAIT, is_online).await;
    let mut alice_chat = socket(&server, "/ws/chat", &alice).await;
    send_frame(
        &mut alice_chat,
        json!({"type": "send", "clientId": uuid::Uuid::new_v4(), "conversationId": group, "body": "@bob look"}),
    )
    .await;
    next_of(&mut bob_notes, "notification", WAIT).await;
    let rename = Some(json!({"title": "Crew"}));
    let path = format!("/api/conversations/{group}");
    let (status, _, renamed) = alice.request("PATCH", &path, rename, HeaderMap::new()).await;
    assert_eq!(status, 200, "{renamed}");
    // The store hears of the rename on its own queue: wait for it, not for a guess of how long.
    eventually(WAIT, || async {
        (stored_group_titles(dir.path()) == ["Crew"]).then_some(())
    })
    .await;

    // He leaves without reading it: the catch-up push names the group as it is called now.
    drop(bob_notes);
    let message = browser.decrypt(&push_service.next_push().await.body);
    assert_eq!(
        (&message["preview"], &message["mentioned"], &message["groupTitle"]),
        (&json!("@bob look"), &json!(true), &json!("Crew"))
    );
}

#[tokio::test]
async fn an_online_user_gets_no_push_until_they_leave() {
    let (mut push_service, _dir, server) = start().await;
    let (_, alice) = signed_up(&server, "alice").await;
    let (bob_id, mut bob) = signed_up(&server, "bob").await;
    let (browser, _) = subscribed(&push_service, &mut bob, "/push/bob", 3).await;

    // Bob has a tab open: he is online once the users service says so.
    let mut bob_notes = socket(&server, "/ws/notifications", &bob).await;
    let cookie = bob.cookie.clone();
    let is_online = |online: bool| {
        let mut bob = Client {
            cookie: cookie.clone(),
            ..Client::new(&server)
        };
        async move {
            let (_, users) = bob.get("/api/users?q=bob").await;
            (users["users"][0]["online"] == online).then_some(())
        }
    };
    eventually(WAIT, || is_online(true)).await;
    let mut alice_chat = socket(&server, "/ws/chat", &alice).await;
    say(&mut alice_chat, &bob_id, "seen live").await;
    let live = next_of(&mut bob_notes, "notification", WAIT).await;
    assert_eq!(live["notification"]["preview"], "seen live");
    assert_eq!(bob.post("/api/notifications/read", json!({"all": true})).await.0, 204);
    next_of(&mut bob_notes, "notifications.read", WAIT).await;

    // He closes it; the next message is pushed, and it is the only push he ever got.
    drop(bob_notes);
    eventually(WAIT, || is_online(false)).await;
    say(&mut alice_chat, &bob_id, "after you left").await;
    let push = push_service.next_push().await;
    let message = browser.decrypt(&push.body);
    assert_eq!(
        (&message["seq"], &message["preview"]),
        (&json!(2), &json!("after you left"))
    );
    assert!(push_service.quiet(), "no push for what bob saw live");
}

#[tokio::test]
async fn a_subscription_the_push_service_says_is_gone_is_removed() {
    let (mut push_service, dir, server) = start().await;
    let (_, alice) = signed_up(&server, "alice").await;
    let (bob_id, mut bob) = signed_up(&server, "bob").await;
    let (_, endpoint) = subscribed(&push_service, &mut bob, "/gone/bob-old-phone", 5).await;
    assert_eq!(subscriptions_at(dir.path(), &endpoint), 1);

    let mut alice_chat = socket(&server, "/ws/chat", &alice).await;
    say(&mut alice_chat, &bob_id, "hello?").await;
    assert_eq!(push_service.next_push().await.path, "/gone/bob-old-phone");
    eventually(WAIT, || async {
        (subscriptions_at(dir.path(), &endpoint) == 0).then_some(())
    })
    .await;
}

/// GoChat on `dir` with these hosts listed in `GOCHAT_PUSH_INSECURE_HOSTS`.
async fn start_listing(dir: &std::path::Path, hosts: &[&str]) -> TestServer {
    let mut settings = common::fast_settings();
    settings.notifications.push_insecure_hosts = Some(hosts.iter().map(|h| h.parse().unwrap()).collect());
    settings.notifications.push_timeout_secs = Some(5);
    common::start_all_in_one_with(dir, settings).await
}

/// Pushes counted under `outcome` on `/metrics`. The counters are the test process's, shared by
/// every server this binary starts: the tests that wait on one take turns ([`SKIPS`]).
async fn pushes(server: &TestServer, outcome: &str) -> f64 {
    common::metric(server, "gochat_push_total", &format!("outcome=\"{outcome}\"")).await
}

/// Taken by the tests that wait for a push to be skipped, one at a time.
static SKIPS: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Waits until `server` has counted one more push under each of `outcomes` than `before`.
async fn counted(server: &TestServer, outcomes: &[&str], before: &[f64]) {
    eventually(WAIT, || async {
        for (outcome, before) in outcomes.iter().zip(before) {
            if pushes(server, outcome).await <= *before {
                return None;
            }
        }
        Some(())
    })
    .await;
}

/// The rules are those of the send, not those the browser subscribed under: here the push
/// service's hosts were listed on any port then, and only on another port now. A plain http
/// endpoint at an IP literal (which reqwest reaches without asking a resolver) is not sent to,
/// and kept; one named https on a port no longer listed is resolved to public addresses only.
#[tokio::test]
async fn a_subscription_the_rules_no_longer_allow_is_not_sent_to_but_kept() {
    let _turn = SKIPS.lock().await;
    let mut push_service = PushService::start().await;
    let trap = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    trap.set_nonblocking(true).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let server = start_listing(dir.path(), &["127.0.0.1", "localhost"]).await;
    let (_, alice) = signed_up(&server, "alice").await;
    let (bob_id, mut bob) = signed_up(&server, "bob").await;
    let at_ip = push_service.endpoint("/delisted");
    subscribe(&mut bob, &Browser::new(61), &at_ip).await;
    let by_name = format!("https://localhost:{}/other-port", trap.local_addr().unwrap().port());
    subscribe(&mut bob, &Browser::new(62), &by_name).await;
    server.stop().await.unwrap();

    let server = start_listing(dir.path(), &["127.0.0.1:1", "localhost:1"]).await;
    let alice = Client {
        base: server.url(""),
        ..alice
    };
    let outcomes = ["not_allowed", "unreachable"];
    let before = [pushes(&server, outcomes[0]).await, pushes(&server, outcomes[1]).await];
    let mut alice_chat = socket(&server, "/ws/chat", &alice).await;
    say(&mut alice_chat, &bob_id, "after the rules changed").await;
    // Both pushes were tried: one skipped by the rules, one refused its addresses by the resolver.
    counted(&server, &outcomes, &before).await;
    assert!(
        trap.accept().is_err_and(|e| e.kind() == std::io::ErrorKind::WouldBlock),
        "a port no longer listed is not reached at a private address"
    );
    assert!(push_service.quiet(), "nothing was sent to the host no longer listed");
    assert_eq!(
        subscriptions_at(dir.path(), &at_ip),
        1,
        "a subscription the rules refuse is kept"
    );
    assert_eq!(
        subscriptions_at(dir.path(), &by_name),
        1,
        "a name is only refused its addresses"
    );
}

/// A mistyped `GOCHAT_PUSH_INSECURE_HOSTS` costs the pushes of the time it was set so, not
/// the subscriptions: once it is set right again, the same subscription is pushed to.
#[tokio::test]
async fn a_subscription_a_mistyped_listing_refused_is_pushed_to_once_it_is_set_right() {
    let _turn = SKIPS.lock().await;
    let mut push_service = PushService::start().await;
    let listed = push_service.addr.to_string();
    let dir = tempfile::tempdir().unwrap();
    let server = start_listing(dir.path(), &[&listed]).await;
    let (_, alice) = signed_up(&server, "alice").await;
    let (bob_id, mut bob) = signed_up(&server, "bob").await;
    let browser = Browser::new(63);
    let endpoint = push_service.endpoint("/lan/bob");
    subscribe(&mut bob, &browser, &endpoint).await;
    server.stop().await.unwrap();

    let server = start_listing(dir.path(), &["127.0.0.1:1"]).await;
    let mut alice = Client {
        base: server.url(""),
        ..alice
    };
    let before = [pushes(&server, "not_allowed").await];
    let mut alice_chat = socket(&server, "/ws/chat", &alice).await;
    say(&mut alice_chat, &bob_id, "while the listing was wrong").await;
    counted(&server, &["not_allowed"], &before).await;
    assert!(push_service.quiet(), "nothing was sent while the host was not listed");
    assert_eq!(subscriptions_at(dir.path(), &endpoint), 1, "the subscription is kept");
    drop(alice_chat);
    server.stop().await.unwrap();

    let server = start_listing(dir.path(), &[&listed]).await;
    alice.base = server.url("");
    let mut alice_chat = socket(&server, "/ws/chat", &alice).await;
    say(&mut alice_chat, &bob_id, "once it was set right").await;
    let push = push_service.next_push().await;
    assert_eq!(push.path, "/lan/bob");
    assert_eq!(browser.decrypt(&push.body)["preview"], "once it was set right");
}

#[tokio::test]
async fn a_hung_push_service_does_not_delay_chat_and_its_push_times_out() {
    let (mut push_service, _dir, server) = start().await;
    let (_, alice) = signed_up(&server, "alice").await;
    let (bob_id, mut bob) = signed_up(&server, "bob").await;
    let (browser, _) = subscribed(&push_service, &mut bob, "/hang/bob", 11).await;

    // Bob reads chat in a tab without the notifications socket: offline for pushes.
    let mut bob_chat = socket(&server, "/ws/chat", &bob).await;
    let mut alice_chat = socket(&server, "/ws/chat", &alice).await;
    say(&mut alice_chat, &bob_id, "m1").await;
    let first = push_service.next_push().await;
    assert_eq!(browser.decrypt(&first.body)["seq"], 1);
    // While the push service holds that push, chat goes on.
    for i in 2..=5 {
        say(&mut alice_chat, &bob_id, &format!("m{i}")).await;
    }
    for i in 1..=5 {
        let frame = next_of(&mut bob_chat, "message", WAIT).await;
        assert_eq!(frame["message"]["body"], format!("m{i}"));
    }
    assert!(
        push_service.quiet(),
        "every message arrived while the first push was still held"
    );

    // The sender gives up on it (timeout) and sends the newest of the conversation next: the
    // four messages that came meanwhile make one push.
    match push_service.next().await {
        Seen::Abandoned(path) => assert_eq!(path, "/hang/bob"),
        other => panic!("expected the hung push to be abandoned, got {other:?}"),
    }
    let next = push_service.next_push().await;
    assert_eq!(browser.decrypt(&next.body)["seq"], 5);
}

#[tokio::test]
async fn a_browser_that_became_someone_elses_gets_none_of_the_previous_users_pushes() {
    let (mut push_service, _dir, server) = start().await;
    let (_, alice) = signed_up(&server, "alice").await;
    let (bob_id, mut bob) = signed_up(&server, "bob").await;
    let (eve_id, mut eve) = signed_up(&server, "eve").await;
    // One browser, a push service that holds what it is sent until the sender gives up.
    let browser = Browser::new(17);
    let endpoint = push_service.endpoint("/hang/shared-laptop");
    let subscription = browser.subscription(&endpoint);
    assert_eq!(bob.post("/api/push/subscriptions", subscription.clone()).await.0, 201);

    let mut alice_chat = socket(&server, "/ws/chat", &alice).await;
    say(&mut alice_chat, &bob_id, "for bob, 1").await;
    let held = push_service.next_push().await;
    assert_eq!(browser.decrypt(&held.body)["preview"], "for bob, 1");

    // Bob's next push waits behind the held one (one push at a time per browser and
    // conversation)...
    say(&mut alice_chat, &bob_id, "for bob, 2").await;
    eventually(WAIT, || async {
        let mut bob = Client {
            cookie: bob.cookie.clone(),
            ..Client::new(&server)
        };
        let (_, list) = bob.get("/api/notifications?unread=true").await;
        (list["notifications"].as_array().map(Vec::len) == Some(2)).then_some(())
    })
    .await;
    // ...and meanwhile eve signs in on that browser and turns notifications on: the
    // subscription is hers now.
    assert_eq!(eve.post("/api/push/subscriptions", subscription).await.0, 201);

    // The held push times out; neither it nor the one waiting goes to eve's browser.
    match push_service.next().await {
        Seen::Abandoned(path) => assert_eq!(path, "/hang/shared-laptop"),
        other => panic!("expected the held push to be abandoned, got {other:?}"),
    }
    say(&mut alice_chat, &eve_id, "for eve").await;
    let next = push_service.next_push().await;
    assert_eq!(
        browser.decrypt(&next.body)["preview"],
        "for eve",
        "the browser's next push is its new user's"
    );
}

#[tokio::test]
async fn subscriptions_are_checked_and_belong_to_their_user() {
    let (push_service, dir, server) = start().await;
    let (_, mut bob) = signed_up(&server, "bob").await;
    let (_, mut eve) = signed_up(&server, "eve").await;
    let browser = Browser::new(13);
    let good = browser.subscription(&push_service.endpoint("/push/bob"));

    let mut bad_keys = Vec::new();
    for (field, value) in [
        ("p256dh", json!("not base64!")),
        ("p256dh", json!(URL_SAFE_NO_PAD.encode([4u8; 65]))), // not on the curve
        ("p256dh", json!(URL_SAFE_NO_PAD.encode(&browser.public()[..33]))),
        ("auth", json!(URL_SAFE_NO_PAD.encode([1u8; 8]))),
        ("auth", json!(null)),
    ] {
        let mut body = good.clone();
        body["keys"][field] = value;
        bad_keys.push(body);
    }
    let other_port = push_service.addr.port().wrapping_add(1);
    for (body, why) in bad_keys.into_iter().map(|b| (b, "malformed keys")).chain([
        (json!({"endpoint": good["endpoint"]}), "no keys"),
        (
            browser.subscription("http://push.example.org/x"),
            "plain http, not listed",
        ),
        (
            browser.subscription(&format!("http://127.0.0.1:{other_port}/x")),
            "listed host, another port",
        ),
        (browser.subscription("https://127.0.0.1/x"), "loopback, not listed"),
        (browser.subscription("https://192.168.1.10/x"), "private address"),
        (browser.subscription("https://localhost/x"), "a name for loopback"),
        (browser.subscription("mailto:bob@example.org"), "not https"),
        (
            browser.subscription(&format!("https://push.example.org/{}", "x".repeat(3000))),
            "too long",
        ),
    ]) {
        let (status, error) = bob.post("/api/push/subscriptions", body).await;
        assert_eq!(
            (status, error["error"]["code"].as_str()),
            (400, Some("invalid_input")),
            "{why}: {error}"
        );
    }
    assert_eq!(
        subscriptions_at(dir.path(), good["endpoint"].as_str().unwrap()),
        0,
        "nothing stored"
    );

    let (status, _) = Client::new(&server).post("/api/push/subscriptions", good.clone()).await;
    assert_eq!(status, 401);
    assert_eq!(Client::new(&server).get("/api/push/key").await.0, 401);
    assert_eq!(bob.post("/api/push/subscriptions", good.clone()).await.0, 201);

    // Only its owner removes it.
    let endpoint = good["endpoint"].as_str().unwrap();
    assert_eq!(unsubscribe(&mut eve, endpoint).await, 204);
    assert_eq!(subscriptions_at(dir.path(), endpoint), 1);
    assert_eq!(unsubscribe(&mut bob, endpoint).await, 204);
    assert_eq!(subscriptions_at(dir.path(), endpoint), 0);
}

async fn unsubscribe(client: &mut Client, endpoint: &str) -> u16 {
    let body = json!({"endpoint": endpoint});
    client
        .request("DELETE", "/api/push/subscriptions", Some(body), Default::default())
        .await
        .0
}

// ----- a subscription belongs to the session that registered it -------------------------------

/// The session a subscription is bound to (the token's `jti`), if there is one at `endpoint`.
fn session_at(dir: &std::path::Path, endpoint: &str) -> Option<String> {
    let conn =
        rusqlite::Connection::open_with_flags(dir.join("notifications.db"), rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .unwrap();
    conn.query_row(
        "SELECT session_id FROM push_subscriptions WHERE endpoint = ?1",
        [endpoint],
        |r| r.get(0),
    )
    .ok()
}

/// The `jti` of a session cookie.
fn jti_of(cookie: &str) -> String {
    let claims = cookie.split('.').nth(1).unwrap();
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(claims).unwrap()).unwrap();
    claims["jti"].as_str().unwrap().to_owned()
}

/// Waits for the subscription at `endpoint` to be removed (in process it is by the time the
/// route that ended its session answers, unless the store is slower than that route's bound).
async fn gone(dir: &std::path::Path, endpoint: &str) {
    eventually(WAIT, || async { (subscriptions_at(dir, endpoint) == 0).then_some(()) }).await;
}

/// `name` signed in once more: another session, as another browser would have.
async fn signed_in(server: &TestServer, name: &str) -> Client {
    let mut client = Client::new(server);
    let (status, body) = client
        .post(
            "/api/auth/signin",
            json!({"username": name, "password": format!("password-{name}")}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    client
}

/// `client`'s session turns pushes on in a browser of its own at `endpoint`.
async fn subscribe(client: &mut Client, browser: &Browser, endpoint: &str) {
    let (status, body) = client
        .post("/api/push/subscriptions", browser.subscription(endpoint))
        .await;
    assert_eq!(status, 201, "{body}");
}

/// The paths of what the push service is sent from now until `path` comes, and for a moment
/// after (pushes of one message go out side by side).
async fn pushed_until(push_service: &mut PushService, path: &str) -> Vec<String> {
    let mut seen = Vec::new();
    while !seen.iter().any(|p| p == path) {
        seen.push(push_service.next_push().await.path);
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    while let Ok(Seen::Push(push)) = push_service.seen.try_recv() {
        seen.push(push.path);
    }
    seen
}

#[tokio::test]
async fn a_browser_signed_out_of_gets_no_more_pushes() {
    let (mut push_service, dir, server) = start().await;
    let (_, alice) = signed_up(&server, "alice").await;
    // Bob on a shared computer (the session he signed up with) and on his phone.
    let (bob_id, mut shared) = signed_up(&server, "bob").await;
    let mut phone = signed_in(&server, "bob").await;
    let (shared_browser, phone_browser) = (Browser::new(21), Browser::new(22));
    let (shared_endpoint, phone_endpoint) = (
        push_service.endpoint("/push/shared-computer"),
        push_service.endpoint("/push/bob-phone"),
    );
    subscribe(&mut shared, &shared_browser, &shared_endpoint).await;
    subscribe(&mut phone, &phone_browser, &phone_endpoint).await;

    // He signs out of the shared computer (a client that does not unsubscribe first, or whose
    // unsubscribe was lost): its subscription goes with the session, the phone's stays.
    assert_eq!(shared.post("/api/auth/signout", json!({})).await.0, 204);
    gone(dir.path(), &shared_endpoint).await;
    assert_eq!(subscriptions_at(dir.path(), &phone_endpoint), 1);

    let mut alice_chat = socket(&server, "/ws/chat", &alice).await;
    say(&mut alice_chat, &bob_id, "the code is 4711").await;
    let seen = pushed_until(&mut push_service, "/push/bob-phone").await;
    assert_eq!(seen, ["/push/bob-phone"], "no preview on the computer he signed out of");
}

#[tokio::test]
async fn a_password_change_ends_the_pushes_of_the_other_sessions_and_keeps_its_own() {
    let (mut push_service, dir, server) = start().await;
    let (_, alice) = signed_up(&server, "alice").await;
    let (bob_id, mut old_laptop) = signed_up(&server, "bob").await;
    let mut laptop = signed_in(&server, "bob").await;
    let (old_endpoint, endpoint) = (
        push_service.endpoint("/push/old-laptop"),
        push_service.endpoint("/push/laptop"),
    );
    let browser = Browser::new(31);
    subscribe(&mut old_laptop, &Browser::new(32), &old_endpoint).await;
    subscribe(&mut laptop, &browser, &endpoint).await;

    // Bob changes his password on his laptop: every other session ends, and the old laptop
    // with it; the laptop goes on with a new session, and its subscription with that.
    let (status, body) = laptop
        .post(
            "/api/auth/password",
            json!({"currentPassword": "password-bob", "newPassword": "a much better one"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    gone(dir.path(), &old_endpoint).await;
    assert_eq!(subscriptions_at(dir.path(), &endpoint), 1);
    assert_eq!(
        session_at(dir.path(), &endpoint),
        Some(jti_of(laptop.cookie.as_deref().unwrap())),
        "bound to the laptop's new session"
    );

    let mut alice_chat = socket(&server, "/ws/chat", &alice).await;
    say(&mut alice_chat, &bob_id, "new password, who dis").await;
    let seen = pushed_until(&mut push_service, "/push/laptop").await;
    assert_eq!(seen, ["/push/laptop"], "nothing for the old laptop");

    // The laptop's new session ends like any other: signing out there stops its pushes too.
    assert_eq!(laptop.post("/api/auth/signout", json!({})).await.0, 204);
    gone(dir.path(), &endpoint).await;
}

#[tokio::test]
async fn disabling_an_account_ends_the_pushes_of_all_its_sessions() {
    let (mut push_service, dir, server) = start().await;
    // The first account is the admin.
    let (_, mut admin) = signed_up(&server, "alice").await;
    let (bob_id, mut bob) = signed_up(&server, "bob").await;
    let mut bob_phone = signed_in(&server, "bob").await;
    let (carol_id, mut carol) = signed_up(&server, "carol").await;
    let endpoints = ["/push/bob-laptop", "/push/bob-phone", "/push/carol"].map(|p| push_service.endpoint(p));
    subscribe(&mut bob, &Browser::new(41), &endpoints[0]).await;
    subscribe(&mut bob_phone, &Browser::new(42), &endpoints[1]).await;
    subscribe(&mut carol, &Browser::new(43), &endpoints[2]).await;

    let (status, body) = admin
        .post(&format!("/api/admin/users/{bob_id}/disable"), json!({}))
        .await;
    assert_eq!(status, 204, "{body}");
    // Every browser of bob's.
    gone(dir.path(), &endpoints[0]).await;
    gone(dir.path(), &endpoints[1]).await;
    assert_eq!(subscriptions_at(dir.path(), &endpoints[2]), 1, "carol's stays");

    let mut alice_chat = socket(&server, "/ws/chat", &admin).await;
    say(&mut alice_chat, &bob_id, "for bob").await;
    say(&mut alice_chat, &carol_id, "for carol").await;
    let seen = pushed_until(&mut push_service, "/push/carol").await;
    assert_eq!(seen, ["/push/carol"]);
}

/// The store learns that a session ended from its own queue (`user.signed_out` and the rest),
/// which may lag (over RabbitMQ, a busy store): meanwhile its replica of auth's session ledger
/// already refuses the session, and so does Web Push. Here the test plays auth and the messages
/// service around the notifications service alone, and tells only the replica.
#[tokio::test]
async fn a_subscription_whose_session_ended_is_never_pushed_to_even_before_the_store_hears_of_it() {
    use gochat_kit::auth::Keys;
    use gochat_proto::admin::{LedgerChange, LedgerEntry, SessionsHead, SessionsReplayed};
    use gochat_proto::dto::{Message, UserRef};
    use gochat_proto::events::MessageStored;
    use gochat_proto::ids::{ClientId, ConversationId, MessageId, UserId};

    let mut push_service = PushService::start().await;
    let dir = tempfile::tempdir().unwrap();
    let bus = gochat_kit::bus::Bus::in_process();
    let settings = gochat_notifications::Settings {
        push_insecure_hosts: Some(vec![push_service.addr.to_string().parse().unwrap()]),
        push_timeout_secs: Some(5),
        ..Default::default()
    };
    let server = TestServer::start(TestServer::settings(dir.path(), None), Some(bus.clone()), |rt| {
        gochat_notifications::build_both(rt, settings)
    })
    .await
    .unwrap();

    let keys = Keys::from_secret(gochat_kit::testing::TEST_JWT_KEY.as_bytes());
    let (alice, bob) = (UserId::new(), UserId::new());
    let (shared_token, shared_claims) = keys.issue(bob, "bob", Duration::from_secs(3600)).unwrap();
    let (phone_token, _) = keys.issue(bob, "bob", Duration::from_secs(3600)).unwrap();
    let mut shared = Client {
        cookie: Some(shared_token),
        ..Client::new(&server)
    };
    let mut phone = Client {
        cookie: Some(phone_token),
        ..Client::new(&server)
    };
    let shared_endpoint = push_service.endpoint("/push/shared-computer");
    subscribe(&mut shared, &Browser::new(51), &shared_endpoint).await;
    subscribe(&mut phone, &Browser::new(52), &push_service.endpoint("/push/bob-phone")).await;

    // Bob signs out of the shared computer: the replica learns it from auth's ledger, the store's
    // queue has not brought `user.signed_out` yet.
    bus.publish_now(&SessionsHead {
        epoch: "ledger-1".into(),
        seq: 1,
    })
    .await
    .unwrap()
    .await
    .unwrap();
    bus.publish_now(&SessionsReplayed {
        epoch: "ledger-1".into(),
        after: 0,
        through: 1,
        entries: vec![LedgerEntry {
            seq: 1,
            change: LedgerChange::Revoked {
                user_id: bob,
                jti: shared_claims.jti.clone(),
                expires_at: chrono::DateTime::from_timestamp(shared_claims.exp, 0).unwrap(),
            },
        }],
    })
    .await
    .unwrap()
    .await
    .unwrap();
    eventually(WAIT, || {
        let mut shared = Client {
            cookie: shared.cookie.clone(),
            ..Client::new(&server)
        };
        async move { (shared.get("/api/notifications").await.0 == 401).then_some(()) }
    })
    .await;
    assert_eq!(
        subscriptions_at(dir.path(), &shared_endpoint),
        1,
        "the store has not heard of the sign-out"
    );

    // A message for bob.
    let message = Message {
        id: MessageId::new(),
        conversation_id: ConversationId::new(),
        seq: 1,
        sender_id: alice,
        body: "the code is 4711".into(),
        sent_at: chrono::Utc::now(),
        client_id: ClientId::new(),
        reply_to_seq: None,
        edited_at: None,
        deleted_at: None,
        reactions: Vec::new(),
        attachments: Vec::new(),
    };
    bus.publish_now(&MessageStored {
        message,
        sender: UserRef {
            id: alice,
            username: "alice".into(),
        },
        members: vec![alice, bob],
        resent: None,
        title: None,
        mentions: Vec::new(),
    })
    .await
    .unwrap()
    .await
    .unwrap();
    let seen = pushed_until(&mut push_service, "/push/bob-phone").await;
    assert_eq!(seen, ["/push/bob-phone"], "nothing for the session that ended");
    // And its subscription is forgotten.
    gone(dir.path(), &shared_endpoint).await;
}
