//! Reading the option objects callers pass (`{ now, leeway, issuer, revoked }`).
//!
//! Each option is read with one property access and checked here, so that a wrong type
//! fails loudly with a `TypeError` instead of turning into `NaN` or zero.

use wasm_bindgen::prelude::*;

use crate::{clock, error};

#[wasm_bindgen]
extern "C" {
    /// The options of `inspect`.
    #[wasm_bindgen(typescript_type = "InspectOptions")]
    pub type InspectOptions;

    #[wasm_bindgen(method, getter, structural)]
    pub(crate) fn now(this: &InspectOptions) -> JsValue;

    #[wasm_bindgen(method, getter, structural)]
    pub(crate) fn leeway(this: &InspectOptions) -> JsValue;

    /// The options of `parseLife`.
    #[wasm_bindgen(typescript_type = "ParseLifeOptions")]
    pub type ParseLifeOptions;

    #[wasm_bindgen(method, getter, structural)]
    pub(crate) fn max(this: &ParseLifeOptions) -> JsValue;

    /// The options of `Verifier.verify`.
    #[wasm_bindgen(typescript_type = "VerifyOptions")]
    pub type VerifyOptions;

    #[wasm_bindgen(method, getter, structural, js_name = now)]
    pub(crate) fn verify_now(this: &VerifyOptions) -> JsValue;

    #[wasm_bindgen(method, getter, structural, js_name = leeway)]
    pub(crate) fn verify_leeway(this: &VerifyOptions) -> JsValue;

    #[wasm_bindgen(method, getter, structural)]
    pub(crate) fn issuer(this: &VerifyOptions) -> JsValue;

    #[wasm_bindgen(method, getter, structural)]
    pub(crate) fn revoked(this: &VerifyOptions) -> JsValue;
}

/// `now` in Unix seconds, or the host's clock when it is absent.
///
/// # Errors
///
/// A `TypeError` when `now` is present but not a finite number.
pub(crate) fn now(value: JsValue) -> Result<f64, JsValue> {
    if value.is_undefined() || value.is_null() {
        return Ok(clock::now());
    }
    given_now(value.as_f64())
}

/// A given `now` (`None` when it is not a number).
///
/// # Errors
///
/// A `TypeError` unless it is a finite number.
pub(crate) fn given_now(now: Option<f64>) -> Result<f64, JsValue> {
    match now {
        Some(now) if now.is_finite() => Ok(now),
        _ => Err(error::type_error(
            "`now` must be a finite number of Unix seconds",
        )),
    }
}

/// `leeway` in whole seconds, 0 when absent.
///
/// # Errors
///
/// A `TypeError` when `leeway` is present but not a whole number of seconds, 0 or more.
pub(crate) fn leeway(value: JsValue) -> Result<u64, JsValue> {
    if value.is_undefined() || value.is_null() {
        return Ok(0);
    }
    given_leeway(value.as_f64())
}

/// A given `leeway` (`None` when it is not a number).
///
/// # Errors
///
/// A `TypeError` unless it is a whole number of seconds, 0 or more.
pub(crate) fn given_leeway(leeway: Option<f64>) -> Result<u64, JsValue> {
    match leeway {
        // Whole, non-negative and below 2^53, so the cast is exact.
        Some(secs) if secs >= 0.0 && secs.fract() == 0.0 && secs <= 9_007_199_254_740_991.0 => {
            Ok(secs as u64)
        }
        _ => Err(error::type_error(
            "`leeway` must be a whole number of seconds, 0 or more",
        )),
    }
}

/// `issuer`, if given.
///
/// # Errors
///
/// A `TypeError` when `issuer` is present but not a string.
pub(crate) fn issuer(value: JsValue) -> Result<Option<String>, JsValue> {
    if value.is_undefined() || value.is_null() {
        return Ok(None);
    }
    value
        .as_string()
        .map(Some)
        .ok_or_else(|| error::type_error("`issuer` must be a string"))
}
