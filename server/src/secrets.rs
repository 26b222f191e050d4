//! The signing keys: made from the OS generator and kept by the store (files of mode 0600
//! in the data folder, or tables of the database), so that tokens survive restarts and
//! every server on one store signs alike. `SECRET_KEY`, when set, is the HS256 key of an
//! older folder (as in Specter).
//!
//! A server's first start writes the keyring: the store's key of its `--alg`
//! (`hs256.key`/`ed25519.key`, or the `signing_keys` row, referred to by name, `legacy`),
//! signing, as in earlier versions; until the first `tokenlife keys rotate` a start with
//! another `--alg` takes that one's key instead. From the first rotation on the keyring
//! decides and `--alg` is ignored (with a warning when they differ). [`Keys`] is a server's view of it: read
//! once at start, read again when a token is signed, when the JWKS is asked for, and when
//! a token names a `kid` this view does not know, so that a rotation made by another
//! process is followed without a restart. Retiring a key revokes its tokens in the store
//! (which every server reads fresh), so they are refused at once everywhere.

use std::sync::{Arc, RwLock};

use tokenlife_core::{Signer, Verifier};

use crate::store::keys::{KeyEntry, Keyring, SIGNING, VERIFYING, to_hex};
use crate::store::{Op, Store, StoreError};

/// The algorithm a server signs with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    /// HMAC-SHA256 with a secret key.
    Hs256,
    /// Ed25519, with its public key published in the JWKS.
    EdDsa,
}

impl Algorithm {
    /// `"HS256"` or `"EdDSA"`, as headers and the keyring name it.
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Hs256 => "HS256",
            Algorithm::EdDsa => "EdDSA",
        }
    }

    fn from_name(name: &str) -> Option<Algorithm> {
        match name {
            "HS256" => Some(Algorithm::Hs256),
            "EdDSA" => Some(Algorithm::EdDsa),
            _ => None,
        }
    }
}

/// The name a store keeps the key of `alg` under (`"hs256"`, `"ed25519"`).
pub fn key_name(alg: Algorithm) -> &'static str {
    match alg {
        Algorithm::Hs256 => "hs256",
        Algorithm::EdDsa => "ed25519",
    }
}

/// The signer for `alg`, with the key the store keeps under its old name (`SECRET_KEY`,
/// when set, is the HS256 key instead; `stored` is then not asked for).
///
/// # Errors
///
/// A message when the store cannot give the key or the key is refused.
pub async fn signer(store: &dyn Store, alg: Algorithm) -> Result<Signer, String> {
    legacy_signer(store, key_name(alg))
        .await
        .map_err(|err| err.to_string())
}

async fn legacy_signer(store: &dyn Store, name: &str) -> Result<Signer, StoreError> {
    let signer = match name {
        "hs256" => {
            let secret = match std::env::var("SECRET_KEY") {
                Ok(value) if !value.is_empty() => value.into_bytes(),
                _ => store.signing_key(name).await?.to_vec(),
            };
            Signer::hs256(&secret)
        }
        "ed25519" => Signer::ed25519(&store.signing_key(name).await?),
        other => {
            return Err(StoreError::Io(format!(
                "the keyring names an unknown key {other:?}"
            )));
        }
    };
    signer.map_err(|err| StoreError::Io(err.to_string()))
}

/// One reading of the keyring, ready to sign and verify.
#[derive(Debug)]
pub struct Ring {
    /// The keyring's generation it was built from (0: no keyring yet).
    pub generation: u64,
    /// The key new tokens are signed with.
    pub signer: Signer,
    /// Every kept key, each chosen by its `kid`.
    pub verifier: Verifier,
    /// The public keys still verifying (the EdDSA ones), as `/.well-known/jwks.json`.
    pub jwks: serde_json::Value,
}

