//! The HTTP routes the scenarios call, as the web client calls them: JSON bodies, the `auth`
//! cookie of the signed-in user, and the site's `Origin` on state-changing requests.

use crate::target::{Service, Target};
use anyhow::{Context, bail};
use reqwest::header::{COOKIE, ORIGIN, RETRY_AFTER, SET_COOKIE};
use reqwest::{Method, StatusCode};
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long a new user may take to reach the messages service.
const PEER_KNOWN_WITHIN: Duration = Duration::from_secs(30);

/// A signed-in user: who, and the cookie that proves it.
#[derive(Clone, Debug)]
pub struct Session {
    pub id: String,
    pub username: String,
    /// `auth=<token>`, as a browser sends it.
    pub cookie: String,
}

/// An answer: its status, its JSON body (`null` when empty), and `Retry-After` if any.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub body: Value,
    pub retry_after: Option<Duration>,
    /// From sending the request to the body's last byte (JSON parsing not included).
    pub elapsed: Duration,
    set_cookie: Option<String>,
}

impl Reply {
    /// An answer with `body` read as JSON (a body that is not JSON becomes a string).
    pub fn new(status: StatusCode, body: &[u8], elapsed: Duration) -> Self {
        let body = if body.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(body).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(body).into()))
        };
        Self {
            status,
            body,
            retry_after: None,
            elapsed,
            set_cookie: None,
        }
    }
}

/// What a sign-up came to.
#[derive(Debug)]
pub enum Signup {
    Created(Session),
    /// The username or email exists already (409).
    Taken,
    /// 429: try again after this long.
    RateLimited(Duration),
}

/// An HTTP client for one deployment, shared by every simulated user.
#[derive(Clone)]
pub struct Api {
    http: reqwest::Client,
    pub target: Arc<Target>,
}

#[derive(Deserialize)]
struct UserBody {
    user: UserHead,
}

#[derive(Deserialize)]
struct UserHead {
    id: String,
    username: String,
}

#[derive(Deserialize)]
struct ConversationBody {
    conversation: ConversationHead,
}

/// The part of a conversation the scenarios need.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConversationHead {
    pub id: String,
    #[serde(default)]
    pub last_seq: i64,
    #[serde(default)]
    pub peer: Option<PeerHead>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct PeerHead {
    pub id: String,
}

