//! Replies, edits, deletes and reactions: who may, what is refused (and changes nothing), that a
//! deleted message's text is gone from the database, and catching up on changes after being
//! offline.

use super::{changes, error_codes, text};
use crate::common::eventually;
use crate::common::site::{Person, Site, Tab, WAIT, bodies, frame};
use serde_json::{Value, json};
use std::sync::Arc;

/// Sends `frame` from `tab` and asserts the `error` code it is answered with.
async fn refused(tab: &mut Tab, request: Value, code: &str) {
    tab.send(request.clone()).await;
    let error = tab.next_of("error").await;
    assert_eq!(error["code"], code, "{}: {request} → {error}", tab.who);
}

/// The `message.updated` frame with this change.
async fn updated(tab: &mut Tab, change: i64) -> Value {
    let frame = tab
        .until(&format!("message.updated {change}"), |f| {
            f["type"] == "message.updated" && f["change"] == change
        })
        .await;
    frame["message"].clone()
}

/// The conversation's changes since `since`, with a status check.
async fn changes_since(person: &Person, conversation: &str, query: &str) -> Value {
    let (status, page) = person
        .get(&format!("/api/conversations/{conversation}/changes?{query}"))
        .await;
    assert_eq!(status, 200, "{query}: {page}");
    page
}

/// The seqs of the `message` frames a tab received in `conversation`.
fn seqs_in(tab: &Tab, conversation: &str) -> Vec<i64> {
    tab.frames("message")
        .iter()
        .filter(|m| m["message"]["conversationId"] == conversation)
        .map(|m| m["message"]["seq"].as_i64().expect("seq"))
        .collect()
}

/// Returns once everything `tab` sent before was applied: a request refused by the messages
/// service is answered after it (the frames of a socket are recorded and applied in order).
async fn flush(tab: &mut Tab) {
    refused(tab, frame::read(&uuid::Uuid::new_v4().to_string(), 1), "not_found").await;
}

fn seqs(messages: &Value) -> Vec<i64> {
    messages
        .as_array()
        .expect("messages")
        .iter()
        .map(|m| m["seq"].as_i64().expect("seq"))
        .collect()
}

/// Counts the rows a query over a service's SQLite file returns (read only, beside the service).
fn count(db: &std::path::Path, sql: &str, param: &str) -> i64 {
    let conn = rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .expect("the database opens");
    conn.query_row(sql, [param], |r| r.get(0)).expect("the query runs")
}

