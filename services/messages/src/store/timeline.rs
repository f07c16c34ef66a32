//! A group's timeline events: what happened to it besides its messages (created, members added
//! or removed, someone left, renamed), each placed after the message that was the newest then.

use super::conversations;
use chrono::{DateTime, Utc};
use gochat_proto::dto::{TimelineEvent, TimelineKind};
use gochat_proto::ids::{ConversationId, UserId};
use rusqlite::{Connection, Row, params};

/// Records an event of `conversation` after its newest message. `None` when there is no such
/// conversation.
pub fn record(
    c: &Connection,
    conversation: ConversationId,
    kind: TimelineKind,
    actor: UserId,
    users: &[UserId],
    title: Option<&str>,
    at: DateTime<Utc>,
) -> rusqlite::Result<Option<TimelineEvent>> {
    let Some(head) = conversations::head(c, conversation)? else {
        return Ok(None);
    };
    let (num, after_seq) = (last_event(c, conversation)? + 1, head.last_seq);
    let user_ids = users.iter().map(UserId::to_string).collect::<Vec<_>>().join(" ");
    c.prepare_cached(
        "INSERT INTO timeline (conversation_id, num, after_seq, at, kind, actor_id, user_ids, title)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![
        conversation,
        num,
        after_seq,
        at,
        kind.as_str(),
        actor,
        user_ids,
        title
    ])?;
    Ok(Some(TimelineEvent {
        kind,
        actor_id: actor,
        user_ids: users.to_vec(),
        title: title.map(str::to_owned),
        after_seq,
        at,
    }))
}

/// The number of the newest event of `conversation` (0: none): cached history pages are
/// fresh while it stays.
pub fn last_event(c: &Connection, conversation: ConversationId) -> rusqlite::Result<i64> {
    c.prepare_cached("SELECT coalesce(max(num), 0) FROM timeline WHERE conversation_id = ?1")?
        .query_row([conversation], |r| r.get(0))
}

/// The events of `conversation` placed after messages `from..=to`, in the order they happened.
pub fn between(
    c: &Connection,
    conversation: ConversationId,
    from: i64,
    to: i64,
) -> rusqlite::Result<Vec<TimelineEvent>> {
    if from > to {
        return Ok(Vec::new());
    }
    c.prepare_cached(
        "SELECT after_seq, at, kind, actor_id, user_ids, title FROM timeline
         WHERE conversation_id = ?1 AND after_seq BETWEEN ?2 AND ?3 ORDER BY num",
    )?
    .query_map(params![conversation, from, to], event)?
    .collect()
}

fn event(r: &Row<'_>) -> rusqlite::Result<TimelineEvent> {
    let broken = |e: String| rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, e.into());
    let user_ids = r.get_ref("user_ids")?.as_str()?;
    Ok(TimelineEvent {
        kind: r.get_ref("kind")?.as_str()?.parse().map_err(broken)?,
        actor_id: r.get("actor_id")?,
        user_ids: user_ids
            .split_whitespace()
            .map(|id| {
                id.parse()
                    .map_err(|e| broken(format!("a user id in the timeline: {e}")))
            })
            .collect::<Result<_, _>>()?,
        title: r.get("title")?,
        after_seq: r.get("after_seq")?,
        at: r.get("at")?,
    })
}
