//! A GoChat site as a browser sees it, however it is deployed: all in one on the in-process bus,
//! or separate services over RabbitMQ with several chat instances and several notifications
//! gateways beside one notifications store. Scenarios written against a [`Site`] run unchanged
//! on both.
//!
//! - [`Person`]: a signed-up user with their session cookie, calling the HTTP API (each path
//!   goes to the service that serves it, as the ingress routes it) and opening chat tabs.
//! - [`Tab`]: one `/ws/chat` (or `/ws/notifications`) socket that keeps every frame it
//!   received, in order, so a scenario can assert on the whole log (exactly once, in order,
//!   nothing else).

use super::{Socket, connect_ws, eventually};
use futures_util::{SinkExt, StreamExt};
use gochat_kit::testing::TestServer;
use serde_json::{Value, json};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

/// Longest any single wait may take (RabbitMQ on a busy machine included).
pub const WAIT: Duration = Duration::from_secs(30);

/// Base URLs of the services, and where the messages and notifications services keep their data.
pub struct Site {
    pub auth: String,
    pub users: String,
    pub messages: String,
    /// The notifications store (REST).
    pub notifications: String,
    /// Every chat instance; a person's tab names the one it connects to by index.
    pub chat: Vec<String>,
    /// Every notifications gateway (`/ws/notifications`), named by index likewise.
    pub gateways: Vec<String>,
    pub messages_db: PathBuf,
    pub notifications_db: PathBuf,
    /// The messages service's attachments directory.
    pub attachments_dir: PathBuf,
    /// Blocks and unblocks each new person once, to learn that the messages service knows them.
    witness: tokio::sync::OnceCell<Person>,
    /// Makes usernames unique when scenarios share a site.
    people: AtomicUsize,
}

impl Site {
    /// GoChat all in one: every path on one server.
    pub fn all_in_one(server: &TestServer, dir: &std::path::Path) -> Arc<Self> {
        let base = server.url("");
        Self::new(
            [base.clone(), base.clone(), base.clone(), base.clone()],
            [vec![base.clone()], vec![base]],
            dir.join("messages.db"),
            dir.join("notifications.db"),
        )
    }

    /// `[auth, users, messages, notifications]` base URLs, and `[chat, gateways]` instances.
    pub fn new(
        bases: [String; 4],
        instances: [Vec<String>; 2],
        messages_db: PathBuf,
        notifications_db: PathBuf,
    ) -> Arc<Self> {
        let [auth, users, messages, notifications] = bases;
        let [chat, gateways] = instances;
        Arc::new(Self {
            auth,
            users,
            messages,
            notifications,
            chat,
            attachments_dir: messages_db.with_file_name("attachments"),
            gateways,
            messages_db,
            notifications_db,
            witness: tokio::sync::OnceCell::new(),
            people: AtomicUsize::new(0),
        })
    }

    /// The service that serves `path`, as the ingress routes it.
    fn base(&self, path: &str) -> &str {
        let blocks = path.starts_with("/api/users/blocked") || path.ends_with("/block");
        if path.starts_with("/api/auth") {
            &self.auth
        } else if path.starts_with("/api/notifications") {
            &self.notifications
        } else if path.starts_with("/api/users") && !blocks {
            &self.users
        } else {
            &self.messages
        }
    }

    /// Signs up a new user named `name` plus a number unique on this site, and returns once the
    /// messages service knows them (their `user.registered` travels through the bus).
    pub async fn person(self: &Arc<Self>, name: &str) -> Person {
        let person = self.signup(name).await;
        let witness = self.witness.get_or_init(|| self.signup("witness")).await;
        let block = format!("/api/users/{}/block", person.id);
        eventually(WAIT, || async {
            (witness.post(&block, json!({})).await.0 == 204).then_some(())
        })
        .await;
        assert_eq!(witness.delete(&block).await.0, 204);
        person
    }

