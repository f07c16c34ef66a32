//! The consumer of `messages.events`. Each event is applied in one write transaction together
//! with its inbox record (so a redelivered event applies nothing twice) and with the events it
//! publishes (outbox), and acknowledged only after the commit.
//!
//! Duplicates: a `message.sent` whose (sender, clientId) is already stored makes no second
//! message; it republishes `message.stored` with the stored message (same id, same seq). A resend
//! happens when the sender's tab did not see its message confirmed (it reconnected, or chat
//! crashed between accepting and answering), so the tabs get their answer again; consumers of
//! `message.stored` therefore treat a message they already have (same id, or same
//! conversation and seq) as already applied. A redelivery of the same event (same envelope id)
//! publishes nothing.

use gochat_kit::bus::{Handler, applying};
use gochat_kit::db::{Db, Write};
use gochat_proto::dto::Message;
use gochat_proto::events::{ConversationCreated, Event, MessageRejected, MessageSent, MessageStored, ReceiptUpdated};
use gochat_proto::ids::{ConversationId, UserId};
use gochat_proto::limits::MAX_BODY_CHARS;

use crate::store::conversations::{self, Head};
use crate::store::{messages, users};

pub fn handler(db: Db) -> Handler {
    applying(db, |w, event| match event {
        Event::MessageSent(e) => sent(w, e),
        Event::MessageDelivered(e) => receipt(w, e.conversation_id, e.user_id, e.seq, 0),
        // A message read has been delivered.
        Event::MessageRead(e) => receipt(w, e.conversation_id, e.user_id, e.seq, e.seq),
        Event::UserRegistered(e) => users::registered(w, e.user_id, &e.username),
        Event::PresenceChanged(e) => users::presence(w, &e),
        _ => Ok(()),
    })
}

/// Stores a sent message, or says why it cannot be stored.
fn sent(w: &mut Write<'_>, e: MessageSent) -> rusqlite::Result<()> {
    if let Some(stored) = messages::find_by_client(w, e.sender_id, e.client_id)? {
        let Some(head) = conversations::head(w, stored.conversation_id)? else {
            return Ok(());
        };
        return publish_stored(w, stored, &head);
    }
    if let Err(reason) = check_body(&e.body) {
        return reject(w, &e, reason);
    }
    let head = match (e.conversation_id, e.to) {
        (Some(conversation), to) => match conversations::head(w, conversation)? {
            Some(head) if head.has_member(e.sender_id) && to.is_none_or(|to| to == head.peer_of(e.sender_id)) => head,
            _ => return reject(w, &e, "no such conversation"),
        },
        (None, Some(to)) if to == e.sender_id => return reject(w, &e, "you cannot message yourself"),
        (None, Some(to)) => {
            if users::find(w, to)?.is_none() {
                return reject(w, &e, "no such user");
            }
            let (head, created) = conversations::get_or_create_direct(w, e.sender_id, to, chrono::Utc::now())?;
            if created {
                w.publish(&ConversationCreated {
                    conversation_id: head.id,
                    members: head.members.to_vec(),
                })?;
            }
            head
        }
        (None, None) => return reject(w, &e, "a message needs a recipient or a conversation"),
    };
    // The sender comes from a verified token, so they exist even if their `user.registered` has
    // not reached us yet (it comes from another publisher): recorded with the token's name.
    users::ensure(w, e.sender_id, &e.sender_username)?;
    let message = messages::append(w, head.id, e.sender_id, e.client_id, &e.body, e.sent_at)?;
    let seq = message.seq;
    publish_stored(w, message, &head)?;
    // Your own messages are never unread.
    receipt(w, head.id, e.sender_id, seq, seq)
}

/// Moves a member's watermarks and announces it when they moved; ignores non-members.
fn receipt(
    w: &mut Write<'_>,
    conversation: ConversationId,
    user: UserId,
    delivered: i64,
    read: i64,
) -> rusqlite::Result<()> {
    let Some(marks) = conversations::advance(w, conversation, user, delivered, read)? else {
        tracing::debug!(%conversation, %user, "receipt from a non-member ignored");
        return Ok(());
    };
    if !marks.changed {
        return Ok(());
    }
    let Some(head) = conversations::head(w, conversation)? else {
        return Ok(());
    };
    w.publish(&ReceiptUpdated {
        conversation_id: conversation,
        user_id: user,
        delivered_seq: marks.delivered_seq,
        read_seq: marks.read_seq,
        members: head.members.to_vec(),
    })?;
    Ok(())
}

fn publish_stored(w: &mut Write<'_>, message: Message, head: &Head) -> rusqlite::Result<()> {
    let sender = users::user_ref(w, message.sender_id)?;
    w.publish(&MessageStored {
        message,
        sender,
        members: head.members.to_vec(),
    })?;
    Ok(())
}

fn reject(w: &mut Write<'_>, e: &MessageSent, reason: &str) -> rusqlite::Result<()> {
    tracing::debug!(sender = %e.sender_id, client_id = %e.client_id, reason, "message rejected");
    w.publish(&MessageRejected {
        sender_id: e.sender_id,
        client_id: e.client_id,
        reason: reason.to_owned(),
    })?;
    Ok(())
}

/// Chat validated the body already; checked again because this is where it is stored.
fn check_body(body: &str) -> Result<(), &'static str> {
    if body.trim().is_empty() {
        return Err("the message is empty");
    }
    if body.chars().count() > MAX_BODY_CHARS {
        return Err("the message is too long");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_must_have_text_and_fit_the_limit() {
        assert!(check_body("hi").is_ok());
        assert!(check_body(" \n\t").is_err());
        assert!(check_body(&"é".repeat(MAX_BODY_CHARS)).is_ok());
        assert!(check_body(&"é".repeat(MAX_BODY_CHARS + 1)).is_err());
    }
}
