//! `GET /api/search`: every word must match, whole, except the last, which also matches as a
//! prefix; case and accents ignored; each emoji a word of its own, whatever its skin tone; a
//! query of punctuation only finds nothing; newest first, paged by cursor; only the
//! conversations the caller is a member of now; deleted messages never found, edited ones by
//! their new text.

use crate::common::site::{Person, Site, Tab, encode, frame};
use serde_json::{Value, json};
use std::sync::Arc;

/// Sends `body` from `tab` and waits until it is stored (it came back); returns its seq.
async fn stored(tab: &mut Tab, conversation: &str, body: &str) -> i64 {
    tab.say(conversation, body).await;
    tab.message(body).await["seq"].as_i64().expect("seq")
}

async fn search(person: &Person, query: &str) -> (u16, Value) {
    person.get(&format!("/api/search?{query}")).await
}

fn result_bodies(page: &Value) -> Vec<&str> {
    page["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| r["message"]["body"].as_str().expect("body"))
        .collect()
}

pub async fn search_follows_the_contract(site: &Arc<Site>) {
    let ann = site.person("ann").await;
    let ben = site.person("ben").await;
    let cat = site.person("cat").await;
    let ab = ann.direct_with(&ben).await;
    let group = ann.create_group("Planning", &[&cat]).await;
    let bc = ben.direct_with(&cat).await;
    let mut ann0 = ann.tab(0).await;
    let mut ben1 = ben.tab(1).await;

    // Stored one after the other, so "newest first" is this order reversed.
    stored(&mut ann0, &ab, "Le café est prêt").await;
    stored(&mut ben1, &ab, "cafeteria tomorrow").await;
    let lait = stored(&mut ann0, &ab, "CAFE au lait").await;
    let tea = stored(&mut ann0, &ab, "tea time").await;
    stored(&mut ann0, &group, "Meeting about the budget report").await;
    stored(&mut ann0, &group, "budget meeting moved to Friday").await;
    stored(&mut ann0, &group, "Ça va? Crème brûlée ce soir").await;
    stored(&mut ben1, &bc, "cafe for ben and cat only").await;
    let hay = format!("{} the needle is here {}", "hay ".repeat(40), "straw ".repeat(60));
    stored(&mut ann0, &group, &hay).await;

    for (q, expected) in [
        ("cafe", vec!["CAFE au lait", "cafeteria tomorrow", "Le café est prêt"]),
        ("CAFÉ PRÊT", vec!["Le café est prêt"]),
        ("prêt café", vec!["Le café est prêt"]),
        ("caf est", vec![]),
        (
            "budget meeting",
            vec!["budget meeting moved to Friday", "Meeting about the budget report"],
        ),
        (
            "meeting budg",
            vec!["budget meeting moved to Friday", "Meeting about the budget report"],
        ),
        ("budg report", vec![]),
        ("budget tea", vec![]),
        ("creme brulee", vec!["Ça va? Crème brûlée ce soir"]),
        ("ca va", vec!["Ça va? Crème brûlée ce soir"]),
        ("TEA", vec!["tea time"]),
        ("moved friday!", vec!["budget meeting moved to Friday"]),
    ] {
        assert_eq!(ann.search(q).await, expected, "Ann searching {q:?}");
    }
    // A word as written is found whatever its script; FTS5 syntax in a query is just words.
    stored(&mut ben1, &ab, "नमस्ते दुनिया").await;
    stored(&mut ben1, &ab, "Καλημέρα Αθηνά").await;
    for (q, expected) in [
        ("दुनिया", vec!["नमस्ते दुनिया"]),
        ("καλημέρα", vec!["Καλημέρα Αθηνά"]),
        ("NOT cafe", vec![]),
        ("cafe OR tea", vec![]),
        ("NEAR(cafe lait)", vec![]),
        ("body:cafe", vec![]),
        ("\"cafe", vec!["CAFE au lait", "cafeteria tomorrow", "Le café est prêt"]),
        ("cafe*", vec!["CAFE au lait", "cafeteria tomorrow", "Le café est prêt"]),
    ] {
        assert_eq!(ann.search(q).await, expected, "Ann searching {q:?}");
    }

    // Each emoji is a word of its own, found whatever its skin tone; a snippet shows the text
    // around it.
    stored(&mut ann0, &ab, "great👍").await;
    stored(&mut ben1, &ab, "thanks 👍🏽 see you").await;
    let party = format!("{} and then 🎉🎉 at last {}", "wait ".repeat(40), "cake ".repeat(60));
    stored(&mut ben1, &ab, &party).await;
    for (q, expected) in [
        ("👍", vec!["thanks 👍🏽 see you", "great👍"]),
        ("👍🏿", vec!["thanks 👍🏽 see you", "great👍"]),
        ("great", vec!["great👍"]),
        ("👍 thanks", vec!["thanks 👍🏽 see you"]),
        ("🎉", vec![party.as_str()]),
        ("❤️", vec![]),
    ] {
        assert_eq!(ann.search(q).await, expected, "Ann searching {q:?}");
    }
    let (_, found) = search(&ann, &format!("q={}", encode("🎉"))).await;
    let snippet = found["results"][0]["snippet"].as_str().expect("snippet");
    assert!(
        snippet.contains("and then 🎉🎉 at last") && snippet.chars().count() < party.chars().count(),
        "{snippet}"
    );
    // A query of punctuation only has no word to find: nothing is found, which is no error.
    for q in ["!!!", "?!", " - ", "\u{1F3FD}"] {
        let (status, found) = search(&ann, &format!("q={}", encode(q))).await;
        assert_eq!(
            (status, found),
            (200, json!({"results": [], "nextCursor": null})),
            "{q:?}"
        );
    }

    // Each finds only their own conversations.
    assert_eq!(
        ben.search("cafe").await,
        [
            "cafe for ben and cat only",
            "CAFE au lait",
            "cafeteria tomorrow",
            "Le café est prêt"
        ]
    );
    assert_eq!(cat.search("cafe").await, ["cafe for ben and cat only"]);
    assert_eq!(cat.search("budget").await.len(), 2);

    // A snippet is a short excerpt around the match.
    let (_, found) = search(&ann, "q=needle").await;
    let snippet = found["results"][0]["snippet"].as_str().expect("snippet");
    assert!(
        snippet.contains("needle") && snippet.chars().count() < hay.chars().count(),
        "{snippet}"
    );

    // One conversation of the caller's; anyone else's is not found.
    let (status, found) = search(&ann, &format!("q=cafe&conversationId={group}")).await;
    assert_eq!((status, result_bodies(&found)), (200, vec![]));
    let (status, found) = search(&ann, &format!("q=cafe&conversationId={ab}")).await;
    assert_eq!((status, result_bodies(&found).len()), (200, 3));
    for id in [bc.clone(), uuid::Uuid::new_v4().to_string(), "not-an-id".into()] {
        let (status, body) = search(&ann, &format!("q=cafe&conversationId={id}")).await;
        assert_eq!((status, &body["error"]["code"]), (404, &json!("not_found")), "{id}");
    }

    // Pages by cursor, newest first, each result once.
    let everything = ann.search("cafe").await;
    let mut paged = Vec::new();
    let mut cursor = String::new();
    loop {
        let (status, page) = search(&ann, &format!("q=cafe&limit=2&cursor={}", encode(&cursor))).await;
        assert_eq!(status, 200, "{page}");
        paged.extend(result_bodies(&page).into_iter().map(str::to_owned));
        match page["nextCursor"].as_str() {
            Some(next) => cursor = next.to_owned(),
            None => break,
        }
        assert!(paged.len() <= everything.len(), "paging never ends: {paged:?}");
    }
    assert_eq!(paged, everything);
    let (_, one) = search(&ann, "q=cafe&limit=1").await;
    assert!(one["nextCursor"].is_string() && result_bodies(&one).len() == 1);
    let (_, all) = search(&ann, "q=cafe&limit=3").await;
    assert_eq!(all["nextCursor"], Value::Null, "no cursor when nothing is left");

    // Bad queries: 400, whoever asks.
    let long_q = "a".repeat(201);
    for query in [
        String::new(),
        "q=".into(),
        "q=%20%20".into(),
        format!("q={long_q}"),
        "q=cafe&limit=0".into(),
        "q=cafe&limit=51".into(),
        "q=cafe&limit=ten".into(),
        "q=cafe&cursor=garbage".into(),
        "q=cafe&cursor=-1".into(),
    ] {
        let (status, body) = search(&ann, &query).await;
        assert_eq!(
            (status, &body["error"]["code"]),
            (400, &json!("invalid_input")),
            "{query}"
        );
    }
    let (status, _) = search(&ann, &format!("q={}", "a".repeat(200))).await;
    assert_eq!(status, 200, "200 characters are allowed");
    let (status, _) = search(&ann, "q=cafe&limit=50").await;
    assert_eq!(status, 200);
    let (status, _) = reqwest::get(format!("{}/api/search?q=cafe", site.messages))
        .await
        .map(|r| (r.status().as_u16(), ()))
        .expect("request sent");
    assert_eq!(status, 401);

    // Edited messages are found by their new text only, deleted ones never.
    ann0.send(frame::edit(&ab, tea, "coffee time")).await;
    ann0.next_of("message.updated").await;
    assert_eq!(ann.search("tea").await, Vec::<String>::new());
    assert_eq!(ann.search("coffee").await, ["coffee time"]);
    ann0.send(frame::delete(&ab, lait)).await;
    ann0.next_of("message.updated").await;
    assert_eq!(ann.search("lait").await, Vec::<String>::new());
    assert_eq!(ann.search("cafe").await, ["cafeteria tomorrow", "Le café est prêt"]);
    assert_eq!(ben.search("au").await, Vec::<String>::new());

    // A former member finds nothing of the group any more, and still finds the rest.
    let (status, _) = ann
        .delete(&format!("/api/conversations/{group}/members/{}", cat.id))
        .await;
    assert_eq!(status, 204);
    assert_eq!(cat.search("budget").await, Vec::<String>::new());
    assert_eq!(cat.search("needle").await, Vec::<String>::new());
    assert_eq!(cat.search("cafe").await, ["cafe for ben and cat only"]);
    assert_eq!(ann.search("budget").await.len(), 2);
}

/// `nextCursor` of a search limited to one result.
async fn next_cursor(person: &Person, q: &str) -> String {
    let (status, page) = search(person, &format!("q={}&limit=1", encode(q))).await;
    assert_eq!(status, 200, "{page}");
    page["nextCursor"].as_str().expect("a next page").to_owned()
}

/// `nextCursor` says where the caller's own results stopped: the conversation and `seq` of the
/// last one, which they were shown. Nothing of the server's: the messages others exchanged
/// between two searches do not move it, so they cannot be counted by it.
pub async fn a_search_cursor_reveals_nothing_of_other_conversations(site: &Arc<Site>) {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let decoded = |cursor: &str| -> Value {
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(cursor).expect("base64")).expect("json")
    };
    let (spy, pal) = (site.person("spy").await, site.person("pal").await);
    let (ann, ben) = (site.person("ann").await, site.person("ben").await);
    let mine = spy.direct_with(&pal).await;
    let theirs = ann.direct_with(&ben).await;
    let (mut spy0, mut ann0) = (spy.tab(0).await, ann.tab(0).await);
    stored(&mut spy0, &mine, "marker one").await;
    stored(&mut spy0, &mine, "marker two").await;
    let before = next_cursor(&spy, "marker").await;
    for i in 0..25 {
        stored(&mut ann0, &theirs, &format!("private {i}")).await;
    }
    stored(&mut spy0, &mine, "marker three").await;
    let after = next_cursor(&spy, "marker").await;
    assert_eq!(decoded(&before), json!({"conversationId": mine, "seq": 2}));
    assert_eq!(decoded(&after), json!({"conversationId": mine, "seq": 3}));

    // It pages on; one naming a conversation the caller is not in is refused as made up.
    let (status, page) = search(&spy, &format!("q=marker&limit=1&cursor={}", encode(&after))).await;
    assert_eq!((status, result_bodies(&page)), (200, vec!["marker two"]));
    let forged = URL_SAFE_NO_PAD.encode(json!({"conversationId": theirs, "seq": 20}).to_string());
    let (status, body) = search(&spy, &format!("q=marker&cursor={forged}")).await;
    assert_eq!((status, &body["error"]["code"]), (400, &json!("invalid_input")));
}
