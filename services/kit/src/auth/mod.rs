//! The session: an HS256 JWT in the `auth` cookie, verified locally by every service.
//!
//! Sign-out revokes a token everywhere, and disabling an account or changing its password ends
//! all its sessions: every service instance keeps a replica of auth's session ledger
//! ([`replica`]), stored in its own database and completed after any outage, and checks every
//! token against it. Sockets learn that their session ended through [`Sessions::ended`].

mod replica;
mod watch;

use crate::bus::{Bus, Queue, handler};
use crate::config::CommonSettings;
use crate::db::{Db, Write};
use crate::http::ApiError;
use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, header};
use base64::Engine;
use gochat_proto::admin::AccountAccess;
use gochat_proto::ids::UserId;
use gochat_proto::topology::SESSIONS;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use replica::Replica;
use serde::{Deserialize, Serialize};
use std::future::Future;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Name of the session cookie.
pub const COOKIE: &str = "auth";

/// The token's claims, as CONTRACT.md fixes them.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Claims {
    pub sub: UserId,
    pub username: String,
    pub iat: i64,
    pub exp: i64,
    pub jti: String,
}

/// How far ahead of this clock a token's `iat` may be: the services' clocks differ a little.
/// Wider than the leeway of `exp` (5 s), because a verifier whose clock lags the issuer's
/// would refuse every fresh token for it, not only the last seconds of old ones.
const ISSUED_AHEAD_LEEWAY_SECS: i64 = 60;

/// The signing key, and verification pinned to HS256.
pub struct Keys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl Keys {
    pub fn from_secret(secret: &[u8]) -> Self {
        crate::jwt::install();
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 5;
        validation.set_required_spec_claims(&["exp", "sub", "iat", "jti"]);
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
        }
    }

    /// The key from the settings. Without one, `generate` creates `<data dir>/jwt.key` (mode 0600)
    /// on first run and reads it afterwards; otherwise it is an error, because separate services
    /// must share one key.
    pub fn load(settings: &CommonSettings, generate: bool) -> anyhow::Result<Self> {
        if let Some(key) = &settings.jwt_key {
            anyhow::ensure!(key.expose().len() >= 32, "the JWT key must be at least 32 characters");
            return Ok(Self::from_secret(key.expose().as_bytes()));
        }
        let path = settings
            .jwt_key_file
            .clone()
            .unwrap_or_else(|| settings.data_dir().join("jwt.key"));
        if !path.exists() {
            anyhow::ensure!(
                generate,
                "no JWT key: set GOCHAT_JWT_KEY or GOCHAT_JWT_KEY_FILE to the key every service shares"
            );
            generate_key_file(&path)?;
            tracing::info!(path = %path.display(), "generated a new JWT key");
        }
        let key = std::fs::read_to_string(&path)?;
        anyhow::ensure!(key.trim().len() >= 32, "the JWT key in {} is too short", path.display());
        Ok(Self::from_secret(key.trim().as_bytes()))
    }

    /// A new session token for this user.
    pub fn issue(&self, user: UserId, username: &str, ttl: Duration) -> anyhow::Result<(String, Claims)> {
        self.issue_at(user, username, ttl, chrono::Utc::now().timestamp())
    }

    /// A new session token for this user, issued at unix second `iat`. One issued ahead (a
    /// password change names its tab's next session in the event that ends the others) must
    /// not be handed out before that second.
    pub fn issue_at(&self, user: UserId, username: &str, ttl: Duration, iat: i64) -> anyhow::Result<(String, Claims)> {
        let claims = Claims {
            sub: user,
            username: username.to_owned(),
            iat,
            exp: iat + ttl.as_secs() as i64,
            jti: uuid::Uuid::new_v4().to_string(),
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)?;
        Ok((token, claims))
    }

    /// The claims of a token we signed that is current. jsonwebtoken checks `exp` but not
    /// `iat`: one issued in the future is refused here, as a forged one is (it would outlive a
    /// revocation of every session issued up to now).
    fn decode(&self, token: &str) -> Option<Claims> {
        let claims = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .ok()?
            .claims;
        (claims.iat <= chrono::Utc::now().timestamp() + ISSUED_AHEAD_LEEWAY_SECS).then_some(claims)
    }
}

