//! `/api/admin/*`: the sign-up policy, invitations, and the accounts list with roles,
//! disable/enable and password reset links (made, listed by their expiry, revoked).
//! Only an admin may call them; everyone else gets 403 (401 without a session).

use crate::routes::{SEEN_EVERYWHERE, code_hash};
use crate::{AppState, ledger, store};
use axum::Router;
use axum::extract::{FromRequestParts, Query, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::routing::{delete, get, patch, post};
use base64::Engine;
use gochat_kit::auth::AuthUser;
use gochat_kit::db::DbError;
use gochat_kit::http::{ApiError, Json, JsonOrEmpty, Path, page_limit};
use gochat_proto::admin::{
    AccountAccess, AdminSettings, AdminSettingsResponse, AdminUserResponse, AdminUsersPage, CreateInviteRequest,
    DEFAULT_INVITE_HOURS, DEFAULT_INVITE_USES, INVITE_HINT_CHARS, Invite, InviteResponse, InvitesList,
    MAX_INVITE_HOURS, MAX_INVITE_USES, PASSWORD_RESET_HOURS, PasswordReset, PasswordResetResponse, Role,
    UpdateAdminSettings, UpdateAdminUser, UserDisabled, UserEnabled,
};
use gochat_proto::ids::UserId;
use rand::RngCore;
use serde::Deserialize;

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/api/admin/settings", get(settings).patch(update_settings))
        .route("/api/admin/invites", post(create_invite).get(invites))
        .route("/api/admin/invites/{id}", delete(revoke_invite))
        .route("/api/admin/users", get(users))
        .route("/api/admin/users/{id}", patch(update_user))
        .route("/api/admin/users/{id}/disable", post(disable))
        .route("/api/admin/users/{id}/enable", post(enable))
        .route(
            "/api/admin/users/{id}/password-reset",
            post(create_password_reset).delete(revoke_password_reset),
        )
        .with_state(state)
}

/// The signed-in admin. The role is read from the database on every request, not trusted
/// from the token.
struct Admin(AuthUser);

impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let user = state.sessions.authenticate(&parts.headers)?;
        let id = user.id;
        let account = state
            .db
            .read(move |c| store::find_admin_user(c, id).map_err(DbError::from))
            .await?;
        match account {
            Some(account) if account.role == Role::Admin && !account.disabled => Ok(Self(user)),
            _ => Err(ApiError::Forbidden("only an admin may do that")),
        }
    }
}

async fn settings(_admin: Admin, State(state): State<AppState>) -> Result<Json<AdminSettingsResponse>, ApiError> {
    let default = state.signup_default;
    let signup = state
        .db
        .read(move |c| store::signup_policy(c).map_err(DbError::from))
        .await?
        .unwrap_or(default);
    Ok(Json(AdminSettingsResponse {
        settings: AdminSettings { signup },
    }))
}

async fn update_settings(
    admin: Admin,
    State(state): State<AppState>,
    Json(update): Json<UpdateAdminSettings>,
) -> Result<Json<AdminSettingsResponse>, ApiError> {
    if let Some(signup) = update.signup {
        state
            .db
            .write(move |w| store::set_signup_policy(w, signup).map_err(DbError::from))
            .await?;
        tracing::info!(admin = %admin.0.id, policy = signup.as_str(), "sign-up policy changed");
    }
    settings(admin, State(state)).await
}

async fn create_invite(
    admin: Admin,
    State(state): State<AppState>,
    JsonOrEmpty(req): JsonOrEmpty<CreateInviteRequest>,
) -> Result<(StatusCode, Json<InviteResponse>), ApiError> {
    let uses = req.max_uses.unwrap_or(DEFAULT_INVITE_USES);
    let hours = req.expires_in_hours.unwrap_or(DEFAULT_INVITE_HOURS);
    if !(1..=MAX_INVITE_USES).contains(&uses) {
        return Err(ApiError::invalid(format!("maxUses must be 1 to {MAX_INVITE_USES}")));
    }
    if !(1..=MAX_INVITE_HOURS).contains(&hours) {
        return Err(ApiError::invalid(format!(
            "expiresInHours must be 1 to {MAX_INVITE_HOURS}"
        )));
    }
    let code = random_code();
    let expires_at = chrono::Utc::now() + chrono::Duration::hours(i64::from(hours));
    let (hash, by) = (code_hash(&code), admin.0.id);
    let hint: String = code.chars().take(INVITE_HINT_CHARS).collect();
    state
        .db
        .write(move |w| store::insert_invite(w, &hash, &hint, by, expires_at.timestamp(), uses).map_err(DbError::from))
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(InviteResponse {
            invite: Invite {
                code,
                expires_at,
                uses_left: uses,
            },
        }),
    ))
}

async fn invites(_admin: Admin, State(state): State<AppState>) -> Result<Json<InvitesList>, ApiError> {
    let invites = state.db.read(|c| store::live_invites(c).map_err(DbError::from)).await?;
    Ok(Json(InvitesList { invites }))
}

/// Revokes an invitation that can still be used: its code signs nobody up from now on.
async fn revoke_invite(
    _admin: Admin,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let revoked = state
        .db
        .write(move |w| store::revoke_invite(w, &id).map_err(DbError::from))
        .await?;
    if revoked {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound)
    }
}

#[derive(Deserialize)]
struct PageQuery {
    limit: Option<u32>,
    cursor: Option<String>,
}

