//! The signing keys: made once from the OS generator and kept by the store (files of mode
//! 0600 in the data folder, or a table of the database), so that tokens survive restarts
//! and every server on one store signs alike. `SECRET_KEY`, when set, is the HS256 key
//! (as in Specter).

use tokenlife_core::Signer;

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
