//! Running services in tests: a real server on port 0 over a real database directory, and the
//! private RabbitMQ node of `make test` when there is one.

use crate::Runtime;
use crate::bus::Bus;
use crate::config::{CommonSettings, Secret};
use axum::Router;
use std::net::SocketAddr;
use std::path::Path;
use tokio::net::TcpListener;

/// A key tests share so tokens verify across the services they start.
pub const TEST_JWT_KEY: &str = "test-key-test-key-test-key-test-key-0123";

/// A service (or several) serving on an ephemeral port.
pub struct TestServer {
    pub addr: SocketAddr,
    pub runtime: Runtime,
    served: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl TestServer {
    /// Settings for a test process keeping its data in `dir`, over RabbitMQ at `amqp_url` or
    /// in process.
    pub fn settings(dir: &Path, amqp_url: Option<&str>) -> CommonSettings {
        CommonSettings {
            data_dir: Some(dir.to_owned()),
            jwt_key: Some(Secret::new(TEST_JWT_KEY)),
            amqp_url: amqp_url.map(Secret::new),
            log: Some("warn".into()),
            ..Default::default()
        }
    }

    /// Builds the app on a fresh runtime (or on `bus`) and serves it on 127.0.0.1:0.
    pub async fn start<F, Fut>(settings: CommonSettings, bus: Option<Bus>, build: F) -> anyhow::Result<Self>
    where
        F: FnOnce(Runtime) -> Fut,
        Fut: std::future::Future<Output = anyhow::Result<Router>>,
    {
        let mut runtime = crate::service::runtime(settings, "test", false)?;
        if let Some(bus) = bus {
            runtime.bus = bus;
        }
        let app = build(runtime.clone()).await?;
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let served = tokio::spawn(crate::service::serve(runtime.clone(), listener, app));
        Ok(Self { addr, runtime, served })
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Stops like SIGTERM would: stop accepting, drain, wait.
    pub async fn stop(self) -> anyhow::Result<()> {
        self.runtime.shutdown.cancel();
        self.served.await?
    }
}

/// The AMQP URL of the private RabbitMQ node that `make test` (scripts/with-rabbitmq.sh) starts
/// and exports as `GOCHAT_TEST_AMQP_URL`. Without one, plain `cargo test` still runs every other
/// test: this returns `None` and says on the terminal which test it skipped, and the caller
/// returns.
pub fn rabbitmq_or_skip() -> Option<String> {
    use std::io::Write;
    match std::env::var("GOCHAT_TEST_AMQP_URL") {
        Ok(url) => Some(url),
        Err(_) => {
            let thread = std::thread::current();
            let test = thread.name().unwrap_or("a test");
            // Straight to stderr: the harness captures print! and eprint!, and a skip must show.
            let _ = writeln!(
                std::io::stderr(),
                "skipped {test}: needs RabbitMQ (`make test`, or scripts/with-rabbitmq.sh cargo test)"
            );
            None
        }
    }
}
