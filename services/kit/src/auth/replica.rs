//! This instance's copy of the session ledger: which sessions are revoked and which accounts are
//! disabled, kept in memory for every request, stored in the service's database for restarts,
//! and kept complete even across broker outages.
//!
//! The auth service numbers every change (`seq`, within an `epoch` that names its ledger). Live
//! events (`user.signed_out`, and the access changes `user.disabled`, `user.enabled` and
//! `user.sessions_revoked`) reach the instance's fan-out queue while it is connected; the
//! `cursor` is the last `seq` up to which nothing was missed.
//! An instance that was disconnected (its exclusive queue vanished with the connection, and with
//! it what was routed meanwhile), or that is new, learns from auth's periodic `sessions.head`
//! that it is behind, asks for what follows its cursor (`sessions.replay_requested`) and applies
//! the answer (`sessions.replayed`). Services still share only events.

use super::SessionEnd;
use super::watch::Watchers;
use crate::bus::Bus;
use crate::db::{Db, DbError, Write};
use gochat_proto::admin::{
    AccountAccess, LedgerChange, SessionsHead, SessionsReplayRequested, SessionsReplayed, UserDisabled, UserEnabled,
    UserSessionsRevoked,
};
use gochat_proto::events::Event;
use gochat_proto::ids::UserId;
use rusqlite::OptionalExtension;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

/// Tables of the replica, beside `revoked_tokens` (which every service database has).
const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS session_access (
    user_id TEXT PRIMARY KEY,
    disabled INTEGER NOT NULL,
    -- unix seconds: sessions issued at or before it are refused
    sessions_before INTEGER NOT NULL
) WITHOUT ROWID;
-- one row: which ledger this replica follows, and how far it is complete
CREATE TABLE IF NOT EXISTS session_sync (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    epoch TEXT NOT NULL,
    cursor INTEGER NOT NULL
);
";

/// How long an unanswered replay request waits before it is asked again.
const ASK_AGAIN: Duration = Duration::from_secs(5);

/// An account's access as the replica knows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Access {
    disabled: bool,
    /// Unix seconds; sessions with `iat` up to and including it are refused. Seconds are all a
    /// token's `iat` has, so a session issued within the very second of the disabling is refused
    /// too (its owner signs in again): never one too few.
    sessions_before: i64,
}

impl From<&AccountAccess> for Access {
    fn from(a: &AccountAccess) -> Self {
        Self {
            disabled: a.disabled,
            sessions_before: a.sessions_before.timestamp(),
        }
    }
}

/// How far the replica follows the ledger.
#[derive(Default)]
struct Progress {
    epoch: String,
    cursor: i64,
    /// The last `seq` auth announced.
    head: i64,
    /// The cursor a replay was last asked from, and when.
    asked: Option<(i64, Instant)>,
}

pub(super) struct Replica {
    db: Db,
    bus: Bus,
    /// jti → the token's expiry (unix seconds); entries vanish once the token is expired anyway.
    revoked: moka::sync::Cache<String, i64>,
    access: RwLock<HashMap<UserId, Access>>,
    progress: Mutex<Progress>,
    pub(super) sessions: Arc<Watchers<String>>,
    pub(super) users: Arc<Watchers<UserId>>,
}

struct UntilTokenExpiry;

impl moka::Expiry<String, i64> for UntilTokenExpiry {
    fn expire_after_create(&self, _jti: &String, expires_at: &i64, _now: std::time::Instant) -> Option<Duration> {
        let left = expires_at - chrono::Utc::now().timestamp();
        Some(Duration::from_secs(left.max(0) as u64 + 60))
    }
}

/// What the database holds at start.
struct Stored {
    revoked: Vec<(String, i64)>,
    access: Vec<(UserId, Access)>,
    epoch: String,
    cursor: i64,
}

