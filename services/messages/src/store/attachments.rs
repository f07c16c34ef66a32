//! Uploaded files: one row per upload, the bytes in the attachments directory under their
//! SHA-256 (see `crate::attachments::Files`). An upload is unsent until a message of its
//! uploader carries it; then it belongs to that message and is seen by the conversation's
//! members. Removing rows (a deleted message, an upload never sent) queues the files no row
//! names any more in `attachment_garbage`, removed from disk once that removal committed.

use gochat_proto::dto::Attachment;
use gochat_proto::error::ErrorCode;
use gochat_proto::ids::{AttachmentId, ConversationId, UserId};
use rusqlite::{Connection, OptionalExtension, Row, params};

/// An upload as stored: what members see, and where its bytes are.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stored {
    pub attachment: Attachment,
    pub uploader: UserId,
    /// Lower-case hex SHA-256 of the bytes: the file's name.
    pub sha256: String,
    /// `image/jpeg` or `image/webp` when the upload is an image with a thumbnail.
    pub thumbnail_type: Option<String>,
}

const COLUMNS: &str = "id, uploader_id, name, content_type, size, width, height, thumbnail_type, sha256";

fn stored_from(r: &Row<'_>) -> rusqlite::Result<Stored> {
    Ok(Stored {
        attachment: Attachment {
            id: r.get("id")?,
            name: r.get("name")?,
            content_type: r.get("content_type")?,
            size: r.get("size")?,
            width: r.get("width")?,
            height: r.get("height")?,
        },
        uploader: r.get("uploader_id")?,
        sha256: r.get("sha256")?,
        thumbnail_type: r.get("thumbnail_type")?,
    })
}

/// Records an upload (unsent) at `uploaded_at` (unix seconds).
pub fn insert(c: &Connection, upload: &Stored, uploaded_at: i64) -> rusqlite::Result<()> {
    let a = &upload.attachment;
    c.prepare_cached(
        "INSERT INTO attachments (id, uploader_id, name, content_type, size, width, height, thumbnail_type,
                                  sha256, uploaded_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?
    .execute(params![
        a.id,
        upload.uploader,
        a.name,
        a.content_type,
        a.size,
        a.width,
        a.height,
        upload.thumbnail_type,
        upload.sha256,
        uploaded_at
    ])?;
    Ok(())
}

/// What an earlier upload of some bytes found them to be as a picture.
#[derive(Debug, PartialEq, Eq)]
pub struct KnownPicture {
    pub width: u32,
    pub height: u32,
    pub thumbnail_type: String,
}

/// The picture an earlier upload of the bytes `sha256` stored, when they are one.
pub fn picture_of(c: &Connection, sha256: &str) -> rusqlite::Result<Option<KnownPicture>> {
    c.prepare_cached(
        "SELECT width, height, thumbnail_type FROM attachments
         WHERE sha256 = ?1 AND width IS NOT NULL AND height IS NOT NULL AND thumbnail_type IS NOT NULL
         LIMIT 1",
    )?
    .query_row([sha256], |r| {
        Ok(KnownPicture {
            width: r.get(0)?,
            height: r.get(1)?,
            thumbnail_type: r.get(2)?,
        })
    })
    .optional()
}

/// Bytes of every upload of `user` still stored, sent or not: what the quota counts.
pub fn used_bytes(c: &Connection, user: UserId) -> rusqlite::Result<u64> {
    let used: i64 = c
        .prepare_cached("SELECT coalesce(sum(size), 0) FROM attachments WHERE uploader_id = ?1")?
        .query_row([user], |r| r.get(0))?;
    Ok(u64::try_from(used).unwrap_or(0))
}

/// The upload `id` when `user` may see it: they uploaded it, or they are a member now of the
/// conversation it was sent in.
pub fn visible_to(c: &Connection, id: AttachmentId, user: UserId) -> rusqlite::Result<Option<Stored>> {
    c.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM attachments a
         WHERE id = ?1 AND (uploader_id = ?2 OR EXISTS (
             SELECT 1 FROM members m WHERE m.conversation_id = a.conversation_id AND m.user_id = ?2))"
    ))?
    .query_row(params![id, user], stored_from)
    .optional()
}

/// Why uploads cannot go with a message.
#[derive(Debug, PartialEq, Eq)]
pub struct Refused {
    pub code: ErrorCode,
    pub reason: &'static str,
}

