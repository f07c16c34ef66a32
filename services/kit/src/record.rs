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

use crate::bus::Bus;
use crate::db::{Db, DbError};
use futures_util::future::BoxFuture;
use gochat_proto::events::{Envelope, EventData};
use std::sync::Arc;

/// Resolves once the recorded event is safe.
pub type Recorded = BoxFuture<'static, Result<(), DbError>>;

#[derive(Clone)]
pub struct Recorder {
    bus: Bus,
    db: Db,
}

impl Recorder {
    /// Records through `bus`, with `db`'s outbox as the fallback.
    pub fn new(bus: Bus, db: Db) -> Self {
        Self { bus, db }
    }

    /// Hands `event` on (so successive calls keep their order) and returns what resolves once
    /// it is safe.
    pub async fn record<E: EventData>(&self, event: &E) -> Result<Recorded, DbError> {
        let envelope = Arc::new(Envelope::new(event).map_err(encoding)?);
        let json = envelope.to_json().map_err(encoding)?;
        if self.bus.is_connected()
            && self.db.outbox_idle()
            && let Ok(confirm) = self.bus.publish(envelope.clone(), json.clone()).await
        {
            let db = self.db.clone();
            return Ok(Box::pin(async move {
                match confirm.await {
                    Ok(()) => Ok(()),
                    Err(e) => {
                        tracing::warn!(error = %e, event = %envelope.id, "publish not confirmed; kept in the outbox");
                        keep(&db, envelope, json).await
                    }
                }
            }));
        }
        keep(&self.db, envelope, json).await?;
        Ok(Box::pin(std::future::ready(Ok(()))))
    }
}

impl Recorder {
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
