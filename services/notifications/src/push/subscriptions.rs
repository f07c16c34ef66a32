//! Push subscriptions: where each browser of a user receives pushes. Plain synchronous
//! functions, run on the database threads.

use super::ece::BrowserKeys;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use gochat_proto::Timestamp;
use gochat_proto::dto::PushSubscriptionKeys;
use gochat_proto::ids::UserId;
use p256::PublicKey;
use p256::elliptic_curve::sec1::ToEncodedPoint;
use rusqlite::{Connection, Row, params};

pub const MIGRATION: &str = "
CREATE TABLE push_subscriptions (
    -- A browser's push channel. It belongs to one user at a time: when someone else signs in
    -- on that browser and turns notifications on, the previous user's pushes stop going there.
    endpoint TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    -- the browser's P-256 public key (65 bytes, uncompressed) and auth secret (16 bytes)
    p256dh BLOB NOT NULL,
    auth BLOB NOT NULL,
    -- the site's origin as the browser named it when subscribing: whom push services may
    -- contact about our pushes, unless GOCHAT_PUSH_CONTACT says otherwise
    origin TEXT NOT NULL,
    created_at TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX push_subscriptions_by_user ON push_subscriptions (user_id, created_at);
";

/// Browsers one user may have subscribed at once; a new one beyond replaces the oldest (a
/// browser that was reset or thrown away never unsubscribes).
pub const MAX_PER_USER: i64 = 20;

/// One browser's subscription.
#[derive(Clone, Debug)]
pub struct Subscription {
    pub endpoint: String,
    pub keys: BrowserKeys,
    pub origin: String,
}

/// The keys of a subscription request, checked: a P-256 point and a 16-byte secret.
pub fn parse_keys(keys: &PushSubscriptionKeys) -> Result<BrowserKeys, &'static str> {
    let point = decode(&keys.p256dh).ok_or("keys.p256dh is not base64url")?;
    if point.len() != 65 || point[0] != 4 {
        return Err("keys.p256dh must be an uncompressed P-256 point (65 bytes)");
    }
    let public = PublicKey::from_sec1_bytes(&point).map_err(|_| "keys.p256dh is not a point of P-256")?;
    let auth = decode(&keys.auth)
        .and_then(|a| <[u8; 16]>::try_from(a).ok())
        .ok_or("keys.auth must be 16 bytes, base64url")?;
    Ok(BrowserKeys { public, auth })
}

/// Base64url with or without padding, as browsers and libraries write it.
fn decode(text: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(text.trim_end_matches('=')).ok()
}

/// Saves `user`'s subscription (taking the endpoint over from anyone who had it) and drops the
/// user's oldest beyond [`MAX_PER_USER`].
pub fn save(c: &Connection, user: UserId, s: &Subscription, now: Timestamp) -> rusqlite::Result<()> {
    c.prepare_cached(
        "INSERT INTO push_subscriptions (endpoint, user_id, p256dh, auth, origin, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (endpoint) DO UPDATE SET user_id = excluded.user_id, p256dh = excluded.p256dh,
             auth = excluded.auth, origin = excluded.origin, created_at = excluded.created_at",
    )?
    .execute(params![
        s.endpoint,
        user.to_string(),
        s.keys.public.to_encoded_point(false).as_bytes(),
        s.keys.auth.as_slice(),
        s.origin,
        now
    ])?;
    c.prepare_cached(
        "DELETE FROM push_subscriptions WHERE endpoint IN (
             SELECT endpoint FROM push_subscriptions WHERE user_id = ?1
             ORDER BY created_at DESC LIMIT -1 OFFSET ?2)",
    )?
    .execute(params![user.to_string(), MAX_PER_USER])?;
    Ok(())
}

/// Removes the user's own subscription at `endpoint`; false when they had none there.
pub fn remove(c: &Connection, user: UserId, endpoint: &str) -> rusqlite::Result<bool> {
    let removed = c
        .prepare_cached("DELETE FROM push_subscriptions WHERE endpoint = ?1 AND user_id = ?2")?
        .execute(params![endpoint, user.to_string()])?;
    Ok(removed == 1)
}

/// Removes a subscription the push service says is gone (404, 410), unless the browser has
/// subscribed again meanwhile (new keys).
pub fn remove_gone(c: &Connection, s: &Subscription) -> rusqlite::Result<()> {
    c.prepare_cached("DELETE FROM push_subscriptions WHERE endpoint = ?1 AND auth = ?2")?
        .execute(params![s.endpoint, s.keys.auth.as_slice()])?;
    Ok(())
}

