//! One RabbitMQ account per service, with only the permissions it needs, derived from the
//! topology (`gochat_proto::topology`) and what each service publishes.
//!
//! A service account may:
//! - configure (declare, delete) only its own per-instance queues, `<service>.<instance>.<purpose>`;
//! - write to the exchanges it publishes to, and to the dead-letter exchange for its own shared
//!   queue; with topic permissions, only with the routing keys of the events it publishes (so
//!   chat cannot announce `message.stored`, nor anyone but auth a revocation);
//! - read its own shared queue and its own per-instance queues, and bind those to the
//!   exchanges, with topic permissions allowing only the events each queue is for.
//!
//! Nothing else: it cannot read another service's queue, and it cannot declare the shared
//! topology. That topology (exchanges, shared queues, dead-letter queues, bindings) is created
//! with the accounts from one RabbitMQ definitions file ([`definitions`], written by
//! `gochat rabbitmq-setup`), before any service starts. The operator account reads the
//! dead-letter queues and publishes their events again (`gochat dead-letters`).

use gochat_proto::events::{EventKind, Exchange};
use gochat_proto::topology::{
    CHAT_PUSH, DEAD_LETTER_EXCHANGE, LEDGER_REQUESTS, MESSAGES, NOTIFICATIONS, NOTIFICATIONS_PUSH, SESSIONS,
    SHARED_QUEUES, SharedQueue, USERS, dead_letter_queue,
};
use serde_json::{Value, json};
use std::collections::BTreeSet;

/// What one service does on the broker.
pub struct Account {
    pub service: &'static str,
    /// The events it publishes.
    pub publishes: &'static [EventKind],
    /// The shared queue it consumes, if any.
    pub consumes: Option<&'static SharedQueue>,
    /// Its per-instance queues: purpose and the events bound to it.
    pub instance_queues: &'static [(&'static str, &'static [EventKind])],
}

/// Every instance may ask auth to replay the session ledger.
const REPLAY_REQUEST: EventKind = EventKind::SessionsReplayRequested;

pub const ACCOUNTS: &[Account] = &[
    Account {
        service: "auth",
        publishes: &[
            EventKind::UserRegistered,
            EventKind::UserLoggedIn,
            EventKind::UserSignedOut,
            EventKind::UserDisabled,
            EventKind::UserEnabled,
            EventKind::UserSessionsRevoked,
            EventKind::SessionsHead,
            EventKind::SessionsReplayed,
            REPLAY_REQUEST,
        ],
        consumes: None,
        instance_queues: &[("sessions", SESSIONS), ("ledger", LEDGER_REQUESTS)],
    },
    Account {
        service: "users",
        publishes: &[EventKind::PresenceChanged, REPLAY_REQUEST],
        consumes: Some(&USERS),
        instance_queues: &[("sessions", SESSIONS)],
    },
    Account {
        service: "messages",
        publishes: &[
            EventKind::MessageStored,
            EventKind::MessageUpdated,
            EventKind::MessageRejected,
            EventKind::ReceiptUpdated,
            EventKind::ConversationUpdated,
            EventKind::Typing,
            REPLAY_REQUEST,
        ],
        consumes: Some(&MESSAGES),
        instance_queues: &[("sessions", SESSIONS)],
    },
    Account {
        service: "chat",
        publishes: &[
            EventKind::MessageSent,
            EventKind::MessageEdited,
            EventKind::MessageDeleted,
            EventKind::MessageReacted,
            EventKind::MessageDelivered,
            EventKind::MessageRead,
            EventKind::UserTyping,
            REPLAY_REQUEST,
        ],
        consumes: None,
        instance_queues: &[("push", CHAT_PUSH), ("sessions", SESSIONS)],
    },
    Account {
        service: "notifications",
        publishes: &[
            EventKind::NotificationsCreated,
            EventKind::NotificationsRead,
            EventKind::UserOnline,
            EventKind::UserOffline,
            EventKind::PresenceHeartbeat,
            REPLAY_REQUEST,
        ],
        consumes: Some(&NOTIFICATIONS),
        instance_queues: &[("push", NOTIFICATIONS_PUSH), ("sessions", SESSIONS)],
    },
];

/// The account of `gochat dead-letters` over RabbitMQ.
pub const OPERATOR: &str = "gochat-operator";

