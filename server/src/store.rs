//! Where users and token records live: the [`Store`] trait the handlers talk to, and the
//! data it keeps. The embedded backend is [`JsonStore`] (`users.json` plus a journal);
//! [`PgStore`] keeps the same data in PostgreSQL, so that several servers share it.

use std::future::Future;
use std::pin::Pin;

use serde::{Deserialize, Serialize};
use tokenlife_core::TokenRecord;

use throttle::Throttle;

pub mod audit;
pub(crate) mod json;
pub mod keys;
pub mod last_use;
mod postgres;
pub mod specter;
pub mod state;
pub mod throttle;

pub use json::JsonStore;
pub use postgres::PgStore;

/// Opens the store of `location`: the PostgreSQL database of a `postgres://` URL, or the
/// JSON store of a data folder.
///
/// # Errors
///
/// A readable message when the URL is not PostgreSQL's or the store cannot be opened.
pub async fn open(location: &Location<'_>) -> Result<std::sync::Arc<dyn Store>, String> {
    match location {
        Location::Database(url) => Ok(std::sync::Arc::new(open_postgres(url).await?)),
        Location::Folder(dir) => {
            let store = JsonStore::open(dir).map_err(|err| err.to_string())?;
            Ok(std::sync::Arc::new(store))
        }
    }
}

/// Opens the PostgreSQL store of `url`.
///
/// # Errors
///
/// A readable message when `url` is not a PostgreSQL URL or the database cannot be used.
pub async fn open_postgres(url: &str) -> Result<PgStore, String> {
    if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
        return Err("--store takes a PostgreSQL URL: postgres://USER@HOST:PORT/DATABASE".into());
    }
    PgStore::open(url).await.map_err(|err| err.to_string())
}

