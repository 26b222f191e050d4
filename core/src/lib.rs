//! tokenlife-core: every token rule of tokenlife, in one place, for the server and the
//! browser alike.
//!
//! - [`Life`]: the one parser and formatter of token lives ("6 minutes", "1h30m").
//! - [`Claims`] ([`ClaimsRef`] borrowed), [`TokenId`], [`TokenRecord`]: what a token says and what a store keeps.
//! - [`remaining_life`], [`expiry_status`], [`expires_soon`]: a token's life at a caller-given `now`.
//! - [`Signer`], [`Verifier`], [`VerifyOptions`]: HS256 and EdDSA, algorithm pinned by key.
//! - [`inspect`], [`decode_unverified`]: read a token without its key.
//! - [`scope`]: endpoint patterns that limit where a token is accepted.
//! - [`Error`]: one error whose `code()` is the SPEC's.
//!
//! Core has no I/O, no clock and no randomness: `now` and random bytes come from the
//! caller, so the same code runs natively, in wasm and in tests.

#![deny(missing_docs)]

mod base64url;
mod bytes;
mod claims;
mod error;
mod inspect;
mod json;
mod jws;
mod keys;
mod life;
pub mod scope;
// SHA-256 for wasm with SIMD (keys.rs); compiled for the tests and the fuzzer everywhere.
#[cfg(any(
    test,
    feature = "fuzzing",
    all(target_arch = "wasm32", target_feature = "simd128")
))]
mod sha256;
// The wasm SIMD operations emulated, so that the tests and the fuzzer run the wasm-only code.
mod sign;
#[cfg(all(
    any(test, feature = "fuzzing"),
    not(all(target_arch = "wasm32", target_feature = "simd128"))
))]
mod simd_emu;
mod soon;
mod specter;
mod time;
mod verify;

// Core's private parts for the fuzz targets of fuzz/ (not an API: no stability promised).
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;

pub use claims::{Claims, ClaimsRef, TokenId, TokenRecord, fingerprint};
pub use error::{Error, ErrorKind};
pub use inspect::{Decoded, Inspection, decode_unverified, inspect};
pub use life::{Life, LifeError, format_life};
pub use sign::{Signer, hs256_kid, jwks_of};
pub use soon::{EXPIRES_SOON_WITHIN, expires_soon};
pub use time::{ExpiryStatus, expiry_status, remaining_life};
pub use verify::{Verifier, VerifyOptions};
