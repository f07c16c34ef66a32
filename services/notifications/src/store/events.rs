//! The store's consumer of the shared `notifications.events` queue.

use super::{mutes, table};
use crate::push::Push;
use crate::push::subscriptions;
use gochat_kit::bus::{Handler, Writes, applying_idempotent};
use gochat_kit::db::{Db, Write};
use gochat_proto::admin::UserDisabled;
use gochat_proto::dto::{Notification, NotificationKind, TimelineKind};
use gochat_proto::events::{Event, NotificationsCreated, NotificationsRead, UserNotification};
use gochat_proto::ids::{ConversationId, NotificationId, UserId};
use gochat_proto::limits::PREVIEW_CHARS;
use std::sync::Arc;

/// Stores a notification per stored message for each member but its sender and those who
/// muted the conversation (unless it mentions them, which the notification then says),
/// announced in one event per message; reading a conversation up to
/// `seq` (or sending into it) reads its notifications up to `seq`; an edit changes the preview
/// (of the members' notifications only) and a deletion removes the notifications of that message (its text must not outlive it
/// here); a renamed group's unread notifications take its new title (for their pushes); a member
/// removed from a conversation has its notifications of it read and its mute forgotten. A new notification of a user without an open socket is also pushed to their
/// browsers (Web Push), and presence changes say who that is; a browser's subscription goes
/// when the session that registered it ends (signed out, a password change, disabled). All
/// idempotent by natural keys (one notification per recipient and message; "read up to" only
/// ever marks; presence changes are ordered; a mute is a row or none; an ended session's
/// subscriptions are removed by its id, or by the account's `sessionsBefore`, which spares
/// those registered since), so no inbox is kept.
pub fn store_handler(db: Db, push: Arc<Push>) -> Handler {
    // On the writer: a message to a group writes a notification per member, and the batch
    // lets other threads run between its events.
    applying_idempotent(db, Writes::OnTheWriter, move |w, event| {
        // A gathered batch is a hundred events in a busy second: none of them is urgent.
        w.let_others_run();
        match event {
            // The answer to a repeated `send`: its message was taken when it was stored.
            Event::MessageStored(e) if e.resent.is_some() => {}
            Event::MessageStored(e) => {
                let message = e.message;
                let sender = message.sender_id;
                let mut created = Vec::new();
                let muted = mutes::muting(w, message.conversation_id)?;
                // A mention reaches its member through a mute.
                let notified = |m: &&UserId| **m != sender && (!muted.contains(m) || e.mentions.contains(m));
                for recipient in e.members.iter().filter(notified) {
                    // Mentions are only found in groups, so a direct conversation's are never one.
                    let mentioned = e.mentions.contains(recipient);
                    let notification = Notification {
                        id: NotificationId::new(),
                        kind: NotificationKind::Message,
                        conversation_id: message.conversation_id,
                        seq: message.seq,
                        from: e.sender.clone(),
                        preview: preview(&message.body),
                        created_at: message.sent_at,
                        read_at: None,
                        mentioned,
                    };
                    let group_title = e.title.as_deref();
                    if let Some(notification) = table::insert(w, *recipient, &notification, group_title)? {
                        push.offer(w, *recipient, &notification, group_title)?;
                        created.push(UserNotification {
                            user_id: *recipient,
                            notification,
                        });
                    }
                }
                if !created.is_empty() {
                    w.publish(&NotificationsCreated { notifications: created })?;
                }
                // Sending into a conversation means having read it.
                read_up_to(w, sender, message.conversation_id, message.seq)?;
            }
            Event::MessageUpdated(e) => {
                let m = e.message;
                if m.deleted_at.is_some() {
                    for (user, ids) in table::remove_message(w, m.conversation_id, m.seq)? {
                        w.publish(&NotificationsRead { user_id: user, ids })?;
                    }
                } else {
                    table::set_preview(w, m.conversation_id, m.seq, &preview(&m.body), &e.members)?;
                    if let Some(named) = &e.mentions {
                        mentions_edited(w, m.conversation_id, m.seq, named, &e.members)?;
                    }
                }
            }
            Event::ReceiptUpdated(e) => read_up_to(w, e.user_id, e.conversation_id, e.read_seq)?,
            Event::ConversationUpdated(e) => {
                // Only a rename: every other change of a group carries its title too, and this
                // reads every notification of the group.
                let renamed = e
                    .event
                    .as_ref()
                    .is_some_and(|event| event.kind == TimelineKind::Renamed);
                if let (true, Some(title)) = (renamed, &e.conversation.title) {
                    table::retitle(w, e.conversation.id, title)?;
                }
                for user in e.removed {
                    read_up_to(w, user, e.conversation.id, i64::MAX)?;
                    mutes::unmute_in(w, user, e.conversation.id)?;
                }
            }
            Event::PresenceChanged(e) => push.presence_changed(w, &e)?,
            // A browser's subscription ends with the session that registered it.
            Event::UserSignedOut(e) => {
                subscriptions::end_session(w, e.user_id, &e.jti)?;
            }
            Event::UserDisabled(UserDisabled { access, .. }) => {
                subscriptions::end_sessions_before(w, access.user_id, access.sessions_before.timestamp(), None)?;
            }
            Event::UserSessionsRevoked(e) => {
                let renewed = e.renewed.as_ref().map(|r| {
                    let to = subscriptions::Session {
                        id: r.jti.clone(),
                        issued_at: r.issued_at.timestamp(),
                        expires_at: r.expires_at.timestamp(),
                    };
                    (r.from.as_str(), to)
                });
                let renewed = renewed.as_ref().map(|(from, to)| (*from, to));
                let before = e.access.sessions_before.timestamp();
                subscriptions::end_sessions_before(w, e.access.user_id, before, renewed)?;
            }
            _ => {}
        }
        Ok(())
    })
}

/// An edit changed whom a message names: its notifications follow. One that reached a member
/// only through a mention (they mute the conversation) goes when the mention does, and their
/// tabs hear it as read.
fn mentions_edited(
    w: &mut Write<'_>,
    conversation: ConversationId,
    seq: i64,
    named: &[UserId],
    members: &[UserId],
) -> rusqlite::Result<()> {
    let dropped = table::set_mentioned(w, conversation, seq, named, members)?;
    if dropped.is_empty() {
        return Ok(());
    }
    let muted = mutes::muting(w, conversation)?;
    for (user, id, unread) in dropped.into_iter().filter(|(user, ..)| muted.contains(user)) {
        table::remove(w, id)?;
        if unread {
            w.publish(&NotificationsRead {
                user_id: user,
                ids: vec![id],
            })?;
        }
    }
    Ok(())
}

fn preview(body: &str) -> String {
    body.chars().take(PREVIEW_CHARS).collect()
}

/// Marks `user`'s notifications of a conversation read up to `seq` and tells their tabs.
fn read_up_to(w: &mut Write<'_>, user: UserId, conversation: ConversationId, seq: i64) -> rusqlite::Result<()> {
    let ids = table::read_up_to(w, user, conversation, seq, chrono::Utc::now())?;
    if !ids.is_empty() {
        w.publish(&NotificationsRead { user_id: user, ids })?;
    }
    Ok(())
}
