//! This instance's fan-out consumer: turns what the messages service announces into frames for
//! the sockets it holds. Every event names the users it concerns, so nothing here is looked up.

use crate::AppState;
use crate::frames::{encode, error_frame};
use axum::extract::ws::Utf8Bytes;
use gochat_kit::bus::{Handler, handler as make_handler};
use gochat_proto::events::{Event, Origin};
use gochat_proto::frames::ChatServerFrame;
use gochat_proto::ids::UserId;

pub fn handler(state: AppState) -> Handler {
    make_handler(move |envelope| {
        let state = state.clone();
        async move {
            push(&state, envelope.event()?);
            Ok(())
        }
    })
}

fn push(state: &AppState, event: Event) {
    let hub = &state.hub;
    match event {
        Event::MessageStored(e) => {
            let sender = e.message.sender_id;
            let frame = encode(&ChatServerFrame::Message { message: e.message });
            match e.resent {
                // The answer to a repeated `send`: the members had the message already.
                Some(resent) => answer(state, &sender, resent.origin, &frame),
                None => hub.push(&e.members, &frame),
            }
        }
        Event::MessageUpdated(e) => {
            let frame = encode(&ChatServerFrame::MessageUpdated {
                message: e.message,
                change: e.change,
            });
            hub.push(&e.members, &frame);
        }
        Event::ReceiptUpdated(e) => {
            let frame = encode(&ChatServerFrame::Receipt {
                conversation_id: e.conversation_id,
                user_id: e.user_id,
                delivered_seq: e.delivered_seq,
                read_seq: e.read_seq,
            });
            hub.push(&e.recipients, &frame);
        }
        Event::Typing(e) => {
            let frame = encode(&ChatServerFrame::Typing {
                conversation_id: e.conversation_id,
                user_id: e.user_id,
            });
            hub.push_droppable(e.members.iter().filter(|m| **m != e.user_id), &frame);
        }
        Event::ConversationUpdated(e) => {
            // Each member sees their own unread count: one frame per member.
            for member in &e.conversation.members {
                if let Some(conversation) = e.conversation.view_for(member.id) {
                    let event = e.event.clone().map(Box::new);
                    hub.push(
                        [&member.id],
                        &encode(&ChatServerFrame::Conversation { conversation, event }),
                    );
                }
            }
            let removed = encode(&ChatServerFrame::Removed {
                conversation_id: e.conversation.id,
            });
            hub.push(&e.removed, &removed);
        }
        Event::MessageRejected(e) => {
            let frame = error_frame(e.code, &e.reason, e.client_id);
            answer(state, &e.user_id, e.origin, &frame);
        }
        _ => {}
    }
}

/// Answers `user` on the socket that asked, when it is one of ours; on each of their sockets
/// here when the request named none (a publisher that predates origins).
fn answer(state: &AppState, user: &UserId, origin: Option<Origin>, frame: &Utf8Bytes) {
    match origin {
        Some(origin) if *origin.instance == *state.instance => state.hub.push_to_socket(user, origin.socket, frame),
        Some(_) => {}
        None => state.hub.push([user], frame),
    }
}
