//! `history`: pages of history (`GET /api/conversations/{id}/messages?before=<seq>&limit=50`)
//! at random places in conversations holding the seeded messages, one request at a time, as a
//! reader scrolling back does.

use super::seed::{SeedArgs, ensure};
use super::{Meter, per_unit};
use crate::api::Api;
use crate::http1::Connection;
use crate::procfs::Usage;
use crate::report::{count, seconds, usage_rows};
use crate::stats::{Latencies, Summary};
use crate::target::Service;
use anyhow::bail;
use clap::Args;
use rand::Rng;
use reqwest::StatusCode;
use serde::{Deserialize, Serialize};

#[derive(Args, Clone, Debug)]
pub struct HistoryArgs {
    #[command(flatten)]
    pub seed: SeedArgs,
    /// Pages read.
    #[arg(long, default_value_t = 2000)]
    pub pages: usize,
    /// Messages per page.
    #[arg(long, default_value_t = 50)]
    pub page_size: usize,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoryResult {
    pub stored: u64,
    pub conversations: u64,
    /// Messages this run had to send first, and how fast the server took them.
    pub seeded_now: u64,
    pub seed_seconds: f64,
    pub pages: u64,
    pub page_size: u64,
    pub latency: Summary,
    pub server: Option<Usage>,
    pub cpu_per_page_ms: Option<f64>,
}

impl HistoryResult {
    pub fn rows(&self) -> Vec<[String; 2]> {
        let seeded = if self.seeded_now == 0 {
            "already there".to_owned()
        } else {
            format!(
                "{} sent now in {} ({:.0}/s)",
                count(self.seeded_now),
                seconds(self.seed_seconds),
                self.seeded_now as f64 / self.seed_seconds.max(1e-9)
            )
        };
        let mut rows = vec![
            [
                "stored messages".into(),
                format!(
                    "{} in {} conversations ({seeded})",
                    count(self.stored),
                    self.conversations
                ),
            ],
            [
                format!("page of {} p50 / p90 / p99 / max", self.page_size),
                self.latency.percentiles(),
            ],
        ];
        rows.extend(usage_rows(self.server.as_ref(), self.cpu_per_page_ms, "page"));
        rows
    }
}

pub async fn run(api: &Api, args: &HistoryArgs) -> anyhow::Result<HistoryResult> {
    let mut meter = Meter::start(&api.target.probe);
    let seeded = ensure(api, &args.seed).await?;
    let size = args.page_size.clamp(1, 100) as i64;
    let readable: Vec<_> = seeded.conversations.iter().filter(|c| c.last_seq >= size).collect();
    if readable.is_empty() {
        bail!("no seeded conversation holds a page of {size} messages");
    }
    let mut rng = rand::rng();
    let mut latency = Latencies::default();
    let mut connection = Connection::open(&api.target, Service::Messages).await?;
    meter.measure();
    for _ in 0..args.pages {
        let c = readable[rng.random_range(0..readable.len())];
        let before = rng.random_range(size + 1..=c.last_seq + 1);
        let path = format!("/api/conversations/{}/messages?before={before}&limit={size}", c.id);
        let reply = connection.get(&path, Some(&seeded.reader)).await?;
        latency.record(reply.elapsed);
        let got = reply.body["messages"].as_array().map_or(0, Vec::len);
        if reply.status != StatusCode::OK || got != size as usize {
            bail!("{path}: {} with {got} messages: {}", reply.status, reply.body);
        }
    }
    let server = meter.usage();
    Ok(HistoryResult {
        stored: seeded.stored,
        conversations: seeded.conversations.len() as u64,
        seeded_now: seeded.sent_now,
        seed_seconds: seeded.seed_seconds,
        pages: latency.len(),
        page_size: size as u64,
        latency: latency.summary(),
        cpu_per_page_ms: per_unit(server.as_ref(), args.pages as u64),
        server,
    })
}
