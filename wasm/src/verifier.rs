//! `Verifier`: core's verifier behind the SPEC's JavaScript name.

use wasm_bindgen::prelude::*;

use crate::{error, to_js, wire};

/// Core's verifier: an HS256 secret or a JWKS document, decoded (and the HMAC state
/// precomputed) once. `tokenlife.js`'s `Verifier` class holds one.
#[wasm_bindgen(skip_typescript)]
pub struct Verifier(tokenlife_core::Verifier);

#[wasm_bindgen]
impl Verifier {
    /// A verifier for HS256 tokens signed with the bytes `secret` (`tokenlife.js` gives a
    /// string's UTF-8 bytes, or a copy of the caller's bytes).
    #[wasm_bindgen(js_name = fromSecret)]
    pub fn from_secret(secret: &[u8]) -> Result<Verifier, JsValue> {
        tokenlife_core::Verifier::hs256(secret)
            .map(Verifier)
            .map_err(error::into_error)
    }

    /// A verifier for the HS256 tokens Specter Desktop issued, signed with the bytes
    /// `secret` (its `SECRET_KEY`), with Specter's claim set (core's
    /// `Verifier::specter_hs256`).
    #[wasm_bindgen(js_name = fromSpecterSecret)]
    pub fn from_specter_secret(secret: &[u8]) -> Result<Verifier, JsValue> {
        tokenlife_core::Verifier::specter_hs256(secret)
            .map(Verifier)
            .map_err(error::into_error)
    }

    /// A verifier from a JWKS document's JSON text (`tokenlife.js` writes an object with
    /// `JSON.stringify` first).
    #[wasm_bindgen(js_name = fromJwks)]
    pub fn from_jwks(jwks: &str) -> Result<Verifier, JsValue> {
        tokenlife_core::Verifier::from_jwks(jwks)
            .map(Verifier)
            .map_err(error::into_error)
    }

    /// `verify` of `token` at `now` (NaN for the host's clock) with `leeway` whole seconds
    /// and the `issuer` if given: the reference for the packed `wireVerify`, the claims as
    /// a plain object. (`revoked` is checked by `tokenlife.js` once the token has passed:
    /// core's last check, a lookup in the caller's own list.)
    pub fn verify(
        &self,
        token: &str,
        now: f64,
        leeway: f64,
        issuer: Option<String>,
    ) -> Result<JsValue, JsValue> {
        let (now, leeway) = wire::times(now, leeway)?;
        let mut checks = tokenlife_core::VerifyOptions::at(now).leeway(leeway);
        if let Some(issuer) = &issuer {
            checks = checks.issuer(issuer);
        }
        self.check(token, &checks).map(|claims| to_js(&claims))
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
