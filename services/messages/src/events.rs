//! The consumer of `messages.events`: what users did, as chat recorded it. Events are applied
//! in batches, one write transaction per batch, together with the events they publish (outbox),
//! and acknowledged only after the commit.
//!
//! Idempotence: a `message.sent` whose (sender, clientId) is stored makes no second message; it
//! is answered with the stored message (same id, same seq) on the socket it came from alone, so
//! a tab that did not see its message confirmed gets its answer again while the members, who
//! had the message when it was stored, are told nothing twice. Watermarks only move up, so a
//! repeated receipt changes nothing. Edits, deletions and reactions are not idempotent (an old
//! reaction redelivered after a newer one would undo it): those are applied once by event id.
//!
//! A request the service refuses (not a member, someone else's message, blocked, an attachment
//! that is not the sender's unsent upload) is answered with `message.rejected`, to the socket
//! it came from.

use crate::indexing::Backlog;
use crate::store::conversations::{self, Head};
use crate::store::{attachments, blocks, mentions, messages, users};
use gochat_kit::bus::{Handler, Writes, applying_once};
use gochat_kit::db::{Db, Write};
use gochat_proto::conversation::ConversationState;
use gochat_proto::dto::{ConversationKind, Message, TimelineEvent};
use gochat_proto::error::ErrorCode;
use gochat_proto::events::{
    ConversationUpdated, Event, EventKind, MessageDeleted, MessageEdited, MessageReacted, MessageRejected, MessageSent,
    MessageStored, MessageUpdated, Origin, ReceiptUpdated, Resent, Typing, UserTyping,
};
use gochat_proto::ids::{ClientId, ConversationId, UserId};
use gochat_proto::validate;
use std::sync::Arc;
use tokio::sync::Notify;

/// The events that are applied once by id (see the module's documentation).
const ONCE: &[EventKind] = &[
    EventKind::MessageEdited,
    EventKind::MessageDeleted,
    EventKind::MessageReacted,
];

/// `sweep` is woken when a deleted message had attachments, to remove their files; `backlog`
/// when a message was queued for the search index.
pub fn handler(db: Db, sweep: Arc<Notify>, backlog: Arc<Backlog>) -> Handler {
    // The message path: each event is a short transaction, committed on the consumer's worker
    // when the writer is idle.
    applying_once(db, Writes::HereWhenIdle, ONCE, move |w, event| match event {
        Event::MessageSent(e) => sent(w, e, &backlog),
        Event::MessageEdited(e) => edited(w, e, &backlog),
        Event::MessageDeleted(e) => deleted(w, e, &sweep, &backlog),
        Event::MessageReacted(e) => reacted(w, e),
        Event::MessageDelivered(e) => receipt(w, e.conversation_id, e.user_id, e.seq, 0, e.origin),
        // A message read has been delivered.
        Event::MessageRead(e) => receipt(w, e.conversation_id, e.user_id, e.seq, e.seq, e.origin),
        Event::UserTyping(e) => typing(w, e),
        Event::UserRegistered(e) => users::registered(w, e.user_id, &e.username),
        Event::PresenceChanged(e) => users::presence(w, &e),
        _ => Ok(()),
    })
}

/// Why a request is refused, and to whom the answer goes.
struct Refusal<'a> {
    user: UserId,
    client_id: Option<ClientId>,
    origin: &'a Option<Origin>,
}

impl Refusal<'_> {
    fn send(&self, w: &mut Write<'_>, code: ErrorCode, reason: &str) -> rusqlite::Result<()> {
        tracing::debug!(user = %self.user, ?code, reason, "request refused");
        // In one process chat then answers a refused `send` with this refusal alone.
        w.mark_refused();
        w.publish(&MessageRejected {
            user_id: self.user,
            client_id: self.client_id,
            code,
            reason: reason.to_owned(),
            origin: self.origin.clone(),
        })?;
        Ok(())
    }

    fn not_found(&self, w: &mut Write<'_>) -> rusqlite::Result<()> {
        self.send(w, ErrorCode::NotFound, "no such conversation")
    }
}

