//! The one place where a core failure becomes a JavaScript `Error`.

use wasm_bindgen::JsValue;

/// A real `Error` (so `instanceof Error` and stack traces work) whose `message` is core's
/// and whose `code` is the SPEC's (`malformed`, `expired`, ...).
pub(crate) fn into_error(err: tokenlife_core::Error) -> JsValue {
    let error = js_sys::Error::new(&err.to_string());
    // Setting a data property on a fresh, extensible `Error` cannot fail.
    let _ = js_sys::Reflect::set(&error, &"code".into(), &err.code().into());
    error.into()
}

/// A life that could not be parsed: `code` `bad_life`.
pub(crate) fn from_life(err: tokenlife_core::LifeError) -> JsValue {
    into_error(err.into())
}

/// A `TypeError` for a call that does not match the typings (an option of the wrong type,
/// a constructor argument that is neither a secret nor a JWKS). These are mistakes in the
/// calling code, not failures of a token, so they carry no `code`.
pub(crate) fn type_error(message: &str) -> JsValue {
    js_sys::TypeError::new(message).into()
}
