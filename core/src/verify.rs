//! Verification: the key pinned to its algorithm, the signature, then the claims.

use std::collections::HashSet;
use std::ops::Range;

use serde::Deserialize;

use crate::bytes::same;
use crate::claims::mismatch;
use crate::jws::{Compact, Header};
use crate::keys::{Ed25519Public, Hs256};
use crate::{Claims, ClaimsRef, Error, ErrorKind};

/// Verifies tokens against one key or a JWKS; build it once and reuse it.
///
/// Each key is pinned to its algorithm: an HS256 secret never verifies an EdDSA token nor
/// the reverse, and `alg: none` never verifies.
///
/// ```
/// use tokenlife_core::{Verifier, VerifyOptions};
/// let verifier = Verifier::hs256(b"secret")?;
/// let err = verifier.verify("e30.e30.", &VerifyOptions::at(0.0)).unwrap_err();
/// assert_eq!(err.code(), "malformed");
/// # Ok::<(), tokenlife_core::Error>(())
/// ```
#[derive(Clone)]
pub struct Verifier {
    keys: Vec<Key>,
    /// Headers as issuers write them for these keys, still encoded, with the key each
    /// one selects: a token with one of these skips decoding and parsing its header.
    /// Each was put here by the full path ([`Verifier::key_for`]), so it selects exactly
    /// what that path would.
    known_headers: Vec<(String, usize)>,
    /// Whose claims the tokens carry: tokenlife's, or Specter's ([`Verifier::specter_hs256`]).
    claim_set: ClaimSet,
}

/// The claims a verifier reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ClaimSet {
    /// tokenlife's: Specter's names with `iat`, `sub`, `jti` and `iss`.
    Tokenlife,
    /// Specter's own (`crate::specter`): `username`, `jwt_token_id`,
    /// `jwt_token_description`, `exp`, and no `iss`, `sub` or `jti`.
    Specter,
}

#[derive(Clone)]
pub(crate) struct Key {
    kid: Option<String>,
    /// Also chosen by a header without a `kid` ([`Verifier::keyring`]'s legacy key).
    kidless: bool,
    material: Material,
}

#[derive(Clone)]
enum Material {
    Hs256(Hs256),
    Ed25519(Ed25519Public),
}

impl Key {
    pub fn hs256(kid: Option<String>, key: Hs256) -> Key {
        Key {
            kid,
            kidless: false,
            material: Material::Hs256(key),
        }
    }

    pub fn ed25519(kid: Option<String>, key: Ed25519Public) -> Key {
        Key {
            kid,
            kidless: false,
            material: Material::Ed25519(key),
        }
    }

    fn allows(&self, alg: &str) -> bool {
        match self.material {
            Material::Hs256(_) => alg == "HS256",
            // "Ed25519" is the fully-specified name of RFC 9864 for the same signature.
            Material::Ed25519(_) => alg == "EdDSA" || alg == "Ed25519",
        }
    }

    fn check(&self, message: &[u8], signature: &[u8]) -> Result<(), Error> {
        let ok = match &self.material {
            Material::Hs256(key) => key.verify_bytes(message, signature),
            Material::Ed25519(key) => key.verify_bytes(message, signature),
        };
        if ok {
            Ok(())
        } else {
            Err(ErrorKind::BadSignature.into())
        }
    }
}

/// What a verification checks besides the signature. `now` has no default on purpose:
/// the caller's clock is the only clock.
#[derive(Debug, Clone, Copy)]
pub struct VerifyOptions<'a> {
    /// The time of the check, Unix seconds.
    pub now: f64,
    /// Seconds of grace after `exp` and before `nbf`; 0 unless asked for.
    pub leeway: u64,
    /// The required `iss`, if any.
    pub issuer: Option<&'a str>,
    /// Ids of revoked tokens, if any.
    pub revoked: Option<&'a HashSet<String>>,
}

impl<'a> VerifyOptions<'a> {
    /// Options for a check at `now` with no leeway, any issuer and no revoked set.
    pub fn at(now: f64) -> Self {
        VerifyOptions {
            now,
            leeway: 0,
            issuer: None,
            revoked: None,
        }
    }

    /// The same options with a leeway in seconds.
    pub fn leeway(self, leeway: u64) -> Self {
        VerifyOptions { leeway, ..self }
    }

