//! The embedded store: `users.json` (a snapshot in Specter's layout) plus `users.journal`
//! (one JSON line per change since the snapshot) and `revoked.json`, in one data folder.
//! The rules are [`State`]'s; this module and its parts only keep the files:
//!
//! - `format.rs`: the files, read into a `State` and written from one, replaced whole;
//! - `lock.rs`: the `flock`s between processes;
//! - `journal.rs`: group commit. A write takes the folder's OS lock (`users.lock`), catches
//!   up with what other processes wrote, checks and applies its changes in memory, appends
//!   one line per change to the journal and `fsync`s it: one `fsync` for every change that
//!   was waiting (one committer thread per process);
//! - `compaction.rs`: when the journal grows past half the snapshot (and 1 MiB) it is set
//!   aside as `users.journal.old` and a new one started, and a thread folds the old one
//!   into a new `users.json` read from the files, not from memory (the one compaction
//!   path; `checkpoint` runs it in the foreground). Replaying a change is idempotent, so a
//!   crash at any step loses nothing and doubles nothing.
//!
//! Before each read, one `fstat` of the journal tells whether another process appended
//! (its length grew) or compacted (a new file); only then is the tail replayed or
//! everything reloaded, under a shared lock. The store never reads the clock: operations
//! carry their time, and compactions forget revocations expired at the latest of them.

use std::fs::File;
use std::os::unix::fs::{DirBuilderExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock, mpsc};

use tokenlife_core::TokenRecord;

use super::keys;
use super::state::State;
use super::{Dump, Op, PasswordRecord, Store, StoreError, StoreFuture, UserSummary};

mod compaction;
pub(crate) mod format;
mod journal;
mod lock;

use format::{FileId, JOURNAL_FILE, OLD_JOURNAL_FILE, REVOKED_FILE, USERS_FILE, file_id, io_error};
use lock::Locks;

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
    /// Serialises this process's disk work and its use of `locks`' shared handle; holds
    /// the journal's append handle.
    io: Mutex<Io>,
    locks: Locks,
    /// True while this process holds the exclusive lock to write: no other process can
    /// change the files then, so readers need not wait for it.
    writing: AtomicBool,
    /// True while this process compacts in the background.
    compacting: AtomicBool,
    /// Why the last write failed, until a write succeeds: readiness reports it.
    write_failure: Mutex<Option<StoreError>>,
    /// The keyring file as last read, and which version of the file that was.
    keyring: Mutex<Option<(FileId, keys::Keyring)>>,
}

struct Io {
    journal: Option<File>,
}

