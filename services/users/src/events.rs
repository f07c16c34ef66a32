//! Builds the directory from user events, and presence from the notifications instances'
//! claims and heartbeats.

use crate::{AppState, directory, presence};
use gochat_kit::bus::{Handler, handler as make_handler};
use gochat_kit::db::DbError;
use gochat_proto::events::Event;

pub fn handler(state: AppState) -> Handler {
    make_handler(move |envelope| {
        let state = state.clone();
        async move {
            let event = envelope.event()?;
            let now_ms = chrono::Utc::now().timestamp_millis();
            // Claims, releases and beats change liveness in memory; they are idempotent (a beat
            // restates everything), so they need no inbox, and they reach the database only when
            // a user's presence flips.
            let flipped = {
                let mut live = state.liveness.lock().expect("liveness lock poisoned");
                match &event {
                    Event::PresenceHeartbeat(e) => Some(live.heartbeat(&e.instance, &e.users, now_ms)),
                    Event::UserOnline(e) => Some(live.claim(e.user_id, &e.instance, now_ms)),
                    Event::UserOffline(e) => Some(live.release(e.user_id, &e.instance)),
                    _ => None,
                }
            };
            let changed = match flipped {
                Some(users) if users.is_empty() => false,
                Some(users) => state.settle(users).await?,
                None => {
                    let (id, liveness) = (envelope.id, state.liveness.clone());
                    let registered = state
                        .db
                        .write(move |w| {
                            if !w.first_delivery(id)? {
                                return Ok(None);
                            }
                            Ok::<_, DbError>(match event {
                                Event::UserRegistered(e) => {
                                    directory::insert(w, e.user_id, &e.username, &e.registered_at.to_rfc3339())?;
                                    // Claims that arrived before the registration take effect now.
                                    Some(presence::settle(w, [e.user_id], &liveness)?)
                                }
                                _ => None,
                            })
                        })
                        .await?;
                    registered.is_some_and(|written| {
                        state.stored(&written);
                        true
                    })
                }
            };
            if changed {
                state.directory_changed();
            }
            Ok(())
        }
    })
}