    /// The same options requiring this `iss`.
    pub fn issuer(self, issuer: &'a str) -> Self {
        VerifyOptions {
            issuer: Some(issuer),
            ..self
        }
    }

    /// The same options refusing these token ids.
    pub fn revoked(self, revoked: &'a HashSet<String>) -> Self {
        VerifyOptions {
            revoked: Some(revoked),
            ..self
        }
    }
}

impl Verifier {
    pub(crate) fn from_keys(keys: Vec<Key>) -> Verifier {
        let mut verifier = Verifier {
            keys,
            known_headers: Vec::new(),
            claim_set: ClaimSet::Tokenlife,
        };
        verifier.known_headers = verifier.common_headers();
        verifier
    }

    /// The headers jsonwebtoken (this crate's signer), jose and most libraries write for
    /// each key, encoded, with the key the full path selects for them.
    fn common_headers(&self) -> Vec<(String, usize)> {
        let mut known: Vec<(String, usize)> = Vec::new();
        for key in &self.keys {
            let alg = match key.material {
                Material::Hs256(_) => r#""alg":"HS256""#,
                Material::Ed25519(_) => r#""alg":"EdDSA""#,
            };
            let typ = r#""typ":"JWT""#;
            // A kid is any string: written as JSON, escapes and all.
            let kid = key
                .kid
                .as_deref()
                .and_then(|kid| serde_json::to_string(kid).ok())
                .map(|kid| format!(r#""kid":{kid}"#));
            let shapes = match kid.as_deref() {
                None => vec![vec![typ, alg], vec![alg, typ], vec![alg]],
                // The shapes without a `kid` too: older tokens, or other issuers, may have
                // none; they are known only where the full path picks a key for them.
                Some(kid) => vec![
                    vec![typ, alg, kid],
                    vec![alg, typ, kid],
                    vec![alg, kid, typ],
                    vec![alg, kid],
                    vec![kid, alg],
                    vec![typ, alg],
                    vec![alg, typ],
                    vec![alg],
                ],
            };
            for members in shapes {
                let shape = format!("{{{}}}", members.join(","));
                let Ok(header) = Header::parse(shape.as_bytes()) else {
                    continue;
                };
                if let Ok(index) = self.key_for(&header) {
                    let encoded = crate::base64url::encode(shape.as_bytes());
                    if !known.iter().any(|(known, _)| *known == encoded) {
                        known.push((encoded, index));
                    }
                }
            }
        }
        known
    }

    /// A verifier of every key of a keyring, each chosen by its `kid` only: a token whose
    /// `kid` names none of them is `unknown_key`, never tried under another. `kidless`
    /// names the one key (if any) that also verifies tokens with no `kid` at all: the key
    /// that signed before headers carried one (HS256 tokens of an older tokenlife).
    ///
    /// ```
    /// use tokenlife_core::{Claims, Life, Signer, TokenId, Verifier, VerifyOptions};
    /// let (old, new) = (Signer::hs256(b"old secret")?, Signer::ed25519(&[5; 32])?);
    /// let claims = Claims::new("alice", TokenId::from_random_bytes([1; 16]), "ci",
    ///     Life::parse("6m")?, 100, "tokenlife")?;
    /// let ring = Verifier::keyring([&new, &old], None);
    /// for signer in [&old, &new] {
    ///     ring.verify(signer.sign(&claims)?, &VerifyOptions::at(200.0))?;
    /// }
    /// let other = Signer::hs256(b"retired")?.sign(&claims)?;
    /// assert_eq!(ring.verify(other, &VerifyOptions::at(200.0)).unwrap_err().code(), "unknown_key");
    /// # Ok::<(), tokenlife_core::Error>(())
    /// ```
    pub fn keyring<'a>(
        signers: impl IntoIterator<Item = &'a crate::Signer>,
        kidless: Option<&str>,
    ) -> Verifier {
        let keys = signers
            .into_iter()
            .map(|signer| {
                let mut key = signer.verifying_key();
                key.kidless = kidless.is_some() && key.kid.as_deref() == kidless;
                key
            })
            .collect();
        Verifier::from_keys(keys)
    }

    /// A verifier for HS256 tokens signed with `secret`.
    ///
    /// # Errors
    ///
    /// An empty secret is refused.
    pub fn hs256(secret: &[u8]) -> Result<Verifier, Error> {
        Ok(Verifier::from_keys(vec![Key::hs256(
            None,
            Hs256::new(secret)?,
        )]))
    }

    /// A verifier for the tokens Specter Desktop issued, HS256 under its `SECRET_KEY`
    /// (`secret`, the key's UTF-8 bytes), with Specter's claim set: `username`,
    /// `jwt_token_id`, `jwt_token_description` and `exp` required, `iat` optional, no `iss`,
    /// `sub` or `jti` (a token with any of them is `claim_mismatch`). The claims it returns
    /// carry `sub` = `username`, `jti` = `jwt_token_id` and an empty `iss`, so an
    /// `issuer` option refuses every token. Every other check is [`Verifier::verify`]'s.
    ///
    /// ```
    /// use tokenlife_core::{Verifier, VerifyOptions};
    /// // A token made by Specter's code (PyJWT) with the key "specter secret key".
    /// let token = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ1c2VybmFtZSI6ImFsaWNlIiwiand0X3Rva2VuX2lkIjoiNWI5ZTFhNTItMTExMS00YzNhLTlmMDAtMDAwMDAwMDAwMGExIiwiand0X3Rva2VuX2Rlc2NyaXB0aW9uIjoid2FsbGV0IHNjcmlwdCIsImV4cCI6NDEwMjQ0NDgwMCwiaWF0IjoxNzY3MjI1NjAwfQ.M__q7wVrYF6pOlQlbAhORKh4UZw1PgR6eFziz4DbHOg";
    /// let claims = Verifier::specter_hs256(b"specter secret key")?
    ///     .verify(token, &VerifyOptions::at(1_800_000_000.0))?;
    /// assert_eq!((claims.username.as_str(), claims.sub.as_str()), ("alice", "alice"));
    /// assert_eq!(claims.exp - claims.iat, 2_335_219_200);
    /// // The same key does not make it a tokenlife token, nor the reverse.
    /// let err = Verifier::hs256(b"specter secret key")?.verify(token, &VerifyOptions::at(0.0));
    /// assert_eq!(err.unwrap_err().code(), "malformed");
    /// # Ok::<(), tokenlife_core::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// An empty secret is refused.
    pub fn specter_hs256(secret: &[u8]) -> Result<Verifier, Error> {
        let mut verifier = Verifier::hs256(secret)?;
        verifier.claim_set = ClaimSet::Specter;
        Ok(verifier)
    }

    /// A verifier for EdDSA tokens from a raw 32-byte Ed25519 public key.
    ///
    /// # Errors
    ///
    /// Bytes that are not a valid Ed25519 point.
    pub fn ed25519(public: &[u8], kid: Option<String>) -> Result<Verifier, Error> {
        Ok(Verifier::from_keys(vec![Key::ed25519(
            kid,
            Ed25519Public::from_bytes(public)?,
        )]))
    }

    /// A verifier from a JWKS document (`{"keys": [...]}`). Ed25519 (`OKP`) keys and
    /// HS256 (`oct`) keys are used; keys of other types are skipped, since nothing here
    /// can verify them.
    ///
    /// # Errors
    ///
    /// Not JSON, a usable key with bad material, or no usable key at all.
    pub fn from_jwks(jwks: &str) -> Result<Verifier, Error> {
        let set: JwkSet = serde_json::from_str(jwks)
            .map_err(|err| Error::bad_key(format!("not a JWKS document: {err}")))?;
        let mut keys = Vec::new();
        for jwk in set.keys {
            if jwk.key_use.as_deref().is_some_and(|u| u != "sig") {
                continue;
            }
            match (jwk.kty.as_str(), jwk.crv.as_deref()) {
                ("OKP", Some("Ed25519")) => {
                    let x = jwk
                        .x
                        .ok_or_else(|| Error::bad_key("an OKP key needs \"x\""))?;
                    let bytes = crate::jws::decode_part(x.as_bytes(), "x")
                        .map_err(|_| Error::bad_key("\"x\" is not base64url"))?;
                    keys.push(Key::ed25519(jwk.kid, Ed25519Public::from_bytes(&bytes)?));
                }
                ("oct", _) if jwk.alg.as_deref().is_none_or(|alg| alg == "HS256") => {
                    let k = jwk
                        .k
                        .ok_or_else(|| Error::bad_key("an oct key needs \"k\""))?;
                    let bytes = crate::jws::decode_part(k.as_bytes(), "k")
                        .map_err(|_| Error::bad_key("\"k\" is not base64url"))?;
                    keys.push(Key::hs256(jwk.kid, Hs256::new(&bytes)?));
                }
                _ => {}
            }
        }
        if keys.is_empty() {
            return Err(Error::bad_key(
                "the JWKS has no Ed25519 or HS256 signing key",
            ));
        }
        Ok(Verifier::from_keys(keys))
    }

    /// Verifies `token` and returns its claims. The token is given as text or as bytes
    /// (an HTTP header's value, say); bytes need not be UTF-8, since any byte outside
    /// base64url makes a token malformed.
    ///
    /// The checks, in order: the token's form, header and parts (`malformed`; `crit` is
    /// refused); its key by `kid`
    /// (`unknown_key`); the header's `alg` against that key (`alg_not_allowed`); the
    /// signature (`bad_signature`); the claims' form (`malformed`, `claim_mismatch` when
    /// `sub`/`jti` disagree with `username`/`jwt_token_id`); `exp`, with the token refused
    /// from `exp` on unless a leeway is given (`expired`); `nbf` (`not_yet_valid`); the
    /// issuer (`claim_mismatch`); the revoked set (`revoked`).
    ///
    /// # Errors
    ///
    /// The first check that fails, as an [`Error`] whose `code()` is the SPEC's.
    pub fn verify(
        &self,
        token: impl AsRef<[u8]>,
        options: &VerifyOptions<'_>,
    ) -> Result<Claims, Error> {
        let token = token.as_ref();
        // The decoded parts are shorter than the token: one allocation, no growing.
        self.verify_in(token, options, &mut Vec::with_capacity(token.len()))
            .map(ClaimsRef::into_owned)
    }

    /// [`Verifier::verify`], with the token decoded into `scratch` (overwritten) and the
    /// claims borrowed from it: a caller that keeps `scratch` between calls verifies
    /// without allocating.
    ///
    /// ```
    /// use tokenlife_core::{Claims, Life, Signer, TokenId, Verifier, VerifyOptions};
    /// let claims = Claims::new("alice", TokenId::from_random_bytes([1; 16]), "ci",
    ///     Life::parse("6m")?, 100, "tokenlife")?;
    /// let token = Signer::hs256(b"secret")?.sign(&claims)?;
    /// let mut scratch = Vec::new();
    /// let seen = Verifier::hs256(b"secret")?.verify_in(&token, &VerifyOptions::at(200.0), &mut scratch)?;
    /// assert_eq!(seen.username, "alice");
    /// # Ok::<(), tokenlife_core::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// As [`Verifier::verify`].
    pub fn verify_in<'b>(
        &self,
        token: impl AsRef<[u8]>,
        options: &VerifyOptions<'_>,
        scratch: &'b mut Vec<u8>,
    ) -> Result<ClaimsRef<'b>, Error> {
        self.claims_in(token.as_ref(), options, scratch)
    }

    /// [`Verifier::verify_in`] on bytes: one copy of the code whatever the callers pass.
    fn claims_in<'b>(
        &self,
        token: &[u8],
        options: &VerifyOptions<'_>,
        scratch: &'b mut Vec<u8>,
    ) -> Result<ClaimsRef<'b>, Error> {
        let payload = self.check_signature(token, scratch)?;
        let scratch: &'b Vec<u8> = scratch;
        let text = crate::jws::utf8(&scratch[payload], "claims")?;
        let claims = match self.claim_set {
            ClaimSet::Tokenlife => ClaimsRef::parse(text)?,
            ClaimSet::Specter => crate::specter::read_claims(text)?,
        };
        claims.check_twins()?;
        check_times(claims.exp, claims.nbf, options)?;
        if let Some(issuer) = options.issuer
            && claims.iss != issuer
        {
            return Err(mismatch(
                "iss",
                format!("expected \"{issuer}\", found \"{}\"", claims.iss),
            ));
        }
        if options
            .revoked
            .is_some_and(|revoked| revoked.contains(&*claims.jwt_token_id))
        {
            return Err(ErrorKind::Revoked {
                id: claims.jwt_token_id.into_owned(),
            }
            .into());
        }
        Ok(claims)
    }

    /// Decodes the token into `scratch` (overwritten) and checks its header, key,
    /// algorithm and signature; returns where the payload is in `scratch`.
    fn check_signature(&self, token: &[u8], scratch: &mut Vec<u8>) -> Result<Range<usize>, Error> {
        // Every part is decoded before any key is tried: garbage is `malformed`, whatever
        // its signature, and costs no HMAC.
        let compact = Compact::split(token)?;
        let parts = compact.decode_into(scratch)?;
        let known = self
            .known_headers
            .iter()
            .find(|(header, _)| same(header.as_bytes(), compact.header));
        let key = match known {
            Some(&(_, key)) => key,
            None => {
                let header = compact.decode_header_into(scratch, &parts)?;
                self.key_for(&Header::parse(&scratch[header])?)?
            }
        };
        self.keys[key].check(compact.signing_input(), &scratch[parts.signature])?;
        Ok(parts.payload)
    }

    /// The index of the key a header selects and allows.
    fn key_for(&self, header: &Header<'_>) -> Result<usize, Error> {
        header.reject_crit()?;
        let key = self.select(header.kid.as_deref())?;
        if !self.keys[key].allows(&header.alg) {
            return Err(ErrorKind::AlgNotAllowed {
                alg: header.alg.clone().into_owned(),
            }
            .into());
        }
        Ok(key)
    }

    fn select(&self, kid: Option<&str>) -> Result<usize, Error> {
        let unknown = || {
            Error::from(ErrorKind::UnknownKey {
                kid: kid.map(str::to_owned),
            })
        };
        let unnamed = || {
            self.keys
                .iter()
                .position(|key| key.kid.is_none() || key.kidless)
        };
        match kid {
            // A named key is chosen by its name only: an unknown `kid` never falls back to
            // a key without one, unless that key is the verifier's only key (a bare secret
            // or public key, where no name can choose between keys).
            Some(kid) => self
                .keys
                .iter()
                .position(|key| key.kid.as_deref() == Some(kid))
                .or_else(|| (self.keys.len() == 1 && self.keys[0].kid.is_none()).then_some(0))
                .ok_or_else(unknown),
            None if self.keys.len() == 1 => Ok(0),
            None => unnamed().ok_or_else(unknown),
        }
    }
}

