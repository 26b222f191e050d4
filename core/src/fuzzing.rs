//! Core's hand-written parts, reachable from the fuzz targets of `fuzz/` (feature
//! `fuzzing`, which only that crate turns on). Thin wrappers, nothing more: each calls the
//! code the library runs. Not an API; hidden from the documentation.

use crate::keys::Hs256;
use crate::{Claims, ClaimsRef, json};

/// `base64url::encode`.
pub fn base64url_encode(bytes: &[u8]) -> String {
    crate::base64url::encode(bytes)
}

/// `base64url::decode_at` into `out` at `at` (the decoder every build but wasm's uses).
pub fn base64url_decode_at(
    input: &[u8],
    out: &mut Vec<u8>,
    at: usize,
) -> Option<std::ops::Range<usize>> {
    crate::base64url::decode_at(input, out, at)
}

/// The same with the wasm build's SIMD block decoder, its operations emulated.
pub fn base64url_decode_at_simd(
    input: &[u8],
    out: &mut Vec<u8>,
    at: usize,
) -> Option<std::ops::Range<usize>> {
    crate::base64url::decode_at_with(input, out, at, crate::base64url::simd::decode_blocks)
}

/// HMAC-SHA256 of `msg` under `key` (`keys::Hs256`); `None` for an empty key, which core
/// refuses.
pub fn hmac_sha256(key: &[u8], msg: &[u8]) -> Option<[u8; 32]> {
    Hs256::new(key).ok().map(|key| key.mac(msg))
}

/// Whether `tag` is the HMAC of `msg` under `key`, by core's constant-time comparison.
pub fn hmac_sha256_verify(key: &[u8], msg: &[u8], tag: &[u8]) -> Option<bool> {
    Hs256::new(key).ok().map(|key| key.verify_bytes(msg, tag))
}

/// SHA-256 of `data` (`keys::sha256`: core's padding over the build's block function).
pub fn sha256(data: &[u8]) -> [u8; 32] {
    crate::keys::sha256(data)
}

/// Core's own block function (`sha256.rs`, unrolled rounds) with its scalar schedule.
pub fn compress_scalar(state: &mut [u32; 8], blocks: &[[u8; 64]]) {
    crate::sha256::compress(state, blocks);
}

/// Core's own block function with the wasm build's SIMD schedule, its operations emulated.
pub fn compress_simd(state: &mut [u32; 8], blocks: &[[u8; 64]]) {
    for block in blocks {
        crate::sha256::simd::compress_block(state, block);
    }
}

/// The claims as `verify` reads them (`ClaimsRef::parse`: the signer's fast path, then the
/// JSON reader), or the error's message.
pub fn read_claims(text: &str) -> Result<Claims, String> {
    ClaimsRef::parse(text)
        .map(ClaimsRef::into_owned)
        .map_err(|err| err.to_string())
}

/// The claims by the JSON reader alone (`ClaimsRef::read`), without the fast path.
pub fn read_claims_slow(text: &str) -> Result<Claims, String> {
    ClaimsRef::read(text)
        .map(ClaimsRef::into_owned)
        .map_err(|err| err.to_string())
}

/// A JOSE header as core reads it: `alg`, `kid`, and `crit`'s JSON text.
pub type HeaderParts = (String, Option<String>, Option<String>);

/// The header as `verify` and `inspect` read it (`jws::Header::parse`).
pub fn read_header(text: &str) -> Result<HeaderParts, String> {
    crate::jws::Header::parse(text.as_bytes())
        .map(|header| {
            (
                header.alg.into_owned(),
                header.kid.map(|kid| kid.into_owned()),
                header.crit.map(str::to_owned),
            )
        })
        .map_err(|err| err.to_string())
}

/// `inspect`'s loose claims: `username`, `sub`, `jwt_token_id`, `jti`,
/// `jwt_token_description` (each `None` when absent or `null`), `iat`, `exp`.
pub type LooseParts = ([Option<String>; 5], i64, i64);

/// The loose claims as `inspect` reads them (`inspect::LooseClaims::parse`).
pub fn read_loose(text: &str) -> Result<LooseParts, String> {
    crate::inspect::LooseClaims::parse(text)
        .map(|c| {
            let owned = |text: Option<std::borrow::Cow<'_, str>>| text.map(|t| t.into_owned());
            (
                [
                    owned(c.username),
                    owned(c.sub),
                    owned(c.jwt_token_id),
                    owned(c.jti),
                    owned(c.jwt_token_description),
                ],
                c.iat,
                c.exp,
            )
        })
        .map_err(|err| err.to_string())
}

/// One JSON value checked and skipped by the reader (`json::Reader::skip`), then the end
/// of the text: the value's text, or the fault.
pub fn skip_value(text: &str) -> Result<&str, String> {
    let mut reader = json::Reader::new(text);
    let value = reader.skip().map_err(|fault| fault.to_string())?;
    reader.end().map_err(|fault| fault.to_string())?;
    Ok(value)
}