/// Where a store keeps its data.
#[derive(Debug, Clone, Copy)]
pub enum Location<'a> {
    /// A data folder (the JSON store).
    Folder(&'a std::path::Path),
    /// A PostgreSQL URL.
    Database(&'a str),
}

/// A boxed future of a store call, so that handlers can hold any backend as
/// `Arc<dyn Store>`.
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

/// The operations the server and the commands need from a store.
///
/// Every read sees the changes other processes made to the same data before it started;
/// every write is durable when its future resolves.
pub trait Store: Send + Sync {
    /// The password record of `username`, if the user exists.
    fn password(&self, username: &str) -> StoreFuture<'_, Option<PasswordRecord>>;

    /// The token records of `username` (empty when the user has none or does not exist).
    fn tokens(&self, username: &str) -> StoreFuture<'_, Vec<(String, TokenRecord)>>;

    /// Every user's token records, as (username, id, record), by username then id: the
    /// admin view. By default one [`Store::tokens`] per user of [`Store::users`].
    fn all_tokens(&self) -> StoreFuture<'_, Vec<(String, String, TokenRecord)>> {
        Box::pin(async move {
            let mut all = Vec::new();
            for user in self.users().await? {
                for (id, record) in self.tokens(&user.username).await? {
                    all.push((user.username.clone(), id, record));
                }
            }
            Ok(all)
        })
    }

    /// One token record of `username`.
    fn token(&self, username: &str, id: &str) -> StoreFuture<'_, Option<TokenRecord>>;

    /// Whether `username` has a record `id`, and if so whether its fingerprint is
    /// `fingerprint` (compared in constant time): the Bearer check, without copying the
    /// record.
    fn holds(&self, username: &str, id: &str, fingerprint: &str) -> StoreFuture<'_, Option<bool>>;

    /// Whether the token `id` was revoked (deleted before its expiry) and has not expired.
    fn is_revoked(&self, id: &str, now: i64) -> StoreFuture<'_, bool>;

    /// Ids and `exp` of the tokens revoked before their expiry that have not expired yet.
    fn revoked(&self, now: i64) -> StoreFuture<'_, Vec<(String, i64)>>;

    /// Every user, for `tokenlife user list`.
    fn users(&self) -> StoreFuture<'_, Vec<UserSummary>>;

    /// Applies one change; resolves once it is on disk. `Ok(false)` means there was
    /// nothing to do (for example deleting a token that does not exist).
    fn apply(&self, op: Op) -> StoreFuture<'_, bool>;

    /// The 32-byte signing key `name` (`"hs256"`, `"ed25519"`), made from the OS generator
    /// by the first process that asks and the same for every process on this store.
    fn signing_key(&self, name: &str) -> StoreFuture<'_, [u8; 32]>;

    /// Whether the store keeps a signing key under the old name `name` (never made).
    fn has_signing_key(&self, name: &str) -> StoreFuture<'_, bool>;

    /// The keyring ([`keys::Keyring`]): every kept key with its state, and a generation
    /// that grows with each change. Read fresh at every call (another process may have
    /// rotated); empty with generation 0 before the first rotation, when the one key is the
    /// [`Store::signing_key`] of the server's `--alg`.
    fn keyring(&self) -> StoreFuture<'_, keys::Keyring>;

    /// Replaces the keyring's keys if its generation is still `expected` (then it becomes
    /// `expected + 1`); `Ok(false)` when another process changed it first.
    fn save_keyring(&self, expected: u64, keys: Vec<keys::KeyEntry>) -> StoreFuture<'_, bool>;

    /// Specter's signing key, kept by `tokenlife import-specter` so that the tokens Specter
    /// issued keep working: it only verifies them, it never signs. `None` when no import
    /// brought one.
    fn specter_key(&self) -> StoreFuture<'_, Option<Vec<u8>>>;

    /// Keeps Specter's signing key (non-empty), replacing one kept before.
    fn set_specter_key(&self, key: &[u8]) -> StoreFuture<'_, ()>;

    /// Whether the store answers, for the readiness probe. By default, a list of users.
    fn ready(&self) -> StoreFuture<'_, ()> {
        let users = self.users();
        Box::pin(async move { users.await.map(|_| ()) })
    }

    /// The failed sign-in counts kept in the store itself, shared by every server on it;
    /// `None` (the default) when each server counts its own in memory.
    fn shared_throttle(&self) -> Option<&dyn Throttle> {
        None
    }

    /// Makes what is on disk complete and quick to load: the JSON store folds its journal
    /// into `users.json` (forgetting revocations expired at `now`), so that a stopped
    /// server leaves everything in Specter's layout. Nothing to do for a database (the
    /// default).
    fn checkpoint(&self, now: i64) -> StoreFuture<'_, ()> {
        let _ = now;
        Box::pin(std::future::ready(Ok(())))
    }

    /// Finishes the writes asked for and stops taking new ones (`apply` fails after it):
    /// the JSON store's committer stops and a compaction in the background finishes,
    /// PostgreSQL's connections close. A `checkpoint` may still follow.
    fn close(&self);

    /// What to name the store in logs: the folder, or only "postgres" (a URL may hold a
    /// password).
    fn describe(&self) -> String;

    /// The size of the store's journal in bytes, for the metrics; `None` (the default)
    /// for a store without one.
    fn journal_bytes(&self) -> Option<u64> {
        None
    }
}

/// Everything a store holds, for `tokenlife migrate`.
#[derive(Debug, Clone, Default)]
pub struct Dump {
    /// Each user with Specter's user id and their token records.
    pub users: Vec<(String, ImportedUser)>,
    /// Revoked token ids with their `exp`.
    pub revoked: Vec<(String, i64)>,
    /// The signing keys that exist, by name (`"hs256"`, `"ed25519"`).
    pub keys: Vec<(String, [u8; 32])>,
    /// Specter's signing key, if an import kept one ([`Store::specter_key`]).
    pub specter_key: Option<Vec<u8>>,
}

/// A password hash as `users.json` keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum PasswordRecord {
    /// Specter's PBKDF2-HMAC-SHA256 record (10,000 iterations; `salt` is used as text,
    /// `pwdhash` is base64).
    Specter {
        /// The salt, used as the UTF-8 bytes of this text.
        salt: String,
        /// The derived key, base64.
        pwdhash: String,
    },
    /// A PHC string; tokenlife writes Argon2id.
    Phc(String),
}

impl PasswordRecord {
    /// A string that changes whenever the password changes, used to forget cached checks.
    pub fn identity(&self) -> String {
        match self {
            PasswordRecord::Specter { salt, pwdhash } => format!("specter:{salt}:{pwdhash}"),
            PasswordRecord::Phc(phc) => phc.clone(),
        }
    }
}

