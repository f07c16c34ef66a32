//! Roles, the sign-up policy, invitations and disabled accounts, all in one process over the
//! in-process bus.

#![allow(clippy::unwrap_used)] // test helpers fail loudly by design

mod common;

use common::{Client, fast_settings};
use gochat_kit::testing::TestServer;
use gochat_proto::admin::SignupPolicy;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};
use std::path::Path;

async fn start(dir: &Path, signup: Option<SignupPolicy>) -> TestServer {
    let mut services = fast_settings();
    services.auth.signup = signup;
    TestServer::start(TestServer::settings(dir, None), None, |rt| gochat::app(rt, services))
        .await
        .unwrap()
}

fn account(name: &str) -> Value {
    json!({"email": format!("{name}@example.org"), "username": name, "password": format!("password-{name}")})
}

fn with_invite(name: &str, code: &str) -> Value {
    let mut body = account(name);
    body["inviteCode"] = json!(code);
    body
}

async fn patch(client: &mut Client, path: &str, body: Value) -> (u16, Value) {
    let (status, _, body) = client.request("PATCH", path, Some(body), HeaderMap::new()).await;
    (status, body)
}

async fn set_policy(admin: &mut Client, policy: &str) {
    let (status, body) = patch(admin, "/api/admin/settings", json!({"signup": policy})).await;
    assert_eq!((status, &body["settings"]["signup"]), (200, &json!(policy)), "{body}");
}

async fn invite(admin: &mut Client, body: Value) -> String {
    let (status, answer) = admin.post("/api/admin/invites", body).await;
    assert_eq!(status, 201, "{answer}");
    answer["invite"]["code"].as_str().unwrap().to_owned()
}

fn code(body: &Value) -> &Value {
    &body["error"]["code"]
}

#[tokio::test]
async fn the_first_account_is_admin_and_every_later_one_a_member() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), None).await;
    let mut admin = Client::new(&server);
    let (status, body) = admin.post("/api/auth/signup", account("ada")).await;
    assert_eq!((status, &body["user"]["role"]), (201, &json!("admin")), "{body}");
    let mut member = Client::new(&server);
    let (_, body) = member.post("/api/auth/signup", account("bob")).await;
    assert_eq!(body["user"]["role"], "member");

    let (_, body) = admin.get("/api/auth/currentuser").await;
    assert_eq!(body["currentUser"]["role"], "admin");
    let (_, body) = member.get("/api/auth/currentuser").await;
    assert_eq!(body["currentUser"]["role"], "member");
    let (status, body) = Client::new(&server)
        .post(
            "/api/auth/signin",
            json!({"username": "bob", "password": "password-bob"}),
        )
        .await;
    assert_eq!((status, &body["user"]["role"]), (200, &json!("member")));
    server.stop().await.unwrap();
}

#[tokio::test]
async fn everyone_but_the_admin_is_refused_every_admin_route() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), None).await;
    let mut admin = Client::new(&server);
    admin.signup("ada").await;
    let mut member = Client::new(&server);
    let bob = member.signup("bob").await;
    let routes = [
        ("GET", "/api/admin/settings".to_owned(), None),
        (
            "PATCH",
            "/api/admin/settings".to_owned(),
            Some(json!({"signup": "open"})),
        ),
        ("POST", "/api/admin/invites".to_owned(), Some(json!({}))),
        ("GET", "/api/admin/invites".to_owned(), None),
        ("DELETE", format!("/api/admin/invites/{}", "0".repeat(64)), None),
        ("GET", "/api/admin/users".to_owned(), None),
        (
            "PATCH",
            format!("/api/admin/users/{bob}"),
            Some(json!({"role": "admin"})),
        ),
        ("POST", format!("/api/admin/users/{bob}/disable"), Some(json!({}))),
        ("POST", format!("/api/admin/users/{bob}/enable"), Some(json!({}))),
        (
            "POST",
            format!("/api/admin/users/{bob}/password-reset"),
            Some(json!({})),
        ),
        ("DELETE", format!("/api/admin/users/{bob}/password-reset"), None),
    ];
    for (method, path, body) in &routes {
        let (status, _, answer) = member.request(method, path, body.clone(), HeaderMap::new()).await;
        assert_eq!((status, code(&answer)), (403, &json!("forbidden")), "{method} {path}");
        let (status, _, answer) = Client::new(&server)
            .request(method, path, body.clone(), HeaderMap::new())
            .await;
        assert_eq!(
            (status, code(&answer)),
            (401, &json!("unauthenticated")),
            "{method} {path}"
        );
    }
    // Nothing changed: bob was not disabled, the policy is still open.
    assert_eq!(
        member.get("/api/auth/currentuser").await.1["currentUser"]["username"],
        "bob"
    );
    let (_, body) = admin.get("/api/admin/settings").await;
    assert_eq!(body, json!({"settings": {"signup": "open"}}));
    server.stop().await.unwrap();
}

