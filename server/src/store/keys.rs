//! The signing keys of a data folder: one file of mode 0600 per key, 32 random bytes in
//! hex, made from the OS generator by the first process that asks.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use super::StoreError;
use super::json::format::sync_dir;

/// The HS256 key file.
pub const HS256_FILE: &str = "hs256.key";
/// The Ed25519 seed file.
pub const ED25519_FILE: &str = "ed25519.key";
/// The names of the keys a folder may keep (`"hs256"`, `"ed25519"`).
pub const NAMES: [&str; 2] = ["hs256", "ed25519"];

/// The key file of the key `name` in a data folder.
pub fn key_file(name: &str) -> String {
    format!("{name}.key")
}

/// The key `name` kept in `dir` if its file exists (never made).
///
/// # Errors
///
/// [`StoreError::Io`] when the file exists but cannot be read or parsed.
pub fn existing(dir: &Path, name: &str) -> Result<Option<[u8; 32]>, StoreError> {
    let path = dir.join(key_file(name));
    match std::fs::read_to_string(&path) {
        Ok(text) => parse_hex32(text.trim())
            .map(Some)
            .ok_or_else(|| not_hex(&path)),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(err) => Err(StoreError::Io(format!(
            "cannot read {}: {err}",
            path.display()
        ))),
    }
}

/// The key `name` kept in `dir`, made from the OS generator if its file is missing. Two
/// processes starting at once agree on one key: the file appears whole, by a hard link
/// that fails if another process linked first.
///
/// # Errors
///
/// [`StoreError::Io`] without OS randomness, or when the file cannot be written, read or
/// parsed.
pub fn get_or_make(dir: &Path, name: &str) -> Result<[u8; 32], StoreError> {
    let file = key_file(name);
    let path = dir.join(&file);
    if !path.exists() {
        let mut key = [0u8; 32];
        getrandom::fill(&mut key)
            .map_err(|err| StoreError::Io(format!("no OS randomness: {err}")))?;
        let hex: String = key.iter().map(|b| format!("{b:02x}")).collect();
        let temp = dir.join(format!(".{file}.tmp-{}", std::process::id()));
        let made = (|| -> std::io::Result<()> {
            let mut out = std::fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .mode(0o600)
                .open(&temp)?;
            out.write_all(format!("{hex}\n").as_bytes())?;
            out.sync_all()?;
            match std::fs::hard_link(&temp, &path) {
                Err(err) if err.kind() != std::io::ErrorKind::AlreadyExists => Err(err),
                _ => Ok(()),
            }
        })();
        let _ = std::fs::remove_file(&temp);
        made.map_err(|err| StoreError::Io(format!("cannot write {}: {err}", path.display())))?;
        sync_dir(dir)?;
    }
    existing(dir, name)?.ok_or_else(|| StoreError::Io(format!("{} vanished", path.display())))
}

/// The file of Specter's signing key, kept by `tokenlife import-specter` to verify the
/// tokens Specter issued (never to sign): its bytes in hex, any length.
pub const SPECTER_FILE: &str = "specter.key";

/// Specter's signing key kept in `dir`, if any.
///
/// # Errors
///
/// [`StoreError::Io`] when the file exists but cannot be read or is not hex.
pub fn specter(dir: &Path) -> Result<Option<Vec<u8>>, StoreError> {
    let path = dir.join(SPECTER_FILE);
    match std::fs::read_to_string(&path) {
        Ok(text) => parse_hex(text.trim())
            .filter(|key| !key.is_empty())
            .map(Some)
            .ok_or_else(|| {
                StoreError::Io(format!("{} does not hold a key in hex", path.display()))
            }),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(err) => Err(StoreError::Io(format!(
            "cannot read {}: {err}",
            path.display()
        ))),
    }
}

/// Keeps Specter's signing key in `dir` (mode 0600, replacing the one kept before): the
/// file appears whole, by a rename.
///
/// # Errors
///
/// [`StoreError::Io`] when the file cannot be written.
pub fn set_specter(dir: &Path, key: &[u8]) -> Result<(), StoreError> {
    let path = dir.join(SPECTER_FILE);
    let temp = dir.join(format!(".{SPECTER_FILE}.tmp-{}", std::process::id()));
    let hex: String = key.iter().map(|b| format!("{b:02x}")).collect();
    let written = (|| -> std::io::Result<()> {
        let mut out = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&temp)?;
        out.write_all(format!("{hex}\n").as_bytes())?;
        out.sync_all()?;
        std::fs::rename(&temp, &path)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    written.map_err(|err| StoreError::Io(format!("cannot write {}: {err}", path.display())))?;
    sync_dir(dir)
}

fn parse_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len() / 2)
        .map(|i| u8::from_str_radix(text.get(2 * i..2 * i + 2)?, 16).ok())
        .collect()
}

fn not_hex(path: &Path) -> StoreError {
    StoreError::Io(format!("{} does not hold 64 hex digits", path.display()))
}

fn parse_hex32(text: &str) -> Option<[u8; 32]> {
    if text.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(text.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::{SPECTER_FILE, parse_hex, set_specter, specter};

    #[test]
    fn specters_key_is_kept_private_and_read_back_whole() {
        let dir = std::env::temp_dir().join(format!("tokenlife-keys-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        assert_eq!(specter(&dir).expect("none yet"), None);
        for key in [
            b"k".as_slice(),
            "clé \u{1F511} of any length".as_bytes(),
            &[0u8; 100],
        ] {
            set_specter(&dir, key).expect("kept");
            assert_eq!(specter(&dir).expect("read").as_deref(), Some(key));
        }
        let path = dir.join(SPECTER_FILE);
        let mode = std::fs::metadata(&path).expect("file").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        for bad in ["", "abc", "zz", "0g"] {
            std::fs::write(&path, bad).expect("write");
            assert!(specter(&dir).is_err(), "{bad:?}");
        }
        std::fs::remove_dir_all(&dir).expect("clean");
        assert_eq!(parse_hex("00ff7A"), Some(vec![0, 255, 122]));
        assert_eq!(parse_hex("é0"), None);
    }
}
