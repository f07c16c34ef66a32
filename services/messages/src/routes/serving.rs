//! A stored file as an HTTP response: its `ETag` with `If-None-Match` (RFC 9110 §13.1.2: `*`,
//! or a list of tags compared weakly, since proxies that compress weaken tags), and one byte
//! range (`Range: bytes=…`, §14.2) so browsers can seek in videos and audio and resume
//! downloads.
//!
//! Written here rather than taken from tower-http's `ServeFile`: that one answers several
//! ranges with 416 (they get the whole file here), ignores `If-Range`, adds the file's time as
//! a second validator where the name of the bytes is the exact one, and refuses a suffix longer
//! than the file (`bytes=-n`), which RFC 9110 serves whole.

use crate::attachments::picture::NEUTRAL_TYPE;
use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use gochat_kit::http::ApiError;
use std::ops::Range;
use tokio::io::{AsyncReadExt, AsyncSeekExt};

/// What a `Range` header asks of a file.
#[derive(Debug, PartialEq, Eq)]
enum Wanted {
    Whole,
    Part(Range<u64>),
    Unsatisfiable,
}

/// A file's bytes as a stream (or the part asked for), never sniffed by the browser. The bytes
/// of a name never change, but who may see them does: browsers keep them and ask again each
/// time (`no-cache`), which costs a 304 while access lasts.
pub async fn serve(
    path: &std::path::Path,
    etag: &str,
    content_type: &str,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    let etag = format!("\"{etag}\"");
    let unchanged = headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .any(|value| names(value.as_bytes(), &etag));
    let mut response = if unchanged {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        bytes(path, &etag, content_type, headers).await?
    };
    let h = response.headers_mut();
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    // Opened on its own (not in an <img>), the file is a sandboxed document: no script runs.
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("sandbox"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-cache"));
    if let Ok(value) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, value);
    }
    Ok(response)
}

/// 200 with the whole file, 206 with the range asked for, or 416 when it is past the end.
async fn bytes(
    path: &std::path::Path,
    etag: &str,
    content_type: &str,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    let mut file = match tokio::fs::File::open(path).await {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            tracing::warn!(path = %path.display(), "an attachment's file is missing");
            return Err(ApiError::NotFound);
        }
        Err(e) => return Err(internal(e)),
    };
    let length = file.metadata().await.map_err(internal)?.len();
    // `If-Range` asks for the part only while the bytes are those of its tag (compared
    // strongly; a date never matches, as none is sent).
    let range = headers.get(header::RANGE).filter(|_| {
        headers
            .get(header::IF_RANGE)
            .is_none_or(|v| v.as_bytes() == etag.as_bytes())
    });
    let (status, part) = match range.map_or(Wanted::Whole, |r| wanted(r.as_bytes(), length)) {
        Wanted::Whole => (StatusCode::OK, 0..length),
        Wanted::Part(part) => (StatusCode::PARTIAL_CONTENT, part),
        Wanted::Unsatisfiable => {
            let mut response = StatusCode::RANGE_NOT_SATISFIABLE.into_response();
            if let Ok(value) = HeaderValue::from_str(&format!("bytes */{length}")) {
                response.headers_mut().insert(header::CONTENT_RANGE, value);
            }
            return Ok(response);
        }
    };
    file.seek(std::io::SeekFrom::Start(part.start))
        .await
        .map_err(internal)?;
    let stream = tokio_util::io::ReaderStream::new(file.take(part.end - part.start));
    let mut response = (status, Body::from_stream(stream)).into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(part.end - part.start));
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(content_type).unwrap_or(HeaderValue::from_static(NEUTRAL_TYPE)),
    );
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    if status == StatusCode::PARTIAL_CONTENT
        && let Ok(value) = HeaderValue::from_str(&format!("bytes {}-{}/{length}", part.start, part.end - 1))
    {
        h.insert(header::CONTENT_RANGE, value);
    }
    Ok(response)
}

/// Whether an `If-None-Match` value names `etag`: `*` (the file exists), or a list of tags one
/// of which is `etag`, weak or not.
fn names(if_none_match: &[u8], etag: &str) -> bool {
    let Ok(value) = std::str::from_utf8(if_none_match) else {
        return false;
    };
    value.trim() == "*"
        || value.split(',').any(|tag| {
            let tag = tag.trim();
            tag.strip_prefix("W/").unwrap_or(tag) == etag
        })
}

