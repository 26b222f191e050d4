//! The PostgreSQL store: the same data as the JSON store in tables (`users`, `tokens`,
//! `revoked`, `signing_keys`, `sign_in_failures`), so that several servers share users,
//! tokens, revocations, keys and the sign-in throttle.
//!
//! - Every read asks the database, so a change made through one server is seen by every
//!   other at its next request; nothing is cached here.
//! - Every change is one statement or one transaction, committed (with
//!   `synchronous_commit=on`, forced on every connection) before its future resolves.
//!   The checks the JSON store makes under its lock are constraints here: a user's
//!   descriptions are unique (`tokens_username_description_key`), a token's user must
//!   exist (a foreign key), so two servers can never both pass them.
//! - The schema is made and upgraded by the numbered migrations of `server/migrations/`,
//!   run at every open under a session advisory lock, so servers starting together take
//!   turns and each migration runs once.
//! - A lost database is an [`StoreError::Io`] (the API answers `503`); the pool drops
//!   broken connections and opens new ones when the database is back, without a restart.

use std::str::FromStr;
use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod, Runtime};
use tokenlife_core::TokenRecord;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::ToSql;
use tokio_postgres::{NoTls, Row, Statement};

use commit::{Change, Committer};

use super::{Dump, ImportedUser, Op, PasswordRecord, Store, StoreError, StoreFuture, UserSummary};
use crate::store::state::check_token_limit;
use crate::store::throttle::{Locked, SharedGate, Standing, Throttle};

mod commit;

/// The migrations, in order: version, name, SQL. A version is never edited once released;
/// a change of schema is a new file.
const MIGRATIONS: &[(i32, &str, &str)] = &[
    (1, "init", include_str!("../../migrations/0001_init.sql")),
    (
        2,
        "specter",
        include_str!("../../migrations/0002_specter.sql"),
    ),
    (3, "keys", include_str!("../../migrations/0003_keys.sql")),
    (
        4,
        "last_used",
        include_str!("../../migrations/0004_last_used.sql"),
    ),
    (5, "audit", include_str!("../../migrations/0005_audit.sql")),
];

/// The advisory lock key of migrations ("tokenlif" in ASCII).
const MIGRATION_LOCK: i64 = 0x746f_6b65_6e6c_6966;
/// The advisory lock key of the first start's admin (one more than the migrations').
const FIRST_USER_LOCK: i64 = MIGRATION_LOCK + 1;
/// Connections per server.
const POOL_SIZE: usize = 16;
/// How long a request waits for a connection, to connect, or to check one, before it
/// answers `503`.
const POOL_TIMEOUT: Duration = Duration::from_secs(5);
/// The longest a store call may take before the request answers `503`: a database that
/// stopped answering (a network cut) must not hold requests for ever.
const CALL_TIMEOUT: Duration = Duration::from_secs(10);
/// Token rows sent in one statement by imports and migrations.
const BATCH: usize = 2000;

const TOKEN_COLUMNS: &str = "description, life, iat, exp, fingerprint, endpoints, origin, kid";
/// What lists and reads of records select: [`TOKEN_COLUMNS`] and the last use.
const RECORD_COLUMNS: &str =
    "description, life, iat, exp, fingerprint, endpoints, origin, kid, last_used, last_used_from";

/// Records a batch of uses in one statement (`Op::Touch`): each row that exists takes its
/// use unless it holds a later one.
const TOUCH: &str = "UPDATE tokens t SET last_used = u.at, last_used_from = u.addr \
     FROM unnest($1::text[], $2::text[], $3::int8[], $4::text[]) AS u(id, username, at, addr) \
     WHERE t.id = u.id AND t.username = u.username \
     AND (t.last_used IS NULL OR t.last_used <= u.at)";
const DESCRIPTION_KEY: &str = "tokens_username_description_key";

/// What [`PgStore::load`] did beyond loading.
#[derive(Debug)]
pub struct Loaded {
    /// The names of the keys the database already had, kept, that differ from the dump's.
    pub differing: Vec<String>,
    /// How many audit events were added (those already present by id are not).
    pub events: u64,
}

/// The store of one PostgreSQL database, with its connection pool.
pub struct PgStore {
    pool: Pool,
    /// Sign-in attempts of one name take turns here before they reach the database.
    gate: SharedGate,
    /// Token creates and deletes, committed in groups.
    committer: Committer,
    /// The keyring as last read: each create asks for the keyring, and its keys come back
    /// only when the generation moved.
    keyring: std::sync::Mutex<super::keys::Keyring>,
}

