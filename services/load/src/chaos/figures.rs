//! The chaos suite's verdict: what the pairs saw, checked against what the deployment stored
//! (every conversation's history, every receiver's unread notifications), per phase and in all.

use super::ChaosArgs;
use super::traffic::{PairLog, Reached};
use crate::api::Api;
use crate::stats::duration;
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// A phase as it ran.
pub struct PhaseSpan {
    pub name: &'static str,
    pub seconds: f64,
    /// From starting the broken part again until every instance was ready.
    pub recovered: Option<Duration>,
    /// Receivers must keep their sockets through this phase (the broker outage).
    pub keeps_receivers: bool,
}

/// One phase's figures.
pub struct PhaseFigures {
    pub name: &'static str,
    pub seconds: f64,
    pub recovered: Option<Duration>,
    /// Messages sent during the phase, and how many of them were accepted.
    pub sent: u64,
    pub accepted: u64,
    /// The longest send → receiver of a message sent during the phase.
    pub slowest: Option<Duration>,
    pub senders_reopened: u64,
    pub receivers_reopened: u64,
    pub resyncs: u64,
    pub keeps_receivers: bool,
}

/// Everything the run found.
pub struct Figures {
    pub pairs: usize,
    pub rate: f64,
    pub phases: Vec<PhaseFigures>,
    pub sent: u64,
    pub accepted: u64,
    /// Sent and never accepted, even after being sent again.
    pub unanswered: u64,
    /// Our messages in the conversations' histories.
    pub stored: u64,
    /// Accepted, not stored.
    pub lost: u64,
    /// Stored more than once (a client id at two seqs).
    pub duplicated: u64,
    /// Seqs missing between 1 and a conversation's last.
    pub gaps: u64,
    /// Accepted and stored but never on the receiver's tab.
    pub not_pushed: u64,
    pub pushed: u64,
    pub after_resync: u64,
    pub after_reconnect: u64,
    /// Pushes of a message a tab had already.
    pub repeats: u64,
    pub resent: u64,
    /// Receivers' unread notifications short of their messages.
    pub notifications_missing: u64,
    /// From the end of sending until everything was stored, delivered and notified.
    pub convergence: Option<Duration>,
    pub errors: Vec<String>,
}

impl Figures {
    /// Why the run failed; empty when it passed.
    pub fn failures(&self) -> Vec<String> {
        let mut out = Vec::new();
        let counts = [
            (self.unanswered, "sent but never accepted"),
            (self.lost, "lost"),
            (self.duplicated, "duplicated"),
            (self.gaps, "gaps"),
            (self.not_pushed, "not pushed"),
            (self.notifications_missing, "notifications missing"),
        ];
        for (n, what) in counts {
            if n > 0 {
                out.push(format!("{n} {what}"));
            }
        }
        for phase in self
            .phases
            .iter()
            .filter(|p| p.keeps_receivers && p.receivers_reopened > 0)
        {
            out.push(format!(
                "{} receiver sockets closed during \"{}\"",
                phase.receivers_reopened, phase.name
            ));
        }
        if self.convergence.is_none() {
            out.push("did not converge".into());
        }
        out.extend(self.errors.iter().take(5).cloned());
        out
    }

    pub fn table(&self) -> String {
        let mut out = format!(
            "chaos: {} pairs × {} messages/s through nginx to 2 chat instances, over RabbitMQ\n\n",
            self.pairs, self.rate
        );
        out.push_str(&format!(
            "{:<26} {:>7} {:>10} {:>6} {:>8} {:>13} {:>18} {:>7}\n",
            "phase", "seconds", "recovered", "sent", "accepted", "slowest push", "reopened send/recv", "resyncs"
        ));
        for p in &self.phases {
            out.push_str(&format!(
                "{:<26} {:>7.1} {:>10} {:>6} {:>8} {:>13} {:>18} {:>7}\n",
                p.name,
                p.seconds,
                p.recovered.map_or("-".into(), ms),
                p.sent,
                p.accepted,
                p.slowest.map_or("-".into(), ms),
                format!("{} / {}", p.senders_reopened, p.receivers_reopened),
                p.resyncs
            ));
        }
        out.push_str(&format!(
            "\naccepted {} of {} sent ({} sent again after a reconnect), stored {}, lost {}, duplicated {}, gaps {}\n",
            self.accepted, self.sent, self.resent, self.stored, self.lost, self.duplicated, self.gaps
        ));
        out.push_str(&format!(
            "reached the receiver: pushed {}, after a resync {}, after a reconnect {}; not pushed {} ({} pushes repeated)\n",
            self.pushed, self.after_resync, self.after_reconnect, self.not_pushed, self.repeats
        ));
        out.push_str(&format!(
            "notifications missing {}; convergence {}\n",
            self.notifications_missing,
            self.convergence.map_or("none".into(), ms)
        ));
        let failures = self.failures();
        if failures.is_empty() {
            out.push_str("PASS\n");
        } else {
            out.push_str(&format!("FAIL: {}\n", failures.join("; ")));
        }
        out
    }
}

