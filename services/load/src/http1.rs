//! One keep-alive HTTP/1.1 connection, driven by the task that sends on it.
//!
//! reqwest hands each request to its pool's connection task, which runs on the load
//! generator's other thread as often as not: a hop each way that the timed one-at-a-time
//! scenarios (history, search, roundtrip's empty request) would count as the server's time.
//! Here the caller polls the request and the connection together, as a browser's network
//! thread does: what is measured is the server and loopback.

use crate::api::{Reply, Session};
use crate::target::{Service, Target};
use anyhow::{Context, bail};
use http_body_util::{BodyExt, Empty};
use hyper::Request;
use hyper::body::Bytes;
use hyper::client::conn::http1::{self, SendRequest};
use hyper::header::{COOKIE, HOST};
use hyper_util::rt::TokioIo;
use std::future::Future;
use std::pin::Pin;
use std::time::Instant;
use tokio::net::TcpStream;

pub struct Connection {
    sender: SendRequest<Empty<Bytes>>,
    /// The connection's own future: reads and writes happen while it is polled.
    driver: Pin<Box<dyn Future<Output = hyper::Result<()>> + Send>>,
    host: String,
}

impl Connection {
    /// Connects to `service` of `target` (with TCP_NODELAY, as every socket of the load generator).
    pub async fn open(target: &Target, service: Service) -> anyhow::Result<Self> {
        let url = target.url(service, "/")?;
        let addrs = url.socket_addrs(|| None).with_context(|| format!("resolving {url}"))?;
        let stream = TcpStream::connect(&*addrs)
            .await
            .with_context(|| format!("connecting to {url}"))?;
        stream.set_nodelay(true)?;
        let (sender, connection) = http1::handshake(TokioIo::new(stream)).await?;
        let host = url.host_str().context("no host in the URL")?;
        let host = url
            .port()
            .map_or_else(|| host.to_owned(), |port| format!("{host}:{port}"));
        Ok(Self {
            sender,
            driver: Box::pin(connection),
            host,
        })
    }

    /// `GET path` as `me` (if signed in): timed from sending the request to the body's last byte.
    pub async fn get(&mut self, path: &str, me: Option<&Session>) -> anyhow::Result<Reply> {
        let mut request = Request::get(path).header(HOST, &self.host);
        if let Some(me) = me {
            request = request.header(COOKIE, &me.cookie);
        }
        let request = request.body(Empty::new())?;
        let Self { sender, driver, .. } = self;
        let started = Instant::now();
        let exchange = async {
            sender.ready().await?;
            let response = sender.send_request(request).await?;
            let status = response.status();
            let body = response.into_body().collect().await?.to_bytes();
            Ok::<_, hyper::Error>((status, body))
        };
        let (status, body) = tokio::select! {
            biased;
            done = exchange => done.with_context(|| format!("GET {path}"))?,
            ended = driver.as_mut() => bail!("GET {path}: the connection ended ({ended:?})"),
        };
        Ok(Reply::new(status, &body, started.elapsed()))
    }
}