type Pending = (Op, tokio::sync::oneshot::Sender<Result<bool, StoreError>>);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Seen {
    snapshot: Option<FileId>,
    journal_ino: Option<u64>,
    /// Bytes of the journal replayed: always the end of a complete line.
    journal_len: u64,
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
            format::private_folder(dir)?;
        } else {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
                .map_err(|err| io_error("cannot create the data folder", dir, &err))?;
        }
        let inner = Inner {
            dir: dir.to_path_buf(),
            journal_path: dir.join(JOURNAL_FILE),
            watch: RwLock::new(None),
            state: RwLock::new(State::default()),
            seen: RwLock::new(Seen::default()),
            io: Mutex::new(Io { journal: None }),
            locks: Locks::open(dir)?,
            writing: AtomicBool::new(false),
            compacting: AtomicBool::new(false),
            write_failure: Mutex::new(None),
            keyring: Mutex::new(None),
        };
        {
            let mut io = inner.io_guard();
            let _held = inner.locks.exclusive()?;
            inner.begin_or_check_snapshot()?;
            inner.reload(&mut io)?;
            inner.repair_tail()?;
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

    /// Whether `dir` holds a JSON store's data (a `users.json` or a journal).
    pub fn holds_data(dir: &Path) -> bool {
        dir.join(USERS_FILE).exists() || dir.join(JOURNAL_FILE).exists()
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

    /// Folds the journal into `users.json` now if it has any change (and finishes a
    /// compaction a dead process left), forgetting revocations expired at `now`, so that
    /// `users.json` is complete and the next start replays little. Skipped while another
    /// compaction runs (it does the same).
    ///
    /// # Errors
    ///
    /// When the lock, a read or a write fails.
    pub fn checkpoint_at(&self, now: i64) -> Result<(), StoreError> {
        let inner = &self.inner;
        let mut io = inner.io_guard();
        let _held = inner.locks.exclusive()?;
        inner.catch_up(&mut io)?;
        inner.checkpoint_locked(&mut io, now)
    }

    /// Everything the folder holds (users with their ids and tokens, unexpired revoked
    /// ids, the key files that exist), for `tokenlife migrate`.
    ///
    /// # Errors
    ///
    /// When the folder cannot be read or a key file does not parse.
    pub fn dump(&self, now: i64) -> Result<Dump, StoreError> {
        let mut dump = self.read(|s| s.dump(now))?;
        for name in keys::NAMES {
            if let Some(key) = keys::existing(&self.inner.dir, name)? {
                dump.keys.push((name.to_owned(), key));
            }
        }
        dump.specter_key = keys::specter(&self.inner.dir)?;
        Ok(dump)
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
        let result = self.read(|s| s.password(username).cloned());
        Box::pin(std::future::ready(result))
    }

    fn tokens(&self, username: &str) -> StoreFuture<'_, Vec<(String, TokenRecord)>> {
        let result = self.read(|s| s.tokens(username));
        Box::pin(std::future::ready(result))
    }

    fn token(&self, username: &str, id: &str) -> StoreFuture<'_, Option<TokenRecord>> {
        let result = self.read(|s| s.token(username, id).cloned());
        Box::pin(std::future::ready(result))
    }

    fn holds(&self, username: &str, id: &str, fingerprint: &str) -> StoreFuture<'_, Option<bool>> {
        let result = self.read(|s| s.holds(username, id, fingerprint));
        Box::pin(std::future::ready(result))
    }

    fn is_revoked(&self, id: &str, now: i64) -> StoreFuture<'_, bool> {
        let result = self.read(|s| s.is_revoked(id, now));
        Box::pin(std::future::ready(result))
    }

    fn revoked(&self, now: i64) -> StoreFuture<'_, Vec<(String, i64)>> {
        let result = self.read(|s| s.unexpired_revoked(now));
        Box::pin(std::future::ready(result))
    }

    fn users(&self) -> StoreFuture<'_, Vec<UserSummary>> {
        let result = self.read(State::users);
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
        Box::pin(std::future::ready(keys::get_or_make(&self.inner.dir, name)))
    }

    fn has_signing_key(&self, name: &str) -> StoreFuture<'_, bool> {
        Box::pin(std::future::ready(
            keys::existing(&self.inner.dir, name).map(|key| key.is_some()),
        ))
    }

    fn keyring(&self) -> StoreFuture<'_, keys::Keyring> {
        Box::pin(std::future::ready(self.inner.keyring()))
    }

    fn save_keyring(&self, expected: u64, ring: Vec<keys::KeyEntry>) -> StoreFuture<'_, bool> {
        Box::pin(std::future::ready(keys::save_keyring(
            &self.inner.dir,
            expected,
            ring,
        )))
    }

    fn specter_key(&self) -> StoreFuture<'_, Option<Vec<u8>>> {
        Box::pin(std::future::ready(keys::specter(&self.inner.dir)))
    }

    fn set_specter_key(&self, key: &[u8]) -> StoreFuture<'_, ()> {
        Box::pin(std::future::ready(keys::set_specter(&self.inner.dir, key)))
    }

    fn checkpoint(&self, now: i64) -> StoreFuture<'_, ()> {
        Box::pin(std::future::ready(self.checkpoint_at(now)))
    }

    fn close(&self) {
        JsonStore::close(self);
    }

    fn describe(&self) -> String {
        self.inner.dir.display().to_string()
    }

    fn journal_bytes(&self) -> Option<u64> {
        std::fs::metadata(&self.inner.journal_path)
            .ok()
            .map(|meta| meta.len())
    }
}

