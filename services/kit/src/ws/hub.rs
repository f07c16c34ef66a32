//! The open sockets of one instance, by user.
//!
//! A push serializes a frame once and hands the same bytes to every socket. Each socket has a
//! small bounded queue; a socket whose queue is full (its client stopped reading) is dropped
//! from the hub, which closes it, and never slows anyone else down.

use axum::extract::ws::Utf8Bytes;
use gochat_proto::ids::UserId;
use std::collections::HashMap;
use std::sync::RwLock;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::sync::mpsc;

/// One open socket: its id in the hub and the sending end of its queue.
type SocketQueue = (u64, mpsc::Sender<Utf8Bytes>);

pub struct Hub {
    /// Socket path, for the open-sockets gauge.
    path: &'static str,
    sockets: RwLock<HashMap<UserId, Vec<SocketQueue>>>,
    next_id: AtomicU64,
}

/// A socket's place in the hub.
pub struct Membership {
    pub id: u64,
    pub queue: mpsc::Receiver<Utf8Bytes>,
    /// This is the user's first open socket on this instance.
    pub first: bool,
}

impl Hub {
    pub fn new(path: &'static str) -> Self {
        Self {
            path,
            sockets: RwLock::default(),
            next_id: AtomicU64::new(0),
        }
    }

    /// Registers a socket of `user` with a queue of `queue_len` frames.
    pub fn join(&self, user: UserId, queue_len: usize) -> Membership {
        let (tx, queue) = mpsc::channel(queue_len);
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let mut sockets = self.sockets.write().expect("hub lock poisoned");
        let list = sockets.entry(user).or_default();
        let first = list.is_empty();
        list.push((id, tx));
        metrics::gauge!("gochat_open_sockets", "path" => self.path).increment(1.0);
        Membership { id, queue, first }
    }

    /// Removes a socket; true when it was the user's last one on this instance.
    pub fn leave(&self, user: UserId, id: u64) -> bool {
        metrics::gauge!("gochat_open_sockets", "path" => self.path).decrement(1.0);
        let mut sockets = self.sockets.write().expect("hub lock poisoned");
        let Some(list) = sockets.get_mut(&user) else {
            return true;
        };
        list.retain(|(sid, _)| *sid != id);
        let last = list.is_empty();
        if last {
            sockets.remove(&user);
        }
        last
    }

    /// Users with at least one open socket here.
    pub fn users(&self) -> Vec<UserId> {
        self.sockets
            .read()
            .expect("hub lock poisoned")
            .keys()
            .copied()
            .collect()
    }

    /// Queues `frame` for every open socket.
    pub fn push_all(&self, frame: &Utf8Bytes) {
        let users = self.users();
        self.push(&users, frame);
    }

    /// Queues `frame` for every socket of every user in `users`.
    pub fn push<'a>(&self, users: impl IntoIterator<Item = &'a UserId>, frame: &Utf8Bytes) {
        self.send(users, |_| true, frame);
    }

    /// Queues `frame` for one socket of `user` (the one a request came from).
    pub fn push_to_socket(&self, user: &UserId, socket: u64, frame: &Utf8Bytes) {
        self.send([user], |id| id == socket, frame);
    }

    fn send<'a>(&self, users: impl IntoIterator<Item = &'a UserId>, chosen: impl Fn(u64) -> bool, frame: &Utf8Bytes) {
        let mut stuck = Vec::new();
        {
            let sockets = self.sockets.read().expect("hub lock poisoned");
            for user in users {
                for (id, tx) in sockets.get(user).into_iter().flatten() {
                    if chosen(*id) && tx.try_send(frame.clone()).is_err() {
                        stuck.push((*user, *id));
                    }
                }
            }
        }
        if !stuck.is_empty() {
            let mut sockets = self.sockets.write().expect("hub lock poisoned");
            for (user, id) in stuck {
                tracing::info!(%user, path = self.path, "closing a socket that stopped reading");
                if let Some(list) = sockets.get_mut(&user) {
                    // Dropping the sender ends the socket's queue, and its task closes it.
                    list.retain(|(sid, _)| *sid != id);
                }
            }
        }
    }
}
