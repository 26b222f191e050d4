//! Signing: the server's key, its public form and its JWKS.

use jsonwebtoken::{Algorithm, EncodingKey, Header};

use crate::keys::{self, Ed25519Public, Hs256};
use crate::verify::{Key, Verifier};
use crate::{Claims, Error};

/// The key a server signs with: HS256 from a secret, or EdDSA from an Ed25519 seed. Every
/// header carries a `kid`: for EdDSA the key's RFC 7638 thumbprint, for HS256
/// [`hs256_kid`] (a hash of the secret that does not reveal it). Randomness is the
/// caller's: core never makes a key up.
///
/// ```
/// use tokenlife_core::{Claims, Life, Signer, TokenId, VerifyOptions};
/// let signer = Signer::hs256(b"a secret of at least thirty-two bytes!")?;
/// let claims = Claims::new("alice", TokenId::from_random_bytes([3; 16]), "ci",
///     Life::parse("6 minutes")?, 1_700_000_000, "tokenlife")?;
/// let token = signer.sign(&claims)?;
/// let back = signer.verifier().verify(&token, &VerifyOptions::at(1_700_000_001.0))?;
/// assert_eq!(back, claims);
/// # Ok::<(), tokenlife_core::Error>(())
/// ```
pub struct Signer {
    header: Header,
    key: EncodingKey,
    verifying: Key,
    public: Option<[u8; 32]>,
}

/// The `kid` of an HS256 secret: the first 16 hex digits (64 bits) of
/// SHA-256(`"tokenlife hs256 kid"` ‖ secret). It names the key without revealing it: the
/// secret cannot be found from it, and a guess of the secret is no cheaper to check with it
/// than with any token the key signed.
///
/// ```
/// let kid = tokenlife_core::hs256_kid(b"a secret");
/// assert_eq!(kid.len(), 16);
/// assert_ne!(kid, tokenlife_core::hs256_kid(b"another secret"));
/// ```
pub fn hs256_kid(secret: &[u8]) -> String {
    let mut input = b"tokenlife hs256 kid".to_vec();
    input.extend_from_slice(secret);
    keys::sha256(&input)[..8]
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

impl Signer {
    /// An HS256 signer.
    ///
    /// # Errors
    ///
    /// An empty secret is refused.
    pub fn hs256(secret: &[u8]) -> Result<Signer, Error> {
        keys::install_provider();
        let kid = hs256_kid(secret);
        let verifying = Key::hs256(Some(kid.clone()), Hs256::new(secret)?);
        let key = EncodingKey::from_secret(secret)
            .map_err(|_| Error::bad_key("the HS256 secret is unusable"))?;
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(kid);
        Ok(Signer {
            header,
            key,
            verifying,
            public: None,
        })
    }

    /// An EdDSA (Ed25519) signer from a 32-byte seed.
    ///
    /// # Errors
    ///
    /// Only if the key cannot be encoded, which a 32-byte seed always can.
    pub fn ed25519(seed: &[u8; 32]) -> Result<Signer, Error> {
        keys::install_provider();
        let public: Ed25519Public = keys::ed25519_public(seed);
        let public_bytes = public.to_bytes();
        let kid = keys::ed25519_thumbprint(&public_bytes);
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(kid.clone());
        let verifying = Key::ed25519(Some(kid), public);
        Ok(Signer {
            header,
            key: keys::ed25519_encoding_key(seed)?,
            verifying,
            public: Some(public_bytes),
        })
    }

    /// Signs the claims into a compact token.
    ///
    /// # Errors
    ///
    /// Only if serialisation or the provider fails, which valid claims never make it do.
    pub fn sign(&self, claims: &Claims) -> Result<String, Error> {
        jsonwebtoken::encode(&self.header, claims, &self.key)
            .map_err(|err| Error::bad_key(format!("cannot sign: {err}")))
    }

    /// `"HS256"` or `"EdDSA"`.
    pub fn algorithm(&self) -> &'static str {
        if self.public.is_some() {
            "EdDSA"
        } else {
            "HS256"
        }
    }

    /// The `kid` put in every header (always present; an `Option` for older callers).
    pub fn kid(&self) -> Option<&str> {
        self.header.kid.as_deref()
    }

    /// A verifier for exactly this key.
    pub fn verifier(&self) -> Verifier {
        Verifier::from_keys(vec![self.verifying.clone()])
    }

    /// The key's public JWK (`kty` OKP, its `kid`, `alg` EdDSA, `use` sig), or `None` for
    /// HS256, whose secret must never be published.
    pub fn jwk(&self) -> Option<serde_json::Value> {
        use base64::Engine;
        use base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let public = self.public.as_ref()?;
        Some(serde_json::json!({
            "kty": "OKP",
            "crv": "Ed25519",
            "x": URL_SAFE_NO_PAD.encode(public),
            "kid": self.kid()?,
            "alg": "EdDSA",
            "use": "sig",
        }))
    }

    /// The key as a verifier's key, for [`Verifier::keyring`].
    pub(crate) fn verifying_key(&self) -> Key {
        self.verifying.clone()
    }

    /// The public JWKS document: the Ed25519 key with its `kid`, or no keys for HS256,
    /// whose secret must never be published.
    ///
    /// ```
    /// let signer = tokenlife_core::Signer::ed25519(&[9; 32])?;
    /// let jwks = signer.jwks();
    /// assert_eq!(jwks["keys"][0]["kid"], signer.kid().unwrap());
    /// let verifier = tokenlife_core::Verifier::from_jwks(&jwks.to_string())?;
    /// # Ok::<(), tokenlife_core::Error>(())
    /// ```
    pub fn jwks(&self) -> serde_json::Value {
        jwks_of([self])
    }
}

