//! Keys and the jsonwebtoken crypto provider that carries only HS256 and Ed25519.
//!
//! jsonwebtoken 12 leaves the cryptography to a `CryptoProvider`. Its built-in RustCrypto
//! provider drags RSA and P-384 into every build, which is large in wasm and has an open
//! advisory, so core installs this one instead. The same concrete key types back
//! [`crate::Verifier`], which holds them ready-keyed across calls.

use std::sync::Once;

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
use crate::sha256::compress as compress256;
use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use jsonwebtoken::crypto::{CryptoProvider, JwtSigner, JwtVerifier, KeyUtils};
use jsonwebtoken::errors::{Error as JwtError, ErrorKind as JwtErrorKind};
use jsonwebtoken::jwk::{EllipticCurve, ThumbprintHash};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
use sha2::block_api::compress256;

use crate::Error;

/// An HMAC-SHA256 key (RFC 2104) with its inner and outer pads already hashed: a MAC
/// then costs the message's blocks and one outer block.
///
/// Written over sha2's block function rather than with the `hmac` crate, whose keyed
/// state is cloned, buffered and copied block by block on every call: 70 ns of a 2.2 µs
/// verify in wasm. The tests hold it to the `hmac` crate and to RFC 4231's vectors.
#[derive(Clone)]
pub(crate) struct Hs256 {
    /// SHA-256's state after the key XOR ipad block.
    inner: [u32; 8],
    /// SHA-256's state after the key XOR opad block.
    outer: [u32; 8],
}

impl Hs256 {
    pub fn new(secret: &[u8]) -> Result<Self, Error> {
        if secret.is_empty() {
            return Err(Error::bad_key("an HS256 secret must not be empty"));
        }
        // A key longer than a block is hashed first; a shorter one is padded with zeros.
        let mut key = [0u8; 64];
        if secret.len() > 64 {
            key[..32].copy_from_slice(&sha256(secret));
        } else {
            key[..secret.len()].copy_from_slice(secret);
        }
        let pad = |byte: u8| {
            let mut state = SHA256_IV;
            compress256(&mut state, &[key.map(|k| k ^ byte)]);
            state
        };
        Ok(Hs256 {
            inner: pad(0x36),
            outer: pad(0x5c),
        })
    }

    /// The HMAC of `msg`.
    pub fn mac(&self, msg: &[u8]) -> [u8; 32] {
        let inner = finish(self.inner, msg, 64);
        finish(self.outer, &inner, 64)
    }

    /// Checks an HMAC in constant time, without the `Vec` the provider traits take.
    pub fn verify_bytes(&self, msg: &[u8], signature: &[u8]) -> bool {
        same_tag(&self.mac(msg), signature)
    }
}

/// SHA-256's initial state (FIPS 180-4, 5.3.3).
const SHA256_IV: [u32; 8] = [
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
];

/// SHA-256 of `data`, with the same block function as the MAC: core's own in wasm, so
/// that sha2's SHA-256 code is not in the .wasm twice.
pub(crate) fn sha256(data: &[u8]) -> [u8; 32] {
    finish(SHA256_IV, data, 0)
}

/// Hashes `msg` on from `state`, which has taken `before` bytes already (a pad block for
/// the MAC), and pads as SHA-256 does: `0x80`, zeros, and the bit length of all of it.
fn finish(mut state: [u32; 8], msg: &[u8], before: u64) -> [u8; 32] {
    let (blocks, rest) = msg.as_chunks::<64>();
    compress256(&mut state, blocks);
    let mut last = [[0u8; 64]; 2];
    let tail = last.as_flattened_mut();
    tail[..rest.len()].copy_from_slice(rest);
    tail[rest.len()] = 0x80;
    // One block more when the length no longer fits after the 0x80.
    let used = if rest.len() < 56 { 1 } else { 2 };
    let bits = (before + msg.len() as u64) * 8;
    tail[64 * used - 8..64 * used].copy_from_slice(&bits.to_be_bytes());
    compress256(&mut state, &last[..used]);
    digest_bytes(&state)
}

fn digest_bytes(state: &[u32; 8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    for (bytes, word) in out.chunks_exact_mut(4).zip(state) {
        bytes.copy_from_slice(&word.to_be_bytes());
    }
    out
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
        Ok(self.mac(msg).to_vec())
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
    URL_SAFE_NO_PAD.encode(sha256(canonical.as_bytes()))
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
        ThumbprintHash::SHA256 => Ok(sha256(data).to_vec()),
        _ => Err(unsupported()),
    }
}

#[cfg(test)]
mod tests {
    use hmac::{Hmac, KeyInit, Mac};

    use super::{Hs256, same_tag};

    fn hex(text: &str) -> Vec<u8> {
        (0..text.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("hex"))
            .collect()
    }

