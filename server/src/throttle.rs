//! Slowing password guessing down, per username: a few failures are free, then each one
//! locks the name for a doubling time, up to five minutes.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failures allowed before the name is locked.
const FREE_FAILURES: u32 = 5;
/// The longest lock.
const MAX_LOCK: Duration = Duration::from_secs(300);
/// Failures older than this are forgotten.
pub const FORGET_AFTER: Duration = Duration::from_secs(900);

/// How long a name is locked after its `count`-th failure in a row: nothing for the first
/// few, then 1 s, doubling up to five minutes. Shared by this in-process throttle and the
/// one a shared store (PostgreSQL) keeps for every server.
pub fn lock_after(count: u32) -> Option<Duration> {
    (count >= FREE_FAILURES).then(|| {
        let doublings = (count - FREE_FAILURES).min(16);
        Duration::from_secs(1u64 << doublings).min(MAX_LOCK)
    })
}
/// Names remembered at most; beyond that, forgotten ones are dropped first.
const MAX_NAMES: usize = 100_000;

/// Failed sign-ins per username.
#[derive(Debug, Default)]
pub struct Throttle {
    names: Mutex<HashMap<String, Failures>>,
}

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    last: Instant,
    locked_until: Option<Instant>,
}

impl Throttle {
    /// Seconds to wait before `username` may try again, if it is locked now.
    pub fn retry_after(&self, username: &str) -> Option<u64> {
        let names = self.names.lock().unwrap_or_else(|e| e.into_inner());
        let until = names.get(username)?.locked_until?;
        let now = Instant::now();
        (until > now).then(|| (until - now).as_secs_f64().ceil().max(1.0) as u64)
    }

    /// Records a failure; past the free ones, locks the name for a doubling time.
    pub fn fail(&self, username: &str) {
        let now = Instant::now();
        let mut names = self.names.lock().unwrap_or_else(|e| e.into_inner());
        if names.len() >= MAX_NAMES {
            names.retain(|_, f| now.duration_since(f.last) < FORGET_AFTER);
            if names.len() >= MAX_NAMES {
                names.retain(|_, f| f.locked_until.is_some_and(|until| until > now));
            }
        }
        let entry = names.entry(username.to_owned()).or_insert(Failures {
            count: 0,
            last: now,
            locked_until: None,
        });
        if now.duration_since(entry.last) >= FORGET_AFTER {
            entry.count = 0;
        }
        entry.count = entry.count.saturating_add(1);
        entry.last = now;
        if let Some(lock) = lock_after(entry.count) {
            entry.locked_until = Some(now + lock);
        }
    }

    /// Forgets the failures of a name after a good password.
    pub fn succeed(&self, username: &str) {
        self.names
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(username);
    }
}

#[cfg(test)]
mod tests;
