//! Who a message mentions: `@username` of a member, as the web client shows and completes it
//! (client/src/lib/mentions.ts follows the same rules, and both test suites read the cases of
//! client/src/lib/mentions.cases.json). A mention is what lets a muted group still reach the
//! person named in it.
//!
//! The rules: an `@` at the start of a text, or after a space, opening punctuation or a
//! formatting marker (so `ann@example.com` and `…/@ann` name nobody), followed by the name's
//! characters (`[A-Za-z0-9_.-]`, as usernames are made); a name matches case-insensitively, and
//! when the whole run names nobody, the run without the dots, dashes and underscores at its end
//! is tried ("ask @ann." and "_@ann_" name ann). Nothing inside code is a mention.

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
    Ok(resolve(&names, &members)
        .into_iter()
        .map(|(id, _)| *id)
        .filter(|id| *id != sender)
        .collect())
}

/// The members (id, username) that `names` name, each once, in the order first named.
fn resolve<'m, Id>(names: &[String], members: &'m [(Id, String)]) -> Vec<&'m (Id, String)> {
    let named = |name: &str| members.iter().find(|(_, username)| username.eq_ignore_ascii_case(name));
    let mut found: Vec<&(Id, String)> = Vec::new();
    for name in names {
        if let Some(member) = named(name).or_else(|| named(name.trim_end_matches(['.', '-', '_'])))
            && !found.iter().any(|f| std::ptr::eq(*f, member))
        {
            found.push(member);
        }
    }
    found
}

/// The names written after an `@` outside code, as written (see the module's rules).
pub fn names(body: &str) -> Vec<String> {
    let mut names = Vec::new();
    if !body.contains('@') {
        return names; // most messages: nothing to cut up
    }
    for text in outside_code(&body.replace("\r\n", "\n").replace('\r', "\n")) {
        for (at, _) in text.match_indices('@') {
            if text[..at].chars().next_back().is_some_and(|c| !mention_after(c)) {
                continue;
            }
            let run = text.as_bytes()[at + 1..]
                .iter()
                .take_while(|b| is_name_byte(**b))
                .count();
            if run > 0 && run <= LONGEST {
                names.push(text[at + 1..at + 1 + run].to_owned());
            }
        }
    }
    names
}

fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-')
}

/// What a mention may follow, besides the start of a text: a space, opening punctuation or a
/// formatting marker (so `ann@example.com` and `…/@ann` name nobody, `_@ann_` does).
fn mention_after(c: char) -> bool {
    c.is_whitespace() || "([{\"'«¡¿—*_~".contains(c)
}

/// The text of `body` outside code, as the web client shows it (client/src/lib/markdown.ts): a
/// code block runs from ``` at the start of a line to the next ``` (or the end), unless it holds
/// nothing; a code span from a run of backticks to the next run of as many, within a line.
fn outside_code(body: &str) -> Vec<&str> {
    let mut pieces = Vec::new();
    let mut rest = body;
    while !rest.is_empty() {
        if let Some(after_fence) = rest.strip_prefix(FENCE) {
            let (code, after) = fenced_code(after_fence);
            if !code.trim().is_empty() {
                rest = after;
                continue;
            }
        }
        let (line, next) = rest.split_once('\n').unwrap_or((rest, ""));
        outside_spans(line, &mut pieces);
        rest = next;
    }
    pieces
}

const FENCE: &str = "```";

/// The code after an opening fence (past a language name on its line), up to the closing fence
/// or the end, and the text after it.
fn fenced_code(after_fence: &str) -> (&str, &str) {
    let name = after_fence.trim_start_matches(|c: char| c.is_ascii_alphanumeric() || "_+#.-".contains(c));
    let body = name
        .trim_start_matches([' ', '\t'])
        .strip_prefix('\n')
        .unwrap_or(after_fence);
    match body.find(FENCE) {
        None => (body, ""),
        Some(close) => {
            let after = body[close + FENCE.len()..].trim_start_matches([' ', '\t']);
            (&body[..close], after.strip_prefix('\n').unwrap_or(after))
        }
    }
}

/// The pieces of `line` outside its code spans.
fn outside_spans<'a>(line: &'a str, pieces: &mut Vec<&'a str>) {
    let (bytes, mut from, mut i) = (line.as_bytes(), 0, 0);
    while i < bytes.len() {
        if bytes[i] != b'`' {
            i += 1;
            continue;
        }
        let run = bytes[i..].iter().take_while(|b| **b == b'`').count();
        match closing_run(bytes, run, i + run) {
            Some(close) => {
                pieces.push(&line[from..i]);
                from = close + run;
                i = from;
            }
            None => i += run,
        }
    }
    pieces.push(&line[from..]);
}

/// Where the next run of exactly `run` backticks starts at or after `from`.
fn closing_run(bytes: &[u8], run: usize, from: usize) -> Option<usize> {
    let mut i = from;
    while i < bytes.len() {
        if bytes[i] != b'`' {
            i += 1;
            continue;
        }
        let len = bytes[i..].iter().take_while(|b| **b == b'`').count();
        if len == run {
            return Some(i);
        }
        i += len;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    /// The cases the client's tests read too (client/src/lib/mentions.test.ts).
    #[derive(Deserialize)]
    struct Shared {
        members: Vec<String>,
        cases: Vec<Case>,
    }
    #[derive(Deserialize)]
    struct Case {
        body: String,
        mentions: Vec<String>,
    }

    #[test]
    fn the_server_finds_the_mentions_the_client_shows() {
        let shared: Shared =
            serde_json::from_str(include_str!("../../../../client/src/lib/mentions.cases.json")).unwrap();
        let members: Vec<((), String)> = shared.members.into_iter().map(|m| ((), m)).collect();
        for case in shared.cases {
            let found: Vec<&str> = resolve(&names(&case.body), &members)
                .into_iter()
                .map(|(_, username)| username.as_str())
                .collect();
            assert_eq!(found, case.mentions, "{:?}", case.body);
        }
    }

    #[test]
    fn a_name_is_at_most_as_long_as_a_username_and_its_full_stop() {
        assert_eq!(names(&format!("@{}", "a".repeat(33))).len(), 1);
        assert!(names(&format!("@{}", "a".repeat(34))).is_empty());
    }
}
