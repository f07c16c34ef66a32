//! What `gochat dead-letters` does over RabbitMQ: read the dead letters of `<queue>.dead`
//! without taking them, and requeue them by publishing each again to its event's exchange with
//! its routing key (as its publisher did, so it reaches every queue bound to it; consumers that
//! applied it already skip it by its id).

use super::{DEAD_AT_HEADER, PERSISTENT, QUEUE_HEADER, REASON_HEADER, open, reply_code};
use crate::bus::Tls;
use chrono::{DateTime, Utc};
use gochat_proto::events::{Envelope, EventKind};
use gochat_proto::topology::dead_letter_queue;
use lapin::message::Delivery;
use lapin::options::{
    BasicAckOptions, BasicGetOptions, BasicNackOptions, BasicPublishOptions, ConfirmSelectOptions, QueueDeclareOptions,
};
use lapin::types::{AMQPValue, FieldTable};
use lapin::{BasicProperties, Channel, Confirmation, Connection};
use serde::Serialize;

/// One dead letter of `<queue>.dead`, as `gochat dead-letters list` shows it.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BrokerDeadLetter {
    /// The queue whose consumer gave up on it.
    pub queue: String,
    pub event_id: Option<String>,
    pub kind: Option<String>,
    pub reason: Option<String>,
    pub dead_at: Option<DateTime<Utc>>,
    /// The message body (the event's envelope, JSON text, unless it was not one).
    pub payload: String,
}

/// The dead letters of each of `queues` (shared queue names), at most `limit` each, and how
/// many each holds. Every message read is returned to its queue, in its place.
pub async fn list_dead_letters(
    url: &str,
    tls: &Tls,
    queues: &[&str],
    limit: usize,
) -> anyhow::Result<Vec<(String, u32, Vec<BrokerDeadLetter>)>> {
    let connection = open(url, tls, "gochat dead-letters").await?;
    let mut out = Vec::new();
    for queue in queues {
        let dead = dead_letter_queue(queue);
        let Some((channel, total)) = open_dead(&connection, &dead).await? else {
            out.push((queue.to_string(), 0, Vec::new()));
            continue;
        };
        let mut letters = Vec::new();
        let mut last: Option<Delivery> = None;
        while letters.len() < limit {
            let Some(got) = channel
                .basic_get(dead.as_str().into(), BasicGetOptions::default())
                .await?
            else {
                break;
            };
            letters.push(describe(queue, &got.delivery));
            last = Some(got.delivery);
        }
        // Unacknowledged until now: back to the queue, in order. (Were this process to die
        // first, the broker would do the same when the channel closes.)
        if let Some(last) = last {
            last.nack(BasicNackOptions {
                multiple: true,
                requeue: true,
            })
            .await?;
        }
        let _ = channel.close(200, "listed".into()).await;
        out.push((queue.to_string(), total, letters));
    }
    let _ = connection.close(200, "done".into()).await;
    Ok(out)
}

/// Publishes every dead letter of each of `queues` again to its event's exchange, each
/// confirmed by the broker before it leaves `<queue>.dead`. Returns, per queue, how many were
/// requeued and how many were kept (not an event this version can route).
pub async fn requeue_dead_letters(
    url: &str,
    tls: &Tls,
    queues: &[&str],
) -> anyhow::Result<Vec<(String, usize, usize)>> {
    let connection = open(url, tls, "gochat dead-letters").await?;
    let mut out = Vec::new();
    for queue in queues {
        let dead = dead_letter_queue(queue);
        let Some((channel, _)) = open_dead(&connection, &dead).await? else {
            out.push((queue.to_string(), 0, 0));
            continue;
        };
        channel.confirm_select(ConfirmSelectOptions::default()).await?;
        let (mut requeued, mut kept) = (0, Vec::new());
        while let Some(got) = channel
            .basic_get(dead.as_str().into(), BasicGetOptions::default())
            .await?
        {
            let delivery = got.delivery;
            let Ok(kind) = super::bundle::kind_of(&delivery.data).ok_or(()).and_then(routable) else {
                tracing::warn!(queue, "a dead letter that is not a known event stays where it is");
                kept.push(delivery);
                continue;
            };
            let confirm = channel
                .basic_publish(
                    kind.exchange().name().into(),
                    kind.routing_key().into(),
                    BasicPublishOptions::default(),
                    &delivery.data,
                    without_reason(&delivery.properties),
                )
                .await?
                .await?;
            if matches!(confirm, Confirmation::Ack(_)) {
                delivery.ack(BasicAckOptions::default()).await?;
                requeued += 1;
            } else {
                kept.push(delivery);
            }
        }
        let kept_count = kept.len();
        for delivery in kept {
            delivery
                .nack(BasicNackOptions {
                    multiple: false,
                    requeue: true,
                })
                .await?;
        }
        let _ = channel.close(200, "requeued".into()).await;
        out.push((queue.to_string(), requeued, kept_count));
    }
    let _ = connection.close(200, "done".into()).await;
    Ok(out)
}

fn routable(kind: EventKind) -> Result<EventKind, ()> {
    if kind == EventKind::Unknown { Err(()) } else { Ok(kind) }
}

/// A channel on which `dead` exists, and how many messages it holds; `None` when it does not.
async fn open_dead(connection: &Connection, dead: &str) -> anyhow::Result<Option<(Channel, u32)>> {
    let channel = connection.create_channel().await?;
    let passive = QueueDeclareOptions {
        passive: true,
        ..Default::default()
    };
    match channel.queue_declare(dead.into(), passive, FieldTable::default()).await {
        Ok(q) => Ok(Some((channel, q.message_count()))),
        Err(e) if reply_code(&e) == Some(super::NOT_FOUND) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

fn describe(queue: &str, delivery: &Delivery) -> BrokerDeadLetter {
    let envelope = Envelope::from_json(&delivery.data).ok();
    let header = |name: &str| delivery.properties.headers().as_ref()?.inner().get(name).cloned();
    let reason = match header(REASON_HEADER) {
        Some(AMQPValue::LongString(s)) => Some(String::from_utf8_lossy(s.as_bytes()).into_owned()),
        _ => None,
    };
    let dead_at = match header(DEAD_AT_HEADER) {
        Some(AMQPValue::Timestamp(t)) => i64::try_from(t).ok().and_then(|t| DateTime::from_timestamp(t, 0)),
        _ => None,
    };
    BrokerDeadLetter {
        queue: queue.to_owned(),
        event_id: envelope.as_ref().map(|e| e.id.to_string()),
        kind: super::bundle::kind_of(&delivery.data).map(|kind| kind.routing_key().to_owned()),
        reason,
        dead_at,
        payload: String::from_utf8_lossy(&delivery.data).into_owned(),
    }
}

/// The properties the event was first published with: without what dead-lettering added.
fn without_reason(properties: &BasicProperties) -> BasicProperties {
    let mut headers = FieldTable::default();
    if let Some(old) = properties.headers() {
        for (name, value) in old.inner() {
            if ![REASON_HEADER, QUEUE_HEADER, DEAD_AT_HEADER].contains(&name.as_str()) {
                headers.insert(name.clone(), value.clone());
            }
        }
    }
    properties.clone().with_headers(headers).with_delivery_mode(PERSISTENT)
}
