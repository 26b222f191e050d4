//! The audit trail of the JSON store: one JSON line per event in `audit.jsonl` (mode
//! 0600) in the data folder, appended and `fsync`ed one batch at a time. Past
//! `rotate_bytes` the file is set aside as `audit.1.jsonl` (the older ones move up:
//! `audit.1.jsonl` becomes `audit.2.jsonl`, ...) and a new one started. Retention
//! ([`AuditLog::expire`]) rewrites or deletes the files that hold older events.
//!
//! `audit.lock` (an OS `flock`) is held exclusively to append, rotate or expire, and
//! shared to read, so that servers and commands on the same folder take turns. A line cut
//! short by a crash is skipped when read, and the next append starts a new line.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use super::{AuditLog, Event, Query};
use crate::store::json::format::{io_error, sync_dir};
use crate::store::{StoreError, StoreFuture};

/// The current file.
pub const AUDIT_FILE: &str = "audit.jsonl";
/// The lock between processes.
pub const AUDIT_LOCK_FILE: &str = "audit.lock";
/// The default size past which `audit.jsonl` is rotated: 16 MiB.
pub const DEFAULT_ROTATE_BYTES: u64 = 16 * 1024 * 1024;

/// The audit trail of one data folder.
pub struct JsonAudit {
    dir: PathBuf,
    rotate_bytes: u64,
}

/// A held `flock`, released when dropped.
struct Held(File);

impl Drop for Held {
    fn drop(&mut self) {
        let _ = self.0.unlock();
    }
}

impl JsonAudit {
    /// The trail of `dir` (created, mode 0700, if missing), rotated past `rotate_bytes`.
    ///
    /// # Errors
    ///
    /// When the folder or the lock file cannot be made.
    pub fn open(dir: &Path, rotate_bytes: u64) -> Result<JsonAudit, StoreError> {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|err| io_error("cannot create", dir, &err))?;
        let audit = JsonAudit {
            dir: dir.to_path_buf(),
            rotate_bytes: rotate_bytes.max(1),
        };
        drop(audit.lock(false)?);
        Ok(audit)
    }

    fn lock(&self, exclusive: bool) -> Result<Held, StoreError> {
        let path = self.dir.join(AUDIT_LOCK_FILE);
        let file = open_private(&path, false)?;
        let locked = if exclusive {
            file.lock()
        } else {
            file.lock_shared()
        };
        locked.map_err(|err| io_error("cannot lock", &path, &err))?;
        Ok(Held(file))
    }

    /// The rotated files' numbers, highest (oldest) first.
    fn rotated(&self) -> Result<Vec<u32>, StoreError> {
        let entries =
            std::fs::read_dir(&self.dir).map_err(|err| io_error("cannot read", &self.dir, &err))?;
        let mut numbers: Vec<u32> = entries
            .filter_map(|entry| entry.ok())
            .filter_map(|entry| {
                let name = entry.file_name();
                let name = name.to_str()?;
                name.strip_prefix("audit.")?
                    .strip_suffix(".jsonl")?
                    .parse()
                    .ok()
            })
            .collect();
        numbers.sort_unstable_by(|a, b| b.cmp(a));
        Ok(numbers)
    }

    fn rotated_path(&self, n: u32) -> PathBuf {
        self.dir.join(format!("audit.{n}.jsonl"))
    }

    /// Every file of the trail, oldest first.
    fn files(&self) -> Result<Vec<PathBuf>, StoreError> {
        let mut files: Vec<PathBuf> = self
            .rotated()?
            .into_iter()
            .map(|n| self.rotated_path(n))
            .collect();
        files.push(self.dir.join(AUDIT_FILE));
        Ok(files)
    }

    fn append_locked(&self, events: &[Event]) -> Result<(), StoreError> {
        let path = self.dir.join(AUDIT_FILE);
        let mut file = open_private(&path, true)?;
        let mut text = Vec::new();
        // A line cut short by a crash stays one bad line, not two.
        if ends_mid_line(&mut file).map_err(|err| io_error("cannot read", &path, &err))? {
            text.push(b'\n');
        }
        for event in events {
            serde_json::to_writer(&mut text, event)
                .map_err(|err| StoreError::Io(format!("cannot write an audit event: {err}")))?;
            text.push(b'\n');
        }
        file.write_all(&text)
            .and_then(|()| file.sync_data())
            .map_err(|err| io_error("cannot write", &path, &err))?;
        let size = file
            .metadata()
            .map_err(|err| io_error("cannot read", &path, &err))?
            .len();
        if size > self.rotate_bytes {
            self.rotate_locked()?;
        }
        Ok(())
    }

    /// `audit.N.jsonl` → `audit.N+1.jsonl` from the oldest down, then `audit.jsonl` →
    /// `audit.1.jsonl`; the next append starts a new `audit.jsonl`.
    fn rotate_locked(&self) -> Result<(), StoreError> {
        for n in self.rotated()? {
            let (from, to) = (self.rotated_path(n), self.rotated_path(n + 1));
            std::fs::rename(&from, &to).map_err(|err| io_error("cannot rename", &from, &err))?;
        }
        let current = self.dir.join(AUDIT_FILE);
        let first = self.rotated_path(1);
        std::fs::rename(&current, &first)
            .map_err(|err| io_error("cannot rename", &current, &err))?;
        sync_dir(&self.dir)
    }

    fn expire_locked(&self, cutoff: i64) -> Result<u64, StoreError> {
        let mut dropped = 0u64;
        for path in self.files()? {
            let Some(lines) = read_lines(&path)? else {
                continue;
            };
            let total = lines.len();
            let kept: Vec<&String> = lines
                .iter()
                .filter(|line| parse(line).is_some_and(|event| event.time >= cutoff))
                .collect();
            if kept.len() == total {
                continue;
            }
            dropped += (total - kept.len()) as u64;
            let is_current = path.ends_with(AUDIT_FILE);
            if kept.is_empty() && !is_current {
                std::fs::remove_file(&path)
                    .map_err(|err| io_error("cannot remove", &path, &err))?;
                continue;
            }
            let temp = path.with_extension("jsonl.tmp");
            let mut file = OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .mode(0o600)
                .open(&temp)
                .map_err(|err| io_error("cannot create", &temp, &err))?;
            let mut text = String::new();
            for line in kept {
                text.push_str(line);
                text.push('\n');
            }
            file.write_all(text.as_bytes())
                .and_then(|()| file.sync_all())
                .map_err(|err| io_error("cannot write", &temp, &err))?;
            std::fs::rename(&temp, &path).map_err(|err| io_error("cannot rename", &temp, &err))?;
        }
        sync_dir(&self.dir)?;
        Ok(dropped)
    }

    fn page_locked(&self, query: &Query) -> Result<Vec<Event>, StoreError> {
        let mut events = Vec::new();
        for path in self.files()? {
            let Some(lines) = read_lines(&path)? else {
                continue;
            };
            events.extend(
                lines
                    .iter()
                    .filter_map(|line| parse(line))
                    .filter(|e| query.matches(e)),
            );
        }
        events.sort_unstable_by(|a, b| (b.time, &b.id).cmp(&(a.time, &a.id)));
        events.dedup_by(|a, b| a.id == b.id);
        events.truncate(query.limit);
        Ok(events)
    }

    fn blocking<T: Send + 'static>(
        self: &JsonAudit,
        work: impl FnOnce(&JsonAudit) -> Result<T, StoreError> + Send + 'static,
    ) -> StoreFuture<'_, T> {
        let this = JsonAudit {
            dir: self.dir.clone(),
            rotate_bytes: self.rotate_bytes,
        };
        Box::pin(async move {
            tokio::task::spawn_blocking(move || work(&this))
                .await
                .map_err(|err| StoreError::Io(format!("the audit writer failed: {err}")))?
        })
    }
}

