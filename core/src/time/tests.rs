//! SPEC 3: remaining life is `max(0, exp - now)`, fractional when `now` is; the status is
//! `"Expired"` when the remaining life is 0 and `"Valid"` otherwise; a token is rejected
//! at `exp` exactly, with no default leeway; a leeway is explicit.

use super::*;
use proptest::prelude::*;

/// The smallest step below `x` an `f64` can take.
fn just_below(x: f64) -> f64 {
    f64::from_bits(x.to_bits() - 1)
}

#[test]
fn remaining_life_is_exp_minus_now_and_never_negative() {
    assert_eq!(remaining_life(100, 0.0), 100.0);
    assert_eq!(remaining_life(100, 99.0), 1.0);
    assert_eq!(remaining_life(100, 99.75), 0.25);
    assert_eq!(remaining_life(100, 100.0), 0.0);
    assert_eq!(remaining_life(100, 100.5), 0.0);
    assert_eq!(remaining_life(100, 1e12), 0.0);
    assert_eq!(remaining_life(0, -2.5), 2.5);
    assert!(remaining_life(100, just_below(100.0)) > 0.0);
}

#[test]
fn remaining_life_is_never_minus_zero() {
    // JSON would print -0.0 as "-0.0".
    assert!(remaining_life(100, 100.0).is_sign_positive());
    assert!(remaining_life(100, 200.0).is_sign_positive());
    assert!(remaining_life(0, 0.0).is_sign_positive());
    assert!(remaining_life(0, -0.0).is_sign_positive());
}

#[test]
fn a_now_that_is_not_a_number_leaves_nothing() {
    assert_eq!(remaining_life(100, f64::NAN), 0.0);
    assert_eq!(expiry_status(100, f64::NAN, 0), ExpiryStatus::Expired);
}

#[test]
fn without_leeway_a_token_expires_at_exp_exactly() {
    let exp = 1_700_000_000;
    let at = exp as f64;
    assert_eq!(expiry_status(exp, at - 1.0, 0), ExpiryStatus::Valid);
    assert_eq!(expiry_status(exp, just_below(at), 0), ExpiryStatus::Valid);
    assert_eq!(expiry_status(exp, at, 0), ExpiryStatus::Expired);
    assert_eq!(expiry_status(exp, at + 0.001, 0), ExpiryStatus::Expired);
    assert_eq!(expiry_status(exp, at + 1.0, 0), ExpiryStatus::Expired);
}

#[test]
fn a_leeway_moves_the_boundary_to_exp_plus_leeway() {
    let exp = 1_700_000_000;
    let at = exp as f64;
    for leeway in [1u64, 5, 60, 3_600] {
        let end = at + leeway as f64;
        assert_eq!(expiry_status(exp, at, leeway), ExpiryStatus::Valid);
        assert_eq!(
            expiry_status(exp, just_below(end), leeway),
            ExpiryStatus::Valid
        );
        assert_eq!(expiry_status(exp, end, leeway), ExpiryStatus::Expired);
        assert_eq!(expiry_status(exp, end + 1.0, leeway), ExpiryStatus::Expired);
    }
}

#[test]
fn the_status_is_named_as_the_api_reports_it() {
    assert_eq!(ExpiryStatus::Valid.as_str(), "Valid");
    assert_eq!(ExpiryStatus::Expired.as_str(), "Expired");
    for status in [ExpiryStatus::Valid, ExpiryStatus::Expired] {
        assert_eq!(
            serde_json::to_value(status).unwrap(),
            serde_json::Value::from(status.as_str())
        );
    }
}

proptest! {
    #[test]
    fn expired_exactly_when_remaining_life_is_zero(exp in -1_000_000i64..4_000_000_000, offset in -1e6f64..1e6) {
        let now = exp as f64 + offset;
        let remaining = remaining_life(exp, now);
        let status = expiry_status(exp, now, 0);
        prop_assert_eq!(status == ExpiryStatus::Expired, remaining == 0.0);
        prop_assert!(remaining >= 0.0);
        if offset < 0.0 {
            prop_assert_eq!(remaining, exp as f64 - now);
        }
    }

    #[test]
    fn a_leeway_is_the_same_as_an_earlier_now(exp in 0i64..4_000_000_000, offset in -1e5f64..1e5, leeway in 0u64..100_000) {
        let now = exp as f64 + offset;
        prop_assert_eq!(
            expiry_status(exp, now, leeway),
            expiry_status(exp, now - leeway as f64, 0)
        );
    }
}
