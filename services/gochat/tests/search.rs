//! Full-text search over the caller's conversations.
//!
//! All in one on the in-process bus; `groups_rabbitmq.rs` runs the same scenarios over RabbitMQ
//! with two chat instances.

mod common;
mod scenarios;

use common::eventually;
use common::site::{Deployment, Person, Site};
use gochat_kit::testing::TestServer;
use scenarios::search;
use std::time::Duration;

#[tokio::test]
async fn search_follows_the_contract() {
    let deployment = Deployment::all_in_one().await;
    search::search_follows_the_contract(&deployment.site).await;
}

#[tokio::test]
async fn a_search_cursor_reveals_nothing_of_other_conversations() {
    let deployment = Deployment::all_in_one().await;
    search::a_search_cursor_reveals_nothing_of_other_conversations(&deployment.site).await;
}

/// What operators (and `make bench`) watch while a migration rebuilds the index: the messages
/// still waiting for it after the drain's last batch, down to none once the drain has caught up.
#[tokio::test]
async fn the_search_backlog_is_exported_and_drains_to_nothing() {
    let deployment = Deployment::all_in_one().await;
    search::search_follows_the_contract(&deployment.site).await;
    let metrics = format!("{}/metrics", deployment.site.messages);
    eventually(Duration::from_secs(10), || async {
        let text = reqwest::get(&metrics).await.ok()?.text().await.ok()?;
        text.contains(r#"gochat_search_backlog{db="messages"} 0"#).then_some(())
    })
    .await;
}

/// The index is derived from the messages: when the messages database is put back to an
/// earlier state (here: empty) while the index stays, the index, ahead of it, is built again,
/// instead of answering with the new messages that took the old ones' numbers.
#[tokio::test]
async fn an_index_ahead_of_the_messages_is_built_again() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let (server, ann) = one_message(dir.path(), ["ann", "ben"], "apple pie").await;
    indexed(dir.path(), "apple").await;
    assert_eq!(ann.search("apple").await, ["apple pie"]);
    server.stop().await.expect("the server stops");
    // Every database starts again but the index (so that the same names can sign up).
    let again = tempfile::tempdir().expect("a temporary directory");
    for file in ["messages-search.db", "messages-search.db-wal"] {
        if dir.path().join(file).exists() {
            std::fs::copy(dir.path().join(file), again.path().join(file)).expect("the index is copied");
        }
    }

    let (_server, cat) = one_message(again.path(), ["cat", "dan"], "pear tart").await;
    assert_eq!(cat.search("apple").await, Vec::<String>::new());
    assert_eq!(cat.search("pear").await, ["pear tart"]);
    indexed(again.path(), "pear").await;
    assert_eq!(cat.search("apple").await, Vec::<String>::new());
    assert_eq!(cat.search("pear").await, ["pear tart"]);
}

/// GoChat all in one on `dir`, where the first of `names` sends `body` to the second, and sees it
/// stored; returns the server and the sender.
async fn one_message(dir: &std::path::Path, names: [&str; 2], body: &str) -> (TestServer, Person) {
    let server = common::start_all_in_one(dir, None, None).await;
    let site = Site::all_in_one(&server, dir);
    let (sender, peer) = (site.person(names[0]).await, site.person(names[1]).await);
    let direct = sender.direct_with(&peer).await;
    let mut tab = sender.tab(0).await;
    tab.say(&direct, body).await;
    tab.message(body).await;
    (server, sender)
}

/// Waits until the search index in `dir` holds a message with `word`.
async fn indexed(dir: &std::path::Path, word: &str) {
    let index = dir.join("messages-search.db");
    eventually(Duration::from_secs(10), || async {
        let c = rusqlite::Connection::open_with_flags(&index, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).ok()?;
        let found: i64 = c
            .query_row(
                "SELECT count(*) FROM message_search WHERE message_search MATCH ?1",
                [word],
                |r| r.get(0),
            )
            .ok()?;
        (found > 0).then_some(())
    })
    .await;
}