impl AuditLog for JsonAudit {
    fn append(&self, events: Vec<Event>) -> StoreFuture<'_, ()> {
        self.blocking(move |this| {
            if events.is_empty() {
                return Ok(());
            }
            let _held = this.lock(true)?;
            this.append_locked(&events)
        })
    }

    fn page(&self, query: Query) -> StoreFuture<'_, Vec<Event>> {
        self.blocking(move |this| {
            let _held = this.lock(false)?;
            this.page_locked(&query)
        })
    }

    fn expire(&self, cutoff: i64) -> StoreFuture<'_, u64> {
        self.blocking(move |this| {
            let _held = this.lock(true)?;
            this.expire_locked(cutoff)
        })
    }
}

/// Opens `path` for appending (or read and write, for the lock), creating it mode 0600.
fn open_private(path: &Path, append: bool) -> Result<File, StoreError> {
    let mut options = OpenOptions::new();
    if append {
        options.read(true).append(true);
    } else {
        options.read(true).write(true);
    }
    options
        .create(true)
        .mode(0o600)
        .open(path)
        .map_err(|err| io_error("cannot open", path, &err))
}

/// Whether a non-empty file's last byte is not a newline.
fn ends_mid_line(file: &mut File) -> std::io::Result<bool> {
    let size = file.metadata()?.len();
    if size == 0 {
        return Ok(false);
    }
    file.seek(SeekFrom::Start(size - 1))?;
    let mut last = [0u8; 1];
    file.read_exact(&mut last)?;
    Ok(last[0] != b'\n')
}

/// The lines of a file, `None` when it does not exist.
fn read_lines(path: &Path) -> Result<Option<Vec<String>>, StoreError> {
    let file = match File::open(path) {
        Ok(file) => file,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(err) => return Err(io_error("cannot open", path, &err)),
    };
    let mut lines = Vec::new();
    for line in BufReader::new(file).split(b'\n') {
        let line = line.map_err(|err| io_error("cannot read", path, &err))?;
        // A line that is not UTF-8 is not an event; it is skipped like one cut short.
        if let Ok(line) = String::from_utf8(line)
            && !line.trim().is_empty()
        {
            lines.push(line);
        }
    }
    Ok(Some(lines))
}

/// An event line; `None` for a line that is not one (cut short by a crash).
fn parse(line: &str) -> Option<Event> {
    serde_json::from_str(line).ok()
}