/// A broker user's permissions in one virtual host: AMQP 0-9-1 resource regexes, plus topic
/// permissions (routing-key regexes) per exchange.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Permissions {
    pub user: String,
    pub configure: String,
    pub write: String,
    pub read: String,
    pub topics: Vec<TopicPermissions>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TopicPermissions {
    pub exchange: &'static str,
    /// Routing keys the user may publish with.
    pub write: String,
    /// Routing keys the user may bind queues with.
    pub read: String,
}

impl Account {
    /// The broker user of this service.
    pub fn user(&self) -> String {
        format!("gochat-{}", self.service)
    }

    /// The account of `service`.
    pub fn of(service: &str) -> Option<&'static Account> {
        ACCOUNTS.iter().find(|a| a.service == service)
    }

    /// This service's permissions, as the regexes RabbitMQ matches whole resource names and
    /// routing keys against.
    pub fn permissions(&self) -> Permissions {
        let purposes: Vec<&str> = self.instance_queues.iter().map(|(p, _)| *p).collect();
        let own_queues = (!purposes.is_empty()).then(|| {
            format!(
                "^{}\\..+\\.{}$",
                escape(self.service),
                alternatives(purposes.iter().copied())
            )
        });
        let bound: Vec<EventKind> = self
            .instance_queues
            .iter()
            .flat_map(|(_, e)| e.iter().copied())
            .collect();

        let mut written: BTreeSet<&str> = self.publishes.iter().map(|k| k.exchange().name()).collect();
        if self.consumes.is_some() {
            written.insert(DEAD_LETTER_EXCHANGE);
        }
        let read_from: BTreeSet<&str> = bound.iter().map(|k| k.exchange().name()).collect();
        let mut readable: Vec<String> = read_from.iter().map(|e| e.to_string()).collect();
        readable.extend(self.consumes.map(|q| q.name.to_owned()));

        let topics = exchanges()
            .filter(|e| written.contains(e) || read_from.contains(e))
            .map(|exchange| {
                let keys = |kinds: &mut dyn Iterator<Item = EventKind>| {
                    let keys: BTreeSet<&str> = kinds
                        .filter(|k| k.exchange().name() == exchange)
                        .map(|k| k.routing_key())
                        .collect();
                    exact(keys)
                };
                let write = if exchange == DEAD_LETTER_EXCHANGE {
                    exact(self.consumes.map(|q| q.name))
                } else {
                    keys(&mut self.publishes.iter().copied())
                };
                TopicPermissions {
                    exchange,
                    write,
                    read: keys(&mut bound.iter().copied()),
                }
            })
            .collect();

        Permissions {
            user: self.user(),
            configure: own_queues.clone().unwrap_or_else(nothing),
            write: either(exact(written), own_queues.clone()),
            read: either(exact(readable.iter().map(String::as_str)), own_queues),
            topics,
        }
    }
}

/// The operator's permissions: read the dead-letter queues, publish any event again.
pub fn operator_permissions() -> Permissions {
    let event_exchanges = Exchange::ALL.map(|e| e.name());
    let dead: Vec<String> = SHARED_QUEUES.iter().map(|q| dead_letter_queue(q.name)).collect();
    Permissions {
        user: OPERATOR.to_owned(),
        configure: nothing(),
        write: exact(event_exchanges),
        read: exact(dead.iter().map(String::as_str)),
        topics: event_exchanges
            .into_iter()
            .map(|exchange| TopicPermissions {
                exchange,
                write: ".*".to_owned(),
                read: nothing(),
            })
            .collect(),
    }
}

/// Every account's permissions: the services', then the operator's.
pub fn all_permissions() -> Vec<Permissions> {
    ACCOUNTS
        .iter()
        .map(Account::permissions)
        .chain([operator_permissions()])
        .collect()
}

