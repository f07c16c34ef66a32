//! Several events of one kind in one AMQP message.
//!
//! RabbitMQ's work is per message, whatever its size: routing, persisting, delivering and
//! acknowledging a small persistent message cost it about as much as the services' own work on
//! a chat message, and one chat message becomes several events. An outbox relay that finds
//! several committed events of one kind waiting hands them to the broker as one message (a
//! JSON array of their envelopes): under load the broker's work per event falls with the size
//! of the bundles, and idle, when events come one at a time, nothing changes (a lone event is
//! its envelope, as before). Events of one kind are routed alike, so a bundle reaches exactly
//! the queues each of its events would have.
//!
//! A consumer applies a bundle's events as it applies separate deliveries; one that cannot be
//! applied is dead-lettered alone (as its own envelope), and the delivery is acknowledged with
//! the rest of the batch.

use gochat_proto::events::{Envelope, EventKind};
use serde_json::value::RawValue;
use std::sync::Arc;

/// The most events one message carries, and about the most bytes.
pub(crate) const MAX_EVENTS: usize = 64;
pub(crate) const MAX_BYTES: usize = 128 * 1024;

/// The body of a message carrying `events` (envelopes and their JSON texts), in order.
pub(super) fn encode(events: &[(Arc<Envelope>, Vec<u8>)]) -> Vec<u8> {
    let bytes: usize = events.iter().map(|(_, json)| json.len() + 1).sum();
    let mut body = Vec::with_capacity(bytes + 1);
    for (i, (_, json)) in events.iter().enumerate() {
        body.push(if i == 0 { b'[' } else { b',' });
        body.extend_from_slice(json);
    }
    if events.is_empty() {
        body.push(b'[');
    }
    body.push(b']');
    body
}

/// One event of a delivered message.
pub(super) enum Item {
    Event(Arc<Envelope>),
    /// Not an event envelope: dead-lettered at once with its text and why.
    Undecodable {
        body: Vec<u8>,
        reason: String,
    },
}

/// The events of a message's body: its envelope, or the envelopes of a bundle.
pub(super) fn decode(body: &[u8]) -> Vec<Item> {
    let undecodable = |body: &[u8], e: serde_json::Error| Item::Undecodable {
        body: body.to_vec(),
        reason: format!("not an event envelope: {e}"),
    };
    let one = |body: &[u8]| match Envelope::from_json(body) {
        Ok(envelope) => Item::Event(Arc::new(envelope)),
        Err(e) => undecodable(body, e),
    };
    if body.trim_ascii_start().first() != Some(&b'[') {
        return vec![one(body)];
    }
    match serde_json::from_slice::<Vec<&RawValue>>(body) {
        Ok(events) => events.into_iter().map(|e| one(e.get().as_bytes())).collect(),
        Err(e) => vec![undecodable(body, e)],
    }
}

/// The kind of every event of a body (one envelope or a bundle), when they all decode and are
/// of one kind: where the body is routed (a dead letter requeued). A bundle reaches a dead-letter
/// queue whole only from a consumer of a version before bundles.
pub(super) fn kind_of(body: &[u8]) -> Option<EventKind> {
    let mut kinds = decode(body).into_iter().map(|item| match item {
        Item::Event(envelope) => Some(envelope.kind),
        Item::Undecodable { .. } => None,
    });
    let first = kinds.next()??;
    kinds.all(|kind| kind == Some(first)).then_some(first)
}

#[cfg(test)]
mod tests {
    use super::*;
    use gochat_proto::events::UserOnline;
    use gochat_proto::ids::UserId;

    fn envelope() -> Envelope {
        Envelope::new(&UserOnline {
            user_id: UserId::new(),
            instance: "i".into(),
            at: chrono::Utc::now(),
        })
        .unwrap()
    }

    fn ids(items: &[Item]) -> Vec<Option<String>> {
        items
            .iter()
            .map(|item| match item {
                Item::Event(e) => Some(e.id.to_string()),
                Item::Undecodable { .. } => None,
            })
            .collect()
    }

    #[test]
    fn a_bundle_decodes_to_its_events_in_order() {
        let events: Vec<_> = (0..3)
            .map(|_| {
                let e = envelope();
                let json = e.to_json().unwrap();
                (Arc::new(e), json)
            })
            .collect();
        let body = encode(&events);
        let want: Vec<_> = events.iter().map(|(e, _)| Some(e.id.to_string())).collect();
        assert_eq!(ids(&decode(&body)), want);
    }

    #[test]
    fn no_events_is_an_empty_bundle() {
        assert_eq!(encode(&[]), b"[]");
        assert!(decode(b"[]").is_empty());
    }

    #[test]
    fn a_body_has_a_kind_when_all_its_events_share_it() {
        let online = |_| {
            let e = envelope();
            let json = e.to_json().unwrap();
            (Arc::new(e), json)
        };
        let bundle: Vec<_> = (0..2).map(online).collect();
        assert_eq!(kind_of(&encode(&bundle)), Some(EventKind::UserOnline));
        assert_eq!(kind_of(&bundle[0].1), Some(EventKind::UserOnline));
        let offline = Envelope::new(&gochat_proto::events::UserOffline {
            user_id: UserId::new(),
            instance: "i".into(),
            at: chrono::Utc::now(),
        })
        .unwrap();
        let mixed = [
            bundle[0].clone(),
            (Arc::new(offline.clone()), offline.to_json().unwrap()),
        ];
        assert_eq!(kind_of(&encode(&mixed)), None);
        assert_eq!(kind_of(b"[]"), None);
        assert_eq!(kind_of(b"{not json"), None);
    }

    #[test]
    fn a_lone_envelope_is_one_event() {
        let event = envelope();
        assert_eq!(ids(&decode(&event.to_json().unwrap())), [Some(event.id.to_string())]);
    }

    #[test]
    fn a_bad_element_is_undecodable_alone_with_its_own_text() {
        let (first, last) = (envelope(), envelope());
        let body = format!(
            r#"[{}, {{"not": "an event"}}, {}]"#,
            String::from_utf8(first.to_json().unwrap()).unwrap(),
            String::from_utf8(last.to_json().unwrap()).unwrap()
        );
        let items = decode(body.as_bytes());
        assert_eq!(
            ids(&items),
            [Some(first.id.to_string()), None, Some(last.id.to_string())]
        );
        let Item::Undecodable { body, reason } = &items[1] else {
            unreachable!()
        };
        assert_eq!(body.as_slice(), br#"{"not": "an event"}"#);
        assert!(reason.starts_with("not an event envelope"), "{reason}");
    }

    #[test]
    fn a_body_that_is_neither_is_undecodable_whole() {
        for body in [&b"[1, 2"[..], b"{}", b"", b"  [not json]"] {
            let items = decode(body);
            assert_eq!(items.len(), 1);
            assert!(matches!(&items[0], Item::Undecodable { body: b, .. } if b.as_slice() == body));
        }
    }
}
