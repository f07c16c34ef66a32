//! `roundtrip`: the floor under every latency the other scenarios measure, one request at a
//! time: an empty HTTP request (`GET /healthz` on chat) and a `ping` on a chat socket answered
//! with `pong`. Neither touches a database or another task of the server; what they take is
//! the machine's loopback TCP, the wake-ups of both processes, and the server's HTTP and
//! WebSocket framing: what a message's figures sit on before GoChat does anything for it.
//!
//! The pings come back to back, thousands a second: a server keeping its default per-user frame
//! budget (`GOCHAT_CHAT_FRAMES_PER_SECOND`, 1,000) then makes them wait for it, and the figure
//! measures the limiter. `make bench` lifts it.

use super::{Meter, STALL, per_unit};
use crate::api::Api;
use crate::http1::Connection;
use crate::procfs::Usage;
use crate::report::{count, usage_rows};
use crate::socket::{Seen, Tab, TabOptions};
use crate::stats::{Latencies, Summary};
use crate::target::Service;
use crate::users;
use crate::wire::Outgoing;
use anyhow::{Context, bail};
use clap::Args;
use reqwest::StatusCode;
use serde::{Deserialize, Serialize};
use std::time::Instant;
use tokio::sync::mpsc;

#[derive(Args, Clone, Debug)]
pub struct RoundtripArgs {
    /// Round trips of each kind measured.
    #[arg(long, default_value_t = 5000)]
    pub rounds: usize,
    /// Round trips of each kind made first and not measured.
    #[arg(long, default_value_t = 200)]
    pub warmup: usize,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoundtripResult {
    pub rounds: u64,
    /// `GET /healthz`: request sent → response's last byte.
    pub http: Summary,
    /// `ping` written → `pong` read.
    pub ws: Summary,
    pub server: Option<Usage>,
    /// A round is one of each.
    pub cpu_per_round_ms: Option<f64>,
}

impl RoundtripResult {
    pub fn rows(&self) -> Vec<[String; 2]> {
        let mut rows = vec![
            [
                "round trips".into(),
                format!("{} of each, one at a time", count(self.rounds)),
            ],
            ["GET /healthz p50 / p90 / p99 / max".into(), self.http.percentiles()],
            ["ping → pong p50 / p90 / p99 / max".into(), self.ws.percentiles()],
        ];
        rows.extend(usage_rows(
            self.server.as_ref(),
            self.cpu_per_round_ms,
            "round (a request and a ping)",
        ));
        rows
    }
}

pub async fn run(api: &Api, args: &RoundtripArgs) -> anyhow::Result<RoundtripResult> {
    let mut meter = Meter::start(&api.target.probe);
    let me = users::account(api, &users::names(&users::run_prefix(), "rt", 1)[0]).await?;
    let (events_tx, mut events) = mpsc::unbounded_channel();
    let options = TabOptions {
        index: 0,
        acknowledge: false,
        events: Some(events_tx),
    };
    let tab = Tab::open(&api.target, &me, options).await?;

    let mut connection = Connection::open(&api.target, Service::Chat).await?;
    let mut http = Latencies::default();
    let mut ws = Latencies::default();
    for round in 0..args.warmup + args.rounds {
        if round == args.warmup {
            meter.measure();
        }
        let reply = connection.get("/healthz", None).await?;
        if reply.status != StatusCode::OK {
            bail!("GET /healthz: {}", reply.status);
        }

        let sent = Instant::now();
        tab.send(&Outgoing::Ping).await?;
        let answered = loop {
            let event = tokio::time::timeout(STALL, events.recv())
                .await
                .context("no pong")?
                .context("the socket's reader stopped")?;
            match event.seen {
                Seen::Pong => break event.at,
                Seen::Closed(why) => bail!("{why}"),
                _ => {}
            }
        };
        if round >= args.warmup {
            http.record(reply.elapsed);
            ws.record(answered - sent);
        }
    }
    let server = meter.usage();
    tab.close().await;
    Ok(RoundtripResult {
        rounds: args.rounds as u64,
        http: http.summary(),
        ws: ws.summary(),
        cpu_per_round_ms: per_unit(server.as_ref(), args.rounds as u64),
        server,
    })
}
