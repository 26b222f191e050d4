//! The npm package `tokenlife`: tokenlife-core for browsers, Node and edge runtimes.
//!
//! Thin bindings over core, called only by the package's hand-written `tokenlife.js`
//! (wasm/npm), which is the public API and its typings (`tokenlife.d.ts`, also
//! hand-written). Every export takes plain values: strings, byte arrays and numbers,
//! which `tokenlife.js` reads from the caller's arguments and options **in JavaScript**
//! and checks there. Nothing crosses the boundary that can run the caller's code (a getter,
//! a proxy, `toJSON`), so nothing a caller does can throw through wasm and leave the
//! instance half-unwound (issue 14). A core failure becomes a JavaScript `Error` with a
//! `code` in one place (`error::into_error`), which `tokenlife.js` turns into its
//! `TokenlifeError`; the host's clock is read in one place (`clock.rs`).
//!
//! The hot calls take a packed road (`wire.rs`); `inspect` and `Verifier.verify` here
//! remain the reference it is tested against.

#![deny(missing_docs)]

mod clock;
mod error;
mod options;
mod verifier;
mod wire;

use serde::Serialize;
use wasm_bindgen::prelude::*;

pub use verifier::Verifier;

/// The longest life `parseLife` and `formatLife` take, 2^53 - 1 seconds: every life the
/// package answers is then exact as a JavaScript number.
const MAX_SAFE_LIFE: u64 = 9_007_199_254_740_991;

/// `inspect` of `token` at `now` (NaN for the host's clock) with `leeway` whole seconds:
/// the reference for the packed `wireInspect`, as a plain object.
#[wasm_bindgen(skip_typescript)]
pub fn inspect(token: &str, now: f64, leeway: f64) -> Result<JsValue, JsValue> {
    let (now, leeway) = wire::times(now, leeway)?;
    let inspection = inspect_token(token.as_bytes(), now, leeway)?;
    Ok(to_js(&inspection))
}

/// Parses `life` (a string, or a number of seconds) into whole seconds, at most `max`
/// when `max` is a string or a number. `tokenlife.js` checks the types first.
#[wasm_bindgen(js_name = parseLife, skip_typescript)]
pub fn parse_life(life: JsValue, max: JsValue) -> Result<f64, JsValue> {
    let mut parsed = life_from_js(&life)?;
    if !max.is_undefined() && !max.is_null() {
        let max = life_from_js(&max)?.map_err(error::from_life)?;
        parsed = parsed.and_then(|life| life.at_most(max));
    }
    let secs = parsed.map_err(error::from_life)?.secs();
    if secs > MAX_SAFE_LIFE {
        return Err(error::from_life(tokenlife_core::LifeError::Overflow));
    }
    // At most 2^53 - 1: exact as an f64.
    Ok(secs as f64)
}

/// A life from a string or a number of seconds; the outer error is for other types.
fn life_from_js(
    life: &JsValue,
) -> Result<Result<tokenlife_core::Life, tokenlife_core::LifeError>, JsValue> {
    use tokenlife_core::Life;
    if let Some(text) = life.as_string() {
        return Ok(Life::parse(&text));
    }
    let Some(secs) = life.as_f64() else {
        return Err(error::type_error(
            "a life is a string or a number of seconds",
        ));
    };
    Ok(Life::from_number(secs))
}

/// Writes seconds the way lives are shown; a fraction is dropped.
#[wasm_bindgen(js_name = formatLife, skip_typescript)]
pub fn format_life(seconds: f64) -> Result<String, JsValue> {
    use tokenlife_core::LifeError;
    if seconds.is_nan() {
        return Err(error::from_life(LifeError::NotWhole));
    }
    if seconds < 0.0 {
        return Err(error::from_life(LifeError::NotPositive));
    }
    // Past 2^53 - 1 (infinity included) is refused, as `parseLife` refuses it.
    if seconds >= MAX_SAFE_LIFE as f64 + 1.0 {
        return Err(error::from_life(LifeError::Overflow));
    }
    // Finite, non-negative and below 2^53: the cast drops the fraction, exactly.
    Ok(tokenlife_core::format_life(seconds as u64))
}

/// Core's "expires soon" for a token issued at `iat` that expires at `exp`, at `now` (NaN
/// for the host's clock): not expired, and at most 7 days or a tenth of its life left.
/// `tokenlife.js` reads `iat` and `exp` from the token.
#[wasm_bindgen(js_name = expiresSoon, skip_typescript)]
pub fn expires_soon(iat: f64, exp: f64, now: f64) -> Result<bool, JsValue> {
    let (now, _) = wire::times(now, 0.0)?;
    // `iat` and `exp` come from core's own inspect: whole seconds within i64.
    Ok(tokenlife_core::expires_soon(iat as i64, exp as i64, now))
}

/// A token's JOSE header and claims as they are, for showing a token to a person. Nothing
/// is checked but the form: not the signature, not the times, not the claims.
///
/// @throws {TokenlifeError} `malformed` when a part is not base64url JSON.
#[wasm_bindgen(skip_typescript)]
pub fn decode(token: &str) -> Result<JsValue, JsValue> {
    let decoded = tokenlife_core::decode_unverified(token).map_err(error::into_error)?;
    Ok(to_js(&decoded))
}

/// Core's `inspect`, in one copy for the checked and the packed exports alike (inlined
/// into each, it would be in the `.wasm` several times).
#[inline(never)]
pub(crate) fn inspect_token(
    token: &[u8],
    now: f64,
    leeway: u64,
) -> Result<tokenlife_core::Inspection, JsValue> {
    tokenlife_core::inspect(token, now, leeway).map_err(error::into_error)
}

/// A plain JavaScript object from a core value, through JSON: one string crosses the
/// boundary and `JSON.parse` builds the object, which measured as fast as building it
/// property by property with serde-wasm-bindgen and is 2 KB smaller in the `.wasm`.
pub(crate) fn to_js<T: Serialize>(value: &T) -> JsValue {
    // Core's values are structs of strings, numbers and JSON values: they always
    // serialise, and serde_json writes JSON that `JSON.parse` reads.
    serde_json::to_string(value)
        .ok()
        .and_then(|json| js_sys::JSON::parse(&json).ok())
        .unwrap_or(JsValue::UNDEFINED)
}
