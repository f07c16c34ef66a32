//! The admin's side of password reset links, all in one process over the in-process bus: the
//! accounts list says which accounts have a link that works (until when, never its code), and
//! an admin revokes one sent by mistake, after which its code sets no password.
//! (Making and using a link: `password_change.rs`.)

#![allow(clippy::unwrap_used)] // test helpers fail loudly by design

mod common;

use common::{Client, signed_up, start_all_in_one};
use gochat_kit::testing::TestServer;
use reqwest::header::{HeaderMap, HeaderValue, ORIGIN};
use serde_json::{Value, json};

fn reset_of(id: &str) -> String {
    format!("/api/admin/users/{id}/password-reset")
}

/// A reset link's code for `user`, made by `admin`, and until when it works.
async fn make_link(admin: &mut Client, user: &str) -> (String, Value) {
    let (status, body) = admin.post(&reset_of(user), json!({})).await;
    assert_eq!(status, 201, "{body}");
    let reset = &body["reset"];
    (reset["code"].as_str().unwrap().to_owned(), reset["expiresAt"].clone())
}

async fn revoke(client: &mut Client, user: &str, headers: HeaderMap) -> (u16, Value) {
    let (status, _, body) = client.request("DELETE", &reset_of(user), None, headers).await;
    (status, body)
}

/// `resetExpiresAt` of every account in the admin's list, by username.
async fn listed_expiries(admin: &mut Client) -> Vec<(String, Value)> {
    let (status, body) = admin.get("/api/admin/users").await;
    assert_eq!(status, 200, "{body}");
    body["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| (u["username"].as_str().unwrap().to_owned(), u["resetExpiresAt"].clone()))
        .collect()
}

fn unix_seconds(time: &Value) -> i64 {
    time.as_str()
        .unwrap()
        .parse::<chrono::DateTime<chrono::Utc>>()
        .unwrap()
        .timestamp()
}

/// Sets a password with `code`, from a browser with no session.
async fn use_code(server: &TestServer, code: &str) -> (u16, Value) {
    Client::new(server)
        .post(
            "/api/auth/password-reset",
            json!({"code": code, "newPassword": "a brand new secret"}),
        )
        .await
}

async fn signs_in(server: &TestServer, name: &str, password: &str) -> bool {
    let (status, _) = Client::new(server)
        .post("/api/auth/signin", json!({"username": name, "password": password}))
        .await;
    status == 200
}

#[tokio::test]
async fn the_accounts_list_shows_until_when_a_reset_link_works_and_never_its_code() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_all_in_one(dir.path(), None, None).await;
    let (_, mut root) = signed_up(&server, "root").await;
    let (ann_id, _) = signed_up(&server, "ann").await;
    let (bob_id, _) = signed_up(&server, "bob").await;
    let none = |names: &[&str]| names.iter().map(|n| ((*n).to_owned(), Value::Null)).collect::<Vec<_>>();
    assert_eq!(listed_expiries(&mut root).await, none(&["root", "ann", "bob"]));

    let (code, expires_at) = make_link(&mut root, &ann_id).await;
    let listed = listed_expiries(&mut root).await;
    assert_eq!(
        (&listed[0].1, &listed[2].1),
        (&Value::Null, &Value::Null),
        "nobody else's"
    );
    assert_eq!(unix_seconds(&listed[1].1), unix_seconds(&expires_at), "{listed:?}");
    let (_, page) = root.get("/api/admin/users").await;
    assert!(!page.to_string().contains(&code), "the list never holds a code");
    // The account as a role change answers it says so too.
    let (status, _, body) = root
        .request(
            "PATCH",
            &format!("/api/admin/users/{ann_id}"),
            Some(json!({"role": "member"})),
            HeaderMap::new(),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(unix_seconds(&body["user"]["resetExpiresAt"]), unix_seconds(&expires_at));

    // A newer link replaces it, with its own expiry; a used link is gone from the list.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await; // expiries are in seconds
    let (code, newer) = make_link(&mut root, &ann_id).await;
    assert!(unix_seconds(&newer) > unix_seconds(&expires_at));
    assert_eq!(
        unix_seconds(&listed_expiries(&mut root).await[1].1),
        unix_seconds(&newer)
    );
    make_link(&mut root, &bob_id).await;
    assert_eq!(use_code(&server, &code).await.0, 200);
    let listed = listed_expiries(&mut root).await;
    assert_eq!(
        (&listed[1].1, listed[2].1.is_string()),
        (&Value::Null, true),
        "{listed:?}"
    );
    server.stop().await.unwrap();
}

#[tokio::test]
async fn an_admin_revokes_a_reset_link_and_its_code_sets_no_password() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_all_in_one(dir.path(), None, None).await;
    let (_, mut root) = signed_up(&server, "root").await;
    let (ann_id, _) = signed_up(&server, "ann").await;
    let (code, _) = make_link(&mut root, &ann_id).await;

    assert_eq!(revoke(&mut root, &ann_id, HeaderMap::new()).await.0, 204);
    assert_eq!(listed_expiries(&mut root).await[1].1, Value::Null);
    let (status, body) = use_code(&server, &code).await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (400, &json!("invalid_input")),
        "{body}"
    );
    assert!(
        signs_in(&server, "ann", "password-ann").await,
        "the password is what it was"
    );
    // As for an invitation: nothing left to revoke is 404.
    let (status, body) = revoke(&mut root, &ann_id, HeaderMap::new()).await;
    assert_eq!((status, &body["error"]["code"]), (404, &json!("not_found")), "{body}");

    // A new link works as ever.
    let (code, _) = make_link(&mut root, &ann_id).await;
    assert_eq!(use_code(&server, &code).await.0, 200);
    assert_eq!(revoke(&mut root, &ann_id, HeaderMap::new()).await.0, 404, "used up");
    assert!(signs_in(&server, "ann", "a brand new secret").await);
    server.stop().await.unwrap();
}

