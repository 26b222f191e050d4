//! The audit trail's writer in a server: [`Audit::record`] is a channel send, never a
//! write; a background task appends what was sent in batches (one `fsync` or one
//! `INSERT` per batch), applies the retention at start and every hour, and is flushed by
//! [`Audit::shutdown`] before the server exits. The events and the stores' logs are in
//! [`crate::store::audit`]; the client address of the request being served comes from
//! [`client_addr`].
//!
//! To record an event from a handler:
//!
//! ```ignore
//! app.audit.record(Event::new(Kind::TokenCreated, &user, Event::token_target(&user, &id),
//!     audit::client_addr(), crate::clock::now()));
//! ```

use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};

pub use crate::store::audit::{AuditLog, CLI_ACTOR, Cursor, Event, Kind, Query};

/// Events waiting for the writer at most; past it, events are dropped (and counted in a
/// warning) rather than letting a flood of refused requests take the server's memory.
pub const QUEUE: usize = 65_536;
/// Events in one append at most.
const BATCH: usize = 4096;
/// How often the retention runs after the start.
const RETENTION_EVERY: Duration = Duration::from_secs(3600);
/// The longest a read of the trail waits for the events recorded before it.
pub const SYNC_WAIT: Duration = Duration::from_secs(5);
/// The wait before a failed append is tried again.
const RETRY_AFTER: Duration = Duration::from_secs(1);

tokio::task_local! {
    static CLIENT: Option<IpAddr>;
}

/// Runs `future` with `addr` as its client address, for [`client_addr`]; the listener
/// wraps each connection in it (its requests' answers are polled inside it).
pub async fn with_client<F: Future>(addr: Option<IpAddr>, future: F) -> F::Output {
    CLIENT.scope(addr, future).await
}

/// The client address of the request being served, if any (the TCP peer; a proxy's
/// address when the server is behind one).
pub fn client_addr() -> Option<IpAddr> {
    CLIENT.try_with(|addr| *addr).ok().flatten()
}

enum Message {
    Event(Event),
    /// Write what came before, answer, and go on.
    Sync(oneshot::Sender<()>),
    /// Write what came before, answer, and stop.
    Flush(oneshot::Sender<()>),
}

/// The server's handle on the audit trail.
pub struct Audit {
    queue: mpsc::Sender<Message>,
    dropped: AtomicU64,
    log: Arc<dyn AuditLog>,
}

impl Audit {
    /// Starts the writer of `log` on the current runtime; `retention` is how long events
    /// are kept (`None`: for ever).
    /// `linger` is how long the first event of a batch may wait for more before the batch
    /// is written (zero: written at once); a read or a stop cuts it short.
    pub fn start(log: Arc<dyn AuditLog>, retention: Option<Duration>, linger: Duration) -> Audit {
        let (queue, received) = mpsc::channel(QUEUE);
        tokio::spawn(write(Arc::clone(&log), received, retention, linger));
        Audit {
            queue,
            dropped: AtomicU64::new(0),
            log,
        }
    }

    /// A page of the trail ([`AuditLog::page`]), read once the events this server
    /// recorded before the call are written (or after [`SYNC_WAIT`]).
    ///
    /// # Errors
    ///
    /// When the store cannot be read.
    pub async fn page(&self, query: Query) -> Result<Vec<Event>, crate::store::StoreError> {
        let (done, written) = oneshot::channel();
        if self.queue.try_send(Message::Sync(done)).is_ok() {
            let _ = tokio::time::timeout(SYNC_WAIT, written).await;
        }
        self.log.page(query).await
    }

    /// Records `event`: a channel send, never a wait. After [`Audit::shutdown`], or past
    /// [`QUEUE`] events waiting, it is dropped with a warning.
    pub fn record(&self, event: Event) {
        if self.queue.try_send(Message::Event(event)).is_err() {
            let dropped = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
            if dropped.is_power_of_two() {
                tracing::warn!(
                    dropped,
                    "audit events dropped: the writer is behind or stopped"
                );
            }
        }
    }