impl Replica {
    /// Creates the replica's tables when missing and loads what they hold.
    pub(super) async fn load(db: &Db, bus: &Bus) -> anyhow::Result<Self> {
        db.write(|w| w.execute_batch(SCHEMA).map_err(DbError::from)).await?;
        let stored = db
            .read(|c| -> Result<Stored, DbError> {
                let mut revoked =
                    c.prepare("SELECT jti, expires_at FROM revoked_tokens WHERE expires_at > unixepoch()")?;
                let revoked = revoked
                    .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                    .collect::<Result<_, _>>()?;
                let mut access = c.prepare("SELECT user_id, disabled, sessions_before FROM session_access")?;
                let access = access
                    .query_map([], |r| {
                        let id: String = r.get(0)?;
                        let access = Access {
                            disabled: r.get(1)?,
                            sessions_before: r.get(2)?,
                        };
                        Ok(id.parse().ok().map(|id| (id, access)))
                    })?
                    .filter_map(Result::transpose)
                    .collect::<Result<_, _>>()?;
                let (epoch, cursor) = c
                    .query_row("SELECT epoch, cursor FROM session_sync WHERE id = 1", [], |r| {
                        Ok((r.get(0)?, r.get(1)?))
                    })
                    .optional()?
                    .unwrap_or_default();
                Ok(Stored {
                    revoked,
                    access,
                    epoch,
                    cursor,
                })
            })
            .await?;
        let revoked = moka::sync::Cache::builder()
            .max_capacity(1_000_000)
            .expire_after(UntilTokenExpiry)
            .build();
        for (jti, expires_at) in stored.revoked {
            revoked.insert(jti, expires_at);
        }
        Ok(Self {
            db: db.clone(),
            bus: bus.clone(),
            revoked,
            access: RwLock::new(stored.access.into_iter().collect()),
            progress: Mutex::new(Progress {
                epoch: stored.epoch,
                cursor: stored.cursor,
                ..Default::default()
            }),
            sessions: Arc::default(),
            users: Arc::default(),
        })
    }

    /// Why a session is refused, if it is.
    pub(super) fn refusal(&self, user: UserId, jti: &str, issued_at: i64) -> Option<SessionEnd> {
        if self.revoked.contains_key(jti) {
            return Some(SessionEnd::Revoked);
        }
        let access = *self.access.read().expect("access lock poisoned").get(&user)?;
        if access.disabled {
            Some(SessionEnd::Disabled)
        } else if issued_at <= access.sessions_before {
            Some(SessionEnd::Revoked)
        } else {
            None
        }
    }

    /// Applies one event of the instance's `sessions` queue.
    pub(super) async fn apply(&self, event: Event) -> anyhow::Result<()> {
        match event {
            Event::UserSignedOut(e) => {
                let change = LedgerChange::Revoked {
                    user_id: e.user_id,
                    jti: e.jti,
                    expires_at: e.expires_at,
                };
                self.apply_live(e.seq, change).await
            }
            Event::UserDisabled(UserDisabled { access, seq })
            | Event::UserEnabled(UserEnabled { access, seq })
            | Event::UserSessionsRevoked(UserSessionsRevoked { access, seq, .. }) => {
                self.apply_live(seq, LedgerChange::Access(access)).await
            }
            Event::SessionsHead(head) => self.on_head(head).await,
            Event::SessionsReplayed(replay) => self.on_replay(replay).await,
            _ => Ok(()),
        }
    }

    /// Within a write of the auth service: revokes a session here at once (its event follows).
    pub(super) fn revoke_in(&self, w: &Write<'_>, jti: &str, expires_at: i64) -> rusqlite::Result<()> {
        store_revocation(w, jti, expires_at)?;
        self.remember_revoked(jti, expires_at);
        Ok(())
    }

    /// Within a write of the auth service: sets an account's access here at once.
    pub(super) fn set_access_in(&self, w: &Write<'_>, access: &AccountAccess) -> rusqlite::Result<()> {
        store_access(w, access)?;
        self.remember_access(access);
        Ok(())
    }

    /// A change as it happens. It moves the cursor only when it is the very next one.
    async fn apply_live(&self, seq: i64, change: LedgerChange) -> anyhow::Result<()> {
        let next = {
            let progress = self.progress();
            (seq > 0 && seq == progress.cursor + 1).then(|| progress.epoch.clone())
        };
        let stored = change.clone();
        let epoch = next.clone();
        self.db
            .write(move |w| -> Result<(), DbError> {
                store_change(w, &stored)?;
                if let Some(epoch) = &epoch {
                    store_progress(w, epoch, seq)?;
                }
                Ok(())
            })
            .await?;
        self.remember(&change);
        if next.is_some() {
            self.progress().cursor = seq;
        }
        Ok(())
    }

    async fn on_head(&self, head: SessionsHead) -> anyhow::Result<()> {
        let reset = {
            let mut progress = self.progress();
            progress.head = head.seq;
            // Another ledger (a new auth database), or one that went back (restored from a
            // backup): follow it from its start.
            (progress.epoch != head.epoch || head.seq < progress.cursor).then(|| {
                progress.epoch = head.epoch.clone();
                progress.cursor = 0;
                progress.asked = None;
            })
        };
        if reset.is_some() {
            let epoch = head.epoch.clone();
            self.db
                .write(move |w| store_progress(w, &epoch, 0).map_err(DbError::from))
                .await?;
        }
        self.ask_if_behind().await;
        Ok(())
    }

