//! Attachments, all in one on the in-process bus: the contract's scenarios (also run over
//! RabbitMQ by `groups_rabbitmq.rs`), and what needs settings of its own: limits and quota,
//! refused uploads, removal of uploads never sent, and `gochat backup` / `restore` with files.

mod common;
mod scenarios;

use common::files::{files_under, pdf, png, sha256};
use common::site::{Deployment, multipart};
use common::{eventually, fast_settings};
use gochat_kit::testing::bomb_png;
use scenarios::attachments::{self, stored, uploaded};
use scenarios::text;
use serde_json::json;
use std::time::Duration;

const WAIT: Duration = common::site::WAIT;

fn settings(max_bytes: u64, quota_bytes: u64, unsent_secs: u64) -> gochat::Settings {
    let mut settings = fast_settings();
    settings.messages.attachment_max_bytes = Some(max_bytes);
    settings.messages.attachment_quota_bytes = Some(quota_bytes);
    settings.messages.attachment_unsent_secs = Some(unsent_secs);
    settings
}

#[tokio::test]
async fn pictures_and_files_reach_the_members_only() {
    let deployment = Deployment::all_in_one().await;
    attachments::pictures_and_files_reach_the_members_only(&deployment.site).await;
}

#[tokio::test]
async fn former_members_lose_access() {
    let deployment = Deployment::all_in_one().await;
    attachments::former_members_lose_access(&deployment.site).await;
}

#[tokio::test]
async fn uploads_over_the_limit_or_the_quota_are_refused_and_store_nothing() {
    let deployment = Deployment::all_in_one_with(settings(64 * 1024, 100 * 1024, 3600)).await;
    let site = &deployment.site;
    let ann = site.person("ann").await;
    let (status, limits) = ann.get("/api/attachments/limits").await;
    assert_eq!(status, 200);
    assert_eq!(limits, json!({"maxBytes": 65536, "quotaBytes": 102400, "usedBytes": 0}));

    let (status, body) = ann.upload("big.bin", &vec![7u8; 64 * 1024 + 1]).await;
    assert_eq!(status, 413, "{body}");
    assert_eq!(body["error"]["code"], "payload_too_large");
    assert_eq!(body["error"]["message"], "the file is larger than the limit of 64 KiB");
    // A body far over the limit is cut off, with the same answer.
    let (status, body) = ann.upload("huge.bin", &vec![7u8; 4 * 1024 * 1024]).await;
    assert_eq!((status, text(&body["error"]["code"])), (413, "payload_too_large"));

    uploaded(&ann, "exactly.bin", &vec![1u8; 64 * 1024]).await;
    let (status, body) = ann.upload("more.bin", &vec![2u8; 40 * 1024]).await;
    assert_eq!(status, 413, "{body}");
    assert!(
        text(&body["error"]["message"]).contains("more than your 100 KiB"),
        "{body}"
    );
    uploaded(&ann, "fits.bin", &vec![3u8; 36 * 1024]).await;
    // Full: refused before a byte is read.
    let (status, _) = ann.upload("one.bin", b"x").await;
    assert_eq!(status, 413);
    let (_, limits) = ann.get("/api/attachments/limits").await;
    assert_eq!(limits["usedBytes"], 100 * 1024);

    // Nothing refused left a file behind.
    let mut expected: Vec<String> = [sha256(&[1u8; 64 * 1024]), sha256(&[3u8; 36 * 1024])]
        .iter()
        .map(|sha| format!("{}/{sha}", &sha[..2]))
        .collect();
    expected.sort();
    assert_eq!(files_under(&site.attachments_dir), expected);
}

