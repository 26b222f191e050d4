//! Slowing password guessing down, per username: a few failures are free, then each one
//! locks the name for a doubling time, up to five minutes.
//!
//! An attempt counts as a failure when it begins, before its password is hashed, so that
//! attempts in flight count against the limit: a thousand guesses sent at once get the
//! same five hashes as a thousand sent one after the other. A good password then forgets
//! the name's failures. A sign-in whose good credentials are cached costs no hash, so it
//! counts nothing: it only reads the name's standing ([`Throttle::check`]), refused while
//! the name is locked, and forgets failures only when there are some (no write at all on
//! the common path). One interface, [`Throttle`], with two implementations: this
//! process's counter ([`LocalThrottle`]) and the one a shared store (PostgreSQL) keeps for
//! every server on it, which applies the same rule ([`lock_after`]) in one statement.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use super::StoreFuture;

/// Failures allowed before the name is locked.
pub const FREE_FAILURES: u32 = 5;
/// The longest lock.
const MAX_LOCK: Duration = Duration::from_secs(300);
/// Failures older than this are forgotten.
pub const FORGET_AFTER: Duration = Duration::from_secs(900);
/// Names remembered at most; beyond that, forgotten ones are dropped first.
const MAX_NAMES: usize = 100_000;

/// How long a name is locked after its `count`-th failure in a row: nothing for the first
/// few, then 1 s, doubling up to five minutes. Shared by this in-process throttle and the
/// one a shared store (PostgreSQL) keeps for every server.
pub fn lock_after(count: u32) -> Option<Duration> {
    (count >= FREE_FAILURES).then(|| {
        let doublings = (count - FREE_FAILURES).min(16);
        Duration::from_secs(1u64 << doublings).min(MAX_LOCK)
    })
}

/// [`lock_after`] in milliseconds for the counts `1..=len` (0: no lock), the last entry
/// standing for every higher count: the table a store that counts in SQL looks up.
pub fn lock_schedule_ms(len: u32) -> Vec<i64> {
    (1..=len)
        .map(|count| lock_after(count).map_or(0, millis))
        .collect()
}

/// Whole seconds to announce in `Retry-After` for a lock that ends at `until_ms`: at
/// least 1.
pub fn retry_after_secs(until_ms: i64, now_ms: i64) -> u64 {
    u64::try_from(until_ms.saturating_sub(now_ms))
        .unwrap_or(0)
        .div_ceil(1000)
        .max(1)
}

/// A sign-in refused because its name is locked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Locked {
    /// Seconds until the name may try again (at least 1).
    pub retry_after: u64,
}

/// What a throttle holds against a name at a moment, read without counting anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// No failures are counted for the name.
    Clear,
    /// Failures are counted (or remembered past their time), but the name is not locked.
    Failing,
    /// The name is locked.
    Locked(Locked),
}

/// Failed sign-ins per username.
pub trait Throttle: Send + Sync {
    /// The standing of `username` at `now_ms`, read only: for a sign-in that needs no
    /// hash (its good credentials are cached), which must still be refused while the name
    /// is locked but is no guess to count.
    ///
    /// # Errors
    ///
    /// When a shared store cannot be reached.
    fn check(&self, username: &str, now_ms: i64) -> StoreFuture<'_, Standing>;

    /// Begins a sign-in of `username` at `now_ms` (Unix milliseconds), atomically: a
    /// locked name is refused (`Ok(Err(Locked))`) and nothing is counted; otherwise the
    /// attempt is counted as a failure now, locking the name past the free ones, and the
    /// caller may check the password (`Ok(Ok(()))`). A wrong password adds nothing more.
    ///
    /// # Errors
    ///
    /// When a shared store cannot be reached.
    fn begin(&self, username: &str, now_ms: i64) -> StoreFuture<'_, Result<(), Locked>>;

    /// Forgets the failures of a name after a good password.
    ///
    /// # Errors
    ///
    /// When a shared store cannot be reached.
    fn succeed(&self, username: &str) -> StoreFuture<'_, ()>;
}

/// The failures of one process, in memory.
#[derive(Debug, Default)]
pub struct LocalThrottle {
    names: Mutex<HashMap<String, Failures>>,
}

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    last_ms: i64,
    locked_until_ms: Option<i64>,
}

impl LocalThrottle {
    /// [`Throttle::check`] without the future.
    pub fn check_now(&self, username: &str, now_ms: i64) -> Standing {
        let names = self.names.lock().unwrap_or_else(|e| e.into_inner());
        match names.get(username) {
            None => Standing::Clear,
            Some(failures) => match failures.locked_until_ms.filter(|&until| until > now_ms) {
                Some(until) => Standing::Locked(Locked {
                    retry_after: retry_after_secs(until, now_ms),
                }),
                None => Standing::Failing,
            },
        }
    }

