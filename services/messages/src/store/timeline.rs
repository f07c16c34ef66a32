//! A group's timeline events: what happened to it besides its messages (created, members added
//! or removed, someone left, renamed, the owner changed), each placed after the message that was
//! the newest then and numbered in the order they happened.

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
        num,
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
        "SELECT num, after_seq, at, kind, actor_id, user_ids, title FROM timeline
         WHERE conversation_id = ?1 AND after_seq BETWEEN ?2 AND ?3 ORDER BY num",
    )?
    .query_map(params![conversation, from, to], event)?
    .collect()
}

fn event(r: &Row<'_>) -> rusqlite::Result<TimelineEvent> {
    let broken = |e: String| rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, e.into());
    let user_ids = r.get_ref("user_ids")?.as_str()?;
    Ok(TimelineEvent {
        num: r.get("num")?,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{bare_db, migrations, test_db, users};

    fn group(c: &Connection) -> (ConversationId, UserId, UserId) {
        let (ann, ben) = (UserId::new(), UserId::new());
        users::registered(c, ann, "ann").unwrap();
        users::registered(c, ben, "ben").unwrap();
        let head = conversations::create_group(c, ann, "Trio", &[ben], chrono::Utc::now()).unwrap();
        (head.id, ann, ben)
    }

    #[test]
    fn events_of_one_instant_keep_the_order_they_happened_in_by_their_numbers() {
        let c = test_db();
        let (group, ann, ben) = group(&c);
        let now = chrono::Utc::now();
        let record = |kind, actor, users: &[UserId]| {
            record(&c, group, kind, actor, users, None, now)
                .unwrap()
                .expect("the group exists")
        };
        let recorded = [
            record(TimelineKind::Created, ann, &[ben]),
            record(TimelineKind::Left, ann, &[]),
            record(TimelineKind::OwnerChanged, ann, &[ben]),
        ];
        assert_eq!(recorded.each_ref().map(|e| e.num), [1, 2, 3]);
        assert_eq!(
            between(&c, group, 0, 0).unwrap(),
            recorded,
            "numbered, kinds and people kept"
        );
        assert_eq!(last_event(&c, group).unwrap(), 3);
        assert_eq!(
            super::record(&c, ConversationId::new(), TimelineKind::Left, ann, &[], None, now).unwrap(),
            None
        );
    }

    #[test]
    fn events_recorded_before_owner_changes_were_told_are_kept_and_owner_changes_are_taken() {
        // A database as migration 8 left it, with an event in it.
        let mut c = bare_db();
        migrations().to_version(&mut c, 8).unwrap();
        let (group, ann, ben) = group(&c);
        let now = chrono::Utc::now();
        let created = record(&c, group, TimelineKind::Created, ann, &[ben], Some("Trio"), now)
            .unwrap()
            .expect("the group exists");
        assert!(
            record(&c, group, TimelineKind::OwnerChanged, ann, &[ben], None, now).is_err(),
            "refused before the migration"
        );

        migrations().to_latest(&mut c).unwrap();
        let handed = record(&c, group, TimelineKind::OwnerChanged, ann, &[ben], None, now)
            .unwrap()
            .expect("the group exists");
        assert_eq!(handed.num, 2);
        assert_eq!(between(&c, group, 0, 0).unwrap(), [created, handed]);
    }
}
