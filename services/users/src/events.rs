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
            let id = envelope.id;
            let now_ms = chrono::Utc::now().timestamp_millis();
            let changed = state
                .db
                .write(move |w| {
                    // Heartbeats are idempotent (they state what an instance holds) and frequent:
                    // they skip the inbox rather than fill it.
                    if let Event::PresenceHeartbeat(e) = &event {
                        return Ok(presence::heartbeat(w, &e.instance, &e.users, now_ms)?);
                    }
                    if !w.first_delivery(id)? {
                        return Ok(false);
                    }
                    Ok::<_, DbError>(match event {
                        Event::UserRegistered(e) => {
                            directory::insert(w, e.user_id, &e.username, &e.registered_at.to_rfc3339())?;
                            // Claims that arrived before the registration take effect now.
                            presence::settle(w, [e.user_id])?;
                            true
                        }
                        Event::UserOnline(e) => presence::claim(w, e.user_id, &e.instance, now_ms)?,
                        Event::UserOffline(e) => presence::release(w, e.user_id, &e.instance)?,
                        _ => false,
                    })
                })
                .await?;
            if changed {
                state.pages.invalidate_all();
            }
            Ok(())
        }
    })
}