#[tokio::test]
async fn under_invite_sign_up_needs_a_valid_code_which_is_used_up() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), None).await;
    let mut admin = Client::new(&server);
    admin.signup("ada").await;
    set_policy(&mut admin, "invite").await;

    // No code, a wrong one, one longer than any code: not a valid one, as the contract says.
    for body in [
        account("eve"),
        with_invite("eve", "not-a-real-code"),
        with_invite("eve", &"x".repeat(65)),
    ] {
        let (status, answer) = Client::new(&server).post("/api/auth/signup", body).await;
        assert_eq!((status, code(&answer)), (403, &json!("forbidden")), "{answer}");
    }

    let (status, answer) = admin.post("/api/admin/invites", json!({})).await;
    assert_eq!(status, 201, "{answer}");
    assert_eq!(answer["invite"]["usesLeft"], 1, "one use by default");
    let expires: chrono::DateTime<chrono::Utc> = answer["invite"]["expiresAt"].as_str().unwrap().parse().unwrap();
    let week = chrono::Utc::now() + chrono::Duration::hours(168);
    assert!(
        (expires - week).num_seconds().abs() < 60,
        "a week by default: {expires}"
    );
    let once = answer["invite"]["code"].as_str().unwrap().to_owned();

    let mut carol = Client::new(&server);
    let (status, body) = carol.post("/api/auth/signup", with_invite("carol", &once)).await;
    assert_eq!((status, &body["user"]["role"]), (201, &json!("member")), "{body}");
    let (status, answer) = Client::new(&server)
        .post("/api/auth/signup", with_invite("dave", &once))
        .await;
    assert_eq!((status, code(&answer)), (403, &json!("forbidden")), "used up");

    let twice = invite(&mut admin, json!({"maxUses": 2, "expiresInHours": 1})).await;
    for name in ["dave", "erin"] {
        let (status, _) = Client::new(&server)
            .post("/api/auth/signup", with_invite(name, &twice))
            .await;
        assert_eq!(status, 201, "{name}");
    }
    let (status, _) = Client::new(&server)
        .post("/api/auth/signup", with_invite("fay", &twice))
        .await;
    assert_eq!(status, 403);

    // Closed: not even with a code. Open: no code needed.
    let spare = invite(&mut admin, json!({"maxUses": 5})).await;
    set_policy(&mut admin, "closed").await;
    let (status, answer) = Client::new(&server)
        .post("/api/auth/signup", with_invite("fay", &spare))
        .await;
    assert_eq!((status, code(&answer)), (403, &json!("forbidden")));
    // Whatever the sign-up holds: closed is closed (not a 400 for a bad address or code).
    let mut odd = with_invite("gus", &"x".repeat(100));
    odd["email"] = json!("not an address");
    let (status, answer) = Client::new(&server).post("/api/auth/signup", odd).await;
    assert_eq!((status, code(&answer)), (403, &json!("forbidden")));
    set_policy(&mut admin, "open").await;
    Client::new(&server).signup("fay").await;
    server.stop().await.unwrap();
}

