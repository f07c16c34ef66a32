//! Builds the directory from user events.

use crate::{AppState, directory};
use gochat_kit::bus::{Handler, handler as make_handler};
use gochat_kit::db::DbError;
use gochat_proto::events::Event;

pub fn handler(state: AppState) -> Handler {
    make_handler(move |envelope| {
        let state = state.clone();
        async move {
            let event = envelope.event()?;
            let id = envelope.id;
            let changed = state
                .db
                .write(move |w| {
                    if !w.first_delivery(id)? {
                        return Ok(false);
                    }
                    match event {
                        Event::UserRegistered(e) => {
                            directory::insert(w, e.user_id, &e.username, &e.registered_at.to_rfc3339())?;
                            Ok(true)
                        }
                        _ => Ok::<_, DbError>(false),
                    }
                })
                .await?;
            if changed {
                state.pages.invalidate_all();
            }
            Ok(())
        }
    })
}