    #[test]
    fn hmac_sha256_gives_rfc_4231s_answers() {
        // RFC 4231 section 4: test cases 1, 2, 3, 4, 6 and 7 (5 truncates the tag).
        let cases = [
            ("0b".repeat(20), hex("4869205468657265"), "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"),
            ("4a656665".to_owned(), b"what do ya want for nothing?".to_vec(), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"),
            ("aa".repeat(20), hex(&"dd".repeat(50)), "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"),
            ("0102030405060708090a0b0c0d0e0f10111213141516171819".to_owned(), hex(&"cd".repeat(50)), "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"),
            ("aa".repeat(131), b"Test Using Larger Than Block-Size Key - Hash Key First".to_vec(), "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"),
            ("aa".repeat(131), b"This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm.".to_vec(), "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"),
        ];
        for (key, data, tag) in cases {
            let key = hex(&key);
            assert_eq!(
                Hs256::new(&key).expect("key").mac(&data).to_vec(),
                hex(tag),
                "{tag}"
            );
        }
    }

    #[test]
    fn sha256_agrees_with_sha2() {
        use sha2::Digest;
        let bytes: Vec<u8> = (0..300u32).map(|i| (i * 17 + 3) as u8).collect();
        for len in 0..bytes.len() {
            let theirs: [u8; 32] = sha2::Sha256::digest(&bytes[..len]).into();
            assert_eq!(super::sha256(&bytes[..len]), theirs, "{len}");
        }
    }

    #[test]
    fn hmac_sha256_agrees_with_the_hmac_crate() {
        let bytes: Vec<u8> = (0..400u32).map(|i| (i * 31 + 7) as u8).collect();
        // Keys shorter than, as long as, and longer than a block; messages of every length
        // across several blocks, so the padding takes one block and two.
        for key_len in [1, 20, 32, 63, 64, 65, 200] {
            let key = &bytes[..key_len];
            let ours = Hs256::new(key).expect("key");
            for msg_len in 0..bytes.len() {
                let msg = &bytes[msg_len / 3..msg_len / 3 + msg_len.min(bytes.len() - msg_len / 3)];
                let mut theirs = Hmac::<sha2::Sha256>::new_from_slice(key).expect("key");
                theirs.update(msg);
                let tag: [u8; 32] = theirs.finalize().into_bytes().into();
                assert_eq!(ours.mac(msg), tag, "{key_len} {msg_len}");
                assert!(ours.verify_bytes(msg, &tag));
            }
        }
    }

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
        // Differences in several words never cancel out: the same bit flipped in two,
        // three or all four of its 8-byte words.
        for words in [&[0, 1][..], &[1, 3], &[0, 2, 3], &[0, 1, 2, 3]] {
            let mut other = tag;
            for word in words {
                other[word * 8 + 5] ^= 0x10;
            }
            assert!(!same_tag(&tag, &other), "{words:?}");
        }
        for len in [0, 16, 31, 33, 64] {
            let other: Vec<u8> = tag.iter().copied().cycle().take(len).collect();
            assert!(!same_tag(&tag, &other), "{len}");
        }
    }

    /// RFC 8037 appendix A: the Ed25519 key of A.1, its thumbprint (A.3) and the JWS of
    /// A.4, whose signature Ed25519's determinism makes exact.
    const RFC_8037_D: &str = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A";
    const RFC_8037_X: &str = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";
    const RFC_8037_THUMBPRINT: &str = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k";
    const RFC_8037_INPUT: &str = "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc";
    const RFC_8037_SIGNATURE: &str =
        "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg";

    fn b64(text: &str) -> Vec<u8> {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(text)
            .expect("base64url")
    }

    fn rfc_8037_seed() -> [u8; 32] {
        b64(RFC_8037_D).try_into().expect("32 bytes")
    }

    #[test]
    fn ed25519_gives_rfc_8037s_answers() {
        let public = super::ed25519_public(&rfc_8037_seed());
        assert_eq!(public.to_bytes().to_vec(), b64(RFC_8037_X));
        assert_eq!(
            super::Ed25519Public::from_bytes(&b64(RFC_8037_X))
                .expect("key")
                .to_bytes(),
            public.to_bytes()
        );
        assert_eq!(
            super::ed25519_thumbprint(&public.to_bytes()),
            RFC_8037_THUMBPRINT
        );
        let signature = b64(RFC_8037_SIGNATURE);
        assert!(public.verify_bytes(RFC_8037_INPUT.as_bytes(), &signature));
        assert!(!public.verify_bytes(
            b"eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmg",
            &signature
        ));
        let mut other = signature.clone();
        other[10] ^= 1;
        assert!(!public.verify_bytes(RFC_8037_INPUT.as_bytes(), &other));
        assert!(!public.verify_bytes(RFC_8037_INPUT.as_bytes(), &signature[..63]));
        // Not a key: the wrong length, or a y that is on no point of the curve.
        assert!(super::Ed25519Public::from_bytes(&[1; 31]).is_err());
        // y = 2 gives no x: (y² - 1) / (d y² + 1) is not a square modulo 2^255 - 19.
        let mut off_curve = [0; 32];
        off_curve[0] = 2;
        assert!(super::Ed25519Public::from_bytes(&off_curve).is_err());
    }

