//! Full-text search over the caller's conversations.
//!
//! All in one on the in-process bus; `groups_rabbitmq.rs` runs the same scenarios over RabbitMQ
//! with two chat instances.

mod common;
mod scenarios;

use common::site::Deployment;
use scenarios::search;

#[tokio::test]
async fn search_follows_the_contract() {
    let deployment = Deployment::all_in_one().await;
    search::search_follows_the_contract(&deployment.site).await;
}