/// The attachments of a message `sender` is sending, in the order given: each must be an
/// upload of theirs that no message carries yet.
pub fn unsent_of(
    c: &Connection,
    sender: UserId,
    ids: &[AttachmentId],
) -> rusqlite::Result<Result<Vec<Attachment>, Refused>> {
    let mut found = Vec::with_capacity(ids.len());
    let mut stmt = c.prepare_cached(&format!(
        "SELECT {COLUMNS}, conversation_id IS NOT NULL AS sent FROM attachments WHERE id = ?1"
    ))?;
    for id in ids {
        let row = stmt
            .query_row([id], |r| Ok((stored_from(r)?, r.get::<_, bool>("sent")?)))
            .optional()?;
        match row {
            Some((upload, false)) if upload.uploader == sender => found.push(upload.attachment),
            Some((upload, true)) if upload.uploader == sender => {
                return Ok(Err(Refused {
                    code: ErrorCode::InvalidInput,
                    reason: "that attachment was already sent",
                }));
            }
            // Someone else's upload is as unknown as one that does not exist.
            _ => {
                return Ok(Err(Refused {
                    code: ErrorCode::NotFound,
                    reason: "no such attachment",
                }));
            }
        }
    }
    Ok(Ok(found))
}

/// Makes the uploads `ids` part of the message at (`conversation`, `seq`).
pub fn link(c: &Connection, ids: &[AttachmentId], conversation: ConversationId, seq: i64) -> rusqlite::Result<()> {
    let mut stmt = c.prepare_cached("UPDATE attachments SET conversation_id = ?2, seq = ?3 WHERE id = ?1")?;
    for id in ids {
        stmt.execute(params![id, conversation, seq])?;
    }
    Ok(())
}