    async fn signup(self: &Arc<Self>, name: &str) -> Person {
        let n = self.people.fetch_add(1, Ordering::Relaxed);
        let name = format!("{name}{n}");
        let http = reqwest::Client::new();
        let response = http
            .post(format!("{}/api/auth/signup", self.auth))
            .json(&json!({"email": format!("{name}@example.org"), "username": name, "password": format!("password-{name}")}))
            .send()
            .await
            .expect("signup sent");
        assert_eq!(response.status(), 201, "signup of {name}");
        let cookie = response
            .headers()
            .get_all(reqwest::header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|v| v.split(';').next()?.strip_prefix("auth=").map(str::to_owned))
            .expect("a session cookie");
        let body: Value = response.json().await.expect("JSON body");
        Person {
            id: body["user"]["id"].as_str().expect("user id").to_owned(),
            name,
            cookie,
            http,
            site: Arc::clone(self),
        }
    }
}

/// A signed-up user.
pub struct Person {
    pub id: String,
    pub name: String,
    pub cookie: String,
    http: reqwest::Client,
    site: Arc<Site>,
}

impl Person {
    /// Calls the API with the session cookie; returns the status and the JSON body (`Null`
    /// when empty).
    pub async fn call(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.site.base(path)))
            .header(reqwest::header::COOKIE, format!("auth={}", self.cookie));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("request sent");
        let status = response.status().as_u16();
        let text = response.text().await.expect("body");
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        (status, body)
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        self.call("GET", path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.call("POST", path, Some(body)).await
    }

    pub async fn patch(&self, path: &str, body: Value) -> (u16, Value) {
        self.call("PATCH", path, Some(body)).await
    }

    pub async fn delete(&self, path: &str) -> (u16, Value) {
        self.call("DELETE", path, None).await
    }

    /// Uploads `bytes` as the file `name` (`POST /api/attachments`); returns the status and
    /// the JSON body.
    pub async fn upload(&self, name: &str, bytes: &[u8]) -> (u16, Value) {
        let (content_type, body) = multipart(&[("file", Some(name), bytes)]);
        self.upload_raw(&content_type, body).await
    }

    /// `POST /api/attachments` with this exact body.
    pub async fn upload_raw(&self, content_type: &str, body: Vec<u8>) -> (u16, Value) {
        let response = self
            .http
            .post(format!("{}/api/attachments", self.site.messages))
            .header(reqwest::header::COOKIE, format!("auth={}", self.cookie))
            .header(reqwest::header::CONTENT_TYPE, content_type)
            .body(body)
            .send()
            .await
            .expect("upload sent");
        let status = response.status().as_u16();
        let text = response.text().await.expect("body");
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    /// `GET path` as bytes, with the response's headers.
    pub async fn fetch(&self, path: &str) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
        self.fetch_with(path, reqwest::header::HeaderMap::new()).await
    }

    /// `GET path` with these request headers, as bytes, with the response's headers.
    pub async fn fetch_with(
        &self,
        path: &str,
        headers: reqwest::header::HeaderMap,
    ) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
        let response = self
            .http
            .get(format!("{}{path}", self.site.base(path)))
            .header(reqwest::header::COOKIE, format!("auth={}", self.cookie))
            .headers(headers)
            .send()
            .await
            .expect("request sent");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        (status, headers, response.bytes().await.expect("body").to_vec())
    }

    /// Opens a chat tab on chat instance `instance` (modulo how many there are), ready to
    /// receive: it answered a ping, so its socket has joined the hub.
    pub async fn tab(&self, instance: usize) -> Tab {
        self.socket(&self.site.chat, "/ws/chat", instance).await
    }

    /// Opens `/ws/notifications` on gateway `instance` (modulo how many there are), ready to
    /// receive. Holding it makes this person online.
    pub async fn notifications_tab(&self, instance: usize) -> Tab {
        self.socket(&self.site.gateways, "/ws/notifications", instance).await
    }

    async fn socket(&self, instances: &[String], path: &str, instance: usize) -> Tab {
        let base = &instances[instance % instances.len()];
        let socket = connect_ws(base, path, Some(&self.cookie), None)
            .await
            .unwrap_or_else(|e| panic!("{path} opens: {e}"));
        let mut tab = Tab {
            who: self.name.clone(),
            socket,
            log: Vec::new(),
        };
        tab.send(json!({"type": "ping"})).await;
        tab.next_of("pong").await;
        tab.log.clear();
        tab
    }

    /// Creates a group owned by this person; returns its id.
    pub async fn create_group(&self, title: &str, members: &[&Person]) -> String {
        let ids: Vec<&str> = members.iter().map(|p| p.id.as_str()).collect();
        let (status, body) = self
            .post("/api/conversations", json!({"title": title, "memberIds": ids}))
            .await;
        assert_eq!(status, 201, "{body}");
        body["conversation"]["id"].as_str().expect("conversation id").to_owned()
    }

    /// Opens (or finds) the direct conversation with `peer`; returns its id.
    pub async fn direct_with(&self, peer: &Person) -> String {
        let (status, body) = self.post("/api/conversations", json!({"peerId": peer.id})).await;
        assert!(status == 200 || status == 201, "{status} {body}");
        body["conversation"]["id"].as_str().expect("conversation id").to_owned()
    }

    /// The whole history of a conversation, ascending by seq.
    pub async fn history(&self, conversation: &str) -> Vec<Value> {
        let (status, page) = self
            .get(&format!("/api/conversations/{conversation}/messages?after=0&limit=100"))
            .await;
        assert_eq!(status, 200, "{page}");
        assert_eq!(page["hasMore"], false, "tests keep conversations under 100 messages");
        page["messages"].as_array().expect("messages").clone()
    }

    /// This person's view of `conversation` in their conversation list, if it is there.
    pub async fn listed(&self, conversation: &str) -> Option<Value> {
        let (status, list) = self.get("/api/conversations").await;
        assert_eq!(status, 200, "{list}");
        list["conversations"]
            .as_array()
            .expect("conversations")
            .iter()
            .find(|c| c["id"] == conversation)
            .cloned()
    }

    /// The bodies of this person's search results for `q`.
    pub async fn search(&self, q: &str) -> Vec<String> {
        let (status, found) = self.get(&format!("/api/search?q={}", encode(q))).await;
        assert_eq!(status, 200, "search {q}: {found}");
        bodies(
            &found["results"]
                .as_array()
                .expect("results")
                .iter()
                .map(|r| r["message"].clone())
                .collect::<Vec<_>>(),
        )
    }
}

