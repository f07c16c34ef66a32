//! Opaque identifiers. UUIDs on the wire, distinct types in code.

use serde::{Deserialize, Serialize};
use std::fmt;
#[cfg(feature = "ts")]
use ts_rs::TS;
use uuid::Uuid;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[cfg_attr(feature = "ts", derive(TS), ts(export, type = "string"))]
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

        /// Stored as its text form, as it travels on the wire.
        #[cfg(feature = "sqlite")]
        impl rusqlite::types::ToSql for $name {
            fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
                Ok(rusqlite::types::ToSqlOutput::from(self.0.to_string()))
            }
        }

        #[cfg(feature = "sqlite")]
        impl rusqlite::types::FromSql for $name {
            fn column_result(value: rusqlite::types::ValueRef<'_>) -> rusqlite::types::FromSqlResult<Self> {
                value
                    .as_str()?
                    .parse()
                    .map_err(|e| rusqlite::types::FromSqlError::Other(Box::new(e)))
            }
        }
    };
}

id_type!(
    /// A registered user.
    UserId
);
id_type!(
    /// A conversation: direct (two members) or a group.
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
    /// An uploaded file.
    AttachmentId
);
id_type!(
    /// A bus event; consumers remember applied ids so redelivery applies nothing twice.
    EventId
);