impl Ring {
    async fn build(store: &dyn Store, ring: &Keyring, alg: Algorithm) -> Result<Ring, StoreError> {
        if ring.keys.is_empty() {
            let signer = legacy_signer(store, key_name(alg)).await?;
            let verifier = Verifier::keyring([&signer], signer.kid());
            let jwks = signer.jwks();
            return Ok(Ring {
                generation: ring.generation,
                signer,
                verifier,
                jwks,
            });
        }
        let mut signers = Vec::with_capacity(ring.keys.len());
        let mut signing = None;
        let mut kidless = None;
        for entry in &ring.keys {
            let signer = entry_signer(store, entry).await?;
            if signer.kid() != Some(entry.kid.as_str()) {
                tracing::warn!(
                    kid = entry.kid,
                    actual = signer.kid(),
                    "a key of the keyring has another kid than it was kept under (SECRET_KEY changed?)"
                );
            }
            if entry.kidless {
                kidless = signer.kid().map(str::to_owned);
            }
            if entry.is_signing() {
                signing = Some(signers.len());
            }
            signers.push(signer);
        }
        let signing =
            signing.ok_or_else(|| StoreError::Io("the keyring has no signing key".into()))?;
        let verifier = Verifier::keyring(&signers, kidless.as_deref());
        let jwks = tokenlife_core::jwks_of(&signers);
        let signer = signers.swap_remove(signing);
        Ok(Ring {
            generation: ring.generation,
            signer,
            verifier,
            jwks,
        })
    }
}

async fn entry_signer(store: &dyn Store, entry: &KeyEntry) -> Result<Signer, StoreError> {
    if let Some(name) = &entry.legacy {
        return legacy_signer(store, name).await;
    }
    let key = entry
        .stored_key()?
        .ok_or_else(|| StoreError::Io(format!("key {} of the keyring has no key", entry.kid)))?;
    let signer = match Algorithm::from_name(&entry.alg) {
        Some(Algorithm::Hs256) => Signer::hs256(&key),
        Some(Algorithm::EdDsa) => Signer::ed25519(&key),
        None => {
            return Err(StoreError::Io(format!(
                "key {} of the keyring has an unknown algorithm {:?}",
                entry.kid, entry.alg
            )));
        }
    };
    signer.map_err(|err| StoreError::Io(err.to_string()))
}

/// A server's view of the keyring: the last reading, replaced when the store's has a
/// newer generation.
#[derive(Debug)]
pub struct Keys {
    alg: Algorithm,
    current: RwLock<Arc<Ring>>,
}

impl Keys {
    /// The store's keyring now; `alg` is the server's `--alg`, the key signing until the
    /// first rotation.
    ///
    /// # Errors
    ///
    /// A message when the store cannot give the keys or a key is refused.
    pub async fn load(store: &dyn Store, alg: Algorithm) -> Result<Keys, String> {
        let ring = seed(store, alg).await.map_err(|err| err.to_string())?;
        if let Some(signing) = ring.keys.iter().find(|key| key.is_signing())
            && signing.alg != alg.name()
        {
            tracing::warn!(
                keyring = signing.alg,
                alg = alg.name(),
                "the keyring signs with another algorithm than --alg: the keyring's is used \
                 (tokenlife keys rotate --alg changes it)"
            );
        }
        let ring = Ring::build(store, &ring, alg)
            .await
            .map_err(|err| err.to_string())?;
        Ok(Keys {
            alg,
            current: RwLock::new(Arc::new(ring)),
        })
    }