    /// [`Throttle::begin`] without the future.
    pub fn begin_now(&self, username: &str, now_ms: i64) -> Result<(), Locked> {
        let forget = millis(FORGET_AFTER);
        let mut names = self.names.lock().unwrap_or_else(|e| e.into_inner());
        if names.len() >= MAX_NAMES && !names.contains_key(username) {
            names.retain(|_, f| now_ms.saturating_sub(f.last_ms) < forget);
            if names.len() >= MAX_NAMES {
                names.retain(|_, f| f.locked_until_ms.is_some_and(|until| until > now_ms));
            }
        }
        let entry = names.entry(username.to_owned()).or_insert(Failures {
            count: 0,
            last_ms: now_ms,
            locked_until_ms: None,
        });
        if let Some(until) = entry.locked_until_ms.filter(|&until| until > now_ms) {
            return Err(Locked {
                retry_after: retry_after_secs(until, now_ms),
            });
        }
        if now_ms.saturating_sub(entry.last_ms) >= forget {
            entry.count = 0;
        }
        entry.count = entry.count.saturating_add(1);
        entry.last_ms = entry.last_ms.max(now_ms);
        entry.locked_until_ms =
            lock_after(entry.count).map(|lock| now_ms.saturating_add(millis(lock)));
        Ok(())
    }

    /// [`Throttle::succeed`] without the future.
    pub fn succeed_now(&self, username: &str) {
        self.names
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(username);
    }
}

impl Throttle for LocalThrottle {
    fn check(&self, username: &str, now_ms: i64) -> StoreFuture<'_, Standing> {
        let standing = self.check_now(username, now_ms);
        Box::pin(std::future::ready(Ok(standing)))
    }

    fn begin(&self, username: &str, now_ms: i64) -> StoreFuture<'_, Result<(), Locked>> {
        let begun = self.begin_now(username, now_ms);
        Box::pin(std::future::ready(Ok(begun)))
    }

    fn succeed(&self, username: &str) -> StoreFuture<'_, ()> {
        self.succeed_now(username);
        Box::pin(std::future::ready(Ok(())))
    }
}

/// Attempts in flight for one name on a shared throttle take turns within a server, and a
/// lock the store answered is remembered until it ends: a thousand concurrent guesses of
/// one name then cost the database a handful of statements, not a thousand upserts
/// queued on one row, each holding a pooled connection (which ran the pool dry: `503`).
///
/// A remembered lock holds on this server until it ends (at most five minutes) even if
/// the attempt that set it, still in flight elsewhere, turns out to be the right password;
/// a good password on this server forgets it.
pub struct SharedGate {
    keys: std::hash::RandomState,
    stripes: [tokio::sync::Mutex<()>; STRIPES],
    locked: Mutex<HashMap<String, i64>>,
}

/// Locks of [`SharedGate`]: names hash to one of them, so that the memory is fixed.
const STRIPES: usize = 64;

impl Default for SharedGate {
    fn default() -> SharedGate {
        SharedGate {
            keys: std::hash::RandomState::new(),
            stripes: std::array::from_fn(|_| tokio::sync::Mutex::new(())),
            locked: Mutex::new(HashMap::new()),
        }
    }
}

impl SharedGate {
    /// Waits for this name's turn: held while the store counts the attempt.
    pub async fn turn(&self, username: &str) -> tokio::sync::MutexGuard<'_, ()> {
        use std::hash::BuildHasher;
        let stripe = usize::try_from(self.keys.hash_one(username) % STRIPES as u64).unwrap_or(0);
        self.stripes[stripe].lock().await
    }

    /// The lock of `username` this server was told about, if it has not ended at `now_ms`.
    pub fn known_lock(&self, username: &str, now_ms: i64) -> Option<Locked> {
        let locked = self.locked.lock().unwrap_or_else(|e| e.into_inner());
        let until = *locked.get(username)?;
        (until > now_ms).then(|| Locked {
            retry_after: retry_after_secs(until, now_ms),
        })
    }

    /// Remembers that `username` is locked until `until_ms`.
    pub fn remember_lock(&self, username: &str, until_ms: i64, now_ms: i64) {
        let mut locked = self.locked.lock().unwrap_or_else(|e| e.into_inner());
        if locked.len() >= MAX_NAMES {
            locked.retain(|_, until| *until > now_ms);
            if locked.len() >= MAX_NAMES {
                locked.clear();
            }
        }
        locked.insert(username.to_owned(), until_ms);
    }

    /// Forgets a remembered lock after a good password.
    pub fn forget(&self, username: &str) {
        self.locked
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(username);
    }
}

fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests;
