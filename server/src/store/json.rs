//! The embedded store: `users.json` (a snapshot in Specter's layout) plus `users.journal`
//! (one JSON line per change since the snapshot) and `revoked.json`, in one data folder.
//!
//! - A write takes the folder's OS lock (`users.lock`), catches up with what other
//!   processes wrote, checks and applies its changes in memory, appends one line per change
//!   to the journal and `fsync`s it: one `fsync` for every change that was waiting (group
//!   commit, done by one committer thread per process).
//! - When the journal grows past half the snapshot (and 1 MiB), the state is written to
//!   `users.json` (temporary file, `fsync`, rename, `fsync` of the folder) and the journal
//!   is replaced by an empty one, so the cost per change stays O(1) amortised.
//! - Replaying a change is idempotent (every change sets or removes a key), so a crash
//!   between writing the snapshot and emptying the journal loses nothing and doubles
//!   nothing.
//! - Before each read, two `stat` calls tell whether another process appended to the
//!   journal (its length grew) or compacted (a new file); only then is the tail replayed
//!   or everything reloaded, under a shared lock.

use std::collections::{BTreeMap, HashMap};
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock, mpsc};

use serde::{Deserialize, Serialize};
use tokenlife_core::TokenRecord;

use super::{
    Dump, ImportedUser, NewUser, Op, PasswordRecord, Store, StoreError, StoreFuture, UserSummary,
};

/// The snapshot file, in Specter's layout.
pub const USERS_FILE: &str = "users.json";
/// The journal of changes since the snapshot.
pub const JOURNAL_FILE: &str = "users.journal";
const REVOKED_FILE: &str = "revoked.json";
const LOCK_FILE: &str = "users.lock";
/// The journal being folded into `users.json` by a compaction in the background.
const OLD_JOURNAL_FILE: &str = "users.journal.old";
/// Held by the one process compacting, for as long as it compacts.
const COMPACT_LOCK_FILE: &str = "compact.lock";
/// Compact when the journal is larger than this and than half the snapshot.
const MIN_COMPACT_BYTES: u64 = 1 << 20;
/// The most changes one `fsync` carries.
const MAX_BATCH: usize = 4096;

/// The JSON-file store of one data folder. Cheap to share: clone the `Arc` it lives in.
pub struct JsonStore {
    inner: Arc<Inner>,
    queue: Mutex<Option<mpsc::Sender<Pending>>>,
    committer: Mutex<Option<std::thread::JoinHandle<()>>>,
}

struct Inner {
    dir: PathBuf,
    journal_path: PathBuf,
    /// A read handle on the journal: `fstat` on it is the cheap "did anything change".
    watch: RwLock<Option<File>>,
    state: RwLock<State>,
    /// What of the files `state` reflects.
    seen: RwLock<Seen>,
    /// Serialises this process's disk work; holds the lock file and the journal handle.
    io: Mutex<Io>,
    /// True while this process holds the exclusive lock to write: no other process can
    /// change the files then, so readers need not wait for it.
    writing: AtomicBool,
    /// True while this process compacts in the background.
    compacting: AtomicBool,
    /// The lock file of compactions (see [`COMPACT_LOCK_FILE`]).
    compact_lock: File,
    /// Why the last write failed, until a write succeeds: readiness reports it.
    write_failure: Mutex<Option<StoreError>>,
}

struct Io {
    lock: File,
    journal: Option<File>,
}

type Pending = (Op, tokio::sync::oneshot::Sender<Result<bool, StoreError>>);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct FileId {
    ino: u64,
    len: u64,
    mtime: (i64, i64),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Seen {
    snapshot: Option<FileId>,
    journal_ino: Option<u64>,
    /// Bytes of the journal replayed: always the end of a complete line.
    journal_len: u64,
}

/// The data in memory.
#[derive(Default)]
struct State {
    users: BTreeMap<String, UserEntry>,
    revoked: HashMap<String, i64>,
}

struct UserEntry {
    user: StoredUser,
    /// How many tokens carry each description, so that a duplicate is found in O(1).
    descriptions: HashMap<String, u32>,
}

/// A user as `users.json` holds it (Specter's layout; tokens without the raw token).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct StoredUser {
    id: String,
    username: String,
    password: PasswordRecord,
    #[serde(default)]
    is_admin: bool,
    /// By token id; an id given twice is refused, not overwritten.
    #[serde(default, deserialize_with = "unique_keys")]
    jwt_tokens: BTreeMap<String, TokenRecord>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct RevokedFile {
    #[serde(deserialize_with = "unique_keys")]
    revoked: BTreeMap<String, i64>,
}

/// A JSON object as a map that refuses a key given twice: serde's own maps keep the last
/// value and drop the others without a word, which would lose a token.
fn unique_keys<'de, D, V>(deserializer: D) -> Result<BTreeMap<String, V>, D::Error>
where
    D: serde::Deserializer<'de>,
    V: Deserialize<'de>,
{
    struct Unique<V>(std::marker::PhantomData<V>);
    impl<'de, V: Deserialize<'de>> serde::de::Visitor<'de> for Unique<V> {
        type Value = BTreeMap<String, V>;

        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("an object")
        }

        fn visit_map<A: serde::de::MapAccess<'de>>(
            self,
            mut map: A,
        ) -> Result<Self::Value, A::Error> {
            let mut out = BTreeMap::new();
            while let Some(key) = map.next_key::<String>()? {
                if out.contains_key(&key) {
                    return Err(serde::de::Error::custom(format_args!(
                        "the id \"{key}\" is given twice"
                    )));
                }
                let value = map.next_value()?;
                out.insert(key, value);
            }
            Ok(out)
        }
    }
    deserializer.deserialize_map(Unique(std::marker::PhantomData))
}

/// One line of the journal. Each sets or removes a key, so replaying one twice is harmless.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
enum Change {
    PutToken {
        user: String,
        id: String,
        token: TokenRecord,
    },
    DeleteToken {
        user: String,
        id: String,
        revoke_until: Option<i64>,
    },
    PutUser {
        id: String,
        username: String,
        password: PasswordRecord,
        is_admin: bool,
    },
    RemoveUser {
        username: String,
        revoke: Vec<(String, i64)>,
    },
    /// Written last to a journal that is being replaced by a compaction, so that a reader
    /// watching the old file sees it change and reloads.
    Compacted,
}

