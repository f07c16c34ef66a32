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
use rusqlite::{Connection, OptionalExtension, Row, params};

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

/// Binds each subscription to the session that registered it (see [`Session`]). Those stored
/// before were bound to their user only, and nothing says which session (maybe one signed out
/// of a shared computer since) made them: they go. A browser whose user is signed in registers
/// its subscription again when GoChat next opens there.
pub const SESSIONS_MIGRATION: &str = "
DELETE FROM push_subscriptions;
-- the session (token jti) that registered the subscription, when its token was issued and when
-- it expires (unix seconds): the subscription ends with it
ALTER TABLE push_subscriptions ADD COLUMN session_id TEXT NOT NULL DEFAULT '';
ALTER TABLE push_subscriptions ADD COLUMN session_issued_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE push_subscriptions ADD COLUMN session_expires_at INTEGER NOT NULL DEFAULT 0;
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
    pub session: Session,
}

/// The session a subscription belongs to: the one signed in when the browser subscribed. When
/// it ends (signed out, all the account's sessions ended by a password change or by disabling
/// it, or its token expired) the browser gets no more pushes: it may be a shared computer
/// someone signed out of.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Session {
    /// The token's `jti`.
    pub id: String,
    /// Unix seconds.
    pub issued_at: i64,
    pub expires_at: i64,
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

/// Saves `user`'s subscription for its session (taking the endpoint over from anyone, or any
/// session, that had it), drops the user's subscriptions whose sessions have expired, and the
/// oldest beyond [`MAX_PER_USER`].
pub fn save(c: &Connection, user: UserId, s: &Subscription, now: Timestamp) -> rusqlite::Result<()> {
    c.prepare_cached(
        "INSERT INTO push_subscriptions (endpoint, user_id, p256dh, auth, origin, created_at,
             session_id, session_issued_at, session_expires_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
         ON CONFLICT (endpoint) DO UPDATE SET user_id = excluded.user_id, p256dh = excluded.p256dh,
             auth = excluded.auth, origin = excluded.origin, created_at = excluded.created_at,
             session_id = excluded.session_id, session_issued_at = excluded.session_issued_at,
             session_expires_at = excluded.session_expires_at",
    )?
    .execute(params![
        s.endpoint,
        user.to_string(),
        s.keys.public.to_encoded_point(false).as_bytes(),
        s.keys.auth.as_slice(),
        s.origin,
        now,
        s.session.id,
        s.session.issued_at,
        s.session.expires_at,
    ])?;
    c.prepare_cached("DELETE FROM push_subscriptions WHERE user_id = ?1 AND session_expires_at <= ?2")?
        .execute(params![user.to_string(), now.timestamp()])?;
    c.prepare_cached(
        "DELETE FROM push_subscriptions WHERE endpoint IN (
             SELECT endpoint FROM push_subscriptions WHERE user_id = ?1
             ORDER BY created_at DESC LIMIT -1 OFFSET ?2)",
    )?
    .execute(params![user.to_string(), MAX_PER_USER])?;
    Ok(())
}

/// Removes the subscriptions of a session that ended (signed out); returns how many.
pub fn end_session(c: &Connection, user: UserId, session: &str) -> rusqlite::Result<usize> {
    c.prepare_cached("DELETE FROM push_subscriptions WHERE user_id = ?1 AND session_id = ?2")?
        .execute(params![user.to_string(), session])
}

/// All of an account's sessions issued up to `before` (unix seconds) ended (its password
/// changed, or it was disabled): removes their subscriptions, except that of `renewed`'s old
/// session, which moves to the new one (the tab that changed the password goes on). Sessions
/// issued later, so subscriptions registered since, stay, whenever this arrives.
pub fn end_sessions_before(
    c: &Connection,
    user: UserId,
    before: i64,
    renewed: Option<(&str, &Session)>,
) -> rusqlite::Result<usize> {
    if let Some((from, to)) = renewed {
        c.prepare_cached(
            "UPDATE push_subscriptions SET session_id = ?3, session_issued_at = ?4, session_expires_at = ?5
             WHERE user_id = ?1 AND session_id = ?2",
        )?
        .execute(params![user.to_string(), from, to.id, to.issued_at, to.expires_at])?;
    }
    c.prepare_cached("DELETE FROM push_subscriptions WHERE user_id = ?1 AND session_issued_at <= ?2")?
        .execute(params![user.to_string(), before])
}

