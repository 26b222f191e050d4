//! The signing keys: made once from the OS generator and kept by the store (files of mode
//! 0600 in the data folder, or a table of the database), so that tokens survive restarts
//! and every server on one store signs alike. `SECRET_KEY`, when set, is the HS256 key
//! (as in Specter).

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use tokenlife_core::Signer;

/// The HS256 key file: 32 random bytes, hex.
pub const HS256_FILE: &str = "hs256.key";
/// The Ed25519 seed file: 32 random bytes, hex.
pub const ED25519_FILE: &str = "ed25519.key";

/// The algorithm a server signs with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    /// HMAC-SHA256 with a secret key.
    Hs256,
    /// Ed25519, with its public key published in the JWKS.
    EdDsa,
}

/// The name a store keeps the key of `alg` under (`"hs256"`, `"ed25519"`).
pub fn key_name(alg: Algorithm) -> &'static str {
    match alg {
        Algorithm::Hs256 => "hs256",
        Algorithm::EdDsa => "ed25519",
    }
}

/// Whether the key of `alg` comes from `SECRET_KEY` rather than from the store.
pub fn from_env(alg: Algorithm) -> bool {
    alg == Algorithm::Hs256 && std::env::var("SECRET_KEY").is_ok_and(|v| !v.is_empty())
}

/// The signer for `alg`, with the key the store keeps for it (`SECRET_KEY`, when set, is
/// the HS256 key instead; `stored` is then not asked for).
///
/// # Errors
///
/// A message when the store cannot give the key or the key is refused.
pub async fn signer(store: &dyn crate::store::Store, alg: Algorithm) -> Result<Signer, String> {
    match alg {
        Algorithm::Hs256 => {
            let secret = match std::env::var("SECRET_KEY") {
                Ok(value) if !value.is_empty() => value.into_bytes(),
                _ => store
                    .signing_key(key_name(alg))
                    .await
                    .map_err(|err| err.to_string())?
                    .to_vec(),
            };
            Signer::hs256(&secret).map_err(|err| err.to_string())
        }
        Algorithm::EdDsa => {
            let seed = store
                .signing_key(key_name(alg))
                .await
                .map_err(|err| err.to_string())?;
            Signer::ed25519(&seed).map_err(|err| err.to_string())
        }
    }
}

/// The key file of the key `name` in a data folder.
pub fn key_file(name: &str) -> String {
    format!("{name}.key")
}

/// The key kept in `dir/name` if the file exists (never made).
///
/// # Errors
///
/// A message when the file exists but cannot be read or parsed.
pub fn existing_key(dir: &Path, name: &str) -> Result<Option<[u8; 32]>, String> {
    let path = dir.join(name);
    match std::fs::read_to_string(&path) {
        Ok(text) => parse_hex32(text.trim())
            .map(Some)
            .ok_or_else(|| format!("{} does not hold 64 hex digits", path.display())),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(err) => Err(format!("cannot read {}: {err}", path.display())),
    }
}

/// The 32 bytes kept in `dir/name`, made from the OS generator if the file is missing.
/// Two processes starting at once agree on one key: the file appears whole, by a hard
/// link that fails if another process linked first.
pub(crate) fn key_bytes(dir: &Path, name: &str) -> Result<[u8; 32], String> {
    let path = dir.join(name);
    if !path.exists() {
        let mut key = [0u8; 32];
        getrandom::fill(&mut key).map_err(|err| format!("no OS randomness: {err}"))?;
        let hex: String = key.iter().map(|b| format!("{b:02x}")).collect();
        let temp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
        let made = (|| -> std::io::Result<()> {
            let mut file = std::fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .mode(0o600)
                .open(&temp)?;
            file.write_all(format!("{hex}\n").as_bytes())?;
            file.sync_all()?;
            match std::fs::hard_link(&temp, &path) {
                Err(err) if err.kind() != std::io::ErrorKind::AlreadyExists => Err(err),
                _ => Ok(()),
            }
        })();
        let _ = std::fs::remove_file(&temp);
        made.map_err(|err| format!("cannot write {}: {err}", path.display()))?;
        crate::store::sync_dir(dir).map_err(|err| err.to_string())?;
    }
    let text = std::fs::read_to_string(&path)
        .map_err(|err| format!("cannot read {}: {err}", path.display()))?;
    parse_hex32(text.trim())
        .ok_or_else(|| format!("{} does not hold 64 hex digits", path.display()))
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