pub async fn replies_edits_deletes_and_reactions(site: &Arc<Site>) {
    let ann = site.person("ann").await;
    let ben = site.person("ben").await;
    let cat = site.person("cat").await;
    let group = ann.create_group("Replies", &[&ben, &cat]).await;
    let dee = site.person("dee").await;
    let elsewhere = ann.create_group("Elsewhere", &[&dee]).await;
    let mut ann0 = ann.tab(0).await;
    let mut ann1 = ann.tab(1).await;
    let mut ben1 = ben.tab(1).await;
    let mut cat0 = cat.tab(0).await;

    ann0.say(&group, "draftword one").await;
    for tab in [&mut ann0, &mut ann1, &mut ben1, &mut cat0] {
        tab.message("draftword one").await;
    }
    let previews = "SELECT count(*) FROM notifications WHERE preview LIKE '%' || ?1 || '%'";
    let notes = &site.notifications_db;
    eventually(WAIT, || async {
        (count(notes, previews, "draftword") == 2).then_some(())
    })
    .await;
    // Replies name a seq of the same conversation.
    let client_id = uuid::Uuid::new_v4().to_string();
    ben1.send(
        json!({"type": "send", "clientId": client_id, "conversationId": group, "body": "answerword", "replyToSeq": 1}),
    )
    .await;
    for tab in [&mut ann0, &mut ann1, &mut ben1, &mut cat0] {
        let reply = tab.message("answerword").await;
        assert_eq!((&reply["seq"], &reply["replyToSeq"]), (&json!(2), &json!(1)));
    }
    for i in 1..=5 {
        ann0.say(&elsewhere, &format!("elsewhere {i}")).await;
    }
    ann0.message("elsewhere 5").await;
    let reply_to = |seq: Value| json!({"type": "send", "clientId": uuid::Uuid::new_v4(), "conversationId": group, "body": "lost reply", "replyToSeq": seq});
    for (seq, code) in [
        (json!(5), "not_found"), // a seq of another conversation
        (json!(3), "not_found"), // the next seq, not there yet
        (json!(0), "invalid_input"),
        (json!(-1), "invalid_input"),
        (json!("two"), "invalid_input"),
    ] {
        let request = reply_to(seq);
        ben1.send(request.clone()).await;
        let error = ben1.next_of("error").await;
        assert_eq!(error["code"], code, "{request}");
        if code == "not_found" {
            assert_eq!(error["clientId"], request["clientId"]);
        }
    }
    // A first message to someone cannot answer anything: refused, and nothing is opened.
    let first_reply =
        json!({"type": "send", "clientId": uuid::Uuid::new_v4(), "to": dee.id, "body": "re?", "replyToSeq": 1});
    ben1.send(first_reply.clone()).await;
    assert_eq!(ben1.refused("not_found").await["clientId"], first_reply["clientId"]);
    let (_, bens) = ben.get("/api/conversations").await;
    assert_eq!(
        bens["conversations"].as_array().map(Vec::len),
        Some(1),
        "only the group: {bens}"
    );

    // Edits: own messages only; anything refused changes nothing.
    refused(&mut ben1, frame::edit(&group, 1, "not yours"), "forbidden").await;
    let long = "x".repeat(4001);
    for (request, code) in [
        (frame::edit(&group, 99, "nothing there"), "not_found"),
        (frame::edit(&elsewhere, 9, "nothing there"), "not_found"),
        (
            frame::edit(&uuid::Uuid::new_v4().to_string(), 1, "nowhere"),
            "not_found",
        ),
        (frame::edit(&group, 1, ""), "invalid_input"),
        (frame::edit(&group, 1, "  \n "), "invalid_input"),
        (frame::edit(&group, 1, &long), "invalid_input"),
        (frame::edit(&group, 0, "zero"), "invalid_input"),
        (
            json!({"type": "edit", "conversationId": group, "seq": 1}),
            "invalid_input",
        ),
    ] {
        refused(&mut ann0, request, code).await;
    }
    let page = changes_since(&ann, &group, "since=0").await;
    assert_eq!((&page["messages"], &page["lastChange"]), (&json!([]), &json!(0)));
    let history = ann.history(&group).await;
    assert_eq!(history.len(), 2, "no refused reply was stored");
    assert_eq!(
        (&history[0]["body"], &history[0]["editedAt"]),
        (&json!("draftword one"), &Value::Null)
    );

    ann0.send(frame::edit(&group, 1, "polishedword version")).await;
    for tab in [&mut ann0, &mut ann1, &mut ben1, &mut cat0] {
        let edited = updated(tab, 1).await;
        assert_eq!(
            (&edited["seq"], &edited["body"]),
            (&json!(1), &json!("polishedword version"))
        );
        assert!(edited["editedAt"].is_string() && edited["deletedAt"].is_null());
    }
    ann0.send(frame::edit(&group, 1, "polishedword version")).await; // the same text: no change

    // Reactions: any member, exactly one emoji, toggled per user.
    let steps = [
        (&cat, frame::react(&group, 1, "👍", true), vec![("👍", vec![&cat])]),
        (
            &ben,
            frame::react(&group, 1, "👍", true),
            vec![("👍", vec![&cat, &ben])],
        ),
        (
            &ben,
            frame::react(&group, 1, "🎉", true),
            vec![("👍", vec![&cat, &ben]), ("🎉", vec![&ben])],
        ),
        (
            &ben,
            frame::react(&group, 1, "🎉", false),
            vec![("👍", vec![&cat, &ben])],
        ),
        (&cat, frame::react(&group, 1, "👍", false), vec![("👍", vec![&ben])]),
        (&ann, frame::react(&group, 2, "👍🏽", true), vec![("👍🏽", vec![&ann])]),
        // A heart typed without its emoji selector is the same heart, taken back either way.
        (
            &ben,
            frame::react(&group, 2, "❤", true),
            vec![("👍🏽", vec![&ann]), ("❤️", vec![&ben])],
        ),
        (&ben, frame::react(&group, 2, "❤️", false), vec![("👍🏽", vec![&ann])]),
    ];
    let mut change = 1;
    for (who, request, expected) in steps {
        let tab = if who.id == ann.id {
            &mut ann0
        } else if who.id == ben.id {
            &mut ben1
        } else {
            &mut cat0
        };
        tab.send(request.clone()).await;
        // Repeating a step changes nothing (so no change number is used up).
        tab.send(request.clone()).await;
        change += 1;
        let message = updated(&mut ann1, change).await;
        let reactions: Vec<(String, Vec<String>)> = message["reactions"]
            .as_array()
            .expect("reactions")
            .iter()
            .map(|r| {
                let users = r["userIds"]
                    .as_array()
                    .expect("userIds")
                    .iter()
                    .map(|u| text(u).to_owned());
                (text(&r["emoji"]).to_owned(), users.collect())
            })
            .collect();
        let expected: Vec<(String, Vec<String>)> = expected
            .into_iter()
            .map(|(emoji, users)| (emoji.to_owned(), users.iter().map(|p| p.id.clone()).collect()))
            .collect();
        assert_eq!(reactions, expected, "after {request}");
    }
    flush(&mut ann0).await; // Ann's repeated reaction was applied (as nothing) before this
    for (request, code) in [
        (frame::react(&group, 1, "x", true), "invalid_input"),
        (frame::react(&group, 1, "👍👍", true), "invalid_input"),
        (frame::react(&group, 1, "<script>", true), "invalid_input"),
        (frame::react(&group, 1, "", true), "invalid_input"),
        (frame::react(&group, 1, "👨‍👩‍👧‍👦", true), "invalid_input"),
        (frame::react(&group, 1, "hello", false), "invalid_input"),
        (frame::react(&group, 0, "👍", true), "invalid_input"),
        (frame::react(&group, 99, "👍", true), "not_found"),
        (
            json!({"type": "react", "conversationId": group, "seq": 1, "emoji": "👍"}),
            "invalid_input",
        ),
    ] {
        refused(&mut cat0, request, code).await;
    }
    let page = changes_since(&ann, &group, "since=0").await;
    assert_eq!(page["lastChange"], change, "refused reactions changed nothing");
    assert_eq!(
        ann.history(&group).await[0]["reactions"],
        json!([{"emoji": "👍", "userIds": [ben.id]}])
    );
    // A member adds at most five reactions to a message (a message stays a small frame however
    // many react); the sixth is refused and changes nothing. The bounds on different ones and
    // in all are unit-tested with `reaction_refused` (services/messages).
    let five = ["😀", "😂", "😍", "🙏", "🔥"];
    for on in [true, false] {
        for emoji in five {
            cat0.send(frame::react(&group, 2, emoji, on)).await;
            change += 1;
            updated(&mut ann1, change).await;
        }
        if on {
            refused(&mut cat0, frame::react(&group, 2, "💯", true), "invalid_input").await;
            let page = changes_since(&ann, &group, "since=0").await;
            assert_eq!(page["lastChange"], change, "a sixth reaction changed nothing");
        }
    }

    // Deletes: own messages only; the seq stays, the text goes, from everywhere.
    ann0.say(&group, "zanzibarquokka secret").await;
    let secret = ben1.message("zanzibarquokka secret").await;
    let seq = secret["seq"].as_i64().expect("seq");
    assert_eq!(seq, 3);
    cat0.send(frame::react(&group, seq, "🎉", true)).await;
    change += 1;
    updated(&mut ann0, change).await;
    eventually(WAIT, || async {
        (count(notes, previews, "zanzibarquokka") == 2).then_some(())
    })
    .await;
    refused(&mut ben1, frame::delete(&group, seq), "forbidden").await;
    for (request, code) in [
        (frame::delete(&group, 99), "not_found"),
        (frame::delete(&group, 0), "invalid_input"),
        (frame::delete(&uuid::Uuid::new_v4().to_string(), 1), "not_found"),
    ] {
        refused(&mut ann0, request, code).await;
    }
    ann0.send(frame::delete(&group, seq)).await;
    change += 1;
    for tab in [&mut ann0, &mut ann1, &mut ben1, &mut cat0] {
        let deleted = updated(tab, change).await;
        assert_eq!(
            (&deleted["seq"], &deleted["body"], &deleted["reactions"]),
            (&json!(seq), &json!(""), &json!([]))
        );
        assert!(deleted["deletedAt"].is_string());
    }
    ann0.send(frame::delete(&group, seq)).await; // already deleted: nothing more
    refused(&mut ann0, frame::edit(&group, seq, "undelete"), "not_found").await;
    refused(&mut cat0, frame::react(&group, seq, "👍", true), "not_found").await;
    let history = ann.history(&group).await;
    assert_eq!(seqs(&json!(history)), [1, 2, 3], "a deleted message keeps its seq");
    assert_eq!(
        (&history[2]["body"], history[2]["deletedAt"].is_string()),
        (&json!(""), true)
    );

    // The text is gone from the database and (once the drain indexed the change, a fraction of
    // a second later) from its search index, not hidden; the edited message's old text too; the
    // words still present are found (so the probes can fail).
    let db = &site.messages_db;
    let conversation_rows = "SELECT count(*) FROM messages WHERE conversation_id = ?1";
    assert_eq!(count(db, conversation_rows, &group), 3);
    let like = "SELECT count(*) FROM messages WHERE body LIKE '%' || ?1 || '%'";
    for gone in ["zanzibarquokka", "draftword"] {
        assert_eq!(count(db, like, gone), 0, "{gone} is stored");
    }
    assert_eq!(count(db, like, "polishedword"), 1);
    assert_eq!(ann.search("zanzibarquokka").await, Vec::<String>::new());
    let index = &db.with_file_name("messages-search.db");
    let indexed = "SELECT count(*) FROM message_search WHERE message_search MATCH ?1";
    eventually(WAIT, || async {
        let gone = count(index, indexed, "zanzibarquokka") == 0 && count(index, indexed, "draftword") == 0;
        (gone && count(index, indexed, "polishedword") == 1 && count(index, indexed, "answerword") == 1).then_some(())
    })
    .await;
    // Notifications lose a deleted message's text and follow an edit's.
    eventually(WAIT, || async {
        let gone = count(notes, previews, "zanzibarquokka") == 0 && count(notes, previews, "draftword") == 0;
        (gone && count(notes, previews, "polishedword") == 2).then_some(())
    })
    .await;

    // Last, a message every tab waits for: the logs hold exactly the changes above, once each,
    // in order; refusals only on the socket that sent them.
    ann0.say(&group, "done").await;
    for tab in [&mut ann0, &mut ann1, &mut ben1, &mut cat0] {
        tab.message("done").await;
        assert_eq!(changes(tab), (1..=change).collect::<Vec<_>>(), "{}", tab.who);
        assert_eq!(
            seqs_in(tab, &group),
            [1, 2, 3, 4],
            "{}: no refused message was sent",
            tab.who
        );
    }
    assert!(error_codes(&ann1).is_empty(), "refusals go to the socket that asked");
    assert_eq!(error_codes(&ben1).len(), 8);
    assert_eq!(error_codes(&cat0).len(), 11);
}

