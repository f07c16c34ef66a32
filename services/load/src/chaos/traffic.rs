//! The steady traffic of the chaos suite: each pair's sender sends at a fixed rate on its
//! `/ws/chat` tab and its receiver watches its own tab (and holds a `/ws/notifications`
//! socket), as the web client does through faults:
//! - a tab whose socket closes opens a new one; the sender then sends again every message that
//!   was not `accepted`, with the same client id (and its last few accepted ones, whose
//!   `accepted` might have been lost with the socket); the receiver catches up by seq;
//! - a `resync` frame makes the receiver catch up by seq on the socket it has.
//!
//! Every message is followed from send to `accepted` and to the receiver, and how it reached
//! the receiver is kept: pushed on its socket, or found by a catch-up after a resync or after
//! a reconnect.

use crate::api::{Api, Session};
use crate::socket::{Event, Seen, Tab, TabOptions, connect, hold};
use crate::target::Service;
use anyhow::{Context, bail};
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

/// Longest a tab keeps trying to open a socket again.
const REOPEN_WITHIN: Duration = Duration::from_secs(60);
/// Accepted messages a sender sends again after its socket closed.
const RESEND_ACCEPTED: usize = 3;
const SENDER: usize = 0;
const RECEIVER: usize = 1;

/// How a message reached the receiver's tab.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reached {
    /// Pushed on the socket the receiver had.
    Pushed,
    /// Found by the catch-up a `resync` frame asked for.
    Resync,
    /// Found by the catch-up after the receiver's socket closed and it opened another.
    Reconnect,
}

/// One message a sender sent.
pub struct Sent {
    pub client_id: Uuid,
    pub phase: usize,
    pub sent_at: Instant,
    pub accepted_at: Option<Instant>,
    pub reached: Option<(Instant, Reached)>,
}

/// A socket that closed and was opened again, in which phase.
#[derive(Clone, Copy, Debug)]
pub struct Reopened {
    pub phase: usize,
    pub tab: usize,
}

/// What one pair saw.
pub struct PairLog {
    pub sender: Session,
    pub receiver: Session,
    pub conversation: String,
    pub sent: Vec<Sent>,
    /// Pushes of a message the receiver had already (at-least-once delivery; the client
    /// replaces by client id).
    pub repeats: u64,
    /// Messages sent again after a reconnect.
    pub resent: u64,
    pub reopened: Vec<Reopened>,
    /// Phases in which the receiver was asked to resync.
    pub resyncs: Vec<usize>,
    /// Refusals and other frames that should not come.
    pub errors: Vec<String>,
    /// When everything this pair sent was accepted and had reached the receiver.
    pub converged_at: Option<Instant>,
}

/// The pairs at work, and how to stop them.
pub struct Traffic {
    pub phase: Arc<AtomicUsize>,
    stop_sending: CancellationToken,
    tasks: Vec<tokio::task::JoinHandle<anyhow::Result<PairLog>>>,
}

/// One pair's accounts and conversation.
pub struct Pair {
    pub sender: Session,
    pub receiver: Session,
    pub conversation: String,
}

impl Traffic {
    /// Opens every pair's tabs, then starts sending `rate` messages a second per pair.
    /// Each pair waits at most `converge_within` after sending stops.
    pub async fn start(api: &Api, pairs: Vec<Pair>, rate: f64, converge_within: Duration) -> anyhow::Result<Self> {
        let phase = Arc::new(AtomicUsize::new(0));
        let stop_sending = CancellationToken::new();
        let mut opened = Vec::new();
        for (i, pair) in pairs.into_iter().enumerate() {
            // nginx takes the chat instances in turn: alternating which tab opens first puts
            // receivers (and senders) on both.
            let receiver_first = i % 2 == 1;
            opened.push(PairTask::open(api.clone(), pair, phase.clone(), receiver_first).await?);
        }
        let tasks = opened
            .into_iter()
            .map(|task| tokio::spawn(task.run(rate, stop_sending.clone(), converge_within)))
            .collect();
        Ok(Self {
            phase,
            stop_sending,
            tasks,
        })
    }

    pub fn enter(&self, phase: usize) {
        self.phase.store(phase, Ordering::SeqCst);
    }

    /// Stops sending; each pair then waits (at most `within`) until everything it sent was
    /// accepted and reached its receiver. Returns when sending stopped, and what each pair saw.
    pub async fn finish(self, within: Duration) -> anyhow::Result<(Instant, Vec<PairLog>)> {
        let stopped = Instant::now();
        self.stop_sending.cancel();
        let mut logs = Vec::new();
        for task in self.tasks {
            let log = tokio::time::timeout(within + REOPEN_WITHIN, task)
                .await
                .context("a pair never finished")???;
            logs.push(log);
        }
        Ok((stopped, logs))
    }
}