/// Removes one subscription (its session ended) unless it was registered again meanwhile.
pub fn remove_ended(c: &Connection, endpoint: &str, session: &str) -> rusqlite::Result<()> {
    c.prepare_cached("DELETE FROM push_subscriptions WHERE endpoint = ?1 AND session_id = ?2")?
        .execute(params![endpoint, session])?;
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
/// subscribed again meanwhile (new keys); returns whether it did.
pub fn remove_gone(c: &Connection, s: &Subscription) -> rusqlite::Result<bool> {
    let removed = c
        .prepare_cached("DELETE FROM push_subscriptions WHERE endpoint = ?1 AND auth = ?2")?
        .execute(params![s.endpoint, s.keys.auth.as_slice()])?;
    Ok(removed == 1)
}

/// The session the browser at `endpoint` is subscribed with for `user`, if it still is.
pub fn session_at(c: &Connection, endpoint: &str, user: UserId) -> rusqlite::Result<Option<Session>> {
    c.prepare_cached(
        "SELECT session_id, session_issued_at, session_expires_at FROM push_subscriptions
         WHERE endpoint = ?1 AND user_id = ?2",
    )?
    .query_row(params![endpoint, user.to_string()], |r| {
        Ok(Session {
            id: r.get(0)?,
            issued_at: r.get(1)?,
            expires_at: r.get(2)?,
        })
    })
    .optional()
}

pub fn of_user(c: &Connection, user: UserId) -> rusqlite::Result<Vec<Subscription>> {
    c.prepare_cached(
        "SELECT endpoint, p256dh, auth, origin, session_id, session_issued_at, session_expires_at
         FROM push_subscriptions WHERE user_id = ?1",
    )?
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
        session: Session {
            id: r.get("session_id")?,
            issued_at: r.get("session_issued_at")?,
            expires_at: r.get("session_expires_at")?,
        },
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
        c.execute_batch(SESSIONS_MIGRATION).unwrap();
        c
    }

    fn session(id: &str, issued_at: i64) -> Session {
        Session {
            id: id.into(),
            issued_at,
            expires_at: chrono::Utc::now().timestamp() + 3600,
        }
    }

    fn browser(n: u8) -> Subscription {
        browser_of(n, session(&format!("session-{n}"), 100))
    }

    fn browser_of(n: u8, session: Session) -> Subscription {
        Subscription {
            endpoint: format!("https://push.example.net/{n}"),
            keys: BrowserKeys {
                public: SecretKey::from_slice(&[n.max(1); 32]).unwrap().public_key(),
                auth: [n; 16],
            },
            origin: "https://chat.example.org".into(),
            session,
        }
    }

    fn endpoints(c: &Connection, user: UserId) -> Vec<String> {
        let mut kept: Vec<String> = of_user(c, user).unwrap().into_iter().map(|s| s.endpoint).collect();
        kept.sort();
        kept
    }

    #[test]
    fn a_subscription_ends_with_the_session_that_registered_it() {
        let c = db();
        let (alice, bob) = (UserId::new(), UserId::new());
        let now = chrono::Utc::now();
        // Alice in three browsers, each its own session; bob in one.
        save(&c, alice, &browser_of(1, session("a1", 100)), now).unwrap();
        save(&c, alice, &browser_of(2, session("a2", 200)), now).unwrap();
        save(&c, alice, &browser_of(3, session("a3", 300)), now).unwrap();
        save(&c, bob, &browser_of(4, session("a1", 100)), now).unwrap();

        // Alice signs out of the first: its browser goes, hers only.
        assert_eq!(end_session(&c, alice, "a1").unwrap(), 1);
        assert_eq!(endpoints(&c, alice), [browser(2).endpoint, browser(3).endpoint]);
        assert_eq!(of_user(&c, bob).unwrap().len(), 1, "someone else's session of that id");

        // She changes her password in the third: the second goes, the third moves to the
        // tab's new session.
        let renewed = session("a3-renewed", 301);
        assert_eq!(end_sessions_before(&c, alice, 300, Some(("a3", &renewed))).unwrap(), 1);
        let kept = of_user(&c, alice).unwrap();
        assert_eq!(
            kept.iter().map(|s| (&s.endpoint, &s.session)).collect::<Vec<_>>(),
            [(&browser(3).endpoint, &renewed)]
        );
        // That event again (a redelivery), or one arriving after she subscribed a browser with
        // a newer session, changes nothing.
        save(&c, alice, &browser_of(5, session("a5", 400)), now).unwrap();
        assert_eq!(end_sessions_before(&c, alice, 300, Some(("a3", &renewed))).unwrap(), 0);
        assert_eq!(endpoints(&c, alice), [browser(3).endpoint, browser(5).endpoint]);

        // Disabled (every session up to now): nothing is left.
        assert_eq!(end_sessions_before(&c, alice, 400, None).unwrap(), 2);
        assert!(of_user(&c, alice).unwrap().is_empty());

        // A subscription of an expired session goes when its user saves another.
        let expired = Session {
            expires_at: now.timestamp() - 1,
            ..session("b-old", 50)
        };
        save(&c, bob, &browser_of(6, expired), now).unwrap();
        assert_eq!(endpoints(&c, bob), [browser(4).endpoint]);

        // An ended one is removed unless registered again meanwhile.
        remove_ended(&c, &browser(4).endpoint, "another").unwrap();
        assert_eq!(of_user(&c, bob).unwrap().len(), 1);
        remove_ended(&c, &browser(4).endpoint, "a1").unwrap();
        assert!(of_user(&c, bob).unwrap().is_empty());
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
        assert!(session_at(&c, &browser(1).endpoint, bob).unwrap().is_some());
        assert!(session_at(&c, &browser(1).endpoint, alice).unwrap().is_none());
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
