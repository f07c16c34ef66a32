//! Running a service: command line, settings, runtime, serving, draining. `gochat serve` and
//! `gochat <service>` both go through here, so they start and stop the same way.

use crate::auth::Keys;
use crate::bus::Bus;
use crate::config::{CommonSettings, layer};
use crate::runtime::Runtime;
use axum::Router;
use clap::Args;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Longest a stopping process waits for its background tasks.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

/// The command line of one service: common settings plus the service's own.
#[derive(Args, Serialize, Deserialize)]
pub struct ServiceArgs<S: Args> {
    #[command(flatten)]
    #[serde(flatten)]
    pub common: CommonSettings,
    #[command(flatten)]
    #[serde(flatten)]
    pub service: S,
}

impl<S> ServiceArgs<S>
where
    S: Args + clap::FromArgMatches + Serialize + DeserializeOwned,
{
    /// Puts these flags and environment over the service's TOML file.
    pub fn layered(self, name: &str) -> anyhow::Result<Self> {
        let explicit = self.common.config.clone();
        let default_file = PathBuf::from(format!("config/{name}.toml"));
        let mut merged: Self = layer(&self, explicit.as_deref(), &default_file)?;
        merged.common.print_config = self.common.print_config;
        Ok(merged)
    }
}

/// Builds the runtime of a process. `service` names the process in logs (`gochat` for the
/// all-in-one server). `generate_key`: whether a missing JWT key may be created (only where
/// every service shares the process, so nobody else needs it).
pub fn runtime(settings: CommonSettings, service: &'static str, generate_key: bool) -> anyhow::Result<Runtime> {
    // First of all: a counter made before the recorder exists is a no-op forever.
    crate::ops::metrics_handle();
    crate::telemetry::init(settings.log(), settings.log_format(), service);
    let keys = Keys::load(&settings, generate_key)?;
    let shutdown = CancellationToken::new();
    let tasks = TaskTracker::new();
    let bus = match &settings.amqp_url {
        Some(url) => Bus::rabbitmq(url.expose(), settings.amqp_tls()?, "gochat", &tasks, shutdown.clone()),
        None => Bus::in_process(),
    };
    Ok(Runtime::new(settings, bus, keys, shutdown, tasks))
}

/// Serves `app` (plus the ops endpoints) on `listener`, and `/metrics` on
/// `GOCHAT_METRICS_LISTEN` when set, until the runtime's shutdown; then waits for background
/// tasks to finish.
pub async fn serve(runtime: Runtime, listener: TcpListener, app: Router) -> anyhow::Result<()> {
    let app = app.merge(crate::ops::router(runtime.clone()));
    let metrics = match runtime.settings.metrics_listen {
        Some(address) => {
            let listener = TcpListener::bind(address).await?;
            tracing::info!(address = %listener.local_addr()?, "serving /metrics");
            let shutdown = runtime.shutdown.clone();
            Some(tokio::spawn(crate::ops::serve(
                listener,
                crate::ops::metrics_router(),
                shutdown,
            )))
        }
        None => None,
    };
    tracing::info!(address = %listener.local_addr()?, bus = runtime.bus.kind(), "serving");
    crate::ops::serve(listener, app, runtime.shutdown.clone()).await?;
    runtime.shutdown.cancel();
    if let Some(metrics) = metrics {
        metrics.await??;
    }
    runtime.tasks.close();
    // A task that outlives the drain is a bug; say so instead of exiting as if all was well.
    anyhow::ensure!(
        tokio::time::timeout(DRAIN_TIMEOUT, runtime.tasks.wait()).await.is_ok(),
        "{} background tasks did not finish within {DRAIN_TIMEOUT:?} of shutdown",
        runtime.tasks.len()
    );
    Ok(())
}

/// Runs one service over RabbitMQ (the in-process bus only makes sense when every service
/// shares the process) until SIGTERM; with `--print-config`, prints its settings instead.
pub async fn run_one<S, F, Fut>(
    name: &'static str,
    args: ServiceArgs<S>,
    default_listen: SocketAddr,
    build: F,
) -> anyhow::Result<()>
where
    S: Args + clap::FromArgMatches + Serialize + DeserializeOwned,
    F: FnOnce(Runtime, S) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<Router>>,
{
    let mut args = args.layered(name)?;
    args.common.listen.get_or_insert(default_listen);
    if args.common.print_config {
        print!("{}", crate::config::effective(&args, &format!("gochat {name}"))?);
        return Ok(());
    }
    let ServiceArgs { common, service } = args;
    anyhow::ensure!(
        common.amqp_url.is_some(),
        "gochat {name} talks to the other services over RabbitMQ: set GOCHAT_AMQP_URL (or run `gochat serve` for everything in one process)"
    );
    let listen = common.listen_or(default_listen);
    let runtime = runtime(common, name, false)?;
    crate::ops::cancel_on_signal(runtime.shutdown.clone());
    let app = build(runtime.clone(), service).await?;
    let listener = TcpListener::bind(listen).await?;
    serve(runtime, listener, app).await
}