/// One range of `bytes=first-last`, `bytes=first-` or `bytes=-suffix` of a file of `length`
/// bytes. Several ranges, another unit or a malformed value get the whole file: RFC 9110 lets
/// a server ignore `Range`.
fn wanted(range: &[u8], length: u64) -> Wanted {
    let Some(set) = std::str::from_utf8(range)
        .ok()
        .and_then(|r| r.trim().split_once('='))
        .filter(|(unit, _)| unit.trim().eq_ignore_ascii_case("bytes"))
        .map(|(_, set)| set.trim())
    else {
        return Wanted::Whole;
    };
    let Some((first, last)) = set.split_once('-').filter(|_| !set.contains(',')) else {
        return Wanted::Whole;
    };
    let (first, last) = (first.trim(), last.trim());
    match (position(first), position(last)) {
        // The last `suffix` bytes; all of them when the file is shorter.
        (None, Some(suffix)) if first.is_empty() => {
            if suffix == 0 || length == 0 {
                Wanted::Unsatisfiable
            } else {
                Wanted::Part(length.saturating_sub(suffix)..length)
            }
        }
        (Some(first), None) if last.is_empty() => within(first..length, length),
        (Some(first), Some(last)) if first <= last => within(first..last.saturating_add(1).min(length), length),
        _ => Wanted::Whole,
    }
}

/// The part when it starts within the file.
fn within(part: Range<u64>, length: u64) -> Wanted {
    if part.start < length {
        Wanted::Part(part)
    } else {
        Wanted::Unsatisfiable
    }
}

/// Decimal digits only (no sign, no space); a position past any file is still one.
fn position(digits: &str) -> Option<u64> {
    if digits.is_empty() {
        return None;
    }
    digits.bytes().try_fold(0u64, |n, b| {
        b.is_ascii_digit()
            .then(|| n.saturating_mul(10).saturating_add(u64::from(b - b'0')))
    })
}

fn internal(e: std::io::Error) -> ApiError {
    anyhow::Error::from(e).context("reading an attachment").into()
}

#[cfg(test)]
mod tests {
    use super::*;

    const TAG: &str = "\"abc\"";

    #[test]
    fn if_none_match_compares_weakly_over_a_list() {
        for asked in ["\"abc\"", "W/\"abc\"", "\"x\", \"abc\"", "\"x\",W/\"abc\"", "*", " * "] {
            assert!(names(asked.as_bytes(), TAG), "{asked}");
        }
        for asked in ["\"abd\"", "abc", "\"x\"", "W/\"x\", \"y\"", "", "\"abc"] {
            assert!(!names(asked.as_bytes(), TAG), "{asked}");
        }
    }

    #[test]
    fn one_range_is_served_and_anything_else_gets_the_whole_file() {
        let part = |s: &str| wanted(s.as_bytes(), 100);
        assert_eq!(part("bytes=0-9"), Wanted::Part(0..10));
        assert_eq!(part("bytes=90-"), Wanted::Part(90..100));
        assert_eq!(part("bytes=-10"), Wanted::Part(90..100));
        assert_eq!(
            part("bytes=-500"),
            Wanted::Part(0..100),
            "a longer suffix is the whole file"
        );
        assert_eq!(part("bytes=50-500"), Wanted::Part(50..100), "cut at the end");
        assert_eq!(part("bytes=99-99"), Wanted::Part(99..100));
        assert_eq!(part("Bytes = 1-2"), Wanted::Part(1..3));
        assert_eq!(part("bytes=0-99999999999999999999999"), Wanted::Part(0..100));

        assert_eq!(part("bytes=100-"), Wanted::Unsatisfiable);
        assert_eq!(part("bytes=100-200"), Wanted::Unsatisfiable);
        assert_eq!(part("bytes=-0"), Wanted::Unsatisfiable);

        for ignored in [
            "bytes=0-1,5-6",
            "bytes=5-1",
            "items=0-1",
            "bytes=a-b",
            "bytes=+1-2",
            "bytes=-",
            "0-1",
            "",
        ] {
            assert_eq!(part(ignored), Wanted::Whole, "{ignored}");
        }
    }
}
