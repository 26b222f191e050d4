//! Keys and the jsonwebtoken crypto provider that carries only HS256 and Ed25519.
//!
//! jsonwebtoken 12 leaves the cryptography to a `CryptoProvider`. Its built-in RustCrypto
//! provider drags RSA and P-384 into every build, which is large in wasm and has an open
//! advisory, so core installs this one instead. The same concrete key types back
//! [`crate::Verifier`], which holds them ready-keyed across calls.

use std::sync::Once;

use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use hmac::{Hmac, KeyInit, Mac};
use jsonwebtoken::crypto::{CryptoProvider, JwtSigner, JwtVerifier, KeyUtils};
use jsonwebtoken::errors::{Error as JwtError, ErrorKind as JwtErrorKind};
use jsonwebtoken::jwk::{EllipticCurve, ThumbprintHash};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};
use sha2::{Digest, Sha256};

use crate::Error;

/// An HMAC-SHA256 key with its inner and outer pads already hashed.
#[derive(Clone)]
pub(crate) struct Hs256(Hmac<Sha256>);

impl Hs256 {
    pub fn new(secret: &[u8]) -> Result<Self, Error> {
        if secret.is_empty() {
            return Err(Error::bad_key("an HS256 secret must not be empty"));
        }
        Hmac::<Sha256>::new_from_slice(secret)
            .map(Hs256)
            .map_err(|_| Error::bad_key("the HS256 secret is unusable"))
    }
}

impl Hs256 {
    /// Checks an HMAC in constant time, without the `Vec` the provider traits take.
    pub fn verify_bytes(&self, msg: &[u8], signature: &[u8]) -> bool {
        let mut mac = self.0.clone();
        mac.update(msg);
        same_tag(&mac.finalize().into_bytes().into(), signature)
    }
}

/// Whether `signature` is `tag`, in a time that depends only on its length: the
/// differences are OR-ed together a word at a time, with no branch on them. (`subtle`'s
/// `ct_eq`, which `verify_slice` uses, puts an optimisation barrier on every byte, which
/// costs 0.1 µs per tag in wasm, a twentieth of a verify.)
fn same_tag(tag: &[u8; 32], signature: &[u8]) -> bool {
    let Ok(signature) = <&[u8; 32]>::try_from(signature) else {
        return false;
    };
    let word = |bytes: &[u8]| {
        let mut word = [0; 8];
        word.copy_from_slice(bytes);
        u64::from_le_bytes(word)
    };
    let difference = tag
        .chunks_exact(8)
        .zip(signature.chunks_exact(8))
        .fold(0, |difference, (a, b)| difference | (word(a) ^ word(b)));
    std::hint::black_box(difference) == 0
}

impl signature::Signer<Vec<u8>> for Hs256 {
    fn try_sign(&self, msg: &[u8]) -> Result<Vec<u8>, signature::Error> {
        let mut mac = self.0.clone();
        mac.update(msg);
        Ok(mac.finalize().into_bytes().to_vec())
    }
}

impl signature::Verifier<Vec<u8>> for Hs256 {
    fn verify(&self, msg: &[u8], signature: &Vec<u8>) -> Result<(), signature::Error> {
        if self.verify_bytes(msg, signature) {
            Ok(())
        } else {
            Err(signature::Error::new())
        }
    }
}

impl JwtSigner for Hs256 {
    fn algorithm(&self) -> Algorithm {
        Algorithm::HS256
    }
}

impl JwtVerifier for Hs256 {
    fn algorithm(&self) -> Algorithm {
        Algorithm::HS256
    }
}

/// An Ed25519 public key, decompressed once.
#[derive(Clone)]
pub(crate) struct Ed25519Public(ed25519_dalek::VerifyingKey);

impl Ed25519Public {
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, Error> {
        let bytes: &[u8; 32] = bytes
            .try_into()
            .map_err(|_| Error::bad_key("an Ed25519 public key is 32 bytes"))?;
        ed25519_dalek::VerifyingKey::from_bytes(bytes)
            .map(Ed25519Public)
            .map_err(|_| Error::bad_key("not an Ed25519 public key"))
    }

    pub fn to_bytes(&self) -> [u8; 32] {
        self.0.to_bytes()
    }

    /// Checks a signature with the strict rules (no malleable signatures, no small-order keys).
    pub fn verify_bytes(&self, msg: &[u8], signature: &[u8]) -> bool {
        ed25519_dalek::Signature::from_slice(signature)
            .is_ok_and(|signature| self.0.verify_strict(msg, &signature).is_ok())
    }
}

impl signature::Verifier<Vec<u8>> for Ed25519Public {
    fn verify(&self, msg: &[u8], signature: &Vec<u8>) -> Result<(), signature::Error> {
        if self.verify_bytes(msg, signature) {
            Ok(())
        } else {
            Err(signature::Error::new())
        }
    }
}

impl JwtVerifier for Ed25519Public {
    fn algorithm(&self) -> Algorithm {
        Algorithm::EdDSA
    }
}

struct Ed25519Private(ed25519_dalek::SigningKey);

