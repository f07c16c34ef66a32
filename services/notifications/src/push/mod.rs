//! Web Push (RFC 8030, 8291, 8292) without a vendor cloud: for each new notification of a user
//! who has no open `/ws/notifications` socket on any gateway, an encrypted push to each browser
//! the user turned notifications on in, through that browser's own push service.
//!
//! Layout
//! - `vapid`: the server's key pair (kept in the data directory) and the tokens pushes carry.
//! - `ece`: encryption of a payload for one browser (`aes128gcm`).
//! - `endpoint`: which push service URLs are accepted and reached (https, public addresses).
//! - `subscriptions`: the subscriptions table, each bound to the session that registered it.
//! - `online`: who is online, from `presence.changed`.
//! - `sender`: the bounded queue (one push per browser and conversation while undelivered)
//!   and the task that sends it, with timeouts and bounded retries, apart from message delivery.
//! - `routes`: `GET /api/push/key`, `POST` and `DELETE /api/push/subscriptions`.

mod ece;
mod endpoint;
mod online;
pub mod routes;
mod sender;
pub mod subscriptions;
pub mod vapid;

use crate::Settings;
use crate::store::table;
use gochat_kit::Runtime;
use gochat_kit::auth::Sessions;
use gochat_kit::db::{Db, Write};
use gochat_proto::dto::{Notification, PushMessage};
use gochat_proto::events::PresenceChanged;
use gochat_proto::ids::{NotificationId, UserId};
use std::sync::Arc;
use std::time::Duration;

pub use endpoint::InsecureHost;
pub use online::MIGRATION as PRESENCE_MIGRATION;
pub use subscriptions::MIGRATION as SUBSCRIPTIONS_MIGRATION;
pub use subscriptions::SESSIONS_MIGRATION as SUBSCRIPTION_SESSIONS_MIGRATION;

/// How far back a user who just went offline is pushed what they have not read: a socket that
/// died without closing (a laptop lid, a lost network) is only noticed after its idle timeout
/// (75 s), and what arrived meanwhile was never seen.
const CATCH_UP: chrono::TimeDelta = chrono::TimeDelta::seconds(90);

pub struct Push {
    vapid: Arc<vapid::Vapid>,
    policy: endpoint::Policy,
    queue: Arc<sender::Queue>,
    /// Which sessions are over (this instance's replica of auth's ledger): a subscription whose
    /// session ended is never pushed to, even before the event that removes it arrives.
    sessions: Sessions,
}

impl Push {
    /// Loads (or creates) the VAPID key and starts the sending task.
    pub fn start(runtime: &Runtime, db: Db, sessions: Sessions, settings: &Settings) -> anyhow::Result<Arc<Self>> {
        let vapid = Arc::new(vapid::Vapid::load_or_generate(&runtime.settings.data_dir())?);
        let policy = endpoint::Policy::new(settings.push_insecure_hosts.clone().unwrap_or_default());
        if let Some(contact) = &settings.push_contact {
            anyhow::ensure!(
                contact.starts_with("mailto:") || contact.starts_with("https://"),
                "GOCHAT_PUSH_CONTACT must be a mailto: or https: URI"
            );
        }
        let timeout = Duration::from_secs(settings.push_timeout_secs.unwrap_or(10).max(1));
        let queue = Arc::new(sender::Queue::default());
        let sending = sender::Sender::new(
            db,
            vapid.clone(),
            settings.push_contact.clone(),
            policy.clone(),
            timeout,
            queue.clone(),
            sessions.clone(),
        )?;
        runtime
            .tasks
            .spawn(sender::run(Arc::new(sending), runtime.shutdown.clone()));
        Ok(Arc::new(Self {
            vapid,
            policy,
            queue,
            sessions,
        }))
    }

    pub fn public_key(&self) -> &str {
        self.vapid.public_key()
    }

    /// Within the write that stored `notification` for `user`: when the user is offline, a
    /// push to each of their browsers, queued once the write commits. `group_title`: the
    /// group's title (none in a direct conversation).
    pub fn offer(
        &self,
        w: &mut Write<'_>,
        user: UserId,
        notification: &Notification,
        group_title: Option<&str>,
    ) -> rusqlite::Result<()> {
        if online::is_online(w, user)? {
            return Ok(());
        }
        self.queue_for(w, user, &[message(notification, group_title)])
    }

    /// Applies a presence change. A user who just went offline is pushed, per conversation,
    /// the latest notification they have not read from just before (see [`CATCH_UP`]).
    pub fn presence_changed(&self, w: &mut Write<'_>, change: &PresenceChanged) -> rusqlite::Result<()> {
        if !online::apply(w, change)? || change.online {
            return Ok(());
        }
        let since = change.last_seen_at.unwrap_or_else(chrono::Utc::now) - CATCH_UP;
        let unread = table::unread_since(w, change.user_id, since)?;
        let mut latest: Vec<(NotificationId, PushMessage)> = Vec::new();
        for (n, group_title) in unread {
            let (id, m) = message(&n, group_title.as_deref());
            match latest.iter_mut().find(|(_, l)| l.conversation_id == m.conversation_id) {
                Some(l) if l.1.seq < m.seq => *l = (id, m),
                Some(_) => {}
                None => latest.push((id, m)),
            }
        }
        self.queue_for(w, change.user_id, &latest)
    }

    fn queue_for(
        &self,
        w: &mut Write<'_>,
        user: UserId,
        messages: &[(NotificationId, PushMessage)],
    ) -> rusqlite::Result<()> {
        if messages.is_empty() {
            return Ok(());
        }
        let mut browsers = subscriptions::of_user(w, user)?;
        // A browser whose session is over gets nothing, and is forgotten now (the event that
        // ends the session removes it too, maybe a moment later).
        let mut ended = Vec::new();
        browsers.retain(|b| {
            let s = &b.session;
            let over = self.sessions.end_of(user, &s.id, s.issued_at, s.expires_at).is_some();
            if over {
                ended.push(b.clone());
            }
            !over
        });
        for b in &ended {
            subscriptions::remove_ended(w, &b.endpoint, &b.session.id)?;
        }
        let jobs: Vec<sender::Job> = browsers
            .iter()
            .flat_map(|subscription| {
                messages.iter().map(|(notification, message)| sender::Job {
                    user,
                    subscription: subscription.clone(),
                    notification: *notification,
                    message: message.clone(),
                })
            })
            .collect();
        if !jobs.is_empty() {
            let queue = self.queue.clone();
            w.after_commit(move || queue.enqueue(jobs));
        }
        Ok(())
    }
}

/// What a push says of `n` (and which notification it is, to drop it once read).
fn message(n: &Notification, group_title: Option<&str>) -> (NotificationId, PushMessage) {
    let message = PushMessage {
        kind: n.kind,
        conversation_id: n.conversation_id,
        seq: n.seq,
        from: n.from.clone(),
        preview: n.preview.clone(),
        mentioned: n.mentioned,
        group_title: group_title.map(str::to_owned),
    };
    (n.id, message)
}