#[tokio::test]
async fn a_refused_revocation_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_all_in_one(dir.path(), None, None).await;
    let (root_id, mut root) = signed_up(&server, "root").await;
    let (ann_id, _) = signed_up(&server, "ann").await;
    let (bob_id, mut bob) = signed_up(&server, "bob").await;
    let (code, _) = make_link(&mut root, &ann_id).await;

    let (status, body) = revoke(&mut bob, &ann_id, HeaderMap::new()).await;
    assert_eq!((status, &body["error"]["code"]), (403, &json!("forbidden")), "a member");
    let (status, body) = revoke(&mut Client::new(&server), &ann_id, HeaderMap::new()).await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (401, &json!("unauthenticated")),
        "no session"
    );
    let mut foreign = HeaderMap::new();
    foreign.insert(ORIGIN, HeaderValue::from_static("https://evil.example"));
    let (status, body) = revoke(&mut root, &ann_id, foreign).await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (403, &json!("forbidden")),
        "a foreign origin"
    );
    for id in [uuid::Uuid::now_v7().to_string(), "nobody".to_owned(), "%20".to_owned()] {
        let (status, body) = revoke(&mut root, &id, HeaderMap::new()).await;
        assert_eq!((status, &body["error"]["code"]), (404, &json!("not_found")), "{id}");
    }
    // Not one's own, as for making one, though another admin may have made it.
    let (status, _, _) = root
        .request(
            "PATCH",
            &format!("/api/admin/users/{bob_id}"),
            Some(json!({"role": "admin"})),
            HeaderMap::new(),
        )
        .await;
    assert_eq!(status, 200);
    let (root_code, _) = make_link(&mut bob, &root_id).await;
    let (status, body) = revoke(&mut root, &root_id, HeaderMap::new()).await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (400, &json!("invalid_input")),
        "one's own"
    );
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("change your password"),
        "{body}"
    );

    // Both links still work.
    assert_eq!(use_code(&server, &code).await.0, 200);
    assert_eq!(use_code(&server, &root_code).await.0, 200);
    server.stop().await.unwrap();
}
