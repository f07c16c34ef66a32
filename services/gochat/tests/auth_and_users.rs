//! Sign-up to sign-out and the user directory, all in one process over the in-process bus.

#![allow(clippy::unwrap_used)] // test helpers fail loudly by design

mod common;

use common::{Client, eventually, start_all_in_one, usernames};
use gochat_kit::testing::TEST_JWT_KEY;
use reqwest::header::{HeaderMap, HeaderValue, ORIGIN};
use serde_json::json;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(10);

#[tokio::test]
async fn signup_sets_the_session_cookie_and_signout_revokes_it_everywhere() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_all_in_one(dir.path(), None, None).await;
    let mut alice = Client::new(&server);

    let (status, headers, body) = alice
        .request(
            "POST",
            "/api/auth/signup",
            Some(json!({"email": "Alice@Example.org", "username": "alice", "password": "correct horse"})),
            HeaderMap::new(),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["user"]["username"], "alice");
    assert_eq!(body["user"]["email"], "Alice@Example.org");
    let cookie = set_cookie(&headers);
    for attribute in ["auth=", "HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(cookie.contains(attribute), "{attribute} missing from {cookie}");
    }
    assert!(
        !cookie.contains("Secure"),
        "plain HTTP must not get a Secure cookie: {cookie}"
    );

    let (status, body) = alice.get("/api/auth/currentuser").await;
    assert_eq!((status, &body["currentUser"]["username"]), (200, &json!("alice")));
    let (status, _) = alice.get("/api/users").await;
    assert_eq!(status, 200);

    let token = alice.cookie.clone().unwrap();
    let (status, headers, _) = alice.request("POST", "/api/auth/signout", None, HeaderMap::new()).await;
    assert_eq!(status, 204);
    assert!(set_cookie(&headers).contains("Max-Age=0"));

    // The old token, replayed right after the answer, is refused by every service at once.
    let mut replay = Client::new(&server);
    replay.cookie = Some(token);
    let (status, body) = replay.get("/api/auth/currentuser").await;
    assert_eq!((status, body), (200, json!({"currentUser": null})));
    for route in ["/api/users", "/api/conversations", "/api/notifications"] {
        assert_eq!(replay.get(route).await.0, 401, "{route}");
    }
    server.stop().await.unwrap();
}

/// "That token is refused everywhere from now on": not a few milliseconds later, when each
/// service has heard of it. Signed out, and replayed at once against each service, many times.
#[tokio::test]
async fn a_signed_out_token_is_refused_by_every_service_as_soon_as_signing_out_is_answered() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_all_in_one(dir.path(), None, None).await;
    let mut alice = Client::new(&server);
    alice.signup("alice").await;
    for round in 0..20 {
        let (status, _, _) = alice
            .request(
                "POST",
                "/api/auth/signin",
                Some(json!({"username": "alice", "password": "password-alice"})),
                HeaderMap::new(),
            )
            .await;
        assert_eq!(status, 200);
        let token = alice.cookie.clone().unwrap();
        let (status, _, _) = alice.request("POST", "/api/auth/signout", None, HeaderMap::new()).await;
        assert_eq!(status, 204);
        let route = ["/api/users", "/api/conversations", "/api/notifications"][round % 3];
        let mut replay = Client::new(&server);
        replay.cookie = Some(token);
        assert_eq!(replay.get(route).await.0, 401, "round {round}: {route}");
    }
    server.stop().await.unwrap();
}

#[tokio::test]
async fn session_cookie_is_secure_behind_a_tls_proxy() {
    let dir = tempfile::tempdir().unwrap();
    let server = common::start_behind_proxy(dir.path()).await;
    // Either header a TLS proxy may set: the de facto one, or RFC 7239's.
    for (i, (name, value)) in [
        ("x-forwarded-proto", "https"),
        ("forwarded", "for=192.0.2.60;proto=https"),
    ]
    .into_iter()
    .enumerate()
    {
        let mut headers = HeaderMap::new();
        headers.insert(name, HeaderValue::from_static(value));
        let body =
            json!({"email": format!("s{i}@example.org"), "username": format!("secure{i}"), "password": "password1"});
        let (status, headers, _) = Client::new(&server)
            .request("POST", "/api/auth/signup", Some(body), headers)
            .await;
        assert_eq!(status, 201);
        assert!(set_cookie(&headers).contains("; Secure"), "{name}");
    }
    server.stop().await.unwrap();
}