#[tokio::test]
async fn bad_uploads_get_a_clear_error_and_store_nothing() {
    let deployment = Deployment::all_in_one().await;
    let site = &deployment.site;
    let ann = site.person("ann").await;

    let (status, body) = ann.upload("empty.txt", b"").await;
    assert_eq!((status, text(&body["error"]["message"])), (400, "the file is empty"));

    // A decompression bomb: 2.5 gigapixels in 70 bytes.
    let bomb = bomb_png(50_000, 50_000);
    assert!(bomb.len() < 100);
    let (status, body) = ann.upload("bomb.png", &bomb).await;
    assert_eq!(status, 413, "{body}");
    assert_eq!(body["error"]["message"], "the image is larger than 50 megapixels");

    let mut damaged = png(200, 200);
    damaged.truncate(damaged.len() / 2);
    let (status, body) = ann.upload("damaged.png", &damaged).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        body["error"]["message"],
        "the image could not be read; it may be damaged"
    );

    let (content_type, body) = multipart(&[("document", Some("a.pdf"), &pdf())]);
    assert_eq!(
        ann.upload_raw(&content_type, body).await.0,
        400,
        "the part must be `file`"
    );
    let (content_type, body) = multipart(&[("file", Some("a.pdf"), &pdf()), ("file", Some("b.pdf"), &pdf())]);
    assert_eq!(ann.upload_raw(&content_type, body).await.0, 400, "one part only");
    let (status, body) = ann.upload_raw("application/json", b"{}".to_vec()).await;
    assert_eq!((status, text(&body["error"]["code"])), (400, "invalid_input"));

    // Signed out: 401.
    let (content_type, body) = multipart(&[("file", Some("a.pdf"), &pdf())]);
    let response = reqwest::Client::new()
        .post(format!("{}/api/attachments", site.messages))
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), 401);

    let (_, limits) = ann.get("/api/attachments/limits").await;
    assert_eq!(limits["usedBytes"], 0);
    assert_eq!(files_under(&site.attachments_dir), Vec::<String>::new());
}

#[tokio::test]
async fn the_same_picture_uploaded_again_is_not_decoded_again() {
    let deployment = Deployment::all_in_one().await;
    let site = &deployment.site;
    let ann = site.person("ann").await;
    let ben = site.person("ben").await;
    let bytes = png(640, 480);
    let first = uploaded(&ann, "first.png", &bytes).await;
    // What was stored for the bytes, changed behind the server's back: a decode would say
    // 640 × 480 again.
    let db = rusqlite::Connection::open(&site.messages_db).expect("the database opens");
    db.busy_timeout(WAIT).expect("a busy timeout");
    db.execute(
        "UPDATE attachments SET width = 64, height = 48 WHERE sha256 = ?1",
        [sha256(&bytes)],
    )
    .expect("updated");
    let again = uploaded(&ben, "again.png", &bytes).await;
    assert_eq!(
        (again["width"].as_u64(), again["height"].as_u64()),
        (Some(64), Some(48))
    );
    let thumbnail = |attachment: &serde_json::Value| format!("/api/attachments/{}/thumbnail", text(&attachment["id"]));
    let (status, _, reused) = ben.fetch(&thumbnail(&again)).await;
    assert_eq!((status, reused), (200, ann.fetch(&thumbnail(&first)).await.2));

    // Its thumbnail gone from disk (as when the sweep removes it with the last row naming
    // it): the picture is decoded again, and its thumbnail put back.
    let thumbnail_file = site
        .attachments_dir
        .join(&sha256(&bytes)[..2])
        .join(format!("{}.thumb", sha256(&bytes)));
    std::fs::remove_file(&thumbnail_file).expect("the thumbnail was there");
    let decoded = uploaded(&ann, "third.png", &bytes).await;
    assert_eq!(
        (decoded["width"].as_u64(), decoded["height"].as_u64()),
        (Some(640), Some(480))
    );
    assert!(thumbnail_file.exists());
}

