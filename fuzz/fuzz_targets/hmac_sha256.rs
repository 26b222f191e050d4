//! core's HMAC-SHA256 (`core/src/keys.rs`) and SHA-256 block function (`core/src/sha256.rs`)
//! against the `hmac` and `sha2` crates, for any key, message and state:
//! - `Hs256::mac` is the `hmac` crate's tag, and core's constant-time check takes that tag
//!   and refuses it with any one bit flipped, shortened or lengthened;
//! - `keys::sha256` (core's padding) is `sha2::Sha256`;
//! - core's block function, both with its scalar schedule and with the wasm build's SIMD
//!   schedule (its v128 operations emulated natively by `core/src/simd_emu.rs`), gives
//!   `sha2::block_api::compress256`'s state from any state over any blocks.
//!
//! Natively `Hs256` runs on sha2's block function; in wasm on core's, which the last check
//! holds to sha2's: together they cover the wasm build's HMAC.

#![no_main]

use arbitrary::Arbitrary;
use hmac::{Hmac, KeyInit, Mac};
use libfuzzer_sys::fuzz_target;
use sha2::{Digest, Sha256};
use tokenlife_core::fuzzing;

#[derive(Arbitrary, Debug)]
struct Input {
    key: Vec<u8>,
    msg: Vec<u8>,
    flip: u16,
    state: [u32; 8],
    blocks: Vec<[u8; 64]>,
}

fuzz_target!(|input: Input| {
    let Input {
        key,
        msg,
        flip,
        state,
        blocks,
    } = input;

    match fuzzing::hmac_sha256(&key, &msg) {
        None => assert!(key.is_empty(), "only an empty key is refused"),
        Some(tag) => {
            let mut mac = Hmac::<Sha256>::new_from_slice(&key).expect("any key length");
            mac.update(&msg);
            let theirs: [u8; 32] = mac.finalize().into_bytes().into();
            assert_eq!(tag, theirs);
            assert_eq!(fuzzing::hmac_sha256_verify(&key, &msg, &tag), Some(true));
            let mut wrong = tag;
            wrong[usize::from(flip / 8) % 32] ^= 1 << (flip % 8);
            assert_eq!(fuzzing::hmac_sha256_verify(&key, &msg, &wrong), Some(false));
            assert_eq!(
                fuzzing::hmac_sha256_verify(&key, &msg, &tag[..31]),
                Some(false)
            );
            let longer = [&tag[..], &[0]].concat();
            assert_eq!(
                fuzzing::hmac_sha256_verify(&key, &msg, &longer),
                Some(false)
            );
        }
    }

    let digest: [u8; 32] = Sha256::digest(&msg).into();
    assert_eq!(fuzzing::sha256(&msg), digest);

    let mut theirs = state;
    sha2::block_api::compress256(&mut theirs, &blocks);
    let mut scalar = state;
    fuzzing::compress_scalar(&mut scalar, &blocks);
    assert_eq!(scalar, theirs, "scalar schedule");
    let mut simd = state;
    fuzzing::compress_simd(&mut simd, &blocks);
    assert_eq!(simd, theirs, "SIMD schedule (emulated)");
});