impl signature::Signer<Vec<u8>> for Ed25519Private {
    fn try_sign(&self, msg: &[u8]) -> Result<Vec<u8>, signature::Error> {
        Ok(ed25519_dalek::Signer::sign(&self.0, msg)
            .to_bytes()
            .to_vec())
    }
}

impl JwtSigner for Ed25519Private {
    fn algorithm(&self) -> Algorithm {
        Algorithm::EdDSA
    }
}

/// The PKCS#8 DER form jsonwebtoken's `EncodingKey::from_ed_der` expects.
pub(crate) fn ed25519_encoding_key(seed: &[u8; 32]) -> Result<EncodingKey, Error> {
    let der = ed25519_dalek::SigningKey::from_bytes(seed)
        .to_pkcs8_der()
        .map_err(|_| Error::bad_key("cannot encode the Ed25519 key"))?;
    Ok(EncodingKey::from_ed_der(der.as_bytes()))
}

pub(crate) fn ed25519_public(seed: &[u8; 32]) -> Ed25519Public {
    Ed25519Public(ed25519_dalek::SigningKey::from_bytes(seed).verifying_key())
}

/// The RFC 7638 thumbprint of an Ed25519 public key, used as its `kid`.
pub(crate) fn ed25519_thumbprint(public: &[u8; 32]) -> String {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let x = URL_SAFE_NO_PAD.encode(public);
    // The members in lexicographic order with no spaces, as RFC 7638 requires.
    let canonical = format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{x}"}}"#);
    URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
}

/// Makes sure jsonwebtoken signs with this provider. Idempotent; if the host program
/// installed a provider of its own first, that one is kept.
pub(crate) fn install_provider() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let _ = PROVIDER.install_default();
    });
}

static PROVIDER: CryptoProvider = CryptoProvider {
    signer_factory: new_signer,
    verifier_factory: new_verifier,
    key_utils: KeyUtils {
        rsa_pub_components_from_private_key: |_| Err(unsupported()),
        rsa_pub_components_from_public_key: |_| Err(unsupported()),
        ec_pub_components_from_private_key: |_, _| Err(unsupported()),
        ed_pub_components_from_private_key,
        compute_digest,
    },
};

fn unsupported() -> JwtError {
    JwtErrorKind::InvalidAlgorithm.into()
}

fn new_signer(alg: &Algorithm, key: &EncodingKey) -> Result<Box<dyn JwtSigner>, JwtError> {
    match alg {
        Algorithm::HS256 => {
            Ok(Box::new(Hs256::new(key.as_bytes()).map_err(|_| {
                JwtError::from(JwtErrorKind::InvalidKeyFormat)
            })?))
        }
        Algorithm::EdDSA => Ok(Box::new(Ed25519Private(
            ed25519_dalek::SigningKey::from_pkcs8_der(key.as_bytes())
                .map_err(|_| JwtError::from(JwtErrorKind::InvalidEddsaKey))?,
        ))),
        _ => Err(unsupported()),
    }
}

fn new_verifier(alg: &Algorithm, key: &DecodingKey) -> Result<Box<dyn JwtVerifier>, JwtError> {
    let bytes = key.try_get_as_bytes()?;
    match alg {
        Algorithm::HS256 => {
            Ok(Box::new(Hs256::new(bytes).map_err(|_| {
                JwtError::from(JwtErrorKind::InvalidKeyFormat)
            })?))
        }
        Algorithm::EdDSA => Ok(Box::new(
            Ed25519Public::from_bytes(bytes.get(..32).unwrap_or(bytes))
                .map_err(|_| JwtError::from(JwtErrorKind::InvalidEddsaKey))?,
        )),
        _ => Err(unsupported()),
    }
}

fn ed_pub_components_from_private_key(
    der: &[u8],
    curve: &EllipticCurve,
) -> Result<Vec<u8>, JwtError> {
    match curve {
        EllipticCurve::Ed25519 => Ok(ed25519_dalek::SigningKey::from_pkcs8_der(der)
            .map_err(|_| JwtError::from(JwtErrorKind::InvalidEddsaKey))?
            .verifying_key()
            .to_bytes()
            .to_vec()),
        _ => Err(unsupported()),
    }
}

fn compute_digest(data: &[u8], hash: ThumbprintHash) -> Result<Vec<u8>, JwtError> {
    match hash {
        ThumbprintHash::SHA256 => Ok(Sha256::digest(data).to_vec()),
        _ => Err(unsupported()),
    }
}

#[cfg(test)]
mod tests {
    use super::same_tag;

    #[test]
    fn same_tag_is_equality_of_32_bytes() {
        let tag: [u8; 32] = std::array::from_fn(|i| i as u8 * 7);
        assert!(same_tag(&tag, &tag));
        for byte in 0..32 {
            for bit in 0..8 {
                let mut other = tag;
                other[byte] ^= 1 << bit;
                assert!(!same_tag(&tag, &other), "{byte} {bit}");
            }
        }
        for len in [0, 16, 31, 33, 64] {
            let other: Vec<u8> = tag.iter().copied().cycle().take(len).collect();
            assert!(!same_tag(&tag, &other), "{len}");
        }
    }
}
