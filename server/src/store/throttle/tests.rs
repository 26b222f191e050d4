use super::*;

const T0: i64 = 1_700_000_000_000;

#[test]
fn five_attempts_are_free_then_the_name_is_locked_with_growing_waits() {
    let throttle = LocalThrottle::default();
    // The fifth attempt is counted before its hash: it runs, and locks the name.
    for _ in 0..5 {
        assert_eq!(throttle.begin_now("alice", T0), Ok(()));
    }
    assert_eq!(
        throttle.begin_now("alice", T0),
        Err(Locked { retry_after: 1 })
    );
    assert_eq!(
        throttle.begin_now("bob", T0),
        Ok(()),
        "names are throttled apart"
    );
    // Once the lock has passed, the next attempt runs and locks for twice as long.
    assert_eq!(throttle.begin_now("alice", T0 + 1000), Ok(()));
    assert_eq!(
        throttle.begin_now("alice", T0 + 1000),
        Err(Locked { retry_after: 2 })
    );
    assert_eq!(throttle.begin_now("alice", T0 + 3000), Ok(()));
    assert_eq!(
        throttle.begin_now("alice", T0 + 3001),
        Err(Locked { retry_after: 4 })
    );
    throttle.succeed_now("alice");
    assert_eq!(throttle.begin_now("alice", T0 + 3002), Ok(()));
}

#[test]
fn attempts_refused_while_locked_are_not_counted() {
    let throttle = LocalThrottle::default();
    for _ in 0..5 {
        assert_eq!(throttle.begin_now("alice", T0), Ok(()));
    }
    for _ in 0..1000 {
        assert!(throttle.begin_now("alice", T0 + 500).is_err());
    }
    assert_eq!(throttle.begin_now("alice", T0 + 1000), Ok(()));
    assert_eq!(
        throttle.begin_now("alice", T0 + 1000),
        Err(Locked { retry_after: 2 }),
        "the sixth counted attempt, not the 1006th"
    );
}

#[test]
fn three_wrong_one_right_two_wrong_is_not_locked() {
    let throttle = LocalThrottle::default();
    for _ in 0..3 {
        assert_eq!(throttle.begin_now("alice", T0), Ok(()));
    }
    assert_eq!(throttle.begin_now("alice", T0), Ok(()));
    throttle.succeed_now("alice");
    for _ in 0..2 {
        assert_eq!(throttle.begin_now("alice", T0), Ok(()));
    }
    assert_eq!(throttle.begin_now("alice", T0), Ok(()));
}

#[test]
fn old_failures_are_forgotten() {
    let throttle = LocalThrottle::default();
    for _ in 0..4 {
        assert_eq!(throttle.begin_now("alice", T0), Ok(()));
    }
    let later = T0 + millis(FORGET_AFTER);
    for _ in 0..5 {
        assert_eq!(throttle.begin_now("alice", later), Ok(()));
    }
    assert!(throttle.begin_now("alice", later).is_err());
}

#[test]
fn the_lock_never_exceeds_five_minutes() {
    let throttle = LocalThrottle::default();
    let mut now = T0;
    for _ in 0..100 {
        if let Err(locked) = throttle.begin_now("mallory", now) {
            now += i64::try_from(locked.retry_after).unwrap_or(0) * 1000;
            assert_eq!(throttle.begin_now("mallory", now), Ok(()));
        }
    }
    assert_eq!(
        throttle.begin_now("mallory", now),
        Err(Locked { retry_after: 300 })
    );
}

#[test]
fn the_shared_rule_is_the_same_one() {
    // The rule a shared store (PostgreSQL) applies to the counts it keeps.
    assert_eq!(lock_after(0), None);
    assert_eq!(lock_after(4), None);
    assert_eq!(lock_after(5), Some(Duration::from_secs(1)));
    assert_eq!(lock_after(7), Some(Duration::from_secs(4)));
    assert_eq!(lock_after(u32::MAX), Some(MAX_LOCK));
    let schedule = lock_schedule_ms(32);
    assert_eq!(&schedule[..6], &[0, 0, 0, 0, 1000, 2000]);
    assert_eq!(schedule[31], 300_000);
}

#[test]
fn retry_after_rounds_up_and_is_never_zero() {
    assert_eq!(retry_after_secs(T0 + 1, T0), 1);
    assert_eq!(retry_after_secs(T0 + 1001, T0), 2);
    assert_eq!(retry_after_secs(T0, T0), 1);
}

#[test]
fn check_reads_the_standing_and_counts_nothing() {
    let throttle = LocalThrottle::default();
    assert_eq!(throttle.check_now("alice", T0), Standing::Clear);
    assert_eq!(throttle.begin_now("alice", T0), Ok(()));
    assert_eq!(throttle.check_now("alice", T0), Standing::Failing);
    // A thousand checks count nothing: four more attempts are still free.
    for _ in 0..1000 {
        assert_eq!(throttle.check_now("alice", T0), Standing::Failing);
    }
    for _ in 0..3 {
        assert_eq!(throttle.begin_now("alice", T0), Ok(()));
    }
    assert_eq!(throttle.check_now("alice", T0), Standing::Failing);
    // The fifth counted attempt locks the name: check refuses, as begin would.
    assert_eq!(throttle.begin_now("alice", T0), Ok(()));
    assert_eq!(
        throttle.check_now("alice", T0 + 1),
        Standing::Locked(Locked { retry_after: 1 })
    );
    assert_eq!(throttle.check_now("bob", T0 + 1), Standing::Clear);
    // Once the lock has passed the failures still stand until a good password.
    assert_eq!(throttle.check_now("alice", T0 + 1000), Standing::Failing);
    throttle.succeed_now("alice");
    assert_eq!(throttle.check_now("alice", T0 + 1000), Standing::Clear);
}
