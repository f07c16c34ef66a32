//! The stored messages that `history` and `search` read: `--stored` messages spread over
//! `--conversations` direct conversations, every one with the same reader (so one user can
//! page and search them all). They go in through the real path, WebSocket sends from each
//! writer with a window, as fast as the server takes them.
//!
//! The users have fixed names and passwords, so a data directory seeded once serves every later
//! run: what is already stored (each conversation's `lastSeq`) is counted, and only what is
//! missing is sent.

use super::STALL;
use crate::api::{Api, ConversationHead, Session};
use crate::socket::{Seen, Tab, TabOptions};
use crate::users;
use crate::vocab::Vocabulary;
use anyhow::{Context, bail};
use clap::Args;
use futures_util::future::try_join_all;
use rand::SeedableRng;
use rand::rngs::StdRng;
use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

#[derive(Args, Clone, Debug)]
pub struct SeedArgs {
    /// Messages stored before reading (sent through WebSocket when fewer are there).
    #[arg(long, default_value_t = 1_000_000)]
    pub stored: u64,
    /// Conversations they are spread over, all with the one reader.
    #[arg(long, default_value_t = 10)]
    pub conversations: usize,
    /// Messages in flight per conversation while seeding.
    #[arg(long, default_value_t = 32)]
    pub seed_window: usize,
    /// Name of the seeded users: `<name>-reader` and `<name>-writer-<i>`.
    #[arg(long, default_value = "seed")]
    pub seed_name: String,
}

/// The seeded data, ready to read.
pub struct Seeded {
    pub reader: Session,
    /// Every seeded conversation, with its last seq.
    pub conversations: Vec<ConversationHead>,
    pub stored: u64,
    /// Messages sent by this run, and how long it took.
    pub sent_now: u64,
    pub seed_seconds: f64,
}

/// Makes sure the messages are there; sends the missing ones.
pub async fn ensure(api: &Api, args: &SeedArgs) -> anyhow::Result<Seeded> {
    let n = args.conversations.max(1);
    let reader = users::account(api, &format!("{}-reader", args.seed_name)).await?;
    let writers = users::accounts(api, users::names(&args.seed_name, "writer", n)).await?;
    let mut ids = Vec::with_capacity(n);
    for w in &writers {
        ids.push(api.open_direct(w, &reader.id).await?);
    }
    let wanted = |i: usize| args.stored / n as u64 + u64::from((i as u64) < args.stored % n as u64);
    let have = last_seqs(api, &reader, &ids).await?;
    let missing: Vec<u64> = (0..n).map(|i| wanted(i).saturating_sub(have[i])).collect();
    let total_missing: u64 = missing.iter().sum();
    let started = Instant::now();
    if total_missing > 0 {
        eprintln!(
            "gochat-load: seeding {total_missing} messages over {n} conversations ({} stored already)",
            have.iter().sum::<u64>()
        );
        let progress = Arc::new(AtomicU64::new(0));
        let reporter = tokio::spawn(report_progress(progress.clone(), total_missing));
        let sends = writers
            .iter()
            .zip(&ids)
            .zip(&missing)
            .enumerate()
            .map(|(i, ((w, id), &m))| {
                let seed = i as u64 * 1_000_003 + have[i];
                send_all(api, w, id, m, args.seed_window.max(1), seed, progress.clone())
            });
        let sent = try_join_all(sends).await;
        reporter.abort();
        sent?;
    }
    let seed_seconds = started.elapsed().as_secs_f64();
    let have = last_seqs(api, &reader, &ids).await?;
    let conversations = ids
        .into_iter()
        .zip(&have)
        .map(|(id, &last_seq)| ConversationHead {
            id,
            last_seq: last_seq as i64,
            peer: None,
        })
        .collect();
    Ok(Seeded {
        reader,
        conversations,
        stored: have.iter().sum(),
        sent_now: total_missing,
        seed_seconds,
    })
}

/// The last seq of each conversation in `ids`, as the reader's list shows it.
async fn last_seqs(api: &Api, reader: &Session, ids: &[String]) -> anyhow::Result<Vec<u64>> {
    let listed = api.conversations(reader).await?;
    ids.iter()
        .map(|id| {
            listed
                .iter()
                .find(|c| &c.id == id)
                .map(|c| c.last_seq.max(0) as u64)
                .with_context(|| format!("conversation {id} is not in the reader's list"))
        })
        .collect()
}

/// Sends `count` messages into `conversation`, `window` at a time (a message leaves the window
/// when the writer's own tab gets it back stored).
async fn send_all(
    api: &Api,
    writer: &Session,
    conversation: &str,
    count: u64,
    window: usize,
    seed: u64,
    progress: Arc<AtomicU64>,
) -> anyhow::Result<()> {
    if count == 0 {
        return Ok(());
    }
    let (tx, mut events) = mpsc::unbounded_channel();
    let options = TabOptions {
        index: 0,
        acknowledge: false,
        events: Some(tx),
    };
    let tab = Tab::open(&api.target, writer, options).await?;
    let vocab = Vocabulary::default();
    let mut rng = StdRng::seed_from_u64(seed);
    let mut in_flight = HashSet::with_capacity(window);
    let (mut sent, mut stored) = (0, 0);
    while stored < count {
        while in_flight.len() < window && sent < count {
            let (id, _) = tab.send_message(conversation, &vocab.sentence(&mut rng)).await?;
            in_flight.insert(id);
            sent += 1;
        }
        let event = tokio::time::timeout(STALL, events.recv())
            .await
            .with_context(|| format!("seeding: no frame for {STALL:?}"))?
            .context("seeding: the socket closed")?;
        match event.seen {
            Seen::Message { client_id, .. } if in_flight.remove(&client_id) => {
                stored += 1;
                progress.fetch_add(1, Ordering::Relaxed);
            }
            Seen::Error { code, message, .. } => bail!("seeding: error frame {code}: {message}"),
            Seen::Closed(why) => bail!("seeding: {why}"),
            _ => {}
        }
    }
    tab.close().await;
    Ok(())
}

/// Every 10 s: how far the seeding is, its rate, and the time left.
async fn report_progress(done: Arc<AtomicU64>, total: u64) {
    let started = Instant::now();
    let mut tick = tokio::time::interval(Duration::from_secs(10));
    tick.tick().await;
    loop {
        tick.tick().await;
        let done = done.load(Ordering::Relaxed);
        let rate = done as f64 / started.elapsed().as_secs_f64();
        let left = (total - done.min(total)) as f64 / rate.max(1.0);
        eprintln!("gochat-load: seeded {done} of {total} ({rate:.0}/s, about {left:.0} s left)");
    }
}
