//! Replies, edits, deletes and reactions, and catching up on changes after being offline.
//!
//! All in one on the in-process bus; `groups_rabbitmq.rs` runs the same scenarios over RabbitMQ
//! with two chat instances.

mod common;
mod scenarios;

use common::site::Deployment;
use scenarios::messages;

#[tokio::test]
async fn replies_edits_deletes_and_reactions() {
    let deployment = Deployment::all_in_one().await;
    messages::replies_edits_deletes_and_reactions(&deployment.site).await;
}

#[tokio::test]
async fn offline_tab_catches_up_by_changes() {
    let deployment = Deployment::all_in_one().await;
    messages::offline_tab_catches_up_by_changes(&deployment.site).await;
}

#[tokio::test]
async fn a_repeated_send_is_answered_on_its_socket_alone() {
    let deployment = Deployment::all_in_one().await;
    messages::a_repeated_send_is_answered_on_its_socket_alone(&deployment.site).await;
}
