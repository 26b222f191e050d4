//! "Expires soon": the rule that marks a token worth replacing, at a caller-given `now`.

use crate::time::remaining_life;

/// A token expires soon within this many seconds of its `exp` (7 days), whatever its life.
pub const EXPIRES_SOON_WITHIN: i64 = 7 * 86_400;

/// Whether a token issued at `iat` that expires at `exp` expires soon at `now`: it has not
/// expired yet, and what is left of it is at most [`EXPIRES_SOON_WITHIN`] seconds or at
/// most a tenth of its life (`exp - iat`). An expired token does not expire soon: it has.
///
/// ```
/// use tokenlife_core::expires_soon;
/// let day = 86_400;
/// // A 30-day token: soon in its last 7 days, not before.
/// assert!(!expires_soon(0, 30 * day, (23 * day - 1) as f64));
/// assert!(expires_soon(0, 30 * day, (23 * day) as f64));
/// // A year's token: soon in its last tenth (36.5 days).
/// assert!(!expires_soon(0, 365 * day, (328 * day) as f64));
/// assert!(expires_soon(0, 365 * day, (329 * day) as f64));
/// // A one-hour token has less than 7 days from the start.
/// assert!(expires_soon(0, 3600, 0.0));
/// // Expired: no longer "soon".
/// assert!(!expires_soon(0, 3600, 3600.0));
/// ```
pub fn expires_soon(iat: i64, exp: i64, now: f64) -> bool {
    let remaining = remaining_life(exp, now);
    if remaining <= 0.0 {
        return false;
    }
    let life = exp.saturating_sub(iat).max(0) as f64;
    remaining <= EXPIRES_SOON_WITHIN as f64 || remaining * 10.0 <= life
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 86_400;

    #[test]
    fn seven_days_before_exp_when_a_tenth_is_less() {
        let (iat, exp) = (0, 30 * DAY);
        assert!(!expires_soon(iat, exp, (exp - 7 * DAY - 1) as f64));
        assert!(expires_soon(iat, exp, (exp - 7 * DAY) as f64));
        assert!(expires_soon(iat, exp, (exp - 1) as f64));
    }

    #[test]
    fn a_tenth_of_a_long_life() {
        // 1000 days: a tenth is 100 days, more than 7.
        let (iat, exp) = (5 * DAY, 1005 * DAY);
        assert!(!expires_soon(iat, exp, (exp - 100 * DAY) as f64 - 0.5));
        assert!(expires_soon(iat, exp, (exp - 100 * DAY) as f64));
    }

    #[test]
    fn expired_or_odd_records_are_not_soon() {
        assert!(!expires_soon(0, 100, 100.0));
        assert!(!expires_soon(0, 100, 1e12));
        assert!(!expires_soon(0, 100, f64::NAN));
        // exp before iat (a damaged record): only the 7 days count.
        assert!(expires_soon(200, 100, 50.0));
        assert!(!expires_soon(i64::MAX, i64::MIN, 0.0));
    }
}