fn check_times(exp: i64, nbf: Option<i64>, options: &VerifyOptions<'_>) -> Result<(), Error> {
    let leeway = options.leeway as f64;
    if options.now >= exp as f64 + leeway {
        return Err(ErrorKind::Expired {
            exp,
            now: options.now,
        }
        .into());
    }
    // A negative `nbf` (before 1970) is no time an issuer means; jsonwebtoken refuses it
    // as malformed (its times are unsigned), and so does core (found by fuzz/).
    if nbf.is_some_and(|nbf| nbf < 0) {
        return Err(Error::malformed("claims: `nbf` is negative"));
    }
    if let Some(nbf) = nbf
        && options.now + leeway < nbf as f64
    {
        return Err(ErrorKind::NotYetValid {
            nbf,
            now: options.now,
        }
        .into());
    }
    Ok(())
}

#[derive(Deserialize)]
struct JwkSet {
    keys: Vec<Jwk>,
}

#[derive(Deserialize)]
struct Jwk {
    kty: String,
    #[serde(default)]
    crv: Option<String>,
    #[serde(default)]
    x: Option<String>,
    #[serde(default)]
    k: Option<String>,
    #[serde(default)]
    kid: Option<String>,
    #[serde(default)]
    alg: Option<String>,
    #[serde(default, rename = "use")]
    key_use: Option<String>,
}