    /// The last reading, without asking the store.
    pub fn current(&self) -> Arc<Ring> {
        match self.current.read() {
            Ok(ring) => Arc::clone(&ring),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    /// The store's keyring now: read (one small file or one row), and built again only
    /// when its generation changed since the last reading.
    ///
    /// # Errors
    ///
    /// When the store fails or a key is refused (the last reading stays).
    pub async fn fresh(&self, store: &dyn Store) -> Result<Arc<Ring>, StoreError> {
        let ring = store.keyring().await?;
        let current = self.current();
        if ring.generation == current.generation {
            return Ok(current);
        }
        let built = Arc::new(Ring::build(store, &ring, self.alg).await?);
        let mut slot = match self.current.write() {
            Ok(slot) => slot,
            Err(poisoned) => poisoned.into_inner(),
        };
        if slot.generation < built.generation {
            *slot = Arc::clone(&built);
        }
        Ok(built)
    }
}

/// The keyring a server starts with. A store without one, or whose keyring is still only
/// the older key of another `--alg` (never rotated), gets one holding the older key of
/// `alg` (signing, `kidless`), so that until the first rotation `--alg` decides as before,
/// and the CLI knows which key signs.
async fn seed(store: &dyn Store, alg: Algorithm) -> Result<Keyring, StoreError> {
    loop {
        let ring = store.keyring().await?;
        let unrotated = match ring.keys.as_slice() {
            [] => true,
            [only] => only.legacy.is_some() && only.alg != alg.name(),
            _ => false,
        };
        if !unrotated {
            return Ok(ring);
        }
        let name = key_name(alg);
        let signer = legacy_signer(store, name).await?;
        let keys = vec![KeyEntry {
            kid: signer.kid().unwrap_or_default().to_owned(),
            alg: alg.name().to_owned(),
            created: crate::clock::now_secs(),
            state: SIGNING.to_owned(),
            key: None,
            legacy: Some(name.to_owned()),
            kidless: true,
        }];
        store.save_keyring(ring.generation, keys).await?;
    }
}

/// One key of a keyring as `tokenlife keys list` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    /// The key's `kid`.
    pub kid: String,
    /// `"HS256"` or `"EdDSA"`.
    pub alg: String,
    /// When it was made, Unix seconds (0 for the key of a store without a keyring).
    pub created: i64,
    /// `"signing"` or `"verifying"`.
    pub state: String,
    /// The unexpired tokens it signed that the store still keeps.
    pub tokens: usize,
}

/// The keyring to list or change: the store's, or, before the first rotation, the keys the
/// store kept under their old names: the one of `prior` (the servers' `--alg`), signing
/// and `kidless`, and the other one if the store has it, verifying.
async fn explicit(
    store: &dyn Store,
    prior: Algorithm,
    now: i64,
) -> Result<(u64, Vec<KeyEntry>), String> {
    let ring = store.keyring().await.map_err(|err| err.to_string())?;
    if !ring.keys.is_empty() {
        return Ok((ring.generation, ring.keys));
    }
    let mut keys = Vec::new();
    let other = match prior {
        Algorithm::Hs256 => Algorithm::EdDsa,
        Algorithm::EdDsa => Algorithm::Hs256,
    };
    for (index, alg) in [prior, other].into_iter().enumerate() {
        let name = key_name(alg);
        // The other algorithm's key only if the store has one (a server once ran with it).
        let secret_key = alg == Algorithm::Hs256
            && std::env::var("SECRET_KEY").is_ok_and(|value| !value.is_empty());
        if index > 0
            && !secret_key
            && !store
                .has_signing_key(name)
                .await
                .map_err(|err| err.to_string())?
        {
            continue;
        }
        let signer = legacy_signer(store, name)
            .await
            .map_err(|err| err.to_string())?;
        keys.push(KeyEntry {
            kid: signer.kid().unwrap_or_default().to_owned(),
            alg: alg.name().to_owned(),
            created: now,
            state: if index == 0 { SIGNING } else { VERIFYING }.to_owned(),
            key: None,
            legacy: Some(name.to_owned()),
            kidless: index == 0,
        });
    }
    Ok((ring.generation, keys))
}

/// Every kept key with the number of unexpired tokens it signed. Before the first
/// rotation, only the key of `prior` (the servers' `--alg`).
///
/// # Errors
///
/// A message when the store fails.
pub async fn list(store: &dyn Store, prior: Algorithm, now: i64) -> Result<Vec<Listed>, String> {
    let (generation, keys) = explicit(store, prior, now).await?;
    let keys: Vec<KeyEntry> = if generation == 0 {
        keys.into_iter().filter(|key| key.kidless).collect()
    } else {
        keys
    };
    let counts = signed_by(store, &keys, now).await?;
    Ok(keys
        .into_iter()
        .map(|key| Listed {
            tokens: counts.iter().filter(|(_, _, kid)| *kid == key.kid).count(),
            created: if generation == 0 { 0 } else { key.created },
            kid: key.kid,
            alg: key.alg,
            state: key.state,
        })
        .collect())
}

/// The unexpired tokens of every user with the kid of the key that signed them: the kid
/// the record keeps, or, for records kept before tokens carried one, the `kidless` key's.
/// Imported tokens (Specter's key signed them) are left out.
async fn signed_by(
    store: &dyn Store,
    keys: &[KeyEntry],
    now: i64,
) -> Result<Vec<(String, String, String)>, String> {
    let kidless = keys
        .iter()
        .find(|key| key.kidless)
        .map(|key| key.kid.clone());
    let mut out = Vec::new();
    for user in store.users().await.map_err(|err| err.to_string())? {
        let tokens = store
            .tokens(&user.username)
            .await
            .map_err(|err| err.to_string())?;
        for (id, record) in tokens {
            if record.exp <= now || record.jwt_token_origin.is_some() {
                continue;
            }
            if let Some(kid) = record.kid.clone().or_else(|| kidless.clone()) {
                out.push((user.username.clone(), id, kid));
            }
        }
    }
    Ok(out)
}

/// Makes a new signing key of `alg` (by default the signing key's algorithm, or `prior`
/// before the first rotation) from the OS generator; the signing key becomes verifying
/// only. Returns the new key's kid.
///
/// # Errors
///
/// A message when the store fails or there is no OS randomness.
pub async fn rotate(
    store: &dyn Store,
    alg: Option<Algorithm>,
    prior: Algorithm,
    now: i64,
) -> Result<(String, Algorithm), String> {
    loop {
        let (generation, mut keys) = explicit(store, prior, now).await?;
        let alg = alg
            .or_else(|| {
                keys.iter()
                    .find(|key| key.is_signing())
                    .and_then(|key| Algorithm::from_name(&key.alg))
            })
            .unwrap_or(prior);
        let mut secret = [0u8; 32];
        getrandom::fill(&mut secret).map_err(|err| format!("no OS randomness: {err}"))?;
        let signer = match alg {
            Algorithm::Hs256 => Signer::hs256(&secret),
            Algorithm::EdDsa => Signer::ed25519(&secret),
        }
        .map_err(|err| err.to_string())?;
        let kid = signer.kid().unwrap_or_default().to_owned();
        for key in &mut keys {
            key.state = VERIFYING.to_owned();
        }
        keys.push(KeyEntry {
            kid: kid.clone(),
            alg: alg.name().to_owned(),
            created: now,
            state: SIGNING.to_owned(),
            key: Some(to_hex(&secret)),
            legacy: None,
            kidless: false,
        });
        if store
            .save_keyring(generation, keys)
            .await
            .map_err(|err| err.to_string())?
        {
            return Ok((kid, alg));
        }
    }
}

/// What [`retire`] found or did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retired {
    /// The unexpired tokens the key signed.
    pub tokens: usize,
    /// Whether the key was dropped (and those tokens revoked).
    pub done: bool,
}

