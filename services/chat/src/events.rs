//! This instance's fan-out consumer: turns events into frames for the sockets it holds.

use crate::AppState;
use crate::frames::encode;
use gochat_kit::bus::{Handler, handler as make_handler};
use gochat_proto::error::ErrorCode;
use gochat_proto::events::Event;
use gochat_proto::frames::ChatServerFrame;

pub fn handler(state: AppState) -> Handler {
    make_handler(move |envelope| {
        let state = state.clone();
        async move {
            match envelope.event()? {
                Event::MessageStored(e) => {
                    state.members.remember(e.message.conversation_id, &e.members).await?;
                    let frame = encode(&ChatServerFrame::Message { message: e.message });
                    state.hub.push(&e.members, &frame);
                }
                Event::ReceiptUpdated(e) => {
                    let frame = encode(&ChatServerFrame::Receipt {
                        conversation_id: e.conversation_id,
                        user_id: e.user_id,
                        delivered_seq: e.delivered_seq,
                        read_seq: e.read_seq,
                    });
                    state.hub.push(&e.members, &frame);
                }
                Event::Typing(e) => {
                    let frame = encode(&ChatServerFrame::Typing {
                        conversation_id: e.conversation_id,
                        user_id: e.user_id,
                    });
                    state.hub.push(e.members.iter().filter(|m| **m != e.user_id), &frame);
                }
                Event::MessageRejected(e) => {
                    let frame = encode(&ChatServerFrame::Error {
                        code: ErrorCode::NotFound,
                        message: e.reason,
                        client_id: Some(e.client_id),
                    });
                    state.hub.push([&e.sender_id], &frame);
                }
                Event::ConversationCreated(e) => state.members.remember(e.conversation_id, &e.members).await?,
                _ => {}
            }
            Ok(())
        }
    })
}