/// A second admin: the admin makes a member an admin, who may use the admin routes at once
/// (roles are read on every request, not from the token); nobody changes their own role.
#[tokio::test]
async fn an_admin_makes_another_admin_who_can_then_demote_the_first() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), None).await;
    let mut ada = Client::new(&server);
    let ada_id = ada.signup("ada").await;
    let mut bob = Client::new(&server);
    let bob_id = bob.signup("bob").await;
    assert_eq!(bob.get("/api/admin/settings").await.0, 403);

    let (status, body) = patch(
        &mut ada,
        &format!("/api/admin/users/{bob_id}"),
        json!({"role": "admin"}),
    )
    .await;
    assert_eq!(
        (status, &body["user"]["username"], &body["user"]["role"]),
        (200, &json!("bob"), &json!("admin"))
    );
    assert_eq!(bob.get("/api/admin/settings").await.0, 200);
    assert_eq!(bob.get("/api/auth/currentuser").await.1["currentUser"]["role"], "admin");

    for (who, path, body, expected) in [
        (
            "ada",
            format!("/api/admin/users/{ada_id}"),
            json!({"role": "member"}),
            400,
        ),
        (
            "ada",
            format!("/api/admin/users/{}", uuid::Uuid::now_v7()),
            json!({"role": "admin"}),
            404,
        ),
        (
            "ada",
            format!("/api/admin/users/{bob_id}"),
            json!({"role": "owner"}),
            400,
        ),
        ("ada", format!("/api/admin/users/{bob_id}"), json!({}), 400),
    ] {
        let (status, answer) = patch(&mut ada, &path, body.clone()).await;
        assert_eq!(status, expected, "{who} {path} {body}: {answer}");
    }
    assert_eq!(
        ada.get("/api/auth/currentuser").await.1["currentUser"]["role"],
        "admin",
        "unchanged"
    );

    let (status, body) = patch(
        &mut bob,
        &format!("/api/admin/users/{ada_id}"),
        json!({"role": "member"}),
    )
    .await;
    assert_eq!((status, &body["user"]["role"]), (200, &json!("member")));
    assert_eq!(ada.get("/api/admin/users").await.0, 403);
    server.stop().await.unwrap();
}

/// The admin sees the invitations that can still be used (not their codes, only the first
/// letters) and revokes one that went to the wrong person: its code signs nobody up.
#[tokio::test]
async fn the_admin_lists_live_invitations_and_revokes_one() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), None).await;
    let mut admin = Client::new(&server);
    admin.signup("ada").await;
    set_policy(&mut admin, "invite").await;
    let used = invite(&mut admin, json!({})).await;
    let (status, _) = Client::new(&server)
        .post("/api/auth/signup", with_invite("carol", &used))
        .await;
    assert_eq!(status, 201);
    let first = invite(&mut admin, json!({"maxUses": 3})).await;
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await; // creation times are in seconds
    let second = invite(&mut admin, json!({})).await;

    let (status, list) = admin.get("/api/admin/invites").await;
    assert_eq!(status, 200);
    let listed = list["invites"].as_array().unwrap();
    let hints: Vec<&str> = listed.iter().map(|i| i["hint"].as_str().unwrap()).collect();
    assert_eq!(hints, [&second[..4], &first[..4]], "newest first, the used-up one gone");
    assert_eq!(
        (&listed[1]["usesLeft"], &listed[1]["createdBy"]["username"]),
        (&json!(3), &json!("ada"))
    );
    assert!(!list.to_string().contains(&first), "the list never holds a code");

    let id = listed[1]["id"].as_str().unwrap();
    let path = format!("/api/admin/invites/{id}");
    assert_eq!(admin.request("DELETE", &path, None, HeaderMap::new()).await.0, 204);
    let (status, answer) = Client::new(&server)
        .post("/api/auth/signup", with_invite("dave", &first))
        .await;
    assert_eq!(
        (status, code(&answer)),
        (403, &json!("forbidden")),
        "a revoked code signs nobody up"
    );
    let (status, _, answer) = admin.request("DELETE", &path, None, HeaderMap::new()).await;
    assert_eq!((status, code(&answer)), (404, &json!("not_found")), "already revoked");
    assert_eq!(
        admin.get("/api/admin/invites").await.1["invites"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let (status, _) = Client::new(&server)
        .post("/api/auth/signup", with_invite("erin", &second))
        .await;
    assert_eq!(status, 201, "the other one still works");
    server.stop().await.unwrap();
}

/// Both fields of `POST /api/admin/invites` are optional, so the request may carry no body at
/// all (as `fetch(url, {method: "POST"})` sends it): the defaults apply.
#[tokio::test]
async fn an_invitation_without_a_body_takes_the_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), None).await;
    let mut admin = Client::new(&server);
    admin.signup("ada").await;
    let (status, _, answer) = admin
        .request("POST", "/api/admin/invites", None, HeaderMap::new())
        .await;
    assert_eq!((status, &answer["invite"]["usesLeft"]), (201, &json!(1)), "{answer}");
    let expires: chrono::DateTime<chrono::Utc> = answer["invite"]["expiresAt"].as_str().unwrap().parse().unwrap();
    let hours = (expires - chrono::Utc::now()).num_minutes() as f64 / 60.0;
    assert!((167.9..=168.0).contains(&hours), "expires in {hours} h");

    let mut json_header = HeaderMap::new();
    json_header.insert(reqwest::header::CONTENT_TYPE, "application/json".parse().unwrap());
    let (status, _, answer) = admin.request("POST", "/api/admin/invites", None, json_header).await;
    assert_eq!((status, &answer["invite"]["usesLeft"]), (201, &json!(1)), "{answer}");

    let mut text_header = HeaderMap::new();
    text_header.insert(reqwest::header::CONTENT_TYPE, "text/plain".parse().unwrap());
    let (status, _, answer) = admin
        .request("POST", "/api/admin/invites", Some(json!({"maxUses": 2})), text_header)
        .await;
    assert_eq!((status, code(&answer)), (400, &json!("invalid_input")), "{answer}");
    server.stop().await.unwrap();
}

