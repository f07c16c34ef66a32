//! `GET /api/push/key`, `POST /api/push/subscriptions`, `DELETE /api/push/subscriptions`.

use super::subscriptions::{self, Session, Subscription};
use crate::store::Store;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::routing::get;
use gochat_kit::auth::AuthUser;
use gochat_kit::db::DbError;
use gochat_kit::http::{ApiError, Json};
use gochat_proto::dto::{PushKey, PushSubscriptionRequest, PushUnsubscribeRequest};

pub fn router() -> Router<Store> {
    Router::new().route("/api/push/key", get(key)).route(
        "/api/push/subscriptions",
        axum::routing::post(subscribe).delete(unsubscribe),
    )
}

async fn key(State(store): State<Store>, _user: AuthUser) -> Json<PushKey> {
    Json(PushKey {
        public_key: store.push.public_key().to_owned(),
    })
}

async fn subscribe(
    State(store): State<Store>,
    user: AuthUser,
    headers: HeaderMap,
    Json(req): Json<PushSubscriptionRequest>,
) -> Result<StatusCode, ApiError> {
    let keys = subscriptions::parse_keys(&req.keys).map_err(ApiError::invalid)?;
    let endpoint = store.push.policy.check(&req.endpoint).map_err(ApiError::invalid)?;
    store
        .push
        .policy
        .check_resolved(&endpoint)
        .await
        .map_err(ApiError::invalid)?;
    let subscription = Subscription {
        endpoint: req.endpoint,
        keys,
        origin: site_origin(&store, &headers),
        // This browser's pushes last as long as the session it is signed in with.
        session: Session {
            id: user.jti.clone(),
            issued_at: user.issued_at,
            expires_at: user.expires_at,
        },
    };
    store
        .db
        .write(move |w| subscriptions::save(w, user.id, &subscription, chrono::Utc::now()).map_err(DbError::from))
        .await?;
    Ok(StatusCode::CREATED)
}

async fn unsubscribe(
    State(store): State<Store>,
    user: AuthUser,
    Json(req): Json<PushUnsubscribeRequest>,
) -> Result<StatusCode, ApiError> {
    store
        .db
        .write(move |w| subscriptions::remove(w, user.id, &req.endpoint).map_err(DbError::from))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The site the browser subscribed from: its `Origin` (the guard has let it through, so it is
/// this site or an allowed one), or the host it asked.
fn site_origin(store: &Store, headers: &HeaderMap) -> String {
    let text = |name| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(origin) = text(header::ORIGIN).filter(|o| o.starts_with("http")) {
        return origin.to_owned();
    }
    let scheme = store.origins.scheme(headers);
    format!("{scheme}://{}", text(header::HOST).unwrap_or("localhost"))
}