impl JsonStore {
    /// Opens (creating if needed, mode 0700) the data folder and loads it.
    ///
    /// # Errors
    ///
    /// [`StoreError::Corrupt`] naming the file and the line and column when `users.json`
    /// or the journal cannot be parsed, and naming the entry when `users.json` holds a
    /// user twice or a token id twice (in one user or across users); when the folder holds
    /// keys, a journal or a revoked list but no `users.json` (the files are left as they
    /// are). [`StoreError::Io`] when the folder cannot be created or read, or others may
    /// write in it and its mode cannot be made `0700`.
    pub fn open(dir: &Path) -> Result<JsonStore, StoreError> {
        if dir.exists() {
            private_folder(dir)?;
        } else {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
                .map_err(|err| io_error("cannot create the data folder", dir, &err))?;
        }
        let lock_path = dir.join(LOCK_FILE);
        let lock = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(&lock_path)
            .map_err(|err| io_error("cannot open", &lock_path, &err))?;
        let compact_lock_path = dir.join(COMPACT_LOCK_FILE);
        let compact_lock = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(&compact_lock_path)
            .map_err(|err| io_error("cannot open", &compact_lock_path, &err))?;
        let inner = Inner {
            dir: dir.to_path_buf(),
            journal_path: dir.join(JOURNAL_FILE),
            watch: RwLock::new(None),
            state: RwLock::new(State::default()),
            seen: RwLock::new(Seen::default()),
            io: Mutex::new(Io {
                lock,
                journal: None,
            }),
            writing: AtomicBool::new(false),
            compacting: AtomicBool::new(false),
            compact_lock,
            write_failure: Mutex::new(None),
        };
        {
            let mut io = inner.io_guard();
            io.lock
                .lock()
                .map_err(|err| io_error("cannot lock", &lock_path, &err))?;
            let loaded = inner
                .begin_or_check_snapshot()
                .and_then(|()| inner.reload(&mut io))
                .and_then(|()| inner.repair_tail());
            let _ = io.lock.unlock();
            loaded?;
        }
        let inner = Arc::new(inner);
        let (tx, rx) = mpsc::channel::<Pending>();
        let worker = Arc::clone(&inner);
        let committer = std::thread::Builder::new()
            .name("tokenlife-commit".into())
            .spawn(move || worker.run_committer(&rx))
            .map_err(|err| StoreError::Io(format!("cannot start the committer thread: {err}")))?;
        Ok(JsonStore {
            inner,
            queue: Mutex::new(Some(tx)),
            committer: Mutex::new(Some(committer)),
        })
    }

    /// Stops the committer after the changes already asked for are on disk, and lets a
    /// compaction in the background finish (for up to a minute; one cut short is
    /// finished by the next compaction).
    pub fn close(&self) {
        drop(self.queue.lock().unwrap_or_else(|e| e.into_inner()).take());
        if let Some(handle) = self
            .committer
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
        {
            let _ = handle.join();
        }
        let start = std::time::Instant::now();
        while self.inner.compacting.load(Ordering::Acquire) && start.elapsed().as_secs() < 60 {
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    }

    /// Folds the journal into `users.json` now if it has any change, so that a start
    /// after a crash leaves a complete, valid `users.json` and a short replay.
    ///
    /// # Errors
    ///
    /// When the lock or a write fails.
    pub fn compact_if_journal(&self) -> Result<(), StoreError> {
        let inner = &self.inner;
        let mut io = inner.io_guard();
        let lock_path = inner.path(LOCK_FILE);
        io.lock
            .lock()
            .map_err(|err| io_error("cannot lock", &lock_path, &err))?;
        let result = inner.catch_up(&mut io).and_then(|()| {
            let pending = inner
                .seen
                .read()
                .unwrap_or_else(|e| e.into_inner())
                .journal_len;
            let busy =
                inner.compacting.load(Ordering::Acquire) || inner.compact_lock.try_lock().is_err();
            if busy {
                return Ok(());
            }
            let result = if pending > 0 || inner.path(OLD_JOURNAL_FILE).exists() {
                inner.compact(&mut io)
            } else {
                Ok(())
            };
            let _ = inner.compact_lock.unlock();
            result
        });
        let _ = io.lock.unlock();
        result
    }

    /// Everything the folder holds (users with their ids and tokens, unexpired revoked
    /// ids, the key files that exist), for `tokenlife migrate`.
    ///
    /// # Errors
    ///
    /// When the folder cannot be read or a key file does not parse.
    pub fn dump(&self, now: i64) -> Result<Dump, StoreError> {
        let (users, revoked) = self.read(|s| {
            let users = s
                .users
                .values()
                .map(|u| {
                    let user = &u.user;
                    let imported = ImportedUser {
                        user: NewUser {
                            username: user.username.clone(),
                            password: user.password.clone(),
                            is_admin: user.is_admin,
                        },
                        tokens: user
                            .jwt_tokens
                            .iter()
                            .map(|(id, t)| (id.clone(), t.clone()))
                            .collect(),
                    };
                    (user.id.clone(), imported)
                })
                .collect();
            (users, s.unexpired_revoked(now))
        })?;
        let mut keys = Vec::new();
        for name in ["hs256", "ed25519"] {
            let file = crate::secrets::key_file(name);
            if let Some(key) =
                crate::secrets::existing_key(&self.inner.dir, &file).map_err(StoreError::Io)?
            {
                keys.push((name.to_owned(), key));
            }
        }
        Ok(Dump {
            users,
            revoked,
            keys,
        })
    }

    fn read<T>(&self, f: impl FnOnce(&State) -> T) -> Result<T, StoreError> {
        self.inner.refresh()?;
        let state = self.inner.state.read().unwrap_or_else(|e| e.into_inner());
        Ok(f(&state))
    }
}

impl Drop for JsonStore {
    fn drop(&mut self) {
        self.close();
    }
}

impl Store for JsonStore {
    fn password(&self, username: &str) -> StoreFuture<'_, Option<PasswordRecord>> {
        let result = self.read(|s| s.users.get(username).map(|u| u.user.password.clone()));
        Box::pin(std::future::ready(result))
    }

