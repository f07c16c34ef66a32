//! Full-text search over the caller's conversations.
//!
//! All in one on the in-process bus; `groups_rabbitmq.rs` runs the same scenarios over RabbitMQ
//! with two chat instances.

mod common;
mod scenarios;

use common::eventually;
use common::site::Deployment;
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
