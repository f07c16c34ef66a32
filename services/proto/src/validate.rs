//! Checks of user input that more than one service applies (chat at the edge, the messages
//! service where it is stored), so both refuse exactly the same things with the same words.

use crate::ids::AttachmentId;
use crate::limits::{MAX_ATTACHMENTS, MAX_BODY_CHARS, MAX_EMOJI_BYTES, TITLE_CHARS};
use std::ops::RangeInclusive;

/// A message: a body of at most [`MAX_BODY_CHARS`] characters, not blank unless the message
/// carries attachments, and at most [`MAX_ATTACHMENTS`] attachments, each once.
pub fn body(body: &str, attachments: &[AttachmentId]) -> Result<(), &'static str> {
    if attachments.len() > MAX_ATTACHMENTS {
        return Err("a message carries at most 10 attachments");
    }
    if attachments
        .iter()
        .enumerate()
        .any(|(i, a)| attachments[..i].contains(a))
    {
        return Err("an attachment is sent once");
    }
    if body.chars().any(is_control) {
        return Err("a message cannot hold control characters");
    }
    if attachments.is_empty() && body.chars().all(shows_nothing) {
        return Err("the message is empty");
    }
    if body.chars().count() > MAX_BODY_CHARS {
        return Err("the message is longer than 4000 characters");
    }
    Ok(())
}

/// An edited body: like a new one, but it cannot be emptied (delete the message instead).
pub fn edited_body(body: &str) -> Result<(), &'static str> {
    self::body(body, &[])
}

/// A group title, trimmed: 1 to 100 characters, none of them a control character or one that
/// reorders the text around it (a title "\u{202E}gnp.exe" shows as "exe.png").
pub fn title(title: &str) -> Result<&str, &'static str> {
    let title = title.trim();
    if !TITLE_CHARS.contains(&title.chars().count()) || title.chars().all(shows_nothing) {
        return Err("a title has 1 to 100 characters");
    }
    if title.chars().any(not_in_title) {
        return Err("a title cannot hold control characters");
    }
    Ok(title)
}

