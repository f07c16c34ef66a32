//! Group conversations: every member's tabs (on whichever chat instance) get every frame once
//! and in order; the rules of creating, renaming, adding and removing; former members and
//! strangers get nothing and can do nothing.

use super::{changes, collect, error_codes, message_seqs, receipts, text};
use crate::common::eventually;
use crate::common::site::{Person, Site, Tab, WAIT, frame};
use futures_util::StreamExt;
use serde_json::{Value, json};
use std::sync::Arc;

/// The `conversation` frame of `group` whose title is `title` and that has `members` members.
async fn conversation_frame(tab: &mut Tab, group: &str, title: &str, members: usize) -> Value {
    let frame = tab
        .until(&format!("conversation {title:?} with {members} members"), |f| {
            f["type"] == "conversation"
                && f["conversation"]["id"] == group
                && f["conversation"]["title"] == title
                && f["conversation"]["members"].as_array().map(Vec::len) == Some(members)
        })
        .await;
    frame["conversation"].clone()
}

/// Waits for a receipt about `user` with these watermarks.
async fn receipt(tab: &mut Tab, user: &Person, delivered: i64, read: i64) {
    tab.until(&format!("receipt of {} {delivered}/{read}", user.name), |f| {
        f["type"] == "receipt" && f["userId"] == user.id && f["deliveredSeq"] == delivered && f["readSeq"] == read
    })
    .await;
}

/// The member names of a group view, with their roles.
fn members(conversation: &Value) -> Vec<(String, String)> {
    conversation["members"]
        .as_array()
        .expect("members")
        .iter()
        .map(|m| (text(&m["username"]).to_owned(), text(&m["role"]).to_owned()))
        .collect()
}

fn owner(name: &str) -> (String, String) {
    (name.to_owned(), "owner".to_owned())
}

fn member(name: &str) -> (String, String) {
    (name.to_owned(), "member".to_owned())
}

