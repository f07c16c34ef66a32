//! Who is in which conversation, as far as this instance has seen: learned from
//! `conversation.created` and `message.stored`, kept in moka and in the instance's SQLite file
//! so a restart remembers it. Used to fan typing out and to refuse typing into conversations
//! the user is not in.

use gochat_kit::db::{Db, DbError};
use gochat_proto::ids::{ConversationId, UserId};
use std::sync::Arc;

pub const MIGRATIONS: &[&str] = &["
CREATE TABLE conversation_members (
    conversation_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    PRIMARY KEY (conversation_id, user_id)
) WITHOUT ROWID;
"];

#[derive(Clone)]
pub struct Members {
    db: Db,
    cache: moka::sync::Cache<ConversationId, Arc<[UserId]>>,
}

impl Members {
    pub fn new(db: Db) -> Self {
        Self {
            db,
            cache: moka::sync::Cache::new(100_000),
        }
    }

    /// Records the members of a conversation (once per conversation and instance lifetime).
    pub async fn remember(&self, conversation: ConversationId, members: &[UserId]) -> Result<(), DbError> {
        if self.cache.contains_key(&conversation) {
            return Ok(());
        }
        let owned: Vec<UserId> = members.to_vec();
        self.db
            .write(move |w| {
                let mut stmt = w.prepare_cached(
                    "INSERT OR IGNORE INTO conversation_members (conversation_id, user_id) VALUES (?1, ?2)",
                )?;
                for user in &owned {
                    stmt.execute([conversation.to_string(), user.to_string()])?;
                }
                Ok::<_, DbError>(())
            })
            .await?;
        self.cache.insert(conversation, members.into());
        Ok(())
    }

    /// The members of a conversation, if this instance knows it.
    pub async fn of(&self, conversation: ConversationId) -> Result<Option<Arc<[UserId]>>, DbError> {
        if let Some(members) = self.cache.get(&conversation) {
            return Ok(Some(members));
        }
        let stored = self
            .db
            .read(move |c| {
                let mut stmt =
                    c.prepare_cached("SELECT user_id FROM conversation_members WHERE conversation_id = ?1")?;
                let ids = stmt
                    .query_map([conversation.to_string()], |r| r.get::<_, String>(0))?
                    .filter_map(|id| id.ok()?.parse().ok())
                    .collect::<Vec<UserId>>();
                Ok::<_, DbError>(ids)
            })
            .await?;
        if stored.is_empty() {
            return Ok(None);
        }
        let members: Arc<[UserId]> = stored.into();
        self.cache.insert(conversation, members.clone());
        Ok(Some(members))
    }
}
