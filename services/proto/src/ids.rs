//! Opaque identifiers. UUIDs on the wire, distinct types in code.

use serde::{Deserialize, Serialize};
use std::fmt;
use ts_rs::TS;
use uuid::Uuid;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, TS)]
        #[ts(export, type = "string")]
        pub struct $name(pub Uuid);

        impl $name {
            /// A fresh id; v7 so ids sort by creation time, which keeps SQLite indexes append-mostly.
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl std::str::FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }
    };
}

id_type!(
    /// A registered user.
    UserId
);
id_type!(
    /// A conversation (today always direct: exactly two members).
    ConversationId
);
id_type!(
    /// A stored message.
    MessageId
);
id_type!(
    /// Chosen by the sending tab; (sender, client id) makes a resend idempotent.
    ClientId
);
id_type!(
    /// A stored notification.
    NotificationId
);
id_type!(
    /// A bus event; consumers remember applied ids so redelivery applies nothing twice.
    EventId
);
