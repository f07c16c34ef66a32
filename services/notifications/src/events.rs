//! The shared consumer that stores and reads notifications, and this instance's push consumer.

use crate::{AppState, store};
use axum::extract::ws::Utf8Bytes;
use gochat_kit::bus::{Handler, applying_idempotent, handler as make_handler};
use gochat_kit::db::Db;
use gochat_proto::dto::{Notification, NotificationKind, UserRef};
use gochat_proto::events::{Event, NotificationCreated, NotificationsRead};
use gochat_proto::frames::NotificationServerFrame;
use gochat_proto::ids::NotificationId;
use gochat_proto::limits::PREVIEW_CHARS;

/// Stores a notification per stored message for its recipient; reading a conversation up to
/// `seq` reads its notifications up to `seq`. Both are idempotent by natural keys (one
/// notification per recipient and message; "read up to" only ever marks), so no inbox is kept:
/// a redelivered or republished `message.stored` finds its notification there and announces
/// nothing, a repeated receipt marks nothing.
pub fn store_handler(db: Db) -> Handler {
    applying_idempotent(db, |w, event| {
        match event {
            Event::MessageStored(e) => {
                let message = e.message;
                for recipient in e.members.iter().filter(|m| **m != message.sender_id) {
                    let notification = Notification {
                        id: NotificationId::new(),
                        kind: NotificationKind::Message,
                        conversation_id: message.conversation_id,
                        seq: message.seq,
                        from: UserRef {
                            id: e.sender.id,
                            username: e.sender.username.clone(),
                        },
                        preview: message.body.chars().take(PREVIEW_CHARS).collect(),
                        created_at: message.sent_at,
                        read_at: None,
                    };
                    if let Some(notification) = store::insert(w, *recipient, &notification)? {
                        w.publish(&NotificationCreated {
                            user_id: *recipient,
                            notification,
                        })?;
                    }
                }
            }
            Event::ReceiptUpdated(e) => {
                let ids = store::read_up_to(w, e.user_id, e.conversation_id, e.read_seq, chrono::Utc::now())?;
                if !ids.is_empty() {
                    w.publish(&NotificationsRead {
                        user_id: e.user_id,
                        ids,
                    })?;
                }
            }
            _ => {}
        }
        Ok(())
    })
}

/// Pushes to the sockets this instance holds.
pub fn push_handler(state: AppState) -> Handler {
    make_handler(move |envelope| {
        let state = state.clone();
        async move {
            match envelope.event()? {
                Event::NotificationCreated(e) => {
                    let frame = encode(&NotificationServerFrame::Notification {
                        notification: e.notification,
                    });
                    state.hub.push([&e.user_id], &frame);
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
