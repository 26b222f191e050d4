use super::*;

#[test]
fn five_failures_are_free_then_the_name_is_locked_with_growing_waits() {
    let throttle = Throttle::default();
    for _ in 0..4 {
        throttle.fail("alice");
        assert_eq!(throttle.retry_after("alice"), None);
    }
    throttle.fail("alice");
    assert_eq!(throttle.retry_after("alice"), Some(1));
    throttle.fail("alice");
    assert_eq!(throttle.retry_after("alice"), Some(2));
    throttle.fail("alice");
    assert_eq!(throttle.retry_after("alice"), Some(4));
    assert_eq!(
        throttle.retry_after("bob"),
        None,
        "names are throttled apart"
    );
    throttle.succeed("alice");
    assert_eq!(throttle.retry_after("alice"), None);
}

#[test]
fn the_lock_never_exceeds_five_minutes() {
    let throttle = Throttle::default();
    for _ in 0..100 {
        throttle.fail("mallory");
    }
    assert_eq!(throttle.retry_after("mallory"), Some(300));
}

#[test]
fn the_shared_rule_is_the_same_one() {
    // The rule a shared store (PostgreSQL) applies to the counts it keeps.
    assert_eq!(lock_after(0), None);
    assert_eq!(lock_after(4), None);
    assert_eq!(lock_after(5), Some(Duration::from_secs(1)));
    assert_eq!(lock_after(7), Some(Duration::from_secs(4)));
    assert_eq!(lock_after(u32::MAX), Some(MAX_LOCK));
}
