//! Attachments: uploading (type sniffed from the bytes), sending with a message, who gets the
//! bytes and how they are served, thumbnails, and what deleting a message does to its files.

use super::text;
use crate::common::eventually;
use crate::common::files::{files_under, pdf, png, sha256};
use crate::common::site::{Person, Site, Tab, WAIT};
use serde_json::Value;
use std::sync::Arc;

/// Uploads a file and returns the stored attachment.
pub async fn uploaded(person: &Person, name: &str, bytes: &[u8]) -> Value {
    let (status, body) = person.upload(name, bytes).await;
    assert_eq!(status, 201, "upload of {name}: {body}");
    body["attachment"].clone()
}

/// The message frame `tab` gets for the message sent with `client_id`.
pub async fn stored(tab: &mut Tab, client_id: &str) -> Value {
    let frame = tab
        .until(&format!("message {client_id}"), |f| {
            f["type"] == "message" && f["message"]["clientId"] == client_id
        })
        .await;
    frame["message"].clone()
}

fn header<'h>(headers: &'h reqwest::header::HeaderMap, name: &str) -> &'h str {
    headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
}

pub async fn pictures_and_files_reach_the_members_only(site: &Arc<Site>) {
    let ann = site.person("ann").await;
    let ben = site.person("ben").await;
    let cat = site.person("cat").await;
    let direct = ann.direct_with(&ben).await;
    let mut ann0 = ann.tab(0).await;
    let mut ben1 = ben.tab(1).await;

    // The type comes from the bytes: a PNG named .exe is a PNG; the client's part header
    // (text/plain) is ignored.
    let picture_bytes = png(1200, 600);
    let picture = uploaded(&ann, "holiday.exe", &picture_bytes).await;
    assert_eq!(picture["contentType"], "image/png");
    assert_eq!(picture["name"], "holiday.exe");
    assert_eq!(
        (picture["width"].as_u64(), picture["height"].as_u64()),
        (Some(1200), Some(600))
    );
    assert_eq!(picture["size"].as_u64(), Some(picture_bytes.len() as u64));
    let document = uploaded(&ann, "../../minutes.pdf", &pdf()).await;
    assert_eq!(document["contentType"], "application/pdf");
    assert_eq!(document["name"], "minutes.pdf", "no directories in a name");
    assert!(document.get("width").is_none());
    let page = uploaded(&ann, "page.html", b"<html><script>alert(1)</script></html>").await;
    assert_eq!(page["contentType"], "text/html");
    let (picture_id, document_id, page_id) = (text(&picture["id"]), text(&document["id"]), text(&page["id"]));

    // Unsent: the uploader's alone.
    assert_eq!(ann.fetch(&format!("/api/attachments/{picture_id}")).await.0, 200);
    assert_eq!(ben.fetch(&format!("/api/attachments/{picture_id}")).await.0, 404);

    // Someone else's upload cannot be sent; nothing is stored.
    ben1.send_files(&direct, "", &[picture_id]).await;
    ben1.refused("not_found").await;

    let sent = ann0
        .send_files(&direct, "the minutes", &[picture_id, document_id])
        .await;
    let message = stored(&mut ben1, &sent).await;
    assert_eq!(message["seq"], 1, "the refused send stored nothing");
    let ids: Vec<&str> = message["attachments"]
        .as_array()
        .expect("attachments")
        .iter()
        .map(|a| text(&a["id"]))
        .collect();
    assert_eq!(ids, [picture_id, document_id], "in the order sent");
    assert_eq!(message["attachments"][0], picture);
    stored(&mut ann0, &sent).await;

    // Each upload goes with one message only.
    ann0.send_files(&direct, "again", &[document_id]).await;
    ann0.refused("invalid_input").await;
    // An empty body is fine with attachments.
    let only_file = ann0.send_files(&direct, "", &[page_id]).await;
    assert_eq!(stored(&mut ben1, &only_file).await["body"], "");

    // History and search carry them.
    let history = ben.history(&direct).await;
    assert_eq!(history.len(), 2);
    assert_eq!(history[0]["attachments"][1], document);
    let (status, found) = ben.get("/api/search?q=minutes").await;
    assert_eq!(status, 200);
    assert_eq!(found["results"][0]["message"]["attachments"][1], document);

    // The member gets the bytes: a picture inline with its own type, never sniffed.
    let (status, headers, bytes) = ben.fetch(&format!("/api/attachments/{picture_id}")).await;
    assert_eq!(status, 200);
    assert_eq!(bytes, picture_bytes);
    assert_eq!(header(&headers, "content-type"), "image/png");
    assert_eq!(header(&headers, "x-content-type-options"), "nosniff");
    assert!(header(&headers, "content-disposition").starts_with("inline"));
    // Asked again with its ETag: 304 while access lasts.
    let mut again = reqwest::header::HeaderMap::new();
    again.insert("if-none-match", headers["etag"].clone());
    let (status, headers, bytes) = ben.fetch_with(&format!("/api/attachments/{picture_id}"), again).await;
    assert_eq!((status, bytes.len()), (304, 0));
    assert_eq!(header(&headers, "x-content-type-options"), "nosniff");
    // A document is a download of a neutral type.
    let (status, headers, bytes) = ben.fetch(&format!("/api/attachments/{document_id}")).await;
    assert_eq!((status, bytes), (200, pdf()));
    assert_eq!(header(&headers, "content-type"), "application/octet-stream");
    assert_eq!(
        header(&headers, "content-disposition"),
        "attachment; filename=\"minutes.pdf\"; filename*=UTF-8''minutes.pdf"
    );
    // HTML is never rendered: a download, nosniff, a sandboxed document if opened anyway.
    let (status, headers, _) = ben.fetch(&format!("/api/attachments/{page_id}")).await;
    assert_eq!(status, 200);
    assert_eq!(header(&headers, "content-type"), "application/octet-stream");
    assert!(header(&headers, "content-disposition").starts_with("attachment;"));
    assert_eq!(header(&headers, "x-content-type-options"), "nosniff");
    assert_eq!(header(&headers, "content-security-policy"), "sandbox");

    // The thumbnail: a JPEG at most 320 px on its longer side, with the picture's shape.
    let (status, headers, bytes) = ben.fetch(&format!("/api/attachments/{picture_id}/thumbnail")).await;
    assert_eq!(status, 200);
    assert_eq!(header(&headers, "content-type"), "image/jpeg");
    let thumbnail = image::load_from_memory(&bytes).expect("the thumbnail decodes");
    assert_eq!((thumbnail.width(), thumbnail.height()), (320, 160));
    assert_eq!(
        ben.fetch(&format!("/api/attachments/{document_id}/thumbnail")).await.0,
        404
    );

    // A stranger gets nothing, as for an id that does not exist.
    for path in [
        format!("/api/attachments/{picture_id}"),
        format!("/api/attachments/{picture_id}/thumbnail"),
        format!("/api/attachments/{document_id}"),
        format!("/api/attachments/{}", uuid::Uuid::now_v7()),
        "/api/attachments/not-an-id".to_owned(),
    ] {
        assert_eq!(cat.fetch(&path).await.0, 404, "{path}");
    }

    // Deleting the message takes its attachments and, once no upload names them, their files.
    let on_disk = files_under(&site.attachments_dir);
    let picture_file = format!("{}/{}", &sha256(&picture_bytes)[..2], sha256(&picture_bytes));
    assert!(on_disk.contains(&picture_file), "{on_disk:?}");
    assert!(on_disk.contains(&format!("{picture_file}.thumb")), "{on_disk:?}");
    ann0.send(crate::common::site::frame::delete(&direct, 1)).await;
    let deleted = ben1
        .until("the deletion", |f| {
            f["type"] == "message.updated" && f["message"]["seq"] == 1
        })
        .await;
    assert_eq!(deleted["message"]["attachments"], serde_json::json!([]));
    for who in [&ann, &ben] {
        assert_eq!(who.fetch(&format!("/api/attachments/{picture_id}")).await.0, 404);
        assert_eq!(who.fetch(&format!("/api/attachments/{document_id}")).await.0, 404);
    }
    eventually(WAIT, || async {
        let left = files_under(&site.attachments_dir);
        (!left.iter().any(|f| f.starts_with(&picture_file))
            && left
                .iter()
                .any(|f| f.ends_with(&sha256(b"<html><script>alert(1)</script></html>"))))
        .then_some(())
    })
    .await;
    assert_eq!(
        ben.fetch(&format!("/api/attachments/{page_id}")).await.0,
        200,
        "the other message keeps its file"
    );
}