#[tokio::test]
async fn invalid_signups_are_refused_and_store_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_all_in_one(dir.path(), None, None).await;
    let mut client = Client::new(&server);
    let long = "x".repeat(129);
    let cases = [
        json!({"email": "not-an-address", "username": "carol", "password": "password1"}),
        json!({"email": "carol@", "username": "carol", "password": "password1"}),
        json!({"email": "carol@example.org", "username": "ca", "password": "password1"}),
        json!({"email": "carol@example.org", "username": "c".repeat(33), "password": "password1"}),
        json!({"email": "carol@example.org", "username": "car ol", "password": "password1"}),
        json!({"email": "carol@example.org", "username": "carol", "password": "short"}),
        json!({"email": "carol@example.org", "username": "carol", "password": long}),
        json!({"email": "carol@example.org", "username": "carol"}),
        json!({"username": "carol", "password": "password1"}),
        json!("not an object"),
    ];
    for case in cases {
        let (status, body) = client.post("/api/auth/signup", case.clone()).await;
        assert_eq!(status, 400, "{case} → {body}");
        assert_eq!(body["error"]["code"], "invalid_input", "{case}");
        assert!(client.cookie.is_none(), "no session for {case}");
    }
    let (status, headers, body) = client
        .request("POST", "/api/auth/signup", None, {
            let mut h = HeaderMap::new();
            h.insert("content-type", HeaderValue::from_static("application/json"));
            h
        })
        .await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (400, &json!("invalid_input")),
        "{headers:?}"
    );

    // Nothing was stored: the same email and username are still free.
    client.signup("carol").await;
    server.stop().await.unwrap();
}

#[tokio::test]
async fn malformed_and_oversize_bodies_get_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_all_in_one(dir.path(), None, None).await;
    let http = reqwest::Client::new();
    let res = http
        .post(server.url("/api/auth/signup"))
        .header("content-type", "application/json")
        .body("{\"email\":")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "invalid_input");

    let huge = format!("{{\"email\":\"{}\"}}", "a".repeat(100_000));
    let res = http
        .post(server.url("/api/auth/signup"))
        .header("content-type", "application/json")
        .body(huge)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 413);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "payload_too_large");
    server.stop().await.unwrap();
}

#[tokio::test]
async fn duplicate_email_or_username_in_another_letter_case_conflicts() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_all_in_one(dir.path(), None, None).await;
    let mut client = Client::new(&server);
    client.signup("dave").await;
    for case in [
        json!({"email": "DAVE@example.org", "username": "other", "password": "password1"}),
        json!({"email": "other@example.org", "username": "DaVe", "password": "password1"}),
    ] {
        let (status, body) = Client::new(&server).post("/api/auth/signup", case).await;
        assert_eq!((status, &body["error"]["code"]), (409, &json!("conflict")), "{body}");
    }
    server.stop().await.unwrap();
}