/// A character no title holds: any control character and the line and paragraph separators (a
/// title is one line: no line break or tab), and the bidirectional overrides and isolates,
/// which reorder the text around them. (The web client gets this set generated, in limits.ts.)
pub(crate) fn not_in_title(c: char) -> bool {
    c.is_control() || matches!(c, '\u{2028}' | '\u{2029}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// A control character that is not white space (NUL, escape, bell, ...): nothing a person
/// writes. Line breaks, tabs and the vertical tab, form feed and next line that office
/// programs and mis-decoded text paste as line breaks are white space.
pub(crate) fn is_control(c: char) -> bool {
    c.is_control() && !c.is_whitespace()
}

/// Whether `c` shows nothing: white space, a control character or an [`INVISIBLE`] one. A
/// message of only these is empty. (The web client gets this set generated, in limits.ts.)
pub(crate) fn shows_nothing(c: char) -> bool {
    c.is_whitespace() || c.is_control() || INVISIBLE.iter().any(|r| r.contains(&c))
}

/// Characters drawn as nothing that are neither white space nor control characters: Unicode's
/// Default_Ignorable_Code_Point (zero-width spaces and joiners, direction marks, the soft hyphen,
/// word joiner and invisible operators, the Hangul fillers, variation selectors, byte-order mark,
/// tags, and the code points kept for more of them), plus the blanks that are assigned a glyph
/// of nothing and are pasted to post "empty" messages: Braille pattern blank and the musical
/// null notehead. Within visible text they stay: an emoji's variation selector, joiners and tags
/// belong to it (❤️, 👩‍👩‍👧, a Scottish flag).
const INVISIBLE: &[RangeInclusive<char>] = &[
    '\u{00AD}'..='\u{00AD}',
    '\u{034F}'..='\u{034F}',
    '\u{061C}'..='\u{061C}',
    '\u{115F}'..='\u{1160}',
    '\u{17B4}'..='\u{17B5}',
    '\u{180B}'..='\u{180F}',
    '\u{200B}'..='\u{200F}',
    '\u{202A}'..='\u{202E}',
    '\u{2060}'..='\u{206F}',
    '\u{2800}'..='\u{2800}',
    '\u{3164}'..='\u{3164}',
    '\u{FE00}'..='\u{FE0F}',
    '\u{FEFF}'..='\u{FEFF}',
    '\u{FFA0}'..='\u{FFA0}',
    '\u{FFF0}'..='\u{FFF8}',
    '\u{1BCA0}'..='\u{1BCA3}',
    '\u{1D159}'..='\u{1D159}',
    '\u{1D173}'..='\u{1D17A}',
    '\u{E0000}'..='\u{E0FFF}',
];

/// A reaction: exactly one emoji (skin tones and other modifiers included), at most
/// [`MAX_EMOJI_BYTES`] bytes, in its fully-qualified form. "❤" and "❤️" are one heart written
/// with and without its emoji presentation selector; a keyboard may give either, and both must
/// be the same reaction, which a member can take back whichever way they typed it.
pub fn emoji(emoji: &str) -> Result<&'static str, &'static str> {
    match emojis::get(emoji) {
        // Both forms within the bound: the fully-qualified one can be the longer ("👁‍🗨", 11
        // bytes, is "👁️‍🗨️", 17).
        Some(found) if emoji.len() <= MAX_EMOJI_BYTES && found.as_str().len() <= MAX_EMOJI_BYTES => Ok(found.as_str()),
        _ => Err("a reaction is one emoji"),
    }
}

/// A seq that can name a message: 1 or more.
pub fn seq(seq: i64) -> Result<(), &'static str> {
    if seq < 1 {
        return Err("seq must be 1 or more");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_need_text_unless_they_carry_files_and_fit_the_limit() {
        let file = AttachmentId::new();
        assert!(body("hi", &[]).is_ok());
        assert!(body(" \n\t", &[]).is_err());
        assert!(body("", &[file]).is_ok());
        assert!(body("", &[file, file]).is_err(), "each attachment once");
        let many: Vec<_> = (0..=MAX_ATTACHMENTS).map(|_| AttachmentId::new()).collect();
        assert!(body("", &many).is_err());
        assert!(body(&"é".repeat(MAX_BODY_CHARS), &[]).is_ok());
        assert!(body(&"é".repeat(MAX_BODY_CHARS + 1), &[]).is_err());
        assert!(edited_body("").is_err());
        assert_eq!(
            edited_body("\u{3164}"),
            Err("the message is empty"),
            "an edit is judged alike"
        );
    }

    /// What shows nothing and what is a control character, on the samples the web client's copy
    /// of this check (client/src/features/chat/messageBody.ts) is tested on too.
    #[test]
    fn bodies_are_judged_as_the_web_client_judges_them() {
        #[derive(serde::Deserialize)]
        struct Shared {
            cases: Vec<Case>,
        }
        #[derive(serde::Deserialize)]
        struct Case {
            body: String,
            #[serde(default)]
            attachments: bool,
            fault: Option<String>,
        }
        let shared: Shared =
            serde_json::from_str(include_str!("../../../client/src/features/chat/messageBody.cases.json")).unwrap();
        let file = [AttachmentId::new()];
        for case in shared.cases {
            let expected = match case.fault.as_deref() {
                None => Ok(()),
                Some("blank") => Err("the message is empty"),
                Some("control") => Err("a message cannot hold control characters"),
                Some(other) => panic!("unknown fault {other:?}"),
            };
            let files = if case.attachments { &file[..] } else { &[] };
            assert_eq!(body(&case.body, files), expected, "{:?}", case.body);
        }
    }

    /// Titles on the samples the web client's copy of this check
    /// (client/src/features/chat/groupTitle.ts) is tested on too.
    #[test]
    fn titles_are_judged_as_the_web_client_judges_them() {
        #[derive(serde::Deserialize)]
        struct Shared {
            cases: Vec<Case>,
        }
        #[derive(serde::Deserialize)]
        struct Case {
            title: String,
            fault: Option<String>,
            trimmed: Option<String>,
        }
        let shared: Shared =
            serde_json::from_str(include_str!("../../../client/src/features/chat/groupTitle.cases.json")).unwrap();
        for case in shared.cases {
            let expected = match case.fault.as_deref() {
                None => Ok(case.trimmed.as_deref().unwrap_or(&case.title)),
                Some("blank" | "length") => Err("a title has 1 to 100 characters"),
                Some("control") => Err("a title cannot hold control characters"),
                Some(other) => panic!("unknown fault {other:?}"),
            };
            assert_eq!(title(&case.title), expected, "{:?}", case.title);
        }
    }

    #[test]
    fn titles_are_trimmed_and_bounded() {
        assert_eq!(title("  Family "), Ok("Family"));
        assert!(title("   ").is_err());
        assert!(title(&"x".repeat(101)).is_err());
        assert!(title(&"é".repeat(100)).is_ok());
        assert!(title("\u{200B}").is_err(), "nothing to see");
        assert!(
            title("\u{3164}\u{2800}").is_err(),
            "fillers and blanks show nothing either"
        );
        assert!(title("שלום Family").is_ok());
        for bad in ["a\u{0}b", "\u{202E}gnp.exe", "x\u{2066}y", "two\nlines", "tab\tbed"] {
            assert_eq!(title(bad), Err("a title cannot hold control characters"), "{bad:?}");
        }
    }

    #[test]
    fn a_reaction_is_exactly_one_emoji() {
        for ok in ["👍", "👍🏽", "❤️", "🇫🇷", "🎉", "☺️"] {
            assert_eq!(emoji(ok), Ok(ok));
        }
        // The text-presentation forms are the same reactions as the emoji ones.
        assert_eq!(emoji("❤"), Ok("❤️"));
        assert_eq!(emoji("☺"), Ok("☺️"));
        assert_eq!(emoji("✌🏽"), Ok("✌🏽"));
        assert!(emoji("👁‍🗨").is_err(), "its one form is over the bound");
        for bad in ["", "a", "👍👍", "hello", "👨‍👩‍👧‍👦", "<script>"] {
            assert!(emoji(bad).is_err(), "{bad}");
        }
    }
}