/// Removes the attachments of a message (it was deleted); their files go once unnamed.
pub fn remove_of_message(c: &Connection, conversation: ConversationId, seq: i64) -> rusqlite::Result<usize> {
    let doomed: Vec<(AttachmentId, String)> = c
        .prepare_cached("SELECT id, sha256 FROM attachments WHERE conversation_id = ?1 AND seq = ?2")?
        .query_map(params![conversation, seq], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    remove(c, &doomed)
}

/// Removes up to `limit` uploads that were never sent and are older than `before` (unix
/// seconds); returns how many.
pub fn remove_unsent_before(c: &Connection, before: i64, limit: u32) -> rusqlite::Result<usize> {
    let doomed: Vec<(AttachmentId, String)> = c
        .prepare_cached(&format!(
            "SELECT id, sha256 FROM attachments WHERE conversation_id IS NULL AND uploaded_at < ?1 LIMIT {limit}"
        ))?
        .query_map([before], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    remove(c, &doomed)
}

fn remove(c: &Connection, doomed: &[(AttachmentId, String)]) -> rusqlite::Result<usize> {
    let mut delete = c.prepare_cached("DELETE FROM attachments WHERE id = ?1")?;
    for (id, _) in doomed {
        delete.execute([id])?;
    }
    let mut unnamed = c.prepare_cached(
        "INSERT OR IGNORE INTO attachment_garbage (sha256)
         SELECT ?1 WHERE NOT EXISTS (SELECT 1 FROM attachments WHERE sha256 = ?1)",
    )?;
    for (_, sha256) in doomed {
        unnamed.execute([sha256])?;
    }
    Ok(doomed.len())
}

/// Some files waiting to be removed from disk.
pub fn garbage(c: &Connection, limit: u32) -> rusqlite::Result<Vec<String>> {
    c.prepare_cached(&format!("SELECT sha256 FROM attachment_garbage LIMIT {limit}"))?
        .query_map([], |r| r.get(0))?
        .collect()
}

/// Takes `sha256` off the garbage list; true when no row names it, so its file is to go (an
/// upload of the same bytes since then keeps it).
pub fn collect_garbage(c: &Connection, sha256: &str) -> rusqlite::Result<bool> {
    let listed = c
        .prepare_cached("DELETE FROM attachment_garbage WHERE sha256 = ?1")?
        .execute([sha256])?;
    let named: bool = c
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM attachments WHERE sha256 = ?1)")?
        .query_row([sha256], |r| r.get(0))?;
    Ok(listed == 1 && !named)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{conversations, messages, test_db, users};
    use gochat_proto::ids::ClientId;

    fn upload(c: &Connection, uploader: UserId, sha256: &str, uploaded_at: i64) -> AttachmentId {
        let stored = Stored {
            attachment: Attachment {
                id: AttachmentId::new(),
                name: "a.png".into(),
                content_type: "image/png".into(),
                size: 10,
                width: Some(2),
                height: Some(1),
            },
            uploader,
            sha256: sha256.into(),
            thumbnail_type: Some("image/jpeg".into()),
        };
        insert(c, &stored, uploaded_at).unwrap();
        stored.attachment.id
    }

    #[test]
    fn only_the_uploaders_unsent_uploads_go_with_a_message_and_then_members_see_them() {
        let c = test_db();
        let (a, b, stranger) = (UserId::new(), UserId::new(), UserId::new());
        users::registered(&c, a, "a").unwrap();
        users::registered(&c, b, "b").unwrap();
        let (conv, _) = conversations::get_or_create_direct(&c, a, b, chrono::Utc::now()).unwrap();
        let (one, two) = (upload(&c, a, "aa", 1), upload(&c, a, "bb", 1));
        let theirs = upload(&c, b, "cc", 1);

        assert_eq!(unsent_of(&c, a, &[two, one]).unwrap().unwrap()[0].id, two);
        let refused = unsent_of(&c, a, &[one, theirs]).unwrap().unwrap_err();
        assert_eq!(refused.code, ErrorCode::NotFound);
        let refused = unsent_of(&c, a, &[AttachmentId::new()]).unwrap().unwrap_err();
        assert_eq!(refused.code, ErrorCode::NotFound);

        assert!(visible_to(&c, one, a).unwrap().is_some(), "the uploader sees it");
        assert!(visible_to(&c, one, b).unwrap().is_none(), "unsent: nobody else");
        let m = messages::append(&c, &conv, a, ClientId::new(), "", None, chrono::Utc::now()).unwrap();
        link(&c, &[one], conv.id, m.seq).unwrap();
        assert!(visible_to(&c, one, b).unwrap().is_some(), "sent: the members");
        assert!(visible_to(&c, one, stranger).unwrap().is_none());
        assert_eq!(
            unsent_of(&c, a, &[one]).unwrap().unwrap_err().code,
            ErrorCode::InvalidInput,
            "sent once"
        );
        assert_eq!(used_bytes(&c, a).unwrap(), 20);
        let known = KnownPicture {
            width: 2,
            height: 1,
            thumbnail_type: "image/jpeg".into(),
        };
        assert_eq!(picture_of(&c, "aa").unwrap(), Some(known));
        assert_eq!(picture_of(&c, "dd").unwrap(), None);
    }

    #[test]
    fn files_become_garbage_when_no_row_names_them() {
        let c = test_db();
        let (a, b) = (UserId::new(), UserId::new());
        users::registered(&c, a, "a").unwrap();
        users::registered(&c, b, "b").unwrap();
        let (conv, _) = conversations::get_or_create_direct(&c, a, b, chrono::Utc::now()).unwrap();
        let sent = upload(&c, a, "same", 1);
        upload(&c, b, "same", 1);
        upload(&c, a, "old", 1);
        upload(&c, a, "new", 100);
        let m = messages::append(&c, &conv, a, ClientId::new(), "", None, chrono::Utc::now()).unwrap();
        link(&c, &[sent], conv.id, m.seq).unwrap();

        // The unsent ones older than 50: b's copy of "same", and "old".
        assert_eq!(remove_unsent_before(&c, 50, 10).unwrap(), 2);
        assert_eq!(
            garbage(&c, 10).unwrap(),
            ["old"],
            "'same' is still named by the sent row"
        );
        assert!(collect_garbage(&c, "old").unwrap());
        assert!(!collect_garbage(&c, "old").unwrap(), "collected once");

        assert_eq!(remove_of_message(&c, conv.id, m.seq).unwrap(), 1);
        assert_eq!(garbage(&c, 10).unwrap(), ["same"]);
        // The same bytes uploaded again before the file went: it stays.
        upload(&c, a, "same", 200);
        assert!(!collect_garbage(&c, "same").unwrap());
        assert_eq!(used_bytes(&c, a).unwrap(), 20);
    }
}
