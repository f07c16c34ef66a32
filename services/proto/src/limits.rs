//! Size bounds of the contract, shared by validation on both sides (the web client gets them as
//! `client/src/api/generated/limits.ts`, with the character classes the checks of validate.rs use).

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
/// Most open mentions (their conversations not read past them) a notifications page lists
/// beside its page (`unreadMentions`).
pub const UNREAD_MENTIONS: u32 = 500;
/// Most members of a group, its owner included.
pub const MAX_GROUP_MEMBERS: usize = 256;
/// Length bounds of a group's title, in characters.
pub const TITLE_CHARS: std::ops::RangeInclusive<usize> = 1..=100;
/// Longest reaction, in bytes of UTF-8: one emoji, modifiers and joiners included.
pub const MAX_EMOJI_BYTES: usize = 16;
/// Most different reactions (emoji) on one message, most of them one member may add, and most
/// reactions on it in all (members who left keep theirs). So a message stays a small frame
/// however many react: a group's every member reacting five ways lists 1,280 ids (about 50 KB
/// of JSON), where a socket buffers 128 KiB.
pub const MAX_REACTIONS: usize = 20;
pub const MAX_REACTIONS_PER_MEMBER: usize = 5;
pub const MAX_REACTIONS_IN_ALL: usize = MAX_GROUP_MEMBERS * MAX_REACTIONS_PER_MEMBER;
/// Most attachments on one message.
pub const MAX_ATTACHMENTS: usize = 10;
/// Largest attachment by default (`GOCHAT_ATTACHMENT_MAX_BYTES` changes it; the client asks
/// the server for the value in force: `GET /api/attachments/limits`).
pub const DEFAULT_ATTACHMENT_MAX_BYTES: u64 = 25 * 1024 * 1024;
/// Bytes of attachments one user may keep by default, sent or not
/// (`GOCHAT_ATTACHMENT_QUOTA_BYTES`).
pub const DEFAULT_ATTACHMENT_QUOTA_BYTES: u64 = 1024 * 1024 * 1024;
/// Longest search query, in characters.
pub const MAX_SEARCH_CHARS: usize = 200;
/// Default and largest page sizes of search results.
pub const DEFAULT_SEARCH_PAGE: u32 = 20;
pub const MAX_SEARCH_PAGE: u32 = 50;

/// The limits the web client checks before sending, as a TypeScript module.
#[cfg(feature = "ts")]
pub fn typescript() -> String {
    use crate::admin::{
        MAX_INVITE_CODE_CHARS, MAX_INVITE_HOURS, MAX_INVITE_USES, MAX_RESET_CODE_CHARS, PASSWORD_RESET_HOURS,
    };
    let consts: [(&str, usize); 23] = [
        ("MAX_PAGE", MAX_PAGE as usize),
        ("MAX_FRAME_BYTES", MAX_FRAME_BYTES),
        ("MAX_BODY_CHARS", MAX_BODY_CHARS),
        ("PREVIEW_CHARS", PREVIEW_CHARS),
        ("MAX_GROUP_MEMBERS", MAX_GROUP_MEMBERS),
        ("MIN_TITLE_CHARS", *TITLE_CHARS.start()),
        ("MAX_TITLE_CHARS", *TITLE_CHARS.end()),
        ("MAX_EMOJI_BYTES", MAX_EMOJI_BYTES),
        ("MAX_REACTIONS", MAX_REACTIONS),
        ("MAX_REACTIONS_PER_MEMBER", MAX_REACTIONS_PER_MEMBER),
        ("MAX_REACTIONS_IN_ALL", MAX_REACTIONS_IN_ALL),
        ("MAX_ATTACHMENTS", MAX_ATTACHMENTS),
        ("DEFAULT_ATTACHMENT_MAX_BYTES", DEFAULT_ATTACHMENT_MAX_BYTES as usize),
        ("MAX_SEARCH_CHARS", MAX_SEARCH_CHARS),
        ("MIN_USERNAME_CHARS", *USERNAME_CHARS.start()),
        ("MAX_USERNAME_CHARS", *USERNAME_CHARS.end()),
        ("MIN_PASSWORD_CHARS", *PASSWORD_CHARS.start()),
        ("MAX_PASSWORD_CHARS", *PASSWORD_CHARS.end()),
        ("MAX_INVITE_USES", MAX_INVITE_USES as usize),
        ("MAX_INVITE_HOURS", MAX_INVITE_HOURS as usize),
        ("MAX_INVITE_CODE_CHARS", MAX_INVITE_CODE_CHARS),
        ("MAX_RESET_CODE_CHARS", MAX_RESET_CODE_CHARS),
        ("PASSWORD_RESET_HOURS", PASSWORD_RESET_HOURS as usize),
    ];
    let mut out =
        String::from("// Generated from services/proto/src/limits.rs and validate.rs; never edited by hand.\n\n");
    for (name, value) in consts {
        out.push_str(&format!("export const {name} = {value};\n"));
    }
    // Computed from the very functions the server checks bodies and titles with, so the client's
    // copy cannot miss a character added there.
    out.push_str(&char_class(
        "BLANK_CHARS",
        "Characters that show nothing: a body of only these is empty.",
        crate::validate::shows_nothing,
    ));
    out.push_str(&char_class(
        "CONTROL_CHARS",
        "Control characters that are not white space: never in a body.",
        crate::validate::is_control,
    ));
    out.push_str(&char_class(
        "NOT_IN_TITLE_CHARS",
        "Characters never in a group title: control characters, line breaks and tabs included, and the bidirectional overrides and isolates.",
        crate::validate::not_in_title,
    ));
    out
}

/// The code points of which `class` holds as a TypeScript constant: runs of consecutive ones.
#[cfg(feature = "ts")]
fn char_class(name: &str, doc: &str, class: fn(char) -> bool) -> String {
    let ranges: Vec<String> = code_point_ranges(class)
        .into_iter()
        .map(|(first, last)| format!("[0x{first:04X}, 0x{last:04X}]"))
        .collect();
    format!(
        "\n/** {doc} Ranges of code points, first and last included. */\nexport const {name}: readonly (readonly [number, number])[] = [{}];\n",
        ranges.join(", ")
    )
}

/// The code points of which `class` holds, as runs of consecutive ones (first, last).
#[cfg(feature = "ts")]
fn code_point_ranges(class: fn(char) -> bool) -> Vec<(u32, u32)> {
    let mut ranges: Vec<(u32, u32)> = Vec::new();
    for c in (char::MIN..=char::MAX).filter(|&c| class(c)) {
        let c = u32::from(c);
        match ranges.last_mut() {
            Some((_, last)) if *last + 1 == c => *last = c,
            _ => ranges.push((c, c)),
        }
    }
    ranges
}

#[cfg(all(test, feature = "ts"))]
mod tests {
    /// Writes the client's copy next to the ts-rs bindings (the same directory ts-rs uses).
    #[test]
    fn export_limits_for_the_client() {
        let dir = std::env::var("TS_RS_EXPORT_DIR").unwrap_or_else(|_| "./bindings".into());
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("limits.ts"), super::typescript()).unwrap();
    }
}
