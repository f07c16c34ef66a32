//! Who is waiting for a session or an account to end: one cancellation token per watched key,
//! shared by every waiter of that key and forgotten when the last one goes.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex, Weak};
use tokio_util::sync::CancellationToken;

/// The waiters of one kind of key (a session's `jti`, or a user id).
pub struct Watchers<K: Eq + Hash + Clone> {
    waiting: Mutex<HashMap<K, Weak<CancellationToken>>>,
}

impl<K: Eq + Hash + Clone> Default for Watchers<K> {
    fn default() -> Self {
        Self {
            waiting: Mutex::default(),
        }
    }
}

impl<K: Eq + Hash + Clone> Watchers<K> {
    fn waiting(&self) -> std::sync::MutexGuard<'_, HashMap<K, Weak<CancellationToken>>> {
        self.waiting.lock().expect("watchers lock poisoned")
    }

    /// A handle that is cancelled at the next [`Self::notify`] of `key`.
    pub fn watch(self: &Arc<Self>, key: K) -> Watching<K> {
        let mut waiting = self.waiting();
        let token = match waiting.get(&key).and_then(Weak::upgrade) {
            Some(token) => token,
            None => {
                let token = Arc::new(CancellationToken::new());
                waiting.insert(key.clone(), Arc::downgrade(&token));
                token
            }
        };
        Watching {
            key,
            token,
            watchers: self.clone(),
        }
    }

    /// Wakes everyone watching `key`. Later watchers of the same key start afresh.
    pub fn notify(&self, key: &K) {
        let token = self.waiting().remove(key).and_then(|w| w.upgrade());
        if let Some(token) = token {
            token.cancel();
        }
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.waiting().len()
    }
}

/// One waiter's interest in a key.
pub struct Watching<K: Eq + Hash + Clone> {
    key: K,
    token: Arc<CancellationToken>,
    watchers: Arc<Watchers<K>>,
}

impl<K: Eq + Hash + Clone> Watching<K> {
    pub async fn notified(&self) {
        self.token.cancelled().await
    }
}

impl<K: Eq + Hash + Clone> Drop for Watching<K> {
    fn drop(&mut self) {
        let mut waiting = self.watchers.waiting();
        // The last waiter of this very token (not of a newer one for the same key) forgets it.
        let ours = waiting
            .get(&self.key)
            .is_some_and(|w| std::ptr::eq(w.as_ptr(), Arc::as_ptr(&self.token)));
        if ours && Arc::strong_count(&self.token) == 1 {
            waiting.remove(&self.key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn every_waiter_of_a_key_is_woken_and_nobody_else() {
        let watchers = Arc::new(Watchers::<String>::default());
        let (a1, a2, b) = (
            watchers.watch("a".into()),
            watchers.watch("a".into()),
            watchers.watch("b".into()),
        );
        watchers.notify(&"a".to_owned());
        a1.notified().await;
        a2.notified().await;
        assert!(!b.token.is_cancelled());
        // A new waiter of a notified key waits for the next notice.
        let again = watchers.watch("a".into());
        assert!(!again.token.is_cancelled());
    }

    #[test]
    fn keys_are_forgotten_when_their_last_waiter_goes() {
        let watchers = Arc::new(Watchers::<String>::default());
        let first = watchers.watch("a".into());
        let second = watchers.watch("a".into());
        assert_eq!(watchers.len(), 1);
        drop(first);
        assert_eq!(watchers.len(), 1);
        drop(second);
        assert_eq!(watchers.len(), 0);
        // A waiter of an already notified token does not remove its successor.
        let old = watchers.watch("a".into());
        watchers.notify(&"a".to_owned());
        let new = watchers.watch("a".into());
        drop(old);
        assert_eq!(watchers.len(), 1);
        drop(new);
        assert_eq!(watchers.len(), 0);
    }
}