    async fn on_replay(&self, replay: SessionsReplayed) -> anyhow::Result<()> {
        let cursor = {
            let progress = self.progress();
            // Any instance's answer will do, as long as it starts where this replica stands.
            let usable =
                replay.epoch == progress.epoch && replay.after <= progress.cursor && replay.through > progress.cursor;
            if !usable {
                return Ok(());
            }
            progress.cursor
        };
        let changes: Vec<LedgerChange> = replay
            .entries
            .into_iter()
            .filter(|e| e.seq > cursor)
            .map(|e| e.change)
            .collect();
        let (stored, epoch, through) = (changes.clone(), replay.epoch, replay.through);
        self.db
            .write(move |w| -> Result<(), DbError> {
                for change in &stored {
                    store_change(w, change)?;
                }
                store_progress(w, &epoch, through)?;
                Ok(())
            })
            .await?;
        for change in &changes {
            self.remember(change);
        }
        {
            let mut progress = self.progress();
            progress.cursor = through;
            progress.asked = None;
        }
        // A long ledger comes in several answers.
        self.ask_if_behind().await;
        Ok(())
    }

    /// Asks for what follows the cursor when auth announced more, unless that was just asked.
    async fn ask_if_behind(&self) {
        let request = {
            let mut progress = self.progress();
            let waiting = progress
                .asked
                .is_some_and(|(after, at)| after == progress.cursor && at.elapsed() < ASK_AGAIN);
            if progress.head <= progress.cursor || waiting || progress.epoch.is_empty() {
                return;
            }
            progress.asked = Some((progress.cursor, Instant::now()));
            SessionsReplayRequested {
                epoch: progress.epoch.clone(),
                after: progress.cursor,
            }
        };
        self.bus.publish_ephemeral(&request).await;
    }

    fn progress(&self) -> std::sync::MutexGuard<'_, Progress> {
        self.progress.lock().expect("replica progress lock poisoned")
    }

    fn remember(&self, change: &LedgerChange) {
        match change {
            LedgerChange::Revoked { jti, expires_at, .. } => self.remember_revoked(jti, expires_at.timestamp()),
            LedgerChange::Access(access) => self.remember_access(access),
        }
    }

    fn remember_revoked(&self, jti: &str, expires_at: i64) {
        self.revoked.insert(jti.to_owned(), expires_at);
        self.sessions.notify(&jti.to_owned());
    }

    fn remember_access(&self, access: &AccountAccess) {
        self.access
            .write()
            .expect("access lock poisoned")
            .insert(access.user_id, Access::from(access));
        self.users.notify(&access.user_id);
    }
}

fn store_change(w: &Write<'_>, change: &LedgerChange) -> rusqlite::Result<()> {
    match change {
        LedgerChange::Revoked { jti, expires_at, .. } => store_revocation(w, jti, expires_at.timestamp()),
        LedgerChange::Access(access) => store_access(w, access),
    }
}

fn store_revocation(w: &Write<'_>, jti: &str, expires_at: i64) -> rusqlite::Result<()> {
    w.execute(
        "INSERT OR IGNORE INTO revoked_tokens (jti, expires_at) VALUES (?1, ?2)",
        rusqlite::params![jti, expires_at],
    )?;
    w.execute("DELETE FROM revoked_tokens WHERE expires_at < unixepoch() - 60", [])?;
    Ok(())
}

fn store_access(w: &Write<'_>, access: &AccountAccess) -> rusqlite::Result<()> {
    let a = Access::from(access);
    w.execute(
        "INSERT INTO session_access (user_id, disabled, sessions_before) VALUES (?1, ?2, ?3)
         ON CONFLICT (user_id) DO UPDATE SET disabled = excluded.disabled, sessions_before = excluded.sessions_before",
        rusqlite::params![access.user_id.to_string(), a.disabled, a.sessions_before],
    )?;
    Ok(())
}

fn store_progress(w: &Write<'_>, epoch: &str, cursor: i64) -> rusqlite::Result<()> {
    w.execute(
        "INSERT INTO session_sync (id, epoch, cursor) VALUES (1, ?1, ?2)
         ON CONFLICT (id) DO UPDATE SET epoch = excluded.epoch, cursor = excluded.cursor",
        rusqlite::params![epoch, cursor],
    )?;
    Ok(())
}
