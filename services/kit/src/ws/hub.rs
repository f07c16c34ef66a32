//! The open sockets of one instance, by user.
//!
//! A push serializes a frame once and hands the same bytes to every socket. Each socket has a
//! small bounded queue; a socket whose queue is full (its client stopped reading) is dropped
//! from the hub, which closes it, and never slows anyone else down, unless the frame is one that
//! may be dropped (typing), which is then skipped for that socket instead.
//!
//! A user may hold a bounded number of sockets on one instance, and their sockets share one
//! budget of frames per second: past it, their sockets are read more slowly (never closed), so
//! one user cannot make the server work for everyone else's share.

use axum::extract::ws::Utf8Bytes;
use gochat_proto::ids::UserId;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::Instant;

/// A frame in sockets' queues: one allocation shared by every socket it is queued for, and a
/// pointer in each queue. A queue's first block (32 slots) is allocated with it, used or not:
/// 256 bytes of pointers instead of 1 KiB of `Utf8Bytes` on every idle socket.
pub type Queued = Arc<Utf8Bytes>;

/// One open socket: its id in the hub and the sending end of its queue.
type SocketQueue = (u64, mpsc::Sender<Queued>);

/// How much one user may hold and send on one instance.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Sockets one user may hold open at once.
    pub sockets_per_user: usize,
    /// Frames one user's sockets may send per second together, sustained; as many again may
    /// come in a burst.
    pub frames_per_second: u32,
    /// Frames queued for one socket before it is considered stuck and closed.
    pub queue: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            sockets_per_user: 32,
            frames_per_second: 1000,
            queue: 256,
        }
    }
}

pub struct Hub {
    /// Socket path, for the open-sockets gauge.
    path: &'static str,
    limits: Limits,
    users: RwLock<HashMap<UserId, UserSockets>>,
    next_id: AtomicU64,
}

struct UserSockets {
    sockets: Vec<SocketQueue>,
    budget: Arc<Budget>,
}

/// A socket's place in the hub, from before its upgrade is answered (so nothing pushed after
/// that is missed) until [`Membership::leave`], or until it is dropped (an upgrade that never
/// completed).
pub struct Membership {
    pub id: u64,
    pub user: UserId,
    pub queue: mpsc::Receiver<Queued>,
    /// This is the user's first open socket on this instance.
    pub first: bool,
    /// The frames the user's sockets may still send.
    pub budget: Arc<Budget>,
    hub: Arc<Hub>,
    left: bool,
}

impl Membership {
    /// Leaves the hub; true when this was the user's last socket on this instance.
    pub fn leave(mut self) -> bool {
        self.left = true;
        self.hub.remove(self.user, self.id)
    }
}

impl Drop for Membership {
    fn drop(&mut self) {
        if !self.left {
            self.hub.remove(self.user, self.id);
        }
    }
}

/// The user already holds as many sockets as they may.
#[derive(Debug)]
pub struct TooManySockets;

impl Hub {
    pub fn new(path: &'static str, limits: Limits) -> Self {
        // Shown from the start at 0, not only once a socket opened.
        metrics::gauge!("gochat_open_sockets", "path" => path).increment(0.0);
        Self {
            path,
            limits,
            users: RwLock::default(),
            // From a random start, so that an instance started again under the same name does
            // not number its sockets as before: an event addressed to a socket of the earlier
            // run (a refusal, the answer to a resent message) then reaches none, not another
            // socket of the same user.
            next_id: AtomicU64::new(getrandom::u64().unwrap_or_else(|e| {
                tracing::warn!(error = %e, "no random start for socket ids: counting from 0");
                0
            })),
        }
    }

    /// Registers a socket of `user`.
    pub fn join(self: &Arc<Self>, user: UserId) -> Result<Membership, TooManySockets> {
        let (tx, queue) = mpsc::channel(self.limits.queue.max(1));
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let mut users = self.users.write().expect("hub lock poisoned");
        let entry = users.entry(user).or_insert_with(|| UserSockets {
            sockets: Vec::new(),
            budget: Arc::new(Budget::new(self.limits.frames_per_second)),
        });
        if entry.sockets.len() >= self.limits.sockets_per_user {
            return Err(TooManySockets);
        }
        let first = entry.sockets.is_empty();
        entry.sockets.push((id, tx));
        metrics::gauge!("gochat_open_sockets", "path" => self.path).increment(1.0);
        Ok(Membership {
            id,
            user,
            queue,
            first,
            budget: entry.budget.clone(),
            hub: self.clone(),
            left: false,
        })
    }

    /// Removes a socket; true when it was the user's last one on this instance.
    fn remove(&self, user: UserId, id: u64) -> bool {
        metrics::gauge!("gochat_open_sockets", "path" => self.path).decrement(1.0);
        let mut users = self.users.write().expect("hub lock poisoned");
        let Some(entry) = users.get_mut(&user) else {
            return true;
        };
        entry.sockets.retain(|(sid, _)| *sid != id);
        let last = entry.sockets.is_empty();
        if last {
            users.remove(&user);
        }
        last
    }

    /// Users with at least one open socket here.
    pub fn users(&self) -> Vec<UserId> {
        self.users.read().expect("hub lock poisoned").keys().copied().collect()
    }

    /// Queues `frame` for every open socket.
    pub fn push_all(&self, frame: &Utf8Bytes) {
        let users = self.users();
        self.push(&users, frame);
    }