fn generate_key_file(path: &Path) -> anyhow::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        crate::private::create_dir(dir)?;
    }
    let mut bytes = [0u8; 48];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("no random bytes from the OS: {e}"))?;
    let key = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(key.as_bytes())?;
    Ok(())
}

/// The signed-in user of a request, from a verified, unrevoked token.
#[derive(Clone, Debug)]
pub struct AuthUser {
    pub id: UserId,
    pub username: String,
    pub jti: String,
    /// When the token was issued, unix seconds.
    pub issued_at: i64,
    /// Expiry of the token, unix seconds.
    pub expires_at: i64,
}

/// Why a session ended while in use (see [`Sessions::ended`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionEnd {
    /// Signed out, or ended when its account was disabled or its password changed.
    Revoked,
    /// Its account is disabled.
    Disabled,
    /// Its token expired.
    Expired,
}

impl SessionEnd {
    /// Words for a close frame or a log line.
    pub fn reason(self) -> &'static str {
        match self {
            Self::Revoked => "session ended",
            Self::Disabled => "account disabled",
            Self::Expired => "session expired",
        }
    }
}

/// Verifies session tokens for one service, honouring revocations and disabled accounts, and
/// tells open sockets when their session ends. Cheap to clone.
#[derive(Clone)]
pub struct Sessions {
    keys: Arc<Keys>,
    replica: Arc<Replica>,
}

impl Sessions {
    /// Loads the replica stored in `db` and keeps it up to date from this instance's fan-out
    /// queue (see [`replica`]).
    pub async fn start(
        keys: Arc<Keys>,
        db: &Db,
        bus: &Bus,
        service: &str,
        instance: &str,
        tasks: &TaskTracker,
        shutdown: CancellationToken,
    ) -> anyhow::Result<Self> {
        let replica = Arc::new(Replica::load(db, bus).await?);
        let follower = replica.clone();
        bus.consume(
            // Awaited: in process, signing out (disabling, changing the password) is answered
            // once every service refuses the session, not a moment later.
            Queue::fanout(service, instance, "sessions", SESSIONS).awaited(),
            handler(move |envelope| {
                let replica = follower.clone();
                async move { replica.apply(envelope.event()?).await }
            }),
            tasks,
            shutdown,
        );
        Ok(Self { keys, replica })
    }

    pub fn keys(&self) -> &Keys {
        &self.keys
    }

    /// The user of a token, or `Unauthenticated` (forged, expired, revoked, disabled, malformed).
    pub fn verify(&self, token: &str) -> Result<AuthUser, ApiError> {
        let claims = self.keys.decode(token).ok_or(ApiError::Unauthenticated)?;
        if self.replica.refusal(claims.sub, &claims.jti, claims.iat).is_some() {
            return Err(ApiError::Unauthenticated);
        }
        Ok(AuthUser {
            id: claims.sub,
            username: claims.username,
            jti: claims.jti,
            issued_at: claims.iat,
            expires_at: claims.exp,
        })
    }

    /// Why the session `jti` of `user`, issued at `issued_at` and expiring at `expires_at`
    /// (unix seconds), is over, if it is: for what belongs to a session and outlives the request
    /// that made it (a browser's push subscription). From the replica in memory: cheap.
    pub fn end_of(&self, user: UserId, jti: &str, issued_at: i64, expires_at: i64) -> Option<SessionEnd> {
        if expires_at <= chrono::Utc::now().timestamp() {
            return Some(SessionEnd::Expired);
        }
        self.replica.refusal(user, jti, issued_at)
    }

    /// The user of a request's `auth` cookie.
    pub fn authenticate(&self, headers: &HeaderMap) -> Result<AuthUser, ApiError> {
        let token = cookie(headers, COOKIE).ok_or(ApiError::Unauthenticated)?;
        self.verify(token)
    }

