//! `burst`: every pair sends its messages as fast as the server takes them, with at most
//! `window` in flight (sent, not yet at the receiver). Throughput is what the receivers got per
//! second; latencies are each message's send → receive and send → `accepted`. By Little's law a
//! server that keeps up delivers in about window ÷ (per-pair rate).
//!
//! Every message is checked to arrive exactly once and in `seq` order.

use super::{Meter, Pair, PairTabs, RECEIVER, SENDER, next_event, pairs, per_unit};
use crate::api::Api;
use crate::procfs::Usage;
use crate::report::{count, seconds, usage_rows};
use crate::socket::{Acknowledge, Seen};
use crate::stats::{Latencies, Summary, rate};
use crate::users;
use crate::vocab::Vocabulary;
use anyhow::bail;
use clap::Args;
use futures_util::future::try_join_all;
use rand::SeedableRng;
use rand::rngs::StdRng;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::time::Instant;
use uuid::Uuid;

#[derive(Args, Clone, Debug)]
pub struct BurstArgs {
    /// Pairs of users sending at once.
    #[arg(long, default_value_t = 10)]
    pub pairs: usize,
    /// Messages per pair.
    #[arg(long, default_value_t = 1000)]
    pub messages: usize,
    /// Messages in flight per pair (sent, not yet received); several values run one after another.
    #[arg(long, value_delimiter = ',', default_values_t = [32, 1])]
    pub window: Vec<usize>,
    /// Whether tabs answer messages with `delivered` (the web client does: all).
    #[arg(long, value_enum, default_value_t = Acknowledge::All)]
    pub delivered: Acknowledge,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BurstResult {
    pub pairs: usize,
    pub window: usize,
    pub messages: u64,
    #[serde(default)]
    pub delivered: Acknowledge,
    pub seconds: f64,
    pub delivered_per_second: f64,
    /// send → `message` on the receiver's socket.
    pub delivery: Summary,
    /// send → `accepted` on the sender's socket.
    pub accepted: Summary,
    /// Messages refused with an `error` frame.
    pub refused: u64,
    /// Messages that reached the receiver twice, or after a later `seq`.
    pub duplicates: u64,
    pub out_of_order: u64,
    pub server: Option<Usage>,
    pub cpu_per_message_ms: Option<f64>,
}

impl BurstResult {
    pub fn rows(&self) -> Vec<[String; 2]> {
        let mut rows = vec![
            [
                "messages".into(),
                format!(
                    "{} ({} pairs × {}, {} in flight per pair; delivered sent by {} tabs) in {}",
                    count(self.messages),
                    self.pairs,
                    self.messages / self.pairs.max(1) as u64,
                    self.window,
                    self.delivered.name(),
                    seconds(self.seconds)
                ),
            ],
            ["delivered".into(), rate(self.delivered_per_second)],
            [
                "send → receive p50 / p90 / p99 / max".into(),
                self.delivery.percentiles(),
            ],
            [
                "send → accepted p50 / p90 / p99 / max".into(),
                self.accepted.percentiles(),
            ],
        ];
        if self.refused + self.duplicates + self.out_of_order > 0 {
            rows.push([
                "refused / duplicated / out of order".into(),
                format!("{} / {} / {}", self.refused, self.duplicates, self.out_of_order),
            ]);
        }
        rows.extend(usage_rows(self.server.as_ref(), self.cpu_per_message_ms, "message"));
        rows
    }
}

/// One burst per window value, each with new pairs.
pub async fn run(api: &Api, args: &BurstArgs) -> anyhow::Result<Vec<BurstResult>> {
    let mut results = Vec::new();
    for &window in &args.window {
        results.push(burst(api, args, window.max(1)).await?);
    }
    Ok(results)
}

/// What one pair saw.
#[derive(Default)]
struct PairOutcome {
    delivery: Latencies,
    accepted: Latencies,
    refused: u64,
    duplicates: u64,
    out_of_order: u64,
    last_delivery: Option<Instant>,
}

async fn burst(api: &Api, args: &BurstArgs, window: usize) -> anyhow::Result<BurstResult> {
    let (pair_count, messages) = (args.pairs, args.messages);
    let mut meter = Meter::start(&api.target.probe);
    let pairs = pairs(api, &users::run_prefix(), pair_count).await?;
    let mut tabs = try_join_all(pairs.iter().map(|p| p.open(api, args.delivered))).await?;
    // Bodies are made before the clock starts: the load generator shares the server's cores.
    let vocab = Vocabulary::default();
    let bodies: Vec<Vec<String>> = (0..pairs.len())
        .map(|i| {
            let mut rng = StdRng::seed_from_u64(i as u64);
            (0..messages).map(|_| vocab.sentence(&mut rng)).collect()
        })
        .collect();

    meter.measure();
    let start = Instant::now();
    let outcomes = try_join_all(
        pairs
            .iter()
            .zip(&mut tabs)
            .zip(&bodies)
            .map(|((pair, tabs), bodies)| windowed(pair, tabs, bodies, window)),
    )
    .await?;
    let server = meter.usage();
    for tabs in tabs {
        tabs.sender.close().await;
        tabs.receiver.close().await;
    }

    let mut total = PairOutcome::default();
    for o in &outcomes {
        total.delivery.add(&o.delivery);
        total.accepted.add(&o.accepted);
        total.refused += o.refused;
        total.duplicates += o.duplicates;
        total.out_of_order += o.out_of_order;
        total.last_delivery = total.last_delivery.max(o.last_delivery);
    }
    let delivered = total.delivery.len();
    let elapsed = total.last_delivery.map_or(0.0, |end| (end - start).as_secs_f64());
    Ok(BurstResult {
        pairs: pair_count,
        window,
        messages: delivered,
        delivered: args.delivered,
        seconds: elapsed,
        delivered_per_second: if elapsed > 0.0 { delivered as f64 / elapsed } else { 0.0 },
        delivery: total.delivery.summary(),
        accepted: total.accepted.summary(),
        refused: total.refused,
        duplicates: total.duplicates,
        out_of_order: total.out_of_order,
        cpu_per_message_ms: per_unit(server.as_ref(), delivered),
        server,
    })
}

/// A message in flight: when it was sent, and what came back of it so far.
struct InFlight {
    sent: Instant,
    accepted: bool,
    delivered: bool,
}

/// Sends `bodies` keeping at most `window` undelivered.
async fn windowed(pair: &Pair, tabs: &mut PairTabs, bodies: &[String], window: usize) -> anyhow::Result<PairOutcome> {
    let mut out = PairOutcome::default();
    // Kept until both its `accepted` and its delivery came (in either order: two sockets).
    let mut in_flight: HashMap<Uuid, InFlight> = HashMap::with_capacity(window * 2);
    let mut undelivered = 0;
    let mut next = 0;
    let mut done = 0;
    let mut last_seq = 0;
    while done < bodies.len() {
        while undelivered < window && next < bodies.len() {
            let (id, sent) = tabs.sender.send_message(&pair.conversation, &bodies[next]).await?;
            let m = InFlight {
                sent,
                accepted: false,
                delivered: false,
            };
            in_flight.insert(id, m);
            undelivered += 1;
            next += 1;
        }
        let event = next_event(&mut tabs.events).await?;
        match (event.tab, event.seen) {
            (SENDER, Seen::Accepted(id)) => {
                if let Some(m) = in_flight.get_mut(&id)
                    && !m.accepted
                {
                    m.accepted = true;
                    out.accepted.record(event.at - m.sent);
                    if m.delivered {
                        in_flight.remove(&id);
                    }
                }
            }
            (RECEIVER, Seen::Message { client_id, seq, .. }) => match in_flight.get_mut(&client_id) {
                Some(m) if !m.delivered => {
                    m.delivered = true;
                    out.delivery.record(event.at - m.sent);
                    if m.accepted {
                        in_flight.remove(&client_id);
                    }
                    out.last_delivery = Some(event.at);
                    if seq <= last_seq {
                        out.out_of_order += 1;
                    }
                    last_seq = last_seq.max(seq);
                    undelivered -= 1;
                    done += 1;
                }
                _ => out.duplicates += 1,
            },
            (
                tab,
                Seen::Error {
                    code,
                    message,
                    client_id,
                },
            ) => {
                let ours = client_id.and_then(|id| in_flight.remove(&id));
                if tab != SENDER || ours.as_ref().is_none_or(|m| m.delivered) {
                    bail!("the server answered tab {tab} with an error frame: {code}: {message}");
                }
                out.refused += 1;
                undelivered -= 1;
                done += 1;
            }
            _ => {}
        }
    }
    Ok(out)
}