/// A `multipart/form-data` body of `(part name, file name, bytes)` parts, and its content type.
pub fn multipart(parts: &[(&str, Option<&str>, &[u8])]) -> (String, Vec<u8>) {
    let boundary = format!("gochat-test-{}", uuid::Uuid::new_v4().simple());
    let mut body = Vec::new();
    for (name, file, bytes) in parts {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        let file = file.map(|f| format!("; filename=\"{f}\"")).unwrap_or_default();
        body.extend_from_slice(format!("Content-Disposition: form-data; name=\"{name}\"{file}\r\n").as_bytes());
        // What a browser claims; the server must not believe it.
        body.extend_from_slice(b"Content-Type: text/plain\r\n\r\n");
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// A query-string value, percent-encoded.
pub fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The bodies of some messages.
pub fn bodies(messages: &[Value]) -> Vec<String> {
    messages
        .iter()
        .map(|m| m["body"].as_str().expect("body").to_owned())
        .collect()
}

/// One `/ws/chat` socket and every frame it received so far.
pub struct Tab {
    pub who: String,
    socket: Socket,
    /// Every frame received, in order.
    pub log: Vec<Value>,
}

impl Tab {
    pub async fn send(&mut self, frame: Value) {
        self.socket
            .send(Message::Text(frame.to_string().into()))
            .await
            .expect("frame sent");
    }

    /// Sends a message with attachments into `conversation`; returns its client id.
    pub async fn send_files(&mut self, conversation: &str, body: &str, attachment_ids: &[&str]) -> String {
        let client_id = uuid::Uuid::new_v4().to_string();
        self.send(json!({"type": "send", "clientId": client_id, "conversationId": conversation, "body": body, "attachmentIds": attachment_ids}))
            .await;
        client_id
    }

    /// Sends a message into `conversation`; returns its client id.
    pub async fn say(&mut self, conversation: &str, body: &str) -> String {
        let client_id = uuid::Uuid::new_v4().to_string();
        self.send(json!({"type": "send", "clientId": client_id, "conversationId": conversation, "body": body}))
            .await;
        client_id
    }

    /// Reads frames (keeping each in the log) until one satisfies `wanted`; returns it.
    pub async fn until(&mut self, what: &str, wanted: impl Fn(&Value) -> bool) -> Value {
        let read = tokio::time::timeout(WAIT, async {
            loop {
                match self.socket.next().await {
                    Some(Ok(Message::Text(text))) => {
                        let frame: Value = serde_json::from_str(&text).expect("a JSON frame");
                        self.log.push(frame.clone());
                        if wanted(&frame) {
                            return Ok(frame);
                        }
                    }
                    Some(Ok(Message::Close(close))) => return Err(format!("closed: {close:?}")),
                    Some(Ok(_)) => {}
                    Some(Err(e)) => return Err(e.to_string()),
                    None => return Err("socket ended".into()),
                }
            }
        })
        .await;
        match read {
            Ok(Ok(frame)) => frame,
            Ok(Err(e)) => panic!("{}: waiting for {what}: {e}; received {:#?}", self.who, self.tail()),
            Err(_) => panic!("{}: no {what} within {WAIT:?}; received {:#?}", self.who, self.tail()),
        }
    }

    fn tail(&self) -> &[Value] {
        &self.log[self.log.len().saturating_sub(12)..]
    }

    /// The next frame of type `kind`.
    pub async fn next_of(&mut self, kind: &str) -> Value {
        self.until(kind, |f| f["type"] == kind).await
    }

    /// The `message` frame with this body.
    pub async fn message(&mut self, body: &str) -> Value {
        let frame = self
            .until(&format!("message {body:?}"), |f| {
                f["type"] == "message" && f["message"]["body"] == body
            })
            .await;
        frame["message"].clone()
    }

    /// The next `error` frame; asserts its code.
    pub async fn refused(&mut self, code: &str) -> Value {
        let error = self.next_of("error").await;
        assert_eq!(error["code"], code, "{}: {error}", self.who);
        error
    }

    /// The frames of type `kind` in the log.
    pub fn frames(&self, kind: &str) -> Vec<&Value> {
        self.log.iter().filter(|f| f["type"] == kind).collect()
    }

    /// The frames received since the log had `mark` entries.
    pub fn since(&self, mark: usize) -> &[Value] {
        &self.log[mark..]
    }
}

/// Frames a client sends.
pub mod frame {
    use serde_json::{Value, json};

    pub fn edit(conversation: &str, seq: i64, body: &str) -> Value {
        json!({"type": "edit", "conversationId": conversation, "seq": seq, "body": body})
    }

    pub fn delete(conversation: &str, seq: i64) -> Value {
        json!({"type": "delete", "conversationId": conversation, "seq": seq})
    }

    pub fn react(conversation: &str, seq: i64, emoji: &str, on: bool) -> Value {
        json!({"type": "react", "conversationId": conversation, "seq": seq, "emoji": emoji, "on": on})
    }

    pub fn delivered(conversation: &str, seq: i64) -> Value {
        json!({"type": "delivered", "conversationId": conversation, "seq": seq})
    }

    pub fn read(conversation: &str, seq: i64) -> Value {
        json!({"type": "read", "conversationId": conversation, "seq": seq})
    }

    pub fn typing(conversation: &str) -> Value {
        json!({"type": "typing", "conversationId": conversation})
    }

    pub fn send(conversation: &str, client_id: &str, body: &str) -> Value {
        json!({"type": "send", "clientId": client_id, "conversationId": conversation, "body": body})
    }
}

/// A running site and what it needs to stay up (servers, data directories). Dropped with the
/// test, whose runtime ends every task of its servers.
pub struct Deployment {
    pub site: Arc<Site>,
    _servers: Vec<TestServer>,
    _dirs: Vec<tempfile::TempDir>,
}

impl Deployment {
    /// GoChat all in one, on the in-process bus.
    pub async fn all_in_one() -> Self {
        Self::all_in_one_with(super::fast_settings()).await
    }

    /// GoChat all in one, on the in-process bus, with these service settings.
    pub async fn all_in_one_with(settings: gochat::Settings) -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let server = super::start_all_in_one_with(dir.path(), settings).await;
        Self {
            site: Site::all_in_one(&server, dir.path()),
            _servers: vec![server],
            _dirs: vec![dir],
        }
    }

    /// Every service on its own over RabbitMQ (a fresh virtual host), with two chat instances
    /// and, beside the notifications store, two notifications gateways; `None` (the test is
    /// skipped) without a broker.
    pub async fn over_rabbitmq() -> Option<Self> {
        let url = super::vhost_url()?;
        let dirs: Vec<_> = (0..8)
            .map(|_| tempfile::tempdir().expect("a temporary directory"))
            .collect();
        let auth_settings = super::fast_settings().auth;
        let auth = service(&dirs[0], &url, "auth-1", |rt| gochat_auth::build(rt, auth_settings)).await;
        let users = service(&dirs[1], &url, "users-1", |rt| {
            gochat_users::build(rt, Default::default())
        })
        .await;
        let messages = service(&dirs[2], &url, "messages-1", |rt| {
            gochat_messages::build(rt, Default::default())
        })
        .await;
        let notifications = service(&dirs[3], &url, "notifications-store", |rt| {
            gochat_notifications::build(rt, notifications_role(gochat_notifications::Role::Store))
        })
        .await;
        let gateway_a = service(&dirs[6], &url, "notifications-a", |rt| {
            gochat_notifications::build(rt, notifications_role(gochat_notifications::Role::Gateway))
        })
        .await;
        let gateway_b = service(&dirs[7], &url, "notifications-b", |rt| {
            gochat_notifications::build(rt, notifications_role(gochat_notifications::Role::Gateway))
        })
        .await;
        let chat_a = service(&dirs[4], &url, "chat-a", |rt| {
            gochat_chat::build(rt, Default::default())
        })
        .await;
        let chat_b = service(&dirs[5], &url, "chat-b", |rt| {
            gochat_chat::build(rt, Default::default())
        })
        .await;
        let site = Site::new(
            [auth.url(""), users.url(""), messages.url(""), notifications.url("")],
            [
                vec![chat_a.url(""), chat_b.url("")],
                vec![gateway_a.url(""), gateway_b.url("")],
            ],
            dirs[2].path().join("messages.db"),
            dirs[3].path().join("notifications.db"),
        );
        Some(Self {
            site,
            _servers: vec![
                auth,
                users,
                messages,
                notifications,
                gateway_a,
                gateway_b,
                chat_a,
                chat_b,
            ],
            _dirs: dirs,
        })
    }
}

/// The notifications service in one role, with default settings.
pub fn notifications_role(role: gochat_notifications::Role) -> gochat_notifications::ServiceSettings {
    gochat_notifications::ServiceSettings {
        role: Some(role),
        ..Default::default()
    }
}

/// One service over RabbitMQ as instance `instance`, once ready (its bus is connected).
async fn service<F, Fut>(dir: &tempfile::TempDir, url: &str, instance: &str, build: F) -> TestServer
where
    F: FnOnce(gochat_kit::Runtime) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<axum::Router>>,
{
    let mut settings = TestServer::settings(dir.path(), Some(url));
    settings.instance_id = Some(instance.into());
    let server = TestServer::start(settings, None, build).await.expect("service starts");
    let ready = server.url("/readyz");
    eventually(WAIT, || async {
        let status = reqwest::get(&ready).await.ok()?.status();
        (status == 200).then_some(())
    })
    .await;
    server
}
