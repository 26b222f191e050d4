//! The package's one clock. Core takes `now` as an argument everywhere; when a caller
//! leaves `now` out, this is where it comes from.

/// The host's clock (`Date.now()`), in Unix seconds with a millisecond fraction.
pub(crate) fn now() -> f64 {
    js_sys::Date::now() / 1000.0
}
