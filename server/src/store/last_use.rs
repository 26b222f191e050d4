//! The last use of tokens, recorded coarsely and off the request's path.
//!
//! A Bearer request that passes calls [`Recorder::record`], which only puts the use in an
//! in-memory map (token id → the latest use) under a short lock; and only once a minute
//! per token, the caller's gate (`auth::Verified` keeps the time of its token's last
//! recorded use, so a token used a thousand times a minute costs one atomic load per
//! request and one entry). A background task ([`Flusher`]) writes the map every
//! [`FLUSH_EVERY`] as one [`Op::Touch`]: one journal line in the JSON store, one `UPDATE`
//! in PostgreSQL. The request never waits for a write; a write that fails is logged and
//! the uses it carried are dropped (a use after the minute records them again). On shutdown the
//! server flushes once more before it closes the store.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::{Op, Store, Use};

/// How often the uses gathered are written.
pub const FLUSH_EVERY: Duration = Duration::from_secs(5);

/// The least time between two recorded uses of one token, in seconds.
pub const MIN_INTERVAL: i64 = 60;

/// The uses gathered since the last flush, by token id.
#[derive(Debug, Default)]
pub struct Recorder {
    pending: Mutex<HashMap<String, Use>>,
}

impl Recorder {
    /// Keeps `use_` for the next flush (replacing an earlier use of the same token).
    pub fn record(&self, use_: Use) {
        let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        match pending.get_mut(&use_.id) {
            Some(kept) if kept.at > use_.at => {}
            Some(kept) => *kept = use_,
            None => {
                pending.insert(use_.id.clone(), use_);
            }
        }
    }

    /// Takes the uses gathered, in token id order.
    pub fn take(&self) -> Vec<Use> {
        let taken = std::mem::take(&mut *self.pending.lock().unwrap_or_else(|e| e.into_inner()));
        let mut uses: Vec<Use> = taken.into_values().collect();
        uses.sort_by(|a, b| a.id.cmp(&b.id));
        uses
    }

    /// Writes the uses gathered as one change, if there are any; a failure is logged.
    pub async fn flush(&self, store: &dyn Store) {
        let uses = self.take();
        if uses.is_empty() {
            return;
        }
        let count = uses.len();
        if let Err(err) = store.apply(Op::Touch(uses)).await {
            tracing::warn!(error = %err, tokens = count, "cannot record the last use of tokens");
        }
    }
}

/// The background task that writes the uses gathered every [`FLUSH_EVERY`].
pub struct Flusher {
    stop: Arc<tokio::sync::Notify>,
    task: tokio::task::JoinHandle<()>,
}

impl Flusher {
    /// Starts flushing `recorder` into `store` every [`FLUSH_EVERY`].
    pub fn spawn(recorder: Arc<Recorder>, store: Arc<dyn Store>) -> Flusher {
        let stop = Arc::new(tokio::sync::Notify::new());
        let stopped = Arc::clone(&stop);
        let task = tokio::spawn(async move {
            let mut every = tokio::time::interval(FLUSH_EVERY);
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            every.tick().await;
            loop {
                tokio::select! {
                    _ = every.tick() => recorder.flush(store.as_ref()).await,
                    () = stopped.notified() => break,
                }
            }
            // What was gathered since the last flush, then nothing more.
            recorder.flush(store.as_ref()).await;
        });
        Flusher { stop, task }
    }

    /// Lets a flush under way finish, writes what waits, and stops: before the store
    /// closes, so that a clean stop loses no use.
    pub async fn finish(self) {
        self.stop.notify_one();
        let _ = self.task.await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn use_at(id: &str, at: i64) -> Use {
        Use {
            user: "alice".into(),
            id: id.into(),
            at,
            from: Some("127.0.0.1".into()),
        }
    }

    #[test]
    fn one_entry_per_token_the_latest_kept() {
        let recorder = Recorder::default();
        recorder.record(use_at("b", 10));
        recorder.record(use_at("a", 20));
        recorder.record(use_at("b", 30));
        recorder.record(use_at("b", 25));
        assert_eq!(recorder.take(), vec![use_at("a", 20), use_at("b", 30)]);
        assert!(recorder.take().is_empty());
    }
}
