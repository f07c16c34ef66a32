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

/// A PNG of a few dozen bytes whose header declares `width` × `height` pixels (8-bit RGB): a
/// decompression bomb, for the tests that prove pictures are refused from their header.
pub fn bomb_png(width: u32, height: u32) -> Vec<u8> {
    fn crc32(bytes: &[u8], mut crc: u32) -> u32 {
        for &b in bytes {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
        crc
    }
    fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
        out.extend_from_slice(&u32::try_from(data.len()).expect("a small chunk").to_be_bytes());
        let crc = crc32(data, crc32(kind, 0xFFFF_FFFF)) ^ 0xFFFF_FFFF;
        out.extend_from_slice(kind);
        out.extend_from_slice(data);
        out.extend_from_slice(&crc.to_be_bytes());
    }
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut header = width.to_be_bytes().to_vec();
    header.extend_from_slice(&height.to_be_bytes());
    header.extend_from_slice(&[8, 2, 0, 0, 0]);
    chunk(&mut out, b"IHDR", &header);
    // A zlib stream of a few zero bytes: what a decoder would inflate into gigabytes.
    chunk(
        &mut out,
        b"IDAT",
        &[0x78, 0x9c, 0x63, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01],
    );
    chunk(&mut out, b"IEND", &[]);
    out
}