#[tokio::test]
async fn downloads_answer_weak_tags_lists_and_one_byte_range() {
    let deployment = Deployment::all_in_one().await;
    let site = &deployment.site;
    let ann = site.person("ann").await;
    let ben = site.person("ben").await;
    let bytes: Vec<u8> = (0..=255u8).cycle().take(1000).collect();
    let path = format!(
        "/api/attachments/{}",
        text(&uploaded(&ann, "song.bin", &bytes).await["id"])
    );
    let asking = |pairs: &[(&'static str, &str)]| {
        let mut headers = reqwest::header::HeaderMap::new();
        for (name, value) in pairs {
            headers.insert(*name, value.parse().expect("a header value"));
        }
        headers
    };
    let header = |headers: &reqwest::header::HeaderMap, name: &str| {
        headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned()
    };

    let (status, headers, whole) = ann.fetch(&path).await;
    assert_eq!((status, whole.as_slice()), (200, bytes.as_slice()));
    assert_eq!(header(&headers, "accept-ranges"), "bytes");
    let etag = header(&headers, "etag");

    // RFC 9110 §13.1.2: weak comparison, over a list, and `*`.
    for tags in [format!("W/{etag}"), format!("\"x\", {etag}"), "*".to_owned()] {
        let (status, _, body) = ann.fetch_with(&path, asking(&[("if-none-match", &tags)])).await;
        assert_eq!((status, body.len()), (304, 0), "{tags}");
        // Still no oracle for anyone else.
        assert_eq!(ben.fetch_with(&path, asking(&[("if-none-match", &tags)])).await.0, 404);
    }
    assert_eq!(
        ann.fetch_with(&path, asking(&[("if-none-match", "\"x\"")])).await.0,
        200
    );

    // One byte range, so that videos and audio can be seeked in.
    for (range, part, content_range) in [
        ("bytes=10-19", &bytes[10..20], "bytes 10-19/1000"),
        ("bytes=990-", &bytes[990..], "bytes 990-999/1000"),
        ("bytes=-5", &bytes[995..], "bytes 995-999/1000"),
        ("bytes=995-5000", &bytes[995..], "bytes 995-999/1000"),
    ] {
        let (status, headers, body) = ann.fetch_with(&path, asking(&[("range", range)])).await;
        assert_eq!((status, body.as_slice()), (206, part), "{range}");
        assert_eq!(header(&headers, "content-range"), content_range);
        assert_eq!(header(&headers, "content-length"), part.len().to_string());
        assert_eq!(header(&headers, "x-content-type-options"), "nosniff");
    }
    let (status, headers, _) = ann.fetch_with(&path, asking(&[("range", "bytes=1000-")])).await;
    assert_eq!(
        (status, header(&headers, "content-range")),
        (416, "bytes */1000".to_owned())
    );
    // Several ranges get the whole file; so does a range of other bytes than the tag's.
    for asked in [
        asking(&[("range", "bytes=0-1, 5-6")]),
        asking(&[("range", "bytes=0-1"), ("if-range", "\"other\"")]),
    ] {
        assert_eq!(ann.fetch_with(&path, asked).await.2, bytes);
    }
    let (status, _, body) = ann
        .fetch_with(&path, asking(&[("range", "bytes=0-1"), ("if-range", &etag)]))
        .await;
    assert_eq!((status, body.as_slice()), (206, &bytes[..2]));
    assert_eq!(ben.fetch_with(&path, asking(&[("range", "bytes=0-1")])).await.0, 404);
}

#[tokio::test]
async fn uploads_never_sent_are_removed_after_their_time() {
    // One second instead of a day.
    let deployment = Deployment::all_in_one_with(settings(1 << 20, 1 << 30, 1)).await;
    let site = &deployment.site;
    let ann = site.person("ann").await;
    let ben = site.person("ben").await;
    let direct = ann.direct_with(&ben).await;
    let mut ann0 = ann.tab(0).await;
    let sent_bytes = png(30, 20);
    let kept = uploaded(&ann, "sent.png", &sent_bytes).await;
    let client_id = ann0.send_files(&direct, "", &[text(&kept["id"])]).await;
    stored(&mut ann0, &client_id).await;

    let forgotten = uploaded(&ann, "forgotten.pdf", &pdf()).await;
    let path = format!("/api/attachments/{}", text(&forgotten["id"]));
    assert_eq!(ann.fetch(&path).await.0, 200);
    eventually(WAIT, || async { (ann.fetch(&path).await.0 == 404).then_some(()) }).await;
    eventually(WAIT, || async {
        (!files_under(&site.attachments_dir)
            .iter()
            .any(|f| f.ends_with(&sha256(&pdf()))))
        .then_some(())
    })
    .await;
    let (status, _, bytes) = ben.fetch(&format!("/api/attachments/{}", text(&kept["id"]))).await;
    assert_eq!((status, bytes), (200, sent_bytes), "a sent one stays");
    let (_, limits) = ann.get("/api/attachments/limits").await;
    assert_eq!(limits["usedBytes"], kept["size"], "the removed one no longer counts");
}

#[tokio::test]
async fn backup_and_restore_keep_the_files() {
    let root = tempfile::tempdir().expect("a temporary directory");
    let (data, backup, restored) = (
        root.path().join("data"),
        root.path().join("backup"),
        root.path().join("restored"),
    );
    let server = common::start_all_in_one_with(&data, fast_settings()).await;
    let site = common::site::Site::all_in_one(&server, &data);
    let ann = site.person("ann").await;
    let ben = site.person("ben").await;
    let direct = ann.direct_with(&ben).await;
    let mut ann0 = ann.tab(0).await;
    let picture_bytes = png(640, 480);
    let picture = uploaded(&ann, "cat.png", &picture_bytes).await;
    let document = uploaded(&ann, "notes.pdf", &pdf()).await;
    let client_id = ann0
        .send_files(&direct, "files", &[text(&picture["id"]), text(&document["id"])])
        .await;
    stored(&mut ann0, &client_id).await;
    let thumbnail = ben
        .fetch(&format!("/api/attachments/{}/thumbnail", text(&picture["id"])))
        .await
        .2;
    drop(ann0);
    server.stop().await.expect("the server stops");

    let gochat = env!("CARGO_BIN_EXE_gochat");
    let run = |args: &[&std::ffi::OsStr]| {
        let out = std::process::Command::new(gochat)
            .args(args)
            .output()
            .expect("gochat runs");
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let printed = run(&[
        "backup".as_ref(),
        backup.as_os_str(),
        "--data-dir".as_ref(),
        data.as_os_str(),
    ]);
    assert!(printed.contains("in 3 files"), "{printed}");
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(backup.join("manifest.json")).expect("a manifest")).expect("JSON");
    let listed: Vec<&str> = manifest["attachments"]
        .as_array()
        .expect("attachments in the manifest")
        .iter()
        .map(|e| text(&e["file"]))
        .collect();
    let picture_file = format!(
        "attachments/{}/{}",
        &sha256(&picture_bytes)[..2],
        sha256(&picture_bytes)
    );
    let mut expected = vec![
        picture_file.clone(),
        format!("{picture_file}.thumb"),
        format!("attachments/{}/{}", &sha256(&pdf())[..2], sha256(&pdf())),
    ];
    expected.sort();
    assert_eq!(listed, expected);
    run(&[
        "restore".as_ref(),
        backup.as_os_str(),
        "--data-dir".as_ref(),
        restored.as_os_str(),
    ]);
    assert_eq!(
        files_under(&restored.join("attachments")),
        files_under(&data.join("attachments"))
    );

    let server = common::start_all_in_one_with(&restored, fast_settings()).await;
    let get = |path: String| {
        let (url, cookie) = (server.url(&path), ben.cookie.clone());
        async move {
            let response = reqwest::Client::new()
                .get(url)
                .header("cookie", format!("auth={cookie}"))
                .send()
                .await
                .expect("sent");
            (
                response.status().as_u16(),
                response.bytes().await.expect("body").to_vec(),
            )
        }
    };
    assert_eq!(
        get(format!("/api/attachments/{}", text(&picture["id"]))).await,
        (200, picture_bytes)
    );
    assert_eq!(
        get(format!("/api/attachments/{}", text(&document["id"]))).await,
        (200, pdf())
    );
    assert_eq!(
        get(format!("/api/attachments/{}/thumbnail", text(&picture["id"]))).await,
        (200, thumbnail)
    );
}
