//! `POST /api/auth/password`: the signed-in user changes their password.
//!
//! Knowing the current password is the proof, so a wrong one is a guess like a failed sign-in
//! and pays from the same budgets. A change ends every session the account had, in every
//! service at once, the way disabling does: the account's `sessionsBefore` moves to now and is
//! published as an access change (`user.sessions_revoked`). The tab that asked gets a new
//! session, issued in the second after, which the event names (`renewed`) so that what
//! belongs to the tab's session (its push subscription) goes on with it.

use crate::routes::{Guess, SEEN_EVERYWHERE, after_second, client_key, hash_error, known_account, validate_password};
use crate::{AppState, ledger, store};
use axum::Router;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use gochat_kit::auth::{AuthUser, session_cookie};
use gochat_kit::db::DbError;
use gochat_kit::http::{ApiError, Json};
use gochat_proto::admin::{RenewedSession, UserSessionsRevoked};
use gochat_proto::dto::{ChangePasswordRequest, UserResponse};
use gochat_proto::ids::UserId;
use gochat_proto::limits::PASSWORD_CHARS;
use std::net::SocketAddr;

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/api/auth/password", post(change_password))
        .with_state(state)
}

async fn change_password(
    session: AuthUser,
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Json(req): Json<ChangePasswordRequest>,
) -> Result<Response, ApiError> {
    // Bounded before anything looks at them, like sign-in's.
    let current = &req.current_password;
    if current.is_empty() || current.chars().count() > *PASSWORD_CHARS.end() {
        return Err(ApiError::invalid("give your current password (at most 128 characters)"));
    }
    validate_password(&req.new_password)?;

    let id = session.id;
    let account = state
        .db
        .read(move |c| store::find_account_by_id(c, id).map_err(DbError::from))
        .await?
        .ok_or(ApiError::Unauthenticated)?;
    let address = client_key(&state, &headers, peer);
    let address_attempt = state
        .signin_failures
        .attempt(&address)
        .map_err(|retry_after| ApiError::RateLimited { retry_after })?;
    let guess = Guess::new(&state, address_attempt, &known_account(id), &address)?;
    let verified = state
        .passwords
        .verify(req.current_password, Some(account.password_hash.clone()))
        .await;
    if !guess.judge(verified)? {
        return Err(ApiError::InvalidCredentials);
    }
    let new_hash = state.passwords.hash(req.new_password).await.map_err(hash_error)?;
    // Another change won meanwhile: the password given is no longer the current one.
    let proof = Proof::CurrentHash(account.password_hash);
    let changed = set_password(&state, &headers, id, proof, new_hash, Some(session.jti)).await?;
    let response = changed.ok_or(ApiError::InvalidCredentials)?;
    tracing::info!(user = %id, "password changed; the account's other sessions ended");
    Ok(response)
}

/// What entitles a request to set an account's password, checked in the write that sets it.
pub(crate) enum Proof {
    /// The hash of the current password, which the request knew: of two changes made with the
    /// same current password, one wins.
    CurrentHash(String),
    /// The hash of a live reset code for the account: it works once.
    ResetCode(String),
}

/// Gives account `id` the password of `new_hash` if `proof` still holds, ends every session it
/// had in every service, and answers with a new session for the tab that asked (which goes on
/// from its session `renewed_from`, when it had one). `None` when the proof no longer holds (or
/// the account is gone); 403 when it is disabled.
pub(crate) async fn set_password(
    state: &AppState,
    headers: &HeaderMap,
    id: UserId,
    proof: Proof,
    new_hash: String,
    renewed_from: Option<String>,
) -> Result<Option<Response>, ApiError> {
    let (sessions, ttl) = (state.sessions.clone(), state.session_ttl);
    let changed = state
        .db
        .write(move |w| {
            // Taken in the write, after every earlier write: a sign-in that checked the old
            // password and wrote before this issued its session before this instant (see signin).
            let now = chrono::Utc::now().timestamp();
            let old_hash = match &proof {
                Proof::CurrentHash(hash) => Some(hash.as_str()),
                Proof::ResetCode(code) if store::password_reset_account(w, code)? == Some(id) => None,
                Proof::ResetCode(_) => return Ok(None),
            };
            let Some(access) = store::change_password(w, id, old_hash, &new_hash, now)? else {
                return Ok(None);
            };
            if access.disabled {
                return Err(ApiError::Forbidden("this account is disabled"));
            }
            let user = store::find_user(w, id)?.ok_or(ApiError::NotFound)?;
            let seq = ledger::access(w, &access)?;
            sessions.set_access_in(w, &access)?;
            // This tab's next session, issued in the second after the change (it is handed out
            // only once that second has come, below), is named in the event: what belonged to
            // the tab's old session (its browser's push subscription) moves to it.
            let (token, claims) =
                sessions
                    .keys()
                    .issue_at(user.id, &user.username, ttl, access.sessions_before.timestamp() + 1)?;
            let renewed = renewed_from.map(|from| RenewedSession {
                from,
                jti: claims.jti,
                issued_at: chrono::DateTime::from_timestamp(claims.iat, 0).unwrap_or_default(),
                expires_at: chrono::DateTime::from_timestamp(claims.exp, 0).unwrap_or_default(),
            });
            let revoked = w.publish_delivered(&UserSessionsRevoked { access, seq, renewed })?;
            Ok(Some((access, user, token, revoked)))
        })
        .await?;
    let Some((access, user, token, revoked)) = changed else {
        return Ok(None);
    };
    // Answered once every service refuses the sessions from before, this one's included.
    revoked.within(SEEN_EVERYWHERE).await;
    after_second(access.sessions_before.timestamp()).await;
    let cookie = session_cookie(&token, state.session_ttl, state.origins.is_https(headers));
    Ok(Some(
        ([(header::SET_COOKIE, cookie)], Json(UserResponse { user })).into_response(),
    ))
}
