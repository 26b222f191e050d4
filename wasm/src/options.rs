//! The checks of `now` and `leeway` as numbers. `tokenlife.js` reads and checks the
//! caller's options in JavaScript and passes numbers; these checks are the last line, so
//! that a number past them can never turn into a wrong `now` or leeway.

use crate::error;

/// A given `now` (`None` when it is not a number).
///
/// # Errors
///
/// A `TypeError` unless it is a finite number.
pub(crate) fn given_now(now: Option<f64>) -> Result<f64, wasm_bindgen::JsValue> {
    match now {
        Some(now) if now.is_finite() => Ok(now),
        _ => Err(error::type_error(
            "`now` must be a finite number of Unix seconds",
        )),
    }
}

/// A given `leeway` (`None` when it is not a number).
///
/// # Errors
///
/// A `TypeError` unless it is a whole number of seconds, 0 or more.
pub(crate) fn given_leeway(leeway: Option<f64>) -> Result<u64, wasm_bindgen::JsValue> {
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
