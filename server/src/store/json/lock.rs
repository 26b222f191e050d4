//! The two lock files of a data folder (OS `flock`s, released when a process dies):
//!
//! - `users.lock`: held exclusively by a process writing (its committer, or a compaction
//!   putting a new snapshot in place) and shared by a process catching up with the files;
//! - `compact.lock`: held by the one process compacting, for as long as it compacts.

use std::fs::{File, OpenOptions};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use super::format::{COMPACT_LOCK_FILE, LOCK_FILE, io_error};
use crate::store::StoreError;

/// The lock files of one folder, opened once.
pub struct Locks {
    path: PathBuf,
    /// The handle the committer and the readers of this process lock (they take turns on
    /// the store's `io` mutex).
    file: File,
    compact_path: PathBuf,
    compact: File,
}

/// A held lock on `users.lock`, released when dropped.
pub struct Held<'a>(&'a File);

impl Drop for Held<'_> {
    fn drop(&mut self) {
        let _ = self.0.unlock();
    }
}

/// An exclusive lock on `users.lock` through a handle of its own, so that it also keeps
/// out this process's committer; released when dropped.
pub struct HeldOwn(File);

impl Drop for HeldOwn {
    fn drop(&mut self) {
        let _ = self.0.unlock();
    }
}

fn open(path: &Path) -> Result<File, StoreError> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(path)
        .map_err(|err| io_error("cannot open", path, &err))
}

impl Locks {
    /// Opens (creating, mode 0600) the lock files of `dir`.
    pub fn open(dir: &Path) -> Result<Locks, StoreError> {
        let path = dir.join(LOCK_FILE);
        let compact_path = dir.join(COMPACT_LOCK_FILE);
        Ok(Locks {
            file: open(&path)?,
            compact: open(&compact_path)?,
            path,
            compact_path,
        })
    }

    /// Waits for and takes `users.lock` exclusively (writers).
    pub fn exclusive(&self) -> Result<Held<'_>, StoreError> {
        self.file
            .lock()
            .map_err(|err| io_error("cannot lock", &self.path, &err))?;
        Ok(Held(&self.file))
    }

    /// Waits for and takes `users.lock` shared (readers catching up).
    pub fn shared(&self) -> Result<Held<'_>, StoreError> {
        self.file
            .lock_shared()
            .map_err(|err| io_error("cannot lock", &self.path, &err))?;
        Ok(Held(&self.file))
    }

    /// Waits for and takes `users.lock` exclusively through a new handle.
    pub fn exclusive_own(&self) -> Result<HeldOwn, StoreError> {
        let file =
            File::open(&self.path).map_err(|err| io_error("cannot open", &self.path, &err))?;
        file.lock()
            .map_err(|err| io_error("cannot lock", &self.path, &err))?;
        Ok(HeldOwn(file))
    }

    /// Takes `compact.lock` if no process holds it; `false` when one does.
    pub fn try_compaction(&self) -> bool {
        self.compact.try_lock().is_ok()
    }

    /// Releases `compact.lock`.
    pub fn end_compaction(&self) {
        if let Err(err) = self.compact.unlock() {
            tracing::warn!(file = %self.compact_path.display(), %err, "cannot unlock");
        }
    }
}