impl std::fmt::Debug for Verifier {
    /// Lists the key ids, never the key material.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.keys.iter().map(|key| &key.kid))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use ed25519_dalek::Signer as _;

    use super::{Verifier, VerifyOptions};
    use crate::keys::Hs256;

    const CLAIMS: &str = r#"{"username":"u","jwt_token_id":"i","jwt_token_description":"","iat":1,"exp":100,"sub":"u","jti":"i","iss":"t"}"#;

    /// A token with exactly this header text, signed as `alg` says.
    fn token(header: &str, secret: &[u8], seed: &[u8; 32]) -> String {
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header),
            URL_SAFE_NO_PAD.encode(CLAIMS)
        );
        let signature = if header.contains("HS256") {
            signature::Signer::<Vec<u8>>::try_sign(
                &Hs256::new(secret).expect("key"),
                input.as_bytes(),
            )
            .expect("sign")
        } else {
            ed25519_dalek::SigningKey::from_bytes(seed)
                .sign(input.as_bytes())
                .to_bytes()
                .to_vec()
        };
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
    }

    /// The Ed25519 public key of `seed` in base64url, as a JWK's `x`.
    fn ed_x(seed: &[u8; 32]) -> String {
        URL_SAFE_NO_PAD.encode(
            ed25519_dalek::SigningKey::from_bytes(seed)
                .verifying_key()
                .to_bytes(),
        )
    }

    /// An `OKP` JWK of the Ed25519 key of `seed`, named `kid` (JSON text, escapes kept).
    fn ed_jwk(kid: &str, seed: &[u8; 32]) -> String {
        format!(
            r#"{{"kty":"OKP","crv":"Ed25519","kid":"{kid}","x":"{}"}}"#,
            ed_x(seed)
        )
    }

    /// An `oct` JWK of the HS256 key `b"secret"`, named `kid` if given.
    fn oct_jwk(kid: Option<&str>) -> String {
        let k = URL_SAFE_NO_PAD.encode(b"secret");
        match kid {
            Some(kid) => format!(r#"{{"kty":"oct","kid":"{kid}","k":"{k}"}}"#),
            None => format!(r#"{{"kty":"oct","k":"{k}"}}"#),
        }
    }

    /// A JWKS of `keys`, in their order.
    fn jwks(keys: &[String]) -> String {
        format!(r#"{{"keys":[{}]}}"#, keys.join(","))
    }

    /// What a verifier of the set `jwks` says of `token` at 50: its `exp`, or the code.
    fn verdict(jwks: &str, token: &str) -> Result<i64, &'static str> {
        Verifier::from_jwks(jwks)
            .expect("jwks")
            .verify(token, &VerifyOptions::at(50.0))
            .map(|c| c.exp)
            .map_err(|e| e.code())
    }

    #[test]
    fn common_headers_take_the_short_way_to_the_same_answers() {
        let public = |seed: &[u8; 32]| {
            ed25519_dalek::SigningKey::from_bytes(seed)
                .verifying_key()
                .to_bytes()
        };
        let jwks = jwks(&[
            ed_jwk("a", &[1; 32]),
            ed_jwk(r#"b\"q"#, &[2; 32]),
            oct_jwk(None),
        ]);
        let verifiers = [
            Verifier::hs256(b"secret").expect("hs"),
            Verifier::ed25519(&public(&[1; 32]), Some("a".into())).expect("ed"),
            Verifier::ed25519(&public(&[1; 32]), None).expect("ed"),
            Verifier::from_jwks(&jwks).expect("jwks"),
        ];
        let mut short = 0;
        for verifier in &verifiers {
            for alg in ["HS256", "EdDSA", "none"] {
                for kid in [None, Some(r#""a""#), Some(r#""b\"q""#), Some(r#""c""#)] {
                    for seed in [[1; 32], [2; 32]] {
                        for typ in [true, false] {
                            let mut members = vec![format!(r#""alg":"{alg}""#)];
                            if typ {
                                members.insert(0, r#""typ":"JWT""#.to_owned());
                            }
                            if let Some(kid) = kid {
                                members.push(format!(r#""kid":{kid}"#));
                            }
                            let header = format!("{{{}}}", members.join(","));
                            // The same header with a space: never a known one, so the full way.
                            let spaced = format!("{{ {}}}", members.join(","));
                            let fast = token(&header, b"secret", &seed);
                            let full = token(&spaced, b"secret", &seed);
                            let at = VerifyOptions::at(50.0);
                            assert_eq!(
                                verifier.verify(&fast, &at).map_err(|e| e.code()),
                                verifier.verify(&full, &at).map_err(|e| e.code()),
                                "{header} {verifier:?}"
                            );
                            let encoded = URL_SAFE_NO_PAD.encode(&header);
                            short += usize::from(
                                verifier.known_headers.iter().any(|(h, _)| *h == encoded),
                            );
                        }
                    }
                }
            }
        }
        // The short way was taken, and not only by tokens that fail.
        assert!(short >= 12, "{short}");
    }

    /// The smallest step below `x` an `f64` can take.
    fn just_below(x: f64) -> f64 {
        f64::from_bits(x.to_bits() - 1)
    }

    /// SPEC 3: rejected at `exp` exactly, no default leeway; a leeway is explicit and
    /// applies after `exp` and before `nbf`.
    #[test]
    fn times_are_checked_at_exp_and_nbf_with_the_leeway_given() {
        use super::check_times;
        let code = |exp, nbf, now, leeway| {
            check_times(exp, nbf, &VerifyOptions::at(now).leeway(leeway)).map_err(|e| e.code())
        };
        assert_eq!(code(100, None, 99.0, 0), Ok(()));
        assert_eq!(code(100, None, just_below(100.0), 0), Ok(()));
        assert_eq!(code(100, None, 100.0, 0), Err("expired"));
        assert_eq!(code(100, None, 100.5, 0), Err("expired"));
        assert_eq!(code(100, None, 100.0, 5), Ok(()));
        assert_eq!(code(100, None, just_below(105.0), 5), Ok(()));
        assert_eq!(code(100, None, 105.0, 5), Err("expired"));
        // nbf: valid from nbf on, or from nbf - leeway.
        assert_eq!(code(100, Some(50), 50.0, 0), Ok(()));
        assert_eq!(
            code(100, Some(50), just_below(50.0), 0),
            Err("not_yet_valid")
        );
        assert_eq!(code(100, Some(50), 45.0, 5), Ok(()));
        assert_eq!(
            code(100, Some(50), just_below(45.0), 5),
            Err("not_yet_valid")
        );
        assert_eq!(code(100, Some(50), 10.0, 0), Err("not_yet_valid"));
        // Expiry is reported first; the error carries the times.
        assert_eq!(code(100, Some(200), 150.0, 0), Err("expired"));
        let err = check_times(100, Some(200), &VerifyOptions::at(20.0)).unwrap_err();
        assert_eq!(err.to_string(), "the token is not valid before 200");
        let err = check_times(100, None, &VerifyOptions::at(120.0)).unwrap_err();
        assert_eq!(err.to_string(), "the token expired at 100");
    }

    /// An `oct` key is an HS256 key when its `alg` says so or says nothing; one meant for
    /// another algorithm, or not for signatures, is skipped.
    #[test]
    fn jwks_oct_keys_are_used_for_hs256_only() {
        let k = URL_SAFE_NO_PAD.encode(b"secret");
        let good = token(r#"{"alg":"HS256"}"#, b"secret", &[1; 32]);
        let at = VerifyOptions::at(50.0);
        for (extra, usable) in [
            ("", true),
            (r#","alg":"HS256""#, true),
            (r#","alg":"HS256","use":"sig""#, true),
            (r#","alg":"HS512""#, false),
            (r#","alg":"hs256""#, false),
            (r#","use":"enc""#, false),
        ] {
            let jwks = format!(r#"{{"keys":[{{"kty":"oct","k":"{k}"{extra}}}]}}"#);
            match Verifier::from_jwks(&jwks) {
                Ok(verifier) => {
                    assert!(usable, "{jwks}");
                    assert_eq!(verifier.verify(&good, &at).map(|c| c.exp), Ok(100));
                }
                Err(err) => {
                    assert!(!usable, "{jwks}: {err}");
                    assert_eq!(err.code(), "unknown_key");
                }
            }
        }
    }

    /// A token without `kid` uses the only key, or else the key without a `kid`.
    #[test]
    fn a_token_without_kid_takes_the_unnamed_key() {
        let hs = token(r#"{"alg":"HS256"}"#, b"secret", &[1; 32]);
        let eddsa = token(r#"{"alg":"EdDSA"}"#, b"", &[1; 32]);
        let named_ed_and_unnamed_oct = jwks(&[ed_jwk("a", &[1; 32]), oct_jwk(None)]);
        assert_eq!(verdict(&named_ed_and_unnamed_oct, &hs), Ok(100));
        assert_eq!(
            verdict(&named_ed_and_unnamed_oct, &eddsa),
            Err("alg_not_allowed")
        );
        let both_named = jwks(&[ed_jwk("a", &[1; 32]), oct_jwk(Some("b"))]);
        assert_eq!(verdict(&both_named, &hs), Err("unknown_key"));
        let only_named = jwks(&[oct_jwk(Some("b"))]);
        assert_eq!(verdict(&only_named, &hs), Ok(100));
    }

    /// A token naming a `kid` the set does not hold is refused (`unknown_key`), even when
    /// the set has a key without a `kid` that would check its signature; a verifier whose
    /// only key has no `kid` takes it whatever it names.
    #[test]
    fn an_unknown_kid_never_falls_back_to_an_unnamed_key() {
        let named_c = token(r#"{"alg":"HS256","kid":"c"}"#, b"secret", &[1; 32]);
        let named_b = token(r#"{"alg":"HS256","kid":"b"}"#, b"secret", &[1; 32]);
        let named_ed_and_unnamed_oct = jwks(&[ed_jwk("a", &[1; 32]), oct_jwk(None)]);
        assert_eq!(
            verdict(&named_ed_and_unnamed_oct, &named_c),
            Err("unknown_key")
        );
        let named_oct_and_unnamed_oct = jwks(&[oct_jwk(Some("b")), oct_jwk(None)]);
        assert_eq!(verdict(&named_oct_and_unnamed_oct, &named_b), Ok(100));
        assert_eq!(
            verdict(&named_oct_and_unnamed_oct, &named_c),
            Err("unknown_key")
        );
        let only_unnamed = jwks(&[oct_jwk(None)]);
        assert_eq!(verdict(&only_unnamed, &named_c), Ok(100));
        let secret = Verifier::hs256(b"secret").expect("hs");
        let at = VerifyOptions::at(50.0);
        assert_eq!(secret.verify(&named_c, &at).map(|c| c.exp), Ok(100));
    }

    /// Debug output names the keys by id and never shows their material.
    #[test]
    fn debug_lists_key_ids_only() {
        let verifier = Verifier::hs256(b"secret").expect("hs");
        assert_eq!(format!("{verifier:?}"), "[None]");
        let public = ed25519_dalek::SigningKey::from_bytes(&[1; 32])
            .verifying_key()
            .to_bytes();
        let verifier = Verifier::ed25519(&public, Some("a".into())).expect("ed");
        assert_eq!(format!("{verifier:?}"), r#"[Some("a")]"#);
    }

    #[test]
    fn a_token_is_read_the_same_as_text_and_as_bytes() {
        let verifier = Verifier::hs256(b"secret").expect("hs");
        let good = token(r#"{"alg":"HS256"}"#, b"secret", &[1; 32]);
        let at = VerifyOptions::at(50.0);
        let code = |token: &[u8]| {
            verifier
                .verify(token, &at)
                .map(|c| c.username)
                .map_err(|e| e.code())
        };
        for text in [
            good.clone(),
            format!(" \t{good}\r\n"),
            format!("\u{a0}{good}\u{2003}"),
            format!("{good}\u{b}"),
            format!("{good}é"),
            good.replacen('.', "\u{2e}\u{301}", 1),
            String::new(),
        ] {
            assert_eq!(
                code(text.as_bytes()),
                verifier
                    .verify(&text, &at)
                    .map(|c| c.username)
                    .map_err(|e| e.code()),
                "{text:?}"
            );
        }
        assert_eq!(
            code(format!(" {good}\u{a0}").as_bytes()),
            Ok("u".to_owned())
        );
        // Bytes that are not UTF-8 are malformed wherever they are.
        for bad in [b"\xff".as_slice(), b" \xfe", b"\xc3"] {
            for at_start in [true, false] {
                let mut bytes = good.clone().into_bytes();
                if at_start {
                    bytes.splice(0..0, bad.iter().copied());
                } else {
                    bytes.extend_from_slice(bad);
                }
                assert_eq!(code(&bytes), Err("malformed"), "{bytes:?}");
            }
            let mut bytes = good.clone().into_bytes();
            bytes.splice(40..40, bad.iter().copied());
            assert_eq!(code(&bytes), Err("malformed"), "{bytes:?}");
        }
    }
}
