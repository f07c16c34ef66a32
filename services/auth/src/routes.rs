//! `/api/auth/*`.

use crate::AppState;
use crate::ledger;
use crate::limiter::{Attempt, Try, address_key};
use crate::password::HashError;
use crate::store::{self, Taken};
use axum::Router;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use gochat_kit::auth::{clear_cookie, session_cookie};
use gochat_kit::db::DbError;
use gochat_kit::http::{ApiError, Json};
use gochat_proto::admin::{Role, SignupPolicy};
use gochat_proto::dto::{CurrentUserResponse, SigninRequest, SignupRequest, User, UserResponse};
use gochat_proto::events::{UserLoggedIn, UserRegistered, UserSignedOut};
use gochat_proto::ids::UserId;
use gochat_proto::limits::{MAX_EMAIL_CHARS, PASSWORD_CHARS, USERNAME_CHARS};
use sha2::{Digest, Sha256};
use std::net::SocketAddr;
use std::time::Duration;

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/api/auth/signup", post(signup))
        .route("/api/auth/signin", post(signin))
        .route("/api/auth/signout", post(signout))
        .route("/api/auth/currentuser", get(current_user))
        .with_state(state)
}

/// The limiter key of the request's client: the peer, or what a trusted proxy reports.
pub fn client_key(state: &AppState, headers: &HeaderMap, peer: SocketAddr) -> String {
    address_key(state.origins.client_ip(headers, peer))
}

/// How long a route waits for the event announcing its change to be confirmed, so that the
/// next request, to any service, sees it (in process: applied everywhere; over RabbitMQ: queued
/// ahead of anything that follows). The change is committed either way.
pub(crate) const SEEN_EVERYWHERE: Duration = Duration::from_secs(3);

async fn signup(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Json(req): Json<SignupRequest>,
) -> Result<Response, ApiError> {
    // Counted first: every attempt, refused or not, is one of the address's ten a minute (no
    // free reads of the database, no free guesses at invite codes).
    let _counted = state
        .signups
        .attempt(&client_key(&state, &headers, peer))
        .map_err(|retry_after| ApiError::RateLimited { retry_after })?;
    // The policy before the fields: under `closed`, and under `invite` without a valid code (one
    // longer than any code is simply not valid), a sign-up is refused whatever its fields say.
    let invite = req.invite_code.as_deref().map(code_hash);
    let (policy_default, code) = (state.signup_default, invite.clone());
    state
        .db
        .read(move |c| may_sign_up(c, policy_default, code.as_deref(), store::invite_is_valid))
        .await?;
    validate_email(&req.email)?;
    validate_username(&req.username)?;
    validate_password(&req.password)?;

    // Refuse a duplicate before paying for a hash; the write checks it and the policy again,
    // and the unique indexes decide races.
    let (email, username) = (req.email.clone(), req.username.clone());
    state
        .db
        .read(move |c| match store::taken(c, &email, &username)? {
            Some(taken) => Err(conflict(taken)),
            None => Ok(()),
        })
        .await?;
    let hash = state.passwords.hash(req.password).await.map_err(hash_error)?;
    let mut user = User {
        id: UserId::new(),
        email: req.email.trim().to_owned(),
        username: req.username,
        role: Role::Member,
    };
    let now = chrono::Utc::now();
    let stored = user.clone();
    let (role, registered) = state
        .db
        .write(move |w| {
            let mut stored = stored;
            may_sign_up(w, policy_default, invite.as_deref(), store::use_invite)?;
            if let Some(taken) = store::taken(w, &stored.email, &stored.username)? {
                return Err(conflict(taken));
            }
            if !store::any_user(w)? {
                stored.role = Role::Admin;
            }
            store::insert(w, &stored, &hash, &now)?;
            let registered = w.publish_delivered(&UserRegistered {
                user_id: stored.id,
                username: stored.username.clone(),
                registered_at: now,
            })?;
            Ok((stored.role, registered))
        })
        .await?;
    user.role = role;
    // Whoever learns of the new user next (a message to them) must find them known everywhere.
    registered.within(SEEN_EVERYWHERE).await;
    let cookie = start_session(&state, &headers, &user)?;
    Ok((
        StatusCode::CREATED,
        [(header::SET_COOKIE, cookie)],
        Json(UserResponse { user }),
    )
        .into_response())
}

/// Whether the sign-up policy lets a new account in. The very first account always may (it
/// becomes the admin); under `invite`, `invite_ok` judges the code (checking it, or using it).
fn may_sign_up(
    c: &rusqlite::Connection,
    default: SignupPolicy,
    invite: Option<&str>,
    invite_ok: fn(&rusqlite::Connection, &str) -> rusqlite::Result<bool>,
) -> Result<(), ApiError> {
    if !store::any_user(c)? {
        return Ok(());
    }
    match store::signup_policy(c)?.unwrap_or(default) {
        SignupPolicy::Open => Ok(()),
        SignupPolicy::Closed => Err(ApiError::Forbidden("sign-up is closed on this server")),
        SignupPolicy::Invite => match invite {
            Some(code) if invite_ok(c, code)? => Ok(()),
            Some(_) => Err(ApiError::Forbidden("that invitation is not valid (any more)")),
            None => Err(ApiError::Forbidden("sign-up needs an invitation on this server")),
        },
    }
}

