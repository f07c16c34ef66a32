//! Every HTTP route of GoChat against arbitrary path parameters, query strings and bodies, as
//! a signed-in admin would send them: the answer is a success or one of the contract's 4xx
//! codes with the contract's error body, never a 500, never the server's own plain text.
//!
//! One server per service's routes, seeded with real users, conversations, messages and
//! notifications and attachments, so that real ids and cursors are among the inputs. Sign-out
//! is left out (it would end the session the rest runs on; its own tests cover it); a password
//! change is in, and cannot succeed for the same reason: the admin's password is no input.

#![allow(clippy::unwrap_used)] // test helpers fail loudly by design

mod common;

use common::fuzz::{self, percent};
use common::site::multipart;
use common::{Client, connect_ws, next_of, send_frame};
use gochat_kit::testing::TestServer;
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use reqwest::header::{CONTENT_TYPE, COOKIE, RETRY_AFTER, X_CONTENT_TYPE_OPTIONS};
use serde_json::{Value, json};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(10);

/// One route: its method, its path with `{}` for each parameter, its query keys, its body's
/// fields (none: it reads no body), and whether its success is a file's bytes rather than JSON.
struct Route {
    method: &'static str,
    path: &'static str,
    query: &'static [&'static str],
    body: Option<&'static [&'static str]>,
    file: bool,
}

const fn route(
    method: &'static str,
    path: &'static str,
    query: &'static [&'static str],
    body: Option<&'static [&'static str]>,
) -> Route {
    Route {
        method,
        path,
        query,
        body,
        file: false,
    }
}

/// A `GET` route whose success is a file's bytes.
const fn file_route(path: &'static str) -> Route {
    Route {
        file: true,
        ..route("GET", path, &[], None)
    }
}

const AUTH: &[Route] = &[
    route("GET", "/api/auth/currentuser", &[], None),
    route(
        "POST",
        "/api/auth/signup",
        &[],
        Some(&["email", "username", "password", "inviteCode"]),
    ),
    route(
        "POST",
        "/api/auth/signin",
        &[],
        Some(&["email", "username", "password"]),
    ),
    route(
        "POST",
        "/api/auth/password",
        &[],
        Some(&["currentPassword", "newPassword"]),
    ),
    route("POST", "/api/auth/password-reset", &[], Some(&["code", "newPassword"])),
    route("GET", "/api/admin/settings", &[], None),
    route("PATCH", "/api/admin/settings", &[], Some(&["signup"])),
    route("POST", "/api/admin/invites", &[], Some(&["maxUses", "expiresInHours"])),
    route("GET", "/api/admin/invites", &[], None),
    route("DELETE", "/api/admin/invites/{}", &[], None),
    route("GET", "/api/admin/users", &["limit", "cursor"], None),
    route("PATCH", "/api/admin/users/{}", &[], Some(&["role"])),
    route("POST", "/api/admin/users/{}/disable", &[], None),
    route("POST", "/api/admin/users/{}/enable", &[], None),
    route("POST", "/api/admin/users/{}/password-reset", &[], None),
];

const USERS: &[Route] = &[route("GET", "/api/users", &["q", "limit", "cursor", "ids"], None)];

const MESSAGES: &[Route] = &[
    route("GET", "/api/conversations", &[], None),
    route(
        "POST",
        "/api/conversations",
        &[],
        Some(&["peerId", "title", "memberIds"]),
    ),
    route("PATCH", "/api/conversations/{}", &[], Some(&["title"])),
    route("POST", "/api/conversations/{}/members", &[], Some(&["userIds"])),
    route("DELETE", "/api/conversations/{}/members/{}", &[], None),
    route(
        "GET",
        "/api/conversations/{}/messages",
        &["before", "after", "limit"],
        None,
    ),
    route("GET", "/api/conversations/{}/changes", &["since", "limit"], None),
    route("GET", "/api/search", &["q", "conversationId", "limit", "cursor"], None),
    route("GET", "/api/users/blocked", &[], None),
    route("POST", "/api/users/{}/block", &[], None),
    route("DELETE", "/api/users/{}/block", &[], None),
    route("POST", "/api/attachments", &[], Some(&["file"])),
    route("GET", "/api/attachments/limits", &[], None),
    file_route("/api/attachments/{}"),
    file_route("/api/attachments/{}/thumbnail"),
];

const NOTIFICATIONS: &[Route] = &[
    route("GET", "/api/notifications", &["unread", "limit", "before"], None),
    route("POST", "/api/notifications/read", &[], Some(&["ids", "all"])),
    route("GET", "/api/notifications/muted", &[], None),
    route("PUT", "/api/notifications/muted/{}", &[], None),
    route("DELETE", "/api/notifications/muted/{}", &[], None),
    route("GET", "/api/push/key", &[], None),
    route("POST", "/api/push/subscriptions", &[], Some(&["endpoint", "keys"])),
    route("DELETE", "/api/push/subscriptions", &[], Some(&["endpoint"])),
];

