//! The project's performance targets beside the figures measured: `gochat-load report FILES`
//! reads the JSON documents of several runs, groups them by label (one column per deployment,
//! in the order first seen) and prints one table, each figure marked met or not met against
//! the targets that apply to its deployment's bus.

use crate::report::{Bus, Document, Outcome, Table, mib};
use crate::scenario::burst::BurstResult;
use crate::scenario::seq::SeqResult;
use crate::socket::Acknowledge;
use crate::stats::{Summary, duration, rate, significant, thousands};
use anyhow::Context;
use clap::Args;
use std::path::PathBuf;

#[derive(Args, Clone, Debug)]
pub struct ReportArgs {
    /// JSON documents written by runs (`--json`).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Also write the table to this file.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

pub fn print(args: &ReportArgs) -> anyhow::Result<()> {
    let mut documents = Vec::new();
    for path in &args.files {
        let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        documents.push(serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))?);
    }
    let table = table(&documents);
    if let Some(out) = &args.out {
        std::fs::write(out, &table).with_context(|| format!("writing {}", out.display()))?;
    }
    print!("{table}");
    Ok(())
}

/// A goal for one bus.
#[derive(Clone, Copy, Debug)]
enum Goal {
    AtMost(f64),
    AtLeast(f64),
    /// No target for this deployment: the figure is shown for information.
    None,
}

/// A measured figure: as written, and the number a goal is checked against.
struct Figure {
    text: String,
    judged: Option<f64>,
}

impl Figure {
    fn info(text: String) -> Self {
        Self { text, judged: None }
    }
}

/// One line of the table.
struct Line {
    figure: &'static str,
    target: &'static str,
    in_process: Goal,
    rabbitmq: Goal,
    measure: fn(&Column) -> Option<Figure>,
}

/// Every document of one deployment.
struct Column<'a> {
    label: &'a str,
    bus: Bus,
    documents: Vec<&'a Document>,
}

impl Column<'_> {
    fn outcomes(&self) -> impl Iterator<Item = &Outcome> {
        self.documents.iter().flat_map(|d| &d.results)
    }

    /// The seq run whose tabs sent `delivered` as told.
    fn seq(&self, delivered: Acknowledge) -> Option<&SeqResult> {
        self.outcomes().find_map(|o| match o {
            Outcome::Seq(s) if s.delivered == delivered => Some(s),
            _ => None,
        })
    }

    fn burst(&self, window: usize) -> Option<&BurstResult> {
        self.outcomes().find_map(|o| match o {
            Outcome::Burst(b) if b.window == window => Some(b),
            _ => None,
        })
    }

    fn skipped(&self, scenario: &str) -> Option<Figure> {
        self.outcomes().find_map(|o| match o {
            Outcome::Skipped { name, reason } if name == scenario => Some(Figure::info(format!("skipped: {reason}"))),
            _ => None,
        })
    }
}

/// `p50 / p99`, judged on p99.
fn p50_p99(s: &Summary) -> Figure {
    Figure {
        text: format!("{} / {}", duration(s.p50_ms), duration(s.p99_ms)),
        judged: Some(s.p99_ms),
    }
}

fn cpu(per_unit_ms: Option<f64>) -> Option<Figure> {
    per_unit_ms.map(|ms| Figure {
        text: duration(ms),
        judged: Some(ms),
    })
}