    /// Records an event of `kind` by `actor` on `target` from the current request's client
    /// at the server's clock's now.
    pub fn event(&self, kind: Kind, actor: &str, target: impl Into<String>) {
        self.record(Event::new(
            kind,
            actor,
            target,
            client_addr(),
            crate::clock::now(),
        ));
    }

    /// Waits until every event recorded before this call is durable (or the writer gave
    /// up after its retries), then stops the writer: later events are dropped.
    pub async fn shutdown(&self) {
        let (done, flushed) = oneshot::channel();
        if self.queue.send(Message::Flush(done)).await.is_ok() {
            let _ = flushed.await;
        }
    }
}

/// The writer: batches what was sent, appends it, and runs the retention.
async fn write(
    log: Arc<dyn AuditLog>,
    mut received: mpsc::Receiver<Message>,
    retention: Option<Duration>,
    linger: Duration,
) {
    let mut ticks = tokio::time::interval(RETENTION_EVERY);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut messages = Vec::with_capacity(BATCH);
    loop {
        tokio::select! {
            biased;
            count = received.recv_many(&mut messages, BATCH) => {
                if count == 0 {
                    break;
                }
                if !linger.is_zero() {
                    gather(&mut received, &mut messages, linger).await;
                }
                let mut batch = Vec::with_capacity(messages.len());
                let (mut syncs, mut flushes) = (Vec::new(), Vec::new());
                for message in messages.drain(..) {
                    match message {
                        Message::Event(event) => batch.push(event),
                        Message::Sync(done) => syncs.push(done),
                        Message::Flush(done) => flushes.push(done),
                    }
                }
                append(log.as_ref(), batch, !flushes.is_empty()).await;
                for done in syncs {
                    let _ = done.send(());
                }
                if !flushes.is_empty() {
                    for done in flushes {
                        let _ = done.send(());
                    }
                    break;
                }
            }
            _ = ticks.tick() => {
                if let Some(retention) = retention {
                    expire(log.as_ref(), retention).await;
                }
            }
        }
    }
    // Anything sent after the flush was asked for is not waited for.
    received.close();
    log.close();
}

/// Receives more messages for up to `linger`, until one asks for a write (a read or a
/// stop) or the batch is full.
async fn gather(
    received: &mut mpsc::Receiver<Message>,
    messages: &mut Vec<Message>,
    linger: Duration,
) {
    let deadline = tokio::time::Instant::now() + linger;
    let asks_write = |m: &Message| matches!(m, Message::Sync(_) | Message::Flush(_));
    while !messages.iter().any(asks_write) && messages.len() < BATCH {
        let room = BATCH - messages.len();
        match tokio::time::timeout_at(deadline, received.recv_many(messages, room)).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
    }
}

/// Appends a batch, trying again every second while the store fails (a database
/// restart); when stopping, three tries at most.
async fn append(log: &dyn AuditLog, batch: Vec<Event>, stopping: bool) {
    if batch.is_empty() {
        return;
    }
    let mut attempt = 0u32;
    loop {
        attempt += 1;
        match log.append(batch.clone()).await {
            Ok(()) => return,
            Err(err) if stopping && attempt >= 3 => {
                tracing::error!(error = %err, events = batch.len(), "audit events lost");
                return;
            }
            Err(err) => {
                if attempt == 1 || attempt.is_power_of_two() {
                    tracing::warn!(error = %err, attempt, "cannot write the audit trail; trying again");
                }
                tokio::time::sleep(RETRY_AFTER).await;
            }
        }
    }
}

/// Drops the events older than `retention`.
async fn expire(log: &dyn AuditLog, retention: Duration) {
    let keep = i64::try_from(retention.as_secs()).unwrap_or(i64::MAX);
    let cutoff = crate::clock::now_secs().saturating_sub(keep);
    match log.expire(cutoff).await {
        Ok(0) => {}
        Ok(dropped) => tracing::info!(dropped, "audit events past the retention dropped"),
        Err(err) => tracing::warn!(error = %err, "cannot apply the audit retention"),
    }
}
