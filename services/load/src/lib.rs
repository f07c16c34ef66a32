//! `gochat-load`: drives any GoChat deployment over HTTP and WebSocket exactly as the web
//! client does (sign-up or sign-in for the `auth` cookie, `/ws/chat` with an allowed `Origin`,
//! `send` frames with fresh client ids, `delivered` watermarks for what arrives) and measures
//! it: latency percentiles (HdrHistogram), throughput, and the server's CPU time and resident
//! memory read from `/proc`. Every socket it opens has TCP_NODELAY, as browsers' do.
//!
//! Layout
//! - `cli`: the command line: where the deployment is, and one subcommand per scenario.
//! - `target`: the deployment: a base URL per service, the `Origin` to send, the server
//!   processes to watch.
//! - `api`: the HTTP routes the scenarios call, with a signed-in user's cookie.
//! - `users`: accounts for a run (sign-up, or sign-in when the name exists).
//! - `socket` and `wire`: one browser tab's WebSocket and the frames it sends and reads.
//! - `procfs`: CPU time and resident memory of server processes, and finding them by port.
//! - `stats`: latency histograms and their percentiles.
//! - `scenario`: seq, burst, idle, fanout, history, search, signin, roundtrip (one file each), and
//!   `seed`, the million stored messages history and search read.
//! - `vocab`: message bodies drawn from a vocabulary with Zipf-like word frequencies.
//! - `report`: the JSON document of a run and its table; `targets`: the project's targets
//!   beside the figures of several runs (`make bench`'s table).
//! - `chaos`: the chaos suite: a deployment it starts and breaks in turn under steady
//!   traffic, and the verdict (`make chaos`).

pub mod api;
pub mod chaos;
pub mod cli;
pub mod http1;
pub mod procfs;
pub mod report;
pub mod scenario;
pub mod socket;
pub mod stats;
pub mod target;
pub mod targets;
pub mod trace;
pub mod users;
pub mod vocab;
pub mod wire;
