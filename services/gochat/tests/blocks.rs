//! Blocking one user by another.
//!
//! All in one on the in-process bus; `groups_rabbitmq.rs` runs the same scenarios over RabbitMQ
//! with two chat instances.

mod common;
mod scenarios;

use common::site::Deployment;
use scenarios::blocks;

#[tokio::test]
async fn blocking() {
    let deployment = Deployment::all_in_one().await;
    blocks::blocking(&deployment.site).await;
}
