//! Group conversations: creating, renaming, adding, removing, and every member's tabs getting every frame once, in order; former members and strangers get nothing.
//!
//! All in one on the in-process bus; `groups_rabbitmq.rs` runs the same scenarios over RabbitMQ
//! with two chat instances.

mod common;
mod scenarios;

use common::site::Deployment;
use scenarios::groups;

#[tokio::test]
async fn group_of_three_everyone_gets_everything_once_in_order() {
    let deployment = Deployment::all_in_one().await;
    groups::group_of_three_everyone_gets_everything_once_in_order(&deployment.site).await;
}

#[tokio::test]
async fn membership_rules() {
    let deployment = Deployment::all_in_one().await;
    groups::membership_rules(&deployment.site).await;
}

#[tokio::test]
async fn former_members_and_strangers_get_nothing() {
    let deployment = Deployment::all_in_one().await;
    groups::former_members_and_strangers_get_nothing(&deployment.site).await;
}

#[tokio::test]
async fn a_group_holds_at_most_256_members() {
    let deployment = Deployment::all_in_one().await;
    groups::a_group_holds_at_most_256_members(&deployment.site).await;
}