/// What the database keeps of an invite or password reset code.
pub fn code_hash(code: &str) -> String {
    Sha256::digest(code.trim().as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

async fn signin(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Json(req): Json<SigninRequest>,
) -> Result<Response, ApiError> {
    // Bounded before anything keeps or looks at them.
    let (login, by_email) = signin_login(&req)?;
    if req.password.is_empty() || req.password.chars().count() > *PASSWORD_CHARS.end() {
        return Err(ApiError::invalid("password must be 8 to 128 characters"));
    }
    let address = client_key(&state, &headers, peer);
    let address_attempt = state
        .signin_failures
        .attempt(&address)
        .map_err(|retry_after| ApiError::RateLimited { retry_after })?;

    let lookup = login.clone();
    let found = state
        .db
        .read(move |c| store::find_account(c, &lookup, by_email).map_err(DbError::from))
        .await?;
    // Unknown names get a budget of their own, so the answer never tells whether an account exists.
    let account = match &found {
        Some(found) => known_account(found.user.id),
        None => format!("unknown:{}", login.to_lowercase()),
    };
    let guess = Guess::new(&state, address_attempt, &account, &address)?;
    let (hash, found) = match found {
        Some(a) => (Some(a.password_hash.clone()), Some(a)),
        None => (None, None),
    };
    let matches = guess.judge(state.passwords.verify(req.password, hash).await)?;
    let Some(account) = found.filter(|_| matches) else {
        return Err(ApiError::InvalidCredentials);
    };
    if account.disabled {
        return Err(ApiError::Forbidden("this account is disabled"));
    }

    after_second(account.sessions_before).await;
    let cookie = start_session(&state, &headers, &account.user)?;
    // Handed out only if nothing changed the account since its password was checked. Writes run
    // one at a time: a password change or disabling that committed before this write is seen
    // here, and one after it takes its instant later than this session's, which it then
    // refuses. Without this, a sign-in with the old password that overlapped a change kept a
    // working session.
    let (user_id, checked, before) = (account.user.id, account.password_hash.clone(), account.sessions_before);
    state
        .db
        .write(move |w| {
            let unchanged = store::find_account_by_id(w, user_id)?
                .is_some_and(|a| a.password_hash == checked && !a.disabled && a.sessions_before == before);
            if !unchanged {
                return Err(ApiError::InvalidCredentials);
            }
            w.publish(&UserLoggedIn {
                user_id,
                at: chrono::Utc::now(),
            })
            .map(drop)
            .map_err(ApiError::from)
        })
        .await?;
    Ok((
        [(header::SET_COOKIE, cookie)],
        Json(UserResponse { user: account.user }),
    )
        .into_response())
}

/// The backoff's name of an account: the same however it is named (email or username), and
/// whether the password is guessed by signing in or by changing it.
pub(crate) fn known_account(id: UserId) -> String {
    format!("user:{id}")
}

/// A password guess about one account from one client address, counted before the hash against
/// both budgets: failures per address, and the progressive delay per account and address.
pub(crate) struct Guess {
    address: Attempt,
    account: Try,
}

impl Guess {
    /// Counts the account's try beside the address's attempt (counted before the account was
    /// looked up), or gives that back and refuses.
    pub(crate) fn new(state: &AppState, address: Attempt, account: &str, from: &str) -> Result<Self, ApiError> {
        match state.signin_backoff.attempt(&format!("{account} from {from}")) {
            Ok(account) => Ok(Self { address, account }),
            Err(retry_after) => {
                address.give_back();
                Err(ApiError::RateLimited { retry_after })
            }
        }
    }

    /// Settles the guess with the verification's outcome: a wrong password stays counted, the
    /// right one clears the slate (only failures count), and neither budget pays when the
    /// server was too busy to judge.
    pub(crate) fn judge(self, verified: Result<bool, HashError>) -> Result<bool, ApiError> {
        match verified {
            Ok(true) => {
                self.address.give_back();
                self.account.succeeded();
                Ok(true)
            }
            Ok(false) => Ok(false),
            Err(e) => {
                self.address.give_back();
                self.account.give_back();
                Err(hash_error(e))
            }
        }
    }
}

/// Waits until unix second `second` is over. A token's `iat` has whole seconds, and the
/// sessions of an account disabled (or whose password changed) in some second are refused up
/// to and including it: a session issued within that second (signing in right after an admin
/// enabled the account again, the tab that changed the password) would be refused everywhere,
/// so it is issued in the next one. At most two seconds:
/// a second far ahead means clocks that disagree, which waiting would not mend.
pub(crate) async fn after_second(second: i64) {
    let now = chrono::Utc::now();
    if now.timestamp() <= second {
        let next = chrono::DateTime::from_timestamp(second + 1, 0).unwrap_or(now);
        let wait = (next - now).to_std().unwrap_or_default();
        tokio::time::sleep(wait.min(Duration::from_secs(2))).await;
    }
}

/// The trimmed email or username to sign in with, and whether it is an email; refuses
/// anything longer than an account can have.
fn signin_login(req: &SigninRequest) -> Result<(String, bool), ApiError> {
    let (login, by_email, max) = match (&req.email, &req.username) {
        (Some(_), Some(_)) => return Err(ApiError::invalid("give an email or a username, not both")),
        (Some(email), None) => (email.trim(), true, MAX_EMAIL_CHARS),
        (None, Some(username)) => (username.trim(), false, *USERNAME_CHARS.end()),
        (None, None) => return Err(ApiError::invalid("give an email or a username, and a password")),
    };
    // Bytes first: never count the characters of something huge.
    if login.is_empty() || login.len() > 4 * max || login.chars().count() > max {
        return Err(ApiError::invalid(if by_email {
            "email must be at most 254 characters"
        } else {
            "username must be 3 to 32 characters"
        }));
    }
    Ok((login.to_owned(), by_email))
}

pub(crate) fn hash_error(e: HashError) -> ApiError {
    match e {
        HashError::Busy(_) => ApiError::RateLimited {
            retry_after: Duration::from_secs(1),
        },
        HashError::Failed(e) => ApiError::Internal(e),
    }
}

async fn signout(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    // Signing out twice, or with an expired token, still clears the cookie.
    if let Ok(session) = state.sessions.authenticate(&headers) {
        let sessions = state.sessions.clone();
        let revoked = state
            .db
            .write(move |w| {
                let seq = ledger::revoked(w, session.id, &session.jti, session.expires_at)?;
                sessions.revoke_in(w, &session.jti, session.expires_at)?;
                let expires_at = chrono::DateTime::from_timestamp(session.expires_at, 0).unwrap_or_default();
                Ok::<_, ApiError>(w.publish_delivered(&UserSignedOut {
                    user_id: session.id,
                    jti: session.jti.clone(),
                    expires_at,
                    seq,
                })?)
            })
            .await?;
        revoked.within(SEEN_EVERYWHERE).await;
    }
    let cookie = clear_cookie(state.origins.is_https(&headers));
    Ok((StatusCode::NO_CONTENT, [(header::SET_COOKIE, cookie)]).into_response())
}

async fn current_user(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<CurrentUserResponse>, ApiError> {
    let Ok(session) = state.sessions.authenticate(&headers) else {
        return Ok(Json(CurrentUserResponse { current_user: None }));
    };
    let user = state
        .db
        .read(move |c| store::find_user(c, session.id).map_err(DbError::from))
        .await?;
    Ok(Json(CurrentUserResponse { current_user: user }))
}

pub(crate) fn start_session(
    state: &AppState,
    headers: &HeaderMap,
    user: &User,
) -> Result<axum::http::HeaderValue, ApiError> {
    let (token, _) = state
        .sessions
        .keys()
        .issue(user.id, &user.username, state.session_ttl)?;
    Ok(session_cookie(
        &token,
        state.session_ttl,
        state.origins.is_https(headers),
    ))
}

fn conflict(taken: Taken) -> ApiError {
    ApiError::Conflict(match taken {
        Taken::Email => "that email is already registered".into(),
        Taken::Username => "that username is taken".into(),
    })
}

fn validate_email(email: &str) -> Result<(), ApiError> {
    let email = email.trim();
    let valid = email.chars().count() <= MAX_EMAIL_CHARS
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !domain.contains("..")
        });
    if valid {
        Ok(())
    } else {
        Err(ApiError::invalid("email must be an address like name@example.org"))
    }
}

fn validate_username(username: &str) -> Result<(), ApiError> {
    let valid = USERNAME_CHARS.contains(&username.chars().count())
        && username
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    if valid {
        Ok(())
    } else {
        Err(ApiError::invalid(
            "username must be 3 to 32 letters, digits, '_', '.' or '-'",
        ))
    }
}

pub(crate) fn validate_password(password: &str) -> Result<(), ApiError> {
    if PASSWORD_CHARS.contains(&password.chars().count()) {
        Ok(())
    } else {
        Err(ApiError::invalid("password must be 8 to 128 characters"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        for ok in ["a@b.co", "first.last+tag@example.org"] {
            assert!(validate_email(ok).is_ok(), "{ok}");
        }
        for bad in [
            "", "a", "a@", "@b.co", "a@b", "a@@b.co", "a b@c.de", "a@b..co", "a@.b.co",
        ] {
            assert!(validate_email(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn usernames() {
        assert!(validate_username("al_i.c-e9").is_ok());
        for bad in ["ab", "a".repeat(33).as_str(), "al ice", "alíce", "al@ce"] {
            assert!(validate_username(bad).is_err(), "{bad}");
        }
    }
}
