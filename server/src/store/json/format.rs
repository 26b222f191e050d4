//! The JSON store's files on disk: their names, `users.json` and `revoked.json` read into a
//! [`State`] and written from one, files replaced whole (temporary file, `fsync`, rename,
//! `fsync` of the folder), and the folder kept private.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::store::StoreError;
use crate::store::keys::{ED25519_FILE, HS256_FILE};
use crate::store::state::{State, User, unique_keys};

/// The snapshot file, in Specter's layout.
pub const USERS_FILE: &str = "users.json";
/// The journal of changes since the snapshot.
pub const JOURNAL_FILE: &str = "users.journal";
/// The revoked ids of unexpired tokens, with their `exp`.
pub const REVOKED_FILE: &str = "revoked.json";
/// The lock file every write holds exclusively and every catching-up read shares.
pub const LOCK_FILE: &str = "users.lock";
/// The journal being folded into `users.json` by a compaction.
pub const OLD_JOURNAL_FILE: &str = "users.journal.old";
/// Held by the one process compacting, for as long as it compacts.
pub const COMPACT_LOCK_FILE: &str = "compact.lock";

/// What identifies a version of a file: a new file (a rename) has a new inode, an append
/// a new length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FileId {
    pub ino: u64,
    pub len: u64,
    pub mtime: (i64, i64),
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct RevokedFile {
    #[serde(deserialize_with = "unique_keys")]
    revoked: BTreeMap<String, i64>,
}

/// The identity of `path` now, `None` when it does not exist.
pub fn file_id(path: &Path) -> Result<Option<FileId>, StoreError> {
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

/// The state `users.json` and `revoked.json` of `dir` hold (empty when there is no
/// `users.json`), and the identity of the `users.json` read.
pub fn read_snapshot(dir: &Path) -> Result<(State, Option<FileId>), StoreError> {
    let users_path = dir.join(USERS_FILE);
    let snapshot = file_id(&users_path)?;
    let users: Vec<User> = match snapshot {
        Some(_) => parse(&users_path)?,
        None => Vec::new(),
    };
    let revoked_path = dir.join(REVOKED_FILE);
    let revoked = if revoked_path.exists() {
        parse::<RevokedFile>(&revoked_path)?.revoked
    } else {
        BTreeMap::new()
    };
    let state = State::from_snapshot(users, revoked, &users_path.display().to_string())?;
    Ok((state, snapshot))
}

fn parse<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<T, StoreError> {
    let bytes = std::fs::read(path).map_err(|err| io_error("cannot read", path, &err))?;
    serde_json::from_slice(&bytes).map_err(|err| {
        StoreError::Corrupt(format!(
            "cannot parse {} at line {} column {}: {err}",
            path.display(),
            err.line(),
            err.column()
        ))
    })
}

/// `users.json` and `revoked.json` of `state`, the revocations of tokens expired at `now`
/// left out.
pub fn encode_snapshot(state: &State, now: i64) -> Result<(Vec<u8>, Vec<u8>), StoreError> {
    let users: Vec<&User> = state.users_in_order().collect();
    let users = serde_json::to_vec_pretty(&users)
        .map_err(|err| StoreError::Io(format!("cannot encode the users: {err}")))?;
    let revoked = RevokedFile {
        revoked: state.unexpired_revoked(now).into_iter().collect(),
    };
    let revoked = serde_json::to_vec_pretty(&revoked)
        .map_err(|err| StoreError::Io(format!("cannot encode the revoked list: {err}")))?;
    Ok((users, revoked))
}

/// An existing data folder that group or others may write is made `0700` (with a warning)
/// when this process may change its mode, and refused otherwise: anyone who can write in it
/// can replace `users.json` or the keys. Store files readable or writable by others are
/// made `0600`.
pub fn private_folder(dir: &Path) -> Result<(), StoreError> {
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
        HS256_FILE,
        ED25519_FILE,
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
pub fn write_atomic(dir: &Path, name: &str, bytes: &[u8]) -> Result<(), StoreError> {
    let target = dir.join(name);
    let temp = write_temp(dir, name, bytes)?;
    if let Err(err) = std::fs::rename(&temp, &target) {
        let _ = std::fs::remove_file(&temp);
        return Err(io_error("cannot write", &target, &err));
    }
    sync_dir(dir)
}

/// The most bytes written to a snapshot between two `fsync`s: flushing a large file in
/// one go holds up the journal's `fsync` behind it (ext4 commits both in one
/// transaction), so a snapshot goes to disk in slices.
const FLUSH_EVERY: usize = 1 << 20;

/// A temporary file (mode 0600) beside `dir/name` holding `bytes`, flushed to disk.
pub fn write_temp(dir: &Path, name: &str, bytes: &[u8]) -> Result<PathBuf, StoreError> {
    let temp = dir.join(format!(
        ".{name}.tmp-{}-{}",
        std::process::id(),
        random_hex()
    ));
    let write = || -> std::io::Result<()> {
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&temp)?;
        for (index, slice) in bytes.chunks(FLUSH_EVERY).enumerate() {
            if index > 0 {
                file.sync_data()?;
            }
            file.write_all(slice)?;
        }
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

/// `fsync` of a folder, so that a rename or a new file in it survives a crash.
pub fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|err| io_error("cannot sync", dir, &err))
}

/// 16 hex digits from the OS generator (or fewer random ones without it): names of
/// temporary files and the bytes of new user ids.
pub fn random_bytes() -> [u8; 8] {
    let mut bytes = [0u8; 8];
    // Without randomness the bytes still differ enough: they only name a file or a user.
    let _ = getrandom::fill(&mut bytes);
    bytes
}

fn random_hex() -> String {
    random_bytes().iter().map(|b| format!("{b:02x}")).collect()
}

/// A [`StoreError::Io`] naming what failed on which file.
pub fn io_error(what: &str, path: &Path, err: &std::io::Error) -> StoreError {
    StoreError::Io(format!("{what} {}: {err}", path.display()))
}