#[tokio::test]
async fn wrong_password_and_unknown_user_look_the_same_and_repeated_failures_are_limited() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_all_in_one(dir.path(), None, None).await;
    Client::new(&server).signup("erin").await;

    let mut client = Client::new(&server);
    let (status, body) = client
        .post(
            "/api/auth/signin",
            json!({"username": "erin", "password": "password-erin"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = client
        .post(
            "/api/auth/signin",
            json!({"email": "ERIN@example.org", "password": "password-erin"}),
        )
        .await;
    assert_eq!(status, 200, "sign in by email, any case: {body}");
    // Both: which account is meant is not clear, so neither is tried.
    let (status, body) = client
        .post(
            "/api/auth/signin",
            json!({"username": "erin", "email": "someone@example.org", "password": "password-erin"}),
        )
        .await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (400, &json!("invalid_input")),
        "{body}"
    );

    let (wrong_status, wrong) = Client::new(&server)
        .post(
            "/api/auth/signin",
            json!({"email": "erin@example.org", "password": "nope-nope"}),
        )
        .await;
    let (unknown_status, unknown) = Client::new(&server)
        .post(
            "/api/auth/signin",
            json!({"email": "nobody@example.org", "password": "nope-nope"}),
        )
        .await;
    assert_eq!(wrong_status, 401);
    assert_eq!(wrong["error"]["code"], "invalid_credentials");
    assert_eq!((wrong_status, wrong), (unknown_status, unknown));

    // Five failures per account are allowed in the window; the sixth attempt is refused.
    let mut last = (0, HeaderMap::new());
    for _ in 0..6 {
        let (status, headers, _) = Client::new(&server)
            .request(
                "POST",
                "/api/auth/signin",
                Some(json!({"username": "erin", "password": "wrong-again"})),
                HeaderMap::new(),
            )
            .await;
        last = (status, headers);
    }
    assert_eq!(last.0, 429);
    let retry_after: u64 = last.1.get("retry-after").unwrap().to_str().unwrap().parse().unwrap();
    assert!(retry_after > 0);
    server.stop().await.unwrap();
}

/// The session cookie an answer sets.
fn set_cookie(headers: &HeaderMap) -> &str {
    headers
        .get("set-cookie")
        .expect("a set-cookie header")
        .to_str()
        .unwrap()
}

fn forged_tokens() -> Vec<(&'static str, String)> {
    use base64::Engine;
    let b64 = |s: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
    let now = chrono::Utc::now().timestamp();
    let claims = |exp: i64| json!({"sub": uuid::Uuid::now_v7().to_string(), "username": "mallory", "iat": now - 10, "exp": exp, "jti": "j1"});
    let sign = |alg: jsonwebtoken::Algorithm, key: &[u8], exp: i64| {
        jsonwebtoken::encode(
            &jsonwebtoken::Header::new(alg),
            &claims(exp),
            &jsonwebtoken::EncodingKey::from_secret(key),
        )
        .unwrap()
    };
    let valid = sign(jsonwebtoken::Algorithm::HS256, TEST_JWT_KEY.as_bytes(), now + 3600);
    let payload = valid.split('.').nth(1).unwrap().to_owned();
    vec![
        (
            "forged signature",
            sign(
                jsonwebtoken::Algorithm::HS256,
                b"some-other-key-some-other-key-000",
                now + 3600,
            ),
        ),
        (
            "alg none",
            format!("{}.{payload}.", b64(br#"{"alg":"none","typ":"JWT"}"#)),
        ),
        (
            "another algorithm",
            sign(jsonwebtoken::Algorithm::HS512, TEST_JWT_KEY.as_bytes(), now + 3600),
        ),
        (
            "expired",
            sign(jsonwebtoken::Algorithm::HS256, TEST_JWT_KEY.as_bytes(), now - 3600),
        ),
        ("malformed", "not.a.jwt".into()),
        ("garbage", "%%%".into()),
    ]
}

#[tokio::test]
async fn forged_expired_and_malformed_tokens_are_refused_never_500() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_all_in_one(dir.path(), None, None).await;
    for (what, token) in forged_tokens() {
        let mut client = Client::new(&server);
        client.cookie = Some(token);
        let (status, body) = client.get("/api/users").await;
        assert_eq!(
            (status, &body["error"]["code"]),
            (401, &json!("unauthenticated")),
            "{what}: {body}"
        );
        let (status, body) = client.get("/api/auth/currentuser").await;
        assert_eq!((status, body), (200, json!({"currentUser": null})), "{what}");
    }
    let (status, _) = Client::new(&server).get("/api/users").await;
    assert_eq!(status, 401, "no cookie at all");
    server.stop().await.unwrap();
}

#[tokio::test]
async fn foreign_origin_cannot_sign_up_but_same_origin_can() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_all_in_one(dir.path(), None, None).await;
    let body = json!({"email": "frank@example.org", "username": "frank", "password": "password1"});
    let mut headers = HeaderMap::new();
    headers.insert(ORIGIN, HeaderValue::from_static("https://evil.example"));
    let (status, _, answer) = Client::new(&server)
        .request("POST", "/api/auth/signup", Some(body.clone()), headers)
        .await;
    assert_eq!((status, &answer["error"]["code"]), (403, &json!("forbidden")));

    let mut headers = HeaderMap::new();
    headers.insert(ORIGIN, HeaderValue::from_str(&server.url("")).unwrap());
    let (status, _, answer) = Client::new(&server)
        .request("POST", "/api/auth/signup", Some(body), headers)
        .await;
    assert_eq!(
        status, 201,
        "same origin, and nothing was stored by the refused attempt: {answer}"
    );
    server.stop().await.unwrap();
}

/// Behind a trusted TLS proxy the site is https: an `http://` page of the same host and port is
/// another site. Its sign-up and socket are refused (403 `forbidden`) and leave nothing behind:
/// the same sign-up from the real origin then succeeds. Without a trusted proxy GoChat cannot
/// tell the scheme, and an `https://` page (through a TLS proxy nobody declared) is taken.
#[tokio::test]
async fn an_origin_of_the_other_scheme_cannot_sign_up_or_open_a_socket() {
    let from = |origin: &str| {
        let mut headers = HeaderMap::new();
        headers.insert(ORIGIN, HeaderValue::from_str(origin).unwrap());
        headers
    };
    let dir = tempfile::tempdir().unwrap();
    let server = start_all_in_one(dir.path(), None, None).await;
    let https_here = server.url("").replace("http://", "https://");
    let body = json!({"email": "frank@example.org", "username": "frank", "password": "password1"});
    let (status, _, answer) = Client::new(&server)
        .request("POST", "/api/auth/signup", Some(body), from(&https_here))
        .await;
    assert_eq!(status, 201, "an undeclared TLS proxy's page: {answer}");
    server.stop().await.unwrap();

    let dir = tempfile::tempdir().unwrap();
    let server = common::start_behind_proxy(dir.path()).await;
    let https_here = server.url("").replace("http://", "https://");
    let body = json!({"email": "gina@example.org", "username": "gina", "password": "password1"});
    let through_tls = |origin: &str| {
        let mut headers = from(origin);
        headers.insert("x-forwarded-proto", HeaderValue::from_static("https"));
        headers
    };
    let (status, _, answer) = Client::new(&server)
        .request(
            "POST",
            "/api/auth/signup",
            Some(body.clone()),
            through_tls(&server.url("")),
        )
        .await;
    assert_eq!(
        (status, &answer["error"]["code"]),
        (403, &json!("forbidden")),
        "{answer}"
    );
    let mut gina = Client::new(&server);
    let (status, _, answer) = gina
        .request("POST", "/api/auth/signup", Some(body), through_tls(&https_here))
        .await;
    assert_eq!(status, 201, "nothing was stored by the refused sign-up: {answer}");

    // A socket of the http page, the proxy saying the upgrade came over TLS (`wss`, as Traefik
    // names it), is another site's.
    let socket = {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        let url = server.url("/ws/chat").replace("http://", "ws://");
        let mut request = url.into_client_request().unwrap();
        let headers = request.headers_mut();
        headers.insert("origin", server.url("").parse().unwrap());
        headers.insert("x-forwarded-proto", HeaderValue::from_static("wss"));
        let cookie = format!("auth={}", gina.cookie.as_deref().unwrap());
        headers.insert("cookie", cookie.parse().unwrap());
        tokio_tungstenite::connect_async(request).await
    };
    match socket {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 403);
            let answer: serde_json::Value = serde_json::from_slice(response.body().as_deref().unwrap()).unwrap();
            assert_eq!(answer["error"]["code"], "forbidden", "{answer}");
        }
        Err(e) => panic!("unexpected error {e}"),
        Ok(_) => panic!("a socket of the http page opened behind TLS"),
    }
    server.stop().await.unwrap();
}

