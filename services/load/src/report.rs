//! A run's results: one JSON document (machine-readable) and the same as a table for people.

use crate::procfs::Usage;
use crate::scenario::burst::BurstResult;
use crate::scenario::fanout::FanoutResult;
use crate::scenario::history::HistoryResult;
use crate::scenario::idle::IdleResult;
use crate::scenario::roundtrip::RoundtripResult;
use crate::scenario::search::SearchResult;
use crate::scenario::seq::SeqResult;
use crate::scenario::signin::SigninResult;
use crate::stats::{duration, significant, thousands};
use crate::target::TargetInfo;
use clap::ValueEnum;
use serde::{Deserialize, Serialize};

/// How the deployment's services talk, which decides the targets that apply to it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Bus {
    /// `gochat serve` on its in-process bus.
    InProcess,
    /// Services over RabbitMQ.
    Rabbitmq,
    #[default]
    Unknown,
}

/// Everything one run of the load generator measured.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Document {
    pub tool: String,
    pub version: String,
    /// What the run was against, as the table's column calls it.
    pub label: String,
    pub bus: Bus,
    pub target: TargetInfo,
    /// Seconds since the Unix epoch.
    pub started_at: u64,
    /// The machine's one-minute load average at the start and at the end (the load generator
    /// shares the cores with the server, and anything else running skews the figures).
    #[serde(default)]
    pub load_average: [Option<f64>; 2],
    pub results: Vec<Outcome>,
}

/// One scenario's result.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "scenario", rename_all = "lowercase")]
pub enum Outcome {
    Seq(SeqResult),
    Burst(BurstResult),
    Idle(IdleResult),
    Fanout(FanoutResult),
    History(HistoryResult),
    Search(SearchResult),
    Signin(SigninResult),
    Roundtrip(RoundtripResult),
    /// A scenario the deployment cannot run yet (a route it does not have).
    Skipped {
        name: String,
        reason: String,
    },
}

impl Outcome {
    pub fn name(&self) -> String {
        match self {
            Outcome::Seq(_) => "seq".into(),
            Outcome::Burst(b) => format!("burst W={}", b.window),
            Outcome::Idle(_) => "idle".into(),
            Outcome::Fanout(_) => "fanout".into(),
            Outcome::History(_) => "history".into(),
            Outcome::Search(_) => "search".into(),
            Outcome::Signin(_) => "signin".into(),
            Outcome::Roundtrip(_) => "roundtrip".into(),
            Outcome::Skipped { name, .. } => name.clone(),
        }
    }

    pub fn rows(&self) -> Vec<[String; 2]> {
        match self {
            Outcome::Seq(r) => r.rows(),
            Outcome::Burst(r) => r.rows(),
            Outcome::Idle(r) => r.rows(),
            Outcome::Fanout(r) => r.rows(),
            Outcome::History(r) => r.rows(),
            Outcome::Search(r) => r.rows(),
            Outcome::Signin(r) => r.rows(),
            Outcome::Roundtrip(r) => r.rows(),
            Outcome::Skipped { reason, .. } => vec![["skipped".into(), reason.clone()]],
        }
    }
}

impl Document {
    /// Every figure of the run: scenario, figure, value.
    pub fn table(&self) -> String {
        let mut table = Table::new(["scenario", "figure", "value"]);
        for outcome in &self.results {
            let name = outcome.name();
            for (i, [figure, value]) in outcome.rows().into_iter().enumerate() {
                let scenario = if i == 0 { name.clone() } else { String::new() };
                table.row(vec![scenario, figure, value]);
            }
        }
        let load = |l: Option<f64>| l.map_or("?".to_owned(), |l| format!("{l:.2}"));
        format!(
            "gochat-load {} against {} ({}); load average {} → {}:\n{}",
            self.version,
            self.label,
            self.target.urls.join(", "),
            load(self.load_average[0]),
            load(self.load_average[1]),
            table.render()
        )
    }
}

/// The server's cost, as table rows: CPU per unit of work and resident memory.
pub fn usage_rows(usage: Option<&Usage>, cpu_per_unit_ms: Option<f64>, unit: &str) -> Vec<[String; 2]> {
    let Some(usage) = usage else {
        return vec![[
            "server CPU, memory".into(),
            "not measured (server process unknown)".into(),
        ]];
    };
    let mut rows = Vec::new();
    if let Some(per) = cpu_per_unit_ms {
        rows.push([format!("server CPU per {unit}"), duration(per)]);
    }
    if let Some(broker) = usage.broker_cpu_ms {
        rows.push(["broker CPU (total)".into(), duration(broker)]);
    }
    rows.push([
        "server RSS before → after".into(),
        format!("{} → {}", mib(usage.rss_before_kib), mib(usage.rss_after_kib)),
    ]);
    rows
}

/// KiB as MiB with one decimal.
pub fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

pub fn count(n: u64) -> String {
    thousands(n)
}

pub fn seconds(s: f64) -> String {
    format!("{} s", significant(s))
}

/// A plain-text table with aligned columns, readable as Markdown.
pub struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new<S: ToString>(header: impl IntoIterator<Item = S>) -> Self {
        Self {
            header: header.into_iter().map(|h| h.to_string()).collect(),
            rows: Vec::new(),
        }
    }

    /// Adds a row; missing cells are blank, extra ones dropped.
    pub fn row(&mut self, mut row: Vec<String>) {
        row.resize(self.header.len(), String::new());
        self.rows.push(row);
    }

    pub fn render(&self) -> String {
        let widths: Vec<usize> = (0..self.header.len())
            .map(|i| {
                std::iter::once(&self.header)
                    .chain(&self.rows)
                    .map(|r| r[i].chars().count())
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let line = |cells: &[String]| {
            let padded: Vec<String> = cells
                .iter()
                .zip(&widths)
                .map(|(c, w)| format!("{c}{}", " ".repeat(w - c.chars().count())))
                .collect();
            format!("| {} |\n", padded.join(" | "))
        };
        let mut out = line(&self.header);
        let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
        out.push_str(&format!("|-{}-|\n", rule.join("-|-")));
        for row in &self.rows {
            out.push_str(&line(row));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::Summary;

    #[test]
    fn a_table_aligns_its_columns_with_wide_characters() {
        let mut t = Table::new(["figure", "value"]);
        t.row(vec!["p50".into(), "920 µs".into()]);
        t.row(vec!["RSS before → after".into(), "1".into()]);
        assert_eq!(
            t.render(),
            "| figure             | value  |\n\
             |--------------------|--------|\n\
             | p50                | 920 µs |\n\
             | RSS before → after | 1      |\n"
        );
    }

    #[test]
    fn a_document_reads_back_what_it_wrote() {
        let doc = Document {
            tool: "gochat-load".into(),
            version: "0".into(),
            label: "gochat serve".into(),
            bus: Bus::InProcess,
            target: TargetInfo::default(),
            started_at: 1,
            load_average: [Some(0.5), None],
            results: vec![
                Outcome::Seq(SeqResult {
                    pairs: 1,
                    messages: 10,
                    delivered: crate::socket::Acknowledge::All,
                    accepted: Summary::default(),
                    received: Summary::default(),
                    server: None,
                    cpu_per_message_ms: None,
                }),
                Outcome::Skipped {
                    name: "search".into(),
                    reason: "404".into(),
                },
            ],
        };
        let text = serde_json::to_string(&doc).unwrap();
        assert!(text.contains(r#""scenario":"seq""#), "{text}");
        let back: Document = serde_json::from_str(&text).unwrap();
        assert_eq!(back.results.len(), 2);
        assert!(back.table().contains("| search"), "{}", back.table());
    }
}
