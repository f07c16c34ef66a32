//! The scenarios, one file each, and what they share: pairs of users with a conversation, the
//! wait for the next frame (bounded: a server that stops answering fails the run, it does not
//! hang it), and the meter of the server's CPU time and memory.

pub mod burst;
pub mod fanout;
pub mod history;
pub mod idle;
pub mod roundtrip;
pub mod search;
pub mod seed;
pub mod seq;
pub mod signin;

use crate::api::{Api, Session};
use crate::procfs::{Mark, Probe, Usage};
use crate::socket::{Acknowledge, Event, Seen, Tab, TabOptions};
use crate::users;
use anyhow::{Context, bail};
use futures_util::{StreamExt, TryStreamExt, stream};
use std::time::Duration;
use tokio::sync::mpsc;

/// The longest wait for any frame the scenario expects: past it the server is deemed stuck.
pub const STALL: Duration = Duration::from_secs(60);

/// Sockets opened at once: enough to open thousands in seconds without flooding the backlog.
pub const CONNECT_CONCURRENCY: usize = 64;

/// Two users and their direct conversation; `sender` writes, `receiver` reads.
pub struct Pair {
    pub sender: Session,
    pub receiver: Session,
    pub conversation: String,
}

/// `count` new pairs, each with its conversation opened by the sender (as the web client does
/// before its first message).
pub async fn pairs(api: &Api, prefix: &str, count: usize) -> anyhow::Result<Vec<Pair>> {
    let senders = users::accounts(api, users::names(prefix, "s", count)).await?;
    let receivers = users::accounts(api, users::names(prefix, "r", count)).await?;
    stream::iter(senders.into_iter().zip(receivers))
        .map(|(sender, receiver)| async move {
            let conversation = api.open_direct(&sender, &receiver.id).await?;
            anyhow::Ok(Pair {
                sender,
                receiver,
                conversation,
            })
        })
        .buffered(users::SIGNUP_CONCURRENCY)
        .try_collect()
        .await
}

/// Tab indexes of a pair's two sockets.
pub const SENDER: usize = 0;
pub const RECEIVER: usize = 1;

/// A pair's open sockets, reporting into one channel.
pub struct PairTabs {
    pub sender: Tab,
    pub receiver: Tab,
    pub events: mpsc::UnboundedReceiver<Event>,
}

impl Pair {
    /// Opens one tab for each user; unless told otherwise each acknowledges what others send,
    /// as the web client does.
    pub async fn open(&self, api: &Api, delivered: Acknowledge) -> anyhow::Result<PairTabs> {
        let (tx, events) = mpsc::unbounded_channel();
        let options = |index| TabOptions {
            index,
            acknowledge: delivered != Acknowledge::None,
            events: Some(tx.clone()),
        };
        let sender = Tab::open(&api.target, &self.sender, options(SENDER)).await?;
        let receiver = Tab::open(&api.target, &self.receiver, options(RECEIVER)).await?;
        Ok(PairTabs {
            sender,
            receiver,
            events,
        })
    }
}

/// The next event, or an error when nothing arrives for [`STALL`].
pub async fn next_event(events: &mut mpsc::UnboundedReceiver<Event>) -> anyhow::Result<Event> {
    let event = tokio::time::timeout(STALL, events.recv())
        .await
        .with_context(|| format!("no frame from the server for {STALL:?}"))?
        .context("every socket closed")?;
    if let Seen::Closed(why) = &event.seen {
        bail!("a socket closed mid-run: {why}");
    }
    Ok(event)
}

/// The server's cost over a scenario: resident memory from its start to its end, CPU time
/// over its measured phase only (not sign-ups or connecting, unless that is what it measures).
pub struct Meter {
    probe: Probe,
    rss_before_kib: Option<u64>,
    measured: Option<Mark>,
}

impl Meter {
    pub fn start(probe: &Probe) -> Self {
        Self {
            probe: probe.clone(),
            rss_before_kib: probe.rss_kib(),
            measured: None,
        }
    }

    /// The measured phase starts now.
    pub fn measure(&mut self) {
        self.measured = Some(self.probe.mark());
    }

    /// What the server spent, read now.
    pub fn usage(&self) -> Option<Usage> {
        let usage = self.probe.since(self.measured.as_ref()?)?;
        Some(Usage {
            rss_before_kib: self.rss_before_kib.unwrap_or(usage.rss_before_kib),
            ..usage
        })
    }
}

/// Server CPU milliseconds per unit of work.
pub fn per_unit(usage: Option<&Usage>, units: u64) -> Option<f64> {
    (units > 0).then(|| usage.map(|u| u.cpu_ms / units as f64)).flatten()
}
