//! The audit trail of the PostgreSQL store: the `audit_log` table (migration 5), one row
//! per event, a batch inserted in one statement; retention is a `DELETE` by time.

use super::{AuditLog, Event, Kind, Query};
use crate::store::postgres::db_error;
use crate::store::{PgStore, StoreError, StoreFuture};

/// The audit trail in the database of a [`PgStore`], through its pool.
pub struct PgAudit {
    store: PgStore,
}

impl PgAudit {
    /// Connects to `url` (running the migrations the database lacks).
    ///
    /// # Errors
    ///
    /// When the URL is not PostgreSQL's or the database cannot be used.
    pub async fn open(url: &str) -> Result<PgAudit, String> {
        Ok(PgAudit {
            store: crate::store::open_postgres(url).await?,
        })
    }
}

/// Events inserted in one statement.
const BATCH: usize = 2000;

/// Inserts `events` into `audit_log` in batches, on a connection or in a transaction
/// (`tokenlife migrate`'s); an event whose id the table already holds is skipped, so
/// inserting the same events twice adds them once. Returns how many were added.
///
/// # Errors
///
/// When the database fails.
pub(crate) async fn insert(
    client: &impl deadpool_postgres::GenericClient,
    events: &[Event],
) -> Result<u64, StoreError> {
    let mut added = 0;
    for chunk in events.chunks(BATCH) {
        let ids: Vec<&str> = chunk.iter().map(|e| e.id.as_str()).collect();
        let times: Vec<i64> = chunk.iter().map(|e| e.time).collect();
        let kinds: Vec<&str> = chunk.iter().map(|e| e.kind.as_str()).collect();
        let actors: Vec<&str> = chunk.iter().map(|e| e.actor.as_str()).collect();
        let targets: Vec<&str> = chunk.iter().map(|e| e.target.as_str()).collect();
        let addrs: Vec<Option<&str>> = chunk.iter().map(|e| e.addr.as_deref()).collect();
        added += client
            .execute(
                "INSERT INTO audit_log (id, time, kind, actor, target, addr) \
                 SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], \
                 $5::text[], $6::text[]) ON CONFLICT (id) DO NOTHING",
                &[&ids, &times, &kinds, &actors, &targets, &addrs],
            )
            .await
            .map_err(db_error)?;
    }
    Ok(added)
}

const SELECT: &str = "SELECT id, time, kind, actor, target, addr FROM audit_log";

impl AuditLog for PgAudit {
    fn append(&self, events: Vec<Event>) -> StoreFuture<'_, ()> {
        Box::pin(async move {
            if events.is_empty() {
                return Ok(());
            }
            let client = self.store.client().await?;
            insert(&client, &events).await.map(drop)
        })
    }

    fn page(&self, query: Query) -> StoreFuture<'_, Vec<Event>> {
        Box::pin(async move {
            let client = self.store.client().await?;
            let limit = i64::try_from(query.limit).unwrap_or(i64::MAX);
            let (before_time, before_id) = match &query.before {
                Some(cursor) => (Some(cursor.time), Some(cursor.id.clone())),
                None => (None, None),
            };
            let rows = client
                .query(
                    &format!(
                        "{SELECT} WHERE ($1::text IS NULL OR actor = $1 OR target = $1 \
                         OR (kind LIKE 'token\\_%' AND regexp_replace(target, '/[^/]*$', '') = $1)) \
                         AND ($2::bigint IS NULL OR time >= $2) \
                         AND ($3::bigint IS NULL OR (time, id) < ($3, $4::text)) \
                         ORDER BY time DESC, id DESC LIMIT $5"
                    ),
                    &[
                        &query.user,
                        &query.since,
                        &before_time,
                        &before_id,
                        &limit,
                    ],
                )
                .await
                .map_err(db_error)?;
            let mut events = Vec::with_capacity(rows.len());
            for row in rows {
                let kind: String = row.try_get(2).map_err(db_error)?;
                let kind = Kind::parse(&kind).ok_or_else(|| {
                    StoreError::Corrupt(format!("audit_log: unknown event kind {kind:?}"))
                })?;
                events.push(Event {
                    id: row.try_get(0).map_err(db_error)?,
                    time: row.try_get(1).map_err(db_error)?,
                    kind,
                    actor: row.try_get(3).map_err(db_error)?,
                    target: row.try_get(4).map_err(db_error)?,
                    addr: row.try_get(5).map_err(db_error)?,
                });
            }
            Ok(events)
        })
    }

    fn expire(&self, cutoff: i64) -> StoreFuture<'_, u64> {
        Box::pin(async move {
            let client = self.store.client().await?;
            client
                .execute("DELETE FROM audit_log WHERE time < $1", &[&cutoff])
                .await
                .map_err(db_error)
        })
    }

    fn close(&self) {
        self.store.close();
    }
}
