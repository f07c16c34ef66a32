//! `GET/POST /api/conversations`, `PATCH /api/conversations/{id}`,
//! `POST /api/conversations/{id}/members`, `DELETE /api/conversations/{id}/members/{user}`.
//!
//! Every change is announced (`conversation.updated`) in the transaction that makes it, so
//! every tab of every member, on any chat instance, learns it.

use super::conversation_id;
use crate::AppState;
use crate::events::announce_conversation;
use crate::store::conversations::{self, Head};
use crate::store::{blocks, timeline, users};
use axum::extract::State;
use axum::http::StatusCode;
use gochat_kit::auth::AuthUser;
use gochat_kit::db::{DbError, Write};
use gochat_kit::http::{ApiError, Json, Path};
use gochat_proto::dto::{
    AddMembersRequest, ConversationKind, ConversationResponse, ConversationsResponse, CreateConversationRequest,
    MemberRole, RenameConversationRequest, TimelineKind,
};
use gochat_proto::ids::{ConversationId, UserId};
use gochat_proto::limits::MAX_GROUP_MEMBERS;
use gochat_proto::validate;

pub async fn list(State(state): State<AppState>, me: AuthUser) -> Result<Json<ConversationsResponse>, ApiError> {
    let conversations = state
        .db
        .read(move |c| conversations::list(c, me.id).map_err(DbError::from))
        .await?;
    Ok(Json(ConversationsResponse { conversations }))
}

/// What a write route decided, answered after its transaction.
enum Outcome<T> {
    Done(T),
    Refused(ApiError),
}

type Written<T> = Result<Outcome<T>, DbError>;

fn refused<T>(e: ApiError) -> Written<T> {
    Ok(Outcome::Refused(e))
}

async fn write<T, F>(state: &AppState, f: F) -> Result<T, ApiError>
where
    F: FnOnce(&mut Write<'_>) -> Written<T> + Send + 'static,
    T: Send + 'static,
{
    match state.db.write(f).await? {
        Outcome::Done(value) => Ok(value),
        Outcome::Refused(e) => Err(e),
    }
}

/// `{"peerId"}` opens (or finds) the caller's direct conversation: 201 when created, 200 when
/// it existed. `{"title","memberIds"}` creates a group owned by the caller: 201.
pub async fn create(
    State(state): State<AppState>,
    me: AuthUser,
    Json(request): Json<CreateConversationRequest>,
) -> Result<(StatusCode, Json<ConversationResponse>), ApiError> {
    match request {
        CreateConversationRequest {
            peer_id: Some(peer),
            title: None,
            member_ids: None,
        } => open_direct(&state, me, peer).await,
        CreateConversationRequest {
            peer_id: None,
            title: Some(title),
            member_ids: Some(members),
        } => create_group(&state, me, title, members).await,
        _ => Err(ApiError::invalid("give `peerId`, or `title` and `memberIds`")),
    }
}

async fn open_direct(
    state: &AppState,
    me: AuthUser,
    peer: UserId,
) -> Result<(StatusCode, Json<ConversationResponse>), ApiError> {
    if peer == me.id {
        return Err(ApiError::invalid("you cannot open a conversation with yourself"));
    }
    let (created, conversation) = write(state, move |w| {
        if users::find(w, peer)?.is_none() {
            return refused(ApiError::NotFound);
        }
        if blocks::blocks(w, peer, me.id)? {
            return refused(ApiError::Forbidden("you cannot message this user"));
        }
        users::ensure(w, me.id, &me.username)?;
        let (head, created) = conversations::get_or_create_direct(w, me.id, peer, chrono::Utc::now())?;
        if created {
            announce_conversation(w, head.id, Vec::new(), None)?;
        }
        match conversations::view(w, head.id, me.id)? {
            Some(view) => Ok(Outcome::Done((created, view))),
            None => refused(ApiError::NotFound),
        }
    })
    .await?;
    let status = if created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(ConversationResponse { conversation })))
}

/// The distinct other users of a request, at most a group's worth.
fn others(me: UserId, ids: Vec<UserId>, room: usize) -> Result<Vec<UserId>, ApiError> {
    let mut others: Vec<UserId> = Vec::with_capacity(ids.len());
    for id in ids {
        if id != me && !others.contains(&id) {
            others.push(id);
        }
    }
    if others.len() > room {
        return Err(ApiError::invalid(format!(
            "a group has at most {MAX_GROUP_MEMBERS} members"
        )));
    }
    Ok(others)
}

/// Why a group cannot take someone who blocks its creator or owner: a block keeps the blocked
/// person from reaching the blocker, in a group of their making as in a direct conversation.
const NOT_ADDABLE: &str = "someone you named cannot be added to your groups";

async fn create_group(
    state: &AppState,
    me: AuthUser,
    title: String,
    members: Vec<UserId>,
) -> Result<(StatusCode, Json<ConversationResponse>), ApiError> {
    let title = validate::title(&title).map_err(ApiError::invalid)?.to_owned();
    let others = others(me.id, members, MAX_GROUP_MEMBERS - 1)?;
    if others.is_empty() {
        return Err(ApiError::invalid("a group needs at least one other member"));
    }
    let conversation = write(state, move |w| {
        if !users::unknown(w, &others)?.is_empty() {
            return refused(ApiError::NotFound);
        }
        if blocks::any_blocks(w, &others, me.id)? {
            return refused(ApiError::Forbidden(NOT_ADDABLE));
        }
        users::ensure(w, me.id, &me.username)?;
        let now = chrono::Utc::now();
        let head = conversations::create_group(w, me.id, &title, &others, now)?;
        let event = timeline::record(w, head.id, TimelineKind::Created, me.id, &others, Some(&title), now)?;
        let state = announce_conversation(w, head.id, Vec::new(), event)?;
        match state.and_then(|s| s.view_for(me.id)) {
            Some(view) => Ok(Outcome::Done(view)),
            None => refused(ApiError::NotFound),
        }
    })
    .await?;
    Ok((StatusCode::CREATED, Json(ConversationResponse { conversation })))
}

