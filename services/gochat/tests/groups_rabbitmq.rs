//! The v2 scenarios over a real RabbitMQ: auth, users, messages and the notifications store as
//! separate services, two chat instances and two notifications gateways, the members of each
//! scenario spread over them (a group of three whose members sit on different instances; Ann
//! with a tab on each).
//!
//! Needs the private RabbitMQ node of `scripts/with-rabbitmq.sh` (GOCHAT_TEST_AMQP_URL, …);
//! each test gets its own virtual host.

mod common;
mod scenarios;

use common::site::Deployment;
use scenarios::{attachments, blocks, groups, messages, notifications, search};

#[tokio::test]
async fn group_of_three_on_two_chat_instances_everyone_gets_everything_once_in_order() {
    let Some(deployment) = Deployment::over_rabbitmq().await else {
        return;
    };
    groups::group_of_three_everyone_gets_everything_once_in_order(&deployment.site).await;
}

#[tokio::test]
async fn membership_rules() {
    let Some(deployment) = Deployment::over_rabbitmq().await else {
        return;
    };
    groups::membership_rules(&deployment.site).await;
}

#[tokio::test]
async fn former_members_and_strangers_get_nothing() {
    let Some(deployment) = Deployment::over_rabbitmq().await else {
        return;
    };
    groups::former_members_and_strangers_get_nothing(&deployment.site).await;
}

#[tokio::test]
async fn replies_edits_deletes_and_reactions() {
    let Some(deployment) = Deployment::over_rabbitmq().await else {
        return;
    };
    messages::replies_edits_deletes_and_reactions(&deployment.site).await;
}

#[tokio::test]
async fn a_repeated_send_is_answered_on_its_socket_alone() {
    let Some(deployment) = Deployment::over_rabbitmq().await else {
        return;
    };
    messages::a_repeated_send_is_answered_on_its_socket_alone(&deployment.site).await;
}

#[tokio::test]
async fn offline_tab_catches_up_by_changes() {
    let Some(deployment) = Deployment::over_rabbitmq().await else {
        return;
    };
    messages::offline_tab_catches_up_by_changes(&deployment.site).await;
}

#[tokio::test]
async fn search_follows_the_contract() {
    let Some(deployment) = Deployment::over_rabbitmq().await else {
        return;
    };
    search::search_follows_the_contract(&deployment.site).await;
}

#[tokio::test]
async fn blocking() {
    let Some(deployment) = Deployment::over_rabbitmq().await else {
        return;
    };
    blocks::blocking(&deployment.site).await;
}

#[tokio::test]
async fn attachments_reach_the_members_only() {
    let Some(deployment) = Deployment::over_rabbitmq().await else {
        return;
    };
    attachments::pictures_and_files_reach_the_members_only(&deployment.site).await;
}

#[tokio::test]
async fn notifications_through_two_gateways_and_one_store() {
    let Some(deployment) = Deployment::over_rabbitmq().await else {
        return;
    };
    notifications::every_gateway_pushes_and_the_store_answers(&deployment.site).await;
}
