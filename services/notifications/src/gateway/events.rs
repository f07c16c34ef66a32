//! The gateway's fan-out consumer: what it pushes to the sockets it holds.

use super::Gateway;
use axum::extract::ws::Utf8Bytes;
use gochat_kit::bus::{Handler, handler as make_handler};
use gochat_proto::dto::UserRef;
use gochat_proto::events::Event;
use gochat_proto::frames::NotificationServerFrame;

/// Pushes new and read notifications to their user's sockets here, presence changes
/// (coalesced) and new users to every socket here.
pub fn push_handler(gateway: Gateway) -> Handler {
    make_handler(move |envelope| {
        let gateway = gateway.clone();
        async move {
            match envelope.event()? {
                Event::NotificationsCreated(e) => {
                    for n in e.notifications {
                        let frame = encode(&NotificationServerFrame::Notification {
                            notification: n.notification,
                        });
                        gateway.hub.push([&n.user_id], &frame);
                    }
                }
                Event::NotificationsRead(e) => {
                    gateway.hub.push(
                        [&e.user_id],
                        &encode(&NotificationServerFrame::NotificationsRead { ids: e.ids }),
                    );
                }
                Event::PresenceChanged(e) => gateway.presence.changed(e),
                Event::UserRegistered(e) => {
                    let user = UserRef {
                        id: e.user_id,
                        username: e.username,
                    };
                    gateway
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
