//! Sending pushes, apart from message delivery: the store only queues (in memory, after its
//! commit) and never waits; this task sends with a timeout per push, a few at a time, so a push
//! service that is down or hangs delays nothing but its own pushes.
//!
//! The queue holds one push per browser and conversation: a newer message replaces one not
//! sent yet (and the push service replaces one it has not delivered yet, by `Topic`). Before
//! sending, a push is dropped if it is no longer news (the user came online or read it) or the
//! browser is no longer the user's (unsubscribed, someone else's since, or the session it was
//! subscribed with ended). A
//! failed push is retried with backoff a bounded number of times; a subscription the push
//! service says is gone (404, 410) is deleted. One whose endpoint the rules (see [`Policy`])
//! no longer allow, checked before every send since they may have changed since the browser
//! subscribed, is not sent to but kept: the rules are settings, and a mistyped
//! `GOCHAT_PUSH_INSECURE_HOSTS` must not delete every subscription of a LAN push service for
//! good. Set right again, it brings their pushes back.

use super::endpoint::{Policy, PublicOnly};
use super::subscriptions::{self, Subscription};
use super::vapid::Vapid;
use super::{ece, online};
use crate::store::table;
use gochat_kit::auth::Sessions;
use gochat_kit::db::{Db, DbError};
use gochat_proto::dto::PushMessage;
use gochat_proto::ids::{ConversationId, NotificationId, UserId};
use reqwest::StatusCode;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{Notify, Semaphore};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// Pushes waiting at most (one per browser and conversation); beyond, new ones are dropped.
const CAPACITY: usize = 10_000;
/// Pushes in flight at once.
const CONCURRENCY: usize = 16;
/// Attempts per push, and the longest pause between two (about two minutes in all).
const MAX_ATTEMPTS: u32 = 8;
const MAX_BACKOFF: Duration = Duration::from_secs(300);
/// How long a push service keeps a push for a browser that is offline.
const TTL_SECS: u32 = 24 * 3600;

/// One push to one browser.
#[derive(Clone, Debug)]
pub struct Job {
    pub user: UserId,
    pub subscription: Subscription,
    pub notification: NotificationId,
    pub message: PushMessage,
}

struct Entry {
    job: Job,
    /// Attempts made so far.
    attempts: u32,
    due: Instant,
}

type Key = (String, ConversationId);

fn key(job: &Job) -> Key {
    (job.subscription.endpoint.clone(), job.message.conversation_id)
}

/// The pushes waiting, and the browsers and conversations with one in flight: while a push
/// is out, newer ones of its conversation wait (and replace each other) instead of going out
/// beside it, so a push service that hangs holds one push per conversation, not one per message.
#[derive(Default)]
pub struct Queue {
    state: Mutex<State>,
    wake: Notify,
}

#[derive(Default)]
struct State {
    pending: HashMap<Key, Entry>,
    in_flight: HashSet<Key>,
}

impl Queue {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().expect("push queue lock poisoned")
    }

    /// Queues pushes, each replacing the one of its browser and conversation not sent yet.
    pub fn enqueue(&self, jobs: Vec<Job>) {
        let mut state = self.state();
        for job in jobs {
            let key = key(&job);
            if state.pending.len() >= CAPACITY && !state.pending.contains_key(&key) {
                metrics::counter!("gochat_push_total", "outcome" => "dropped").increment(1);
                continue;
            }
            let due = Instant::now();
            state.pending.insert(key, Entry { job, attempts: 0, due });
        }
        drop(state);
        self.wake.notify_one();
    }

    /// Takes up to `limit` pushes that are due and have none of their conversation in flight;
    /// also says when the next one will be due.
    fn take_due(&self, limit: usize) -> (Vec<Entry>, Option<Instant>) {
        let now = Instant::now();
        let mut state = self.state();
        let due: Vec<Key> = state
            .pending
            .iter()
            .filter(|(k, e)| e.due <= now && !state.in_flight.contains(*k))
            .take(limit)
            .map(|(k, _)| k.clone())
            .collect();
        let mut taken = Vec::with_capacity(due.len());
        for k in due {
            if let Some(entry) = state.pending.remove(&k) {
                state.in_flight.insert(k);
                taken.push(entry);
            }
        }
        let next = state
            .pending
            .iter()
            .filter(|(k, _)| !state.in_flight.contains(*k))
            .map(|(_, e)| e.due)
            .min();
        (taken, next)
    }

    /// A push is done; `again` puts it back for later, unless a newer one of its browser and
    /// conversation came meanwhile.
    fn finish(&self, entry: Entry, again: bool) {
        let key = key(&entry.job);
        let mut state = self.state();
        state.in_flight.remove(&key);
        if again {
            state.pending.entry(key).or_insert(entry);
        }
        drop(state);
        self.wake.notify_one();
    }
}

