//! The last use of tokens, recorded coarsely and off the request's path.
//!
//! A Bearer request that passes calls [`Recorder::record`], which only puts the use in an
//! in-memory map (token id → the latest use) under a short lock; and only once a minute
//! per token: the caller's gate (`auth::Verified` keeps the time of its token's last
//! recorded use, so a token used a thousand times a minute costs one atomic load per
//! request), then the recorder's own (the time of each token's last recorded use in the
//! last minute, for tokens that fell out of the verified-token cache and came back). A background task ([`Flusher`]) writes the map every
//! [`FLUSH_EVERY`] as one [`Op::Touch`]: one journal line in the JSON store, one `UPDATE`
//! in PostgreSQL. The request never waits for a write; a write that fails is logged and
//! the uses it carried are dropped (a use after the minute records them again). On shutdown the
//! server flushes once more before it closes the store.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::{Op, Store, Use};

/// How often the uses gathered are written.
pub const FLUSH_EVERY: Duration = Duration::from_secs(5);

/// The least time between two recorded uses of one token, in seconds.
pub const MIN_INTERVAL: i64 = 60;

/// The uses gathered since the last flush, by token id, and the time of each token's
/// last recorded use in the last minute.
#[derive(Debug, Default)]
pub struct Recorder {
    pending: Mutex<HashMap<String, Use>>,
    recent: Mutex<Recent>,
}

/// When each token's use was last recorded, for [`MIN_INTERVAL`]: forgotten a minute after
/// the newest use seen, so it holds the tokens used in the last minute at most.
#[derive(Debug, Default)]
struct Recent {
    at: HashMap<String, i64>,
    newest: i64,
}

impl Recorder {
    /// Keeps the use of token `id` of `user` at `at` from `from` for the next flush,
    /// unless a use of the token was recorded less than [`MIN_INTERVAL`] before it: `false`
    /// then, having allocated nothing. Callers ask only when their own gate
    /// (`auth::Verified`) is open, so this lock is taken once a minute per token, and on
    /// each use of a token that fell out of the verified-token cache.
    pub fn record(&self, user: &str, id: &str, at: i64, from: Option<IpAddr>) -> bool {
        {
            let mut recent = self.recent.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(&last) = recent.at.get(id)
                && at.saturating_sub(last) < MIN_INTERVAL
            {
                return false;
            }
            if at > recent.newest {
                recent.newest = at;
                if recent.at.len() >= 1024 {
                    let since = at.saturating_sub(MIN_INTERVAL);
                    recent.at.retain(|_, kept| *kept > since);
                }
            }
            recent.at.insert(id.to_owned(), at);
        }
        let use_ = Use {
            user: user.to_owned(),
            id: id.to_owned(),
            at,
            from: from.map(|ip| ip.to_canonical().to_string()),
        };
        let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        match pending.get_mut(&use_.id) {
            Some(kept) if kept.at > use_.at => {}
            Some(kept) => *kept = use_,
            None => {
                pending.insert(use_.id.clone(), use_);
            }
        }
        true
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

    /// Records `use_` as a request would.
    fn record(recorder: &Recorder, use_: Use) -> bool {
        let from = use_.from.as_deref().map(|ip| ip.parse().expect("ip"));
        recorder.record(&use_.user, &use_.id, use_.at, from)
    }

    #[test]
    fn one_use_a_minute_per_token() {
        let recorder = Recorder::default();
        assert!(record(&recorder, use_at("b", 10)));
        assert!(record(&recorder, use_at("a", 20)));
        assert!(!record(&recorder, use_at("b", 69)));
        assert_eq!(recorder.take(), vec![use_at("a", 20), use_at("b", 10)]);
        assert!(recorder.take().is_empty());
        // Taken or not, the minute holds.
        assert!(!record(&recorder, use_at("a", 79)));
        assert!(record(&recorder, use_at("b", 70)));
        assert!(record(&recorder, use_at("a", 80)));
        assert_eq!(recorder.take(), vec![use_at("a", 80), use_at("b", 70)]);
    }

    #[test]
    fn the_recent_times_are_forgotten_after_a_minute() {
        let recorder = Recorder::default();
        for i in 0..2000 {
            assert!(record(&recorder, use_at(&format!("t{i}"), i)));
        }
        let kept = recorder.recent.lock().map(|r| r.at.len()).unwrap_or(0);
        assert!(kept < 1100, "{kept} times kept");
        assert_eq!(recorder.take().len(), 2000);
    }
}