impl PgStore {
    /// Connects to `url` (`postgres://user@host:port/db` or key=value form), runs the
    /// migrations the database lacks, and keeps a pool of connections.
    ///
    /// # Errors
    ///
    /// [`StoreError::Io`] when the URL does not parse, the database cannot be reached, or
    /// its schema is newer than this server.
    pub async fn open(url: &str) -> Result<PgStore, StoreError> {
        let mut config = tokio_postgres::Config::from_str(url)
            .map_err(|err| StoreError::Io(format!("cannot read the PostgreSQL URL: {err}")))?;
        // Every acknowledged write must be on the database's disk, whatever the server's
        // default or the URL's options say (the last `-c` wins); and a hung statement must
        // not hold a request for ever, unless the URL sets its own statement_timeout.
        let given = config.get_options().unwrap_or_default();
        let mut options = format!("{given} -c synchronous_commit=on");
        if !given.contains("statement_timeout") {
            options.push_str(" -c statement_timeout=60000");
        }
        config.options(options.trim_start());
        if config.get_application_name().is_none() {
            config.application_name("tokenlife");
        }
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(POOL_TIMEOUT);
        }
        // A connection to a host that went silent is found dead within half a minute.
        config
            .keepalives_idle(Duration::from_secs(10))
            .keepalives_interval(Duration::from_secs(5))
            .keepalives_retries(3);
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(POOL_TIMEOUT))
            .create_timeout(Some(POOL_TIMEOUT))
            .recycle_timeout(Some(POOL_TIMEOUT))
            .build()
            .map_err(|err| StoreError::Io(format!("cannot make the connection pool: {err}")))?;
        let store = PgStore {
            committer: Committer::start(pool.clone()),
            keyring: std::sync::Mutex::default(),
            pool,
            gate: SharedGate::default(),
        };
        let mut client = store.client().await?;
        migrate(&mut client).await?;
        // The housekeeping statements run about once in 64 calls, too rarely for a test to
        // be sure to meet them: preparing them here has the database check them at every
        // start.
        for sql in [PRUNE_REVOKED, FORGET_FAILURES, BEGIN_ATTEMPT, STANDING] {
            client.prepare_cached(sql).await.map_err(db_error)?;
        }
        Ok(store)
    }

    /// Closes the pool: connections are closed as they come back.
    pub fn close(&self) {
        self.pool.close();
    }

    /// How many users, tokens, revoked ids and keys the database holds, for `migrate`.
    ///
    /// # Errors
    ///
    /// When the database fails.
    pub async fn counts(&self) -> Result<[i64; 4], StoreError> {
        let client = self.client().await?;
        let row = client
            .query_one(
                "SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM tokens), \
                 (SELECT count(*) FROM revoked), \
                 (SELECT count(*) FROM signing_keys) + (SELECT count(*) FROM specter_key)",
                &[],
            )
            .await
            .map_err(db_error)?;
        Ok([row.get(0), row.get(1), row.get(2), row.get(3)])
    }

    /// Loads everything of `dump` and the audit trail `events` in one transaction: users
    /// keep their ids and password records, tokens their records and last use, revoked
    /// ids their `exp`, keys their bytes, events their id. A user, key or event (by id)
    /// the database already has is kept as it is (a merge; a token's last use is the
    /// later of both).
    ///
    /// # Errors
    ///
    /// When the database fails or a token description clashes with one a user already has
    /// (nothing is loaded then).
    pub async fn load(
        &self,
        dump: &Dump,
        events: &[super::audit::Event],
    ) -> Result<Loaded, StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db_error)?;
        for (id, imported) in &dump.users {
            let user = &imported.user;
            tx.execute(
                "INSERT INTO users (username, id, password, is_admin) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (username) DO NOTHING",
                &[
                    &user.username,
                    id,
                    &password_text(&user.password)?,
                    &user.is_admin,
                ],
            )
            .await
            .map_err(db_error)?;
            insert_tokens(&tx, &user.username, &imported.tokens, "DO NOTHING").await?;
        }
        touch_loaded(&tx, dump).await?;
        for chunk in dump.revoked.chunks(BATCH) {
            let ids: Vec<&str> = chunk.iter().map(|(id, _)| id.as_str()).collect();
            let exps: Vec<i64> = chunk.iter().map(|&(_, exp)| exp).collect();
            tx.execute(
                "INSERT INTO revoked (id, exp) SELECT * FROM unnest($1::text[], $2::int8[]) \
                 ON CONFLICT (id) DO UPDATE SET exp = GREATEST(revoked.exp, EXCLUDED.exp)",
                &[&ids, &exps],
            )
            .await
            .map_err(db_error)?;
        }
        let mut differing = Vec::new();
        for (name, key) in &dump.keys {
            let row = tx
                .query_one(
                    "WITH new AS (INSERT INTO signing_keys (name, value) VALUES ($1, $2) \
                     ON CONFLICT (name) DO NOTHING RETURNING value) \
                     SELECT value FROM new UNION ALL SELECT value FROM signing_keys WHERE name = $1 \
                     LIMIT 1",
                    &[name, &key.as_slice()],
                )
                .await
                .map_err(db_error)?;
            let kept: Vec<u8> = row.get(0);
            if kept != key.as_slice() {
                differing.push(name.clone());
            }
        }
        if let Some(key) = &dump.specter_key {
            let row = tx
                .query_one(
                    "WITH new AS (INSERT INTO specter_key (value) VALUES ($1) \
                     ON CONFLICT (one) DO NOTHING RETURNING value) \
                     SELECT value FROM new UNION ALL SELECT value FROM specter_key LIMIT 1",
                    &[&key.as_slice()],
                )
                .await
                .map_err(db_error)?;
            let kept: Vec<u8> = row.get(0);
            if kept != key.as_slice() {
                differing.push("specter".to_owned());
            }
        }
        let events = super::audit::insert_pg(&tx, events).await?;
        tx.commit().await.map_err(db_error)?;
        Ok(Loaded { differing, events })
    }

    /// The keyring as last read (generation 0 and no keys before the first reading).
    fn cached_keyring(&self) -> super::keys::Keyring {
        self.keyring
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub(crate) async fn client(&self) -> Result<Object, StoreError> {
        self.pool.get().await.map_err(|err| {
            StoreError::Io(format!("cannot reach the database: {}", with_causes(&err)))
        })
    }

    /// A pooled connection and `sql` prepared on it (once per connection).
    async fn prepared(&self, sql: &str) -> Result<(Object, Statement), StoreError> {
        let client = self.client().await?;
        let statement = client.prepare_cached(sql).await.map_err(db_error)?;
        Ok((client, statement))
    }

    /// One statement on a pooled connection, prepared once per connection.
    async fn query(
        &self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<Row>, StoreError> {
        let (client, statement) = self.prepared(sql).await?;
        client.query(&statement, params).await.map_err(db_error)
    }

    /// [`PgStore::query`] for at most one row.
    async fn query_opt(
        &self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Option<Row>, StoreError> {
        let (client, statement) = self.prepared(sql).await?;
        client.query_opt(&statement, params).await.map_err(db_error)
    }

    /// [`PgStore::query`] for a statement that returns no rows.
    async fn execute(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<u64, StoreError> {
        let (client, statement) = self.prepared(sql).await?;
        client.execute(&statement, params).await.map_err(db_error)
    }

    async fn password_of(&self, username: String) -> Result<Option<PasswordRecord>, StoreError> {
        let row = self
            .query_opt(
                "SELECT password FROM users WHERE username = $1",
                &[&username],
            )
            .await?;
        row.map(|row| parse_password(row.get(0))).transpose()
    }

    async fn tokens_of(&self, username: String) -> Result<Vec<(String, TokenRecord)>, StoreError> {
        let rows = self.token_rows(Some(username)).await?;
        Ok(rows
            .into_iter()
            .map(|(_, id, record)| (id, record))
            .collect())
    }

    /// The token records with their last use, as (username, id, record) by username then
    /// id: `user`'s, or every user's (the admin view).
    async fn token_rows(
        &self,
        user: Option<String>,
    ) -> Result<Vec<(String, String, TokenRecord)>, StoreError> {
        let select = format!("SELECT username, id, {RECORD_COLUMNS} FROM tokens");
        let rows = match user {
            Some(user) => {
                let sql = format!("{select} WHERE username = $1 ORDER BY id");
                self.query(&sql, &[&user]).await?
            }
            None => {
                let sql = format!("{select} ORDER BY username, id");
                self.query(&sql, &[]).await?
            }
        };
        Ok(rows
            .iter()
            .map(|row| (row.get(0), row.get(1), token_record(row, 2)))
            .collect())
    }

    async fn token_of(
        &self,
        username: String,
        id: String,
    ) -> Result<Option<TokenRecord>, StoreError> {
        let sql = format!("SELECT {RECORD_COLUMNS} FROM tokens WHERE id = $1 AND username = $2");
        let row = self.query_opt(&sql, &[&id, &username]).await?;
        Ok(row.map(|row| token_record(&row, 0)))
    }

    async fn holds_token(
        &self,
        username: String,
        id: String,
        fingerprint: String,
    ) -> Result<Option<bool>, StoreError> {
        let sql = format!("SELECT {TOKEN_COLUMNS} FROM tokens WHERE id = $1 AND username = $2");
        let row = self.query_opt(&sql, &[&id, &username]).await?;
        Ok(row.map(|row| token_record(&row, 0).matches_fingerprint(&fingerprint)))
    }

    async fn revoked_now(
        &self,
        id: Option<String>,
        now: i64,
    ) -> Result<Vec<(String, i64)>, StoreError> {
        let client = self.client().await?;
        let rows = match id {
            Some(id) => {
                let statement = client
                    .prepare_cached("SELECT id, exp FROM revoked WHERE id = $1 AND exp > $2")
                    .await
                    .map_err(db_error)?;
                client.query(&statement, &[&id, &now]).await
            }
            None => {
                let statement = client
                    .prepare_cached("SELECT id, exp FROM revoked WHERE exp > $1 ORDER BY id")
                    .await
                    .map_err(db_error)?;
                client.query(&statement, &[&now]).await
            }
        }
        .map_err(db_error)?;
        Ok(rows.iter().map(|row| (row.get(0), row.get(1))).collect())
    }

    async fn all_users(&self) -> Result<Vec<UserSummary>, StoreError> {
        let client = self.client().await?;
        let rows = client
            .query(
                "SELECT u.username, u.is_admin, \
                 (SELECT count(*) FROM tokens t WHERE t.username = u.username) \
                 FROM users u ORDER BY u.username",
                &[],
            )
            .await
            .map_err(db_error)?;
        Ok(rows
            .iter()
            .map(|row| UserSummary {
                username: row.get(0),
                is_admin: row.get(1),
                tokens: usize::try_from(row.get::<_, i64>(2)).unwrap_or(0),
            })
            .collect())
    }

    async fn apply_op(&self, op: Op) -> Result<bool, StoreError> {
        // Token creates and deletes, the busy changes, are committed in groups; the rest
        // one by one on a pooled connection.
        match op {
            Op::CreateToken {
                user,
                id,
                record,
                max_tokens: None,
            } => {
                self.committer
                    .apply(Change::Create { user, id, record })
                    .await
            }
            Op::DeleteToken { user, id, now } => {
                self.committer.apply(Change::Delete { user, id, now }).await
            }
            // A create under a limit counts the user's tokens under their row's lock,
            // in its own transaction (see apply_alone).
            op => self.apply_alone(op).await,
        }
    }

    async fn apply_alone(&self, op: Op) -> Result<bool, StoreError> {
        let mut client = self.client().await?;
        match op {
            // Not reached (apply_op takes them), but answered the same way.
            Op::CreateToken {
                user,
                id,
                record,
                max_tokens: None,
            } => {
                drop(client);
                let change = Change::Create { user, id, record };
                self.committer.apply(change).await
            }
            Op::CreateToken {
                user,
                id,
                record,
                max_tokens: Some(max),
            } => {
                // The user's row lock makes racing creates of one user (on any server)
                // take turns, so each counts the ones committed before it.
                let tx = client.transaction().await.map_err(db_error)?;
                lock_user(&tx, &user).await?;
                let held: i64 = tx
                    .query_one(
                        "SELECT count(*) FROM tokens WHERE username = $1 AND exp > $2",
                        &[&user, &record.iat],
                    )
                    .await
                    .map_err(db_error)?
                    .get(0);
                // Counted in SQL, under the lock, as the rule counts (`exp > iat`); judged by it.
                check_token_limit(usize::try_from(held).unwrap_or(usize::MAX), max)?;
                commit::insert_one(&tx, &user, &id, &record, "")
                    .await
                    .map_err(token_error)?;
                tx.commit().await.map_err(db_error)?;
                Ok(true)
            }
            Op::RegenerateToken {
                user,
                old,
                id,
                record,
            } => {
                // One transaction: the old token is revoked and the new one stored, or
                // neither.
                let tx = client.transaction().await.map_err(db_error)?;
                let gone = tx
                    .query_opt(
                        "WITH gone AS (DELETE FROM tokens WHERE id = $1 AND username = $2 \
                         RETURNING id, exp), \
                         kept AS (INSERT INTO revoked (id, exp) SELECT id, exp FROM gone \
                         WHERE exp > $3 ON CONFLICT (id) DO UPDATE SET exp = EXCLUDED.exp) \
                         SELECT id FROM gone",
                        &[&old, &user, &record.iat],
                    )
                    .await
                    .map_err(db_error)?;
                if gone.is_none() {
                    return Ok(false);
                }
                commit::insert_one(&tx, &user, &id, &record, "")
                    .await
                    .map_err(token_error)?;
                tx.commit().await.map_err(db_error)?;
                Ok(true)
            }
            Op::DeleteToken { user, id, now } => {
                drop(client);
                self.committer.apply(Change::Delete { user, id, now }).await
            }
            Op::AddUser(new) => {
                let inserted = client
                    .execute(
                        "INSERT INTO users (username, id, password, is_admin) \
                         VALUES ($1, $2, $3, $4) ON CONFLICT (username) DO NOTHING",
                        &[
                            &new.username,
                            &user_id(&new.username),
                            &password_text(&new.password)?,
                            &new.is_admin,
                        ],
                    )
                    .await
                    .map_err(db_error)?;
                if inserted == 0 {
                    return Err(StoreError::UserExists);
                }
                Ok(true)
            }
            Op::AddFirstUser(new) => {
                // Servers starting together take turns, and each sees the others' users.
                let tx = client.transaction().await.map_err(db_error)?;
                tx.execute("SELECT pg_advisory_xact_lock($1)", &[&FIRST_USER_LOCK])
                    .await
                    .map_err(db_error)?;
                let inserted = tx
                    .execute(
                        "INSERT INTO users (username, id, password, is_admin) \
                         SELECT $1, $2, $3, $4 WHERE NOT EXISTS (SELECT 1 FROM users) \
                         ON CONFLICT (username) DO NOTHING",
                        &[
                            &new.username,
                            &user_id(&new.username),
                            &password_text(&new.password)?,
                            &new.is_admin,
                        ],
                    )
                    .await
                    .map_err(db_error)?;
                tx.commit().await.map_err(db_error)?;
                Ok(inserted > 0)
            }
            Op::SetPassword { username, password } => {
                let updated = client
                    .execute(
                        "UPDATE users SET password = $2 WHERE username = $1",
                        &[&username, &password_text(&password)?],
                    )
                    .await
                    .map_err(db_error)?;
                if updated == 0 {
                    return Err(StoreError::UnknownUser);
                }
                Ok(true)
            }
            Op::UpgradePassword { username, from, to } => {
                let updated = client
                    .execute(
                        "UPDATE users SET password = $3 WHERE username = $1 AND password = $2",
                        &[&username, &password_text(&from)?, &password_text(&to)?],
                    )
                    .await
                    .map_err(db_error)?;
                Ok(updated > 0)
            }
            Op::RemoveUser { username, now } => {
                let tx = client.transaction().await.map_err(db_error)?;
                // The row lock makes a token created meanwhile wait, then fail (no user):
                // every token of the user is in the revoked list, none slips by.
                let found = tx
                    .query_opt(
                        "SELECT 1 FROM users WHERE username = $1 FOR UPDATE",
                        &[&username],
                    )
                    .await
                    .map_err(db_error)?;
                if found.is_none() {
                    return Err(StoreError::UnknownUser);
                }
                tx.execute(
                    "WITH gone AS (DELETE FROM tokens WHERE username = $1 RETURNING id, exp) \
                     INSERT INTO revoked (id, exp) SELECT id, exp FROM gone WHERE exp > $2 \
                     ON CONFLICT (id) DO UPDATE SET exp = EXCLUDED.exp",
                    &[&username, &now],
                )
                .await
                .map_err(db_error)?;
                tx.execute("DELETE FROM users WHERE username = $1", &[&username])
                    .await
                    .map_err(db_error)?;
                tx.commit().await.map_err(db_error)?;
                Ok(true)
            }
            Op::Touch(uses) => {
                let ids: Vec<&str> = uses.iter().map(|u| u.id.as_str()).collect();
                let users: Vec<&str> = uses.iter().map(|u| u.user.as_str()).collect();
                let ats: Vec<i64> = uses.iter().map(|u| u.at).collect();
                let addrs: Vec<Option<&str>> = uses.iter().map(|u| u.from.as_deref()).collect();
                let statement = client.prepare_cached(TOUCH).await.map_err(db_error)?;
                let touched = client
                    .execute(&statement, &[&ids, &users, &ats, &addrs])
                    .await
                    .map_err(db_error)?;
                Ok(touched > 0)
            }
            Op::Import(users) => {
                let tx = client.transaction().await.map_err(db_error)?;
                for ImportedUser { user, tokens } in &users {
                    tx.execute(
                        "INSERT INTO users (username, id, password, is_admin) \
                         VALUES ($1, $2, $3, $4) ON CONFLICT (username) DO UPDATE \
                         SET password = EXCLUDED.password, is_admin = EXCLUDED.is_admin",
                        &[
                            &user.username,
                            &user_id(&user.username),
                            &password_text(&user.password)?,
                            &user.is_admin,
                        ],
                    )
                    .await
                    .map_err(db_error)?;
                    let replace = "(id) DO UPDATE SET username = EXCLUDED.username, \
                                   description = EXCLUDED.description, life = EXCLUDED.life, \
                                   iat = EXCLUDED.iat, exp = EXCLUDED.exp, \
                                   fingerprint = EXCLUDED.fingerprint, endpoints = EXCLUDED.endpoints, \
                                   origin = EXCLUDED.origin";
                    insert_tokens(&tx, &user.username, tokens, replace).await?;
                }
                tx.commit().await.map_err(db_error)?;
                Ok(true)
            }
        }
    }

    async fn key(&self, name: String) -> Result<[u8; 32], StoreError> {
        let client = self.client().await?;
        let read = |row: Option<Row>| -> Result<Option<[u8; 32]>, StoreError> {
            row.map(|row| {
                let bytes: Vec<u8> = row.get(0);
                <[u8; 32]>::try_from(bytes.as_slice()).map_err(|_| {
                    StoreError::Corrupt(format!("the signing key {name} is not 32 bytes"))
                })
            })
            .transpose()
        };
        let select = "SELECT value FROM signing_keys WHERE name = $1";
        if let Some(key) = read(client.query_opt(select, &[&name]).await.map_err(db_error)?)? {
            return Ok(key);
        }
        // The first server to get here makes the key; the others read it back.
        let mut fresh = [0u8; 32];
        getrandom::fill(&mut fresh)
            .map_err(|err| StoreError::Io(format!("no OS randomness: {err}")))?;
        client
            .execute(
                "INSERT INTO signing_keys (name, value) VALUES ($1, $2) \
                 ON CONFLICT (name) DO NOTHING",
                &[&name, &fresh.as_slice()],
            )
            .await
            .map_err(db_error)?;
        read(client.query_opt(select, &[&name]).await.map_err(db_error)?)?
            .ok_or_else(|| StoreError::Io(format!("the signing key {name} vanished")))
    }

    /// [`Throttle::begin`] in one statement, so that servers sharing the database cannot
    /// race: the row is locked by the upsert, a locked name is left as it is (the `WHERE`
    /// of `DO UPDATE` fails and no row comes back), any other attempt is counted and the
    /// name locked by the schedule of [`crate::store::throttle::lock_after`], passed as an array.
    async fn begin_attempt(
        &self,
        username: String,
        now_ms: i64,
    ) -> Result<Result<(), Locked>, StoreError> {
        let _turn = self.gate.turn(&username).await;
        if let Some(locked) = self.gate.known_lock(&username, now_ms) {
            return Ok(Err(locked));
        }
        let client = self.client().await?;
        let forget =
            i64::try_from(crate::store::throttle::FORGET_AFTER.as_millis()).unwrap_or(i64::MAX);
        let schedule = crate::store::throttle::lock_schedule_ms(LOCK_SCHEDULE_LEN);
        let statement = client
            .prepare_cached(BEGIN_ATTEMPT)
            .await
            .map_err(db_error)?;
        let counted = client
            .query_opt(&statement, &[&username, &now_ms, &forget, &schedule])
            .await
            .map_err(db_error)?;
        if counted.is_none() {
            // Locked: how long for is only what the answer announces, read after the fact.
            let statement = client.prepare_cached(STANDING).await.map_err(db_error)?;
            let row = client
                .query_opt(&statement, &[&username])
                .await
                .map_err(db_error)?;
            let until: Option<i64> = row.and_then(|row| row.get(0));
            let until = until.unwrap_or(now_ms);
            self.gate.remember_lock(&username, until, now_ms);
            let retry_after = crate::store::throttle::retry_after_secs(until, now_ms);
            return Ok(Err(Locked { retry_after }));
        }
        // Now and then, forget the names whose failures are old and not locked.
        // Housekeeping: its failure must not fail the sign-in that happened to run it.
        if one_in_64()
            && let Err(err) = client.execute(FORGET_FAILURES, &[&now_ms, &forget]).await
        {
            tracing::warn!(error = %err, "cannot forget old failed sign-ins");
        }
        Ok(Ok(()))
    }

    /// [`Throttle::check`]: a lock this server was told about, or one read; no write and
    /// no turn at the gate (a read takes no row lock, so the cached sign-ins of one name
    /// do not queue behind each other or behind its guesses).
    async fn standing(&self, username: String, now_ms: i64) -> Result<Standing, StoreError> {
        if let Some(locked) = self.gate.known_lock(&username, now_ms) {
            return Ok(Standing::Locked(locked));
        }
        let row = self.query_opt(STANDING, &[&username]).await?;
        let Some(row) = row else {
            return Ok(Standing::Clear);
        };
        let until: Option<i64> = row.get(0);
        match until.filter(|&until| until > now_ms) {
            Some(until) => {
                self.gate.remember_lock(&username, until, now_ms);
                let retry_after = crate::store::throttle::retry_after_secs(until, now_ms);
                Ok(Standing::Locked(Locked { retry_after }))
            }
            None => Ok(Standing::Failing),
        }
    }

    async fn clear_failures(&self, username: String) -> Result<(), StoreError> {
        self.gate.forget(&username);
        self.execute(
            "DELETE FROM sign_in_failures WHERE username = $1",
            &[&username],
        )
        .await?;
        Ok(())
    }
}

impl Drop for PgStore {
    fn drop(&mut self) {
        self.close();
    }
}

impl Store for PgStore {
    fn password(&self, username: &str) -> StoreFuture<'_, Option<PasswordRecord>> {
        timed(self.password_of(username.to_owned()))
    }

    fn tokens(&self, username: &str) -> StoreFuture<'_, Vec<(String, TokenRecord)>> {
        timed(self.tokens_of(username.to_owned()))
    }

    fn all_tokens(&self) -> StoreFuture<'_, Vec<(String, String, TokenRecord)>> {
        timed(self.token_rows(None))
    }

    fn token(&self, username: &str, id: &str) -> StoreFuture<'_, Option<TokenRecord>> {
        timed(self.token_of(username.to_owned(), id.to_owned()))
    }

    fn holds(&self, username: &str, id: &str, fingerprint: &str) -> StoreFuture<'_, Option<bool>> {
        timed(self.holds_token(username.to_owned(), id.to_owned(), fingerprint.to_owned()))
    }

    fn is_revoked(&self, id: &str, now: i64) -> StoreFuture<'_, bool> {
        let found = self.revoked_now(Some(id.to_owned()), now);
        timed(async move { Ok(!found.await?.is_empty()) })
    }

    fn revoked(&self, now: i64) -> StoreFuture<'_, Vec<(String, i64)>> {
        timed(self.revoked_now(None, now))
    }

    fn users(&self) -> StoreFuture<'_, Vec<UserSummary>> {
        timed(self.all_users())
    }

    fn apply(&self, op: Op) -> StoreFuture<'_, bool> {
        timed(self.apply_op(op))
    }

    fn signing_key(&self, name: &str) -> StoreFuture<'_, [u8; 32]> {
        timed(self.key(name.to_owned()))
    }

    fn has_signing_key(&self, name: &str) -> StoreFuture<'_, bool> {
        let name = name.to_owned();
        timed(async move {
            let row = self
                .query_opt("SELECT 1 FROM signing_keys WHERE name = $1", &[&name])
                .await?;
            Ok(row.is_some())
        })
    }

    fn keyring(&self) -> StoreFuture<'_, super::keys::Keyring> {
        timed(async move {
            // -1 before a first reading: every row's keys are then new.
            let cached = self.cached_keyring();
            let seen = if cached.keys.is_empty() {
                -1
            } else {
                i64::try_from(cached.generation).unwrap_or(i64::MAX)
            };
            // The keys only when they are not the ones read last: one round trip either way.
            let row = self
                .query_opt(
                    "SELECT generation, CASE WHEN generation = $1 THEN NULL ELSE keys END \
                     FROM keyring",
                    &[&seen],
                )
                .await?;
            let Some(row) = row else {
                return Ok(super::keys::Keyring::default());
            };
            let Some(text) = row.get::<_, Option<String>>(1) else {
                return Ok(cached);
            };
            let generation: i64 = row.get(0);
            let keys = serde_json::from_str(&text)
                .map_err(|err| StoreError::Io(format!("the keyring table is unreadable: {err}")))?;
            let ring = super::keys::Keyring {
                generation: u64::try_from(generation).unwrap_or(0),
                keys,
            };
            *self.keyring.lock().unwrap_or_else(|e| e.into_inner()) = ring.clone();
            Ok(ring)
        })
    }

    fn save_keyring(
        &self,
        expected: u64,
        keys: Vec<super::keys::KeyEntry>,
    ) -> StoreFuture<'_, bool> {
        timed(async move {
            let text = serde_json::to_string(&keys)
                .map_err(|err| StoreError::Io(format!("cannot encode the keyring: {err}")))?;
            let expected = i64::try_from(expected)
                .map_err(|_| StoreError::Io("the keyring's generation is too large".into()))?;
            let changed = if expected == 0 {
                self.execute(
                    "INSERT INTO keyring (generation, keys) VALUES (1, $1) ON CONFLICT DO NOTHING",
                    &[&text],
                )
                .await?
            } else {
                self.execute(
                    "UPDATE keyring SET generation = generation + 1, keys = $2 \
                     WHERE generation = $1",
                    &[&expected, &text],
                )
                .await?
            };
            Ok(changed == 1)
        })
    }

    fn specter_key(&self) -> StoreFuture<'_, Option<Vec<u8>>> {
        timed(async move {
            let row = self.query_opt("SELECT value FROM specter_key", &[]).await?;
            Ok(row.map(|row| row.get(0)))
        })
    }

    fn set_specter_key(&self, key: &[u8]) -> StoreFuture<'_, ()> {
        let key = key.to_vec();
        timed(async move {
            self.execute(
                "INSERT INTO specter_key (value) VALUES ($1) \
                 ON CONFLICT (one) DO UPDATE SET value = EXCLUDED.value",
                &[&key],
            )
            .await
            .map(drop)
        })
    }

    fn ready(&self) -> StoreFuture<'_, ()> {
        timed(async move {
            let client = self.client().await?;
            client.simple_query("SELECT 1").await.map_err(db_error)?;
            Ok(())
        })
    }

    fn shared_throttle(&self) -> Option<&dyn Throttle> {
        Some(self)
    }

    fn close(&self) {
        PgStore::close(self);
    }

    fn describe(&self) -> String {
        "postgres".into()
    }
}

