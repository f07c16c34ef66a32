//! `/api/auth/*`.

use crate::AppState;
use crate::store::{self, Taken};
use axum::Router;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use gochat_kit::auth::{clear_cookie, session_cookie};
use gochat_kit::db::DbError;
use gochat_kit::http::{ApiError, Json};
use gochat_proto::dto::{CurrentUserResponse, SigninRequest, SignupRequest, User, UserResponse};
use gochat_proto::events::{UserLoggedIn, UserRegistered, UserSignedOut};
use gochat_proto::ids::UserId;
use gochat_proto::limits::{MAX_EMAIL_CHARS, PASSWORD_CHARS, USERNAME_CHARS};
use std::net::SocketAddr;

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/api/auth/signup", post(signup))
        .route("/api/auth/signin", post(signin))
        .route("/api/auth/signout", post(signout))
        .route("/api/auth/currentuser", get(current_user))
        .with_state(state)
}

async fn signup(
    State(state): State<AppState>,
    headers: HeaderMap,
    Json(req): Json<SignupRequest>,
) -> Result<Response, ApiError> {
    validate_email(&req.email)?;
    validate_username(&req.username)?;
    validate_password(&req.password)?;

    // Refuse duplicates before paying for a hash; the unique indexes still decide races.
    let (email, username) = (req.email.clone(), req.username.clone());
    if let Some(taken) = state
        .db
        .read(move |c| store::taken(c, &email, &username).map_err(DbError::from))
        .await?
    {
        return Err(conflict(taken));
    }
    let hash = state.passwords.hash(req.password).await?;
    let user = User {
        id: UserId::new(),
        email: req.email.trim().to_owned(),
        username: req.username,
    };
    let now = chrono::Utc::now();
    let stored = user.clone();
    state
        .db
        .write(move |w| {
            if let Some(taken) = store::taken(w, &stored.email, &stored.username)? {
                return Err(conflict(taken));
            }
            store::insert(w, &stored, &hash, &now.to_rfc3339())?;
            w.publish(&UserRegistered {
                user_id: stored.id,
                username: stored.username.clone(),
                registered_at: now,
            })?;
            Ok(())
        })
        .await?;
    let cookie = start_session(&state, &headers, &user)?;
    Ok((
        StatusCode::CREATED,
        [(header::SET_COOKIE, cookie)],
        Json(UserResponse { user }),
    )
        .into_response())
}

async fn signin(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Json(req): Json<SigninRequest>,
) -> Result<Response, ApiError> {
    let (login, by_email) = match (&req.email, &req.username) {
        (Some(email), _) => (email.trim().to_owned(), true),
        (None, Some(username)) => (username.trim().to_owned(), false),
        (None, None) => return Err(ApiError::invalid("give an email or a username, and a password")),
    };
    let found = state
        .db
        .read(move |c| store::find_credentials(c, &login, by_email).map_err(DbError::from))
        .await?;
    let (user, hash) = match found {
        Some(c) => (Some(c.user), Some(c.password_hash)),
        None => (None, None),
    };
    // One budget per account however it is named (email or username); unknown names get their
    // own, so the answer never tells whether an account exists.
    let address = state.origins.client_ip(&headers, peer).to_string();
    let account = match &user {
        Some(user) => format!("user:{}", user.id),
        None => format!(
            "unknown:{}",
            req.email
                .as_deref()
                .or(req.username.as_deref())
                .unwrap_or_default()
                .to_lowercase()
        ),
    };
    for (limiter, key) in [(&state.per_address, &address), (&state.per_account, &account)] {
        limiter
            .check(key)
            .map_err(|retry_after| ApiError::RateLimited { retry_after })?;
    }
    let matches = state.passwords.verify(req.password, hash).await?;
    let Some(user) = user.filter(|_| matches) else {
        state.per_address.record_failure(&address);
        state.per_account.record_failure(&account);
        return Err(ApiError::InvalidCredentials);
    };
    state.per_account.clear(&account);

    let user_id = user.id;
    state
        .db
        .write(move |w| {
            w.publish(&UserLoggedIn {
                user_id,
                at: chrono::Utc::now(),
            })
            .map(drop)
            .map_err(ApiError::from)
        })
        .await?;
    let cookie = start_session(&state, &headers, &user)?;
    Ok(([(header::SET_COOKIE, cookie)], Json(UserResponse { user })).into_response())
}

async fn signout(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    // Signing out twice, or with an expired token, still clears the cookie.
    if let Ok(session) = state.sessions.authenticate(&headers) {
        let sessions = state.sessions.clone();
        state
            .db
            .write(move |w| {
                sessions.revoke_in(w, &session.jti, session.expires_at)?;
                let expires_at = chrono::DateTime::from_timestamp(session.expires_at, 0).unwrap_or_default();
                w.publish(&UserSignedOut {
                    user_id: session.id,
                    jti: session.jti.clone(),
                    expires_at,
                })?;
                Ok::<_, ApiError>(())
            })
            .await?;
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

fn start_session(state: &AppState, headers: &HeaderMap, user: &User) -> Result<axum::http::HeaderValue, ApiError> {
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

fn validate_password(password: &str) -> Result<(), ApiError> {
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
