//! Compaction, one path: the journal is set aside as `users.journal.old` (and a new one
//! started) under the exclusive lock, which takes a rename and an empty file; then
//! [`fold`] reads `users.json`, `revoked.json` and the old journal from disk, replays it
//! and writes the new snapshot to temporary files, holding no lock, and [`Inner::place`]
//! renames them in and removes the old journal under the exclusive lock, briefly.
//!
//! After a commit this runs on a thread of its own, so creates go on meanwhile (the state
//! in memory is never copied for it); `checkpoint` runs the same steps in the foreground.
//! Only the holder of `compact.lock` compacts, so the files it reads do not change under
//! it; a compaction a dead process left (an old journal without a compactor) is finished
//! by the next one.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use super::format::{self, JOURNAL_FILE, OLD_JOURNAL_FILE, REVOKED_FILE, USERS_FILE, io_error};
use super::{Inner, Io, journal};
use crate::store::StoreError;

/// Compact when the journal is larger than this and than half the snapshot.
const MIN_COMPACT_BYTES: u64 = 1 << 20;

/// The new snapshot, written and flushed, waiting to be renamed in.
pub(super) struct Folded {
    users: PathBuf,
    revoked: PathBuf,
    bytes: usize,
}

impl Folded {
    fn discard(&self) {
        let _ = std::fs::remove_file(&self.users);
        let _ = std::fs::remove_file(&self.revoked);
    }
}

/// The snapshot of `dir` with its old journal replayed, written to temporary files;
/// revocations of tokens expired at `now` are left out.
fn fold(dir: &std::path::Path, now: i64) -> Result<Folded, StoreError> {
    let (mut state, _) = format::read_snapshot(dir)?;
    let (changes, _) = journal::read(&dir.join(OLD_JOURNAL_FILE), 0)?;
    for change in changes {
        state.apply(change);
    }
    let (users, revoked) = format::encode_snapshot(&state, now)?;
    let users_temp = format::write_temp(dir, USERS_FILE, &users)?;
    match format::write_temp(dir, REVOKED_FILE, &revoked) {
        Ok(revoked_temp) => Ok(Folded {
            users: users_temp,
            revoked: revoked_temp,
            bytes: users.len(),
        }),
        Err(err) => {
            let _ = std::fs::remove_file(&users_temp);
            Err(err)
        }
    }
}

impl Inner {
    /// With the exclusive lock held, after a commit: starts a compaction in the
    /// background when the journal has grown past half the snapshot (and 1 MiB), unless
    /// one is running (here or in another process).
    pub(super) fn maybe_compact(self: &Arc<Self>, io: &mut Io) -> Result<(), StoreError> {
        let seen = self.seen();
        let snapshot_len = seen.snapshot.map_or(0, |s| s.len);
        if seen.journal_len <= MIN_COMPACT_BYTES.max(snapshot_len / 2)
            || self.compacting.load(Ordering::Acquire)
            || !self.locks.try_compaction()
        {
            return Ok(());
        }
        // An old journal here is one a dead compactor left: fold it first; the journal
        // is set aside at the next commit past the threshold.
        if !self.path(OLD_JOURNAL_FILE).exists()
            && let Err(err) = self.set_aside(io)
        {
            self.locks.end_compaction();
            return Err(err);
        }
        let now = self.state.read().unwrap_or_else(|e| e.into_inner()).clock();
        self.compacting.store(true, Ordering::Release);
        let inner = Arc::clone(self);
        let spawned = std::thread::Builder::new()
            .name("tokenlife-compact".into())
            .spawn(move || {
                let result = fold(&inner.dir, now).and_then(|folded| {
                    let held = inner.locks.exclusive_own();
                    let placed = held.and_then(|_held| inner.place(&folded));
                    if placed.is_err() {
                        folded.discard();
                    }
                    placed
                });
                if let Err(err) = result {
                    // The old journal stays; the next compaction finishes the job.
                    tracing::error!(error = %err, "cannot compact the journal");
                }
                inner.locks.end_compaction();
                inner.compacting.store(false, Ordering::Release);
            });
        if let Err(err) = spawned {
            self.compacting.store(false, Ordering::Release);
            self.locks.end_compaction();
            return Err(StoreError::Io(format!(
                "cannot start the compaction: {err}"
            )));
        }
        Ok(())
    }

    /// With the exclusive lock held and caught up: folds everything into `users.json`
    /// now (an old journal a dead compactor left, then the live journal if it has any
    /// change), unless a compaction runs (here or in another process).
    pub(super) fn checkpoint_locked(&self, io: &mut Io, now: i64) -> Result<(), StoreError> {
        if self.compacting.load(Ordering::Acquire) || !self.locks.try_compaction() {
            return Ok(());
        }
        let result = (|| {
            for _ in 0..2 {
                if !self.path(OLD_JOURNAL_FILE).exists() {
                    if self.seen().journal_len == 0 {
                        break;
                    }
                    self.set_aside(io)?;
                }
                let folded = fold(&self.dir, now)?;
                if let Err(err) = self.place(&folded) {
                    folded.discard();
                    return Err(err);
                }
            }
            self.state
                .write()
                .unwrap_or_else(|e| e.into_inner())
                .prune_revoked(now);
            Ok(())
        })();
        self.locks.end_compaction();
        result
    }

    /// With the exclusive lock held: the journal becomes `users.journal.old` and an empty
    /// one takes its place.
    fn set_aside(&self, io: &mut Io) -> Result<(), StoreError> {
        // Readers of other processes watch the journal: make it change before it goes.
        let open = match io.journal.take() {
            Some(file) => Some(file),
            None => OpenOptions::new()
                .append(true)
                .open(&self.journal_path)
                .ok(),
        };
        if let Some(mut file) = open {
            let _ = file.write_all(b"{\"op\":\"compacted\"}\n");
        }
        std::fs::rename(&self.journal_path, self.path(OLD_JOURNAL_FILE))
            .map_err(|err| io_error("cannot set aside", &self.journal_path, &err))?;
        format::write_atomic(&self.dir, JOURNAL_FILE, b"")?;
        self.watch_journal();
        let journal = format::file_id(&self.journal_path)?;
        let mut seen = self.seen.write().unwrap_or_else(|e| e.into_inner());
        seen.journal_ino = journal.map(|j| j.ino);
        seen.journal_len = 0;
        Ok(())
    }

    /// With the exclusive lock held: puts a folded snapshot in place and removes the old
    /// journal. The state in memory is the same data, now as snapshot plus journal.
    fn place(&self, folded: &Folded) -> Result<(), StoreError> {
        std::fs::rename(&folded.revoked, self.path(REVOKED_FILE))
            .map_err(|err| io_error("cannot replace", &self.path(REVOKED_FILE), &err))?;
        std::fs::rename(&folded.users, self.path(USERS_FILE))
            .map_err(|err| io_error("cannot replace", &self.path(USERS_FILE), &err))?;
        match std::fs::remove_file(self.path(OLD_JOURNAL_FILE)) {
            Err(err) if err.kind() != std::io::ErrorKind::NotFound => {
                return Err(io_error(
                    "cannot remove",
                    &self.path(OLD_JOURNAL_FILE),
                    &err,
                ));
            }
            _ => format::sync_dir(&self.dir)?,
        }
        let snapshot = format::file_id(&self.path(USERS_FILE))?;
        self.seen
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .snapshot = snapshot;
        tracing::debug!(
            bytes = folded.bytes,
            "compacted the journal into users.json"
        );
        Ok(())
    }
}
