//! Remaining life and expiry status from `exp` and a caller-given `now`.

use serde::{Deserialize, Serialize};

/// Whether a token is still usable, as the API reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ExpiryStatus {
    /// Remaining life is above zero.
    Valid,
    /// Remaining life is zero.
    Expired,
}

impl ExpiryStatus {
    /// `"Valid"` or `"Expired"`.
    pub fn as_str(self) -> &'static str {
        match self {
            ExpiryStatus::Valid => "Valid",
            ExpiryStatus::Expired => "Expired",
        }
    }
}

/// Seconds left at `now`: `max(0, exp - now)`, fractional when `now` is.
///
/// ```
/// use tokenlife_core::remaining_life;
/// assert_eq!(remaining_life(100, 40.5), 59.5);
/// assert_eq!(remaining_life(100, 100.0), 0.0);
/// assert_eq!(remaining_life(100, 250.0), 0.0);
/// ```
pub fn remaining_life(exp: i64, now: f64) -> f64 {
    // `exp - now` is never -0.0 (`exp as f64` is never -0.0), so `max` returns +0.0 at exp,
    // and 0.0 for a NaN `now`.
    (exp as f64 - now).max(0.0)
}

/// `Expired` from `exp` on (not one second later), unless `leeway` seconds are granted.
///
/// ```
/// use tokenlife_core::{expiry_status, ExpiryStatus};
/// assert_eq!(expiry_status(100, 99.9, 0), ExpiryStatus::Valid);
/// assert_eq!(expiry_status(100, 100.0, 0), ExpiryStatus::Expired);
/// assert_eq!(expiry_status(100, 100.0, 5), ExpiryStatus::Valid);
/// ```
pub fn expiry_status(exp: i64, now: f64, leeway: u64) -> ExpiryStatus {
    if now < exp as f64 + leeway as f64 {
        ExpiryStatus::Valid
    } else {
        ExpiryStatus::Expired
    }
}

#[cfg(test)]
mod tests;