/// Checks what the pairs saw against what was stored, waiting (at most `within`) for the
/// receivers' notifications to catch up.
pub async fn judge(
    api: &Api,
    args: &ChaosArgs,
    spans: Vec<PhaseSpan>,
    stopped: Instant,
    logs: Vec<PairLog>,
    within: Duration,
) -> anyhow::Result<Figures> {
    let mut f = Figures {
        pairs: args.pairs,
        rate: args.rate,
        phases: spans
            .iter()
            .map(|s| PhaseFigures {
                name: s.name,
                seconds: s.seconds,
                recovered: s.recovered,
                sent: 0,
                accepted: 0,
                slowest: None,
                senders_reopened: 0,
                receivers_reopened: 0,
                resyncs: 0,
                keeps_receivers: s.keeps_receivers,
            })
            .collect(),
        sent: 0,
        accepted: 0,
        unanswered: 0,
        stored: 0,
        lost: 0,
        duplicated: 0,
        gaps: 0,
        not_pushed: 0,
        pushed: 0,
        after_resync: 0,
        after_reconnect: 0,
        repeats: 0,
        resent: 0,
        notifications_missing: 0,
        convergence: None,
        errors: Vec::new(),
    };
    let mut converged = Some(stopped);
    let mut stored_per_pair = Vec::new();
    for log in &logs {
        f.repeats += log.repeats;
        f.resent += log.resent;
        f.errors.extend(log.errors.iter().cloned());
        for r in &log.reopened {
            let phase = &mut f.phases[r.phase];
            if r.tab == 0 {
                phase.senders_reopened += 1;
            } else {
                phase.receivers_reopened += 1;
            }
        }
        for &phase in &log.resyncs {
            f.phases[phase].resyncs += 1;
        }
        converged = match (converged, log.converged_at) {
            (Some(a), Some(b)) => Some(a.max(b)),
            _ => None,
        };

        // What the deployment stored, as the sender reads the conversation.
        let history = api.messages_after(&log.sender, &log.conversation, 0).await?;
        let mut seqs_of: HashMap<uuid::Uuid, u64> = HashMap::new();
        for m in &history {
            *seqs_of.entry(m.client_id).or_default() += 1;
        }
        let last = history.iter().map(|m| m.seq).max().unwrap_or(0);
        f.gaps += (last as u64).saturating_sub(history.len() as u64);
        f.duplicated += seqs_of.values().map(|n| n - 1).sum::<u64>();
        let mut stored = 0;
        for m in &log.sent {
            let phase = &mut f.phases[m.phase];
            phase.sent += 1;
            f.sent += 1;
            let is_stored = seqs_of.contains_key(&m.client_id);
            stored += u64::from(is_stored);
            if m.accepted_at.is_none() {
                f.unanswered += 1;
                continue;
            }
            phase.accepted += 1;
            f.accepted += 1;
            if !is_stored {
                f.lost += 1;
                continue;
            }
            match m.reached {
                None => f.not_pushed += 1,
                Some((at, how)) => {
                    let took = at.saturating_duration_since(m.sent_at);
                    phase.slowest = Some(phase.slowest.map_or(took, |s| s.max(took)));
                    match how {
                        Reached::Pushed => f.pushed += 1,
                        Reached::Resync => f.after_resync += 1,
                        Reached::Reconnect => f.after_reconnect += 1,
                    }
                }
            }
        }
        f.stored += stored;
        stored_per_pair.push(history.len() as u64);
    }

    // One notification per message for its receiver, none read (receivers only acknowledge
    // delivery).
    // Counted once the pairs converged: when they were complete already, notifications do not
    // move the convergence time; else it is when they became complete.
    let deadline = Instant::now() + within;
    let mut waited = false;
    let mut missing;
    loop {
        missing = 0;
        for (log, &expected) in logs.iter().zip(&stored_per_pair) {
            let unread = api.unread_notifications(&log.receiver).await?;
            missing += expected.saturating_sub(unread);
        }
        if missing == 0 || Instant::now() >= deadline {
            break;
        }
        waited = true;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    f.notifications_missing = missing;
    let notified = waited.then(Instant::now);
    f.convergence = converged
        .filter(|_| missing == 0)
        .map(|c| c.max(notified.unwrap_or(c)).saturating_duration_since(stopped));
    Ok(f)
}

fn ms(d: Duration) -> String {
    duration(d.as_secs_f64() * 1000.0)
}
