//! The chat socket against arbitrary text frames: every frame gets an `error` frame or a valid
//! effect, the socket stays open, and nothing the server sends is outside the protocol. A frame
//! that is not a client frame at all is refused at once with `invalid_input`.
//!
//! Each case opens a socket, sends one frame then a `ping`: answers go out in the order of the
//! frames, so everything the frame is answered with directly arrives before the `pong`.
//! Refusals of the messages service come later, through the bus, to that socket if it is
//! still open; they are checked like every other frame when they arrive in time.
//! Once all cases ran, a real message must still be stored and pushed: no frame jammed the
//! event path behind chat.

#![allow(clippy::unwrap_used)] // test helpers fail loudly by design

mod common;

use common::fuzz;
use common::{Client, Socket, connect_ws, next_of, send_frame};
use futures_util::{SinkExt, StreamExt};
use gochat_proto::frames::{ChatClientFrame, ChatServerFrame};
use gochat_proto::limits::MAX_FRAME_BYTES;
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use serde_json::{Value, json};
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

const WAIT: Duration = Duration::from_secs(10);

/// The client frames' field names, so random objects often hit a real field.
const FIELDS: &[&str] = &[
    "type",
    "clientId",
    "to",
    "conversationId",
    "body",
    "replyToSeq",
    "attachmentIds",
    "seq",
    "emoji",
    "on",
];

const TYPES: &[&str] = &["send", "delivered", "read", "typing", "edit", "delete", "react", "ping"];

/// Text frames: anything at all, or an object with a frame type (known or not) and fields
/// holding real ids, seqs and emoji as often as random values.
fn frame(known: Vec<String>) -> impl Strategy<Value = String> {
    let values = fuzz::value(FIELDS, known.clone());
    let kind = prop_oneof![
        6 => prop::sample::select(TYPES).prop_map(str::to_owned),
        1 => fuzz::string(known),
    ];
    let shaped = (kind, fuzz::object(FIELDS, values.clone())).prop_map(|(kind, mut frame)| {
        frame["type"] = Value::String(kind);
        frame.to_string()
    });
    prop_oneof![
        6 => shaped,
        1 => values.prop_map(|v| v.to_string()),
        1 => any::<String>(),
    ]
    // Larger frames close the socket (1009), as the contract says; other tests cover that.
    .prop_filter("fits in a frame", |text| text.len() <= MAX_FRAME_BYTES)
}

/// Reads frames until the `pong`; each must be a server frame of the protocol, and no error
/// may be `internal`. Returns the error codes seen.
async fn until_pong(socket: &mut Socket, sent: &str) -> Result<Vec<String>, TestCaseError> {
    let mut codes = Vec::new();
    loop {
        let next = tokio::time::timeout(WAIT, socket.next())
            .await
            .map_err(|_| TestCaseError::fail(format!("no pong within {WAIT:?} after {sent:?}")))?;
        let text = match next {
            Some(Ok(Message::Text(text))) => text,
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
            other => return Err(TestCaseError::fail(format!("socket ended after {sent:?}: {other:?}"))),
        };
        let frame: ChatServerFrame = serde_json::from_str(&text)
            .map_err(|e| TestCaseError::fail(format!("not a server frame ({e}): {text}")))?;
        match frame {
            ChatServerFrame::Pong => return Ok(codes),
            ChatServerFrame::Error { code, message, .. } => {
                let code = serde_json::to_value(code).unwrap().as_str().unwrap().to_owned();
                // Nothing here fills or breaks the storage: `unavailable` would be a bug too.
                prop_assert!(
                    code != "internal" && code != "unavailable",
                    "{} after {:?}",
                    message,
                    sent
                );
                codes.push(code);
            }
            _ => {}
        }
    }
}

#[test]
fn any_text_frame_gets_an_error_or_a_valid_effect_and_the_socket_stays_open() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let server = rt.block_on(common::start_all_in_one(dir.path(), None, None));
    let (alice, conversation, known) = rt.block_on(async {
        let mut alice = Client::new(&server);
        let alice_id = alice.signup("alice").await;
        let mut bob = Client::new(&server);
        let bob_id = bob.signup("bob").await;
        let (_, direct) = alice.post("/api/conversations", json!({"peerId": bob_id})).await;
        let conversation = direct["conversation"]["id"].as_str().unwrap().to_owned();
        let mut bob_tab = connect_ws(&server.url(""), "/ws/chat", bob.cookie.as_deref(), None)
            .await
            .unwrap();
        for body in ["one", "two", "three"] {
            let frame =
                json!({"type": "send", "clientId": uuid::Uuid::new_v4(), "conversationId": conversation, "body": body});
            send_frame(&mut bob_tab, frame).await;
            next_of(&mut bob_tab, "message", WAIT).await;
        }
        let known = vec![
            alice_id,
            bob_id,
            conversation.clone(),
            uuid::Uuid::new_v4().to_string(),
            "1".into(),
            "3".into(),
            "👍".into(),
        ];
        (alice, conversation, known)
    });
    let (base, cookie) = (server.url(""), alice.cookie.clone());
    fuzz::run(&rt, frame(known), |text| {
        let (base, cookie) = (base.clone(), cookie.clone());
        async move {
            // A socket per case: what one case leaves unread cannot be taken for the next's.
            let mut socket = connect_ws(&base, "/ws/chat", cookie.as_deref(), None).await.unwrap();
            socket.send(Message::Text(text.clone().into())).await.unwrap();
            socket.send(Message::Text(r#"{"type":"ping"}"#.into())).await.unwrap();
            let codes = until_pong(&mut socket, &text).await?;
            if serde_json::from_str::<ChatClientFrame>(&text).is_err() || frame_type_unknown(&text) {
                prop_assert!(
                    codes.iter().any(|c| c == "invalid_input"),
                    "a malformed frame is refused at once: {:?} got {:?}",
                    text,
                    codes
                );
            }
            Ok(())
        }
    });

    // The path behind chat still works: a message is stored and pushed.
    rt.block_on(async {
        let mut socket = connect_ws(&base, "/ws/chat", cookie.as_deref(), None).await.unwrap();
        let frame = json!({"type": "send", "clientId": uuid::Uuid::new_v4(), "conversationId": conversation, "body": "still here"});
        send_frame(&mut socket, frame).await;
        loop {
            let pushed = next_of(&mut socket, "message", WAIT).await;
            if pushed["message"]["body"] == "still here" {
                break;
            }
        }
    });
    rt.block_on(server.stop()).unwrap();
}

/// Whether the frame decodes only as a type this version does not know.
fn frame_type_unknown(text: &str) -> bool {
    matches!(
        serde_json::from_str::<ChatClientFrame>(text),
        Ok(ChatClientFrame::Unknown)
    )
}
