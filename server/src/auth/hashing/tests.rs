use argon2::password_hash::{PasswordHasher, PasswordVerifier};

use super::*;

#[test]
fn our_records_verify_with_the_argon2_crate_and_back() {
    let mut memory = Memory::default();
    let PasswordRecord::Phc(ours) = memory.hash("correct horse").expect("hash") else {
        panic!("not a PHC record");
    };
    assert!(
        ours.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{ours}"
    );
    let parsed = PasswordHash::new(&ours).expect("a PHC string");
    assert!(
        Argon2::default()
            .verify_password(b"correct horse", &parsed)
            .is_ok()
    );
    assert!(
        Argon2::default()
            .verify_password(b"wrong horse", &parsed)
            .is_err()
    );

    let theirs = Argon2::default()
        .hash_password_with_salt(b"battery staple", b"saltsaltsaltsalt")
        .expect("hash")
        .to_string();
    let record = PasswordRecord::Phc(theirs);
    assert!(memory.verify(&record, "battery staple"));
    assert!(!memory.verify(&record, "battery stapler"));
    // The same memory, reused, still gives the right answers.
    assert!(memory.verify(&PasswordRecord::Phc(ours), "correct horse"));
}

#[test]
fn other_parameters_and_garbage() {
    let mut memory = Memory::default();
    let params = Params::new(64, 1, 2, Some(16)).expect("params");
    let phc = Argon2::new(Algorithm::Argon2i, Version::V0x10, params)
        .hash_password_with_salt(b"pw", b"saltsaltsalt")
        .expect("hash")
        .to_string();
    assert!(memory.verify(&PasswordRecord::Phc(phc.clone()), "pw"));
    assert!(!memory.verify(&PasswordRecord::Phc(phc), "px"));
    for garbage in [
        "",
        "$argon2id$",
        "$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ",
        "plain",
    ] {
        assert!(!memory.verify(&PasswordRecord::Phc(garbage.into()), "pw"));
    }
}

#[test]
fn specter_records() {
    let mut memory = Memory::default();
    let derived =
        pbkdf2::pbkdf2_hmac_array::<Sha256, 32>(b"secret", b"somesalt", SPECTER_ITERATIONS);
    let record = PasswordRecord::Specter {
        salt: "somesalt".into(),
        pwdhash: STANDARD.encode(derived),
    };
    assert!(memory.verify(&record, "secret"));
    assert!(!memory.verify(&record, "Secret"));
}

#[tokio::test]
async fn the_pool_runs_jobs_and_bounds_them() {
    let pool = HashPool::new(2).expect("pool");
    assert_eq!(pool.threads(), 2);
    let record = pool.hash("pw".into()).await.expect("hash");
    assert!(pool.verify(record.clone(), "pw".into()).await);
    assert!(!pool.verify(record, "px".into()).await);
    // A job that panics does not take its thread with it.
    assert_eq!(pool.run(|_| -> u8 { panic!("boom") }).await, None);
    assert_eq!(pool.run(|_| 7).await, Some(7));
    assert_eq!(pool.run(|_| 8).await, Some(8));
}