/// RabbitMQ definitions (`rabbitmqctl import_definitions`, or `load_definitions` at boot) of the
/// whole topology and every account, in virtual host `vhost`. `password_hash` gives each user's
/// stored password (see [`password_hash`]).
pub fn definitions(vhost: &str, password_hash: impl Fn(&str) -> String) -> Value {
    let permissions = all_permissions();
    let users: Vec<Value> = permissions
        .iter()
        .map(|p| {
            json!({"name": p.user, "password_hash": password_hash(&p.user),
                   "hashing_algorithm": "rabbit_password_hashing_sha256", "tags": []})
        })
        .collect();
    let grants: Vec<Value> = permissions
        .iter()
        .map(|p| json!({"user": p.user, "vhost": vhost, "configure": p.configure, "write": p.write, "read": p.read}))
        .collect();
    let topic_grants: Vec<Value> = permissions
        .iter()
        .flat_map(|p| {
            p.topics.iter().map(
                |t| json!({"user": p.user, "vhost": vhost, "exchange": t.exchange, "write": t.write, "read": t.read}),
            )
        })
        .collect();
    let exchanges: Vec<Value> = exchanges()
        .map(|name| {
            json!({"name": name, "vhost": vhost, "type": "topic", "durable": true, "auto_delete": false,
                   "internal": false, "arguments": {}})
        })
        .collect();
    let mut queues = Vec::new();
    let mut bindings = Vec::new();
    let binding = |source: &str, queue: &str, key: &str| {
        json!({"source": source, "vhost": vhost, "destination": queue, "destination_type": "queue",
               "routing_key": key, "arguments": {}})
    };
    for queue in SHARED_QUEUES {
        let dead = dead_letter_queue(queue.name);
        for name in [queue.name, dead.as_str()] {
            queues.push(json!({"name": name, "vhost": vhost, "durable": true, "auto_delete": false, "arguments": {}}));
        }
        bindings.push(binding(DEAD_LETTER_EXCHANGE, &dead, queue.name));
        for kind in queue.events {
            bindings.push(binding(kind.exchange().name(), queue.name, kind.routing_key()));
        }
    }
    json!({
        "vhosts": [{"name": vhost}],
        "users": users,
        "permissions": grants,
        "topic_permissions": topic_grants,
        "exchanges": exchanges,
        "queues": queues,
        "bindings": bindings,
    })
}

/// How RabbitMQ stores a password (`rabbit_password_hashing_sha256`): base64 of a 4-byte salt
/// followed by SHA-256(salt ‖ password).
pub fn password_hash(password: &str, salt: [u8; 4]) -> String {
    use base64::Engine;
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    hasher.update(salt);
    hasher.update(password.as_bytes());
    let mut stored = salt.to_vec();
    stored.extend_from_slice(&hasher.finalize());
    base64::engine::general_purpose::STANDARD.encode(stored)
}

/// The event exchanges and the dead-letter exchange.
fn exchanges() -> impl Iterator<Item = &'static str> {
    Exchange::ALL
        .into_iter()
        .map(Exchange::name)
        .chain([DEAD_LETTER_EXCHANGE])
}

/// A regex that matches nothing a GoChat resource or event is named.
fn nothing() -> String {
    "^$".to_owned()
}

/// A regex matching exactly these names (nothing when there are none).
fn exact<'a>(names: impl IntoIterator<Item = &'a str>) -> String {
    let names: Vec<&str> = names.into_iter().collect();
    if names.is_empty() {
        nothing()
    } else {
        format!("^{}$", alternatives(names.into_iter()))
    }
}

/// `(?:a|b)` of the escaped names.
fn alternatives<'a>(names: impl Iterator<Item = &'a str>) -> String {
    let escaped: Vec<String> = names.map(escape).collect();
    format!("(?:{})", escaped.join("|"))
}

/// One of two regexes.
fn either(first: String, second: Option<String>) -> String {
    match second {
        Some(second) => format!("{first}|{second}"),
        None => first,
    }
}