/// The targets of the project (issue 9, and issue 8 for search), in milliseconds, messages
/// per second, KiB or sockets.
const LINES: &[Line] = &[
    Line {
        figure: "seq: send → receive p50 / p99",
        target: "p99 ≤ 0.5 ms in process, ≤ 5 ms over RabbitMQ",
        in_process: Goal::AtMost(0.5),
        rabbitmq: Goal::AtMost(5.0),
        measure: |c| c.seq(Acknowledge::All).map(|s| p50_p99(&s.received)),
    },
    Line {
        figure: "seq: send → accepted p50 / p99",
        target: "p99 ≤ 1 ms",
        in_process: Goal::AtMost(1.0),
        rabbitmq: Goal::AtMost(1.0),
        measure: |c| c.seq(Acknowledge::All).map(|s| p50_p99(&s.accepted)),
    },
    Line {
        figure: "same, receivers sending no `delivered`: send → receive",
        target: "",
        in_process: Goal::None,
        rabbitmq: Goal::None,
        measure: |c| {
            c.seq(Acknowledge::None)
                .map(|s| Figure::info(p50_p99(&s.received).text))
        },
    },
    Line {
        figure: "floor, one at a time: socket ping → pong; GET /healthz",
        target: "",
        in_process: Goal::None,
        rabbitmq: Goal::None,
        measure: |c| {
            c.outcomes().find_map(|o| match o {
                Outcome::Roundtrip(r) => Some(Figure::info(format!(
                    "{}; {}",
                    p50_p99(&r.ws).text,
                    p50_p99(&r.http).text
                ))),
                _ => None,
            })
        },
    },
    Line {
        figure: "burst, 10 pairs × 1000, 32 in flight: delivered",
        target: "≥ 8,000 msgs/s",
        in_process: Goal::AtLeast(8000.0),
        rabbitmq: Goal::AtLeast(8000.0),
        measure: |c| {
            c.burst(32).map(|b| Figure {
                text: rate(b.delivered_per_second),
                judged: Some(b.delivered_per_second),
            })
        },
    },
    Line {
        figure: "same burst: send → receive p50 / p99",
        target: "p99 ≤ 100 ms",
        in_process: Goal::AtMost(100.0),
        rabbitmq: Goal::AtMost(100.0),
        measure: |c| c.burst(32).map(|b| p50_p99(&b.delivery)),
    },
    Line {
        figure: "same burst: send → accepted p50 / p99",
        target: "",
        in_process: Goal::None,
        rabbitmq: Goal::None,
        measure: |c| c.burst(32).map(|b| Figure::info(p50_p99(&b.accepted).text)),
    },
    Line {
        figure: "burst, 1 in flight per pair: delivered; p50 / p99",
        target: "",
        in_process: Goal::None,
        rabbitmq: Goal::None,
        measure: |c| {
            c.burst(1).map(|b| {
                let latency = p50_p99(&b.delivery).text;
                Figure::info(format!("{}; {latency}", rate(b.delivered_per_second)))
            })
        },
    },
    Line {
        figure: "server CPU per message, seq",
        target: "≤ 0.15 ms",
        in_process: Goal::AtMost(0.15),
        rabbitmq: Goal::AtMost(0.15),
        measure: |c| c.seq(Acknowledge::All).and_then(|s| cpu(s.cpu_per_message_ms)),
    },
    Line {
        figure: "server CPU per message, burst (32 in flight)",
        target: "≤ 0.15 ms",
        in_process: Goal::AtMost(0.15),
        rabbitmq: Goal::AtMost(0.15),
        measure: |c| c.burst(32).and_then(|b| cpu(b.cpu_per_message_ms)),
    },
    Line {
        figure: "server RSS after 10k messages (end of the burst)",
        target: "≤ 40 MiB in process",
        in_process: Goal::AtMost(40.0 * 1024.0),
        rabbitmq: Goal::None,
        measure: |c| {
            let server = c.burst(32)?.server?;
            let processes = c.documents.first().map_or(1, |d| d.target.server_pids.len());
            let text = match processes {
                1 => mib(server.rss_after_kib),
                n => format!("{} ({n} processes)", mib(server.rss_after_kib)),
            };
            Some(Figure {
                text,
                judged: Some(server.rss_after_kib as f64),
            })
        },
    },
    Line {
        figure: "server memory per idle WebSocket",
        target: "≤ 8 KiB",
        in_process: Goal::AtMost(8.0),
        rabbitmq: Goal::AtMost(8.0),
        measure: |c| {
            c.outcomes().find_map(|o| match o {
                Outcome::Idle(i) => i.kib_per_socket.map(|kib| Figure {
                    text: format!("{} KiB", significant(kib)),
                    judged: Some(kib),
                }),
                _ => None,
            })
        },
    },
    Line {
        figure: "idle sockets held by one server process",
        target: "19,000",
        in_process: Goal::AtLeast(19_000.0),
        rabbitmq: Goal::AtLeast(19_000.0),
        measure: |c| {
            c.outcomes().find_map(|o| match o {
                Outcome::Idle(i) => Some(Figure {
                    text: format!("{} of {}", thousands(i.held), thousands(i.chat + i.notifications)),
                    judged: Some(i.held as f64),
                }),
                _ => None,
            })
        },
    },
    Line {
        figure: "fan-out of one message to 5,000 sockets",
        target: "≥ 60,000 deliveries/s",
        in_process: Goal::AtLeast(60_000.0),
        rabbitmq: Goal::AtLeast(60_000.0),
        measure: |c| {
            c.outcomes().find_map(|o| match o {
                Outcome::Fanout(f) => Some(Figure {
                    text: format!("{} (to {})", rate(f.deliveries_per_second), thousands(f.sockets)),
                    judged: Some(f.deliveries_per_second),
                }),
                _ => None,
            })
        },
    },
    Line {
        figure: "history page of 50 at 1M messages: p50 / p99",
        target: "p99 ≤ 150 µs in process",
        in_process: Goal::AtMost(0.150),
        rabbitmq: Goal::None,
        measure: |c| {
            c.outcomes().find_map(|o| match o {
                Outcome::History(h) => {
                    let mut figure = p50_p99(&h.latency);
                    figure.text = format!("{} (of {})", figure.text, thousands(h.stored));
                    Some(figure)
                }
                _ => None,
            })
        },
    },
    Line {
        figure: "search at 1M messages: p50 / p99",
        target: "p99 ≤ 20 ms in process",
        in_process: Goal::AtMost(20.0),
        rabbitmq: Goal::None,
        measure: |c| {
            c.outcomes()
                .find_map(|o| match o {
                    Outcome::Search(s) => Some(p50_p99(&s.latency)),
                    _ => None,
                })
                .or_else(|| c.skipped("search"))
        },
    },
    Line {
        figure: "sign-in (server's argon2): p50; sign-ins/s",
        target: "",
        in_process: Goal::None,
        rabbitmq: Goal::None,
        measure: |c| {
            c.outcomes().find_map(|o| match o {
                Outcome::Signin(s) => Some(Figure::info(format!(
                    "{}; {}",
                    duration(s.signin.p50_ms),
                    rate(s.signins_per_second)
                ))),
                _ => None,
            })
        },
    },
];