    fn tokens(&self, username: &str) -> StoreFuture<'_, Vec<(String, TokenRecord)>> {
        let result = self.read(|s| {
            s.users
                .get(username)
                .map(|u| {
                    u.user
                        .jwt_tokens
                        .iter()
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect()
                })
                .unwrap_or_default()
        });
        Box::pin(std::future::ready(result))
    }

    fn token(&self, username: &str, id: &str) -> StoreFuture<'_, Option<TokenRecord>> {
        let result = self.read(|s| {
            s.users
                .get(username)
                .and_then(|u| u.user.jwt_tokens.get(id).cloned())
        });
        Box::pin(std::future::ready(result))
    }

    fn holds(&self, username: &str, id: &str, fingerprint: &str) -> StoreFuture<'_, Option<bool>> {
        use subtle::ConstantTimeEq;
        let result = self.read(|s| {
            let record = s.users.get(username)?.user.jwt_tokens.get(id)?;
            Some(bool::from(
                record.fingerprint.as_bytes().ct_eq(fingerprint.as_bytes()),
            ))
        });
        Box::pin(std::future::ready(result))
    }

    fn is_revoked(&self, id: &str, now: i64) -> StoreFuture<'_, bool> {
        let result = self.read(|s| s.revoked.get(id).is_some_and(|&exp| exp > now));
        Box::pin(std::future::ready(result))
    }

    fn revoked(&self, now: i64) -> StoreFuture<'_, Vec<(String, i64)>> {
        let result = self.read(|s| s.unexpired_revoked(now));
        Box::pin(std::future::ready(result))
    }

    fn users(&self) -> StoreFuture<'_, Vec<UserSummary>> {
        let result = self.read(|s| {
            s.users
                .values()
                .map(|u| UserSummary {
                    username: u.user.username.clone(),
                    is_admin: u.user.is_admin,
                    tokens: u.user.jwt_tokens.len(),
                })
                .collect()
        });
        Box::pin(std::future::ready(result))
    }

    fn apply(&self, op: Op) -> StoreFuture<'_, bool> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let sent = self
            .queue
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .map(|queue| queue.send((op, tx)).is_ok())
            .unwrap_or(false);
        Box::pin(async move {
            if !sent {
                return Err(StoreError::Io("the store is shutting down".into()));
            }
            rx.await
                .unwrap_or_else(|_| Err(StoreError::Io("the store stopped".into())))
        })
    }

    /// Not ready while the last write failed (until a write succeeds), nor while the
    /// files cannot be read: reads served from memory would hide a disk that refuses
    /// writes.
    fn ready(&self) -> StoreFuture<'_, ()> {
        let failure = self
            .inner
            .write_failure
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let result = match failure {
            Some(err) => Err(StoreError::Io(format!("the last write failed: {err}"))),
            None => self.read(|_| ()),
        };
        Box::pin(std::future::ready(result))
    }

    fn signing_key(&self, name: &str) -> StoreFuture<'_, [u8; 32]> {
        let file = crate::secrets::key_file(name);
        let result = crate::secrets::key_bytes(&self.inner.dir, &file).map_err(StoreError::Io);
        Box::pin(std::future::ready(result))
    }
}