impl Throttle for PgStore {
    fn check(&self, username: &str, now_ms: i64) -> StoreFuture<'_, Standing> {
        timed(self.standing(username.to_owned(), now_ms))
    }

    fn begin(&self, username: &str, now_ms: i64) -> StoreFuture<'_, Result<(), Locked>> {
        timed(self.begin_attempt(username.to_owned(), now_ms))
    }

    fn succeed(&self, username: &str) -> StoreFuture<'_, ()> {
        timed(self.clear_failures(username.to_owned()))
    }
}

/// A store call that gives up after [`CALL_TIMEOUT`]. A change cut off this way was not
/// acknowledged; whether it committed, the next read tells.
fn timed<'a, T: 'a>(
    call: impl std::future::Future<Output = Result<T, StoreError>> + Send + 'a,
) -> StoreFuture<'a, T> {
    Box::pin(async move {
        tokio::time::timeout(CALL_TIMEOUT, call)
            .await
            .unwrap_or_else(|_| {
                Err(StoreError::Io(format!(
                    "the database did not answer within {} seconds",
                    CALL_TIMEOUT.as_secs()
                )))
            })
    })
}

/// Runs the migrations the database lacks, one transaction each, under the migration
/// lock: a server that starts while another migrates waits, then finds nothing to do.
async fn migrate(client: &mut Object) -> Result<(), StoreError> {
    client
        .execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK])
        .await
        .map_err(db_error)?;
    let result = run_migrations(client).await;
    let unlocked = client
        .execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK])
        .await
        .map_err(db_error);
    result.and(unlocked.map(|_| ()))
}