    /// The provider core installs answers whoever asks jsonwebtoken: RFC 8037's Ed25519
    /// and RFC 7515 appendix A.1's HS256 example, signed, checked and made into a JWK.
    #[test]
    fn the_installed_provider_gives_the_rfcs_answers() {
        use jsonwebtoken::crypto::{sign, verify};
        use jsonwebtoken::jwk::{Jwk, ThumbprintHash};
        use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};
        super::install_provider();

        let private = super::ed25519_encoding_key(&rfc_8037_seed()).expect("key");
        let public = DecodingKey::from_ed_components(RFC_8037_X).expect("key");
        let input = RFC_8037_INPUT.as_bytes();
        assert_eq!(
            sign(input, &private, Algorithm::EdDSA).expect("sign"),
            RFC_8037_SIGNATURE
        );
        assert_eq!(
            verify(RFC_8037_SIGNATURE, input, &public, Algorithm::EdDSA).ok(),
            Some(true)
        );
        assert_eq!(
            verify(RFC_8037_SIGNATURE, b"other", &public, Algorithm::EdDSA).ok(),
            Some(false)
        );
        // jsonwebtoken makes a JWK only from the 48-byte PKCS#8 v1 form (RFC 8410 section
        // 7: its 16-byte header, then the seed).
        let mut v1 = hex("302e020100300506032b657004220420");
        v1.extend(rfc_8037_seed());
        let v1 = EncodingKey::from_ed_der(&v1);
        assert_eq!(
            sign(input, &v1, Algorithm::EdDSA).expect("sign"),
            RFC_8037_SIGNATURE
        );
        let jwk = Jwk::from_encoding_key(&v1, Algorithm::EdDSA).expect("jwk");
        assert_eq!(
            jwk.thumbprint(ThumbprintHash::SHA256).expect("thumbprint"),
            RFC_8037_THUMBPRINT
        );
        // SHA-256 is the one thumbprint hash core carries.
        assert!(jwk.thumbprint(ThumbprintHash::SHA384).is_err());

        let key = b64(
            "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow",
        );
        let input = b"eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ";
        let tag = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let secret = EncodingKey::from_secret(&key).expect("key");
        assert_eq!(sign(input, &secret, Algorithm::HS256).expect("sign"), tag);
        let secret = DecodingKey::from_secret(&key).expect("key");
        assert_eq!(
            verify(tag, input, &secret, Algorithm::HS256).ok(),
            Some(true)
        );
        assert_eq!(
            verify(tag, b"other", &secret, Algorithm::HS256).ok(),
            Some(false)
        );

        // Only HS256 and EdDSA: the rest of jsonwebtoken's algorithms are refused, and an
        // empty secret or a key that is not Ed25519 is no key.
        for alg in [
            Algorithm::HS384,
            Algorithm::HS512,
            Algorithm::RS256,
            Algorithm::ES256,
        ] {
            assert!(
                sign(input, &EncodingKey::from_secret(&key).expect("key"), alg).is_err(),
                "{alg:?}"
            );
            assert!(verify(tag, input, &secret, alg).is_err(), "{alg:?}");
        }

        assert!(
            sign(
                input,
                &EncodingKey::from_ed_der(b"not der"),
                Algorithm::EdDSA
            )
            .is_err()
        );
        assert!(
            verify(
                RFC_8037_SIGNATURE,
                input,
                &DecodingKey::from_ed_der(&[1; 31]),
                Algorithm::EdDSA
            )
            .is_err()
        );
    }

    /// jsonwebtoken's `decode` checks that the provider's verifier is of the token's
    /// family, so the verifiers must say which algorithm they are.
    #[test]
    fn jsonwebtoken_decodes_cores_tokens_with_the_provider() {
        use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode};
        let claims = crate::Claims::new(
            "alice",
            crate::TokenId::from_random_bytes([4; 16]),
            "ci",
            crate::Life::parse("1h").expect("life"),
            1_700_000_000,
            "tokenlife",
        )
        .expect("claims");
        let read = |token: &str, key: &DecodingKey, alg: Algorithm| {
            let mut validation = Validation::new(alg);
            validation.validate_exp = false;
            validation.required_spec_claims.clear();
            decode::<crate::Claims>(token.as_bytes(), key, &validation).map(|data| data.claims)
        };
        let signer = crate::Signer::ed25519(&rfc_8037_seed()).expect("signer");
        let token = signer.sign(&claims).expect("token");
        let public = DecodingKey::from_ed_components(RFC_8037_X).expect("key");
        assert_eq!(
            read(&token, &public, Algorithm::EdDSA).ok().as_ref(),
            Some(&claims)
        );
        let signer =
            crate::Signer::hs256(b"a secret of at least thirty-two bytes!").expect("signer");
        let token = signer.sign(&claims).expect("token");
        let secret =
            DecodingKey::from_secret(b"a secret of at least thirty-two bytes!").expect("key");
        assert_eq!(
            read(&token, &secret, Algorithm::HS256).ok().as_ref(),
            Some(&claims)
        );
        let other = DecodingKey::from_secret(b"another secret of thirty-two bytes!!").expect("key");
        assert!(read(&token, &other, Algorithm::HS256).is_err());
    }
}