/// What a push service made of a push.
#[derive(Debug)]
enum Outcome {
    Delivered,
    /// The subscription no longer exists (404, 410).
    Gone,
    /// Worth trying again later (timeout, unreachable, 429, 5xx), after at least this long.
    Retry(&'static str, Option<Duration>),
    /// Refused for good (another 4xx): retrying would not help.
    Refused(StatusCode),
    /// Not sent: the rules do not allow the endpoint (any more).
    NotAllowed(&'static str),
}

pub struct Sender {
    db: Db,
    vapid: Arc<Vapid>,
    contact: Option<String>,
    policy: Policy,
    /// Sends to endpoints that are not listed: their names resolve to public addresses only.
    public: reqwest::Client,
    /// Sends to listed endpoints (which [`PublicOnly`] cannot tell apart: it sees no port).
    listed: reqwest::Client,
    queue: Arc<Queue>,
    sessions: Sessions,
    /// The endpoints the rules refused, so that each is warned about once: the rules are this
    /// process's settings, so such an endpoint is refused at every push until a restart.
    refused: Mutex<HashSet<String>>,
}

impl Sender {
    pub fn new(
        db: Db,
        vapid: Arc<Vapid>,
        contact: Option<String>,
        policy: Policy,
        timeout: Duration,
        queue: Arc<Queue>,
        sessions: Sessions,
    ) -> anyhow::Result<Self> {
        let client = || {
            reqwest::Client::builder()
                .timeout(timeout)
                .connect_timeout(timeout.min(Duration::from_secs(5)))
                // A push service never redirects; following one could lead anywhere.
                .redirect(reqwest::redirect::Policy::none())
                .no_proxy()
                .user_agent(concat!("GoChat/", env!("CARGO_PKG_VERSION")))
        };
        Ok(Self {
            db,
            vapid,
            contact,
            policy,
            public: client().dns_resolver(Arc::new(PublicOnly)).build()?,
            listed: client().build()?,
            queue,
            sessions,
            refused: Mutex::default(),
        })
    }

    /// One push: checks it is still news, sends, and deals with the answer. Returns whether to
    /// try again later (then `entry.due` says when).
    async fn attempt(&self, entry: &mut Entry) -> bool {
        let (user, notification) = (entry.job.user, entry.job.notification);
        let endpoint = entry.job.subscription.endpoint.clone();
        let news = self
            .db
            .read(move |c| -> Result<Option<subscriptions::Session>, DbError> {
                // A browser unsubscribed meanwhile (or taken over by someone else) gets nothing
                // more of this user's.
                if !table::is_unread(c, notification)? || online::is_online(c, user)? {
                    return Ok(None);
                }
                Ok(subscriptions::session_at(c, &endpoint, user)?)
            })
            .await;
        let session = match news {
            Ok(session) => session,
            // The database could not say: the push goes, as long as its session goes on.
            Err(_) => Some(entry.job.subscription.session.clone()),
        };
        // Nor one whose session ended (signed out, its password changed, disabled, expired),
        // whether or not the event that removes it has arrived.
        let news = session.is_some_and(|s| self.sessions.end_of(user, &s.id, s.issued_at, s.expires_at).is_none());
        if !news {
            metrics::counter!("gochat_push_total", "outcome" => "moot").increment(1);
            return false;
        }
        entry.attempts += 1;
        let outcome = self.send(&entry.job).await;
        let label = match &outcome {
            Outcome::Delivered => "delivered",
            Outcome::Gone => "gone",
            Outcome::Retry(reason, _) => reason,
            Outcome::Refused(_) => "refused",
            Outcome::NotAllowed(_) => "not_allowed",
        };
        metrics::counter!("gochat_push_total", "outcome" => label).increment(1);
        match outcome {
            Outcome::Delivered => false,
            Outcome::Gone => {
                self.forget(&entry.job.subscription).await;
                false
            }
            Outcome::NotAllowed(reason) => {
                if self.first_refusal(&entry.job.subscription.endpoint) {
                    let host = reqwest::Url::parse(&entry.job.subscription.endpoint)
                        .ok()
                        .and_then(|u| u.host_str().map(str::to_owned));
                    tracing::warn!(
                        reason,
                        host,
                        "pushes to a subscription are not sent: its endpoint is not allowed as \
                         GOCHAT_PUSH_INSECURE_HOSTS is set now; the subscription is kept for when it is"
                    );
                }
                false
            }
            Outcome::Retry(reason, _) if entry.attempts >= MAX_ATTEMPTS => {
                tracing::warn!(reason, attempts = entry.attempts, "push given up");
                false
            }
            Outcome::Retry(_, after) => {
                let backoff = Duration::from_secs(1 << (entry.attempts - 1).min(9)).min(MAX_BACKOFF);
                entry.due = Instant::now() + after.map_or(backoff, |a| a.clamp(backoff, MAX_BACKOFF));
                true
            }
            Outcome::Refused(status) => {
                tracing::warn!(%status, "the push service refused a push");
                false
            }
        }
    }

    /// Whether the rules refuse `endpoint` for the first time in this process.
    fn first_refusal(&self, endpoint: &str) -> bool {
        self.refused
            .lock()
            .expect("refused endpoints lock poisoned")
            .insert(endpoint.to_owned())
    }

    /// Removes a subscription (unless the browser subscribed again meanwhile); returns whether
    /// it did.
    async fn forget(&self, subscription: &Subscription) -> bool {
        let subscription = subscription.clone();
        let removed = self
            .db
            .write(move |w| subscriptions::remove_gone(w, &subscription).map_err(DbError::from))
            .await;
        removed.unwrap_or_else(|e| {
            tracing::warn!(error = %e, "could not remove a push subscription");
            false
        })
    }

    async fn send(&self, job: &Job) -> Outcome {
        let endpoint = match self.policy.check(&job.subscription.endpoint) {
            Ok(endpoint) => endpoint,
            Err(reason) => return Outcome::NotAllowed(reason),
        };
        let client = if endpoint.listed { &self.listed } else { &self.public };
        let url = endpoint.url;
        let audience = url.origin().ascii_serialization();
        let contact = self.contact.as_deref().unwrap_or(&job.subscription.origin);
        let authorization = self
            .vapid
            .authorization(&audience, contact, chrono::Utc::now().timestamp());
        let payload = serde_json::to_vec(&job.message).expect("a push message serializes");
        let body = ece::encrypt(&payload, &job.subscription.keys);
        let sent = client
            .post(url)
            .header("TTL", TTL_SECS)
            .header("Urgency", "high")
            // Replaces an undelivered push of the same conversation at the push service.
            .header("Topic", job.message.conversation_id.0.simple().to_string())
            .header("Content-Encoding", "aes128gcm")
            .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
            .header(reqwest::header::AUTHORIZATION, authorization)
            .body(body)
            .send()
            .await;
        match sent {
            Err(e) if e.is_timeout() => Outcome::Retry("timeout", None),
            Err(_) => Outcome::Retry("unreachable", None),
            Ok(response) => {
                let status = response.status();
                let after = response
                    .headers()
                    .get(reqwest::header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok()?.parse().ok())
                    .map(Duration::from_secs);
                match status.as_u16() {
                    200..=299 => Outcome::Delivered,
                    404 | 410 => Outcome::Gone,
                    408 | 429 | 500..=599 => Outcome::Retry("unavailable", after),
                    _ => Outcome::Refused(status),
                }
            }
        }
    }
}

/// Sends what is due, a few at a time, until shutdown. Pushes are best effort: a stopping
/// process does not wait for push services.
pub async fn run(sender: Arc<Sender>, shutdown: CancellationToken) {
    metrics::describe_counter!(
        "gochat_push_total",
        "Web Push attempts by outcome (delivered, gone, timeout, unreachable, unavailable, refused, not_allowed, moot, dropped)"
    );
    let slots = Arc::new(Semaphore::new(CONCURRENCY));
    let mut sending = tokio::task::JoinSet::new();
    loop {
        let (due, next) = sender.queue.take_due(slots.available_permits());
        for entry in due {
            let Ok(slot) = slots.clone().try_acquire_owned() else {
                sender.queue.finish(entry, true);
                continue;
            };
            let sender = sender.clone();
            sending.spawn(async move {
                let mut entry = entry;
                let again = sender.attempt(&mut entry).await;
                // The slot is free before the loop is woken to use it.
                drop(slot);
                sender.queue.finish(entry, again);
            });
        }
        while sending.try_join_next().is_some() {}
        // With every slot taken, a finishing push wakes this loop; a due time would spin it.
        let next = next.filter(|_| slots.available_permits() > 0);
        let next_due = async {
            match next {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = sender.queue.wake.notified() => {}
            _ = next_due => {}
            _ = shutdown.cancelled() => break,
        }
    }
    sending.abort_all();
}
