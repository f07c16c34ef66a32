//! Turns at the picture decoder. Decoding takes a core and up to a few hundred MB, so pictures
//! are decoded one at a time, server-wide, rather than exhaust a small board's memory. The
//! turns are fair between users: a user's pictures line up behind each other first, so only
//! the first of each user's line waits for the decoder. Someone's picture then waits for at
//! most one decode of each other user with pictures in flight, however many one user sends at
//! once.

use gochat_proto::ids::UserId;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use tokio::sync::{Mutex as AsyncMutex, OwnedMutexGuard};

/// Each user's line, kept only while some picture of theirs is in it.
type Lines = Mutex<HashMap<UserId, Arc<AsyncMutex<()>>>>;

#[derive(Default)]
pub struct Decoder {
    /// The decode running. Tokio's mutex serves its waiters in order; its guard goes with the
    /// decode, which outlives a request given up meanwhile.
    running: Arc<AsyncMutex<()>>,
    lines: Lines,
}

impl Decoder {
    /// Waits until the user's earlier pictures are done: theirs go one by one.
    pub async fn line_up(&self, user: UserId) -> InLine<'_> {
        let place = Place {
            lines: &self.lines,
            user,
            line: self
                .lines
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .entry(user)
                .or_default()
                .clone(),
        };
        let first = place.line.clone().lock_owned().await;
        InLine {
            decoder: self,
            _first: first,
            _place: place,
        }
    }
}

/// First in the user's line, until dropped.
pub struct InLine<'d> {
    decoder: &'d Decoder,
    // Fields drop in this order: the line is left before its place is given up.
    _first: OwnedMutexGuard<()>,
    _place: Place<'d>,
}

impl InLine<'_> {
    /// Waits for the decoder, behind the first picture of each user who came before. The turn
    /// lasts until the guard is dropped: move it into the decode's own thread, so that an
    /// upload given up (a closed connection, a timeout) does not end the turn of a decode that
    /// goes on.
    pub async fn turn(&self) -> OwnedMutexGuard<()> {
        self.decoder.running.clone().lock_owned().await
    }
}

/// A picture's place in its user's line, waiting or first; the line goes with its last place.
struct Place<'d> {
    lines: &'d Lines,
    user: UserId,
    line: Arc<AsyncMutex<()>>,
}

impl Drop for Place<'_> {
    fn drop(&mut self) {
        let mut lines = self.lines.lock().unwrap_or_else(PoisonError::into_inner);
        // Places are only made under this lock: two references (the map's and this one) mean
        // nobody else is in the line, nor can join it before it is gone.
        if Arc::strong_count(&self.line) == 2 {
            lines.remove(&self.user);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Lets every spawned task run until it waits (the test runtime has one thread).
    async fn settle() {
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
    }

    #[tokio::test]
    async fn someone_waits_for_one_decode_per_other_user_not_for_all_their_pictures() {
        let decoder = Arc::new(Decoder::default());
        let (ann, ben) = (UserId::new(), UserId::new());
        let decoded = Arc::new(Mutex::new(Vec::new()));
        let ann_first = decoder.line_up(ann).await;
        let decoding = ann_first.turn().await;

        // Ann sends three more pictures at once, then Ben one.
        let mut waiting = Vec::new();
        for (user, name) in [(ann, "ann"), (ann, "ann"), (ann, "ann"), (ben, "ben")] {
            let (decoder, decoded) = (decoder.clone(), decoded.clone());
            waiting.push(tokio::spawn(async move {
                let in_line = decoder.line_up(user).await;
                let _turn = in_line.turn().await;
                decoded.lock().unwrap().push(name);
            }));
            settle().await;
        }
        drop(decoding);
        drop(ann_first);
        for task in waiting {
            task.await.unwrap();
        }
        // Ben came last but is next: Ann's other pictures were in her line, not the decoder's.
        assert_eq!(*decoded.lock().unwrap(), ["ben", "ann", "ann", "ann"]);
        assert!(decoder.lines.lock().unwrap().is_empty(), "no line is kept once empty");
    }

    #[tokio::test]
    async fn a_picture_given_up_while_waiting_leaves_no_line_behind() {
        let decoder = Decoder::default();
        let ann = UserId::new();
        let first = decoder.line_up(ann).await;
        let mut second = Box::pin(decoder.line_up(ann));
        tokio::select! {
            biased;
            _ = &mut second => panic!("Ann's first picture is still in her line"),
            () = std::future::ready(()) => {}
        }
        // The upload is cut off (the client went away) after the first is done.
        drop(first);
        drop(second);
        assert!(decoder.lines.lock().unwrap().is_empty());
    }
}