#[tokio::test]
async fn registered_users_reach_the_directory_even_past_a_cached_page() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_all_in_one(dir.path(), None, None).await;
    let mut alice = Client::new(&server);
    alice.signup("alice").await;
    let (_, first) = eventually(WAIT, || {
        let mut alice = Client {
            cookie: alice.cookie.clone(),
            ..Client::new(&server)
        };
        async move {
            let (status, body) = alice.get("/api/users").await;
            (usernames(&body) == ["alice"]).then_some((status, body))
        }
    })
    .await;
    assert_eq!(first["users"][0]["online"], false);
    assert_eq!(first["users"][0]["lastSeenAt"], serde_json::Value::Null);

    // That page is cached now; a new user must still show up.
    Client::new(&server).signup("bob").await;
    eventually(WAIT, || {
        let mut alice = Client {
            cookie: alice.cookie.clone(),
            ..Client::new(&server)
        };
        async move { (usernames(&alice.get("/api/users").await.1) == ["alice", "bob"]).then_some(()) }
    })
    .await;
    server.stop().await.unwrap();
}

#[tokio::test]
async fn user_list_searches_by_prefix_and_pages_with_a_cursor() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_all_in_one(dir.path(), None, None).await;
    let names = ["amy", "Andrew", "anna", "bert", "bianca", "carl", "anton"];
    let mut me = Client::new(&server);
    me.signup(names[0]).await;
    for name in &names[1..] {
        Client::new(&server).signup(name).await;
    }
    eventually(WAIT, || {
        let mut me = Client {
            cookie: me.cookie.clone(),
            ..Client::new(&server)
        };
        async move { (usernames(&me.get("/api/users?limit=100").await.1).len() == 7).then_some(()) }
    })
    .await;

    let (status, body) = me.get("/api/users?q=AN").await;
    assert_eq!(status, 200);
    assert_eq!(usernames(&body), ["Andrew", "anna", "anton"]);

    let mut seen = Vec::new();
    let mut path = "/api/users?limit=3".to_owned();
    loop {
        let (status, body) = me.get(&path).await;
        assert_eq!(status, 200);
        seen.extend(usernames(&body));
        match body["nextCursor"].as_str() {
            Some(cursor) => path = format!("/api/users?limit=3&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(seen, ["amy", "Andrew", "anna", "anton", "bert", "bianca", "carl"]);

    // Looked up by id (a former member's name), in the order asked; an unknown id is left out.
    let (_, all) = me.get("/api/users?limit=100").await;
    let id_of = |name: &str| {
        all["users"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["username"] == name)
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let unknown = "0193a5f0-0000-7000-8000-000000000000";
    let (carl, amy) = (id_of("carl"), id_of("amy"));
    let (status, body) = me.get(&format!("/api/users?ids={carl},{unknown},{amy},{carl}")).await;
    assert_eq!(status, 200);
    assert_eq!(usernames(&body), ["carl", "amy"]);
    assert_eq!(body["nextCursor"], json!(null));
    let many = vec![carl.as_str(); 101].join(",");
    let (status, body) = me.get(&format!("/api/users?ids={many}")).await;
    assert_eq!((status, &body["error"]["message"]), (400, &json!("at most 100 ids")));
    let (status, _) = me.get(&format!("/api/users?ids={carl}&cursor=abc")).await;
    assert_eq!(status, 400);

    for bad in [
        "/api/users?limit=0",
        "/api/users?limit=101",
        "/api/users?limit=x",
        "/api/users?cursor=bogus",
        "/api/users?ids=",
        "/api/users?ids=not-an-id",
        "/api/users?ids=x&q=a",
    ] {
        let (status, body) = me.get(bad).await;
        assert_eq!(
            (status, &body["error"]["code"]),
            (400, &json!("invalid_input")),
            "{bad}"
        );
    }
    server.stop().await.unwrap();
}

#[tokio::test]
async fn health_readiness_and_metrics_answer() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_all_in_one(dir.path(), None, None).await;
    let mut client = Client::new(&server);
    assert_eq!(client.get("/healthz").await.0, 200);
    let (status, body) = client.get("/readyz").await;
    assert_eq!((status, &body["bus"]), (200, &json!("in-process")));
    // Every series the contract names is there from the start, before any API request, socket
    // or event (the probes above are requests too).
    let metrics = common::metrics(&server).await;
    for series in [
        "gochat_http_requests_total{route=\"/healthz\",status=\"200\"}",
        "gochat_http_request_duration_seconds_bucket{route=\"/readyz\"",
        "gochat_open_sockets{path=\"/ws/chat\"}",
        "gochat_open_sockets{path=\"/ws/notifications\"}",
        "gochat_events_published_total",
        "gochat_events_consumed_total{queue=\"messages.events\"}",
        "gochat_outbox_depth{db=\"chat\"}",
    ] {
        assert!(metrics.contains(series), "{series} in {metrics}");
    }
    client.signup("gina").await;
    let metrics = common::metrics(&server).await;
    assert!(metrics.contains("route=\"/api/auth/signup\""), "{metrics}");
    server.stop().await.unwrap();
}