/// Stores a sent message, or says why it cannot be stored.
fn sent(w: &mut Write<'_>, e: MessageSent, backlog: &Arc<Backlog>) -> rusqlite::Result<()> {
    let refuse = Refusal {
        user: e.sender_id,
        client_id: Some(e.client_id),
        origin: &e.origin,
    };
    if let Some(stored) = messages::find_by_client(w, e.sender_id, e.client_id)? {
        return answer_repeat(w, stored, e.origin);
    }
    if let Err(reason) = validate::body(&e.body, &e.attachment_ids) {
        return refuse.send(w, ErrorCode::InvalidInput, reason);
    }
    // The conversation, if it exists, and the peer when it is (or is to be) a direct one. A
    // first message to a user opens their conversation only once every check passed, so a
    // refused one opens nothing and announces nothing to the peer.
    let (existing, peer) = match (e.conversation_id, e.to) {
        (Some(conversation), _) => match conversations::head_for(w, conversation, e.sender_id)? {
            Some(head) if head.kind == ConversationKind::Direct => {
                (Some(head), conversations::peer_of(w, head.id, e.sender_id)?)
            }
            Some(head) => (Some(head), None),
            None => return refuse.not_found(w),
        },
        (None, Some(to)) if to == e.sender_id => {
            return refuse.send(w, ErrorCode::InvalidInput, "you cannot message yourself");
        }
        (None, Some(to)) => {
            if users::find(w, to)?.is_none() {
                return refuse.send(w, ErrorCode::NotFound, "no such user");
            }
            (conversations::find_direct(w, e.sender_id, to)?, Some(to))
        }
        (None, None) => {
            return refuse.send(
                w,
                ErrorCode::InvalidInput,
                "a message needs a recipient or a conversation",
            );
        }
    };
    if let Some(peer) = peer
        && blocks::blocks(w, peer, e.sender_id)?
    {
        return refuse.send(w, ErrorCode::Forbidden, "you cannot message this user");
    }
    if let Some(reply_to) = e.reply_to_seq
        && !(1..=existing.map_or(0, |head| head.last_seq)).contains(&reply_to)
    {
        return refuse.send(w, ErrorCode::NotFound, "no such message to reply to");
    }
    let attached = match attachments::unsent_of(w, e.sender_id, &e.attachment_ids)? {
        Ok(list) => list,
        Err(refused) => return refuse.send(w, refused.code, refused.reason),
    };
    let head = match (existing, peer) {
        (Some(head), _) => head,
        (None, Some(to)) => {
            let (head, created) = conversations::get_or_create_direct(w, e.sender_id, to, chrono::Utc::now())?;
            if created {
                announce_conversation(w, head.id, Vec::new(), None)?;
            }
            head
        }
        // Without a conversation there is a recipient (see above).
        (None, None) => return refuse.not_found(w),
    };
    // The sender comes from a verified token, so they exist even if their `user.registered` has
    // not reached us yet (it comes from another publisher): recorded with the token's name.
    users::ensure(w, e.sender_id, &e.sender_username)?;
    let mut message = messages::append(w, &head, e.sender_id, e.client_id, &e.body, e.reply_to_seq, e.sent_at)?;
    backlog.queued(w);
    if !attached.is_empty() {
        attachments::link(w, &e.attachment_ids, head.id, message.seq)?;
        messages::set_attachments(w, &mut message, attached)?;
    }
    // Your own messages are never unread: `message.stored` tells everyone that, no receipt.
    conversations::advance(w, head.id, e.sender_id, message.seq, message.seq)?;
    publish_stored(w, message)
}

fn publish_stored(w: &mut Write<'_>, message: Message) -> rusqlite::Result<()> {
    let sender = users::user_ref(w, message.sender_id)?;
    let members = conversations::member_ids(w, message.conversation_id)?;
    let title = conversations::title(w, message.conversation_id)?;
    // A mention calls attention in a group (the conversations with a title); in a direct
    // conversation it would only be a way through the mute of someone who does not want to hear.
    let mentions = match title {
        Some(_) => mentions::mentioned(w, message.conversation_id, message.sender_id, &message.body)?,
        None => Vec::new(),
    };
    w.publish(&MessageStored {
        message,
        sender,
        members,
        resent: None,
        title,
        mentions,
    })?;
    Ok(())
}