impl Inner {
    /// The keyring file's keys: one `stat` when the file is the version read last (every
    /// create asks, to sign with the current key), read and parsed again only when it
    /// changed (a rotation replaces it whole: a new inode). A file replaced between the
    /// `stat` and the read is newer than its recorded version, so the next call reads it.
    fn keyring(&self) -> Result<keys::Keyring, StoreError> {
        let Some(id) = format::file_id(&self.dir.join(keys::KEYRING_FILE))? else {
            return Ok(keys::Keyring::default());
        };
        let mut cached = self.keyring.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((seen, ring)) = cached.as_ref()
            && *seen == id
        {
            return Ok(ring.clone());
        }
        let ring = keys::keyring(&self.dir)?;
        *cached = Some((id, ring.clone()));
        Ok(ring)
    }

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

    fn seen(&self) -> Seen {
        *self.seen.read().unwrap_or_else(|e| e.into_inner())
    }

    /// With the exclusive lock held, at open: a new folder gets an empty `users.json` at
    /// once, so that from then on a folder without one has lost it. A folder that holds
    /// the store's other files (keys, journal, revoked list) but no `users.json` is
    /// refused: taking it for a new store would drop every user and print a new admin
    /// password.
    fn begin_or_check_snapshot(&self) -> Result<(), StoreError> {
        if file_id(&self.path(USERS_FILE))?.is_some() {
            return Ok(());
        }
        let mut found = Vec::new();
        for name in [
            JOURNAL_FILE,
            OLD_JOURNAL_FILE,
            REVOKED_FILE,
            keys::HS256_FILE,
            keys::ED25519_FILE,
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
        format::write_atomic(&self.dir, USERS_FILE, b"[]\n")
    }

    /// Brings `state` up to date with the files if another process changed them.
    fn refresh(&self) -> Result<(), StoreError> {
        if self.writing.load(Ordering::Acquire) || self.up_to_date()? {
            return Ok(());
        }
        let mut io = self.io_guard();
        let _held = self.locks.shared()?;
        self.catch_up(&mut io)
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
            Some(Ok(meta)) => Some((meta.ino(), meta.len())),
            Some(Err(err)) => return Err(io_error("cannot stat", &self.journal_path, &err)),
            None => file_id(&self.journal_path)?.map(|j| (j.ino, j.len)),
        };
        let seen = self.seen();
        Ok(journal.map(|j| j.0) == seen.journal_ino
            && journal.map_or(0, |j| j.1) == seen.journal_len)
    }

    /// With the lock held: replays what others appended, or reloads after a compaction.
    fn catch_up(&self, io: &mut Io) -> Result<(), StoreError> {
        let snapshot = file_id(&self.path(USERS_FILE))?;
        let journal = file_id(&self.journal_path)?;
        let seen = self.seen();
        if snapshot != seen.snapshot || journal.map(|j| j.ino) != seen.journal_ino {
            return self.reload(io);
        }
        match journal {
            Some(j) if j.len > seen.journal_len => {
                let (changes, consumed) = journal::read(&self.journal_path, seen.journal_len)?;
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
        let (mut state, snapshot) = format::read_snapshot(&self.dir)?;
        let journal = file_id(&self.journal_path)?;
        // A journal being folded in by a compaction comes before the live one.
        let (old_changes, _) = journal::read(&self.path(OLD_JOURNAL_FILE), 0)?;
        let (changes, consumed) = journal::read(&self.journal_path, 0)?;
        let replayed = !old_changes.is_empty() || !changes.is_empty();
        for change in old_changes.into_iter().chain(changes) {
            state.apply(change);
        }
        if replayed {
            state.check_token_ids(&format!(
                "{} after replaying {}",
                self.path(USERS_FILE).display(),
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
}

#[cfg(test)]
mod tests;