/// The public JWKS document of several keys (a keyring): the Ed25519 ones, in order.
///
/// ```
/// use tokenlife_core::{Signer, jwks_of};
/// let (old, new, hs) = (Signer::ed25519(&[1; 32])?, Signer::ed25519(&[2; 32])?, Signer::hs256(b"s")?);
/// let jwks = jwks_of([&old, &new, &hs]);
/// assert_eq!(jwks["keys"].as_array().map(Vec::len), Some(2));
/// assert_eq!(jwks["keys"][1]["kid"], new.kid().unwrap());
/// # Ok::<(), tokenlife_core::Error>(())
/// ```
pub fn jwks_of<'a>(signers: impl IntoIterator<Item = &'a Signer>) -> serde_json::Value {
    let keys: Vec<serde_json::Value> = signers.into_iter().filter_map(Signer::jwk).collect();
    serde_json::json!({ "keys": keys })
}

impl std::fmt::Debug for Signer {
    /// Never prints the key.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer")
            .field("alg", &self.algorithm())
            .field("kid", &self.kid())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::{Signer, hs256_kid, jwks_of};
    use crate::{Claims, Life, TokenId, TokenRecord, Verifier, VerifyOptions};

    fn claims() -> Claims {
        let life = Life::parse("1h").expect("life");
        Claims::new(
            "u",
            TokenId::from_random_bytes([4; 16]),
            "d",
            life,
            100,
            "t",
        )
        .expect("claims")
    }

    #[test]
    fn every_header_names_its_key_and_the_record_keeps_it() {
        let secret = b"the secret of the first key, 32+";
        let hs = Signer::hs256(secret).expect("hs");
        let kid = hs.kid().expect("an HS256 kid");
        assert_eq!(kid, hs256_kid(secret));
        // 16 hex digits of a hash: not the secret, nor anything that starts like it.
        assert!(
            kid.len() == 16 && kid.bytes().all(|b| b.is_ascii_hexdigit()),
            "{kid}"
        );
        assert!(!kid.contains("7468"), "{kid}");
        let token = hs.sign(&claims()).expect("sign");
        let header = crate::decode_unverified(&token)
            .expect("decode")
            .header_value();
        assert_eq!(header["kid"], kid);
        assert_eq!(
            TokenRecord::new(&claims(), &token).kid.as_deref(),
            Some(kid)
        );
        let ed = Signer::ed25519(&[3; 32]).expect("ed");
        let token = ed.sign(&claims()).expect("sign");
        assert_eq!(TokenRecord::new(&claims(), &token).kid.as_deref(), ed.kid());
        assert_eq!(
            jwks_of([&hs, &ed])["keys"].as_array().map(Vec::len),
            Some(1)
        );
        assert_eq!(hs.jwk(), None);
    }

    #[test]
    fn a_keyring_verifies_by_kid_only_and_kidless_tokens_only_under_the_named_key() {
        let old = Signer::hs256(b"old").expect("old");
        let new = Signer::hs256(b"new").expect("new");
        let retired = Signer::hs256(b"retired").expect("retired");
        let at = VerifyOptions::at(200.0);
        let ring = Verifier::keyring([&new, &old], old.kid());
        for signer in [&old, &new] {
            ring.verify(signer.sign(&claims()).expect("sign"), &at)
                .expect("kept key");
        }
        let gone = retired.sign(&claims()).expect("sign");
        assert_eq!(ring.verify(&gone, &at).unwrap_err().code(), "unknown_key");
        // A token from before headers carried a kid (the old key, no kid).
        let legacy = jsonwebtoken::encode(
            &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
            &claims(),
            &jsonwebtoken::EncodingKey::from_secret(b"old").expect("key"),
        )
        .expect("legacy token");
        ring.verify(&legacy, &at)
            .expect("the kidless key verifies it");
        let no_kidless = Verifier::keyring([&new, &old], None);
        assert_eq!(
            no_kidless.verify(&legacy, &at).unwrap_err().code(),
            "unknown_key"
        );
        // The kidless key is not a fallback for a kid it does not have.
        let named_wrong = Verifier::keyring([&new], new.kid());
        assert_eq!(
            named_wrong.verify(&gone, &at).unwrap_err().code(),
            "unknown_key"
        );
        // A kidless token signed by another key is no better for being kidless.
        let forged = jsonwebtoken::encode(
            &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
            &claims(),
            &jsonwebtoken::EncodingKey::from_secret(b"retired").expect("key"),
        )
        .expect("token");
        assert_eq!(
            ring.verify(&forged, &at).unwrap_err().code(),
            "bad_signature"
        );
    }

    #[test]
    fn the_algorithm_is_named_as_the_header_says() {
        let secret = [7u8; 32];
        for (signer, alg) in [
            (Signer::hs256(&secret).expect("hs"), "HS256"),
            (Signer::ed25519(&[1; 32]).expect("ed"), "EdDSA"),
        ] {
            assert_eq!(signer.algorithm(), alg);
            let debug = format!("{signer:?}");
            assert!(
                debug.starts_with("Signer") && debug.contains(alg),
                "{debug}"
            );
            assert!(!debug.contains("7, 7"), "{debug}");
        }
    }
}