async fn run_migrations(client: &mut Object) -> Result<(), StoreError> {
    client
        .batch_execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (\
             version integer PRIMARY KEY, name text NOT NULL, \
             applied_at timestamptz NOT NULL DEFAULT now())",
        )
        .await
        .map_err(db_error)?;
    let row = client
        .query_one(
            "SELECT COALESCE(max(version), 0) FROM schema_migrations",
            &[],
        )
        .await
        .map_err(db_error)?;
    let applied: i32 = row.get(0);
    let latest = MIGRATIONS.last().map_or(0, |&(version, _, _)| version);
    if applied > latest {
        return Err(StoreError::Io(format!(
            "the database schema is at version {applied}, newer than this tokenlife knows ({latest}); \
             run a newer tokenlife"
        )));
    }
    for &(version, name, sql) in MIGRATIONS.iter().filter(|m| m.0 > applied) {
        let tx = client.transaction().await.map_err(db_error)?;
        tx.batch_execute(sql)
            .await
            .map_err(|err| StoreError::Io(format!("migration {version} ({name}): {err}")))?;
        tx.execute(
            "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
            &[&version, &name],
        )
        .await
        .map_err(db_error)?;
        tx.commit().await.map_err(db_error)?;
        tracing::info!(version, name, "applied a database migration");
    }
    Ok(())
}

