//! One browser tab's WebSocket: opened with the site's `Origin` and the user's cookie, over a
//! TCP connection with TCP_NODELAY (as browsers set it). A reader task timestamps every frame
//! as it arrives, answers each message from someone else with a `delivered` watermark as the
//! web client does, and reports what it saw to the scenario.
//!
//! The server starts pushing to a socket just after the upgrade, so a message stored in
//! between reaches it only through history (the web client catches up that way). A tab is
//! ready once its first `ping` is answered: from then on every push reaches it.

use crate::api::Session;
use crate::scenario::STALL;
use crate::target::{Service, Target};
use crate::wire::{Incoming, Outgoing};
use anyhow::{Context, bail};
use clap::ValueEnum;
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use reqwest::Url;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Instant;
use tokio::net::TcpStream;
use tokio::sync::{Mutex, mpsc, oneshot};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use uuid::Uuid;

pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Socket buffers: frames are small and most sockets idle; tungstenite's default read buffer
/// (128 KiB) would dominate the load generator's memory at tens of thousands of sockets.
const BUFFER: usize = 4 * 1024;

/// Opens `path` on `service` as `me`.
pub async fn connect(target: &Target, service: Service, path: &str, me: &Session) -> anyhow::Result<Ws> {
    connect_url(&target.ws_url(service, path)?, &target.origin(service), &me.cookie).await
}

/// Opens the socket at `url` with this `Origin` and `Cookie`.
pub async fn connect_url(url: &Url, origin: &str, cookie: &str) -> anyhow::Result<Ws> {
    let host = url.host_str().context("a socket URL has a host")?;
    let port = url.port_or_known_default().context("a socket URL has a port")?;
    let mut request = url.as_str().into_client_request()?;
    let headers = request.headers_mut();
    headers.insert("origin", HeaderValue::from_str(origin)?);
    headers.insert("cookie", HeaderValue::from_str(cookie)?);
    let tcp = TcpStream::connect((host, port))
        .await
        .with_context(|| format!("connecting to {host}:{port}"))?;
    tcp.set_nodelay(true)?;
    let config = WebSocketConfig::default()
        .read_buffer_size(BUFFER)
        .write_buffer_size(0)
        .max_message_size(Some(1 << 20));
    let (ws, response) = tokio_tungstenite::client_async_with_config(request, MaybeTlsStream::Plain(tcp), Some(config))
        .await
        .with_context(|| format!("opening {url}"))?;
    if response.status().as_u16() != 101 {
        bail!("{url}: {}", response.status());
    }
    Ok(ws)
}

/// What a tab saw, and when.
#[derive(Debug)]
pub struct Event {
    /// The tab's index, as given when it was opened.
    pub tab: usize,
    pub at: Instant,
    pub seen: Seen,
}

#[derive(Debug)]
pub enum Seen {
    Accepted(Uuid),
    Message {
        client_id: Uuid,
        conversation_id: String,
        seq: i64,
        from_me: bool,
    },
    /// An `error` frame.
    Error {
        code: String,
        message: String,
        client_id: Option<Uuid>,
    },
    /// The server asked the tab to catch up (`resync`): it may have missed frames.
    Resync,
    /// The answer to a `ping` (but the first, which [`Tab::open`] waits for).
    Pong,
    /// The socket closed (or failed): why.
    Closed(String),
}

/// Which tabs send `delivered` watermarks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Acknowledge {
    /// Every tab, as every open tab of the web client does.
    #[default]
    All,
    /// One tab per user: thousands of tabs of one person are a test rig, not a browser.
    OnePerUser,
    None,
}

impl Acknowledge {
    pub fn name(self) -> &'static str {
        match self {
            Acknowledge::All => "all",
            Acknowledge::OnePerUser => "one per user's",
            Acknowledge::None => "no",
        }
    }
}

/// How a tab behaves.
pub struct TabOptions {
    pub index: usize,
    /// Send `delivered` for others' messages, as every tab of the web client does.
    pub acknowledge: bool,
    /// Where to report what arrives; `None` for a tab nobody watches.
    pub events: Option<mpsc::UnboundedSender<Event>>,
}

type Writer = Arc<Mutex<SplitSink<Ws, Message>>>;

/// An open `/ws/chat` socket of one user.
pub struct Tab {
    writer: Writer,
    reader: tokio::task::JoinHandle<()>,
}