    /// Queues `frame` for every socket of every user in `users`.
    pub fn push<'a>(&self, users: impl IntoIterator<Item = &'a UserId>, frame: &Utf8Bytes) {
        self.send(users, |_| true, frame, true);
    }

    /// Queues `frame` for every socket of `users` that has room for it, skipping (not closing)
    /// the others: for frames that are worth nothing late (typing).
    pub fn push_droppable<'a>(&self, users: impl IntoIterator<Item = &'a UserId>, frame: &Utf8Bytes) {
        self.send(users, |_| true, frame, false);
    }

    /// Queues `frame` for one socket of `user` (the one a request came from).
    pub fn push_to_socket(&self, user: &UserId, socket: u64, frame: &Utf8Bytes) {
        self.send([user], |id| id == socket, frame, true);
    }

    fn send<'a>(
        &self,
        users: impl IntoIterator<Item = &'a UserId>,
        chosen: impl Fn(u64) -> bool,
        frame: &Utf8Bytes,
        close_stuck: bool,
    ) {
        let mut stuck = Vec::new();
        let frame = Arc::new(frame.clone());
        {
            let all = self.users.read().expect("hub lock poisoned");
            for user in users {
                for (id, tx) in all.get(user).map(|u| u.sockets.as_slice()).unwrap_or_default() {
                    if chosen(*id) && tx.try_send(Arc::clone(&frame)).is_err() && close_stuck {
                        stuck.push((*user, *id));
                    }
                }
            }
        }
        if !stuck.is_empty() {
            let mut all = self.users.write().expect("hub lock poisoned");
            for (user, id) in stuck {
                tracing::info!(%user, path = self.path, "closing a socket that stopped reading");
                if let Some(entry) = all.get_mut(&user) {
                    // Dropping the sender ends the socket's queue, and its task closes it.
                    entry.sockets.retain(|(sid, _)| *sid != id);
                }
            }
        }
    }
}

/// A token bucket: `rate` frames a second, as many again in a burst.
pub struct Budget {
    rate: f64,
    state: Mutex<(f64, Instant)>,
}

impl Budget {
    fn new(per_second: u32) -> Self {
        let rate = f64::from(per_second.max(1));
        Self {
            rate,
            state: Mutex::new((rate, Instant::now())),
        }
    }

    /// Takes one frame's worth; when none is left, says when there will be one.
    pub fn take(&self) -> Result<(), Instant> {
        let now = Instant::now();
        let mut state = self.state.lock().expect("budget lock poisoned");
        let (tokens, since) = *state;
        let tokens = (tokens + now.duration_since(since).as_secs_f64() * self.rate).min(self.rate);
        if tokens >= 1.0 {
            *state = (tokens - 1.0, now);
            Ok(())
        } else {
            *state = (tokens, now);
            Err(now + Duration::from_secs_f64((1.0 - tokens) / self.rate))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hub(sockets: usize, queue: usize) -> Arc<Hub> {
        Arc::new(Hub::new(
            "/test",
            Limits {
                sockets_per_user: sockets,
                frames_per_second: 10,
                queue,
            },
        ))
    }

    #[test]
    fn a_user_holds_at_most_the_allowed_sockets() {
        let hub = hub(2, 4);
        let user = UserId::new();
        let a = hub.join(user).unwrap();
        assert!(a.first);
        let b = hub.join(user).unwrap();
        assert!(!b.first);
        assert!(hub.join(user).is_err());
        assert!(hub.join(UserId::new()).is_ok(), "others are not affected");
        assert!(!a.leave());
        let c = hub.join(user).expect("a closed socket frees its place");
        drop(c);
        assert!(hub.join(user).is_ok(), "so does one whose upgrade never completed");
        assert!(b.leave(), "the last one");
    }

    #[tokio::test]
    async fn a_full_queue_closes_the_socket_unless_the_frame_may_be_dropped() {
        let hub = hub(4, 1);
        let (slow, fine) = (UserId::new(), UserId::new());
        let mut stuck = hub.join(slow).unwrap();
        let mut reader = hub.join(fine).unwrap();
        let frame = Utf8Bytes::from_static("x");
        hub.push([&slow, &fine], &frame);
        assert_eq!(*reader.queue.recv().await.unwrap(), frame);
        hub.push_droppable([&slow], &frame);
        hub.push_droppable([&slow], &frame);
        assert_eq!(
            *stuck.queue.recv().await.unwrap(),
            frame,
            "still open after dropped typing"
        );
        hub.push([&slow], &frame);
        hub.push([&slow], &frame);
        assert_eq!(*stuck.queue.recv().await.unwrap(), frame);
        assert!(
            stuck.queue.recv().await.is_none(),
            "closed once a frame that matters could not be queued"
        );
    }

    #[test]
    fn socket_ids_do_not_start_over_with_a_new_hub() {
        let user = UserId::new();
        let ids: std::collections::HashSet<u64> = (0..8).map(|_| hub(1, 1).join(user).unwrap().id).collect();
        assert_eq!(ids.len(), 8, "{ids:?}");
    }

    #[test]
    fn the_budget_allows_a_burst_then_paces() {
        let budget = Budget::new(10);
        for _ in 0..10 {
            assert!(budget.take().is_ok());
        }
        let next = budget.take().expect_err("the burst is spent");
        let wait = next - Instant::now();
        assert!(wait <= Duration::from_millis(100), "{wait:?}");
    }
}