#[tokio::test]
async fn invitations_and_settings_refuse_bad_input_and_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), None).await;
    let mut admin = Client::new(&server);
    admin.signup("ada").await;
    for bad in [
        json!({"maxUses": 0}),
        json!({"maxUses": 1001}),
        json!({"expiresInHours": 0}),
        json!({"expiresInHours": 721}),
        json!({"maxUses": "many"}),
        json!({"maxUses": -1}),
    ] {
        let (status, answer) = admin.post("/api/admin/invites", bad.clone()).await;
        assert_eq!((status, code(&answer)), (400, &json!("invalid_input")), "{bad}");
    }
    let (status, answer) = admin
        .post("/api/admin/invites", json!({"maxUses": 1000, "expiresInHours": 720}))
        .await;
    assert_eq!((status, &answer["invite"]["usesLeft"]), (201, &json!(1000)));

    for bad in [json!({"signup": "sometimes"}), json!({"signup": 1}), json!("open")] {
        let (status, answer) = patch(&mut admin, "/api/admin/settings", bad.clone()).await;
        assert_eq!((status, code(&answer)), (400, &json!("invalid_input")), "{bad}");
    }
    assert_eq!(admin.get("/api/admin/settings").await.1["settings"]["signup"], "open");
    server.stop().await.unwrap();
}

#[tokio::test]
async fn gochat_signup_is_the_initial_policy_and_the_admins_choice_wins_across_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), Some(SignupPolicy::Closed)).await;
    // The very first account can always be created.
    let mut admin = Client::new(&server);
    admin.signup("ada").await;
    assert_eq!(admin.get("/api/admin/settings").await.1["settings"]["signup"], "closed");
    let (status, _) = Client::new(&server).post("/api/auth/signup", account("bob")).await;
    assert_eq!(status, 403);
    set_policy(&mut admin, "open").await;
    let cookie = admin.cookie.clone();
    server.stop().await.unwrap();

    // Restarted with GOCHAT_SIGNUP=closed still set: the admin's choice stands.
    let server = start(dir.path(), Some(SignupPolicy::Closed)).await;
    let mut admin = Client {
        cookie,
        ..Client::new(&server)
    };
    assert_eq!(admin.get("/api/admin/settings").await.1["settings"]["signup"], "open");
    Client::new(&server).signup("bob").await;
    server.stop().await.unwrap();
}

