//! Who a message mentions: `@username` of a member, as the web client shows and completes it
//! (client/src/lib/mentions.ts follows the same rules). A mention is what lets a muted group
//! still reach the person named in it.
//!
//! The rules: an `@` at the start of the text or after a character that cannot be part of a
//! name (so `ann@example.com` names nobody), followed by the name's characters
//! (`[A-Za-z0-9_.-]`, as usernames are made); a name matches case-insensitively, and when the
//! whole run names nobody, the run without the dots and dashes at its end is tried ("ask
//! @ann." names ann). Nothing inside code (`` `…` `` or a ``` block) is a mention.

use gochat_proto::ids::{ConversationId, UserId};
use rusqlite::Connection;

/// Longest name a mention reads (usernames are at most 32 characters; one more for a
/// trailing dot).
const LONGEST: usize = 33;

/// The members of `conversation` other than `sender` whom `body` mentions.
pub fn mentioned(
    c: &Connection,
    conversation: ConversationId,
    sender: UserId,
    body: &str,
) -> rusqlite::Result<Vec<UserId>> {
    let names = names(body);
    if names.is_empty() {
        return Ok(Vec::new());
    }
    let members = c
        .prepare_cached(
            "SELECT u.id, u.username FROM members m JOIN users u ON u.id = m.user_id
             WHERE m.conversation_id = ?1",
        )?
        .query_map([conversation], |r| Ok((r.get::<_, UserId>(0)?, r.get::<_, String>(1)?)))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let named = |name: &str| members.iter().find(|(_, username)| username.eq_ignore_ascii_case(name));
    let mut found = Vec::new();
    for name in names {
        let trimmed = name.trim_end_matches(['.', '-']);
        if let Some((id, _)) = named(name).or_else(|| named(trimmed))
            && *id != sender
            && !found.contains(id)
        {
            found.push(*id);
        }
    }
    Ok(found)
}

/// The names written after an `@` outside code, as written (see the module's rules).
pub fn names(body: &str) -> Vec<&str> {
    let mut names = Vec::new();
    if !body.contains('@') {
        return names; // most messages: nothing to cut up
    }
    for text in outside_code(body) {
        let bytes = text.as_bytes();
        for (at, _) in text.match_indices('@') {
            if at > 0 && is_name_byte(bytes[at - 1]) {
                continue;
            }
            let run = bytes[at + 1..].iter().take_while(|b| is_name_byte(**b)).count();
            if run > 0 && run <= LONGEST {
                names.push(&text[at + 1..at + 1 + run]);
            }
        }
    }
    names
}

fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-')
}

/// The pieces of `body` outside code blocks (from a line starting with ``` to the next such
/// line) and code spans (`` `…` `` within a line).
fn outside_code(body: &str) -> Vec<&str> {
    let mut pieces = Vec::new();
    let mut in_block = false;
    for line in body.split_inclusive('\n') {
        if line.trim_start_matches(' ').starts_with("```") {
            in_block = !in_block;
            continue;
        }
        if in_block {
            continue;
        }
        // Between the pairs of backticks: an odd one out opens nothing (as the client shows it).
        let ticks: Vec<usize> = line.match_indices('`').map(|(i, _)| i).collect();
        let mut from = 0;
        for pair in ticks.chunks_exact(2) {
            pieces.push(&line[from..pair[0]]);
            from = pair[1] + 1;
        }
        pieces.push(&line[from..]);
    }
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_after_an_at_sign_at_a_word_start_outside_code() {
        assert_eq!(names("@ann hi"), ["ann"]);
        assert_eq!(names("hi @Ann, and (@bob_2)!"), ["Ann", "bob_2"]);
        assert_eq!(
            names("ask @ann."),
            ["ann."],
            "the trailing dot is tried off when resolving"
        );
        assert_eq!(names("mail ann@example.com"), Vec::<&str>::new());
        assert_eq!(names("@ alone and @@"), Vec::<&str>::new());
        assert_eq!(names("`@ann` and ``` @bob"), ["bob"]);
        assert_eq!(names("```\n@ann\n```\n@bob"), ["bob"]);
        assert_eq!(names("a ` odd @ann"), ["ann"]);
        assert_eq!(names(&format!("@{}", "a".repeat(40))), Vec::<&str>::new());
    }
}