/// Whether the browser at `endpoint` is still subscribed for `user`.
pub fn belongs_to(c: &Connection, endpoint: &str, user: UserId) -> rusqlite::Result<bool> {
    c.prepare_cached("SELECT 1 FROM push_subscriptions WHERE endpoint = ?1 AND user_id = ?2")?
        .exists(params![endpoint, user.to_string()])
}

pub fn of_user(c: &Connection, user: UserId) -> rusqlite::Result<Vec<Subscription>> {
    c.prepare_cached("SELECT endpoint, p256dh, auth, origin FROM push_subscriptions WHERE user_id = ?1")?
        .query_map([user.to_string()], subscription)?
        .collect()
}

fn subscription(r: &Row<'_>) -> rusqlite::Result<Subscription> {
    let bad = |i: usize| rusqlite::Error::InvalidColumnType(i, "key".into(), rusqlite::types::Type::Blob);
    let point: Vec<u8> = r.get("p256dh")?;
    let auth: Vec<u8> = r.get("auth")?;
    Ok(Subscription {
        endpoint: r.get("endpoint")?,
        keys: BrowserKeys {
            public: PublicKey::from_sec1_bytes(&point).map_err(|_| bad(1))?,
            auth: auth.try_into().map_err(|_| bad(2))?,
        },
        origin: r.get("origin")?,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use p256::SecretKey;

    fn db() -> Connection {
        let c = Connection::open_in_memory().unwrap();
        c.execute_batch(MIGRATION).unwrap();
        c
    }

    fn browser(n: u8) -> Subscription {
        Subscription {
            endpoint: format!("https://push.example.net/{n}"),
            keys: BrowserKeys {
                public: SecretKey::from_slice(&[n.max(1); 32]).unwrap().public_key(),
                auth: [n; 16],
            },
            origin: "https://chat.example.org".into(),
        }
    }

    #[test]
    fn keys_must_be_a_p256_point_and_a_16_byte_secret() {
        let point = URL_SAFE_NO_PAD.encode(browser(3).keys.public.to_encoded_point(false).as_bytes());
        let auth = URL_SAFE_NO_PAD.encode([1u8; 16]);
        let keys = |p256dh: &str, auth: &str| PushSubscriptionKeys {
            p256dh: p256dh.into(),
            auth: auth.into(),
        };
        assert!(parse_keys(&keys(&point, &auth)).is_ok());
        assert!(
            parse_keys(&keys(&format!("{point}="), &format!("{auth}=="))).is_ok(),
            "padded"
        );
        let compressed = URL_SAFE_NO_PAD.encode(browser(3).keys.public.to_encoded_point(true).as_bytes());
        let off_curve = URL_SAFE_NO_PAD.encode([[4u8].as_slice(), &[1u8; 64]].concat());
        for (p, a) in [
            ("", auth.as_str()),
            ("not base64!", auth.as_str()),
            (compressed.as_str(), auth.as_str()),
            (off_curve.as_str(), auth.as_str()),
            (point.as_str(), ""),
            (point.as_str(), "AAAA"),
        ] {
            assert!(parse_keys(&keys(p, a)).is_err(), "{p} {a}");
        }
    }

    #[test]
    fn an_endpoint_has_one_owner_and_a_user_keeps_the_newest_twenty() {
        let c = db();
        let (alice, bob) = (UserId::new(), UserId::new());
        let start = chrono::Utc::now();
        save(&c, alice, &browser(1), start).unwrap();
        save(&c, bob, &browser(1), start).unwrap();
        assert!(of_user(&c, alice).unwrap().is_empty(), "bob took the browser over");
        assert!(belongs_to(&c, &browser(1).endpoint, bob).unwrap());
        assert!(!belongs_to(&c, &browser(1).endpoint, alice).unwrap());
        assert!(
            !remove(&c, alice, &browser(1).endpoint).unwrap(),
            "not alice's to remove"
        );
        for n in 0..=MAX_PER_USER as u8 {
            save(&c, alice, &browser(10 + n), start + chrono::Duration::seconds(n.into())).unwrap();
        }
        let kept: Vec<String> = of_user(&c, alice).unwrap().into_iter().map(|s| s.endpoint).collect();
        assert_eq!(kept.len() as i64, MAX_PER_USER);
        assert!(!kept.contains(&browser(10).endpoint), "the oldest went");
        let mine = &of_user(&c, bob).unwrap()[0];
        assert_eq!(
            (mine.keys.auth, mine.keys.public),
            (browser(1).keys.auth, browser(1).keys.public)
        );
        remove_gone(&c, mine).unwrap();
        assert!(of_user(&c, bob).unwrap().is_empty());
    }
}
