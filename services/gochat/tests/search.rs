//! Full-text search over the caller's conversations.
//!
//! All in one on the in-process bus; `groups_rabbitmq.rs` runs the same scenarios over RabbitMQ
//! with two chat instances.

mod common;
mod scenarios;

use common::eventually;
use common::site::{Deployment, Site};
use scenarios::search;
use std::time::Duration;

#[tokio::test]
async fn search_follows_the_contract() {
    let deployment = Deployment::all_in_one().await;
    search::search_follows_the_contract(&deployment.site).await;
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
    let server = common::start_all_in_one(dir.path(), None, None).await;
    let site = Site::all_in_one(&server, dir.path());
    let (ann, ben) = (site.person("ann").await, site.person("ben").await);
    let direct = ann.direct_with(&ben).await;
    let mut tab = ann.tab(0).await;
    tab.say(&direct, "apple pie").await;
    tab.message("apple pie").await;
    indexed(dir.path(), "apple").await;
    drop(tab);
    server.stop().await.expect("the server stops");
    // Every database starts again but the index (so that the same names can sign up).
    let again = tempfile::tempdir().expect("a temporary directory");
    for file in ["messages-search.db", "messages-search.db-wal"] {
        if dir.path().join(file).exists() {
            std::fs::copy(dir.path().join(file), again.path().join(file)).expect("the index is copied");
        }
    }

    let server = common::start_all_in_one(again.path(), None, None).await;
    let site = Site::all_in_one(&server, again.path());
    let (cat, dan) = (site.person("cat").await, site.person("dan").await);
    let direct = cat.direct_with(&dan).await;
    let mut tab = cat.tab(0).await;
    tab.say(&direct, "pear tart").await;
    tab.message("pear tart").await;
    assert_eq!(cat.search("apple").await, Vec::<String>::new());
    assert_eq!(cat.search("pear").await, ["pear tart"]);
    indexed(again.path(), "pear").await;
    assert_eq!(cat.search("apple").await, Vec::<String>::new());
    assert_eq!(cat.search("pear").await, ["pear tart"]);
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