pub async fn former_members_lose_access(site: &Arc<Site>) {
    let ann = site.person("ann").await;
    let ben = site.person("ben").await;
    let cat = site.person("cat").await;
    let group = ann.create_group("Pictures", &[&ben, &cat]).await;
    let mut ann0 = ann.tab(0).await;
    let mut cat1 = cat.tab(1).await;
    let picture = uploaded(&ben, "shared bytes.png", &png(50, 40)).await;
    // The same bytes uploaded twice are stored once, and are two attachments.
    let copy = uploaded(&ann, "copy.png", &png(50, 40)).await;
    assert_ne!(picture["id"], copy["id"]);
    let path = format!("/api/attachments/{}", text(&picture["id"]));
    let mut ben0 = ben.tab(0).await;
    let sent = ben0.send_files(&group, "look", &[text(&picture["id"])]).await;
    stored(&mut cat1, &sent).await;
    stored(&mut ann0, &sent).await;
    assert_eq!(cat.fetch(&path).await.0, 200);

    let (status, body) = ann
        .delete(&format!("/api/conversations/{group}/members/{}", cat.id))
        .await;
    assert_eq!(status, 204, "{body}");
    eventually(WAIT, || async { (cat.fetch(&path).await.0 == 404).then_some(()) }).await;
    assert_eq!(cat.fetch(&format!("{path}/thumbnail")).await.0, 404);
    assert_eq!(ann.fetch(&path).await.0, 200, "members still do");
    // The uploader keeps their own upload even after leaving.
    let (status, body) = ben
        .delete(&format!("/api/conversations/{group}/members/{}", ben.id))
        .await;
    assert_eq!(status, 204, "{body}");
    assert_eq!(ben.fetch(&path).await.0, 200);
    assert_eq!(
        files_under(&site.attachments_dir)
            .iter()
            .filter(|f| f.ends_with(".thumb"))
            .count(),
        1
    );
}