impl Tab {
    /// Opens a tab and waits until the server pushes to it.
    pub async fn open(target: &Target, me: &Session, options: TabOptions) -> anyhow::Result<Tab> {
        let ws = connect(target, Service::Chat, "/ws/chat", me).await?;
        let (sink, stream) = ws.split();
        let writer = Arc::new(Mutex::new(sink));
        let (ready, answered) = oneshot::channel();
        let reader = tokio::spawn(read(stream, writer.clone(), me.id.clone(), options, ready));
        let tab = Tab { writer, reader };
        tab.send(&Outgoing::Ping).await?;
        tokio::time::timeout(STALL, answered)
            .await
            .context("no pong to the first ping")?
            .context("the socket closed before answering a ping")?;
        Ok(tab)
    }

    pub async fn send(&self, frame: &Outgoing<'_>) -> anyhow::Result<()> {
        let text = Message::Text(Utf8Bytes::from(frame.to_text()));
        self.writer.lock().await.send(text).await.context("sending a frame")
    }

    /// Sends a message with a fresh client id; returns the id and when it was written.
    pub async fn send_message(&self, conversation_id: &str, body: &str) -> anyhow::Result<(Uuid, Instant)> {
        self.send_message_as(Uuid::now_v7(), conversation_id, body).await
    }

    /// Sends a message with `client_id` (a resend keeps the first one's); returns the id and
    /// when it was written.
    pub async fn send_message_as(
        &self,
        client_id: Uuid,
        conversation_id: &str,
        body: &str,
    ) -> anyhow::Result<(Uuid, Instant)> {
        let frame = Outgoing::Send {
            client_id,
            conversation_id,
            body,
        };
        let text = Message::Text(Utf8Bytes::from(frame.to_text()));
        let mut writer = self.writer.lock().await;
        let at = Instant::now();
        writer.send(text).await.context("sending a message")?;
        Ok((client_id, at))
    }

    /// Closes the socket as a closing tab does.
    pub async fn close(self) {
        let _ = self.writer.lock().await.send(Message::Close(None)).await;
        self.reader.abort();
    }
}

async fn read(
    mut stream: SplitStream<Ws>,
    writer: Writer,
    me: String,
    options: TabOptions,
    ready: oneshot::Sender<()>,
) {
    let mut ready = Some(ready);
    let report = |seen: Seen, at: Instant| {
        if let Some(events) = &options.events {
            let _ = events.send(Event {
                tab: options.index,
                at,
                seen,
            });
        }
    };
    let closed = loop {
        let frame = match stream.next().await {
            Some(Ok(Message::Text(text))) => text,
            Some(Ok(Message::Close(frame))) => break format!("closed by the server: {frame:?}"),
            Some(Ok(_)) => continue,
            Some(Err(e)) => break format!("socket failed: {e}"),
            None => break "socket ended".to_owned(),
        };
        let at = Instant::now();
        let seen = match serde_json::from_str::<Incoming>(&frame) {
            Ok(Incoming::Accepted { client_id }) => Seen::Accepted(client_id),
            Ok(Incoming::Message { message }) => {
                let from_me = message.sender_id == me;
                if options.acknowledge && !from_me {
                    let delivered = Outgoing::Delivered {
                        conversation_id: &message.conversation_id,
                        seq: message.seq,
                    };
                    let text = Message::Text(Utf8Bytes::from(delivered.to_text()));
                    if let Err(e) = writer.lock().await.send(text).await {
                        break format!("sending delivered: {e}");
                    }
                }
                Seen::Message {
                    client_id: message.client_id,
                    conversation_id: message.conversation_id,
                    seq: message.seq,
                    from_me,
                }
            }
            Ok(Incoming::Error {
                code,
                message,
                client_id,
            }) => Seen::Error {
                code,
                message,
                client_id,
            },
            Ok(Incoming::Pong) => match ready.take() {
                Some(ready) => {
                    let _ = ready.send(());
                    continue;
                }
                None => Seen::Pong,
            },
            Ok(Incoming::Resync) => Seen::Resync,
            Ok(Incoming::Other) => continue,
            Err(e) => Seen::Error {
                code: "unreadable_frame".into(),
                message: format!("{e}: {frame}"),
                client_id: None,
            },
        };
        report(seen, at);
    };
    report(Seen::Closed(closed), Instant::now());
}

/// Holds a socket open without watching it: reads (so pings are answered and the server never
/// sees a stuck client) until it closes.
pub async fn hold(mut ws: Ws) {
    while let Some(Ok(_)) = ws.next().await {}
}
