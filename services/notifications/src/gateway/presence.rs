//! Presence from this instance's side: claim a user on their first socket here, release them on
//! the last, and beat with the list of users held, so the users service can tell a live instance
//! from a dead one. Presence pushes to the sockets are coalesced: a user who flaps (a tab
//! reloading) within the window is pushed once, in their final state.

use super::Gateway;
use gochat_kit::ws::Hub;
use gochat_proto::events::{PresenceChanged, PresenceHeartbeat, UserOffline, UserOnline};
use gochat_proto::frames::NotificationServerFrame;
use gochat_proto::ids::UserId;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{Notify, mpsc};
use tokio_util::sync::CancellationToken;

pub struct Presence {
    hub: Arc<Hub>,
    window: Duration,
    /// The latest presence of each user changed since the last flush.
    pending: Mutex<HashMap<UserId, PresenceChanged>>,
    wake: Notify,
    /// Claims (true) and releases (false) of this instance, in order, for [`announce`].
    claims: mpsc::UnboundedSender<(UserId, bool)>,
}

impl Presence {
    pub fn new(hub: Arc<Hub>, window: Duration) -> (Self, mpsc::UnboundedReceiver<(UserId, bool)>) {
        let (claims, changes) = mpsc::unbounded_channel();
        let presence = Self {
            hub,
            window,
            pending: Mutex::default(),
            wake: Notify::new(),
            claims,
        };
        (presence, changes)
    }

    /// This instance now holds (`true`) or no longer holds (`false`) a socket of `user`.
    pub fn holds(&self, user: UserId, online: bool) {
        let _ = self.claims.send((user, online));
    }

    /// Queues a presence change for the sockets; the flusher sends it after the window.
    pub fn changed(&self, change: PresenceChanged) {
        self.pending
            .lock()
            .expect("presence lock poisoned")
            .insert(change.user_id, change);
        self.wake.notify_one();
    }
}

/// Sends coalesced presence changes to every socket. Sleeps until there is something to send.
pub async fn flush_coalesced(presence: Arc<Presence>, shutdown: CancellationToken) {
    loop {
        tokio::select! {
            _ = presence.wake.notified() => {}
            _ = shutdown.cancelled() => return,
        }
        tokio::time::sleep(presence.window).await;
        let changes: Vec<PresenceChanged> = presence
            .pending
            .lock()
            .expect("presence lock poisoned")
            .drain()
            .map(|(_, c)| c)
            .collect();
        for c in changes {
            let frame = super::events::encode(&NotificationServerFrame::Presence {
                user_id: c.user_id,
                username: c.username,
                online: c.online,
                last_seen_at: c.last_seen_at,
            });
            presence.hub.push_all(&frame);
        }
    }
}

/// Publishes claims (`user.online`) and releases (`user.offline`) in the order the sockets
/// opened and closed: one task, so a release can never overtake the claim that followed it.
/// Not through the outbox: if the bus is down, the next heartbeat states the claims anyway.
pub async fn announce(gateway: Gateway, mut changes: mpsc::UnboundedReceiver<(UserId, bool)>) {
    // The gateway this task holds keeps the channel's sender alive, so the channel never ends
    // by itself: stop on shutdown (the last heartbeat then releases every user at once).
    loop {
        let change = tokio::select! {
            change = changes.recv() => change,
            _ = gateway.shutdown.cancelled() => None,
        };
        let Some((user_id, online)) = change else {
            return;
        };
        let (instance, at) = (gateway.instance.to_string(), chrono::Utc::now());
        if online {
            gateway
                .bus
                .publish_ephemeral(&UserOnline { user_id, instance, at })
                .await;
        } else {
            gateway
                .bus
                .publish_ephemeral(&UserOffline { user_id, instance, at })
                .await;
        }
    }
}

/// Beats every `interval` with the users this instance holds, until shutdown; then releases
/// them all, so a clean stop does not wait for the timeout.
pub async fn heartbeat(gateway: Gateway, interval: Duration) {
    let mut tick = tokio::time::interval(interval);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = gateway.shutdown.cancelled() => break,
        }
        let beat = PresenceHeartbeat {
            instance: gateway.instance.to_string(),
            at: chrono::Utc::now(),
            users: gateway.hub.users(),
        };
        gateway.bus.publish_ephemeral(&beat).await;
    }
    let last = PresenceHeartbeat {
        instance: gateway.instance.to_string(),
        at: chrono::Utc::now(),
        users: Vec::new(),
    };
    if let Ok(confirm) = gateway.bus.publish_now(&last).await {
        let _ = tokio::time::timeout(Duration::from_secs(1), confirm).await;
    }
}
