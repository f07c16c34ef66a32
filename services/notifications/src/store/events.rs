//! The shared consumer that stores and reads notifications, and this instance's push consumer.

use crate::{AppState, store};
use axum::extract::ws::Utf8Bytes;
use gochat_kit::bus::{Handler, applying_idempotent, handler as make_handler};
use gochat_kit::db::{Db, Write};
use gochat_proto::dto::{Notification, NotificationKind, UserRef};
use gochat_proto::events::{Event, NotificationsCreated, NotificationsRead, UserNotification};
use gochat_proto::frames::NotificationServerFrame;
use gochat_proto::ids::{ConversationId, NotificationId, UserId};
use gochat_proto::limits::PREVIEW_CHARS;

/// Stores a notification per stored message for each member but its sender, announced in one
/// event per message; reading a conversation up to `seq` (or sending into it) reads its
/// notifications up to `seq`; an edit changes the preview and a deletion removes the
/// notifications of that message (its text must not outlive it here); a member removed from a
/// conversation has its notifications of it read. All idempotent by natural keys (one
/// notification per recipient and message; "read up to" only ever marks), so no inbox is kept.
pub fn store_handler(db: Db) -> Handler {
    applying_idempotent(db, |w, event| {
        match event {
            Event::MessageStored(e) => {
                let message = e.message;
                let sender = message.sender_id;
                let mut created = Vec::new();
                for recipient in e.members.iter().filter(|m| **m != sender) {
                    let notification = Notification {
                        id: NotificationId::new(),
                        kind: NotificationKind::Message,
                        conversation_id: message.conversation_id,
                        seq: message.seq,
                        from: e.sender.clone(),
                        preview: preview(&message.body),
                        created_at: message.sent_at,
                        read_at: None,
                    };
                    if let Some(notification) = store::insert(w, *recipient, &notification)? {
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
                    for (user, ids) in store::remove_message(w, m.conversation_id, m.seq)? {
                        w.publish(&NotificationsRead { user_id: user, ids })?;
                    }
                } else {
                    store::set_preview(w, m.conversation_id, m.seq, &preview(&m.body))?;
                }
            }
            Event::ReceiptUpdated(e) => read_up_to(w, e.user_id, e.conversation_id, e.read_seq)?,
            Event::ConversationUpdated(e) => {
                for user in e.removed {
                    read_up_to(w, user, e.conversation.id, i64::MAX)?;
                }
            }
            _ => {}
        }
        Ok(())
    })
}

fn preview(body: &str) -> String {
    body.chars().take(PREVIEW_CHARS).collect()
}

/// Marks `user`'s notifications of a conversation read up to `seq` and tells their tabs.
fn read_up_to(w: &mut Write<'_>, user: UserId, conversation: ConversationId, seq: i64) -> rusqlite::Result<()> {
    let ids = store::read_up_to(w, user, conversation, seq, chrono::Utc::now())?;
    if !ids.is_empty() {
        w.publish(&NotificationsRead { user_id: user, ids })?;
    }
    Ok(())
}

/// Pushes to the sockets this instance holds.
pub fn push_handler(state: AppState) -> Handler {
    make_handler(move |envelope| {
        let state = state.clone();
        async move {
            match envelope.event()? {
                Event::NotificationsCreated(e) => {
                    for n in e.notifications {
                        let frame = encode(&NotificationServerFrame::Notification {
                            notification: n.notification,
                        });
                        state.hub.push([&n.user_id], &frame);
                    }
                }
                Event::NotificationsRead(e) => {
                    state.hub.push(
                        [&e.user_id],
                        &encode(&NotificationServerFrame::NotificationsRead { ids: e.ids }),
                    );
                }
                Event::PresenceChanged(e) => state.presence.changed(e),
                Event::UserRegistered(e) => {
                    let user = UserRef {
                        id: e.user_id,
                        username: e.username,
                    };
                    state
                        .hub
                        .push_all(&encode(&NotificationServerFrame::UserRegistered { user }));
                }
                _ => {}
            }
            Ok(())
        }
    })
}

/// Serializes a frame once; the bytes are shared by every socket it goes to.
pub fn encode(frame: &NotificationServerFrame) -> Utf8Bytes {
    Utf8Bytes::from(serde_json::to_string(frame).expect("server frames serialize"))
}