    /// Resolves when `user`'s session ends: signed out, its account disabled, or its token
    /// expired (at once if that already happened). For sockets, which outlive the request that
    /// authenticated them: `select!` on it beside the socket's own work and close the socket.
    pub fn ended(&self, user: &AuthUser) -> impl Future<Output = SessionEnd> + Send + 'static {
        let replica = self.replica.clone();
        let (id, jti, issued_at) = (user.id, user.jti.clone(), user.issued_at);
        let expiry = Duration::from_secs(u64::try_from(user.expires_at - chrono::Utc::now().timestamp()).unwrap_or(0));
        let expired = tokio::time::Instant::now() + expiry;
        // Watch before looking, so that a change between the two is never missed.
        let session = replica.sessions.watch(jti.clone());
        let mut account = replica.users.watch(id);
        async move {
            loop {
                if let Some(end) = replica.refusal(id, &jti, issued_at) {
                    return end;
                }
                tokio::select! {
                    _ = session.notified() => {}
                    _ = account.notified() => account = replica.users.watch(id),
                    _ = tokio::time::sleep_until(expired) => return SessionEnd::Expired,
                }
            }
        }
    }

    /// Within a write of the auth service (signing out): revokes the session here at once.
    pub fn revoke_in(&self, w: &Write<'_>, jti: &str, expires_at: i64) -> rusqlite::Result<()> {
        self.replica.revoke_in(w, jti, expires_at)
    }

    /// Within a write of the auth service (disabling or enabling an account, changing its
    /// password): applies the new access here at once.
    pub fn set_access_in(&self, w: &Write<'_>, access: &AccountAccess) -> rusqlite::Result<()> {
        self.replica.set_access_in(w, access)
    }
}

impl<S> FromRequestParts<S> for AuthUser
where
    Sessions: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Sessions::from_ref(state).authenticate(&parts.headers)
    }
}

/// The value of cookie `name` in the request's `Cookie` headers.
pub fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// `Set-Cookie` for a new session. `Secure` only over HTTPS: browsers drop secure cookies sent
/// over plain HTTP to a LAN address, and plain-HTTP homelabs must work.
pub fn session_cookie(token: &str, max_age: Duration, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    let value = format!(
        "{COOKIE}={token}; HttpOnly; SameSite=Lax; Path=/; Max-Age={}{secure}",
        max_age.as_secs()
    );
    HeaderValue::from_str(&value).expect("a JWT and fixed attributes are valid header characters")
}

/// `Set-Cookie` that removes the session cookie.
pub fn clear_cookie(secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!("{COOKIE}=; HttpOnly; SameSite=Lax; Path=/; Max-Age=0{secure}"))
        .expect("fixed attributes are valid header characters")
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod unit_tests {
    use super::*;

    fn keys() -> Keys {
        Keys::from_secret(b"0123456789abcdef0123456789abcdef")
    }

    #[test]
    fn issued_tokens_verify_and_carry_the_contract_claims() {
        let keys = keys();
        let user = UserId::new();
        let (token, claims) = keys.issue(user, "alice", Duration::from_secs(60)).unwrap();
        let back = keys.decode(&token).unwrap();
        assert_eq!(back.sub, user);
        assert_eq!(back.jti, claims.jti);
        assert_eq!(back.username, "alice");
    }

    #[test]
    fn tokens_of_another_key_or_algorithm_are_refused() {
        let (token, _) = Keys::from_secret(b"another-key-another-key-another-k")
            .issue(UserId::new(), "eve", Duration::from_secs(60))
            .unwrap();
        assert!(keys().decode(&token).is_none());
        let header = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
        let (good, _) = keys().issue(UserId::new(), "eve", Duration::from_secs(60)).unwrap();
        let payload = good.split('.').nth(1).unwrap();
        assert!(keys().decode(&format!("{header}.{payload}.")).is_none());
    }

    /// A token issued in the future was never issued by us: refused like a forged one, beyond
    /// the clock skew between services (a token issued a second ahead, as a password change
    /// does, is accepted).
    #[test]
    fn tokens_issued_in_the_future_are_refused() {
        let keys = keys();
        let now = chrono::Utc::now().timestamp();
        let ttl = Duration::from_secs(2 * 3600);
        let (ahead, _) = keys.issue_at(UserId::new(), "mallory", ttl, now + 3600).unwrap();
        assert!(keys.decode(&ahead).is_none());
        let (next_second, _) = keys.issue_at(UserId::new(), "alice", ttl, now + 1).unwrap();
        assert!(keys.decode(&next_second).is_some());
    }

    #[test]
    fn cookie_is_found_among_others() {
        let mut headers = HeaderMap::new();
        headers.insert(header::COOKIE, HeaderValue::from_static("a=1; auth=tok; b=2"));
        assert_eq!(cookie(&headers, "auth"), Some("tok"));
        assert_eq!(cookie(&headers, "c"), None);
    }
}
