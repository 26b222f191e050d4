//! Group commit of token creates and deletes: one committer task takes every change
//! waiting, writes them in one transaction (one statement per kind) and commits once, so
//! that one WAL flush answers them all, as the JSON store's journal answers a batch with
//! one `fsync`. Each change is still answered only after that commit.
//!
//! Two batches may be committing at once ([`IN_FLIGHT`]): while one waits for its flush,
//! the changes that came meanwhile are already being written, so a change waits for one
//! commit rather than for the end of the one before it and then its own. Changes that
//! depend on each other are never in two batches at once: a change is answered only after
//! its commit, so a client's next change (the delete of a token it made) comes after it.
//! Two batches racing for one description are settled by the unique index, which makes
//! the second wait for the first and then skip the row (a duplicate). Rows are written in
//! a fixed order (creates by user and description, deletes by id), so two batches take
//! their locks in the same order; a deadlock the database reports anyway is handled as a
//! constraint failure, by writing that batch again one change at a time.
//!
//! In a batch every create is `ON CONFLICT DO NOTHING RETURNING id`: a create that comes
//! back with no row met a description its user already has (or, in theory, an id). A
//! failure that aborts the transaction (no such user: a foreign key) is known only for the
//! batch, so the batch is then written again one change per transaction, each with its
//! own answer; a database that is away fails the whole batch at once.

use std::collections::HashSet;

use deadpool_postgres::{GenericClient, Pool};
use tokenlife_core::TokenRecord;
use tokio::sync::{mpsc, oneshot};
use tokio_postgres::error::SqlState;

use super::{PRUNE_REVOKED, TOKEN_COLUMNS, db_error, one_in_64, token_error, with_causes};
use crate::store::StoreError;

/// Changes in one transaction at most.
const MAX_BATCH: usize = 256;
/// Changes waiting at most; a request beyond waits for room.
const QUEUE: usize = 4096;
/// Batches committing at once.
const IN_FLIGHT: usize = 2;

/// A token create or delete for the committer.
#[derive(Debug)]
pub(super) enum Change {
    /// `Op::CreateToken`.
    Create {
        user: String,
        id: String,
        record: TokenRecord,
    },
    /// `Op::DeleteToken`: answered `true` when the token was there.
    Delete { user: String, id: String, now: i64 },
}

struct Pending {
    change: Change,
    done: oneshot::Sender<Result<bool, StoreError>>,
}

/// The handle of the committer task: changes go in, answers come back after the commit.
pub(super) struct Committer {
    queue: mpsc::Sender<Pending>,
}

impl Committer {
    /// Starts the committer on the current tokio runtime; it ends when this handle is
    /// dropped, after the changes already queued.
    pub(super) fn start(pool: Pool) -> Committer {
        let (queue, waiting) = mpsc::channel(QUEUE);
        tokio::spawn(run(pool, waiting));
        Committer { queue }
    }

    /// Writes `change` with the others waiting; answers after their commit.
    pub(super) async fn apply(&self, change: Change) -> Result<bool, StoreError> {
        let (done, answer) = oneshot::channel();
        self.queue
            .send(Pending { change, done })
            .await
            .map_err(|_| StoreError::Io("the token committer has stopped".into()))?;
        answer
            .await
            .map_err(|_| StoreError::Io("the token committer has stopped".into()))?
    }
}

async fn run(pool: Pool, mut waiting: mpsc::Receiver<Pending>) {
    let mut committing = tokio::task::JoinSet::new();
    loop {
        let mut batch = Vec::with_capacity(MAX_BATCH);
        tokio::select! {
            // A finished commit makes room for the next batch.
            Some(_) = committing.join_next(), if !committing.is_empty() => {}
            // `recv_many` is cancel safe: changes are taken only when this branch wins.
            taken = waiting.recv_many(&mut batch, MAX_BATCH), if committing.len() < IN_FLIGHT => {
                if taken == 0 {
                    break;
                }
                let pool = pool.clone();
                committing.spawn(async move { commit_and_answer(&pool, batch).await });
            }
        }
    }
    // The handle was dropped: the batches already taken still commit and are answered.
    while committing.join_next().await.is_some() {}
}

async fn commit_and_answer(pool: &Pool, mut batch: Vec<Pending>) {
    // The fixed order in which rows are written (see the module's comment).
    batch.sort_by(|a, b| order(&a.change).cmp(&order(&b.change)));
    let changes: Vec<&Change> = batch.iter().map(|pending| &pending.change).collect();
    let answers = commit(pool, &changes).await;
    for (pending, answer) in batch.into_iter().zip(answers) {
        // A request that gave up (timed out) no longer listens: nothing to tell it.
        let _ = pending.done.send(answer);
    }
}

