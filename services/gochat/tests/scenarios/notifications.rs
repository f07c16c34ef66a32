//! Notifications seen through every gateway: the REST answers come from the one store, and each
//! push reaches the sockets of its user on whichever gateway they are.

use super::text;
use crate::common::site::Site;
use serde_json::{Value, json};
use std::sync::Arc;

/// The ids of a `GET /api/notifications` page, newest first.
fn ids(page: &Value) -> Vec<String> {
    page["notifications"]
        .as_array()
        .expect("notifications")
        .iter()
        .map(|n| text(&n["id"]).to_owned())
        .collect()
}

pub async fn every_gateway_pushes_and_the_store_answers(site: &Arc<Site>) {
    let ann = site.person("ann").await;
    let ben = site.person("ben").await;
    let conversation = ann.direct_with(&ben).await;
    // Ben has a tab on each gateway; Ann watches from the second one.
    let mut ben0 = ben.notifications_tab(0).await;
    let mut ben1 = ben.notifications_tab(1).await;
    let mut ann1 = ann.notifications_tab(1).await;
    // Presence crosses gateways: Ann learns that Ben is online.
    ann1.until("ben online", |f| {
        f["type"] == "presence" && f["userId"] == ben.id && f["online"] == true
    })
    .await;

    let mut chat = ann.tab(0).await;
    const SENT: usize = 5;
    for i in 1..=SENT {
        chat.say(&conversation, &format!("note {i}")).await;
    }
    let mut pushed: Vec<Vec<String>> = Vec::new();
    for tab in [&mut ben0, &mut ben1] {
        super::collect(tab, "notification", SENT).await;
        let notes: Vec<&Value> = tab.frames("notification");
        let previews: Vec<&str> = notes.iter().map(|f| text(&f["notification"]["preview"])).collect();
        assert_eq!(previews, (1..=SENT).map(|i| format!("note {i}")).collect::<Vec<_>>());
        pushed.push(
            notes
                .iter()
                .map(|f| text(&f["notification"]["id"]).to_owned())
                .collect(),
        );
    }
    assert_eq!(pushed[0], pushed[1], "both gateways push the same notifications");
    assert!(
        ann1.frames("notification").is_empty(),
        "{:?}",
        ann1.frames("notification")
    );

    // The store lists exactly what was pushed, once each.
    let (status, page) = ben.get("/api/notifications?limit=100").await;
    assert_eq!(status, 200, "{page}");
    let mut listed = ids(&page);
    listed.reverse();
    assert_eq!(
        (listed, page["unreadCount"].as_i64()),
        (pushed[0].clone(), Some(SENT as i64))
    );

    // Reading through the store clears the badge on every gateway.
    assert_eq!(ben.post("/api/notifications/read", json!({"all": true})).await.0, 204);
    for tab in [&mut ben0, &mut ben1] {
        let read = tab.next_of("notifications.read").await;
        let mut read: Vec<String> = read["ids"]
            .as_array()
            .expect("ids")
            .iter()
            .map(|i| text(i).to_owned())
            .collect();
        read.sort();
        let mut expected = pushed[0].clone();
        expected.sort();
        assert_eq!(read, expected);
    }
    // The store committed before it announced the read.
    let (_, unread) = ben.get("/api/notifications?unread=true").await;
    assert_eq!((ids(&unread).len(), unread["unreadCount"].as_i64()), (0, Some(0)));
}
