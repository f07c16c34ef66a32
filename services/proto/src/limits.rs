//! Size bounds of the contract.

/// Largest WebSocket text frame accepted, in bytes; a larger one closes the socket (1009).
pub const MAX_FRAME_BYTES: usize = 16 * 1024;
/// Longest message body, in characters (Unicode scalar values).
pub const MAX_BODY_CHARS: usize = 4000;
/// Largest JSON request body accepted by any HTTP route, in bytes.
pub const MAX_JSON_BODY_BYTES: usize = 64 * 1024;
/// Default and largest page sizes of list routes.
pub const DEFAULT_PAGE: u32 = 50;
pub const MAX_PAGE: u32 = 100;
/// Username length bounds (characters of `[A-Za-z0-9_.-]`).
pub const USERNAME_CHARS: std::ops::RangeInclusive<usize> = 3..=32;
/// Password length bounds, in characters.
pub const PASSWORD_CHARS: std::ops::RangeInclusive<usize> = 8..=128;
/// Longest email address accepted (RFC 5321's path limit).
pub const MAX_EMAIL_CHARS: usize = 254;
/// Characters of a message kept as a notification's preview.
pub const PREVIEW_CHARS: usize = 140;