/// Where a change's row comes in a batch: creates by user and description, then deletes
/// by id (the keys their locks are taken on).
fn order(change: &Change) -> (u8, &str, &str) {
    match change {
        Change::Create { user, record, .. } => (0, user, &record.jwt_token_description),
        Change::Delete { id, user, .. } => (1, id, user),
    }
}

/// The answers of `changes`, in order, after their commit.
async fn commit(pool: &Pool, changes: &[&Change]) -> Vec<Result<bool, StoreError>> {
    let batched = match changes {
        [one] => return vec![commit_one(pool, one).await],
        _ => commit_batch(pool, changes).await,
    };
    match batched {
        Ok(answers) => answers,
        Err(Failed::Constraint) => {
            let mut answers = Vec::with_capacity(changes.len());
            for change in changes {
                answers.push(commit_one(pool, change).await);
            }
            answers
        }
        Err(Failed::Store(err)) => changes
            .iter()
            .map(|_| Err(StoreError::Io(err.to_string())))
            .collect(),
    }
}

/// Why a batch was not committed.
enum Failed {
    /// One of its changes broke a constraint (or the batch lost a deadlock to another):
    /// retry them one by one.
    Constraint,
    /// The database failed: every change fails.
    Store(StoreError),
}

fn batch_error(err: tokio_postgres::Error) -> Failed {
    match err.code() {
        Some(code)
            if *code == SqlState::FOREIGN_KEY_VIOLATION
                || *code == SqlState::UNIQUE_VIOLATION
                || *code == SqlState::T_R_DEADLOCK_DETECTED =>
        {
            Failed::Constraint
        }
        _ => Failed::Store(db_error(err)),
    }
}

async fn commit_batch(
    pool: &Pool,
    changes: &[&Change],
) -> Result<Vec<Result<bool, StoreError>>, Failed> {
    let mut client = pool.get().await.map_err(|err| {
        Failed::Store(StoreError::Io(format!(
            "cannot reach the database: {}",
            with_causes(&err)
        )))
    })?;
    let tx = client.transaction().await.map_err(batch_error)?;
    let mut ids = Vec::new();
    let mut users = Vec::new();
    let mut descriptions = Vec::new();
    let mut lives = Vec::new();
    let mut iats = Vec::new();
    let mut exps = Vec::new();
    let mut fingerprints = Vec::new();
    let mut origins = Vec::new();
    let mut kids = Vec::new();
    let mut created = HashSet::new();
    let (mut gone_ids, mut gone_users, mut gone_nows) = (Vec::new(), Vec::new(), Vec::new());
    for change in changes {
        match change {
            Change::Create { user, id, record } if record.jwt_token_endpoints.is_none() => {
                ids.push(id.as_str());
                users.push(user.as_str());
                descriptions.push(record.jwt_token_description.as_str());
                lives.push(i64::try_from(record.jwt_token_life).unwrap_or(i64::MAX));
                iats.push(record.iat);
                exps.push(record.exp);
                fingerprints.push(record.fingerprint.as_str());
                origins.push(record.jwt_token_origin.as_deref());
                kids.push(record.kid.as_deref());
            }
            // Endpoint lists are arrays of different lengths: these rows go one by one.
            Change::Create { user, id, record } => {
                if insert_one(&tx, user, id, record, " ON CONFLICT DO NOTHING")
                    .await
                    .map_err(batch_error)?
                {
                    created.insert(id.clone());
                }
            }
            Change::Delete { user, id, now } => {
                gone_ids.push(id.as_str());
                gone_users.push(user.as_str());
                gone_nows.push(*now);
            }
        }
    }
    if !ids.is_empty() {
        let statement = tx
            .prepare_cached(&format!(
                "INSERT INTO tokens (id, username, {TOKEN_COLUMNS}) \
                 SELECT t.id, t.username, t.description, t.life, t.iat, t.exp, t.fingerprint, NULL, \
                 t.origin, t.kid \
                 FROM unnest($1::text[], $2::text[], $3::text[], $4::int8[], $5::int8[], \
                 $6::int8[], $7::text[], $8::text[], $9::text[]) \
                 AS t(id, username, description, life, iat, exp, fingerprint, origin, kid) \
                 ON CONFLICT DO NOTHING RETURNING id"
            ))
            .await
            .map_err(batch_error)?;
        let rows = tx
            .query(
                &statement,
                &[
                    &ids,
                    &users,
                    &descriptions,
                    &lives,
                    &iats,
                    &exps,
                    &fingerprints,
                    &origins,
                    &kids,
                ],
            )
            .await
            .map_err(batch_error)?;
        created.extend(rows.iter().map(|row| row.get::<_, String>(0)));
    }
    let mut deleted = HashSet::new();
    if !gone_ids.is_empty() {
        let statement = tx
            .prepare_cached(
                "WITH d AS (SELECT * FROM unnest($1::text[], $2::text[], $3::int8[]) \
                 AS d(id, username, now)), \
                 gone AS (DELETE FROM tokens t USING d \
                 WHERE t.id = d.id AND t.username = d.username RETURNING t.id, t.exp, d.now), \
                 kept AS (INSERT INTO revoked (id, exp) \
                 SELECT DISTINCT ON (id) id, exp FROM gone WHERE exp > now \
                 ON CONFLICT (id) DO UPDATE SET exp = EXCLUDED.exp) \
                 SELECT DISTINCT id FROM gone",
            )
            .await
            .map_err(batch_error)?;
        let rows = tx
            .query(&statement, &[&gone_ids, &gone_users, &gone_nows])
            .await
            .map_err(batch_error)?;
        for row in &rows {
            deleted.insert(row.get::<_, String>(0));
        }
        if one_in_64()
            && let Some(&now) = gone_nows.iter().max()
            && let Err(err) = tx.execute(PRUNE_REVOKED, &[&now]).await
        {
            // Housekeeping inside the batch: a failure here aborts it, so it is retried
            // one by one (where pruning is left out) rather than lost.
            tracing::warn!(error = %err, "cannot prune the revoked list");
            return Err(Failed::Constraint);
        }
    }
    tx.commit().await.map_err(batch_error)?;
    Ok(changes
        .iter()
        .map(|change| match change {
            Change::Create { id, .. } if created.contains(id) => Ok(true),
            Change::Create { .. } => Err(StoreError::DuplicateDescription),
            // Two deletes of one token in a batch: the first one found it.
            Change::Delete { id, .. } => Ok(deleted.remove(id)),
        })
        .collect())
}