struct PairTask {
    api: Api,
    log: PairLog,
    index: HashMap<Uuid, usize>,
    phase: Arc<AtomicUsize>,
    events_tx: mpsc::UnboundedSender<Event>,
    events: mpsc::UnboundedReceiver<Event>,
    sender_tab: Tab,
    receiver_tab: Tab,
    /// Seqs the receiver has.
    seqs: BTreeSet<i64>,
    /// Holds the receiver's notifications socket, opening it again when it closes.
    presence: CancellationToken,
}

impl PairTask {
    async fn open(api: Api, pair: Pair, phase: Arc<AtomicUsize>, receiver_first: bool) -> anyhow::Result<Self> {
        let (events_tx, events) = mpsc::unbounded_channel();
        let (sender_tab, receiver_tab) = if receiver_first {
            let receiver_tab = open_tab(&api, &pair.receiver, RECEIVER, &events_tx).await?;
            (open_tab(&api, &pair.sender, SENDER, &events_tx).await?, receiver_tab)
        } else {
            let sender_tab = open_tab(&api, &pair.sender, SENDER, &events_tx).await?;
            (sender_tab, open_tab(&api, &pair.receiver, RECEIVER, &events_tx).await?)
        };
        let presence = CancellationToken::new();
        tokio::spawn(hold_notifications(api.clone(), pair.receiver.clone(), presence.clone()));
        Ok(Self {
            api,
            log: PairLog {
                sender: pair.sender,
                receiver: pair.receiver,
                conversation: pair.conversation,
                sent: Vec::new(),
                repeats: 0,
                resent: 0,
                reopened: Vec::new(),
                resyncs: Vec::new(),
                errors: Vec::new(),
                converged_at: None,
            },
            index: HashMap::new(),
            phase,
            events_tx,
            events,
            sender_tab,
            receiver_tab,
            seqs: BTreeSet::new(),
            presence,
        })
    }

    async fn run(mut self, rate: f64, stop_sending: CancellationToken, within: Duration) -> anyhow::Result<PairLog> {
        let mut every = tokio::time::interval(Duration::from_secs_f64(1.0 / rate.max(0.1)));
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut n = 0u64;
        let mut give_up = None;
        loop {
            if stop_sending.is_cancelled() && self.converged() {
                self.log.converged_at = Some(Instant::now());
                break;
            }
            let deadline = give_up.unwrap_or_else(|| tokio::time::Instant::now() + within);
            tokio::select! {
                _ = every.tick(), if !stop_sending.is_cancelled() => {
                    n += 1;
                    self.send_new(n).await?;
                }
                event = self.events.recv() => {
                    let event = event.context("the tabs' channel closed")?;
                    self.handle(event).await?;
                }
                _ = stop_sending.cancelled(), if !stop_sending.is_cancelled() => {
                    give_up = Some(tokio::time::Instant::now() + within);
                }
                // Not converged in time: what is missing is reported, not waited for.
                _ = tokio::time::sleep_until(deadline), if give_up.is_some() => break,
            }
        }
        self.presence.cancel();
        self.sender_tab.close().await;
        self.receiver_tab.close().await;
        Ok(self.log)
    }

    fn converged(&self) -> bool {
        self.log
            .sent
            .iter()
            .all(|m| m.accepted_at.is_some() && m.reached.is_some())
    }

    fn body(&self, n: u64) -> String {
        format!("chaos {} {n}", self.log.sender.username)
    }

    async fn send_new(&mut self, n: u64) -> anyhow::Result<()> {
        let client_id = Uuid::now_v7();
        self.index.insert(client_id, self.log.sent.len());
        self.log.sent.push(Sent {
            client_id,
            phase: self.phase.load(Ordering::SeqCst),
            sent_at: Instant::now(),
            accepted_at: None,
            reached: None,
        });
        let body = self.body(n);
        // A socket that just failed is opened again when its reader reports it closed; the
        // message is then sent again with the others that were not accepted.
        let _ = self
            .sender_tab
            .send_message_as(client_id, &self.log.conversation, &body)
            .await;
        Ok(())
    }

