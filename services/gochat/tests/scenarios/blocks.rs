//! Blocking: while A blocks B, B cannot message A in their direct conversation, nor edit or
//! react there, and B's typing is not shown (nothing is stored, nothing reaches A), nor open it
//! (403, whether or not it exists), nor put A in a group (403); A still can; groups they share
//! are not affected; unblocking restores everything.

use crate::common::site::{Person, Site, frame};
use serde_json::{Value, json};
use std::sync::Arc;

fn block_path(user: &Person) -> String {
    format!("/api/users/{}/block", user.id)
}

async fn blocked_names(person: &Person) -> Vec<String> {
    let (status, body) = person.get("/api/users/blocked").await;
    assert_eq!(status, 200, "{body}");
    body["users"]
        .as_array()
        .expect("users")
        .iter()
        .map(|u| u["username"].as_str().expect("username").to_owned())
        .collect()
}

pub async fn blocking(site: &Arc<Site>) {
    let ann = site.person("ann").await;
    let ben = site.person("ben").await;
    let cat = site.person("cat").await;
    let dan = site.person("dan").await;
    let direct = ben.direct_with(&ann).await;
    let mut ann0 = ann.tab(0).await;
    let mut ben1 = ben.tab(1).await;
    let mut dan0 = dan.tab(0).await;
    ben1.say(&direct, "before the block").await;
    ann0.message("before the block").await;

    // Ann blocks Ben (who has a conversation with her) and Dan (who has none yet).
    for _ in 0..2 {
        assert_eq!(
            ann.post(&block_path(&ben), json!({})).await.0,
            204,
            "blocking twice is once"
        );
    }
    assert_eq!(ann.post(&block_path(&dan), json!({})).await.0, 204);
    assert_eq!(blocked_names(&ann).await, [ben.name.clone(), dan.name.clone()]);
    assert_eq!(blocked_names(&ben).await, Vec::<String>::new(), "blocking is one way");
    for (path, status) in [
        (block_path(&ann), 400),
        (format!("/api/users/{}/block", uuid::Uuid::new_v4()), 404),
        ("/api/users/not-an-id/block".to_owned(), 404),
    ] {
        let (got, body) = ann.post(&path, json!({})).await;
        assert_eq!(got, status, "{path}: {body}");
    }
    for (method, path) in [
        ("POST", block_path(&ben)),
        ("DELETE", block_path(&ben)),
        ("GET", "/api/users/blocked".into()),
    ] {
        let status = reqwest::Client::new()
            .request(method.parse().expect("method"), format!("{}{path}", site.messages))
            .send()
            .await
            .expect("request sent")
            .status();
        assert_eq!(status, 401, "{method} {path} without a session");
    }

    // Their sends are refused, whether into the conversation or to Ann by id.
    let mark = ann0.log.len();
    let client_id = ben1.say(&direct, "let me talk").await;
    assert_eq!(ben1.refused("forbidden").await["clientId"], client_id);
    let to_ann = |body: &str| json!({"type": "send", "clientId": uuid::Uuid::new_v4(), "to": ann.id, "body": body});
    ben1.send(to_ann("by id then")).await;
    ben1.refused("forbidden").await;
    dan0.send(to_ann("hello stranger")).await;
    dan0.refused("forbidden").await;
    // Nor do his edits, reactions or typing reach her there.
    ben1.send(frame::edit(&direct, 1, "changed my mind")).await;
    ben1.refused("forbidden").await;
    ben1.send(frame::react(&direct, 1, "👍", true)).await;
    ben1.refused("forbidden").await;
    ben1.send(frame::typing(&direct)).await;
    // Opening the conversation: 403 whether it exists or not; Ben keeps his.
    for person in [&ben, &dan] {
        let (status, body) = person.post("/api/conversations", json!({"peerId": ann.id})).await;
        assert_eq!(
            (status, &body["error"]["code"]),
            (403, &json!("forbidden")),
            "{}",
            person.name
        );
    }
    assert!(
        ben.listed(&direct).await.is_some(),
        "the conversation stays in Ben's list"
    );
    let (_, dans) = dan.get("/api/conversations").await;
    assert_eq!(dans["conversations"], json!([]), "nothing was created for Dan");
    let (_, anns) = ann.get("/api/conversations").await;
    assert_eq!(
        anns["conversations"].as_array().map(Vec::len),
        Some(1),
        "nor for Ann: {anns}"
    );
    let history = ann.history(&direct).await;
    assert_eq!(history.len(), 1, "nothing was stored");
    assert_eq!(
        (&history[0]["body"], &history[0]["reactions"]),
        (&json!("before the block"), &json!([])),
        "nothing was changed"
    );

    // Nothing reached Ann: a later message from someone else is the first thing she gets.
    let marker = cat.direct_with(&ann).await;
    let mut cat1 = cat.tab(1).await;
    cat1.say(&marker, "marker").await;
    ann0.message("marker").await;
    let reached: Vec<&Value> = ann0
        .since(mark)
        .iter()
        .filter(|f| !(f["type"] == "conversation" && f["conversation"]["id"] == marker))
        .filter(|f| !(f["type"] == "message" && f["message"]["body"] == "marker"))
        .collect();
    assert!(reached.is_empty(), "Ann got {reached:?}");

    // One way: Ann still messages Ben; groups they share are not affected.
    ann0.say(&direct, "I can still talk").await;
    ben1.message("I can still talk").await;
    let group = ann.create_group("Both of us", &[&ben]).await;
    ben1.say(&group, "in the group").await;
    ann0.message("in the group").await;
    // But Ben cannot put Ann in a group of his: neither create one with her nor add her to one.
    let (status, body) = ben
        .post(
            "/api/conversations",
            json!({"title": "Pulled in", "memberIds": [ann.id, cat.id]}),
        )
        .await;
    assert_eq!((status, &body["error"]["code"]), (403, &json!("forbidden")), "{body}");
    let bens = ben.create_group("Ben's", &[&cat]).await;
    let add_ann = format!("/api/conversations/{bens}/members");
    let (status, body) = ben.post(&add_ann, json!({"userIds": [ann.id]})).await;
    assert_eq!((status, &body["error"]["code"]), (403, &json!("forbidden")), "{body}");
    let (_, list) = ann.get("/api/conversations").await;
    for title in ["Pulled in", "Ben's"] {
        assert!(!list.to_string().contains(title), "Ann is in no group of Ben's: {list}");
    }

    // Unblocking restores Ben's messages and his right to open the conversation.
    for _ in 0..2 {
        assert_eq!(ann.delete(&block_path(&ben)).await.0, 204, "unblocking twice is once");
    }
    assert_eq!(blocked_names(&ann).await, std::slice::from_ref(&dan.name));
    ben1.say(&direct, "back again").await;
    assert_eq!(ann0.message("back again").await["seq"], 3);
    let (status, body) = ben.post("/api/conversations", json!({"peerId": ann.id})).await;
    assert_eq!((status, &body["conversation"]["id"]), (200, &json!(direct)));
    assert_eq!(ben.post(&add_ann, json!({"userIds": [ann.id]})).await.0, 200);
    // Dan is still blocked.
    dan0.send(to_ann("still there?")).await;
    dan0.refused("forbidden").await;
}