impl Inner {
    fn io_guard(&self) -> MutexGuard<'_, Io> {
        self.io.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Records the outcome of a write: the error, or `None` after one succeeded.
    fn write_failed(&self, err: Option<&StoreError>) {
        *self.write_failure.lock().unwrap_or_else(|e| e.into_inner()) = err.cloned();
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// With the exclusive lock held, at open: a new folder gets an empty `users.json` at
    /// once, so that from then on a folder without one has lost it. A folder that holds
    /// the store's other files (keys, journal, revoked list) but no `users.json` is
    /// refused: taking it for a new store would drop every user and print a new admin
    /// password.
    fn begin_or_check_snapshot(&self) -> Result<(), StoreError> {
        let users_path = self.path(USERS_FILE);
        if file_id(&users_path)?.is_some() {
            return Ok(());
        }
        let mut found = Vec::new();
        for name in [
            JOURNAL_FILE,
            OLD_JOURNAL_FILE,
            REVOKED_FILE,
            crate::secrets::HS256_FILE,
            crate::secrets::ED25519_FILE,
        ] {
            if file_id(&self.path(name))?.is_some() {
                found.push(name);
            }
        }
        if !found.is_empty() {
            return Err(StoreError::Corrupt(format!(
                "{} holds {} but no {USERS_FILE}: the users and their tokens are missing, so \
                 tokenlife will not take it for a new store. Restore {USERS_FILE} from a backup \
                 (tokenlife replays the journal over it), or move the folder away to start afresh; \
                 a folder that an older tokenlife only ever wrote with `tokenlife user` before \
                 its first `serve` has no {USERS_FILE} yet: write `[]` into it to replay the \
                 journal from empty",
                self.dir.display(),
                found.join(", ")
            )));
        }
        write_atomic(&self.dir, USERS_FILE, b"[]\n")
    }

    /// Brings `state` up to date with the files if another process changed them.
    fn refresh(&self) -> Result<(), StoreError> {
        if self.writing.load(Ordering::Acquire) || self.up_to_date()? {
            return Ok(());
        }
        let mut io = self.io_guard();
        let lock_path = self.path(LOCK_FILE);
        io.lock
            .lock_shared()
            .map_err(|err| io_error("cannot lock", &lock_path, &err))?;
        let result = self.catch_up(&mut io);
        let _ = io.lock.unlock();
        result
    }

    /// One `fstat` of the journal: every change appends to it (its length grows), and a
    /// compaction appends a last line to it before replacing it, so it tells whether
    /// anything changed.
    fn up_to_date(&self) -> Result<bool, StoreError> {
        let watched = self
            .watch
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .map(File::metadata);
        let journal = match watched {
            Some(Ok(meta)) => Some(FileId {
                ino: meta.ino(),
                len: meta.len(),
                mtime: (0, 0),
            }),
            Some(Err(err)) => return Err(io_error("cannot stat", &self.journal_path, &err)),
            None => file_id(&self.journal_path)?,
        };
        let seen = *self.seen.read().unwrap_or_else(|e| e.into_inner());
        Ok(journal.map(|j| j.ino) == seen.journal_ino
            && journal.map_or(0, |j| j.len) == seen.journal_len)
    }

    /// With the lock held: replays what others appended, or reloads after a compaction.
    fn catch_up(&self, io: &mut Io) -> Result<(), StoreError> {
        let snapshot = file_id(&self.path(USERS_FILE))?;
        let journal = file_id(&self.path(JOURNAL_FILE))?;
        let seen = *self.seen.read().unwrap_or_else(|e| e.into_inner());
        if snapshot != seen.snapshot || journal.map(|j| j.ino) != seen.journal_ino {
            return self.reload(io);
        }
        match journal {
            Some(j) if j.len > seen.journal_len => {
                let (changes, consumed) = self.read_journal(JOURNAL_FILE, seen.journal_len)?;
                let mut state = self.state.write().unwrap_or_else(|e| e.into_inner());
                for change in changes {
                    state.apply(change);
                }
                self.seen
                    .write()
                    .unwrap_or_else(|e| e.into_inner())
                    .journal_len = consumed;
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// With the lock held: reads everything from the files.
    fn reload(&self, io: &mut Io) -> Result<(), StoreError> {
        let users_path = self.path(USERS_FILE);
        let snapshot = file_id(&users_path)?;
        let mut state = State::default();
        if snapshot.is_some() {
            let bytes = std::fs::read(&users_path)
                .map_err(|err| io_error("cannot read", &users_path, &err))?;
            let users: Vec<StoredUser> = serde_json::from_slice(&bytes).map_err(|err| {
                StoreError::Corrupt(format!(
                    "cannot parse {} at line {} column {}: {err}",
                    users_path.display(),
                    err.line(),
                    err.column()
                ))
            })?;
            // Two entries of one name would become one, and a token id held twice would
            // answer for either owner: both lose data at the next write, so refuse.
            let mut seen_at: HashMap<String, usize> = HashMap::new();
            for (index, user) in users.into_iter().enumerate() {
                if let Some(first) = seen_at.insert(user.username.clone(), index) {
                    return Err(StoreError::Corrupt(format!(
                        "{} holds the user \"{}\" twice (entries {} and {}); nothing was changed: \
                         merge the two entries by hand, or restore the file from a backup",
                        users_path.display(),
                        user.username,
                        first + 1,
                        index + 1
                    )));
                }
                state.insert_user(user);
            }
            state.check_token_ids(&users_path.display().to_string())?;
        }
        let revoked_path = self.path(REVOKED_FILE);
        if revoked_path.exists() {
            let bytes = std::fs::read(&revoked_path)
                .map_err(|err| io_error("cannot read", &revoked_path, &err))?;
            let revoked: RevokedFile = serde_json::from_slice(&bytes).map_err(|err| {
                StoreError::Corrupt(format!(
                    "cannot parse {} at line {} column {}: {err}",
                    revoked_path.display(),
                    err.line(),
                    err.column()
                ))
            })?;
            state.revoked = revoked.revoked.into_iter().collect();
        }
        let journal = file_id(&self.path(JOURNAL_FILE))?;
        // A journal being folded in by a compaction comes before the live one.
        let (old_changes, _) = self.read_journal(OLD_JOURNAL_FILE, 0)?;
        let old_changes_empty = old_changes.is_empty();
        for change in old_changes {
            state.apply(change);
        }
        let (changes, consumed) = self.read_journal(JOURNAL_FILE, 0)?;
        let replayed = !old_changes_empty || !changes.is_empty();
        for change in changes {
            state.apply(change);
        }
        if replayed {
            state.check_token_ids(&format!(
                "{} after replaying {}",
                users_path.display(),
                self.journal_path.display()
            ))?;
        }
        *self.state.write().unwrap_or_else(|e| e.into_inner()) = state;
        *self.seen.write().unwrap_or_else(|e| e.into_inner()) = Seen {
            snapshot,
            journal_ino: journal.map(|j| j.ino),
            journal_len: consumed,
        };
        io.journal = None;
        self.watch_journal();
        Ok(())
    }

    /// Opens the read handle `up_to_date` watches, on the journal now at its path.
    fn watch_journal(&self) {
        *self.watch.write().unwrap_or_else(|e| e.into_inner()) =
            File::open(&self.journal_path).ok();
    }

    /// The complete lines of the journal from byte `from` on, and where they end.
    fn read_journal(&self, name: &str, from: u64) -> Result<(Vec<Change>, u64), StoreError> {
        let path = self.path(name);
        let mut file = match File::open(&path) {
            Ok(file) => file,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok((Vec::new(), 0)),
            Err(err) => return Err(io_error("cannot open", &path, &err)),
        };
        let mut bytes = Vec::new();
        file.seek(SeekFrom::Start(from))
            .and_then(|_| file.read_to_end(&mut bytes))
            .map_err(|err| io_error("cannot read", &path, &err))?;
        let mut changes = Vec::new();
        let mut consumed = 0usize;
        let mut line_number = 0usize;
        while let Some(end) = bytes[consumed..].iter().position(|&b| b == b'\n') {
            line_number += 1;
            let line = &bytes[consumed..consumed + end];
            if !line.iter().all(u8::is_ascii_whitespace) {
                let change: Change = serde_json::from_slice(line).map_err(|err| {
                    StoreError::Corrupt(format!(
                        "cannot parse {} at byte {} (line {line_number} of the part read), column {}: {err}",
                        path.display(),
                        from + consumed as u64,
                        err.column()
                    ))
                })?;
                changes.push(change);
            }
            consumed += end + 1;
        }
        // Bytes after the last newline are a line whose writer died before finishing it;
        // it was never acknowledged, and the next writer cuts it off.
        Ok((changes, from + consumed as u64))
    }

    /// With the exclusive lock held, after catching up: cuts off a torn last line of the
    /// journal (one `stat` when there is none).
    fn repair_tail(&self) -> Result<(), StoreError> {
        let path = self.path(JOURNAL_FILE);
        let Some(journal) = file_id(&path)? else {
            return Ok(());
        };
        let seen_len = self
            .seen
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .journal_len;
        if journal.len > seen_len {
            let file = OpenOptions::new()
                .write(true)
                .open(&path)
                .map_err(|err| io_error("cannot open", &path, &err))?;
            file.set_len(seen_len)
                .and_then(|()| file.sync_all())
                .map_err(|err| io_error("cannot repair", &path, &err))?;
            tracing::warn!(file = %path.display(), "cut off an unfinished last journal line");
        }
        Ok(())
    }

    fn run_committer(self: &Arc<Self>, queue: &mpsc::Receiver<Pending>) {
        while let Ok(first) = queue.recv() {
            let mut batch = vec![first];
            while batch.len() < MAX_BATCH {
                match queue.try_recv() {
                    Ok(next) => batch.push(next),
                    Err(_) => break,
                }
            }
            let (ops, replies): (Vec<Op>, Vec<_>) = batch.into_iter().unzip();
            let results = self.commit(ops);
            for (reply, result) in replies.into_iter().zip(results) {
                let _ = reply.send(result);
            }
        }
    }

    /// Checks, applies and writes a batch of changes under the exclusive lock, with one
    /// `fsync`.
    fn commit(self: &Arc<Self>, ops: Vec<Op>) -> Vec<Result<bool, StoreError>> {
        let count = ops.len();
        let mut io = self.io_guard();
        let lock_path = self.path(LOCK_FILE);
        if let Err(err) = io.lock.lock() {
            let err = io_error("cannot lock", &lock_path, &err);
            self.write_failed(Some(&err));
            return vec![Err(err); count];
        }
        let results = self.commit_locked(&mut io, ops);
        self.writing.store(false, Ordering::Release);
        let _ = io.lock.unlock();
        results
    }

    fn commit_locked(self: &Arc<Self>, io: &mut Io, ops: Vec<Op>) -> Vec<Result<bool, StoreError>> {
        let count = ops.len();
        // With the exclusive lock no one else is writing: bytes after the last complete
        // line are a dead writer's unfinished line, and appending after them would bury
        // them in the middle of the journal.
        if let Err(err) = self.catch_up(io).and_then(|()| self.repair_tail()) {
            self.write_failed(Some(&err));
            return vec![Err(err); count];
        }
        self.writing.store(true, Ordering::Release);
        let mut changes = Vec::new();
        let results: Vec<Result<bool, StoreError>> = {
            let mut state = self.state.write().unwrap_or_else(|e| e.into_inner());
            ops.into_iter()
                .map(|op| state.check_and_apply(op, &mut changes))
                .collect()
        };
        if changes.is_empty() {
            return results;
        }
        if let Err(err) = self.append(io, &changes) {
            tracing::error!(error = %err, "cannot write the journal; reloading from disk");
            self.write_failed(Some(&err));
            // Memory is ahead of the disk: put it back the way the disk says.
            let _ = self.reload(io);
            return results
                .into_iter()
                .map(|r| r.and(Err(err.clone())))
                .collect();
        }
        self.write_failed(None);
        if let Err(err) = self.maybe_compact(io) {
            // The changes are safe in the journal; compaction will be tried again.
            tracing::error!(error = %err, "cannot compact the journal");
        }
        results
    }

    fn append(&self, io: &mut Io, changes: &[Change]) -> Result<(), StoreError> {
        let path = self.path(JOURNAL_FILE);
        let mut buf = Vec::with_capacity(changes.len() * 256);
        for change in changes {
            serde_json::to_writer(&mut buf, change)
                .map_err(|err| StoreError::Io(format!("cannot encode a change: {err}")))?;
            buf.push(b'\n');
        }
        if io.journal.is_none() {
            let existed = path.exists();
            let file = OpenOptions::new()
                .append(true)
                .create(true)
                .mode(0o600)
                .open(&path)
                .map_err(|err| io_error("cannot open", &path, &err))?;
            if !existed {
                sync_dir(&self.dir)?;
                self.watch_journal();
            }
            io.journal = Some(file);
        }
        let Some(file) = io.journal.as_mut() else {
            return Err(StoreError::Io("the journal is not open".into()));
        };
        file.write_all(&buf)
            .and_then(|()| file.sync_data())
            .map_err(|err| io_error("cannot write", &path, &err))?;
        let meta = file
            .metadata()
            .map_err(|err| io_error("cannot stat", &path, &err))?;
        let mut seen = self.seen.write().unwrap_or_else(|e| e.into_inner());
        seen.journal_ino = Some(meta.ino());
        seen.journal_len = meta.len();
        Ok(())
    }

    /// With the exclusive lock held, after a commit: starts a compaction when the journal
    /// has grown past half the snapshot (and 1 MiB), unless one is running (here or in
    /// another process). The journal is set aside as `users.journal.old` and a new one
    /// started, so that writes go on while a thread writes the new `users.json`.
    fn maybe_compact(self: &Arc<Self>, io: &mut Io) -> Result<(), StoreError> {
        let seen = *self.seen.read().unwrap_or_else(|e| e.into_inner());
        let snapshot_len = seen.snapshot.map_or(0, |s| s.len);
        if seen.journal_len <= MIN_COMPACT_BYTES.max(snapshot_len / 2)
            || self.compacting.load(Ordering::Acquire)
            || self.compact_lock.try_lock().is_err()
        {
            return Ok(());
        }
        if self.path(OLD_JOURNAL_FILE).exists() {
            // A compaction whose process died: finish it here, at once.
            let result = self.compact(io);
            let _ = self.compact_lock.unlock();
            return result;
        }
        let result = self.start_background_compaction(io);
        if result.is_err() {
            let _ = self.compact_lock.unlock();
        }
        result
    }

    fn start_background_compaction(self: &Arc<Self>, io: &mut Io) -> Result<(), StoreError> {
        // Readers of other processes watch the journal: make it change before it goes.
        if let Some(file) = io.journal.as_mut() {
            let _ = file.write_all(b"{\"op\":\"compacted\"}\n");
        }
        std::fs::rename(&self.journal_path, self.path(OLD_JOURNAL_FILE))
            .map_err(|err| io_error("cannot set aside", &self.journal_path, &err))?;
        write_atomic(&self.dir, JOURNAL_FILE, b"")?;
        io.journal = None;
        self.watch_journal();
        let journal = file_id(&self.journal_path)?;
        {
            let mut seen = self.seen.write().unwrap_or_else(|e| e.into_inner());
            seen.journal_ino = journal.map(|j| j.ino);
            seen.journal_len = 0;
        }
        // A copy of the state as of the old journal's end: the new journal holds the rest.
        let now = crate::clock::now_secs();
        let (users, revoked) = {
            let state = self.state.read().unwrap_or_else(|e| e.into_inner());
            let users: Vec<StoredUser> = state.users.values().map(|u| u.user.clone()).collect();
            let revoked: BTreeMap<String, i64> = state
                .revoked
                .iter()
                .filter(|(_, exp)| **exp > now)
                .map(|(k, v)| (k.clone(), *v))
                .collect();
            (users, revoked)
        };
        self.compacting.store(true, Ordering::Release);
        let inner = Arc::clone(self);
        let spawned = std::thread::Builder::new()
            .name("tokenlife-compact".into())
            .spawn(move || {
                if let Err(err) = inner.finish_compaction(&users, revoked) {
                    // The old journal stays; the next compaction finishes the job.
                    tracing::error!(error = %err, "cannot compact the journal");
                }
                let _ = inner.compact_lock.unlock();
                inner.compacting.store(false, Ordering::Release);
            });
        if let Err(err) = spawned {
            self.compacting.store(false, Ordering::Release);
            return Err(StoreError::Io(format!(
                "cannot start the compaction: {err}"
            )));
        }
        Ok(())
    }

    /// In the background: writes the snapshot of the set-aside state, then (under the
    /// exclusive lock, briefly) puts it in place and removes the old journal.
    fn finish_compaction(
        &self,
        users: &[StoredUser],
        revoked: BTreeMap<String, i64>,
    ) -> Result<(), StoreError> {
        let users_bytes = serde_json::to_vec_pretty(users)
            .map_err(|err| StoreError::Io(format!("cannot encode the users: {err}")))?;
        let revoked_bytes = serde_json::to_vec_pretty(&RevokedFile { revoked })
            .map_err(|err| StoreError::Io(format!("cannot encode the revoked list: {err}")))?;
        let users_temp = write_temp(&self.dir, USERS_FILE, &users_bytes)?;
        let revoked_temp = write_temp(&self.dir, REVOKED_FILE, &revoked_bytes)?;
        // Another handle on the lock file: its lock excludes this process's committer too.
        let lock_path = self.path(LOCK_FILE);
        let lock =
            File::open(&lock_path).map_err(|err| io_error("cannot open", &lock_path, &err))?;
        lock.lock()
            .map_err(|err| io_error("cannot lock", &lock_path, &err))?;
        let placed = (|| {
            std::fs::rename(&revoked_temp, self.path(REVOKED_FILE))
                .map_err(|err| io_error("cannot replace", &self.path(REVOKED_FILE), &err))?;
            std::fs::rename(&users_temp, self.path(USERS_FILE))
                .map_err(|err| io_error("cannot replace", &self.path(USERS_FILE), &err))?;
            std::fs::remove_file(self.path(OLD_JOURNAL_FILE))
                .map_err(|err| io_error("cannot remove", &self.path(OLD_JOURNAL_FILE), &err))?;
            sync_dir(&self.dir)?;
            // The state in memory is the same data, now as snapshot plus journal.
            let snapshot = file_id(&self.path(USERS_FILE))?;
            self.seen
                .write()
                .unwrap_or_else(|e| e.into_inner())
                .snapshot = snapshot;
            Ok(())
        })();
        let _ = lock.unlock();
        if placed.is_err() {
            let _ = std::fs::remove_file(&users_temp);
            let _ = std::fs::remove_file(&revoked_temp);
        }
        tracing::debug!(
            bytes = users_bytes.len(),
            "compacted the journal into users.json"
        );
        placed
    }

    /// With the exclusive lock (and the compaction lock) held: writes the whole state to
    /// `users.json` and `revoked.json`, then empties the journal and removes an old one.
    fn compact(&self, io: &mut Io) -> Result<(), StoreError> {
        let now = crate::clock::now_secs();
        let (users, revoked) = {
            let mut state = self.state.write().unwrap_or_else(|e| e.into_inner());
            state.revoked.retain(|_, exp| *exp > now);
            let users: Vec<&StoredUser> = state.users.values().map(|u| &u.user).collect();
            let users = serde_json::to_vec_pretty(&users)
                .map_err(|err| StoreError::Io(format!("cannot encode the users: {err}")))?;
            let revoked = RevokedFile {
                revoked: state.revoked.iter().map(|(k, v)| (k.clone(), *v)).collect(),
            };
            let revoked = serde_json::to_vec_pretty(&revoked)
                .map_err(|err| StoreError::Io(format!("cannot encode the revoked list: {err}")))?;
            (users, revoked)
        };
        // Readers of other processes watch the old journal: make it change.
        let old = match io.journal.take() {
            Some(file) => Some(file),
            None => OpenOptions::new()
                .append(true)
                .open(&self.journal_path)
                .ok(),
        };
        if let Some(mut file) = old {
            let _ = file.write_all(b"{\"op\":\"compacted\"}\n");
        }
        write_atomic(&self.dir, USERS_FILE, &users)?;
        write_atomic(&self.dir, REVOKED_FILE, &revoked)?;
        write_atomic(&self.dir, JOURNAL_FILE, b"")?;
        match std::fs::remove_file(self.path(OLD_JOURNAL_FILE)) {
            Err(err) if err.kind() != std::io::ErrorKind::NotFound => {
                return Err(io_error(
                    "cannot remove",
                    &self.path(OLD_JOURNAL_FILE),
                    &err,
                ));
            }
            _ => sync_dir(&self.dir)?,
        }
        io.journal = None;
        self.watch_journal();
        let snapshot = file_id(&self.path(USERS_FILE))?;
        let journal = file_id(&self.path(JOURNAL_FILE))?;
        *self.seen.write().unwrap_or_else(|e| e.into_inner()) = Seen {
            snapshot,
            journal_ino: journal.map(|j| j.ino),
            journal_len: 0,
        };
        tracing::debug!(bytes = users.len(), "compacted the journal into users.json");
        Ok(())
    }
}

impl State {
    /// The revoked ids whose tokens have not expired yet at `now`, with their `exp`, by id.
    fn unexpired_revoked(&self, now: i64) -> Vec<(String, i64)> {
        let mut list: Vec<(String, i64)> = self
            .revoked
            .iter()
            .filter(|&(_, &exp)| exp > now)
            .map(|(id, &exp)| (id.clone(), exp))
            .collect();
        list.sort();
        list
    }

    /// `Err` naming the id and both owners when two users hold the same token id.
    fn check_token_ids(&self, source: &str) -> Result<(), StoreError> {
        let mut owners: HashMap<&str, &str> = HashMap::new();
        for entry in self.users.values() {
            let user = &entry.user;
            for id in user.jwt_tokens.keys() {
                if let Some(other) = owners.insert(id, &user.username) {
                    return Err(StoreError::Corrupt(format!(
                        "{source}: the token id \"{id}\" belongs to both \"{other}\" and \"{}\"; \
                         nothing was changed: remove one of the two by hand, or restore users.json \
                         from a backup",
                        user.username
                    )));
                }
            }
        }
        Ok(())
    }

    /// The user other than `username` holding the token `id`, if any.
    fn other_owner(&self, username: &str, id: &str) -> Option<&str> {
        self.users
            .values()
            .find(|u| u.user.username != username && u.user.jwt_tokens.contains_key(id))
            .map(|u| u.user.username.as_str())
    }

    fn insert_user(&mut self, user: StoredUser) {
        let mut descriptions = HashMap::new();
        for token in user.jwt_tokens.values() {
            *descriptions
                .entry(token.jwt_token_description.clone())
                .or_insert(0) += 1;
        }
        self.users
            .insert(user.username.clone(), UserEntry { user, descriptions });
    }

    /// Checks `op` against the current state; when it passes, applies its changes and
    /// records them for the journal.
    fn check_and_apply(&mut self, op: Op, out: &mut Vec<Change>) -> Result<bool, StoreError> {
        let changes = match op {
            Op::CreateToken { user, id, record } => {
                let entry = self.users.get(&user).ok_or(StoreError::UnknownUser)?;
                if entry
                    .descriptions
                    .contains_key(&record.jwt_token_description)
                {
                    return Err(StoreError::DuplicateDescription);
                }
                vec![Change::PutToken {
                    user,
                    id,
                    token: record,
                }]
            }
            Op::DeleteToken { user, id, now } => {
                let Some(token) = self
                    .users
                    .get(&user)
                    .and_then(|u| u.user.jwt_tokens.get(&id))
                else {
                    return Ok(false);
                };
                let revoke_until = (token.exp > now).then_some(token.exp);
                vec![Change::DeleteToken {
                    user,
                    id,
                    revoke_until,
                }]
            }
            Op::AddUser(new) => {
                if self.users.contains_key(&new.username) {
                    return Err(StoreError::UserExists);
                }
                vec![put_user(new)]
            }
            Op::AddFirstUser(new) => {
                if !self.users.is_empty() {
                    return Ok(false);
                }
                vec![put_user(new)]
            }
            Op::SetPassword { username, password } => {
                let entry = self.users.get(&username).ok_or(StoreError::UnknownUser)?;
                vec![Change::PutUser {
                    id: entry.user.id.clone(),
                    username,
                    password,
                    is_admin: entry.user.is_admin,
                }]
            }
            Op::UpgradePassword { username, from, to } => {
                let Some(entry) = self
                    .users
                    .get(&username)
                    .filter(|e| e.user.password == from)
                else {
                    return Ok(false);
                };
                vec![Change::PutUser {
                    id: entry.user.id.clone(),
                    username,
                    password: to,
                    is_admin: entry.user.is_admin,
                }]
            }
            Op::RemoveUser { username, now } => {
                let entry = self.users.get(&username).ok_or(StoreError::UnknownUser)?;
                let revoke = entry
                    .user
                    .jwt_tokens
                    .iter()
                    .filter(|(_, t)| t.exp > now)
                    .map(|(id, t)| (id.clone(), t.exp))
                    .collect();
                vec![Change::RemoveUser { username, revoke }]
            }
            Op::Import(users) => {
                // A token id may be imported again for its owner (the same file twice), but
                // never for a second user: the store would no longer load.
                let mut importing: HashMap<&str, &str> = HashMap::new();
                for imported in &users {
                    let username = imported.user.username.as_str();
                    for (id, _) in &imported.tokens {
                        let clash = match importing.insert(id, username) {
                            Some(other) if other != username => Some(other.to_owned()),
                            _ => self.other_owner(username, id).map(str::to_owned),
                        };
                        if let Some(other) = clash {
                            return Err(StoreError::Corrupt(format!(
                                "the token id \"{id}\" of \"{username}\" already belongs to \"{other}\"; nothing was imported"
                            )));
                        }
                    }
                }
                import_changes(self, users)
            }
        };
        for change in &changes {
            self.apply(change.clone());
        }
        out.extend(changes);
        Ok(true)
    }

    /// Applies a change blindly: the check happened when it was first made.
    fn apply(&mut self, change: Change) {
        match change {
            Change::PutToken { user, id, token } => {
                if let Some(entry) = self.users.get_mut(&user) {
                    *entry
                        .descriptions
                        .entry(token.jwt_token_description.clone())
                        .or_insert(0) += 1;
                    if let Some(old) = entry.user.jwt_tokens.insert(id, token) {
                        entry.forget_description(&old.jwt_token_description);
                    }
                }
            }
            Change::DeleteToken {
                user,
                id,
                revoke_until,
            } => {
                if let Some(entry) = self.users.get_mut(&user)
                    && let Some(old) = entry.user.jwt_tokens.remove(&id)
                {
                    entry.forget_description(&old.jwt_token_description);
                }
                if let Some(exp) = revoke_until {
                    self.revoked.insert(id, exp);
                }
            }
            Change::PutUser {
                id,
                username,
                password,
                is_admin,
            } => match self.users.get_mut(&username) {
                Some(entry) => {
                    entry.user.id = id;
                    entry.user.password = password;
                    entry.user.is_admin = is_admin;
                }
                None => self.insert_user(StoredUser {
                    id,
                    username,
                    password,
                    is_admin,
                    jwt_tokens: BTreeMap::new(),
                }),
            },
            Change::RemoveUser { username, revoke } => {
                self.users.remove(&username);
                self.revoked.extend(revoke);
            }
            Change::Compacted => {}
        }
    }
}

impl UserEntry {
    fn forget_description(&mut self, description: &str) {
        if let Some(count) = self.descriptions.get_mut(description) {
            *count -= 1;
            if *count == 0 {
                self.descriptions.remove(description);
            }
        }
    }
}

fn put_user(new: NewUser) -> Change {
    Change::PutUser {
        id: if new.username == "admin" {
            "admin".into()
        } else {
            random_id()
        },
        username: new.username,
        password: new.password,
        is_admin: new.is_admin,
    }
}

fn import_changes(state: &State, users: Vec<ImportedUser>) -> Vec<Change> {
    let mut changes = Vec::new();
    for ImportedUser { user, tokens } in users {
        let username = user.username.clone();
        let id = state.users.get(&username).map(|u| u.user.id.clone());
        let mut put = put_user(user);
        if let (Change::PutUser { id: put_id, .. }, Some(id)) = (&mut put, id) {
            *put_id = id;
        }
        changes.push(put);
        for (id, token) in tokens {
            changes.push(Change::PutToken {
                user: username.clone(),
                id,
                token,
            });
        }
    }
    changes
}

fn random_id() -> String {
    let mut bytes = [0u8; 8];
    // Without randomness the id is still unique enough: it only names a user in the file.
    let _ = getrandom::fill(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn file_id(path: &Path) -> Result<Option<FileId>, StoreError> {
    match std::fs::metadata(path) {
        Ok(meta) => Ok(Some(FileId {
            ino: meta.ino(),
            len: meta.len(),
            mtime: (meta.mtime(), meta.mtime_nsec()),
        })),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(err) => Err(io_error("cannot stat", path, &err)),
    }
}

/// An existing data folder that group or others may write is made `0700` (with a warning)
/// when this process may change its mode, and refused otherwise: anyone who can write in it
/// can replace `users.json` or the keys. Store files readable or writable by others are
/// made `0600`.
fn private_folder(dir: &Path) -> Result<(), StoreError> {
    use std::os::unix::fs::PermissionsExt;
    let meta = std::fs::metadata(dir).map_err(|err| io_error("cannot stat", dir, &err))?;
    if !meta.is_dir() {
        return Err(StoreError::Io(format!("{} is not a folder", dir.display())));
    }
    let mode = meta.permissions().mode() & 0o7777;
    if mode & 0o022 != 0 {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(|err| {
            StoreError::Io(format!(
                "the data folder {} can be written by {} (mode {mode:o}) and its mode cannot \
                 be changed ({err}): make it private to the server's user (chmod 700) or use \
                 another folder",
                dir.display(),
                if mode & 0o002 != 0 {
                    "anyone"
                } else {
                    "its group"
                },
            ))
        })?;
        tracing::warn!(
            folder = %dir.display(),
            was = format!("{mode:o}"),
            "the data folder could be written by others: made it 0700"
        );
    }
    for name in [
        USERS_FILE,
        JOURNAL_FILE,
        OLD_JOURNAL_FILE,
        REVOKED_FILE,
        LOCK_FILE,
        COMPACT_LOCK_FILE,
        crate::secrets::HS256_FILE,
        crate::secrets::ED25519_FILE,
    ] {
        let path = dir.join(name);
        let Ok(meta) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        let mode = meta.permissions().mode() & 0o7777;
        if meta.is_file() && mode & 0o077 != 0 {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))
                .map_err(|err| io_error("cannot make private (chmod 600)", &path, &err))?;
            tracing::warn!(
                file = %path.display(),
                was = format!("{mode:o}"),
                "a store file could be read or written by others: made it 0600"
            );
        }
    }
    Ok(())
}

/// Replaces `dir/name` with `bytes` so that a reader sees the old file or the new one,
/// never a part: temporary file (mode 0600), `fsync`, rename, `fsync` of the folder.
pub(crate) fn write_atomic(dir: &Path, name: &str, bytes: &[u8]) -> Result<(), StoreError> {
    let target = dir.join(name);
    let temp = write_temp(dir, name, bytes)?;
    if let Err(err) = std::fs::rename(&temp, &target) {
        let _ = std::fs::remove_file(&temp);
        return Err(io_error("cannot write", &target, &err));
    }
    sync_dir(dir)
}

/// A temporary file (mode 0600) beside `dir/name` holding `bytes`, flushed to disk.
fn write_temp(dir: &Path, name: &str, bytes: &[u8]) -> Result<PathBuf, StoreError> {
    let temp = dir.join(format!(
        ".{name}.tmp-{}-{}",
        std::process::id(),
        random_id()
    ));
    let write = || -> std::io::Result<()> {
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&temp)?;
        file.write_all(bytes)?;
        file.sync_all()
    };
    match write() {
        Ok(()) => Ok(temp),
        Err(err) => {
            let _ = std::fs::remove_file(&temp);
            Err(io_error("cannot write", &dir.join(name), &err))
        }
    }
}

pub(crate) fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|err| io_error("cannot sync", dir, &err))
}

fn io_error(what: &str, path: &Path, err: &std::io::Error) -> StoreError {
    StoreError::Io(format!("{what} {}: {err}", path.display()))
}

#[cfg(test)]
mod tests;
