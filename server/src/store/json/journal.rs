//! The journal and group commit: one committer thread per process takes every change
//! waiting, checks and applies them under the exclusive lock, appends one line each and
//! `fsync`s once, then answers them all.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::{Arc, mpsc};

use super::format::{self, JOURNAL_FILE, io_error};
use super::{Inner, Io, Pending};
use crate::store::state::Change;
use crate::store::{Op, StoreError};

/// The most changes one `fsync` carries.
const MAX_BATCH: usize = 4096;

/// The complete lines of the journal at `path` from byte `from` on, and where they end
/// (no changes and 0 when the file does not exist).
pub(super) fn read(path: &Path, from: u64) -> Result<(Vec<Change>, u64), StoreError> {
    let mut file = match File::open(path) {
        Ok(file) => file,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok((Vec::new(), 0)),
        Err(err) => return Err(io_error("cannot open", path, &err)),
    };
    let mut bytes = Vec::new();
    file.seek(SeekFrom::Start(from))
        .and_then(|_| file.read_to_end(&mut bytes))
        .map_err(|err| io_error("cannot read", path, &err))?;
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

/// The journal lines of `changes`.
pub(super) fn encode(changes: &[Change]) -> Result<Vec<u8>, StoreError> {
    let mut buf = Vec::with_capacity(changes.len() * 256);
    for change in changes {
        serde_json::to_writer(&mut buf, change)
            .map_err(|err| StoreError::Io(format!("cannot encode a change: {err}")))?;
        buf.push(b'\n');
    }
    Ok(buf)
}

impl Inner {
    pub(super) fn run_committer(self: &Arc<Self>, queue: &mpsc::Receiver<Pending>) {
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
        let started = std::time::Instant::now();
        let count = ops.len();
        let mut io = self.io_guard();
        let held = match self.locks.exclusive() {
            Ok(held) => held,
            Err(err) => {
                self.write_failed(Some(&err));
                return vec![Err(err); count];
            }
        };
        let locked = started.elapsed();
        let results = self.commit_locked(&mut io, ops);
        self.writing.store(false, Ordering::Release);
        drop(held);
        let took = started.elapsed();
        if took.as_millis() >= 20 {
            tracing::debug!(
                count,
                wait_ms = locked.as_millis() as u64,
                total_ms = took.as_millis() as u64,
                "slow commit"
            );
        }
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
            let mut random = format::random_bytes;
            ops.into_iter()
                .map(|op| state.check_and_apply(op, &mut random, &mut changes))
                .collect()
        };
        if changes.is_empty() {
            return results;
        }
        if let Err(err) = encode(&changes).and_then(|lines| self.append(io, &lines)) {
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

    /// Appends `lines` to the journal and `fsync`s it.
    fn append(&self, io: &mut Io, lines: &[u8]) -> Result<(), StoreError> {
        let path = &self.journal_path;
        if io.journal.is_none() {
            let existed = path.exists();
            let file = OpenOptions::new()
                .append(true)
                .create(true)
                .mode(0o600)
                .open(path)
                .map_err(|err| io_error("cannot open", path, &err))?;
            if !existed {
                format::sync_dir(&self.dir)?;
                self.watch_journal();
            }
            io.journal = Some(file);
        }
        let Some(file) = io.journal.as_mut() else {
            return Err(StoreError::Io("the journal is not open".into()));
        };
        file.write_all(lines)
            .and_then(|()| file.sync_data())
            .map_err(|err| io_error("cannot write", path, &err))?;
        let meta = file
            .metadata()
            .map_err(|err| io_error("cannot stat", path, &err))?;
        let mut seen = self.seen.write().unwrap_or_else(|e| e.into_inner());
        seen.journal_ino = Some(meta.ino());
        seen.journal_len = meta.len();
        Ok(())
    }

    /// With the exclusive lock held, after catching up: cuts off a torn last line of the
    /// journal (one `stat` when there is none).
    pub(super) fn repair_tail(&self) -> Result<(), StoreError> {
        let path = self.path(JOURNAL_FILE);
        let Some(journal) = format::file_id(&path)? else {
            return Ok(());
        };
        let seen_len = self.seen().journal_len;
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
}
