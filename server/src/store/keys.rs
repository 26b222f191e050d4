//! The signing keys of a data folder: one file of mode 0600 per key, 32 random bytes in
//! hex, made from the OS generator by the first process that asks; and the keyring
//! (`keyring.json`, 0600, replaced whole), written by the first `tokenlife keys rotate`.

use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use super::StoreError;
use super::json::format::{io_error, sync_dir, write_atomic, write_temp};

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
        write_key(dir, &file, &key, Place::Keep)?;
    }
    existing(dir, name)?.ok_or_else(|| StoreError::Io(format!("{} vanished", path.display())))
}

/// The keyring file of a data folder.
pub const KEYRING_FILE: &str = "keyring.json";
/// The lock taken while the keyring file is replaced (read, compared, written).
pub const KEYRING_LOCK: &str = "keyring.lock";

/// The keys a store keeps after the first rotation, in the order they were made.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Keyring {
    /// Grows by one with each change; 0 before the first.
    pub generation: u64,
    /// The kept keys: one `signing`, the others verifying only.
    pub keys: Vec<KeyEntry>,
}

/// One key of a keyring. Never printed with its material (`Debug` leaves it out).
#[derive(Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct KeyEntry {
    /// The key's `kid`, as its tokens' headers carry it.
    pub kid: String,
    /// `"HS256"` or `"EdDSA"`.
    pub alg: String,
    /// When it was made (or, for a key of an older folder, taken into the keyring), Unix s.
    pub created: i64,
    /// `"signing"` (the one key new tokens are signed with) or `"verifying"`.
    pub state: String,
    /// The key's 32 bytes in hex; absent for a key kept under its old name (`legacy`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// The name of a key kept before the keyring (`"hs256"` = `hs256.key` or `SECRET_KEY`,
    /// `"ed25519"`), read from where it always was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legacy: Option<String>,
    /// The key of the records kept before tokens carried a `kid` (counted and retired with
    /// it), which also verifies tokens without a `kid` (older HS256 ones). One key at most.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub kidless: bool,
}

/// The state of the key new tokens are signed with.
pub const SIGNING: &str = "signing";
/// The state of a key that only verifies.
pub const VERIFYING: &str = "verifying";

impl KeyEntry {
    /// Whether new tokens are signed with it.
    pub fn is_signing(&self) -> bool {
        self.state == SIGNING
    }

    /// The key's bytes, when the entry holds them.
    ///
    /// # Errors
    ///
    /// [`StoreError::Io`] when they are not 64 hex digits.
    pub fn stored_key(&self) -> Result<Option<[u8; 32]>, StoreError> {
        self.key
            .as_deref()
            .map(|hex| {
                parse_hex32(hex).ok_or_else(|| {
                    StoreError::Io(format!(
                        "key {} of the keyring is not 64 hex digits",
                        self.kid
                    ))
                })
            })
            .transpose()
    }
}

impl std::fmt::Debug for KeyEntry {
    /// Never prints the key.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyEntry")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .field("created", &self.created)
            .field("state", &self.state)
            .field("legacy", &self.legacy)
            .finish_non_exhaustive()
    }
}

/// 32 bytes in hex, as the keyring keeps them.
pub fn to_hex(key: &[u8]) -> String {
    key.iter().map(|b| format!("{b:02x}")).collect()
}

/// The keyring kept in `dir` (empty, generation 0, when there is no file yet).
///
/// # Errors
///
/// [`StoreError::Io`] when the file exists but cannot be read or parsed.
pub fn keyring(dir: &Path) -> Result<Keyring, StoreError> {
    let path = dir.join(KEYRING_FILE);
    match std::fs::read(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map_err(|err| StoreError::Io(format!("{} is not a keyring: {err}", path.display()))),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(Keyring::default()),
        Err(err) => Err(StoreError::Io(format!(
            "cannot read {}: {err}",
            path.display()
        ))),
    }
}