/// A change asked of the store. Checks (does the user exist, is the description new)
/// happen under the store's lock, so two processes cannot both pass them.
#[derive(Debug, Clone)]
pub enum Op {
    /// Store a new token of `user`; fails if the user has a token with that description,
    /// or already holds `max_tokens` unexpired tokens (at the record's `iat`).
    CreateToken {
        /// The owner.
        user: String,
        /// The token id.
        id: String,
        /// What is kept of the token.
        record: TokenRecord,
        /// The most unexpired tokens a user may hold (`serve --max-tokens-per-user`);
        /// `None` for no limit.
        max_tokens: Option<u32>,
    },
    /// Replace the token `old` of `user` by a new one in one step (regenerate): `old` is
    /// deleted and revoked as [`Op::DeleteToken`] does, and `record` stored under `id`;
    /// a crash leaves one or the other, never neither. `Ok(false)` when `user` has no
    /// token `old` (deleted or regenerated meanwhile).
    RegenerateToken {
        /// The owner.
        user: String,
        /// The token replaced.
        old: String,
        /// The new token's id.
        id: String,
        /// What is kept of the new token (its `iat` is the time of the change).
        record: TokenRecord,
    },
    /// Delete a token of `user`; it stays listed as revoked until `exp` if that is after `now`.
    DeleteToken {
        /// The owner.
        user: String,
        /// The token id.
        id: String,
        /// The time of the deletion, Unix seconds.
        now: i64,
    },
    /// Add a user; fails if the username is taken.
    AddUser(NewUser),
    /// Add a user only if the store has no users at all (the first start).
    AddFirstUser(NewUser),
    /// Change a user's password; fails if the user does not exist.
    SetPassword {
        /// The user.
        username: String,
        /// The new password record.
        password: PasswordRecord,
    },
    /// Replace a password record by a stronger hash of the same password, only if the
    /// record is still `from` (a password changed meanwhile is kept). `Ok(false)` otherwise.
    UpgradePassword {
        /// The user.
        username: String,
        /// The record the password was checked against.
        from: PasswordRecord,
        /// The new record.
        to: PasswordRecord,
    },
    /// Remove a user and revoke their unexpired tokens; fails if the user does not exist.
    RemoveUser {
        /// The user.
        username: String,
        /// The time of the removal, Unix seconds.
        now: i64,
    },
    /// Import users with their tokens. A user that exists takes the imported password and
    /// admin flag and gains the imported tokens.
    Import(Vec<ImportedUser>),
    /// Record the last use of tokens (a batch gathered by [`last_use::Recorder`]): each
    /// token that still exists takes the use unless it holds a later one. `Ok(false)` when
    /// none of them exists any more.
    Touch(Vec<Use>),
}

/// One use of a token, as the last-use recorder batches it and the journal keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Use {
    /// The owner.
    pub user: String,
    /// The token id.
    pub id: String,
    /// When, Unix seconds.
    pub at: i64,
    /// The client's address, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
}

/// A user to add.
#[derive(Debug, Clone)]
pub struct NewUser {
    /// The username.
    pub username: String,
    /// The password record.
    pub password: PasswordRecord,
    /// Whether the user is an administrator (Specter's flag).
    pub is_admin: bool,
}

/// A user read from another system, with their tokens.
#[derive(Debug, Clone)]
pub struct ImportedUser {
    /// The user itself.
    pub user: NewUser,
    /// Their tokens by id.
    pub tokens: Vec<(String, TokenRecord)>,
}

/// What `tokenlife user list` shows of a user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserSummary {
    /// The username.
    pub username: String,
    /// Whether the user is an administrator.
    pub is_admin: bool,
    /// How many token records the user has.
    pub tokens: usize,
}

/// Why a store call failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreError {
    /// The user already has a token with this description.
    DuplicateDescription,
    /// The user already holds this many unexpired tokens (`--max-tokens-per-user`).
    TooManyTokens(u32),
    /// No such user.
    UnknownUser,
    /// The username is taken.
    UserExists,
    /// The stored data cannot be read; the message names the file and the place.
    Corrupt(String),
    /// The disk or the database failed; the message says how.
    Io(String),
}

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoreError::DuplicateDescription => {
                f.write_str("the user already has a token with this description")
            }
            StoreError::TooManyTokens(max) => {
                write!(f, "the user already holds {max} unexpired tokens")
            }
            StoreError::UnknownUser => f.write_str("no such user"),
            StoreError::UserExists => f.write_str("a user with this name already exists"),
            StoreError::Corrupt(message) | StoreError::Io(message) => f.write_str(message),
        }
    }
}

impl std::error::Error for StoreError {}