/// Records the last use of the loaded tokens that have one, batched, with [`TOUCH`]: a
/// token the database already had keeps its own use when that is later.
async fn touch_loaded(
    tx: &deadpool_postgres::Transaction<'_>,
    dump: &Dump,
) -> Result<(), StoreError> {
    let used: Vec<(&str, &str, i64, Option<&str>)> = dump
        .users
        .iter()
        .flat_map(|(_, imported)| {
            let user = imported.user.username.as_str();
            imported.tokens.iter().filter_map(move |(id, t)| {
                let at = t.jwt_token_last_used?;
                Some((id.as_str(), user, at, t.jwt_token_last_used_from.as_deref()))
            })
        })
        .collect();
    for chunk in used.chunks(BATCH) {
        let ids: Vec<&str> = chunk.iter().map(|u| u.0).collect();
        let users: Vec<&str> = chunk.iter().map(|u| u.1).collect();
        let ats: Vec<i64> = chunk.iter().map(|u| u.2).collect();
        let addrs: Vec<Option<&str>> = chunk.iter().map(|u| u.3).collect();
        tx.execute(TOUCH, &[&ids, &users, &ats, &addrs])
            .await
            .map_err(db_error)?;
    }
    Ok(())
}

/// Inserts token rows of `username` in batches; `conflict` is what to do when the id
/// exists (`ON CONFLICT ...`).
async fn insert_tokens(
    tx: &deadpool_postgres::Transaction<'_>,
    username: &str,
    tokens: &[(String, TokenRecord)],
    conflict: &str,
) -> Result<(), StoreError> {
    let on_conflict = if conflict == "DO NOTHING" {
        "ON CONFLICT (id) DO NOTHING".to_owned()
    } else {
        format!("ON CONFLICT {conflict}")
    };
    // Endpoint lists are arrays of different lengths: those rows go one by one.
    let (scoped, plain): (Vec<_>, Vec<_>) = tokens
        .iter()
        .partition(|(_, t)| t.jwt_token_endpoints.is_some());
    for chunk in plain.chunks(BATCH) {
        let ids: Vec<&str> = chunk.iter().map(|(id, _)| id.as_str()).collect();
        let descriptions: Vec<&str> = chunk
            .iter()
            .map(|(_, t)| t.jwt_token_description.as_str())
            .collect();
        let lives: Vec<i64> = chunk
            .iter()
            .map(|(_, t)| i64::try_from(t.jwt_token_life).unwrap_or(i64::MAX))
            .collect();
        let iats: Vec<i64> = chunk.iter().map(|(_, t)| t.iat).collect();
        let exps: Vec<i64> = chunk.iter().map(|(_, t)| t.exp).collect();
        let fingerprints: Vec<&str> = chunk.iter().map(|(_, t)| t.fingerprint.as_str()).collect();
        let origins: Vec<Option<&str>> = chunk
            .iter()
            .map(|(_, t)| t.jwt_token_origin.as_deref())
            .collect();
        let kids: Vec<Option<&str>> = chunk.iter().map(|(_, t)| t.kid.as_deref()).collect();
        tx.execute(
            &format!(
                "INSERT INTO tokens (id, username, {TOKEN_COLUMNS}) \
                 SELECT t.id, $1, t.description, t.life, t.iat, t.exp, t.fingerprint, NULL, t.origin, \
                 t.kid \
                 FROM unnest($2::text[], $3::text[], $4::int8[], $5::int8[], $6::int8[], $7::text[], \
                 $8::text[], $9::text[]) AS t(id, description, life, iat, exp, fingerprint, origin, kid) \
                 {on_conflict}"
            ),
            &[
                &username,
                &ids,
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
        .map_err(token_error)?;
    }
    for (id, t) in scoped {
        let life = i64::try_from(t.jwt_token_life).unwrap_or(i64::MAX);
        tx.execute(
            &format!(
                "INSERT INTO tokens (id, username, {TOKEN_COLUMNS}) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) {on_conflict}"
            ),
            &[
                id,
                &username,
                &t.jwt_token_description,
                &life,
                &t.iat,
                &t.exp,
                &t.fingerprint,
                &t.jwt_token_endpoints,
                &t.jwt_token_origin,
                &t.kid,
            ],
        )
        .await
        .map_err(token_error)?;
    }
    Ok(())
}

/// True about once in 64 calls: for housekeeping that need not run every time.
/// Forgets revocations of tokens that have expired anyway.
const PRUNE_REVOKED: &str = "DELETE FROM revoked WHERE exp <= $1";

/// Forgets the names whose failures are old (`$1` now, `$2` how long they count, in
/// milliseconds) and not locked. The casts are needed: `$1 - $2` alone has no type.
/// Counts one sign-in attempt unless the name is locked: `$1` username, `$2` now (ms),
/// `$3` the forget time (ms), `$4` the lock for each count (ms, 0 for none; the last entry
/// for every higher count). A row comes back when the attempt was counted.
const BEGIN_ATTEMPT: &str = "INSERT INTO sign_in_failures AS f \
     (username, failures, last_ms, locked_until_ms) \
     VALUES ($1, 1, $2, $2 + NULLIF(($4::int8[])[1], 0)) \
     ON CONFLICT (username) DO UPDATE SET \
     failures = CASE WHEN $2 - f.last_ms >= $3 THEN 1 ELSE LEAST(f.failures + 1, 1000000) END, \
     last_ms = GREATEST(f.last_ms, $2), \
     locked_until_ms = $2 + NULLIF(($4::int8[])[LEAST( \
         CASE WHEN $2 - f.last_ms >= $3 THEN 1 ELSE f.failures + 1 END, \
         cardinality($4::int8[]))], 0) \
     WHERE f.locked_until_ms IS NULL OR f.locked_until_ms <= $2 \
     RETURNING failures";

/// The lock of a name, if it has a row of failures: `$1` username.
const STANDING: &str = "SELECT locked_until_ms FROM sign_in_failures WHERE username = $1";

/// The length of the lock schedule sent with [`BEGIN_ATTEMPT`]: past it the lock no longer
/// grows.
const LOCK_SCHEDULE_LEN: u32 = 32;

const FORGET_FAILURES: &str = "DELETE FROM sign_in_failures \
     WHERE last_ms < $1::int8 - $2::int8 AND COALESCE(locked_until_ms, 0) < $1::int8";

fn one_in_64() -> bool {
    let mut dice = [0u8; 1];
    getrandom::fill(&mut dice).is_ok() && dice[0] < 4
}

/// Locks the row of `username` until the end of `tx`; [`StoreError::UnknownUser`] when
/// there is none.
async fn lock_user(tx: &tokio_postgres::Transaction<'_>, username: &str) -> Result<(), StoreError> {
    tx.query_opt(
        "SELECT 1 FROM users WHERE username = $1 FOR UPDATE",
        &[&username],
    )
    .await
    .map_err(db_error)?
    .map(drop)
    .ok_or(StoreError::UnknownUser)
}

/// A token record from the columns of [`TOKEN_COLUMNS`] starting at `at`, and the last
/// use when the row has the two columns of [`RECORD_COLUMNS`] after them.
fn token_record(row: &Row, at: usize) -> TokenRecord {
    let last_used = (row.len() > at + 9).then(|| (row.get(at + 8), row.get(at + 9)));
    let (jwt_token_last_used, jwt_token_last_used_from) = last_used.unwrap_or((None, None));
    TokenRecord {
        jwt_token_description: row.get(at),
        jwt_token_life: u64::try_from(row.get::<_, i64>(at + 1)).unwrap_or(0),
        iat: row.get(at + 2),
        exp: row.get(at + 3),
        fingerprint: row.get(at + 4),
        jwt_token_endpoints: row.get(at + 5),
        jwt_token_origin: row.get(at + 6),
        jwt_token_last_used,
        jwt_token_last_used_from,
        kid: row.get(at + 7),
    }
}

/// Specter's user id, as the JSON store makes it: `admin` for admin, random hex otherwise.
fn user_id(username: &str) -> String {
    let mut bytes = [0u8; 8];
    // Without randomness the id is still unique enough: it only names a user.
    let _ = getrandom::fill(&mut bytes);
    super::state::user_id(username, bytes)
}

/// A password record as the `password` column keeps it: the JSON of users.json.
fn password_text(record: &PasswordRecord) -> Result<String, StoreError> {
    serde_json::to_string(record)
        .map_err(|err| StoreError::Io(format!("cannot encode a password record: {err}")))
}

fn parse_password(text: &str) -> Result<PasswordRecord, StoreError> {
    serde_json::from_str(text).map_err(|err| {
        StoreError::Corrupt(format!(
            "a password record in the database does not parse: {err}"
        ))
    })
}

/// A database failure: the database is away, or refused a statement.
pub(crate) fn db_error(err: tokio_postgres::Error) -> StoreError {
    StoreError::Io(format!("database: {}", with_causes(&err)))
}

/// An error and its causes on one line ("error connecting to server: Connection refused").
fn with_causes(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut cause = err.source();
    while let Some(next) = cause {
        let part = next.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        cause = next.source();
    }
    text
}

/// A failure inserting a token: no such user, or a description the user already has.
fn token_error(err: tokio_postgres::Error) -> StoreError {
    if let Some(db) = err.as_db_error() {
        if *db.code() == SqlState::FOREIGN_KEY_VIOLATION {
            return StoreError::UnknownUser;
        }
        if *db.code() == SqlState::UNIQUE_VIOLATION && db.constraint() == Some(DESCRIPTION_KEY) {
            return StoreError::DuplicateDescription;
        }
    }
    db_error(err)
}