/// Retires the key `kid`: counts the unexpired tokens it signed, and with `confirm` drops
/// it from the keyring and revokes those tokens (deleted, listed as revoked until they
/// expire), so that every server refuses them at its next request.
///
/// # Errors
///
/// One line: no such key, the key is the signing one (rotate first), or the store failed.
pub async fn retire(
    store: &dyn Store,
    kid: &str,
    confirm: bool,
    prior: Algorithm,
    now: i64,
) -> Result<Retired, String> {
    loop {
        let (generation, keys) = explicit(store, prior, now).await?;
        let known = if generation == 0 {
            keys.iter().filter(|key| key.kidless).collect::<Vec<_>>()
        } else {
            keys.iter().collect()
        };
        let Some(key) = known.into_iter().find(|key| key.kid == kid) else {
            return Err(format!(
                "no key {kid:?} in the keyring (tokenlife keys list shows the kids)"
            ));
        };
        if key.is_signing() {
            return Err(format!(
                "{kid} is the signing key: rotate first (tokenlife keys rotate), then retire it"
            ));
        }
        let tokens: Vec<(String, String, String)> = signed_by(store, &keys, now)
            .await?
            .into_iter()
            .filter(|(_, _, signed)| signed == kid)
            .collect();
        if !confirm {
            return Ok(Retired {
                tokens: tokens.len(),
                done: false,
            });
        }
        // Revoked first: if this stops half way, the key is still kept and listed, and the
        // same command finishes the job.
        for (user, id, _) in &tokens {
            let op = Op::DeleteToken {
                user: user.clone(),
                id: id.clone(),
                now,
            };
            store.apply(op).await.map_err(|err| err.to_string())?;
        }
        let rest: Vec<KeyEntry> = keys.iter().filter(|key| key.kid != kid).cloned().collect();
        if !store
            .save_keyring(generation, rest)
            .await
            .map_err(|err| err.to_string())?
        {
            continue;
        }
        return Ok(Retired {
            tokens: tokens.len(),
            done: true,
        });
    }
}
