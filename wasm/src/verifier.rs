//! `Verifier`: core's verifier behind the SPEC's JavaScript name.

use std::collections::HashSet;

use js_sys::{Array, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;

use crate::options::{self, VerifyOptions};
use crate::{error, to_js, token_str};

/// Verifies tokens against an HS256 secret or a JWKS document. Build it once and reuse
/// it: the key is decoded (and the HMAC state precomputed) when it is built.
///
/// Each key is pinned to its algorithm: an HS256 secret never verifies an EdDSA token
/// nor the reverse, and `alg: none` never verifies.
#[wasm_bindgen]
pub struct Verifier(tokenlife_core::Verifier);

#[wasm_bindgen]
impl Verifier {
    /// A verifier from `{ secret }` (HS256), `{ jwks }` (a JWKS document, as an object or
    /// as JSON text), a JWKS object itself (`{ keys: [...] }`), or a bare secret (a string,
    /// used as its UTF-8 bytes, or a `Uint8Array`).
    ///
    /// @throws {TokenlifeError} `unknown_key` when the key is unusable (an empty secret, a
    /// JWKS without an Ed25519 or HS256 signing key).
    /// @throws {TypeError} when `key` is none of the above.
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(unchecked_param_type = "VerifierKey")] key: JsValue,
    ) -> Result<Verifier, JsValue> {
        if key.is_string() || key.is_instance_of::<Uint8Array>() {
            return Verifier::from_secret(key);
        }
        if !key.is_object() {
            return Err(error::type_error(KEY_HELP));
        }
        let secret = property(&key, "secret");
        let jwks = property(&key, "jwks");
        match (secret.is_undefined(), jwks.is_undefined()) {
            (false, true) => Verifier::from_secret(secret),
            (true, false) => Verifier::from_jwks(jwks),
            (true, true) if !property(&key, "keys").is_undefined() => Verifier::from_jwks(key),
            _ => Err(error::type_error(KEY_HELP)),
        }
    }

    /// A verifier for HS256 tokens signed with `secret`: a string (its UTF-8 bytes, as
    /// `jose` and `jsonwebtoken` take it) or raw bytes.
    ///
    /// @throws {TokenlifeError} `unknown_key` for an empty secret.
    #[wasm_bindgen(js_name = fromSecret)]
    pub fn from_secret(
        #[wasm_bindgen(unchecked_param_type = "string | Uint8Array")] secret: JsValue,
    ) -> Result<Verifier, JsValue> {
        let bytes = if let Some(text) = secret.as_string() {
            text.into_bytes()
        } else if let Some(bytes) = secret.dyn_ref::<Uint8Array>() {
            bytes.to_vec()
        } else {
            return Err(error::type_error(
                "an HS256 secret is a string or a Uint8Array",
            ));
        };
        tokenlife_core::Verifier::hs256(&bytes)
            .map(Verifier)
            .map_err(error::into_error)
    }

    /// A verifier from a JWKS document (`{ keys: [...] }`), as an object or as JSON text,
    /// such as a tokenlife server's `/.well-known/jwks.json`. Ed25519 (`OKP`) and HS256
    /// (`oct`) signing keys are used; other keys are skipped.
    ///
    /// @throws {TokenlifeError} `unknown_key` when the document has no usable key or a
    /// usable key has bad material.
    #[wasm_bindgen(js_name = fromJwks)]
    pub fn from_jwks(
        #[wasm_bindgen(unchecked_param_type = "Jwks | string")] jwks: JsValue,
    ) -> Result<Verifier, JsValue> {
        let text = match jwks.as_string() {
            Some(text) => text,
            None if jwks.is_object() => js_sys::JSON::stringify(&jwks)
                .map(String::from)
                .map_err(|_| error::type_error("the JWKS object cannot be written as JSON"))?,
            None => return Err(error::type_error("a JWKS is an object or JSON text")),
        };
        tokenlife_core::Verifier::from_jwks(&text)
            .map(Verifier)
            .map_err(error::into_error)
    }

    /// Verifies `token` and returns its claims.
    ///
    /// The checks, in order: the token's form and header; its key by `kid`
    /// (`unknown_key`); the header's `alg` against that key (`alg_not_allowed`); the
    /// signature (`bad_signature`); the claims (`malformed`, `claim_mismatch`); `exp`, the
    /// token being refused from `exp` on unless a `leeway` is given (`expired`); `nbf`
    /// (`not_yet_valid`); the `issuer` (`claim_mismatch`); the `revoked` ids (`revoked`).
    ///
    /// @throws {TokenlifeError} the first check that fails, with its `code`.
    #[wasm_bindgen(unchecked_return_type = "Claims")]
    pub fn verify(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] token: JsValue,
        options: Option<VerifyOptions>,
    ) -> Result<JsValue, JsValue> {
        let token = token_str(&token);
        let claims = match options {
            None => self.check(
                &token,
                &tokenlife_core::VerifyOptions::at(crate::clock::now()),
            ),
            Some(options) => {
                let now = options::now(options.verify_now())?;
                let leeway = options::leeway(options.verify_leeway())?;
                let issuer = options::issuer(options.issuer())?;
                let revoked = revoked_ids(&options.revoked())?;
                let mut checks = tokenlife_core::VerifyOptions::at(now).leeway(leeway);
                if let Some(issuer) = &issuer {
                    checks = checks.issuer(issuer);
                }
                if let Some(revoked) = &revoked {
                    checks = checks.revoked(revoked);
                }
                self.check(&token, &checks)
            }
        };
        claims.map(|claims| to_js(&claims))
    }
}