async fn users(
    _admin: Admin,
    State(state): State<AppState>,
    query: Result<Query<PageQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<AdminUsersPage>, ApiError> {
    let Query(query) = query.map_err(|e| ApiError::invalid(e.body_text()))?;
    let limit = page_limit(query.limit)?;
    let after = match query.cursor.as_deref() {
        None | Some("") => None,
        Some(cursor) => Some(
            cursor
                .parse::<UserId>()
                .map_err(|_| ApiError::invalid("cursor is not one this server gave"))?,
        ),
    };
    let mut users = state
        .db
        .read(move |c| store::list_users(c, after, limit + 1).map_err(DbError::from))
        .await?;
    let next_cursor = (users.len() > limit as usize).then(|| {
        users.truncate(limit as usize);
        users.last().map(|u| u.id.to_string()).unwrap_or_default()
    });
    Ok(Json(AdminUsersPage { users, next_cursor }))
}

/// Makes an account an admin, or a member again. Not one's own: an admin who could demote
/// themselves could leave the server with none.
async fn update_user(
    admin: Admin,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Json(req): Json<UpdateAdminUser>,
) -> Result<Json<AdminUserResponse>, ApiError> {
    let id = account_id(&id)?;
    if id == admin.0.id {
        return Err(ApiError::invalid("you cannot change your own role"));
    }
    let user = state
        .db
        .write(move |w| store::set_role(w, id, req.role).map_err(DbError::from))
        .await?
        .ok_or(ApiError::NotFound)?;
    tracing::info!(admin = %admin.0.id, user = %id, role = req.role.as_str(), "role changed");
    Ok(Json(AdminUserResponse { user }))
}

async fn disable(admin: Admin, State(state): State<AppState>, Path(id): Path<String>) -> Result<StatusCode, ApiError> {
    let id = account_id(&id)?;
    if id == admin.0.id {
        return Err(ApiError::invalid("you cannot disable your own account"));
    }
    let now = chrono::Utc::now();
    let sessions = state.sessions.clone();
    state
        .db
        .write(move |w| {
            let Some(before) = store::disable(w, id, now.timestamp())? else {
                return Err(ApiError::NotFound);
            };
            let access = AccountAccess {
                user_id: id,
                disabled: true,
                sessions_before: chrono::DateTime::from_timestamp(before, 0).unwrap_or(now),
            };
            let seq = ledger::access(w, &access)?;
            sessions.set_access_in(w, &access)?;
            Ok(w.publish_delivered(&UserDisabled { access, seq })?)
        })
        .await?
        .within(SEEN_EVERYWHERE)
        .await;
    tracing::info!(admin = %admin.0.id, user = %id, "account disabled");
    Ok(StatusCode::NO_CONTENT)
}

async fn enable(admin: Admin, State(state): State<AppState>, Path(id): Path<String>) -> Result<StatusCode, ApiError> {
    let id = account_id(&id)?;
    let sessions = state.sessions.clone();
    state
        .db
        .write(move |w| {
            let Some(before) = store::enable(w, id)? else {
                return Err(ApiError::NotFound);
            };
            let access = AccountAccess {
                user_id: id,
                disabled: false,
                sessions_before: chrono::DateTime::from_timestamp(before, 0).unwrap_or_default(),
            };
            let seq = ledger::access(w, &access)?;
            sessions.set_access_in(w, &access)?;
            Ok(w.publish_delivered(&UserEnabled { access, seq })?)
        })
        .await?
        .within(SEEN_EVERYWHERE)
        .await;
    tracing::info!(admin = %admin.0.id, user = %id, "account enabled");
    Ok(StatusCode::NO_CONTENT)
}

/// Makes a link that sets the account's password once, for someone who forgot theirs (this
/// server sends no email: the admin passes the link on). Not for one's own account, which has
/// "Change password". The password stays what it was until the link is used.
async fn create_password_reset(
    admin: Admin,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<PasswordResetResponse>), ApiError> {
    let id = account_id(&id)?;
    if id == admin.0.id {
        return Err(ApiError::invalid("change your own password from your account menu"));
    }
    let code = random_code();
    let expires_at = chrono::Utc::now() + chrono::Duration::hours(PASSWORD_RESET_HOURS);
    let (hash, by) = (code_hash(&code), admin.0.id);
    let kept = state
        .db
        .write(move |w| store::insert_password_reset(w, id, &hash, by, expires_at.timestamp()).map_err(DbError::from))
        .await?;
    if !kept {
        return Err(ApiError::NotFound);
    }
    tracing::info!(admin = %admin.0.id, user = %id, "password reset link made");
    Ok((
        StatusCode::CREATED,
        Json(PasswordResetResponse {
            reset: PasswordReset { code, expires_at },
        }),
    ))
}

/// Withdraws the account's reset link (sent to the wrong person, or no longer needed): its code
/// sets no password from now on. Under the same rules as making one; and like revoking an
/// invitation, 404 when there is none that still works (used, expired or already revoked).
async fn revoke_password_reset(
    admin: Admin,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id = account_id(&id)?;
    if id == admin.0.id {
        // Another admin may have made one for this admin; a new password ends it too.
        return Err(ApiError::invalid(
            "a reset link for your own account ends when you change your password from your account menu",
        ));
    }
    let revoked = state
        .db
        .write(move |w| store::revoke_password_reset(w, id).map_err(DbError::from))
        .await?;
    if !revoked {
        return Err(ApiError::NotFound);
    }
    tracing::info!(admin = %admin.0.id, user = %id, "password reset link revoked");
    Ok(StatusCode::NO_CONTENT)
}

/// 128 random bits, URL-safe: an invitation's or a reset link's code.
fn random_code() -> String {
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// An account id from the path; anything else names no account.
fn account_id(raw: &str) -> Result<UserId, ApiError> {
    raw.parse().map_err(|_| ApiError::NotFound)
}
