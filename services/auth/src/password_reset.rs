//! `POST /api/auth/password-reset`: setting a forgotten password with the code of a reset link
//! an admin made (`POST /api/admin/users/{id}/password-reset`).
//!
//! The code is the proof, so it is guessed like a password: a wrong one pays from the sign-in
//! budget of the client's address, and is refused before any password is hashed. A good one
//! works once, as a password change does: every session of the account ends in every service,
//! and the tab that used it is signed in.

use crate::password_change::{Proof, set_password};
use crate::routes::{client_key, code_hash, hash_error, validate_password};
use crate::{AppState, store};
use axum::Router;
use axum::extract::{ConnectInfo, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::post;
use gochat_kit::db::DbError;
use gochat_kit::http::{ApiError, Json};
use gochat_proto::admin::MAX_RESET_CODE_CHARS;
use gochat_proto::dto::ResetPasswordRequest;
use std::net::SocketAddr;

const NOT_VALID: &str = "this reset link does not work: it was used, replaced by a newer one, or has expired; \
     ask your admin for a new one";

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/api/auth/password-reset", post(reset_password))
        .with_state(state)
}

async fn reset_password(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Json(req): Json<ResetPasswordRequest>,
) -> Result<Response, ApiError> {
    let code = req.code.trim();
    if code.is_empty() || code.len() > MAX_RESET_CODE_CHARS {
        return Err(ApiError::invalid(NOT_VALID));
    }
    validate_password(&req.new_password)?;
    let attempt = state
        .signin_failures
        .attempt(&client_key(&state, &headers, peer))
        .map_err(|retry_after| ApiError::RateLimited { retry_after })?;
    let hash = code_hash(code);
    let lookup = hash.clone();
    let account = state
        .db
        .read(move |c| {
            let Some(id) = store::password_reset_account(c, &lookup)? else {
                return Ok(None);
            };
            store::find_account_by_id(c, id).map_err(DbError::from)
        })
        .await?;
    // A wrong code stays counted against the address; a good one is given back.
    let Some(account) = account else {
        return Err(ApiError::invalid(NOT_VALID));
    };
    attempt.give_back();
    if account.disabled {
        return Err(ApiError::Forbidden("this account is disabled"));
    }
    let new_hash = state.passwords.hash(req.new_password).await.map_err(hash_error)?;
    let id = account.user.id;
    // The code is checked again in the write: it may have been used or replaced meanwhile.
    let response = set_password(&state, &headers, id, Proof::ResetCode(hash), new_hash, None)
        .await?
        .ok_or(ApiError::invalid(NOT_VALID))?;
    tracing::info!(user = %id, "password reset with an admin's link; the account's other sessions ended");
    Ok(response)
}