/// Every field name of every body, so random objects often hit a real field.
const BODY_FIELDS: &[&str] = &[
    "email",
    "username",
    "password",
    "currentPassword",
    "newPassword",
    "inviteCode",
    "signup",
    "role",
    "maxUses",
    "expiresInHours",
    "peerId",
    "title",
    "memberIds",
    "userIds",
    "ids",
    "all",
    "endpoint",
    "keys",
    "p256dh",
    "auth",
];

/// A request's body.
#[derive(Debug, Clone)]
enum Body {
    None,
    /// JSON, sent as `application/json`.
    Json(Value),
    /// Anything, with this content type (or none).
    Raw(Vec<u8>, Option<&'static str>),
    /// Larger than the 64 KiB every JSON body may be.
    Huge,
    /// `multipart/form-data` with one part of this name, file name and bytes.
    Multipart(String, Option<String>, Vec<u8>),
}

#[derive(Debug, Clone)]
struct Request {
    method: &'static str,
    path: String,
    query: String,
    body: Body,
    /// Its success is a file's bytes.
    file: bool,
}

/// What the server was seeded with: ids and cursors that exist.
struct Seed {
    admin: Client,
    known: Vec<String>,
}

/// An admin (the first account), two members, a direct conversation and a group with a few
/// messages each way, notifications for the admin, a page cursor of each kind, and the admin's
/// attachments: a picture sent in the direct conversation and a document never sent.
async fn seed(server: &TestServer) -> Seed {
    let mut admin = Client::new(server);
    let admin_id = admin.signup("admin").await;
    let mut bob = Client::new(server);
    let bob_id = bob.signup("bob").await;
    let carol_id = Client::new(server).signup("carol").await;
    let (_, direct) = admin.post("/api/conversations", json!({"peerId": bob_id})).await;
    let direct = direct["conversation"]["id"].as_str().unwrap().to_owned();
    let (status, group) = admin
        .post(
            "/api/conversations",
            json!({"title": "group", "memberIds": [bob_id, carol_id]}),
        )
        .await;
    assert_eq!(status, 201, "{group}");
    let group = group["conversation"]["id"].as_str().unwrap().to_owned();

    let mut tab = connect_ws(&server.url(""), "/ws/chat", bob.cookie.as_deref(), None)
        .await
        .unwrap();
    for (i, conversation) in [&direct, &group, &direct].into_iter().enumerate() {
        let frame = json!({"type": "send", "clientId": uuid::Uuid::new_v4(), "conversationId": conversation, "body": format!("hello m{i}")});
        send_frame(&mut tab, frame).await;
        next_of(&mut tab, "message", WAIT).await;
    }
    let notes = common::eventually(WAIT, || {
        let mut admin = Client {
            cookie: admin.cookie.clone(),
            ..Client::new(server)
        };
        async move {
            let (_, page) = admin.get("/api/notifications").await;
            let ids: Vec<String> = page["notifications"]
                .as_array()?
                .iter()
                .map(|n| n["id"].as_str().unwrap().to_owned())
                .collect();
            (ids.len() == 3).then_some(ids)
        }
    })
    .await;
    let (_, users) = admin.get("/api/users?limit=1").await;
    let (_, admins) = admin.get("/api/admin/users?limit=1").await;
    let (_, found) = admin.get("/api/search?q=hello&limit=1").await;
    let mut known = vec![admin_id, bob_id, carol_id, direct.clone(), group];
    // A browser's push keys (a P-256 point, a 16-byte secret) and endpoints of each kind, none
    // of them a name to resolve.
    known.extend(
        [
            "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4",
            "BTBZMqHH6r4Tts7J_aSIgg",
            "https://8.8.8.8/push/fuzz",
            "https://10.0.0.1/push/fuzz",
            "http://127.0.0.1:9/push/fuzz",
        ]
        .map(str::to_owned),
    );
    known.extend(notes);
    let picture = upload(&admin, "picture.png", &common::files::png(40, 30)).await;
    let document = upload(&admin, "notes.txt", b"plain words").await;
    let mut tab = connect_ws(&server.url(""), "/ws/chat", admin.cookie.as_deref(), None)
        .await
        .unwrap();
    let frame = json!({"type": "send", "clientId": uuid::Uuid::new_v4(), "conversationId": direct, "body": "", "attachmentIds": [picture]});
    send_frame(&mut tab, frame).await;
    next_of(&mut tab, "message", WAIT).await;
    known.extend([picture, document]);
    for cursor in [&users["nextCursor"], &admins["nextCursor"], &found["nextCursor"]] {
        known.push(cursor.as_str().expect("a next page").to_owned());
    }
    Seed { admin, known }
}

/// Uploads a file as `client`; returns the attachment's id.
async fn upload(client: &Client, name: &str, bytes: &[u8]) -> String {
    let (content_type, body) = multipart(&[("file", Some(name), bytes)]);
    let response = client
        .http
        .post(format!("{}/api/attachments", client.base))
        .header(COOKIE, format!("auth={}", client.cookie.as_deref().unwrap()))
        .header(CONTENT_TYPE, content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201, "{name} uploaded");
    let body: Value = response.json().await.unwrap();
    body["attachment"]["id"].as_str().unwrap().to_owned()
}

/// A request to one of `routes`, with every part drawn from values worth trying.
fn request(routes: &'static [Route], known: Vec<String>) -> impl Strategy<Value = Request> {
    let segment = fuzz::raw(known.clone()).prop_filter("a segment that names a path", |s| {
        !s.is_empty() && s != b"." && s != b".."
    });
    let params = prop::collection::vec(segment, 2);
    let value = fuzz::raw(known.clone());
    let pairs = prop::collection::vec((any::<prop::sample::Index>(), any::<bool>(), value), 0..5);
    let json = fuzz::value(BODY_FIELDS, known.clone());
    let part = (
        prop::sample::select(vec!["file", "other", ""]),
        prop::option::of(fuzz::string(known.clone())),
        prop::collection::vec(any::<u8>(), 0..256),
    )
        .prop_map(|(name, file, bytes)| Body::Multipart(name.to_owned(), file, bytes));
    let body = prop_oneof![
        6 => fuzz::object(BODY_FIELDS, json.clone()).prop_map(Body::Json),
        2 => json.prop_map(Body::Json),
        1 => (prop::collection::vec(any::<u8>(), 0..64), prop::sample::select(vec![None, Some("application/json"), Some("text/plain")]))
            .prop_map(|(bytes, kind)| Body::Raw(bytes, kind)),
        1 => Just(Body::None),
        1 => Just(Body::Huge),
        1 => part,
    ];
    (
        prop::sample::select((0..routes.len()).collect::<Vec<_>>()),
        params,
        pairs,
        body,
    )
        .prop_map(move |(i, params, pairs, body)| {
            let route = &routes[i];
            let mut path = route.path.to_owned();
            for param in &params {
                path = path.replacen("{}", &percent(param), 1);
            }
            let query = pairs
                .iter()
                .map(|(key, known_key, value)| {
                    let key = match (known_key, route.query.is_empty()) {
                        (true, false) => route.query[key.index(route.query.len())].to_owned(),
                        _ => format!("x{}", key.index(3)),
                    };
                    format!("{key}={}", percent(value))
                })
                .collect::<Vec<_>>()
                .join("&");
            let body = if route.body.is_some() { body } else { Body::None };
            Request {
                method: route.method,
                path,
                query,
                body,
                file: route.file,
            }
        })
}

/// The status each contract code goes with.
fn status_of(code: &str) -> Option<u16> {
    Some(match code {
        "invalid_input" => 400,
        "unauthenticated" | "invalid_credentials" => 401,
        "forbidden" => 403,
        "not_found" => 404,
        "conflict" => 409,
        "payload_too_large" => 413,
        "rate_limited" => 429,
        "unavailable" => 503,
        _ => return None,
    })
}

/// Sends `request` with the admin's cookie and checks the answer against the contract.
async fn check(http: &reqwest::Client, base: &str, cookie: &str, request: Request) -> Result<(), TestCaseError> {
    let url = if request.query.is_empty() {
        format!("{base}{}", request.path)
    } else {
        format!("{base}{}?{}", request.path, request.query)
    };
    let method = reqwest::Method::from_bytes(request.method.as_bytes()).unwrap();
    let mut req = http.request(method, &url).header(COOKIE, format!("auth={cookie}"));
    req = match &request.body {
        Body::None => req,
        Body::Json(value) => req.json(value),
        Body::Raw(bytes, kind) => {
            let req = req.body(bytes.clone());
            match kind {
                Some(kind) => req.header(CONTENT_TYPE, *kind),
                None => req,
            }
        }
        Body::Huge => req
            .header(CONTENT_TYPE, "application/json")
            .body(format!("{{\"title\":\"{}\"}}", "x".repeat(70 * 1024))),
        Body::Multipart(name, file, bytes) => {
            let (content_type, body) = multipart(&[(name, file.as_deref(), bytes)]);
            req.header(CONTENT_TYPE, content_type).body(body)
        }
    };
    let response = req
        .send()
        .await
        .map_err(|e| TestCaseError::fail(format!("no answer: {e}")))?;
    let status = response.status().as_u16();
    let json_type = response
        .headers()
        .get(CONTENT_TYPE)
        .is_some_and(|t| t.as_bytes().starts_with(b"application/json"));
    let retry_after = response.headers().contains_key(RETRY_AFTER);
    let nosniff = response
        .headers()
        .get(X_CONTENT_TYPE_OPTIONS)
        .is_some_and(|v| v == "nosniff");
    let text = String::from_utf8_lossy(&response.bytes().await.unwrap_or_default()).into_owned();
    let what = format!("{} {url} -> {status} {text}", request.method);
    match status {
        // A file is its bytes, whatever they are, and never sniffed.
        200 if request.file => prop_assert!(nosniff, "a file is never sniffed: {}", what),
        200 | 201 => {
            prop_assert!(json_type, "a success is JSON: {}", what);
            prop_assert!(serde_json::from_str::<Value>(&text).is_ok(), "{}", what);
        }
        204 => prop_assert!(text.is_empty(), "{}", what),
        400..=599 => {
            prop_assert!(json_type, "an error has the contract's body: {}", what);
            let body: Value = serde_json::from_str(&text).map_err(|_| TestCaseError::fail(what.clone()))?;
            let code = body["error"]["code"].as_str().unwrap_or_default();
            prop_assert!(body["error"]["message"].is_string(), "{}", what);
            prop_assert_eq!(status_of(code), Some(status), "code and status agree: {}", what);
            // Nothing here fills or breaks the storage: a 503 would be a bug taken for one.
            prop_assert!(status < 500, "never a 5xx: {}", what);
            prop_assert!(code != "unauthenticated", "the session stays valid: {}", what);
            if status == 429 || status == 503 {
                prop_assert!(retry_after, "{} says when to retry: {}", status, what);
            }
        }
        _ => prop_assert!(false, "unexpected status: {}", what),
    }
    Ok(())
}

/// Starts GoChat, seeds it, and sends it requests to `routes`.
fn fuzz(routes: &'static [Route]) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let server = rt.block_on(common::start_all_in_one(dir.path(), None, None));
    let seed = rt.block_on(seed(&server));
    let (base, cookie) = (server.url(""), seed.admin.cookie.clone().unwrap());
    // A fresh connection per request: a server may close a kept-alive connection after an
    // answer that left a body unread, and a reused one would then fail for that reason alone.
    let http = reqwest::Client::builder().pool_max_idle_per_host(0).build().unwrap();
    fuzz::run(&rt, request(routes, seed.known), |request| {
        check(&http, &base, &cookie, request)
    });
    rt.block_on(server.stop()).unwrap();
}

#[test]
fn auth_and_admin_routes_answer_any_input_within_the_contract() {
    fuzz(AUTH);
}

#[test]
fn user_list_answers_any_query_within_the_contract() {
    fuzz(USERS);
}

#[test]
fn conversation_history_search_block_and_attachment_routes_answer_any_input_within_the_contract() {
    fuzz(MESSAGES);
}

#[test]
fn notification_routes_answer_any_input_within_the_contract() {
    fuzz(NOTIFICATIONS);
}

/// What the property above found first: a path parameter that is not UTF-8 once decoded got
/// axum's plain-text 400. It names nothing that exists, so: 404 with the contract's body.
#[tokio::test]
async fn a_path_parameter_that_is_not_utf8_is_not_found_with_the_contract_body() {
    let dir = tempfile::tempdir().unwrap();
    let server = common::start_all_in_one(dir.path(), None, None).await;
    let mut admin = Client::new(&server);
    admin.signup("admin").await;
    for (method, path) in [
        ("PATCH", "/api/conversations/%80"),
        ("GET", "/api/conversations/%FF%FE/messages"),
        ("DELETE", "/api/conversations/%80/members/%80"),
        ("POST", "/api/users/%C3%28/block"),
        ("POST", "/api/admin/users/%80/disable"),
        ("GET", "/api/attachments/%80"),
        ("GET", "/api/attachments/%FF%FE/thumbnail"),
    ] {
        let body = (method != "GET").then(|| json!({"title": "t", "userIds": []}));
        let (status, _, body) = admin.request(method, path, body, Default::default()).await;
        assert_eq!(
            (status, &body["error"]["code"]),
            (404, &json!("not_found")),
            "{method} {path}: {body}"
        );
    }
    server.stop().await.unwrap();
}