/// The group `id`, as one of its members; 404 for anyone else, 400 for a direct conversation.
fn group_of(w: &Write<'_>, id: ConversationId, me: UserId) -> Result<Result<(Head, MemberRole), ApiError>, DbError> {
    let Some(role) = conversations::role(w, id, me)? else {
        return Ok(Err(ApiError::NotFound));
    };
    let Some(head) = conversations::head(w, id)? else {
        return Ok(Err(ApiError::NotFound));
    };
    if head.kind != ConversationKind::Group {
        return Ok(Err(ApiError::invalid(
            "a direct conversation has no title or members to change",
        )));
    }
    Ok(Ok((head, role)))
}

/// Any member renames a group.
pub async fn rename(
    State(state): State<AppState>,
    me: AuthUser,
    Path(id): Path<String>,
    Json(request): Json<RenameConversationRequest>,
) -> Result<Json<ConversationResponse>, ApiError> {
    let id = conversation_id(&id)?;
    let title = validate::title(&request.title).map_err(ApiError::invalid)?.to_owned();
    let conversation = write(&state, move |w| {
        if let Err(e) = group_of(w, id, me.id)? {
            return refused(e);
        }
        if conversations::rename(w, id, &title)? {
            let event = timeline::record(
                w,
                id,
                TimelineKind::Renamed,
                me.id,
                &[],
                Some(&title),
                chrono::Utc::now(),
            )?;
            announce_conversation(w, id, Vec::new(), event)?;
        }
        match conversations::view(w, id, me.id)? {
            Some(view) => Ok(Outcome::Done(view)),
            None => refused(ApiError::NotFound),
        }
    })
    .await?;
    Ok(Json(ConversationResponse { conversation }))
}

/// The owner adds members; they see the whole history.
pub async fn add_members(
    State(state): State<AppState>,
    me: AuthUser,
    Path(id): Path<String>,
    Json(request): Json<AddMembersRequest>,
) -> Result<Json<ConversationResponse>, ApiError> {
    let id = conversation_id(&id)?;
    let others = others(me.id, request.user_ids, MAX_GROUP_MEMBERS)?;
    let conversation = write(&state, move |w| {
        match group_of(w, id, me.id)? {
            Err(e) => return refused(e),
            Ok((_, MemberRole::Member)) => return refused(ApiError::Forbidden("only the group's owner adds members")),
            Ok((_, MemberRole::Owner)) => {}
        }
        // Checked once the caller is known to be the owner, so a stranger learns nothing.
        if others.is_empty() {
            return refused(ApiError::invalid("name at least one user to add"));
        }
        if !users::unknown(w, &others)?.is_empty() {
            return refused(ApiError::NotFound);
        }
        let current = conversations::member_ids(w, id)?;
        let new: Vec<UserId> = others.iter().copied().filter(|u| !current.contains(u)).collect();
        if blocks::any_blocks(w, &new, me.id)? {
            return refused(ApiError::Forbidden(NOT_ADDABLE));
        }
        if current.len() + new.len() > MAX_GROUP_MEMBERS {
            return refused(ApiError::invalid(format!(
                "a group has at most {MAX_GROUP_MEMBERS} members"
            )));
        }
        let now = chrono::Utc::now();
        let added = conversations::add_members(w, id, &others, now)?;
        if !added.is_empty() {
            let event = timeline::record(w, id, TimelineKind::Added, me.id, &added, None, now)?;
            announce_conversation(w, id, Vec::new(), event)?;
        }
        match conversations::view(w, id, me.id)? {
            Some(view) => Ok(Outcome::Done(view)),
            None => refused(ApiError::NotFound),
        }
    })
    .await?;
    Ok(Json(ConversationResponse { conversation }))
}

/// The owner removes anyone; anyone removes themselves (leaves), and an owner who leaves hands
/// the group to the member who joined first. 204.
pub async fn remove_member(
    State(state): State<AppState>,
    me: AuthUser,
    Path((id, user)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let id = conversation_id(&id)?;
    let user: UserId = user.parse().map_err(|_| ApiError::NotFound)?;
    write(&state, move |w| {
        match group_of(w, id, me.id)? {
            Err(e) => return refused(e),
            Ok((_, MemberRole::Member)) if user != me.id => {
                return refused(ApiError::Forbidden("only the group's owner removes others"));
            }
            Ok(_) => {}
        }
        let Some(removal) = conversations::remove_member(w, id, user)? else {
            return refused(ApiError::NotFound);
        };
        let now = chrono::Utc::now();
        let event = if user == me.id {
            timeline::record(w, id, TimelineKind::Left, me.id, &[], None, now)?
        } else {
            timeline::record(w, id, TimelineKind::Removed, me.id, &[user], None, now)?
        };
        announce_conversation(w, id, vec![user], event)?;
        // Only an owner leaving hands the group over; said after the leaving, at the same
        // instant (the events' numbers keep that order).
        if let Some(owner) = removal.new_owner {
            let event = timeline::record(w, id, TimelineKind::OwnerChanged, user, &[owner], None, now)?;
            announce_conversation(w, id, Vec::new(), event)?;
        }
        Ok(Outcome::Done(()))
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