/// A group of three whose members sit on different chat instances (Ann with a tab on each):
/// messages, typing, receipts, updates and membership changes reach every tab that should have
/// them exactly once and in order, and no other.
pub async fn group_of_three_everyone_gets_everything_once_in_order(site: &Arc<Site>) {
    let ann = site.person("ann").await;
    let ben = site.person("ben").await;
    let cat = site.person("cat").await;
    let dan = site.person("dan").await;
    let mut ann0 = ann.tab(0).await;
    let mut ann1 = ann.tab(1).await;
    let mut ben1 = ben.tab(1).await;
    let mut cat0 = cat.tab(0).await;
    let mut dan1 = dan.tab(1).await;

    // Created (the title trimmed, the owner and repeated ids ignored in memberIds).
    let (status, created) = ann
        .post(
            "/api/conversations",
            json!({"title": "  Trio ", "memberIds": [cat.id, ann.id, ben.id, cat.id]}),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let view = &created["conversation"];
    let group = text(&view["id"]).to_owned();
    assert_eq!((&view["kind"], &view["title"]), (&json!("group"), &json!("Trio")));
    assert_eq!(
        members(view),
        [owner(&ann.name), member(&ben.name), member(&cat.name)],
        "owner first, then by name"
    );
    assert_eq!(
        (&view["lastSeq"], &view["unread"], &view["lastMessage"]),
        (&json!(0), &json!(0), &Value::Null)
    );
    for tab in [&mut ann0, &mut ann1, &mut ben1, &mut cat0] {
        let seen = conversation_frame(tab, &group, "Trio", 3).await;
        assert_eq!(members(&seen), members(view));
    }

    // Receipts go to the member's own tabs and to the senders of the messages they cover.
    ann0.say(&group, "hello all").await;
    for tab in [&mut ann0, &mut ann1, &mut ben1, &mut cat0] {
        let m = tab.message("hello all").await;
        assert_eq!((&m["seq"], &m["senderId"]), (&json!(1), &json!(ann.id)));
    }
    ben1.send(frame::delivered(&group, 1)).await;
    for tab in [&mut ann0, &mut ann1, &mut ben1] {
        receipt(tab, &ben, 1, 0).await;
    }
    cat0.send(frame::read(&group, 1)).await;
    for tab in [&mut ann0, &mut ann1, &mut cat0] {
        receipt(tab, &cat, 1, 1).await;
    }
    ben1.say(&group, "hi from ben").await;
    for tab in [&mut ann0, &mut ann1, &mut ben1, &mut cat0] {
        assert_eq!(tab.message("hi from ben").await["seq"], 2);
    }
    cat0.send(frame::read(&group, 2)).await; // covers only Ben's message: not for Ann
    for tab in [&mut ben1, &mut cat0] {
        receipt(tab, &cat, 2, 2).await;
    }

    // Any member renames; each member's tabs get that member's own view.
    let (status, renamed) = ben
        .patch(&format!("/api/conversations/{group}"), json!({"title": "Trio!"}))
        .await;
    assert_eq!((status, &renamed["conversation"]["title"]), (200, &json!("Trio!")));
    let expected_receipts = json!([
        {"userId": ann.id, "deliveredSeq": 1, "readSeq": 1},
        {"userId": ben.id, "deliveredSeq": 2, "readSeq": 2},
        {"userId": cat.id, "deliveredSeq": 2, "readSeq": 2},
    ]);
    for (tab, my_read) in [(&mut ann0, 1), (&mut ann1, 1), (&mut ben1, 2), (&mut cat0, 2)] {
        let view = conversation_frame(tab, &group, "Trio!", 3).await;
        assert_eq!(
            (&view["myReadSeq"], &view["unread"], &view["lastSeq"]),
            (&json!(my_read), &json!(2 - my_read), &json!(2)),
            "{}'s own view: {view}",
            tab.who
        );
        assert_eq!(view["lastMessage"]["body"], "hi from ben");
        assert_eq!(view["receipts"], expected_receipts);
    }

    // Typing reaches the other members, not the typist.
    ben1.send(frame::typing(&group)).await;
    for tab in [&mut ann0, &mut ann1, &mut cat0] {
        let typing = tab.next_of("typing").await;
        assert_eq!(
            (&typing["conversationId"], &typing["userId"]),
            (&json!(group), &json!(ben.id))
        );
    }

    // A burst from three sockets on two instances: every tab sees seqs 3..=11 once, in order,
    // each sender's messages in the order they were sent.
    for i in 1..=3 {
        ann0.say(&group, &format!("ann {i}")).await;
        ben1.say(&group, &format!("ben {i}")).await;
        cat0.say(&group, &format!("cat {i}")).await;
    }
    for tab in [&mut ann0, &mut ann1, &mut ben1, &mut cat0] {
        collect(tab, "message", 11).await;
        assert_eq!(message_seqs(tab), (1..=11).collect::<Vec<_>>(), "{}", tab.who);
        for who in ["ann", "ben", "cat"] {
            let theirs: Vec<&str> = tab
                .frames("message")
                .iter()
                .map(|m| text(&m["message"]["body"]))
                .filter(|b| b.starts_with(&format!("{who} ")))
                .collect();
            assert_eq!(theirs, [1, 2, 3].map(|i| format!("{who} {i}")), "{}", tab.who);
        }
    }
    let seq_of = |tab: &Tab, body: &str| -> i64 {
        tab.frames("message")
            .iter()
            .find(|m| m["message"]["body"] == body)
            .and_then(|m| m["message"]["seq"].as_i64())
            .expect("a message with that body")
    };
    let (ann_first, ben_first) = (seq_of(&ann0, "ann 1"), seq_of(&ann0, "ben 1"));

    // An edit, a reaction and a delete from three sockets: `message.updated` with changes 1, 2, 3
    // everywhere, in the same order.
    ann0.send(frame::edit(&group, ann_first, "ann 1, edited")).await;
    cat0.send(frame::react(&group, ann_first, "👍", true)).await;
    ben1.send(frame::delete(&group, ben_first)).await;
    for tab in [&mut ann0, &mut ann1, &mut ben1, &mut cat0] {
        collect(tab, "message.updated", 3).await;
        assert_eq!(changes(tab), [1, 2, 3], "{}", tab.who);
    }
    let updated = |tab: &Tab| -> Vec<Value> {
        tab.frames("message.updated")
            .iter()
            .map(|f| f["message"].clone())
            .collect()
    };
    for tab in [&ann1, &ben1, &cat0] {
        assert_eq!(updated(tab), updated(&ann0), "{} saw the same updates", tab.who);
    }
    let history = ann.history(&group).await;
    let first = &history[ann_first as usize - 1];
    assert_eq!(first["body"], "ann 1, edited");
    assert!(first["editedAt"].is_string());
    assert_eq!(first["reactions"], json!([{"emoji": "👍", "userIds": [cat.id]}]));
    let deleted = &history[ben_first as usize - 1];
    assert_eq!((&deleted["body"], deleted["deletedAt"].is_string()), (&json!(""), true));

    // The owner renames again and adds Dan, who sees the whole history as it is now.
    let (status, _) = ann
        .patch(&format!("/api/conversations/{group}"), json!({"title": "Trio 2"}))
        .await;
    assert_eq!(status, 200);
    // A page read now is cached; adding a member (no new message) must not leave it stale.
    let page_events = async |person: &Person| -> usize {
        let (_, page) = person
            .get(&format!("/api/conversations/{group}/messages?limit=100"))
            .await;
        page["events"].as_array().map_or(0, Vec::len)
    };
    assert_eq!(page_events(&ann).await, 3);
    let (status, added) = ann
        .post(
            &format!("/api/conversations/{group}/members"),
            json!({"userIds": [dan.id]}),
        )
        .await;
    assert_eq!((status, members(&added["conversation"]).len()), (200, 4), "{added}");
    assert_eq!(page_events(&ann).await, 4);
    for tab in [&mut ann0, &mut ann1, &mut ben1, &mut cat0, &mut dan1] {
        conversation_frame(tab, &group, "Trio 2", 4).await;
    }
    assert_eq!(
        dan.history(&group).await,
        history,
        "an added member sees the whole history"
    );
    // ... but none of it is unread: his watermark starts at the newest message.
    let dans = dan.listed(&group).await.expect("in Dan's list");
    assert_eq!((&dans["myReadSeq"], &dans["unread"]), (&json!(11), &json!(0)));

    // The owner removes Cat: she gets `removed`, the others the new member list.
    let (status, _) = ann
        .delete(&format!("/api/conversations/{group}/members/{}", cat.id))
        .await;
    assert_eq!(status, 204);
    let removed = cat0.next_of("removed").await;
    assert_eq!(removed["conversationId"], group);
    for tab in [&mut ann0, &mut ann1, &mut ben1, &mut dan1] {
        let view = conversation_frame(tab, &group, "Trio 2", 3).await;
        assert!(!members(&view).iter().any(|(name, _)| *name == cat.name));
    }
    ann0.say(&group, "after cat left").await;
    for tab in [&mut ann0, &mut ann1, &mut ben1, &mut dan1] {
        assert_eq!(tab.message("after cat left").await["seq"], 12);
    }
    // Dan reads the one message since he joined (the history before it was never unread to
    // him): its sender hears of it, Ben, whose messages are older, does not.
    dan1.send(frame::read(&group, 12)).await;
    for tab in [&mut ann0, &mut ann1, &mut dan1] {
        receipt(tab, &dan, 12, 12).await;
    }
    // Cat's own send is refused; that answer comes after anything the group sent since, and
    // nothing did.
    let mark = cat0.log.len();
    let client_id = cat0.say(&group, "am I still in?").await;
    assert_eq!(cat0.refused("not_found").await["clientId"], client_id);
    let since: Vec<&Value> = cat0.since(mark).iter().filter(|f| f["type"] != "accepted").collect();
    assert_eq!(since.len(), 1, "nothing but the refusal: {since:?}");

    // The whole logs: exactly these frames, once each, in this order.
    let trio = |tab: &Tab| -> Vec<(String, usize)> {
        tab.frames("conversation")
            .iter()
            .map(|f| {
                let c = &f["conversation"];
                (
                    text(&c["title"]).to_owned(),
                    c["members"].as_array().map_or(0, Vec::len),
                )
            })
            .collect()
    };
    let names =
        |list: &[(&str, usize)]| -> Vec<(String, usize)> { list.iter().map(|(t, n)| (t.to_string(), *n)).collect() };
    let everything = names(&[("Trio", 3), ("Trio!", 3), ("Trio 2", 3), ("Trio 2", 4), ("Trio 2", 3)]);
    let ids = |marks: &[(&Person, i64, i64)]| -> Vec<(String, i64, i64)> {
        marks.iter().map(|(p, d, r)| (p.id.clone(), *d, *r)).collect()
    };
    for tab in [&ann0, &ann1] {
        assert_eq!(trio(tab), everything, "{}", tab.who);
        assert_eq!(message_seqs(tab), (1..=12).collect::<Vec<_>>());
        assert_eq!(changes(tab), [1, 2, 3]);
        assert_eq!(
            receipts(tab),
            ids(&[(&ben, 1, 0), (&cat, 1, 1), (&dan, 12, 12)]),
            "{}",
            tab.who
        );
        assert_eq!(tab.frames("typing").len(), 1);
        assert!(tab.frames("removed").is_empty() && tab.frames("error").is_empty());
    }
    assert_eq!(trio(&ben1), everything);
    assert_eq!(message_seqs(&ben1), (1..=12).collect::<Vec<_>>());
    assert_eq!(changes(&ben1), [1, 2, 3]);
    assert_eq!(receipts(&ben1), ids(&[(&ben, 1, 0), (&cat, 2, 2)]), "Ben's receipts");
    assert!(ben1.frames("typing").is_empty(), "the typist is not told");
    assert!(ben1.frames("removed").is_empty() && ben1.frames("error").is_empty());

    assert_eq!(trio(&cat0), everything[..4]);
    assert_eq!(cat0.frames("removed").len(), 1);
    assert_eq!(message_seqs(&cat0), (1..=11).collect::<Vec<_>>());
    assert_eq!(changes(&cat0), [1, 2, 3]);
    assert_eq!(receipts(&cat0), ids(&[(&cat, 1, 1), (&cat, 2, 2)]), "Cat's receipts");
    assert_eq!(cat0.frames("typing").len(), 1);
    assert_eq!(error_codes(&cat0), ["not_found"]);

    assert_eq!(trio(&dan1), everything[3..]);
    assert_eq!(message_seqs(&dan1), [12]);
    assert_eq!(receipts(&dan1), ids(&[(&dan, 12, 12)]));
    assert!(changes(&dan1).is_empty() && dan1.frames("typing").is_empty());

    // Each change is in the group's timeline, placed after the newest message of its time and
    // numbered in the order they happened: in the `conversation` frames that announce it, and in
    // the history pages.
    let expected = [
        ("created", &ann, 0, vec![&ben, &cat], "Trio"),
        ("renamed", &ben, 2, vec![], "Trio!"),
        ("renamed", &ann, 11, vec![], "Trio 2"),
        ("added", &ann, 11, vec![&dan], ""),
        ("removed", &ann, 11, vec![&cat], ""),
    ]
    .into_iter()
    .zip(1..)
    .map(|((kind, actor, after, mut users, title), num)| {
        users.sort_by(|a: &&Person, b| a.id.cmp(&b.id));
        json!({
            "num": num,
            "kind": kind,
            "actorId": actor.id,
            "afterSeq": after,
            "userIds": users.iter().map(|u| u.id.clone()).collect::<Vec<_>>(),
            "title": if title.is_empty() { Value::Null } else { json!(title) },
        })
    })
    .collect::<Vec<_>>();
    let shape = |event: &Value| -> Value {
        let mut users: Vec<String> = event["userIds"]
            .as_array()
            .expect("userIds")
            .iter()
            .map(|u| text(u).to_owned())
            .collect();
        users.sort();
        assert!(event["at"].is_string(), "{event}");
        json!({
            "num": event["num"], "kind": event["kind"], "actorId": event["actorId"], "afterSeq": event["afterSeq"],
            "userIds": users, "title": event["title"],
        })
    };
    for tab in [&ann0, &ann1, &ben1] {
        let announced: Vec<Value> = tab.frames("conversation").iter().map(|f| shape(&f["event"])).collect();
        assert_eq!(announced, expected, "{}", tab.who);
    }
    assert_eq!(
        cat0.frames("conversation")
            .iter()
            .map(|f| shape(&f["event"]))
            .collect::<Vec<_>>(),
        expected[..4]
    );
    for person in [&ann, &dan] {
        let (status, page) = person
            .get(&format!("/api/conversations/{group}/messages?limit=100"))
            .await;
        assert_eq!(status, 200);
        let events: Vec<Value> = page["events"].as_array().expect("events").iter().map(shape).collect();
        assert_eq!(events, expected, "{}'s history", person.name);
    }
    // A page has the events placed after its messages: those after 11 come with 11 and 12, none
    // with 9 and 10.
    let placed = |page: &Value| -> Vec<i64> {
        page["events"]
            .as_array()
            .expect("events")
            .iter()
            .filter_map(|e| e["afterSeq"].as_i64())
            .collect()
    };
    let (_, newest) = ann.get(&format!("/api/conversations/{group}/messages?limit=2")).await;
    assert_eq!(placed(&newest), [11, 11, 11]);
    let (_, before) = ann
        .get(&format!("/api/conversations/{group}/messages?limit=2&before=11"))
        .await;
    assert_eq!(placed(&before), Vec::<i64>::new());

    // `accepted` only on the sending socket, once per message.
    collect(&mut ann0, "accepted", 5).await;
    collect(&mut ben1, "accepted", 4).await;
    assert_eq!(ann0.frames("accepted").len(), 5);
    assert!(ann1.frames("accepted").is_empty());
    assert_eq!(ben1.frames("accepted").len(), 4);
    let known = [
        "conversation",
        "message",
        "message.updated",
        "receipt",
        "typing",
        "accepted",
        "removed",
        "error",
    ];
    for tab in [&ann0, &ann1, &ben1, &cat0, &dan1] {
        let other: Vec<&Value> = tab.log.iter().filter(|f| !known.contains(&text(&f["type"]))).collect();
        assert!(other.is_empty(), "{}: unexpected frames {other:?}", tab.who);
    }
}

/// Creating, renaming, adding and removing: who may, what is refused, and that a refusal
/// changes nothing.
pub async fn membership_rules(site: &Arc<Site>) {
    let ann = site.person("ann").await;
    let ben = site.person("ben").await;
    let cat = site.person("cat").await;
    let dan = site.person("dan").await;
    let eve = site.person("eve").await;
    let mut ben_tab = ben.tab(1).await;
    let unknown = uuid::Uuid::new_v4().to_string();
    let strangers = |n: usize| -> Vec<String> { (0..n).map(|_| uuid::Uuid::new_v4().to_string()).collect() };

    // Bad groups are refused and nothing is created.
    for (body, status) in [
        (json!({"title": "", "memberIds": [ben.id]}), 400),
        (json!({"title": "   ", "memberIds": [ben.id]}), 400),
        (json!({"title": "x".repeat(101), "memberIds": [ben.id]}), 400),
        (json!({"title": "Club", "memberIds": []}), 400),
        (json!({"title": "Club", "memberIds": [ann.id]}), 400),
        (json!({"title": "Club", "memberIds": [ben.id, unknown]}), 404),
        (json!({"title": "Club", "memberIds": strangers(256)}), 400),
        (json!({"title": "Club", "memberIds": strangers(255)}), 404),
        (json!({"title": "Club", "memberIds": [ben.id], "peerId": ben.id}), 400),
        (json!({"title": "Club"}), 400),
        (json!({"memberIds": [ben.id]}), 400),
        (json!({"title": 7, "memberIds": [ben.id]}), 400),
    ] {
        let (got, answer) = ann.post("/api/conversations", body.clone()).await;
        let code = if status == 400 { "invalid_input" } else { "not_found" };
        assert_eq!((got, &answer["error"]["code"]), (status, &json!(code)), "{body}");
    }
    for person in [&ann, &ben] {
        let (_, list) = person.get("/api/conversations").await;
        assert_eq!(list["conversations"], json!([]), "{}", person.name);
    }
    // A title counts characters, not bytes; Ben's tab hears of this group and of no refused one.
    let long = "é".repeat(100);
    let club = ann.create_group(&long, &[&ben]).await;
    let first = ben_tab.next_of("conversation").await;
    assert_eq!(
        (&first["conversation"]["id"], &first["conversation"]["title"]),
        (&json!(club), &json!(long))
    );

    // Rename: any member; others 404; a direct conversation has no title.
    let group = ann.create_group("Book club", &[&ben, &cat]).await;
    let path = format!("/api/conversations/{group}");
    let (status, renamed) = ben.patch(&path, json!({"title": "  Books "})).await;
    assert_eq!((status, &renamed["conversation"]["title"]), (200, &json!("Books")));
    let direct = ann.direct_with(&ben).await;
    for (who, path, body, status) in [
        (&eve, path.clone(), json!({"title": "Mine"}), 404),
        (&ben, path.clone(), json!({"title": ""}), 400),
        (&ben, path.clone(), json!({"title": "y".repeat(101)}), 400),
        (&ben, path.clone(), json!({}), 400),
        (
            &ann,
            format!("/api/conversations/{direct}"),
            json!({"title": "Us"}),
            400,
        ),
        (&ann, "/api/conversations/not-an-id".into(), json!({"title": "Us"}), 404),
        (
            &ann,
            format!("/api/conversations/{unknown}"),
            json!({"title": "Us"}),
            404,
        ),
    ] {
        let (got, answer) = who.patch(&path, body.clone()).await;
        assert_eq!(got, status, "{} PATCH {path} {body}: {answer}", who.name);
    }
    assert_eq!(ann.listed(&group).await.expect("listed")["title"], "Books");

    // Add: the owner only; unknown users and direct conversations refused, changing nothing.
    let add = format!("/api/conversations/{group}/members");
    for (who, path, ids, status) in [
        (&ben, add.clone(), json!([dan.id]), 403),
        (&eve, add.clone(), json!([dan.id]), 404),
        (&ann, add.clone(), json!([dan.id, unknown]), 404),
        (&ann, add.clone(), json!([]), 400),
        (&ann, add.clone(), json!(strangers(257)), 400),
        (
            &ann,
            format!("/api/conversations/{direct}/members"),
            json!([cat.id]),
            400,
        ),
        (
            &ann,
            format!("/api/conversations/{unknown}/members"),
            json!([cat.id]),
            404,
        ),
    ] {
        let (got, answer) = who.post(&path, json!({"userIds": ids})).await;
        assert_eq!(got, status, "{} POST {path}: {answer}", who.name);
    }
    assert!(dan.listed(&group).await.is_none());
    assert_eq!(members(&ann.listed(&group).await.expect("listed")).len(), 3);
    for _ in 0..2 {
        let (status, added) = ann.post(&add, json!({"userIds": [dan.id]})).await;
        assert_eq!(
            (status, members(&added["conversation"]).len()),
            (200, 4),
            "adding twice is once"
        );
    }

    // Remove: the owner removes anyone, anyone leaves, nobody else removes anybody.
    let remove = |who: &Person| format!("/api/conversations/{group}/members/{}", who.id);
    for (who, path, status) in [
        (&ben, remove(&cat), 403),
        (&eve, remove(&cat), 404),
        (&eve, remove(&eve), 404),
        (&ann, remove(&eve), 404),
        (&ann, format!("/api/conversations/{group}/members/not-an-id"), 404),
        (&ann, format!("/api/conversations/{direct}/members/{}", ben.id), 400),
    ] {
        let (got, answer) = who.delete(&path).await;
        assert_eq!(got, status, "{} DELETE {path}: {answer}", who.name);
    }
    assert_eq!(members(&ann.listed(&group).await.expect("listed")).len(), 4);
    assert_eq!(ann.delete(&remove(&cat)).await.0, 204, "the owner removes a member");
    assert!(cat.listed(&group).await.is_none());
    // The owner leaves: the member who joined first (Ben, at creation; Dan came later) owns it.
    let mut ann_tab = ann.tab(0).await;
    let mut dan_tab = dan.tab(0).await;
    assert_eq!(ann.delete(&remove(&ann)).await.0, 204, "the owner leaves");
    assert_eq!(ann_tab.next_of("removed").await["conversationId"], group);
    let view = ben.listed(&group).await.expect("Ben still in");
    assert_eq!(members(&view), [owner(&ben.name), member(&dan.name)]);
    for tab in [&mut ben_tab, &mut dan_tab] {
        let pushed = conversation_frame(tab, &group, "Books", 2).await;
        assert_eq!(members(&pushed), members(&view), "{} learns the new owner", tab.who);
    }
    // The timeline says so, right after the leaving (same instant, next number): in the frames
    // that announce each, and in the history.
    let (left, handed) = (
        json!({"kind": "left", "actorId": ann.id, "userIds": []}),
        json!({"kind": "owner_changed", "actorId": ann.id, "userIds": [ben.id]}),
    );
    let what = |e: &Value| json!({"kind": e["kind"], "actorId": e["actorId"], "userIds": e["userIds"]});
    for tab in [&mut ben_tab, &mut dan_tab] {
        let frame = tab
            .until("the owner change", |f| {
                f["type"] == "conversation" && f["event"]["kind"] == "owner_changed"
            })
            .await;
        let events: Vec<&Value> = tab
            .frames("conversation")
            .into_iter()
            .filter(|f| f["conversation"]["id"] == group)
            .map(|f| &f["event"])
            .collect();
        let leaving = events
            .iter()
            .find(|e| e["kind"] == "left")
            .expect("the leaving announced");
        assert_eq!(
            (what(leaving), what(&frame["event"])),
            (left.clone(), handed.clone()),
            "{}",
            tab.who
        );
        assert_eq!(frame["event"]["num"], leaving["num"].as_i64().expect("a number") + 1);
        assert_eq!(frame["event"]["at"], leaving["at"]);
        assert_eq!(members(&frame["conversation"]), members(&view));
    }
    let (_, page) = ben.get(&format!("/api/conversations/{group}/messages")).await;
    let events = page["events"].as_array().expect("events");
    let nums: Vec<i64> = events.iter().filter_map(|e| e["num"].as_i64()).collect();
    assert_eq!(nums, (1..=6).collect::<Vec<_>>(), "{page}");
    assert_eq!(
        events[4..].iter().map(what).collect::<Vec<_>>(),
        [left, handed],
        "the last two: {page}"
    );
    assert_eq!(
        ann.patch(&path, json!({"title": "Back"})).await.0,
        404,
        "the former owner is out"
    );
    assert_eq!(dan.delete(&remove(&ben)).await.0, 403);
    assert_eq!(
        ben.post(&add, json!({"userIds": [eve.id]})).await.0,
        200,
        "the new owner adds"
    );
    assert_eq!(dan.delete(&remove(&dan)).await.0, 204, "a member leaves");
    assert_eq!(dan_tab.next_of("removed").await["conversationId"], group);
    let view = ben.listed(&group).await.expect("Ben still in");
    assert_eq!(members(&view), [owner(&ben.name), member(&eve.name)]);
    let (_, page) = ben.get(&format!("/api/conversations/{group}/messages")).await;
    let kinds: Vec<&str> = page["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| text(&e["kind"]))
        .collect();
    assert_eq!(
        kinds[6..],
        ["added", "left"],
        "a member leaving hands nothing over: {page}"
    );
}

/// A member removed from a group, and a user who never was in it, see nothing of it, can do
/// nothing in it and receive nothing from it.
pub async fn former_members_and_strangers_get_nothing(site: &Arc<Site>) {
    let ann = site.person("ann").await;
    let ben = site.person("ben").await;
    let cat = site.person("cat").await;
    let eve = site.person("eve").await;
    let group = ann.create_group("Secret", &[&ben, &cat]).await;
    let direct = ann.direct_with(&ben).await;
    let mut ann0 = ann.tab(0).await;
    let mut ben1 = ben.tab(1).await;
    let mut cat0 = cat.tab(0).await;
    let mut eve1 = eve.tab(1).await;

    cat0.say(&group, "cat says unicornword").await;
    ann0.say(&group, "before removal").await;
    ann0.say(&direct, "direct hello").await;
    for tab in [&mut ann0, &mut ben1] {
        tab.message("before removal").await;
    }
    cat0.message("before removal").await;
    assert_eq!(cat.history(&group).await.len(), 2, "read (and cached) while a member");
    assert_eq!(
        ann.delete(&format!("/api/conversations/{group}/members/{}", cat.id))
            .await
            .0,
        204
    );
    cat0.next_of("removed").await;
    ann0.say(&group, "after removal marmalade").await;
    for tab in [&mut ann0, &mut ben1] {
        assert_eq!(tab.message("after removal marmalade").await["seq"], 3);
    }
    // Ben reads everything, Cat's message included: that is not Cat's business any more.
    ben1.send(frame::read(&group, 3)).await;
    for tab in [&mut ann0, &mut ben1] {
        tab.until("Ben's receipt", |f| {
            f["type"] == "receipt" && f["userId"] == ben.id && f["readSeq"] == 3
        })
        .await;
    }

    for (former, conversation) in [(true, &group), (false, &group), (false, &direct)] {
        let (outsider, tab) = if former { (&cat, &mut cat0) } else { (&eve, &mut eve1) };
        let who = &outsider.name;
        // Every route about the conversation: 404.
        for (method, path, body) in [
            ("GET", format!("/api/conversations/{conversation}/messages"), None),
            (
                "GET",
                format!("/api/conversations/{conversation}/messages?before=3"),
                None,
            ),
            (
                "GET",
                format!("/api/conversations/{conversation}/changes?since=0"),
                None,
            ),
            (
                "GET",
                format!("/api/search?q=marmalade&conversationId={conversation}"),
                None,
            ),
            (
                "PATCH",
                format!("/api/conversations/{conversation}"),
                Some(json!({"title": "Mine"})),
            ),
            (
                "POST",
                format!("/api/conversations/{conversation}/members"),
                Some(json!({"userIds": [ann.id]})),
            ),
            (
                "DELETE",
                format!("/api/conversations/{conversation}/members/{}", outsider.id),
                None,
            ),
            (
                "DELETE",
                format!("/api/conversations/{conversation}/members/{}", ben.id),
                None,
            ),
        ] {
            let (status, body) = outsider.call(method, &path, body).await;
            assert_eq!(
                (status, &body["error"]["code"]),
                (404, &json!("not_found")),
                "{who}: {method} {path}"
            );
        }
        assert!(outsider.listed(conversation).await.is_none(), "{who}");
        for q in ["unicornword", "marmalade", "before removal", "direct hello"] {
            assert_eq!(outsider.search(q).await, Vec::<String>::new(), "{who} searching {q}");
        }
        // Every frame about it: `not_found`, on the socket that sent it.
        let client_id = tab.say(conversation, "let me in").await;
        assert_eq!(tab.refused("not_found").await["clientId"], client_id, "{who}");
        for request in [
            frame::typing(conversation),
            frame::delivered(conversation, 1),
            frame::read(conversation, 3),
            frame::edit(conversation, 1, "rewritten"),
            frame::react(conversation, 1, "👍", true),
            frame::delete(conversation, 1),
        ] {
            tab.send(request.clone()).await;
            tab.refused("not_found").await;
        }
    }
    // Nothing changed: Cat's message is as she sent it, no change was recorded, nobody moved.
    let history = ann.history(&group).await;
    assert_eq!(history[0]["body"], "cat says unicornword");
    assert_eq!(history[0]["reactions"], json!([]));
    let (_, changes) = ann.get(&format!("/api/conversations/{group}/changes?since=0")).await;
    assert_eq!((&changes["messages"], &changes["lastChange"]), (&json!([]), &json!(0)));
    let view = ann.listed(&group).await.expect("listed");
    assert!(
        view["receipts"]
            .as_array()
            .expect("receipts")
            .iter()
            .all(|r| r["userId"] != cat.id)
    );
    assert_eq!(ann.history(&direct).await.len(), 1);

    // Members got none of it: a last message reaches them after everything above, and before
    // it they saw no typing, receipt or update from an outsider.
    ann0.say(&group, "the end").await;
    ann0.say(&direct, "the end").await;
    for tab in [&mut ann0, &mut ben1] {
        tab.message("the end").await;
        tab.message("the end").await;
        let outsiders = [json!(cat.id), json!(eve.id)];
        for frame in &tab.log {
            let about_outsider = outsiders.contains(&frame["userId"]);
            assert!(
                !(about_outsider || frame["type"] == "message.updated"),
                "{} got {frame}",
                tab.who
            );
        }
    }
    // And the outsiders got nothing but their refusals: one more, answered after the last
    // messages were stored, shows those never reached them.
    // (A read receipt, not typing: a repeated typing frame within two seconds is coalesced.)
    for tab in [&mut cat0, &mut eve1] {
        tab.send(frame::read(&group, 1)).await;
        tab.refused("not_found").await;
    }
    for tab in [&cat0, &eve1] {
        let after: Vec<&Value> = tab
            .log
            .iter()
            .skip_while(|f| tab.who.starts_with("cat") && f["type"] != "removed")
            .filter(|f| !matches!(text(&f["type"]), "error" | "accepted" | "removed"))
            .collect();
        assert!(after.is_empty(), "{} received {after:?}", tab.who);
    }
    assert_eq!(error_codes(&eve1).len(), 15);

    // Notifications follow membership too: Ben is notified of the message after the removal,
    // Cat is not (she still has the earlier ones).
    eventually(WAIT, || async { notified(&ben, &group, 3).await.then_some(()) }).await;
    assert!(notified(&cat, &group, 2).await, "Cat was notified while a member");
    assert!(!notified(&cat, &group, 3).await, "and not after");
}

/// Whether `person` has a notification of message `seq` of `conversation`.
async fn notified(person: &Person, conversation: &str, seq: i64) -> bool {
    let (status, page) = person.get("/api/notifications").await;
    assert_eq!(status, 200, "{page}");
    page["notifications"]
        .as_array()
        .expect("notifications")
        .iter()
        .any(|n| n["conversationId"] == conversation && n["seq"] == seq)
}

/// A group holds at most 256 members, its owner included, however they get in.
pub async fn a_group_holds_at_most_256_members(site: &Arc<Site>) {
    let own = site.person("owner").await;
    let others: Vec<Person> = futures_util::stream::iter(0..256)
        .map(|_| site.person("member"))
        .buffered(16)
        .collect()
        .await;
    let ids = |people: &[Person]| -> Vec<String> { people.iter().map(|p| p.id.clone()).collect() };
    let (status, body) = own
        .post(
            "/api/conversations",
            json!({"title": "Too many", "memberIds": ids(&others)}),
        )
        .await;
    assert_eq!((status, &body["error"]["code"]), (400, &json!("invalid_input")));
    let (status, full) = own
        .post(
            "/api/conversations",
            json!({"title": "Full", "memberIds": ids(&others[..255])}),
        )
        .await;
    assert_eq!((status, members(&full["conversation"]).len()), (201, 256));
    let group = text(&full["conversation"]["id"]).to_owned();
    let add = format!("/api/conversations/{group}/members");
    let last = &others[255];
    let (status, body) = own.post(&add, json!({"userIds": [last.id]})).await;
    assert_eq!((status, &body["error"]["code"]), (400, &json!("invalid_input")));
    assert!(last.listed(&group).await.is_none(), "a refused add adds nobody");
    assert_eq!(
        own.delete(&format!("/api/conversations/{group}/members/{}", others[0].id))
            .await
            .0,
        204
    );
    let (status, body) = own.post(&add, json!({"userIds": [last.id]})).await;
    assert_eq!(
        (status, members(&body["conversation"]).len()),
        (200, 256),
        "room for one again"
    );
}