    async fn handle(&mut self, event: Event) -> anyhow::Result<()> {
        let phase = self.phase.load(Ordering::SeqCst);
        match (event.tab, event.seen) {
            (SENDER, Seen::Accepted(id)) => {
                if let Some(&i) = self.index.get(&id) {
                    self.log.sent[i].accepted_at.get_or_insert(event.at);
                }
            }
            (
                RECEIVER,
                Seen::Message {
                    client_id,
                    seq,
                    from_me: false,
                    ..
                },
            ) => self.reached(client_id, seq, event.at, Reached::Pushed),
            (RECEIVER, Seen::Resync) => {
                self.log.resyncs.push(phase);
                self.catch_up(Reached::Resync).await?;
            }
            (tab, Seen::Closed(_)) => {
                self.log.reopened.push(Reopened { phase, tab });
                if tab == SENDER {
                    self.sender_tab = open_tab(&self.api, &self.log.sender, SENDER, &self.events_tx).await?;
                    self.resend().await;
                } else {
                    self.receiver_tab = open_tab(&self.api, &self.log.receiver, RECEIVER, &self.events_tx).await?;
                    self.catch_up(Reached::Reconnect).await?;
                }
            }
            (
                tab,
                Seen::Error {
                    code,
                    message,
                    client_id,
                },
            ) => self
                .log
                .errors
                .push(format!("tab {tab}: {code}: {message} (client id {client_id:?})")),
            _ => {}
        }
        Ok(())
    }

    fn reached(&mut self, client_id: Uuid, seq: i64, at: Instant, how: Reached) {
        self.seqs.insert(seq);
        match self.index.get(&client_id) {
            Some(&i) if self.log.sent[i].reached.is_none() => self.log.sent[i].reached = Some((at, how)),
            Some(_) => {
                if how == Reached::Pushed {
                    self.log.repeats += 1;
                }
            }
            None => self
                .log
                .errors
                .push(format!("the receiver got a message nobody sent: {client_id}")),
        }
    }

    /// Asks for what came after the last seq the receiver has, as the web client does.
    async fn catch_up(&mut self, how: Reached) -> anyhow::Result<()> {
        let after = self.seqs.last().copied().unwrap_or(0);
        let messages = self
            .api
            .messages_after(&self.log.receiver, &self.log.conversation, after)
            .await?;
        let now = Instant::now();
        for m in messages {
            self.reached(m.client_id, m.seq, now, how);
        }
        Ok(())
    }

    /// Sends again, with their client ids, the messages that were not accepted, and the last
    /// [`RESEND_ACCEPTED`] that were, as if their `accepted` frames had been lost with the
    /// socket: the server must store each once.
    async fn resend(&mut self) {
        let accepted: Vec<usize> = (0..self.log.sent.len())
            .filter(|&i| self.log.sent[i].accepted_at.is_some())
            .collect();
        let again = accepted[accepted.len().saturating_sub(RESEND_ACCEPTED)..]
            .iter()
            .copied();
        let pending: Vec<(usize, Uuid)> = again
            .chain((0..self.log.sent.len()).filter(|&i| self.log.sent[i].accepted_at.is_none()))
            .map(|i| (i, self.log.sent[i].client_id))
            .collect();
        for (i, client_id) in pending {
            let body = self.body(i as u64 + 1);
            if self
                .sender_tab
                .send_message_as(client_id, &self.log.conversation, &body)
                .await
                .is_ok()
            {
                self.log.resent += 1;
            }
        }
    }
}

/// Opens a chat tab, trying again while the chat instances restart or nginx finds a live one.
async fn open_tab(api: &Api, me: &Session, index: usize, events: &mpsc::UnboundedSender<Event>) -> anyhow::Result<Tab> {
    let deadline = Instant::now() + REOPEN_WITHIN;
    let mut pause = Duration::from_millis(50);
    loop {
        let options = TabOptions {
            index,
            acknowledge: true,
            events: Some(events.clone()),
        };
        match Tab::open(&api.target, me, options).await {
            Ok(tab) => return Ok(tab),
            Err(e) if Instant::now() >= deadline => bail!("cannot open a chat socket again: {e:#}"),
            Err(_) => {}
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_secs(1));
    }
}

/// Keeps a `/ws/notifications` socket of `me` open until `stop` (that is what makes `me`
/// online), opening another whenever it closes.
async fn hold_notifications(api: Api, me: Session, stop: CancellationToken) {
    let mut pause = Duration::from_millis(50);
    while !stop.is_cancelled() {
        match connect(&api.target, Service::Notifications, "/ws/notifications", &me).await {
            Ok(ws) => {
                pause = Duration::from_millis(50);
                tokio::select! {
                    _ = hold(ws) => {}
                    _ = stop.cancelled() => return,
                }
            }
            Err(_) => {
                tokio::select! {
                    _ = tokio::time::sleep(pause) => {}
                    _ = stop.cancelled() => return,
                }
                pause = (pause * 2).min(Duration::from_secs(1));
            }
        }
    }
}
