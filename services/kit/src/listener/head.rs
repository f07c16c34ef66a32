//! The limits of a request head, and their answers.
//!
//! hyper refuses heads over its own limits (a URL over 64 KiB, which `http::Uri` cannot hold; a
//! head over its 400 KiB buffer; over 100 headers) before any of our code sees the request, and
//! its answer has an empty body. So the connection reads each head as it arrives, and one over
//! our lower limits never reaches hyper: the connection answers it with the contract's error
//! body (see [`super::Connection`]).
//!
//! The code is `invalid_input` with the status HTTP has for the case (414, 431): the request
//! cannot be valid for any route, and `payload_too_large` is about bodies (413).

use crate::http::ApiError;
use std::sync::LazyLock;

/// Longest request line taken (method, URL and version, without the line's end): nginx's
/// default, and far beyond any URL of GoChat's. A longer one is answered 414.
pub const MAX_REQUEST_LINE: usize = 8 * 1024;
/// Most bytes of a request head (request line, headers and the blank line that ends them). A
/// larger head is answered 431. Well below hyper's buffer (400 KiB), so that ours answers first.
pub const MAX_HEAD: usize = 64 * 1024;
/// Most headers, hyper's own limit: the 101st is answered 431 before hyper sees it.
pub const MAX_HEADERS: usize = 100;

/// What has been read of a request head: the bytes a connection receives while no request is
/// in progress, from the first one on.
#[derive(Debug, Default)]
pub(super) struct HeadScan {
    /// Bytes of the head so far.
    bytes: usize,
    /// Bytes of the line being read, without `\r`.
    line: usize,
    /// Lines read to their end: the request line, then one per header.
    lines: usize,
    /// The blank line has been read: what follows is a body, or the next request.
    ended: bool,
}

/// A head over the limits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum TooLarge {
    RequestLine,
    Head,
}

impl HeadScan {
    /// Reads `bytes`, the next ones of the connection; says when the head broke a limit.
    pub(super) fn read(&mut self, bytes: &[u8]) -> Option<TooLarge> {
        for &byte in bytes {
            if self.ended {
                return None;
            }
            self.bytes += 1;
            match byte {
                b'\n' if self.line == 0 => {
                    // Empty lines before the request line are skipped, as hyper (httparse) does.
                    self.ended = self.lines > 0;
                }
                b'\n' => {
                    self.lines += 1;
                    self.line = 0;
                }
                b'\r' => {}
                _ => {
                    if self.line == 0 && self.lines > MAX_HEADERS {
                        return Some(TooLarge::Head);
                    }
                    self.line += 1;
                    if self.lines == 0 && self.line > MAX_REQUEST_LINE {
                        return Some(TooLarge::RequestLine);
                    }
                }
            }
            if self.bytes > MAX_HEAD {
                return Some(TooLarge::Head);
            }
        }
        None
    }
}

impl TooLarge {
    /// The whole answer, head and JSON body; the connection closes after it.
    pub(super) fn answer(self) -> &'static [u8] {
        static URL: LazyLock<Vec<u8>> = LazyLock::new(|| {
            let limit = MAX_REQUEST_LINE / 1024;
            answer(
                "414 URI Too Long",
                format!("the URL is too long (a request line may take {limit} KiB)"),
            )
        });
        static HEAD: LazyLock<Vec<u8>> = LazyLock::new(|| {
            let limit = MAX_HEAD / 1024;
            answer(
                "431 Request Header Fields Too Large",
                format!("the request headers are too large (at most {limit} KiB and {MAX_HEADERS} headers)"),
            )
        });
        match self {
            Self::RequestLine => &URL,
            Self::Head => &HEAD,
        }
    }
}

fn answer(status: &str, message: String) -> Vec<u8> {
    let body = serde_json::to_vec(&ApiError::invalid(message).body()).expect("an error body serializes");
    let mut answer = format!(
        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
         x-content-type-options: nosniff\r\nconnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    answer.extend_from_slice(&body);
    answer
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `head` read in pieces of `piece` bytes: where it broke a limit, if it did.
    fn scan(head: &[u8], piece: usize) -> Option<TooLarge> {
        let mut scan = HeadScan::default();
        head.chunks(piece).find_map(|chunk| scan.read(chunk))
    }

    #[test]
    fn limits_hold_however_the_head_arrives() {
        let url = |len: usize| format!("GET /{} HTTP/1.1\r\nHost: a\r\n\r\n", "u".repeat(len - 14));
        let headers = |count: usize| {
            let lines: String = (0..count).map(|i| format!("X-{i}: 1\r\n")).collect();
            format!("GET / HTTP/1.1\r\n{lines}\r\n")
        };
        let head = |len: usize| {
            let pad = len - "GET / HTTP/1.1\r\nCookie: \r\n\r\n".len();
            format!("GET / HTTP/1.1\r\nCookie: {}\r\n\r\n", "c".repeat(pad))
        };
        for piece in [1, 7, 4096, usize::MAX] {
            assert_eq!(scan(url(MAX_REQUEST_LINE).as_bytes(), piece), None);
            assert_eq!(
                scan(url(MAX_REQUEST_LINE + 1).as_bytes(), piece),
                Some(TooLarge::RequestLine)
            );
            assert_eq!(scan(headers(MAX_HEADERS).as_bytes(), piece), None);
            assert_eq!(scan(headers(MAX_HEADERS + 1).as_bytes(), piece), Some(TooLarge::Head));
            assert_eq!(scan(head(MAX_HEAD).as_bytes(), piece), None);
            assert_eq!(scan(head(MAX_HEAD + 1).as_bytes(), piece), Some(TooLarge::Head));
        }
    }

    /// After the blank line comes a body (or the next request), which is not a head's to limit.
    #[test]
    fn what_follows_the_head_is_not_counted() {
        let body = "b".repeat(MAX_HEAD * 2);
        let request = format!("POST / HTTP/1.1\r\nContent-Length: {}\r\n\r\n{body}", body.len());
        assert_eq!(scan(request.as_bytes(), 1000), None);
        // Empty lines before the request line do not end the head.
        let late = format!("\r\n\r\nGET /{} HTTP/1.1\r\n\r\n", "u".repeat(MAX_REQUEST_LINE));
        assert_eq!(scan(late.as_bytes(), 3), Some(TooLarge::RequestLine));
    }

    #[test]
    fn the_answers_carry_the_contracts_error_body() {
        for (too_large, status) in [(TooLarge::RequestLine, "414"), (TooLarge::Head, "431")] {
            let answer = std::str::from_utf8(too_large.answer()).unwrap();
            let (head, body) = answer.split_once("\r\n\r\n").unwrap();
            assert!(head.starts_with(&format!("HTTP/1.1 {status} ")), "{head}");
            assert!(
                head.contains(&format!("\r\ncontent-length: {}\r\n", body.len())),
                "{head}"
            );
            let body: serde_json::Value = serde_json::from_str(body).unwrap();
            assert_eq!(body["error"]["code"], "invalid_input");
        }
    }
}
