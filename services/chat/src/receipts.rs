//! Delivered and read watermarks, gathered for a moment before they are recorded.
//!
//! A tab reports `delivered` for every message it receives; in a burst that is one receipt per
//! message, each a write in the messages service and a frame to both members. Only the highest
//! watermark matters, so the receipts of a user in a conversation that arrive within
//! [`GATHER`] are recorded as one (per kind). Nothing is reordered that matters: watermarks
//! only move up, whatever order they are applied in.

use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use gochat_kit::record::Recorder;
use gochat_proto::events::{MessageDelivered, MessageRead, Origin};
use gochat_proto::ids::{ConversationId, UserId};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// How long receipts wait for later ones to fold into: short enough that ticks look instant.
const GATHER: Duration = Duration::from_millis(20);

/// The highest watermarks reported since the last flush, and the socket that reported last
/// (where a refusal goes).
struct Marks {
    delivered: i64,
    read: i64,
    origin: Origin,
}

#[derive(Default)]
pub struct Receipts {
    pending: Mutex<HashMap<(UserId, ConversationId), Marks>>,
    wake: Notify,
}

impl Receipts {
    /// Notes a receipt (a read is also a delivery); recorded within [`GATHER`].
    pub fn note(&self, user: UserId, conversation: ConversationId, delivered: i64, read: i64, origin: Origin) {
        let mut pending = self.pending.lock().expect("receipts lock poisoned");
        let marks = pending.entry((user, conversation)).or_insert(Marks {
            delivered: 0,
            read: 0,
            origin: origin.clone(),
        });
        marks.delivered = marks.delivered.max(delivered).max(read);
        marks.read = marks.read.max(read);
        marks.origin = origin;
        drop(pending);
        self.wake.notify_one();
    }

    fn take(&self) -> HashMap<(UserId, ConversationId), Marks> {
        std::mem::take(&mut *self.pending.lock().expect("receipts lock poisoned"))
    }

    /// Records what was noted, a gathering at a time, until shutdown; then what is still
    /// waiting goes to the outbox (the consumers are stopping: nothing would confirm it now),
    /// to be published at the next start.
    pub async fn record(&self, recorder: Recorder, shutdown: CancellationToken) {
        loop {
            tokio::select! {
                _ = self.wake.notified() => {}
                _ = shutdown.cancelled() => break,
            }
            let gathering = async {
                tokio::time::sleep(GATHER).await;
                flush(&recorder, self.take()).await;
            };
            tokio::select! {
                _ = gathering => {}
                _ = shutdown.cancelled() => break,
            }
        }
        for (user, conversation, event) in events(self.take()) {
            let kept = match &event {
                Receipt::Read(read) => recorder.keep(read).await,
                Receipt::Delivered(delivered) => recorder.keep(delivered).await,
            };
            if let Err(e) = kept {
                tracing::error!(%user, %conversation, error = %e, "receipt not kept");
            }
        }
    }
}

/// A watermark to record.
enum Receipt {
    Read(MessageRead),
    Delivered(MessageDelivered),
}

/// The events that record gathered marks: the delivered watermark when it is higher than the
/// read one, then the read one (which also delivers), so that each step only moves forward.
fn events(gathered: HashMap<(UserId, ConversationId), Marks>) -> Vec<(UserId, ConversationId, Receipt)> {
    let mut events = Vec::with_capacity(gathered.len());
    for ((user, conversation), marks) in gathered {
        let origin = Some(marks.origin);
        if marks.delivered > marks.read {
            let delivered = MessageDelivered {
                conversation_id: conversation,
                user_id: user,
                seq: marks.delivered,
                origin: origin.clone(),
            };
            events.push((user, conversation, Receipt::Delivered(delivered)));
        }
        if marks.read > 0 {
            let read = MessageRead {
                conversation_id: conversation,
                user_id: user,
                seq: marks.read,
                origin,
            };
            events.push((user, conversation, Receipt::Read(read)));
        }
    }
    events
}

/// Records the gathered receipts and waits until they are safe (meanwhile, new ones gather).
async fn flush(recorder: &Recorder, gathered: HashMap<(UserId, ConversationId), Marks>) {
    let mut safe = FuturesUnordered::new();
    for (user, conversation, event) in events(gathered) {
        let recorded = match &event {
            Receipt::Read(read) => recorder.record(read).await,
            Receipt::Delivered(delivered) => recorder.record(delivered).await,
        };
        match recorded {
            Ok(recorded) => safe.push(recorded),
            Err(e) => tracing::error!(%user, %conversation, error = %e, "receipt not recorded"),
        }
    }
    while let Some(done) = safe.next().await {
        if let Err(e) = done {
            tracing::error!(error = %e, "receipt not recorded");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origin(socket: u64) -> Origin {
        Origin {
            instance: "i".into(),
            socket,
        }
    }

    #[test]
    fn receipts_of_a_user_in_a_conversation_fold_into_the_highest_marks() {
        let receipts = Receipts::default();
        let (user, conversation, other) = (UserId::new(), ConversationId::new(), ConversationId::new());
        receipts.note(user, conversation, 3, 0, origin(1));
        receipts.note(user, conversation, 2, 0, origin(1));
        receipts.note(user, conversation, 0, 5, origin(2));
        receipts.note(user, other, 1, 0, origin(1));
        let taken = receipts.take();
        let marks = &taken[&(user, conversation)];
        assert_eq!((marks.delivered, marks.read, marks.origin.socket), (5, 5, 2));
        assert_eq!(taken[&(user, other)].delivered, 1);
        assert!(receipts.take().is_empty(), "taken once");
    }
}