impl Verifier {
    /// Core's `verify`, in one copy for the checked and the packed exports alike.
    #[inline(never)]
    pub(crate) fn check(
        &self,
        token: &str,
        checks: &tokenlife_core::VerifyOptions<'_>,
    ) -> Result<tokenlife_core::Claims, JsValue> {
        self.0.verify(token, checks).map_err(error::into_error)
    }

    /// Core's `verify_in`: the claims borrowed from `scratch`, for the packed export.
    pub(crate) fn check_in<'b>(
        &self,
        token: &[u8],
        checks: &tokenlife_core::VerifyOptions<'_>,
        scratch: &'b mut Vec<u8>,
    ) -> Result<tokenlife_core::ClaimsRef<'b>, JsValue> {
        self.0
            .verify_in(token, checks, scratch)
            .map_err(error::into_error)
    }
}

const KEY_HELP: &str =
    "a Verifier takes { secret }, { jwks }, a JWKS object, or a secret string or Uint8Array";

/// `object[name]`, `undefined` when absent. `object` is known to be an object, and a
/// plain property read on an object only throws from a getter of the caller's own.
fn property(object: &JsValue, name: &str) -> JsValue {
    Reflect::get(object, &name.into()).unwrap_or(JsValue::UNDEFINED)
}

/// The ids in `revoked`: a list of ids or of `{ jwt_token_id }` entries, a `Set` of ids,
/// or the server's `/api/v1alpha/revoked` document `{ revoked: [{ jwt_token_id, exp }] }`.
fn revoked_ids(revoked: &JsValue) -> Result<Option<HashSet<String>>, JsValue> {
    if revoked.is_undefined() || revoked.is_null() {
        return Ok(None);
    }
    let bad = || error::type_error(REVOKED_HELP);
    let mut ids = HashSet::new();
    let mut add = |entry: JsValue| -> Result<(), JsValue> {
        let id = match entry.as_string() {
            Some(id) => id,
            None if entry.is_object() => property(&entry, "jwt_token_id")
                .as_string()
                .ok_or_else(bad)?,
            None => return Err(bad()),
        };
        ids.insert(id);
        Ok(())
    };
    if let Some(list) = revoked.dyn_ref::<Array>() {
        list.iter().try_for_each(add)?;
    } else if !revoked.is_object() {
        return Err(bad());
    } else if let Some(list) = property(revoked, "revoked").dyn_ref::<Array>() {
        list.iter().try_for_each(add)?;
    } else if let Some(iter) = js_sys::try_iter(revoked)? {
        for entry in iter {
            add(entry?)?;
        }
    } else {
        return Err(bad());
    }
    Ok(Some(ids))
}

const REVOKED_HELP: &str = "`revoked` is a list or Set of token ids or of { jwt_token_id } \
     entries, or the server's { revoked: [...] } document";