/// Replaces the keyring of `dir` with `keys` if its generation is still `expected`, under
/// `keyring.lock` (an OS lock, so two processes take turns): the file is written whole
/// (0600, `fsync`, rename, `fsync` of the folder). `Ok(false)` when it changed meanwhile.
///
/// # Errors
///
/// [`StoreError::Io`] when the lock or the file cannot be had.
pub fn save_keyring(dir: &Path, expected: u64, keys: Vec<KeyEntry>) -> Result<bool, StoreError> {
    let lock_path = dir.join(KEYRING_LOCK);
    let lock = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(&lock_path)
        .map_err(|err| StoreError::Io(format!("cannot open {}: {err}", lock_path.display())))?;
    lock.lock()
        .map_err(|err| StoreError::Io(format!("cannot lock {}: {err}", lock_path.display())))?;
    let current = keyring(dir)?;
    if current.generation != expected {
        return Ok(false);
    }
    let next = Keyring {
        generation: expected + 1,
        keys,
    };
    let bytes = serde_json::to_vec_pretty(&next)
        .map_err(|err| StoreError::Io(format!("cannot encode the keyring: {err}")))?;
    write_atomic(dir, KEYRING_FILE, &bytes)?;
    Ok(true)
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
    write_key(dir, SPECTER_FILE, key, Place::Replace)
}

/// How [`write_key`] puts its file in place.
enum Place {
    /// Renamed over the file kept before.
    Replace,
    /// Hard-linked, which fails if the file exists: another process made it first, and
    /// its key is kept.
    Keep,
}

/// Writes `key` in hex and a newline to `dir/file` so that the file appears whole: a
/// temporary file (mode 0600, `fsync`) put in place as `how` says, then the folder's
/// `fsync`.
fn write_key(dir: &Path, file: &str, key: &[u8], how: Place) -> Result<(), StoreError> {
    let text = format!("{}\n", to_hex(key));
    match how {
        Place::Replace => write_atomic(dir, file, text.as_bytes()),
        Place::Keep => {
            let temp = write_temp(dir, file, text.as_bytes())?;
            let path = dir.join(file);
            let linked = std::fs::hard_link(&temp, &path);
            let _ = std::fs::remove_file(&temp);
            match linked {
                Err(err) if err.kind() != std::io::ErrorKind::AlreadyExists => {
                    Err(io_error("cannot write", &path, &err))
                }
                _ => sync_dir(dir),
            }
        }
    }
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

    use super::{
        KEYRING_FILE, KeyEntry, SPECTER_FILE, keyring, parse_hex, save_keyring, set_specter,
        specter,
    };

    fn entry(kid: &str, state: &str) -> KeyEntry {
        KeyEntry {
            kid: kid.into(),
            alg: "HS256".into(),
            created: 1,
            state: state.into(),
            key: Some("ab".repeat(32)),
            legacy: None,
            kidless: false,
        }
    }

    #[test]
    fn the_keyring_changes_only_from_the_generation_it_was_read_at() {
        let dir = std::env::temp_dir().join(format!("tokenlife-keyring-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        assert_eq!(keyring(&dir).expect("none yet").generation, 0);
        assert!(save_keyring(&dir, 0, vec![entry("a", "signing")]).expect("first"));
        // A second writer that read generation 0 too loses, and changes nothing.
        assert!(!save_keyring(&dir, 0, vec![entry("b", "signing")]).expect("stale"));
        let ring = keyring(&dir).expect("read");
        assert_eq!((ring.generation, ring.keys.len()), (1, 1));
        assert_eq!(ring.keys[0].kid, "a");
        assert_eq!(ring.keys[0].stored_key().expect("hex"), Some([0xab; 32]));
        assert!(
            save_keyring(
                &dir,
                1,
                vec![entry("a", "verifying"), entry("b", "signing")]
            )
            .expect("next")
        );
        assert_eq!(keyring(&dir).expect("read").generation, 2);
        let mode = std::fs::metadata(dir.join(KEYRING_FILE))
            .expect("file")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        // Never printed with its key.
        assert!(!format!("{:?}", entry("a", "signing")).contains("abab"));
        std::fs::remove_dir_all(&dir).expect("clean");
    }

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
