//! `signin`: sign-ins per second and their latency at the server's own argon2 settings (the
//! load generator never changes them), with a few clients at once. The sign-ups that make the
//! accounts are measured too: they hash the same way.

use super::{Meter, per_unit};
use crate::api::Api;
use crate::procfs::Usage;
use crate::report::{count, usage_rows};
use crate::stats::{Latencies, Summary, rate};
use crate::users;
use clap::Args;
use futures_util::{StreamExt, TryStreamExt, stream};
use serde::{Deserialize, Serialize};
use std::time::{Duration, Instant};

#[derive(Args, Clone, Debug)]
pub struct SigninArgs {
    /// Accounts signed up first, then signed in to in turn.
    #[arg(long, default_value_t = 40)]
    pub users: usize,
    /// Sign-ins measured.
    #[arg(long, default_value_t = 40)]
    pub signins: usize,
    /// Sign-ins in flight at once.
    #[arg(long, default_value_t = 2)]
    pub concurrency: usize,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SigninResult {
    pub users: u64,
    pub signins: u64,
    pub concurrency: u64,
    pub signup: Summary,
    pub signin: Summary,
    pub signins_per_second: f64,
    pub server: Option<Usage>,
    pub cpu_per_signin_ms: Option<f64>,
}

impl SigninResult {
    pub fn rows(&self) -> Vec<[String; 2]> {
        let mut rows = vec![
            [
                "sign-ins".into(),
                format!(
                    "{} over {} accounts, {} at once: {}",
                    count(self.signins),
                    self.users,
                    self.concurrency,
                    rate(self.signins_per_second)
                ),
            ],
            ["sign-in p50 / p90 / p99 / max".into(), self.signin.percentiles()],
            ["sign-up p50 / p90 / p99 / max".into(), self.signup.percentiles()],
        ];
        rows.extend(usage_rows(self.server.as_ref(), self.cpu_per_signin_ms, "sign-in"));
        rows
    }
}

pub async fn run(api: &Api, args: &SigninArgs) -> anyhow::Result<SigninResult> {
    let mut meter = Meter::start(&api.target.probe);
    let names = users::names(&users::run_prefix(), "signin", args.users.max(1));
    let signups: Vec<Duration> = stream::iter(&names)
        .map(|name| async move { anyhow::Ok(users::account_timed(api, name).await?.1) })
        .buffered(args.concurrency.max(1))
        .try_collect()
        .await?;
    let mut signup = Latencies::default();
    signups.into_iter().for_each(|d| signup.record(d));

    meter.measure();
    let started = Instant::now();
    let signins: Vec<Duration> = stream::iter((0..args.signins).map(|i| &names[i % names.len()]))
        .map(|name| async move {
            let started = Instant::now();
            api.signin(name, &users::password(name)).await?;
            anyhow::Ok(started.elapsed())
        })
        .buffer_unordered(args.concurrency.max(1))
        .try_collect()
        .await?;
    let elapsed = started.elapsed().as_secs_f64();
    let server = meter.usage();
    let mut signin = Latencies::default();
    signins.into_iter().for_each(|d| signin.record(d));
    Ok(SigninResult {
        users: names.len() as u64,
        signins: signin.len(),
        concurrency: args.concurrency as u64,
        signup: signup.summary(),
        signin: signin.summary(),
        signins_per_second: signin.len() as f64 / elapsed.max(1e-9),
        cpu_per_signin_ms: per_unit(server.as_ref(), args.signins as u64),
        server,
    })
}