/// Answers a `send` repeated with a `clientId` already stored (its answer was late, or lost
/// with a socket): the stored message goes again to the socket that repeated it. Every member
/// was sent it when it was stored, so nobody else is.
fn answer_repeat(w: &mut Write<'_>, message: Message, origin: Option<Origin>) -> rusqlite::Result<()> {
    let sender = users::user_ref(w, message.sender_id)?;
    w.publish(&MessageStored {
        members: vec![message.sender_id],
        message,
        sender,
        resent: Some(Resent { origin }),
        title: None,
        mentions: Vec::new(),
    })?;
    Ok(())
}

/// The conversation, when `user` is a member; otherwise the refusal has been sent.
fn member_of(w: &mut Write<'_>, conversation: ConversationId, refuse: &Refusal<'_>) -> rusqlite::Result<Option<Head>> {
    let head = conversations::head_for(w, conversation, refuse.user)?;
    if head.is_none() {
        refuse.not_found(w)?;
    }
    Ok(head)
}

/// Whether `user` may not reach the other member of this direct conversation (they block them):
/// then nothing of theirs reaches them there, messages, edits, reactions or typing.
fn blocked(w: &Write<'_>, head: &Head, user: UserId) -> rusqlite::Result<bool> {
    if head.kind != ConversationKind::Direct {
        return Ok(false);
    }
    match conversations::peer_of(w, head.id, user)? {
        Some(peer) => blocks::blocks(w, peer, user),
        None => Ok(false),
    }
}

/// The message at `seq`, when it is there and `refuse.user` sent it.
fn own_message(w: &mut Write<'_>, head: &Head, seq: i64, refuse: &Refusal<'_>) -> rusqlite::Result<Option<Message>> {
    match messages::get(w, head.id, seq)? {
        None => refuse.send(w, ErrorCode::NotFound, "no such message").map(|()| None),
        Some(m) if m.sender_id != refuse.user => refuse
            .send(w, ErrorCode::Forbidden, "that is someone else's message")
            .map(|()| None),
        Some(m) => Ok(Some(m)),
    }
}

fn edited(w: &mut Write<'_>, e: MessageEdited, backlog: &Arc<Backlog>) -> rusqlite::Result<()> {
    let refuse = Refusal {
        user: e.user_id,
        client_id: None,
        origin: &e.origin,
    };
    if let Err(reason) = validate::seq(e.seq).and_then(|()| validate::edited_body(&e.body)) {
        return refuse.send(w, ErrorCode::InvalidInput, reason);
    }
    let Some(head) = member_of(w, e.conversation_id, &refuse)? else {
        return Ok(());
    };
    if blocked(w, &head, e.user_id)? {
        return refuse.send(w, ErrorCode::Forbidden, "you cannot message this user");
    }
    let Some(message) = own_message(w, &head, e.seq, &refuse)? else {
        return Ok(());
    };
    if message.deleted_at.is_some() {
        return refuse.send(w, ErrorCode::NotFound, "that message was deleted");
    }
    match messages::edit(w, &head, e.seq, &e.body, e.at)? {
        Some(changed) => {
            backlog.queued(w);
            // Mentions count in groups only (see `publish_stored`).
            let mentions = match head.kind {
                ConversationKind::Group => Some(mentions::mentioned(w, head.id, e.user_id, &changed.message.body)?),
                ConversationKind::Direct => None,
            };
            publish_updated(w, changed, mentions)
        }
        None => Ok(()),
    }
}

fn deleted(w: &mut Write<'_>, e: MessageDeleted, sweep: &Notify, backlog: &Arc<Backlog>) -> rusqlite::Result<()> {
    let refuse = Refusal {
        user: e.user_id,
        client_id: None,
        origin: &e.origin,
    };
    let Some(head) = member_of(w, e.conversation_id, &refuse)? else {
        return Ok(());
    };
    let Some(message) = own_message(w, &head, e.seq, &refuse)? else {
        return Ok(());
    };
    if !message.attachments.is_empty() {
        // Its files go once this commits and no other upload names them.
        sweep.notify_one();
    }
    match messages::delete(w, head.id, e.seq, e.at)? {
        Some(changed) => {
            // Its words leave the index with the drain's next write.
            backlog.queued(w);
            publish_updated(w, changed, None)
        }
        None => Ok(()),
    }
}

