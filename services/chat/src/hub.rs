//! The open sockets of this instance, by user.
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

#[derive(Default)]
pub struct Hub {
    sockets: RwLock<HashMap<UserId, Vec<SocketQueue>>>,
    next_id: AtomicU64,
}

impl Hub {
    /// Registers a socket of `user`; returns its id and the queue it sends from.
    pub fn join(&self, user: UserId, queue_len: usize) -> (u64, mpsc::Receiver<Utf8Bytes>) {
        let (tx, rx) = mpsc::channel(queue_len);
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        self.sockets
            .write()
            .expect("hub lock poisoned")
            .entry(user)
            .or_default()
            .push((id, tx));
        metrics::gauge!("gochat_open_sockets", "path" => "/ws/chat").increment(1.0);
        (id, rx)
    }

    pub fn leave(&self, user: UserId, id: u64) {
        let mut sockets = self.sockets.write().expect("hub lock poisoned");
        if let Some(list) = sockets.get_mut(&user) {
            list.retain(|(sid, _)| *sid != id);
            if list.is_empty() {
                sockets.remove(&user);
            }
        }
        metrics::gauge!("gochat_open_sockets", "path" => "/ws/chat").decrement(1.0);
    }

    /// Queues `frame` for every socket of every user in `users`.
    pub fn push<'a>(&self, users: impl IntoIterator<Item = &'a UserId>, frame: &Utf8Bytes) {
        let mut stuck = Vec::new();
        {
            let sockets = self.sockets.read().expect("hub lock poisoned");
            for user in users {
                for (id, tx) in sockets.get(user).into_iter().flatten() {
                    if tx.try_send(frame.clone()).is_err() {
                        stuck.push((*user, *id));
                    }
                }
            }
        }
        if !stuck.is_empty() {
            let mut sockets = self.sockets.write().expect("hub lock poisoned");
            for (user, id) in stuck {
                tracing::info!(%user, "closing a socket that stopped reading");
                if let Some(list) = sockets.get_mut(&user) {
                    // Dropping the sender ends the socket's queue, and the socket task closes it.
                    list.retain(|(sid, _)| *sid != id);
                }
            }
        }
    }
}
