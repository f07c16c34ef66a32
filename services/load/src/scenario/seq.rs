//! `seq`: one message at a time. Each pair's sender sends, then waits for its `accepted` and
//! for the receiver's `message` before the next: the latency of a quiet chat, with nothing
//! queued ahead. (The sender's own tab gets its copy too, whenever it comes: like a person,
//! the next message does not wait for it.)

use super::{Meter, Pair, RECEIVER, SENDER, next_event, pairs, per_unit};
use crate::api::Api;
use crate::procfs::Usage;
use crate::report::{count, usage_rows};
use crate::socket::{Acknowledge, Seen};
use crate::stats::{Latencies, Summary};
use crate::trace::Trace;
use crate::users;
use crate::vocab::Vocabulary;
use anyhow::bail;
use clap::Args;
use futures_util::future::try_join_all;
use rand::SeedableRng;
use rand::rngs::StdRng;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

#[derive(Args, Clone, Debug)]
pub struct SeqArgs {
    /// Pairs of users, each sending one message at a time.
    #[arg(long, default_value_t = 1)]
    pub pairs: usize,
    /// Messages measured per pair.
    #[arg(long, default_value_t = 2000)]
    pub messages: usize,
    /// Messages sent first by each pair and not measured.
    #[arg(long, default_value_t = 200)]
    pub warmup: usize,
    /// Whether tabs answer messages with `delivered` (the web client does: all).
    #[arg(long, value_enum, default_value_t = Acknowledge::All)]
    pub delivered: Acknowledge,
    /// Writes every measured message to this file, one line each: when it was sent (seconds of
    /// CLOCK_MONOTONIC, the clock of `perf record -k CLOCK_MONOTONIC`), then send → accepted
    /// and send → receive in microseconds. For finding what the server did while the slowest
    /// ones waited (see scripts/tail-blame.py).
    #[arg(long)]
    pub trace: Option<PathBuf>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SeqResult {
    pub pairs: usize,
    pub messages: u64,
    #[serde(default)]
    pub delivered: Acknowledge,
    /// send → `accepted` on the sender's socket.
    pub accepted: Summary,
    /// send → `message` on the receiver's socket.
    pub received: Summary,
    pub server: Option<Usage>,
    pub cpu_per_message_ms: Option<f64>,
}

impl SeqResult {
    pub fn rows(&self) -> Vec<[String; 2]> {
        let mut rows = vec![
            [
                "messages".into(),
                format!(
                    "{} ({} pair(s), one at a time; delivered sent by {} tabs)",
                    count(self.messages),
                    self.pairs,
                    self.delivered.name()
                ),
            ],
            [
                "send → receive p50 / p90 / p99 / max".into(),
                self.received.percentiles(),
            ],
            [
                "send → accepted p50 / p90 / p99 / max".into(),
                self.accepted.percentiles(),
            ],
        ];
        rows.extend(usage_rows(self.server.as_ref(), self.cpu_per_message_ms, "message"));
        rows
    }
}

pub async fn run(api: &Api, args: &SeqArgs) -> anyhow::Result<SeqResult> {
    let mut meter = Meter::start(&api.target.probe);
    let pairs = pairs(api, &users::run_prefix(), args.pairs).await?;
    let mut tabs = try_join_all(pairs.iter().map(|p| p.open(api, args.delivered))).await?;
    try_join_all(
        pairs
            .iter()
            .zip(&mut tabs)
            .enumerate()
            .map(|(i, (pair, tabs))| one_at_a_time(pair, tabs, args.warmup, i as u64 + 1_000, None)),
    )
    .await?;

    let mut traces: Vec<_> = pairs
        .iter()
        .map(|_| args.trace.as_ref().map(|_| Trace::default()))
        .collect();
    meter.measure();
    let measured = try_join_all(
        pairs
            .iter()
            .zip(&mut tabs)
            .zip(&mut traces)
            .enumerate()
            .map(|(i, ((pair, tabs), trace))| one_at_a_time(pair, tabs, args.messages, i as u64, trace.as_mut())),
    )
    .await?;
    let server = meter.usage();
    let (mut accepted, mut received) = (Latencies::default(), Latencies::default());
    for (a, r) in &measured {
        accepted.add(a);
        received.add(r);
    }
    if let Some(path) = &args.trace {
        Trace::write_all(path, traces.into_iter().flatten())?;
    }
    for tabs in tabs {
        tabs.sender.close().await;
        tabs.receiver.close().await;
    }
    let messages = received.len();
    Ok(SeqResult {
        pairs: args.pairs,
        messages,
        delivered: args.delivered,
        accepted: accepted.summary(),
        received: received.summary(),
        cpu_per_message_ms: per_unit(server.as_ref(), messages),
        server,
    })
}

/// Sends `messages` one after the other; latencies to `accepted` and to the receiver.
async fn one_at_a_time(
    pair: &Pair,
    tabs: &mut super::PairTabs,
    messages: usize,
    seed: u64,
    mut trace: Option<&mut Trace>,
) -> anyhow::Result<(Latencies, Latencies)> {
    let vocab = Vocabulary::default();
    let mut rng = StdRng::seed_from_u64(seed);
    let (mut accepted, mut received) = (Latencies::default(), Latencies::default());
    for _ in 0..messages {
        let body = vocab.sentence(&mut rng);
        let (id, sent) = tabs.sender.send_message(&pair.conversation, &body).await?;
        let (mut was_accepted, mut was_received) = (None, None);
        while was_accepted.is_none() || was_received.is_none() {
            let event = next_event(&mut tabs.events).await?;
            match (event.tab, event.seen) {
                (SENDER, Seen::Accepted(cid)) if cid == id => {
                    accepted.record(event.at - sent);
                    was_accepted = Some(event.at);
                }
                (RECEIVER, Seen::Message { client_id, .. }) if client_id == id => {
                    received.record(event.at - sent);
                    was_received = Some(event.at);
                }
                (tab, Seen::Error { code, message, .. }) => {
                    bail!("the server answered tab {tab} with an error frame: {code}: {message}")
                }
                _ => {}
            }
        }
        if let (Some(trace), Some(a), Some(r)) = (trace.as_deref_mut(), was_accepted, was_received) {
            trace.record(sent, a, r);
        }
    }
    Ok((accepted, received))
}
