//! `search`: `GET /api/search?q=...` over the seeded messages, one query at a time, by the user
//! who is in every seeded conversation. Queries are what people type: a common word, a rarer
//! one, two words, the start of a word (the last word matches as a prefix), an accented word
//! typed without its accents. A server without the route (404) is skipped, not failed.

use super::seed::{SeedArgs, ensure};
use super::{Meter, per_unit};
use crate::api::Api;
use crate::http1::Connection;
use crate::procfs::Usage;
use crate::report::{Outcome, count, usage_rows};
use crate::stats::{Latencies, Summary};
use crate::target::Service;
use crate::users;
use crate::vocab::{Vocabulary, unaccented};
use anyhow::bail;
use clap::Args;
use rand::Rng;
use reqwest::{Method, StatusCode, Url};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Args, Clone, Debug)]
pub struct SearchArgs {
    #[command(flatten)]
    pub seed: SeedArgs,
    /// Queries sent.
    #[arg(long, default_value_t = 500)]
    pub queries: usize,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchResult {
    pub stored: u64,
    pub queries: u64,
    pub latency: Summary,
    /// Latency by kind of query.
    pub by_kind: BTreeMap<String, Summary>,
    /// Results per query, on average (the route's default page).
    pub mean_results: f64,
    pub server: Option<Usage>,
    pub cpu_per_query_ms: Option<f64>,
}

impl SearchResult {
    pub fn rows(&self) -> Vec<[String; 2]> {
        let mut rows = vec![
            [
                "queries".into(),
                format!(
                    "{} over {} stored messages ({:.1} results each on average)",
                    count(self.queries),
                    count(self.stored),
                    self.mean_results
                ),
            ],
            ["query p50 / p90 / p99 / max".into(), self.latency.percentiles()],
        ];
        for (kind, summary) in &self.by_kind {
            rows.push([format!("  {kind} p50 / p90 / p99 / max"), summary.percentiles()]);
        }
        rows.extend(usage_rows(self.server.as_ref(), self.cpu_per_query_ms, "query"));
        rows
    }
}

/// What people search for.
#[derive(Clone, Copy, Debug)]
pub enum QueryKind {
    CommonWord,
    RareWord,
    TwoWords,
    WordStart,
    Unaccented,
}

impl QueryKind {
    pub const ALL: [QueryKind; 5] = [
        QueryKind::CommonWord,
        QueryKind::RareWord,
        QueryKind::TwoWords,
        QueryKind::WordStart,
        QueryKind::Unaccented,
    ];

    pub fn name(self) -> &'static str {
        match self {
            QueryKind::CommonWord => "common word",
            QueryKind::RareWord => "rare word",
            QueryKind::TwoWords => "two words",
            QueryKind::WordStart => "start of a word",
            QueryKind::Unaccented => "accented word typed plain",
        }
    }

    /// A query of this kind. Ranks below 20 are words like "the" that nobody searches for.
    pub fn query(self, vocab: &Vocabulary, rng: &mut impl Rng) -> String {
        let mut word_in =
            |ranks: std::ops::Range<usize>| vocab.at(rng.random_range(ranks.start..ranks.end.min(vocab.len())));
        match self {
            QueryKind::CommonWord => word_in(20..80).to_owned(),
            QueryKind::RareWord => word_in(300..vocab.len()).to_owned(),
            QueryKind::TwoWords => format!("{} {}", word_in(20..300), word_in(20..300)),
            QueryKind::WordStart => {
                let word = loop {
                    let w = word_in(20..300);
                    if w.chars().count() >= 5 {
                        break w;
                    }
                };
                let letters = if word.len().is_multiple_of(2) { 3 } else { 4 };
                word.chars().take(letters).collect()
            }
            QueryKind::Unaccented => loop {
                let w = word_in(20..vocab.len());
                if !w.is_ascii() {
                    break unaccented(w);
                }
            },
        }
    }
}

pub async fn run(api: &Api, args: &SearchArgs) -> anyhow::Result<Outcome> {
    // Asked first, so a server without search is not seeded for nothing.
    let reader = users::account(api, &format!("{}-reader", args.seed.seed_name)).await?;
    let probe = api
        .call(
            Method::GET,
            Service::Messages,
            &search_path("hello")?,
            Some(&reader),
            None,
        )
        .await?;
    if probe.status == StatusCode::NOT_FOUND {
        return Ok(Outcome::Skipped {
            name: "search".into(),
            reason: "GET /api/search answered 404: this server has no search yet".into(),
        });
    }
    let mut meter = Meter::start(&api.target.probe);
    let seeded = ensure(api, &args.seed).await?;
    let vocab = Vocabulary::default();
    let mut rng = rand::rng();
    let mut latency = Latencies::default();
    let mut by_kind: BTreeMap<&str, Latencies> = BTreeMap::new();
    let mut results = 0usize;
    let mut connection = Connection::open(&api.target, Service::Messages).await?;
    meter.measure();
    for i in 0..args.queries {
        let kind = QueryKind::ALL[i % QueryKind::ALL.len()];
        let path = search_path(&kind.query(&vocab, &mut rng))?;
        let reply = connection.get(&path, Some(&seeded.reader)).await?;
        if reply.status != StatusCode::OK {
            bail!("{path}: {} {}", reply.status, reply.body);
        }
        latency.record(reply.elapsed);
        by_kind.entry(kind.name()).or_default().record(reply.elapsed);
        results += reply.body["results"].as_array().map_or(0, Vec::len);
    }
    let server = meter.usage();
    Ok(Outcome::Search(SearchResult {
        stored: seeded.stored,
        queries: latency.len(),
        latency: latency.summary(),
        by_kind: by_kind.into_iter().map(|(k, l)| (k.to_owned(), l.summary())).collect(),
        mean_results: results as f64 / args.queries.max(1) as f64,
        cpu_per_query_ms: per_unit(server.as_ref(), args.queries as u64),
        server,
    }))
}

/// `/api/search?q=<query, URL-encoded>`.
fn search_path(query: &str) -> anyhow::Result<String> {
    let url = Url::parse_with_params("http://x/api/search", [("q", query)])?;
    Ok(format!("{}?{}", url.path(), url.query().unwrap_or_default()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    #[test]
    fn queries_are_what_people_type() {
        let vocab = Vocabulary::default();
        let mut rng = StdRng::seed_from_u64(3);
        for kind in QueryKind::ALL {
            for _ in 0..50 {
                let q = kind.query(&vocab, &mut rng);
                assert!(!q.trim().is_empty() && q.chars().count() <= 200, "{kind:?}: {q}");
                match kind {
                    QueryKind::TwoWords => assert_eq!(q.split(' ').count(), 2, "{q}"),
                    QueryKind::Unaccented => assert!(q.is_ascii(), "{q}"),
                    QueryKind::WordStart => assert!((3..=4).contains(&q.chars().count()), "{q}"),
                    _ => {}
                }
            }
        }
    }

    #[test]
    fn the_query_is_url_encoded() {
        assert_eq!(
            search_path("crème brûlée").unwrap(),
            "/api/search?q=cr%C3%A8me+br%C3%BBl%C3%A9e"
        );
    }
}