/// The table: figure, target, then each deployment's value and whether it meets the target.
pub fn table(documents: &[Document]) -> String {
    let mut columns: Vec<Column> = Vec::new();
    for d in documents {
        match columns.iter_mut().find(|c| c.label == d.label) {
            Some(c) => c.documents.push(d),
            None => columns.push(Column {
                label: &d.label,
                bus: d.bus,
                documents: vec![d],
            }),
        }
    }
    let mut header = vec!["figure".to_owned(), "target".to_owned()];
    for c in &columns {
        header.extend([c.label.to_owned(), "met?".to_owned()]);
    }
    let mut table = Table::new(header);
    for line in LINES {
        let mut row = vec![line.figure.to_owned(), line.target.to_owned()];
        for c in &columns {
            let goal = match c.bus {
                Bus::InProcess => line.in_process,
                Bus::Rabbitmq => line.rabbitmq,
                Bus::Unknown => Goal::None,
            };
            match (line.measure)(c) {
                Some(figure) => row.extend([figure.text, verdict(goal, figure.judged).to_owned()]),
                None => row.extend(["not run".to_owned(), String::new()]),
            }
        }
        table.row(row);
    }
    let loads: Vec<String> = columns
        .iter()
        .filter_map(|c| {
            let seen: Vec<f64> = c.documents.iter().flat_map(|d| d.load_average).flatten().collect();
            let low = seen.iter().copied().reduce(f64::min)?;
            let high = seen.iter().copied().reduce(f64::max)?;
            Some(format!("{} {low:.1}–{high:.1}", c.label))
        })
        .collect();
    let mut text = table.render();
    if !loads.is_empty() {
        text.push_str(&format!(
            "\nMachine load average (1 min) during the runs: {}.\n",
            loads.join("; ")
        ));
    }
    text
}