/// A tab that was offline while messages changed catches up with
/// `GET /api/conversations/{id}/changes?since=<change it had>`, then follows live again.
pub async fn offline_tab_catches_up_by_changes(site: &Arc<Site>) {
    let ann = site.person("ann").await;
    let ben = site.person("ben").await;
    let direct = ann.direct_with(&ben).await;
    let mut ann0 = ann.tab(0).await;
    let mut ben1 = ben.tab(1).await;
    for i in 1..=4 {
        ann0.say(&direct, &format!("m{i}")).await;
    }
    ben1.message("m4").await;
    ben1.send(frame::react(&direct, 1, "👍", true)).await;
    assert_eq!(updated(&mut ben1, 1).await["seq"], 1);
    drop(ben1); // Ben goes offline knowing change 1

    for (request, change) in [
        (frame::edit(&direct, 2, "m2 edited"), 2),
        (frame::delete(&direct, 3), 3),
        (frame::react(&direct, 1, "🎉", true), 4),
        (frame::edit(&direct, 2, "m2 edited twice"), 5),
        (frame::react(&direct, 1, "🎉", false), 6),
    ] {
        ann0.send(request).await;
        updated(&mut ann0, change).await;
    }

    let listed = ben.listed(&direct).await.expect("listed");
    assert_eq!((&listed["kind"], &listed["lastChange"]), (&json!("direct"), &json!(6)));
    let page = changes_since(&ben, &direct, "since=1").await;
    assert_eq!(
        seqs(&page["messages"]),
        [3, 2, 1],
        "each changed message once, by its last change"
    );
    assert_eq!((&page["lastChange"], &page["hasMore"]), (&json!(6), &json!(false)));
    let history = ben.history(&direct).await;
    for message in page["messages"].as_array().expect("messages") {
        let seq = message["seq"].as_i64().expect("seq");
        assert_eq!(*message, history[seq as usize - 1], "the current state");
    }
    assert_eq!(history[1]["body"], "m2 edited twice");
    assert_eq!(history[2]["body"], "");
    assert_eq!(history[0]["reactions"], json!([{"emoji": "👍", "userIds": [ben.id]}]));

    // Paged: `lastChange` of a page is where the next one starts.
    let first = changes_since(&ben, &direct, "since=1&limit=2").await;
    assert_eq!(
        (seqs(&first["messages"]), &first["lastChange"], &first["hasMore"]),
        (vec![3, 2], &json!(5), &json!(true))
    );
    let rest = changes_since(&ben, &direct, "since=5&limit=2").await;
    assert_eq!(
        (seqs(&rest["messages"]), &rest["lastChange"], &rest["hasMore"]),
        (vec![1], &json!(6), &json!(false))
    );
    let none = changes_since(&ben, &direct, "since=6").await;
    assert_eq!((&none["messages"], &none["lastChange"]), (&json!([]), &json!(6)));
    assert_eq!(seqs(&changes_since(&ben, &direct, "").await["messages"]), [3, 2, 1]);
    let refused = [
        "changes?since=abc",
        "changes?since=-4",
        "changes?limit=0",
        "changes?limit=101",
        "changes?since=1&limit=x",
        "messages?before=0",
        "messages?before=-1",
        "messages?after=-5",
        "messages?before=2&after=1",
    ];
    for query in refused {
        let (status, body) = ben.get(&format!("/api/conversations/{direct}/{query}")).await;
        assert_eq!(
            (status, &body["error"]["code"]),
            (400, &json!("invalid_input")),
            "{query}"
        );
    }
    // The cursors at the two ends of a history.
    let (_, start) = ben.get(&format!("/api/conversations/{direct}/messages?before=1")).await;
    assert_eq!(start["messages"], json!([]));
    let (_, all) = ben.get(&format!("/api/conversations/{direct}/messages?after=0")).await;
    assert_eq!(seqs(&all["messages"]), [1, 2, 3, 4]);
    for path in [
        format!("/api/conversations/{}/changes", uuid::Uuid::new_v4()),
        "/api/conversations/not-an-id/changes".to_owned(),
    ] {
        assert_eq!(ben.get(&path).await.0, 404, "{path}");
    }

    // Back online, the tab follows changes live again.
    let mut ben1 = ben.tab(1).await;
    ann0.send(frame::react(&direct, 4, "❤️", true)).await;
    let live = updated(&mut ben1, 7).await;
    assert_eq!(
        (&live["seq"], &live["reactions"][0]["emoji"]),
        (&json!(4), &json!("❤️"))
    );
}