fn reacted(w: &mut Write<'_>, e: MessageReacted) -> rusqlite::Result<()> {
    let refuse = Refusal {
        user: e.user_id,
        client_id: None,
        origin: &e.origin,
    };
    // Chat sends the emoji's one form already; an instance of an older release may not.
    let emoji = match validate::seq(e.seq).and_then(|()| validate::emoji(&e.emoji)) {
        Ok(emoji) => emoji,
        Err(reason) => return refuse.send(w, ErrorCode::InvalidInput, reason),
    };
    let Some(head) = member_of(w, e.conversation_id, &refuse)? else {
        return Ok(());
    };
    if blocked(w, &head, e.user_id)? {
        return refuse.send(w, ErrorCode::Forbidden, "you cannot message this user");
    }
    let reactions = match messages::get(w, head.id, e.seq)? {
        Some(m) if m.deleted_at.is_none() => messages::in_one_form(m.reactions),
        _ => return refuse.send(w, ErrorCode::NotFound, "no such message"),
    };
    if let Some(reason) =
        e.on.then(|| messages::reaction_refused(&reactions, e.user_id, emoji))
            .flatten()
    {
        return refuse.send(w, ErrorCode::InvalidInput, &reason);
    }
    match messages::react(w, head.id, e.seq, e.user_id, emoji, e.on)? {
        Some(changed) => publish_updated(w, changed, None),
        None => Ok(()),
    }
}

fn publish_updated(
    w: &mut Write<'_>,
    changed: messages::Changed,
    mentions: Option<Vec<UserId>>,
) -> rusqlite::Result<()> {
    let members = conversations::member_ids(w, changed.message.conversation_id)?;
    w.publish(&MessageUpdated {
        message: changed.message,
        change: changed.change,
        members,
        mentions,
    })?;
    Ok(())
}

/// Moves a member's watermarks and tells whoever cares: in a direct conversation both
/// members, in a group the member's own tabs and the senders of the messages the move covers.
fn receipt(
    w: &mut Write<'_>,
    conversation: ConversationId,
    user: UserId,
    delivered: i64,
    read: i64,
    origin: Option<Origin>,
) -> rusqlite::Result<()> {
    let Some(marks) = conversations::advance(w, conversation, user, delivered, read)? else {
        let refuse = Refusal {
            user,
            client_id: None,
            origin: &origin,
        };
        return refuse.not_found(w);
    };
    if !marks.changed() {
        return Ok(());
    }
    let Some(head) = conversations::head(w, conversation)? else {
        return Ok(());
    };
    let mut recipients = match head.kind {
        ConversationKind::Direct => conversations::member_ids(w, conversation)?,
        ConversationKind::Group => messages::senders_between(
            w,
            conversation,
            marks.old_read_seq.min(marks.old_delivered_seq),
            marks.delivered_seq,
        )?,
    };
    if !recipients.contains(&user) {
        recipients.push(user);
    }
    w.publish(&ReceiptUpdated {
        conversation_id: conversation,
        user_id: user,
        delivered_seq: marks.delivered_seq,
        read_seq: marks.read_seq,
        recipients,
    })?;
    Ok(())
}

/// Fans typing out to the other members (ephemeral: announced after the commit, never stored).
fn typing(w: &mut Write<'_>, e: UserTyping) -> rusqlite::Result<()> {
    let refuse = Refusal {
        user: e.user_id,
        client_id: None,
        origin: &e.origin,
    };
    let Some(head) = member_of(w, e.conversation_id, &refuse)? else {
        return Ok(());
    };
    // Typing to someone who blocks you is simply not shown.
    if blocked(w, &head, e.user_id)? {
        return Ok(());
    }
    let members = conversations::member_ids(w, e.conversation_id)?;
    w.announce(&Typing {
        conversation_id: e.conversation_id,
        user_id: e.user_id,
        members,
    })
}

/// Publishes the conversation's state to its members (and `removed` to those who left), with
/// what happened for its timeline.
pub fn announce_conversation(
    w: &mut Write<'_>,
    conversation: ConversationId,
    removed: Vec<UserId>,
    event: Option<TimelineEvent>,
) -> rusqlite::Result<Option<ConversationState>> {
    let Some(state) = conversations::state(w, conversation)? else {
        return Ok(None);
    };
    w.publish(&ConversationUpdated {
        conversation: state.clone(),
        removed,
        event,
    })?;
    Ok(Some(state))
}