#[tokio::test]
async fn the_admin_lists_accounts_page_by_page() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), None).await;
    let mut admin = Client::new(&server);
    let ada = admin.signup("ada").await;
    for name in ["bob", "cat", "dan", "eve"] {
        Client::new(&server).signup(name).await;
    }
    let (status, body) = admin.get("/api/admin/users").await;
    assert_eq!(status, 200);
    let first = &body["users"][0];
    assert_eq!(first["id"], ada.as_str());
    assert_eq!(first["username"], "ada");
    assert_eq!(first["email"], "ada@example.org");
    assert_eq!(first["role"], "admin");
    assert_eq!(first["disabled"], false);
    assert!(
        first["createdAt"]
            .as_str()
            .unwrap()
            .parse::<chrono::DateTime<chrono::Utc>>()
            .is_ok()
    );
    assert_eq!(body["nextCursor"], Value::Null);

    let mut seen = Vec::new();
    let mut path = "/api/admin/users?limit=2".to_owned();
    loop {
        let (status, body) = admin.get(&path).await;
        assert_eq!(status, 200, "{body}");
        seen.extend(
            body["users"]
                .as_array()
                .unwrap()
                .iter()
                .map(|u| u["username"].as_str().unwrap().to_owned()),
        );
        match body["nextCursor"].as_str() {
            Some(cursor) => path = format!("/api/admin/users?limit=2&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(seen, ["ada", "bob", "cat", "dan", "eve"]);
    for bad in ["?limit=0", "?limit=101", "?limit=x", "?cursor=bogus"] {
        let (status, body) = admin.get(&format!("/api/admin/users{bad}")).await;
        assert_eq!((status, code(&body)), (400, &json!("invalid_input")), "{bad}");
    }
    server.stop().await.unwrap();
}

#[tokio::test]
async fn a_disabled_account_loses_every_session_everywhere_and_cannot_sign_in() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), None).await;
    let mut admin = Client::new(&server);
    let ada = admin.signup("ada").await;
    let mut bob = Client::new(&server);
    let bob_id = bob.signup("bob").await;
    let mut bob_phone = Client::new(&server);
    let (status, _) = bob_phone
        .post(
            "/api/auth/signin",
            json!({"username": "bob", "password": "password-bob"}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(bob.get("/api/users").await.0, 200);

    let (status, body) = admin.post(&format!("/api/admin/users/{ada}/disable"), json!({})).await;
    assert_eq!((status, code(&body)), (400, &json!("invalid_input")), "not yourself");
    for unknown in [uuid::Uuid::now_v7().to_string(), "not-an-id".to_owned()] {
        let (status, body) = admin
            .post(&format!("/api/admin/users/{unknown}/disable"), json!({}))
            .await;
        assert_eq!((status, code(&body)), (404, &json!("not_found")));
    }

    let (status, _) = admin
        .post(&format!("/api/admin/users/{bob_id}/disable"), json!({}))
        .await;
    assert_eq!(status, 204);
    // Every service refuses both sessions by the time disabling is answered.
    for session in [&mut bob, &mut bob_phone] {
        assert_eq!(
            session.get("/api/auth/currentuser").await.1,
            json!({"currentUser": null})
        );
        for route in ["/api/users", "/api/conversations", "/api/notifications"] {
            assert_eq!(session.get(route).await.0, 401, "{route}");
        }
    }
    let (status, body) = Client::new(&server)
        .post(
            "/api/auth/signin",
            json!({"username": "bob", "password": "password-bob"}),
        )
        .await;
    assert_eq!((status, code(&body)), (403, &json!("forbidden")));
    let (status, body) = Client::new(&server)
        .post(
            "/api/auth/signin",
            json!({"username": "bob", "password": "wrong-password"}),
        )
        .await;
    assert_eq!(
        (status, code(&body)),
        (401, &json!("invalid_credentials")),
        "no hint without the password"
    );
    let (_, list) = admin.get("/api/admin/users").await;
    assert_eq!(list["users"][1]["disabled"], true);

    // Enabled again: bob signs in anew; the sessions he had stay ended.
    let (status, _) = admin
        .post(&format!("/api/admin/users/{bob_id}/enable"), json!({}))
        .await;
    assert_eq!(status, 204);
    // Signing in at once (most likely within the second of the disabling, which a token's
    // whole-second iat cannot tell from before it) gives a session that works everywhere.
    let mut again = Client::new(&server);
    let (status, _) = again
        .post(
            "/api/auth/signin",
            json!({"username": "bob", "password": "password-bob"}),
        )
        .await;
    assert_eq!(status, 200);
    for route in ["/api/users", "/api/conversations", "/api/notifications"] {
        assert_eq!(again.get(route).await.0, 200, "{route}");
    }
    assert_eq!(bob.get("/api/users").await.0, 401);
    assert_eq!(bob.get("/api/auth/currentuser").await.1, json!({"currentUser": null}));
    server.stop().await.unwrap();
}
