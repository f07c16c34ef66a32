//! Recording what a user did (a message sent) so that it is never lost, the cheapest way the bus
//! allows.
//!
//! When the bus is up and the outbox has nothing older waiting, the event is published directly
//! and its confirm says when it is safe: over RabbitMQ, the broker has persisted it; in process,
//! every durable consumer has committed it (so in `gochat serve` the one commit that makes a
//! message durable is the messages service's own). Otherwise (broker away, or an outbox backlog
//! a direct publish must not overtake) it is committed to the outbox, safe at commit and
//! published when the broker is back. A direct publish that is not confirmed falls back to the
//! outbox too: the consumer may then see the event twice, which it deduplicates.
//!
//! In process, the confirm also says whether the consumer refused the event in that commit
//! ([`Outcome`]); over RabbitMQ, and from the outbox, the consumer has not looked at it yet.
//!
//! Over RabbitMQ, direct publishes are gathered: while one bundle awaits the broker's confirm,
//! the events recorded meanwhile wait and then go as the next bundle (one message, see
//! `bus::amqp::bundle`). One at a time, an event is published at once, as before; in a burst,
//! the broker takes one message and one disk write per round trip instead of one per event.

use crate::bus::{Bus, BusError, Confirm};
use crate::db::{Db, DbError};
use futures_util::future::BoxFuture;
use gochat_proto::events::{Envelope, EventData};
use std::sync::Arc;
use tokio::sync::oneshot;

/// Resolves once the recorded event is safe.
pub type Recorded = BoxFuture<'static, Result<Outcome, DbError>>;

/// What a recorded event is known to have become by the time it is safe.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// It will not be lost; whether its consumer takes it is told later, if at all.
    Safe,
    /// Its consumer in this process refused it in the commit that made it safe (in
    /// `gochat serve`, the messages service refused a message): nothing will come of it but the
    /// refusal the consumer published.
    Refused,
}

#[derive(Clone)]
pub struct Recorder {
    bus: Bus,
    db: Db,
    /// The task publishing gathered events, where the bus bundles them.
    gathering: Option<flume::Sender<Gathered>>,
}

/// An event handed to the gathering task, and who waits for its confirm.
struct Gathered {
    envelope: Arc<Envelope>,
    json: Vec<u8>,
    confirmed: oneshot::Sender<Result<(), String>>,
}

impl Recorder {
    /// Records through `bus`, with `db`'s outbox as the fallback. Over RabbitMQ, spawns the
    /// task that publishes gathered events (it ends with the last clone of this recorder).
    pub fn new(bus: Bus, db: Db) -> Self {
        let gathering = (bus.bundle_limit().events > 1).then(|| {
            let (tx, rx) = flume::unbounded();
            tokio::spawn(publish_gathered(bus.clone(), rx));
            tx
        });
        Self { bus, db, gathering }
    }

    /// Hands `event` on (so successive calls keep their order) and returns what resolves once
    /// it is safe.
    pub async fn record<E: EventData>(&self, event: &E) -> Result<Recorded, DbError> {
        let envelope = Arc::new(Envelope::new(event).map_err(encoding)?);
        let json = envelope.to_json().map_err(encoding)?;
        if self.bus.is_connected()
            && self.db.outbox_idle()
            && let Some(confirm) = self.publish(envelope.clone(), json.clone()).await
        {
            let db = self.db.clone();
            return Ok(Box::pin(async move {
                match confirm.await {
                    Ok(()) if envelope.is_refused() => Ok(Outcome::Refused),
                    Ok(()) => Ok(Outcome::Safe),
                    Err(e) => {
                        tracing::warn!(error = %e, event = %envelope.id, "publish not confirmed; kept in the outbox");
                        keep(&db, envelope, json).await.map(|()| Outcome::Safe)
                    }
                }
            }));
        }
        keep(&self.db, envelope, json).await?;
        Ok(Box::pin(std::future::ready(Ok(Outcome::Safe))))
    }
}

impl Recorder {
    /// Hands the event to the bus, or to the gathering task; `None` when the bus refused it
    /// at once. The future resolves with the confirm.
    async fn publish(&self, envelope: Arc<Envelope>, json: Vec<u8>) -> Option<Confirm> {
        let Some(gathering) = &self.gathering else {
            return self.bus.publish(envelope, json).await.ok();
        };
        let (confirmed, confirm) = oneshot::channel();
        gathering
            .send(Gathered {
                envelope,
                json,
                confirmed,
            })
            .ok()?;
        Some(Box::pin(async move {
            let confirmed = confirm
                .await
                .unwrap_or_else(|_| Err("the publishing task stopped".into()));
            confirmed.map_err(BusError::Bundle)
        }))
    }

    /// Commits `event` to the outbox, whatever the bus: for a stopping process, whose consumers
    /// will not confirm anything any more. It is published at the next start.
    pub async fn keep<E: EventData>(&self, event: &E) -> Result<(), DbError> {
        let envelope = Arc::new(Envelope::new(event).map_err(encoding)?);
        let json = envelope.to_json().map_err(encoding)?;
        keep(&self.db, envelope, json).await
    }
}

/// Commits the event to the outbox.
async fn keep(db: &Db, envelope: Arc<Envelope>, json: Vec<u8>) -> Result<(), DbError> {
    db.write(move |w| w.keep(envelope, json, None).map_err(DbError::from))
        .await
}

fn encoding(e: serde_json::Error) -> DbError {
    DbError::Sqlite(rusqlite::Error::ToSqlConversionFailure(e.into()))
}

/// Publishes what is handed over, in order: whatever gathered (of one kind, within the bus's
/// bundle limit) as one bundle, waiting for its confirm before the next one, so that in a
/// burst the events recorded meanwhile gather.
async fn publish_gathered(bus: Bus, handed: flume::Receiver<Gathered>) {
    let limit = bus.bundle_limit();
    let mut next = None;
    loop {
        let first = match next.take() {
            Some(first) => first,
            None => match handed.recv_async().await {
                Ok(first) => first,
                Err(_) => return,
            },
        };
        let kind = first.envelope.kind;
        let mut bytes = first.json.len();
        let mut bundle = vec![first];
        loop {
            let Ok(more) = handed.try_recv() else { break };
            if !limit.admits(kind, bundle.len(), bytes, more.envelope.kind, more.json.len()) {
                next = Some(more);
                break;
            }
            bytes += more.json.len();
            bundle.push(more);
        }
        let mut waiting = Vec::with_capacity(bundle.len());
        let events = bundle
            .into_iter()
            .map(|g| {
                waiting.push(g.confirmed);
                (g.envelope, g.json)
            })
            .collect();
        let confirmed = match bus.publish_all(events).await {
            Ok(confirm) => confirm.await,
            Err(e) => Err(e),
        };
        let confirmed = confirmed.map_err(|e: BusError| e.to_string());
        for waiter in waiting {
            let _ = waiter.send(confirmed.clone());
        }
    }
}