/// One change in its own transaction (a statement).
async fn commit_one(pool: &Pool, change: &Change) -> Result<bool, StoreError> {
    let client = pool.get().await.map_err(|err| {
        StoreError::Io(format!("cannot reach the database: {}", with_causes(&err)))
    })?;
    match change {
        Change::Create { user, id, record } => {
            insert_one(&client, user, id, record, "")
                .await
                .map_err(token_error)?;
            Ok(true)
        }
        Change::Delete { user, id, now } => {
            let statement = client
                .prepare_cached(
                    "WITH gone AS (DELETE FROM tokens WHERE id = $1 AND username = $2 \
                     RETURNING id, exp), \
                     kept AS (INSERT INTO revoked (id, exp) SELECT id, exp FROM gone \
                     WHERE exp > $3 ON CONFLICT (id) DO UPDATE SET exp = EXCLUDED.exp) \
                     SELECT count(*) FROM gone",
                )
                .await
                .map_err(db_error)?;
            let row = client
                .query_one(&statement, &[id, user, now])
                .await
                .map_err(db_error)?;
            // Now and then, forget revocations of tokens that have expired anyway (the
            // JSON store does it at compaction); the answer does not depend on it.
            if one_in_64()
                && let Err(err) = client.execute(PRUNE_REVOKED, &[now]).await
            {
                tracing::warn!(error = %err, "cannot prune the revoked list");
            }
            Ok(row.get::<_, i64>(0) > 0)
        }
    }
}

/// Inserts one token row; `conflict` is appended to the statement. True when a row was
/// inserted.
pub(super) async fn insert_one(
    client: &impl GenericClient,
    user: &str,
    id: &str,
    record: &TokenRecord,
    conflict: &str,
) -> Result<bool, tokio_postgres::Error> {
    let statement = client
        .prepare_cached(&format!(
            "INSERT INTO tokens (id, username, {TOKEN_COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10){conflict}"
        ))
        .await?;
    let life = i64::try_from(record.jwt_token_life).unwrap_or(i64::MAX);
    let inserted = client
        .execute(
            &statement,
            &[
                &id,
                &user,
                &record.jwt_token_description,
                &life,
                &record.iat,
                &record.exp,
                &record.fingerprint,
                &record.jwt_token_endpoints,
                &record.jwt_token_origin,
                &record.kid,
            ],
        )
        .await?;
    Ok(inserted > 0)
}
