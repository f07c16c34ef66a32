//! `POST /api/attachments` (upload), `GET /api/attachments/limits`,
//! `GET /api/attachments/{id}` (the bytes) and `GET /api/attachments/{id}/thumbnail`.
//!
//! An upload is streamed to a file while its SHA-256 is computed, never held in memory; its
//! type is sniffed from its first bytes. Images of the four types browsers show inline are
//! decoded (on a blocking thread, one at a time, users taking turns) for their size and
//! thumbnail, once per content: the same bytes again take what their first upload found. One
//! that does not decode, or declares too many pixels, is refused: every member would
//! otherwise get a broken picture (or a decompression bomb) in their timeline.
//!
//! Only the uploader and the current members of the conversation it was sent in get an
//! attachment; anyone else gets 404, as for an id that does not exist.

use super::serving::serve;
use crate::AppState;
use crate::attachments::decoder::InLine;
use crate::attachments::picture::{self, NEUTRAL_TYPE, Picture, Unusable};
use crate::attachments::{Attachments, TempPath};
use crate::store::attachments::{self, Stored};
use axum::extract::multipart::{Field, MultipartError, MultipartRejection};
use axum::extract::{Multipart, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use gochat_kit::auth::AuthUser;
use gochat_kit::db::DbError;
use gochat_kit::http::{ApiError, Json, Path};
use gochat_proto::dto::{Attachment, AttachmentLimits, AttachmentResponse};
use gochat_proto::ids::{AttachmentId, UserId};
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

/// Bytes of the start of a file kept to sniff its type.
const SNIFF_BYTES: usize = 8192;
/// Longest file name kept, in characters.
const MAX_NAME_CHARS: usize = 200;

pub async fn limits(State(state): State<AppState>, me: AuthUser) -> Result<Json<AttachmentLimits>, ApiError> {
    let used_bytes = used(&state, me.id).await?;
    Ok(Json(AttachmentLimits {
        max_bytes: state.attachments.max_bytes,
        quota_bytes: state.attachments.quota_bytes,
        used_bytes,
    }))
}

async fn used(state: &AppState, user: UserId) -> Result<u64, ApiError> {
    let used = state
        .db
        .read(move |c| attachments::used_bytes(c, user).map_err(DbError::from))
        .await?;
    Ok(used)
}

/// 201 with the stored attachment: unsent, seen by its uploader only until a message carries it.
pub async fn upload(
    State(state): State<AppState>,
    me: AuthUser,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<(StatusCode, Json<AttachmentResponse>), ApiError> {
    let mut multipart =
        multipart.map_err(|e| ApiError::invalid(format!("expected a multipart/form-data body: {}", e.body_text())))?;
    let rules = state.attachments.clone();
    let room = rules.quota_bytes.saturating_sub(used(&state, me.id).await?);
    if room == 0 {
        return Err(over_quota(&rules));
    }
    let mut field = match multipart.next_field().await.map_err(malformed)? {
        Some(field) if field.name() == Some("file") => field,
        _ => return Err(ApiError::invalid("the body needs one part, named `file`")),
    };
    let name = clean_name(field.file_name());
    let received = receive(&rules, &mut field, room).await?;
    drop(field);
    if multipart.next_field().await.map_err(malformed)?.is_some() {
        return Err(ApiError::invalid("the body has one part only, named `file`"));
    }
    if received.size == 0 {
        return Err(ApiError::invalid("the file is empty"));
    }

    let content_type = picture::sniff(&received.head);
    let (picture, _in_line) = match picture::inline_format(content_type) {
        Some(format) => {
            // Kept until the row is stored: the same picture sent again at once waits for it,
            // and is not decoded twice.
            let in_line = rules.decoder.line_up(me.id).await;
            let picture = picture_of(&state, &in_line, &received, format).await?;
            (Some(picture), Some(in_line))
        }
        None => (None, None),
    };
    let upload = Stored {
        attachment: Attachment {
            id: AttachmentId::new(),
            name,
            content_type: content_type.to_owned(),
            size: i64::try_from(received.size).map_err(|e| ApiError::Internal(e.into()))?,
            width: picture.as_ref().map(|p| p.width),
            height: picture.as_ref().map(|p| p.height),
        },
        uploader: me.id,
        sha256: received.sha256,
        thumbnail_type: picture.as_ref().map(|p| p.thumbnail_type.clone()),
    };
    let attachment = upload.attachment.clone();
    let files = rules.files.clone();
    let quota = rules.quota_bytes;
    let temp = received.temp;
    // On the writer: the quota is checked against every committed and pending upload, and the
    // file is placed in the order the sweep removes files (see `attachments::sweep`).
    let within_quota = state
        .db
        .write(move |w| -> Result<bool, ApiError> {
            if attachments::used_bytes(w, upload.uploader)? + received.size > quota {
                return Ok(false);
            }
            let thumbnail = picture.as_ref().map(|p| p.thumbnail.as_slice());
            files
                .place(temp, &upload.sha256, thumbnail)
                .map_err(|e| ApiError::from(anyhow::Error::from(e).context("placing an upload")))?;
            attachments::insert(w, &upload, chrono::Utc::now().timestamp())?;
            Ok(true)
        })
        .await?;
    if !within_quota {
        return Err(over_quota(&rules));
    }
    Ok((StatusCode::CREATED, Json(AttachmentResponse { attachment })))
}

/// An upload written to `tmp/`.
struct Received {
    temp: TempPath,
    size: u64,
    sha256: String,
    /// The first [`SNIFF_BYTES`] bytes.
    head: Vec<u8>,
}

/// Streams the part to a new file, stopping as soon as it is larger than the limit or than
/// the room left in the uploader's quota.
async fn receive(rules: &Attachments, field: &mut Field<'_>, room: u64) -> Result<Received, ApiError> {
    let (file, temp) = rules.files.temp().map_err(internal)?;
    let mut file = tokio::fs::File::from_std(file);
    let mut hasher = Sha256::new();
    let mut head = Vec::with_capacity(SNIFF_BYTES);
    let mut size = 0u64;
    while let Some(chunk) = field.chunk().await.map_err(malformed)? {
        size += chunk.len() as u64;
        if size > rules.max_bytes {
            return Err(too_large(rules.max_bytes));
        }
        if size > room {
            return Err(over_quota(rules));
        }
        hasher.update(&chunk);
        let keep = SNIFF_BYTES.saturating_sub(head.len()).min(chunk.len());
        head.extend_from_slice(&chunk[..keep]);
        file.write_all(&chunk).await.map_err(internal)?;
    }
    file.flush().await.map_err(internal)?;
    file.sync_data().await.map_err(internal)?;
    Ok(Received {
        temp,
        size,
        sha256: hex(&hasher.finalize()),
        head,
    })
}

/// The size and thumbnail of an uploaded picture: those an earlier upload of the same bytes
/// found, else decoded off the async threads in its uploader's turn.
async fn picture_of(
    state: &AppState,
    in_line: &InLine<'_>,
    received: &Received,
    format: image::ImageFormat,
) -> Result<Picture, ApiError> {
    if let Some(known) = known_picture(state, &received.sha256).await? {
        return Ok(known);
    }
    let turn = in_line.turn().await;
    let path = received.temp.path().to_owned();
    let decoded = tokio::task::spawn_blocking(move || {
        let _turn = turn;
        picture::inspect(&path, format)
    })
    .await
    .map_err(|e| ApiError::Internal(e.into()))?;
    decoded.map_err(|e| match e {
        Unusable::TooLarge => ApiError::PayloadTooLarge(e.to_string()),
        Unusable::Unreadable => ApiError::invalid(e.to_string()),
    })
}

/// The picture an earlier upload of the bytes `sha256` found, with its thumbnail read back:
/// this upload places it again, as the sweep removes it with the last row naming it.
async fn known_picture(state: &AppState, sha256: &str) -> Result<Option<Picture>, ApiError> {
    let sha = sha256.to_owned();
    let known = state
        .db
        .read(move |c| attachments::picture_of(c, &sha).map_err(DbError::from))
        .await?;
    let Some(known) = known else { return Ok(None) };
    match tokio::fs::read(state.attachments.files.thumbnail_path(sha256)).await {
        Ok(thumbnail) => Ok(Some(Picture {
            width: known.width,
            height: known.height,
            thumbnail,
            thumbnail_type: known.thumbnail_type,
        })),
        // Removed since: decoded again.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(internal(e)),
    }
}

/// The bytes, to the uploader and the conversation's members.
pub async fn download(
    State(state): State<AppState>,
    me: AuthUser,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let stored = visible(&state, me, &id).await?;
    let content_type = stored.attachment.content_type.as_str();
    let (content_type, disposition) = match picture::inline_format(content_type) {
        Some(_) => (content_type, "inline"),
        None => (NEUTRAL_TYPE, "attachment"),
    };
    let path = state.attachments.files.path(&stored.sha256);
    let mut response = serve(&path, &stored.sha256, content_type, &headers).await?;
    let disposition = content_disposition(disposition, &stored.attachment.name);
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        response.headers_mut().insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}

/// The thumbnail of an image (a JPEG or a WebP); 404 for other files.
pub async fn thumbnail(
    State(state): State<AppState>,
    me: AuthUser,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let stored = visible(&state, me, &id).await?;
    let Some(content_type) = stored.thumbnail_type.as_deref() else {
        return Err(ApiError::NotFound);
    };
    let path = state.attachments.files.thumbnail_path(&stored.sha256);
    let etag = format!("{}-thumb", stored.sha256);
    serve(&path, &etag, content_type, &headers).await
}

async fn visible(state: &AppState, me: AuthUser, id: &str) -> Result<Stored, ApiError> {
    let id: AttachmentId = id.parse().map_err(|_| ApiError::NotFound)?;
    state
        .db
        .read(move |c| attachments::visible_to(c, id, me.id).map_err(DbError::from))
        .await?
        .ok_or(ApiError::NotFound)
}

/// `inline` or `attachment` with the file's name: an ASCII fallback (RFC 6266) and the
/// name itself percent-encoded (RFC 8187).
fn content_disposition(kind: &str, name: &str) -> String {
    let ascii: String = name
        .chars()
        .map(|c| match c {
            ' '..='~' if !matches!(c, '"' | '\\' | '%' | ';') => c,
            _ => '_',
        })
        .collect();
    let encoded: String = name
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect();
    format!("{kind}; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

/// The name the uploader gave, without directories, control characters, direction marks or
/// surrounding spaces, at most [`MAX_NAME_CHARS`] characters; `file` when nothing is left.
fn clean_name(raw: Option<&str>) -> String {
    // Browsers send `"`, CR and LF in a name as `%22`, `%0D` and `%0A` (WHATWG's multipart
    // encoding) and `%` as it is, so these three are the only escapes that are theirs. What
    // they decode to is neither `%` nor a digit or letter, so decoding them one after the
    // other makes no new escape.
    let unescaped = raw
        .unwrap_or_default()
        .replace("%22", "\"")
        .replace("%0D", "\r")
        .replace("%0A", "\n");
    let base = unescaped.rsplit(['/', '\\']).next().unwrap_or_default();
    let clean: String = base
        .chars()
        .filter(|&c| !c.is_control() && !is_direction_mark(c))
        .collect();
    let clean = clean.trim().trim_start_matches('.').trim();
    let mut name: String = clean.chars().take(MAX_NAME_CHARS).collect();
    if name.is_empty() {
        name = "file".into();
    }
    name
}

/// Characters that change the direction text is shown in (embeddings and overrides,
/// isolates, and the LRM, RLM and ALM marks): in a name they can disguise its extension.
fn is_direction_mark(c: char) -> bool {
    matches!(c, '\u{200e}' | '\u{200f}' | '\u{061c}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

fn too_large(max: u64) -> ApiError {
    ApiError::PayloadTooLarge(format!("the file is larger than the limit of {}", human(max)))
}

fn over_quota(rules: &Attachments) -> ApiError {
    ApiError::PayloadTooLarge(format!(
        "your files would take more than your {}; delete messages with files to make room",
        human(rules.quota_bytes)
    ))
}

/// A multipart body that is not one: 413 when it is over the body limit, else 400.
fn malformed(e: MultipartError) -> ApiError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::PayloadTooLarge("the request body is too large".into())
    } else {
        ApiError::invalid(format!("the upload could not be read: {}", e.body_text()))
    }
}

/// A failure writing the upload: `unavailable` when the disk is full or read-only.
fn internal(e: std::io::Error) -> ApiError {
    anyhow::Error::from(e).context("storing an upload").into()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `25 MiB`, `1 GiB`, `512 KiB`, `100 bytes`.
fn human(bytes: u64) -> String {
    const UNITS: [(u64, &str); 3] = [(1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")];
    for (unit, name) in UNITS {
        if bytes >= unit {
            let value = bytes as f64 / unit as f64;
            return if bytes.is_multiple_of(unit) {
                format!("{} {name}", bytes / unit)
            } else {
                format!("{value:.1} {name}")
            };
        }
    }
    format!("{bytes} bytes")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_lose_directories_and_control_characters() {
        assert_eq!(clean_name(Some("../../etc/passwd")), "passwd");
        assert_eq!(clean_name(Some("C:\\Users\\me\\report.pdf")), "report.pdf");
        assert_eq!(clean_name(Some("a\u{0}b\nc.txt")), "abc.txt");
        assert_eq!(clean_name(Some("evil\u{202e}gpj.exe")), "evilgpj.exe");
        assert_eq!(clean_name(Some("  .hidden ")), "hidden");
        assert_eq!(clean_name(None), "file");
        assert_eq!(clean_name(Some("///")), "file");
        assert_eq!(clean_name(Some(&"é".repeat(300))).chars().count(), MAX_NAME_CHARS);
    }

    #[test]
    fn names_from_browsers_lose_their_escapes() {
        // WHATWG's multipart encoding, as Chrome and Firefox send it.
        assert_eq!(clean_name(Some("say %22hi%22.txt")), "say \"hi\".txt");
        assert_eq!(
            clean_name(Some("a%0D%0Ab.txt")),
            "ab.txt",
            "CR and LF are control characters"
        );
        // `%` itself is not escaped: other escapes are the name's own.
        assert_eq!(clean_name(Some("100%25 %41.txt")), "100%25 %41.txt");
        assert_eq!(clean_name(Some("%2522.txt")), "%2522.txt");
    }

    #[test]
    fn names_lose_direction_marks() {
        assert_eq!(clean_name(Some("a\u{200e}b\u{200f}c\u{061c}.txt")), "abc.txt");
        assert_eq!(clean_name(Some("evil\u{2067}gpj.exe")), "evilgpj.exe");
    }

    #[test]
    fn content_disposition_quotes_nothing_it_should_not() {
        assert_eq!(
            content_disposition("attachment", "a \"b\".pdf"),
            "attachment; filename=\"a _b_.pdf\"; filename*=UTF-8''a%20%22b%22.pdf"
        );
        assert_eq!(
            content_disposition("inline", "été.png"),
            "inline; filename=\"_t_.png\"; filename*=UTF-8''%C3%A9t%C3%A9.png"
        );
    }

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(human(25 * 1024 * 1024), "25 MiB");
        assert_eq!(human(1536), "1.5 KiB");
        assert_eq!(human(10), "10 bytes");
    }
}
