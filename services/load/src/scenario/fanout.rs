//! `fanout`: one message delivered to many sockets. Recipients are users holding
//! `--sockets-per-user` tabs each; one sender reaches them through direct conversations (one
//! send per recipient) or, with `--group`, through one group conversation (one send for all,
//! up to 255 recipients besides the sender). Messages go one at a time: each is waited for at
//! every socket, and deliveries per second is sockets reached ÷ time until the last one.

use super::{CONNECT_CONCURRENCY, Meter, next_event, per_unit};
use crate::api::{Api, Session};
use crate::procfs::Usage;
use crate::report::{count, seconds, usage_rows};
use crate::socket::{Acknowledge, Event, Seen, Tab, TabOptions};
use crate::stats::{Latencies, Summary, rate};
use crate::users;
use crate::vocab::Vocabulary;
use anyhow::bail;
use clap::Args;
use futures_util::{StreamExt, TryStreamExt, stream};
use rand::SeedableRng;
use rand::rngs::StdRng;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::time::Instant;
use tokio::sync::mpsc;
use uuid::Uuid;

/// The most recipients of one group conversation: groups have at most 256 members.
pub const MAX_GROUP_RECIPIENTS: usize = 255;

#[derive(Args, Clone, Debug)]
pub struct FanoutArgs {
    /// Sockets that receive each message.
    #[arg(long, default_value_t = 5000)]
    pub sockets: usize,
    /// Sockets held by each recipient user. [default: all of them, one recipient]
    #[arg(long)]
    pub sockets_per_user: Option<usize>,
    /// Messages measured, sent one at a time.
    #[arg(long, default_value_t = 20)]
    pub messages: usize,
    /// Messages sent first and not measured.
    #[arg(long, default_value_t = 2)]
    pub warmup: usize,
    /// Which tabs answer with `delivered`.
    #[arg(long, value_enum, default_value_t = Acknowledge::OnePerUser)]
    pub delivered: Acknowledge,
    /// Reach the recipients through one group conversation (the server must support groups).
    #[arg(long)]
    pub group: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FanoutResult {
    pub sockets: u64,
    pub recipients: u64,
    pub group: bool,
    pub delivered: Acknowledge,
    pub messages: u64,
    pub deliveries: u64,
    pub deliveries_per_second: f64,
    /// Per message: send → its last socket.
    pub complete: Summary,
    /// Per socket: send → that socket.
    pub delivery: Summary,
    pub connect_seconds: f64,
    pub server: Option<Usage>,
    pub cpu_per_delivery_ms: Option<f64>,
}

impl FanoutResult {
    pub fn rows(&self) -> Vec<[String; 2]> {
        let via = if self.group {
            "one group conversation".to_owned()
        } else {
            format!("{} direct conversation(s)", self.recipients)
        };
        let mut rows = vec![
            [
                "sockets reached per message".into(),
                format!(
                    "{} ({} recipient user(s), {via}; opened in {})",
                    count(self.sockets),
                    self.recipients,
                    seconds(self.connect_seconds)
                ),
            ],
            [
                "deliveries".into(),
                format!(
                    "{} over {} messages: {}",
                    count(self.deliveries),
                    self.messages,
                    rate(self.deliveries_per_second)
                ),
            ],
            [
                "send → last socket p50 / p90 / p99 / max".into(),
                self.complete.percentiles(),
            ],
            [
                "send → each socket p50 / p90 / p99 / max".into(),
                self.delivery.percentiles(),
            ],
        ];
        rows.extend(usage_rows(self.server.as_ref(), self.cpu_per_delivery_ms, "delivery"));
        rows
    }
}

/// Where one send goes: a conversation and how many sockets it reaches.
struct Audience {
    conversation: String,
    sockets: usize,
}

/// The sender's tab index; recipients' tabs are numbered from 0.
const SENDER_TAB: usize = usize::MAX;

pub async fn run(api: &Api, args: &FanoutArgs) -> anyhow::Result<FanoutResult> {
    let mut meter = Meter::start(&api.target.probe);
    let per_user = args
        .sockets_per_user
        .unwrap_or(args.sockets)
        .clamp(1, args.sockets.max(1));
    let recipient_count = args.sockets.div_ceil(per_user);
    if args.group && recipient_count > MAX_GROUP_RECIPIENTS {
        bail!(
            "a group has at most {} members: {} sockets need at least {} sockets per user",
            MAX_GROUP_RECIPIENTS + 1,
            args.sockets,
            args.sockets.div_ceil(MAX_GROUP_RECIPIENTS)
        );
    }
    let prefix = users::run_prefix();
    let sender = users::account(api, &format!("{prefix}-fan-sender")).await?;
    let recipients = users::accounts(api, users::names(&prefix, "fan", recipient_count)).await?;
    let sockets_of = |i: usize| per_user.min(args.sockets - i * per_user);
    let audiences = if args.group {
        let ids: Vec<String> = recipients.iter().map(|r| r.id.clone()).collect();
        let conversation = api.create_group(&sender, &format!("{prefix} fan-out"), &ids).await?;
        vec![Audience {
            conversation,
            sockets: args.sockets,
        }]
    } else {
        let mut audiences = Vec::new();
        for (i, r) in recipients.iter().enumerate() {
            let conversation = api.open_direct(&sender, &r.id).await?;
            audiences.push(Audience {
                conversation,
                sockets: sockets_of(i),
            });
        }
        audiences
    };

    let (tx, mut events) = mpsc::unbounded_channel();
    let started = Instant::now();
    let sender_tab = Tab::open(
        &api.target,
        &sender,
        TabOptions {
            index: SENDER_TAB,
            acknowledge: false,
            events: Some(tx.clone()),
        },
    )
    .await?;
    let plan: Vec<(usize, &Session, bool)> = (0..args.sockets)
        .map(|i| {
            let first_of_user = i % per_user == 0;
            let acknowledge = match args.delivered {
                Acknowledge::All => true,
                Acknowledge::OnePerUser => first_of_user,
                Acknowledge::None => false,
            };
            (i, &recipients[i / per_user], acknowledge)
        })
        .collect();
    let tabs: Vec<Tab> = stream::iter(plan)
        .map(|(index, who, acknowledge)| {
            let events = Some(tx.clone());
            let target = &api.target;
            async move {
                let options = TabOptions {
                    index,
                    acknowledge,
                    events,
                };
                Tab::open(target, who, options).await
            }
        })
        .buffer_unordered(CONNECT_CONCURRENCY)
        .try_collect()
        .await?;
    let connect_seconds = started.elapsed().as_secs_f64();

    let vocab = Vocabulary::default();
    let mut rng = StdRng::seed_from_u64(42);
    for _ in 0..args.warmup {
        one_message(&sender_tab, &audiences, &mut events, &vocab.sentence(&mut rng)).await?;
    }
    meter.measure();
    let (mut complete, mut delivery) = (Latencies::default(), Latencies::default());
    let mut busy = 0.0;
    for _ in 0..args.messages {
        let round = one_message(&sender_tab, &audiences, &mut events, &vocab.sentence(&mut rng)).await?;
        complete.record(round.complete);
        delivery.add(&round.deliveries);
        busy += round.complete.as_secs_f64();
    }
    let server = meter.usage();
    sender_tab.close().await;
    for tab in tabs {
        tab.close().await;
    }
    let deliveries = delivery.len();
    Ok(FanoutResult {
        sockets: args.sockets as u64,
        recipients: recipient_count as u64,
        group: args.group,
        delivered: args.delivered,
        messages: args.messages as u64,
        deliveries,
        deliveries_per_second: if busy > 0.0 { deliveries as f64 / busy } else { 0.0 },
        complete: complete.summary(),
        delivery: delivery.summary(),
        connect_seconds,
        cpu_per_delivery_ms: per_unit(server.as_ref(), deliveries),
        server,
    })
}

/// One message's fan-out.
struct Round {
    complete: std::time::Duration,
    deliveries: Latencies,
}

/// Sends one message to every audience and waits until each of their sockets has it.
async fn one_message(
    sender: &Tab,
    audiences: &[Audience],
    events: &mut mpsc::UnboundedReceiver<Event>,
    body: &str,
) -> anyhow::Result<Round> {
    let mut sent: HashMap<Uuid, Instant> = HashMap::with_capacity(audiences.len());
    let mut expected = 0;
    for audience in audiences {
        let (id, at) = sender.send_message(&audience.conversation, body).await?;
        sent.insert(id, at);
        expected += audience.sockets;
    }
    let first = sent.values().min().copied().unwrap_or_else(Instant::now);
    let mut deliveries = Latencies::default();
    let mut last = first;
    while (deliveries.len() as usize) < expected {
        let event = next_event(events).await?;
        match (event.tab, event.seen) {
            (tab, Seen::Message { client_id, .. }) if tab != SENDER_TAB => {
                if let Some(at) = sent.get(&client_id) {
                    deliveries.record(event.at - *at);
                    last = last.max(event.at);
                }
            }
            (tab, Seen::Error { code, message, .. }) => {
                bail!("the server answered tab {tab} with an error frame: {code}: {message}")
            }
            _ => {}
        }
    }
    Ok(Round {
        complete: last - first,
        deliveries,
    })
}
