//! Checks of user input that more than one service applies (chat at the edge, the messages
//! service where it is stored), so both refuse exactly the same things with the same words.

use crate::ids::AttachmentId;
use crate::limits::{MAX_ATTACHMENTS, MAX_BODY_CHARS, MAX_EMOJI_BYTES, TITLE_CHARS};

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
    if title
        .chars()
        .any(|c| c.is_control() || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'))
    {
        return Err("a title cannot hold control characters");
    }
    Ok(title)
}

/// A control character that is not white space (NUL, escape, bell, ...): nothing a person
/// writes. Line breaks, tabs and the vertical tab, form feed and next line that office
/// programs and mis-decoded text paste as line breaks are white space.
fn is_control(c: char) -> bool {
    c.is_control() && !c.is_whitespace()
}

/// Whether `c` shows nothing: white space, a control character, or a zero-width one (space,
/// joiners, word joiner, byte-order mark). A message of only these is empty.
fn shows_nothing(c: char) -> bool {
    c.is_whitespace() || c.is_control() || matches!(c, '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}' | '\u{180E}')
}

/// A reaction: exactly one emoji (skin tones and other modifiers included), at most
/// [`MAX_EMOJI_BYTES`] bytes, in its fully-qualified form. "❤" and "❤️" are one heart written
/// with and without its emoji presentation selector; a keyboard may give either, and both must
/// be the same reaction, which a member can take back whichever way they typed it.
pub fn emoji(emoji: &str) -> Result<&'static str, &'static str> {
    match emojis::get(emoji) {
        Some(found) if emoji.len() <= MAX_EMOJI_BYTES => Ok(found.as_str()),
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
        // Nothing to see is empty; control characters are nothing a person writes.
        for blank in ["\u{200B}", " \u{FEFF}\u{2060} ", "\u{3000}"] {
            assert_eq!(body(blank, &[]), Err("the message is empty"), "{blank:?}");
        }
        for control in ["\u{0}", "a\u{0}b", "bell\u{7}", "\u{1b}[31mred"] {
            assert_eq!(
                body(control, &[]),
                Err("a message cannot hold control characters"),
                "{control:?}"
            );
        }
        assert!(body("lines\r\nand\ttabs", &[]).is_ok());
        assert!(
            body("pasted\u{b}from a slide\u{85}and\u{c}more", &[]).is_ok(),
            "line breaks of pastes"
        );
        assert!(
            body("עברית and English ‏mixed", &[]).is_ok(),
            "right-to-left text and marks"
        );
    }

    #[test]
    fn titles_are_trimmed_and_bounded() {
        assert_eq!(title("  Family "), Ok("Family"));
        assert!(title("   ").is_err());
        assert!(title(&"x".repeat(101)).is_err());
        assert!(title(&"é".repeat(100)).is_ok());
        assert!(title("\u{200B}").is_err(), "nothing to see");
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
        for bad in ["", "a", "👍👍", "hello", "👨‍👩‍👧‍👦", "<script>"] {
            assert!(emoji(bad).is_err(), "{bad}");
        }
    }
}