#[derive(Deserialize)]
struct ConversationsBody {
    conversations: Vec<ConversationHead>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MessagesBody {
    messages: Vec<crate::wire::MessageHead>,
    has_more: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct NotificationsBody {
    unread_count: u64,
}

impl Api {
    pub fn new(target: Arc<Target>) -> anyhow::Result<Self> {
        Ok(Self {
            http: client()?,
            target,
        })
    }

    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// Sends a request to `service` as `me` (if signed in), with a JSON body if any.
    pub async fn call(
        &self,
        method: Method,
        service: Service,
        path: &str,
        me: Option<&Session>,
        body: Option<&Value>,
    ) -> anyhow::Result<Reply> {
        let url = self.target.url(service, path)?;
        let mut request = self.http.request(method.clone(), url);
        if method != Method::GET {
            request = request.header(ORIGIN, self.target.origin(service));
        }
        if let Some(me) = me {
            request = request.header(COOKIE, &me.cookie);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let started = Instant::now();
        let response = request.send().await.with_context(|| format!("{method} {path}"))?;
        let status = response.status();
        let header = |name| response.headers().get(name).and_then(|v| v.to_str().ok());
        let retry_after = header(RETRY_AFTER)
            .and_then(|v| v.parse().ok())
            .map(Duration::from_secs);
        let set_cookie = header(SET_COOKIE).map(str::to_owned);
        let bytes = response
            .bytes()
            .await
            .with_context(|| format!("{method} {path}: body"))?;
        let mut reply = Reply::new(status, &bytes, started.elapsed());
        reply.retry_after = retry_after;
        reply.set_cookie = set_cookie;
        Ok(reply)
    }

    pub async fn signup(&self, username: &str, password: &str) -> anyhow::Result<Signup> {
        let body = json!({"email": email(username), "username": username, "password": password});
        let reply = self
            .call(Method::POST, Service::Auth, "/api/auth/signup", None, Some(&body))
            .await?;
        match reply.status {
            StatusCode::CREATED => Ok(Signup::Created(session(reply)?)),
            StatusCode::CONFLICT => Ok(Signup::Taken),
            StatusCode::TOO_MANY_REQUESTS => {
                Ok(Signup::RateLimited(reply.retry_after.unwrap_or(Duration::from_secs(1))))
            }
            status => bail!("sign-up of {username}: {status} {}", reply.body),
        }
    }

    /// Signs in by username; fails on anything but 200.
    pub async fn signin(&self, username: &str, password: &str) -> anyhow::Result<Session> {
        let body = json!({"username": username, "password": password});
        let reply = self
            .call(Method::POST, Service::Auth, "/api/auth/signin", None, Some(&body))
            .await?;
        if reply.status != StatusCode::OK {
            bail!("sign-in of {username}: {} {}", reply.status, reply.body);
        }
        session(reply)
    }

    /// Opens (or finds) `me`'s direct conversation with `peer`; its id. A user who signed up
    /// a moment ago reaches the messages service by an event, so a 404 is retried for a while.
    pub async fn open_direct(&self, me: &Session, peer: &str) -> anyhow::Result<String> {
        let body = json!({"peerId": peer});
        let deadline = Instant::now() + PEER_KNOWN_WITHIN;
        let mut pause = Duration::from_millis(5);
        loop {
            let path = "/api/conversations";
            let reply = self
                .call(Method::POST, Service::Messages, path, Some(me), Some(&body))
                .await?;
            if reply.status.is_success() {
                return Ok(serde_json::from_value::<ConversationBody>(reply.body)?.conversation.id);
            }
            if reply.status != StatusCode::NOT_FOUND || Instant::now() >= deadline {
                bail!("opening a conversation: {} {}", reply.status, reply.body);
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_millis(200));
        }
    }

    /// Creates a group conversation owned by `me`; its id. A server without groups answers
    /// 400 or 404 here, and the error says so.
    pub async fn create_group(&self, me: &Session, title: &str, members: &[String]) -> anyhow::Result<String> {
        let body = json!({"title": title, "memberIds": members});
        let reply = self
            .call(
                Method::POST,
                Service::Messages,
                "/api/conversations",
                Some(me),
                Some(&body),
            )
            .await?;
        match reply.status {
            StatusCode::CREATED | StatusCode::OK => {
                Ok(serde_json::from_value::<ConversationBody>(reply.body)?.conversation.id)
            }
            StatusCode::BAD_REQUEST | StatusCode::NOT_FOUND => bail!(
                "this server does not support group conversations yet: POST /api/conversations \
                 {{\"title\",\"memberIds\"}} answered {} {}",
                reply.status,
                reply.body
            ),
            status => bail!("creating a group: {status} {}", reply.body),
        }
    }

    /// The messages of a conversation after seq `after`, ascending, as a tab catching up asks
    /// for them: every page until the last.
    pub async fn messages_after(
        &self,
        me: &Session,
        conversation: &str,
        after: i64,
    ) -> anyhow::Result<Vec<crate::wire::MessageHead>> {
        let mut all = Vec::new();
        let mut after = after;
        loop {
            let path = format!("/api/conversations/{conversation}/messages?after={after}&limit=100");
            let reply = self.call(Method::GET, Service::Messages, &path, Some(me), None).await?;
            if reply.status != StatusCode::OK {
                bail!("history of {conversation}: {} {}", reply.status, reply.body);
            }
            let page: MessagesBody = serde_json::from_value(reply.body)?;
            after = page.messages.last().map_or(after, |m| m.seq);
            let more = page.has_more && !page.messages.is_empty();
            all.extend(page.messages);
            if !more {
                return Ok(all);
            }
        }
    }

    /// How many of `me`'s notifications are unread.
    pub async fn unread_notifications(&self, me: &Session) -> anyhow::Result<u64> {
        let reply = self
            .call(
                Method::GET,
                Service::Notifications,
                "/api/notifications?unread=true&limit=1",
                Some(me),
                None,
            )
            .await?;
        if reply.status != StatusCode::OK {
            bail!("notifications: {} {}", reply.status, reply.body);
        }
        Ok(serde_json::from_value::<NotificationsBody>(reply.body)?.unread_count)
    }

    /// `me`'s conversations, most recent first.
    pub async fn conversations(&self, me: &Session) -> anyhow::Result<Vec<ConversationHead>> {
        let reply = self
            .call(Method::GET, Service::Messages, "/api/conversations", Some(me), None)
            .await?;
        if reply.status != StatusCode::OK {
            bail!("listing conversations: {} {}", reply.status, reply.body);
        }
        Ok(serde_json::from_value::<ConversationsBody>(reply.body)?.conversations)
    }
}

/// An HTTP client like a browser's, but with TCP_NODELAY and no cookie jar (each simulated
/// user's cookie is sent by hand).
pub fn client() -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .tcp_nodelay(true)
        .pool_max_idle_per_host(64)
        .timeout(Duration::from_secs(60))
        .build()?)
}

pub fn email(username: &str) -> String {
    format!("{username}@load.example")
}

/// The session of a 200/201 answer that set the `auth` cookie.
fn session(reply: Reply) -> anyhow::Result<Session> {
    let cookie = reply
        .set_cookie
        .as_deref()
        .and_then(|c| c.split(';').next())
        .filter(|c| c.starts_with("auth=") && c.len() > 5)
        .context("no auth cookie in the answer")?
        .to_owned();
    let user: UserBody = serde_json::from_value(reply.body).context("no user in the answer")?;
    Ok(Session {
        id: user.user.id,
        username: user.user.username,
        cookie,
    })
}