/// Reads `tab` until it holds both answers to the `send` of `client_id` it made last, in either
/// order (the stored message may come first): `accepted`, and the stored message, returned.
async fn answers(tab: &mut Tab, client_id: &str) -> Value {
    let mark = tab.log.len();
    let answer = |f: &Value| {
        (f["type"] == "accepted" && f["clientId"] == client_id)
            || (f["type"] == "message" && f["message"]["clientId"] == client_id)
    };
    let got = |tab: &Tab, kind: &str| tab.since(mark).iter().find(|f| f["type"] == kind && answer(f)).cloned();
    loop {
        if let (Some(_), Some(message)) = (got(tab, "accepted"), got(tab, "message")) {
            return message["message"].clone();
        }
        tab.until(&format!("the answers to {client_id}"), answer).await;
    }
}

/// A `send` repeated with its `clientId` (its answer was late, or lost with the socket) stores
/// nothing new and is answered on the socket that repeated it alone: `accepted` and the stored
/// message again, with the same id and seq. Every other socket, the sender's own included, gets
/// the message once.
pub async fn a_repeated_send_is_answered_on_its_socket_alone(site: &Arc<Site>) {
    let ann = site.person("ann").await;
    let ben = site.person("ben").await;
    let cat = site.person("cat").await;
    let group = ann.create_group("Resends", &[&ben, &cat]).await;
    let mut ann0 = ann.tab(0).await;
    let mut ann_elsewhere = ann.tab(1).await;
    let mut ben0 = ben.tab(0).await;
    let mut cat1 = cat.tab(1).await;

    let client_id = uuid::Uuid::new_v4().to_string();
    let send = frame::send(&group, &client_id, "said once");
    ann0.send(send.clone()).await;
    let first = answers(&mut ann0, &client_id).await;
    // Again on the same socket, as a client whose answer is late does...
    ann0.send(send.clone()).await;
    assert_eq!(answers(&mut ann0, &client_id).await, first);
    // ...and on a new socket after a reconnect (on the other chat instance, where there are two).
    drop(ann0);
    let mut ann1 = ann.tab(1).await;
    ann1.send(send).await;
    assert_eq!(answers(&mut ann1, &client_id).await, first);

    // Whatever a socket is pushed of the repeats comes before the next message.
    ann1.say(&group, "marker").await;
    for tab in [&mut ann1, &mut ann_elsewhere, &mut ben0, &mut cat1] {
        tab.message("marker").await;
    }
    let pushed = |tab: &Tab| {
        tab.frames("message")
            .iter()
            .filter(|f| f["message"]["clientId"] == client_id.as_str())
            .count()
    };
    assert_eq!(
        [pushed(&ann_elsewhere), pushed(&ben0), pushed(&cat1), pushed(&ann1)],
        [1, 1, 1, 1],
        "once to every socket: the members', the sender's other one, and the one that repeated it"
    );
    let history = ann.history(&group).await;
    assert_eq!(bodies(&history), ["said once", "marker"]);
    assert_eq!((&history[0]["id"], &history[0]["seq"]), (&first["id"], &first["seq"]));
}