fn escape(name: &str) -> String {
    name.replace('.', "\\.")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether RabbitMQ lets `regex` match `name`: an unanchored search, as Erlang's `re`
    /// runs it (the permissions anchor themselves).
    fn matches(regex: &str, name: &str) -> bool {
        regex_automata::meta::Regex::new(regex)
            .expect("the permissions are valid regexes")
            .is_match(name)
    }

    fn of(service: &str) -> Permissions {
        Account::of(service).unwrap().permissions()
    }

    fn topic<'a>(p: &'a Permissions, exchange: &str) -> Option<&'a TopicPermissions> {
        p.topics.iter().find(|t| t.exchange == exchange)
    }

    #[test]
    fn each_service_reads_only_its_own_queues() {
        for account in ACCOUNTS {
            let p = account.permissions();
            for queue in SHARED_QUEUES {
                let own = account.consumes.is_some_and(|q| q.name == queue.name);
                assert_eq!(
                    matches(&p.read, queue.name),
                    own,
                    "{} reading {}",
                    account.service,
                    queue.name
                );
                assert!(!matches(&p.read, &dead_letter_queue(queue.name)), "{}", account.service);
                assert!(
                    !matches(&p.configure, queue.name),
                    "{} configuring {}",
                    account.service,
                    queue.name
                );
            }
            for other in ACCOUNTS {
                for (purpose, _) in other.instance_queues {
                    let queue = format!("{}.host-1a2b.{purpose}", other.service);
                    let own = other.service == account.service;
                    assert_eq!(matches(&p.read, &queue), own, "{} reading {queue}", account.service);
                    assert_eq!(
                        matches(&p.configure, &queue),
                        own,
                        "{} configuring {queue}",
                        account.service
                    );
                }
            }
        }
    }

    #[test]
    fn each_service_publishes_only_its_own_events() {
        for account in ACCOUNTS {
            let p = account.permissions();
            for kind in EventKind::ALL {
                let exchange = kind.exchange().name();
                let allowed = matches(&p.write, exchange)
                    && topic(&p, exchange).is_some_and(|t| matches(&t.write, kind.routing_key()));
                assert_eq!(
                    allowed,
                    account.publishes.contains(kind),
                    "{} publishing {kind:?}",
                    account.service
                );
            }
        }
        let chat = of("chat");
        assert!(!matches(
            &topic(&chat, "MessageEventsExchange").unwrap().write,
            "message.stored"
        ));
        assert!(topic(&chat, "UserEventsExchange").is_some_and(|t| !matches(&t.write, "user.signed_out")));
    }

    #[test]
    fn consumers_dead_letter_only_their_own_queue() {
        for account in ACCOUNTS {
            let p = account.permissions();
            let dead = topic(&p, DEAD_LETTER_EXCHANGE);
            match account.consumes {
                Some(queue) => {
                    assert!(matches(&p.write, DEAD_LETTER_EXCHANGE));
                    for other in SHARED_QUEUES {
                        assert_eq!(matches(&dead.unwrap().write, other.name), other.name == queue.name);
                    }
                }
                None => assert!(!matches(&p.write, DEAD_LETTER_EXCHANGE) && dead.is_none()),
            }
        }
    }

    #[test]
    fn instance_queues_may_be_bound_to_their_events_only() {
        let chat = of("chat");
        let messages = topic(&chat, "MessageEventsExchange").unwrap();
        for kind in CHAT_PUSH {
            assert!(matches(&messages.read, kind.routing_key()), "{kind:?}");
        }
        assert!(!matches(&messages.read, "message.sent"));
        assert!(!matches(&chat.read, DEAD_LETTER_EXCHANGE));
        let users = topic(&chat, "UserEventsExchange").unwrap();
        assert!(matches(&users.read, "user.signed_out"));
        assert!(!matches(&users.read, "user.registered"));
    }

    #[test]
    fn the_operator_reads_dead_letters_and_republishes_but_configures_nothing() {
        let p = operator_permissions();
        for queue in SHARED_QUEUES {
            assert!(matches(&p.read, &dead_letter_queue(queue.name)));
            assert!(!matches(&p.read, queue.name));
        }
        assert!(matches(&p.write, "MessageEventsExchange") && matches(&p.write, "UserEventsExchange"));
        assert!(!matches(&p.configure, "messages.events.dead"));
    }

    #[test]
    fn definitions_hold_every_account_and_the_whole_topology() {
        let defs = definitions("/", |user| format!("hash-of-{user}"));
        let names: Vec<&str> = defs["users"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["name"].as_str().unwrap())
            .collect();
        assert_eq!(
            names,
            [
                "gochat-auth",
                "gochat-users",
                "gochat-messages",
                "gochat-chat",
                "gochat-notifications",
                OPERATOR
            ]
        );
        assert_eq!(defs["exchanges"].as_array().unwrap().len(), 3);
        assert_eq!(defs["queues"].as_array().unwrap().len(), 2 * SHARED_QUEUES.len());
        let bindings = defs["bindings"].as_array().unwrap().len();
        let expected: usize = SHARED_QUEUES.iter().map(|q| q.events.len() + 1).sum();
        assert_eq!(bindings, expected);
    }

    #[test]
    fn password_hashes_are_rabbitmq_sha256() {
        // RabbitMQ's own documentation example: salt 908D C60A, password "test12".
        assert_eq!(
            password_hash("test12", [0x90, 0x8d, 0xc6, 0x0a]),
            "kI3GCqW5JLMJa4iX1lo7X4D6XbYqlLgxIs30+P6tENUV2POR"
        );
    }
}