fn verdict(goal: Goal, value: Option<f64>) -> &'static str {
    match (goal, value) {
        (Goal::AtMost(limit), Some(v)) if v <= limit => "met",
        (Goal::AtLeast(limit), Some(v)) if v >= limit => "met",
        (Goal::AtMost(_) | Goal::AtLeast(_), Some(_)) => "NOT MET",
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::target::TargetInfo;

    fn summary(p50_ms: f64, p99_ms: f64) -> Summary {
        Summary {
            count: 100,
            mean_ms: p50_ms,
            p50_ms,
            p90_ms: p99_ms,
            p99_ms,
            max_ms: p99_ms,
        }
    }

    fn document(label: &str, bus: Bus, results: Vec<Outcome>) -> Document {
        Document {
            tool: "gochat-load".into(),
            version: "0".into(),
            label: label.into(),
            bus,
            target: TargetInfo::default(),
            started_at: 0,
            load_average: [Some(0.4), Some(1.6)],
            results,
        }
    }

    fn seq(p99_ms: f64) -> Outcome {
        Outcome::Seq(SeqResult {
            pairs: 1,
            messages: 100,
            delivered: crate::socket::Acknowledge::All,
            accepted: summary(0.3, 0.8),
            received: summary(0.4, p99_ms),
            server: None,
            cpu_per_message_ms: Some(0.2),
        })
    }

    fn row<'a>(table: &'a str, figure: &str) -> Vec<&'a str> {
        let line = table.lines().find(|l| l.contains(figure)).expect("row present");
        line.split('|').map(str::trim).filter(|c| !c.is_empty()).collect()
    }

    #[test]
    fn each_deployment_is_held_to_its_own_bus_targets() {
        let docs = [
            document("serve", Bus::InProcess, vec![seq(2.0)]),
            document("services", Bus::Rabbitmq, vec![seq(2.0)]),
        ];
        let table = table(&docs);
        // 2 ms misses the in-process 0.5 ms target and meets the RabbitMQ 5 ms one.
        assert_eq!(
            row(&table, "seq: send → receive"),
            [
                "seq: send → receive p50 / p99",
                "p99 ≤ 0.5 ms in process, ≤ 5 ms over RabbitMQ",
                "400 µs / 2.00 ms",
                "NOT MET",
                "400 µs / 2.00 ms",
                "met"
            ]
        );
        assert_eq!(row(&table, "seq: send → accepted")[3], "met");
        assert_eq!(row(&table, "server CPU per message, seq")[3], "NOT MET");
        assert_eq!(row(&table, "history page")[2..], ["not run", "not run"]);
        assert!(table.contains("serve 0.4–1.6; services 0.4–1.6"), "{table}");
    }

    #[test]
    fn runs_with_one_label_share_a_column_and_a_skip_is_shown() {
        let skipped = Outcome::Skipped {
            name: "search".into(),
            reason: "no search yet".into(),
        };
        let docs = [
            document("serve", Bus::InProcess, vec![seq(0.4)]),
            document("serve", Bus::InProcess, vec![skipped]),
        ];
        let table = table(&docs);
        assert_eq!(row(&table, "figure").len(), 4, "{table}");
        assert_eq!(row(&table, "seq: send → receive")[3], "met");
        assert_eq!(row(&table, "search at 1M")[2], "skipped: no search yet");
    }
}
