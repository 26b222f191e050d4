//! verify, inspect and life parsing on a Specter-shaped token, natively.
//! Run: `cargo bench -p tokenlife-core`. Goals (issue 2): verify < 2 µs, inspect < 1 µs.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use tokenlife_core::{Claims, Life, Signer, TokenId, VerifyOptions, inspect};

fn specter_claims() -> Claims {
    Claims::new(
        "admin",
        TokenId::from_random_bytes(*b"0123456789abcdef"),
        "Token for the wallet sync script",
        Life::parse("6 minutes").expect("life"),
        1_700_000_000,
        "tokenlife",
    )
    .expect("claims")
}

fn bench(c: &mut Criterion) {
    let claims = specter_claims();
    let now = 1_700_000_100.0;
    for (name, signer) in [
        (
            "HS256",
            Signer::hs256(b"0123456789abcdef0123456789abcdef").expect("hs"),
        ),
        ("EdDSA", Signer::ed25519(&[7; 32]).expect("ed")),
    ] {
        let token = signer.sign(&claims).expect("sign");
        let verifier = signer.verifier();
        c.bench_function(&format!("verify {name}"), |b| {
            b.iter(|| {
                verifier
                    .verify(black_box(&token), &VerifyOptions::at(now))
                    .expect("ok")
            })
        });
        c.bench_function(&format!("sign {name}"), |b| {
            b.iter(|| signer.sign(black_box(&claims)))
        });
        if name == "HS256" {
            c.bench_function("inspect", |b| {
                b.iter(|| inspect(black_box(&token), now, 0).expect("ok"))
            });
        }
    }
    c.bench_function("parse life \"1 hour 30 minutes\"", |b| {
        b.iter(|| Life::parse(black_box("1 hour 30 minutes")))
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(std::time::Duration::from_millis(500))
        .measurement_time(std::time::Duration::from_secs(2));
    targets = bench
}
criterion_main!(benches);
