//! Presence: a user is online while some notifications instance holds a socket of theirs.
//!
//! Instances claim users (`user.online`), release them (`user.offline`) and beat
//! (`presence.heartbeat`, listing the users they hold, so a lost claim heals at the next beat).
//! An instance whose beats stop is presumed dead and its claims are dropped by the sweeper, so
//! a crashed node does not leave its users online forever.
//!
//! Liveness (who holds whom, when each instance last beat) changes every few seconds and is
//! worthless after a restart (the beats restate it within one period), so it lives in memory:
//! [`Liveness`]. Only what matters beyond the process is written: a user's transition between
//! online and offline (last seen on going offline), announced as `presence.changed` through the
//! outbox. An idle server with users online therefore writes nothing to disk.

use crate::directory;
use gochat_kit::db::Write;
use gochat_proto::events::PresenceChanged;
use gochat_proto::ids::UserId;
use rusqlite::OptionalExtension;
use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;

/// The tables presence used when claims were stored; liveness is in memory now.
pub const DROP_STORED_CLAIMS: &str = "
DROP TABLE presence_claims;
DROP TABLE presence_instances;
";

pub const MIGRATION: &str = "
CREATE TABLE presence_claims (
    user_id TEXT NOT NULL,
    instance TEXT NOT NULL,
    PRIMARY KEY (user_id, instance)
) WITHOUT ROWID;
CREATE INDEX presence_claims_by_instance ON presence_claims (instance);
CREATE TABLE presence_instances (
    instance TEXT PRIMARY KEY,
    -- unix milliseconds of the last heartbeat or claim
    last_beat INTEGER NOT NULL
) WITHOUT ROWID;
";

/// Which users each notifications instance holds, and when it last beat.
#[derive(Default)]
pub struct Liveness {
    instances: HashMap<String, Instance>,
}

#[derive(Default)]
struct Instance {
    users: BTreeSet<UserId>,
    /// Unix milliseconds of the last heartbeat or claim.
    last_beat_ms: i64,
}

impl Liveness {
    /// Applies a claim; returns the users whose presence may have changed.
    pub fn claim(&mut self, user: UserId, instance: &str, now_ms: i64) -> Vec<UserId> {
        let was = self.is_online(user);
        let entry = self.instances.entry(instance.to_owned()).or_default();
        entry.last_beat_ms = now_ms;
        entry.users.insert(user);
        flipped(was, self.is_online(user), user)
    }

    pub fn release(&mut self, user: UserId, instance: &str) -> Vec<UserId> {
        let was = self.is_online(user);
        if let Some(entry) = self.instances.get_mut(instance) {
            entry.users.remove(&user);
        }
        flipped(was, self.is_online(user), user)
    }

    /// An instance is alive and holds exactly `users`.
    pub fn heartbeat(&mut self, instance: &str, users: &[UserId], now_ms: i64) -> Vec<UserId> {
        let held: BTreeSet<UserId> = users.iter().copied().collect();
        let before = self
            .instances
            .get(instance)
            .map(|i| i.users.clone())
            .unwrap_or_default();
        let touched: Vec<UserId> = held.symmetric_difference(&before).copied().collect();
        let was: Vec<bool> = touched.iter().map(|u| self.is_online(*u)).collect();
        let entry = self.instances.entry(instance.to_owned()).or_default();
        entry.last_beat_ms = now_ms;
        entry.users = held;
        self.changed(touched, was)
    }

    /// Forgets the instances silent since `cutoff_ms`; returns the users whose presence may
    /// have changed.
    pub fn sweep(&mut self, cutoff_ms: i64) -> Vec<UserId> {
        let silent: Vec<String> = self
            .instances
            .iter()
            .filter(|(_, i)| i.last_beat_ms < cutoff_ms)
            .map(|(name, _)| name.clone())
            .collect();
        let mut touched = BTreeSet::new();
        for name in silent {
            if let Some(instance) = self.instances.remove(&name) {
                tracing::warn!(
                    instance = name,
                    "presence instance stopped beating; its users go offline"
                );
                touched.extend(instance.users);
            }
        }
        // Users of a silent instance may still be held by another one.
        touched.into_iter().filter(|u| !self.is_online(*u)).collect()
    }

    /// Every user some instance holds.
    pub fn online_users(&self) -> BTreeSet<UserId> {
        self.instances.values().flat_map(|i| i.users.iter().copied()).collect()
    }

    pub fn is_online(&self, user: UserId) -> bool {
        self.instances.values().any(|i| i.users.contains(&user))
    }

    fn changed(&self, users: Vec<UserId>, was: Vec<bool>) -> Vec<UserId> {
        users
            .into_iter()
            .zip(was)
            .filter(|(u, was)| self.is_online(*u) != *was)
            .map(|(u, _)| u)
            .collect()
    }
}

fn flipped(was: bool, is: bool, user: UserId) -> Vec<UserId> {
    if was == is { Vec::new() } else { vec![user] }
}

/// Brings each user's stored `online` in line with `liveness` (read now, on the writer thread, so
/// writes queued in any order still end at the latest state); writes and announces only real
/// transitions, and returns them.
pub fn settle(
    w: &mut Write<'_>,
    users: impl IntoIterator<Item = UserId>,
    liveness: &Mutex<Liveness>,
) -> rusqlite::Result<Vec<(UserId, bool)>> {
    let mut written = Vec::new();
    for user in users {
        let current: Option<(bool, String)> = w
            .prepare_cached("SELECT online, username FROM users WHERE id = ?1")?
            .query_row([user.to_string()], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        // A claim may arrive before the user's registration; the directory row comes later.
        let Some((was_online, username)) = current else {
            continue;
        };
        let online = liveness.lock().expect("liveness lock poisoned").is_online(user);
        if online == was_online {
            continue;
        }
        let last_seen_at = (!online).then(chrono::Utc::now);
        directory::set_presence(w, user, online, last_seen_at)?;
        let last_seen_at = directory::last_seen(w, user)?;
        w.publish(&PresenceChanged {
            user_id: user,
            username,
            online,
            last_seen_at,
        })?;
        written.push((user, online));
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_user_is_online_while_any_instance_holds_them() {
        let (alice, bob) = (UserId::new(), UserId::new());
        let mut live = Liveness::default();
        assert_eq!(live.claim(alice, "a", 0), [alice]);
        assert_eq!(live.claim(alice, "b", 0), [], "already online");
        assert_eq!(live.release(alice, "a"), []);
        assert!(live.is_online(alice));
        assert_eq!(live.release(alice, "b"), [alice]);
        assert!(!live.is_online(alice));
        // A heartbeat states everything an instance holds: claims it lists, drops the rest.
        live.claim(alice, "a", 0);
        let mut changed = live.heartbeat("a", &[bob], 10);
        changed.sort();
        let mut want = vec![alice, bob];
        want.sort();
        assert_eq!(changed, want);
        assert_eq!(
            live.heartbeat("a", &[bob], 20),
            [],
            "the same beat again changes nothing"
        );
    }

    #[test]
    fn silent_instances_lose_their_users_unless_another_holds_them() {
        let (alice, bob) = (UserId::new(), UserId::new());
        let mut live = Liveness::default();
        live.heartbeat("dead", &[alice, bob], 0);
        live.heartbeat("alive", &[bob], 100);
        assert_eq!(live.sweep(50), [alice]);
        assert!(live.is_online(bob));
        assert_eq!(live.sweep(50), [], "an instance is swept once");
    }
}
