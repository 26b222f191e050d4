//! The packed boundary behind the hot calls (`inspect`, `remainingLife`, `verify`).
//! `remainingLife` reads the remaining life from an `inspect` record.
//!
//! Passing a token string through wasm-bindgen copies it with a JavaScript loop, one
//! character at a time, and building the result object through serde-wasm-bindgen decodes
//! every string and sets every property with a call across the boundary; together that
//! was more than half the cost of a verify. The package's hand-written `tokenlife.js`
//! (wasm/npm) instead writes the token into [`Wire::input`] with `TextEncoder.encodeInto`
//! and reads the answer from the record this module writes (see [`Record`]), building the
//! result object in one JavaScript literal. The logic stays in core and in the checked
//! exports of `lib.rs` and `verifier.rs`, which remain the reference: these functions give
//! the same answers and the same errors, and the Node tests compare them.

use std::borrow::Cow;
use std::cell::{Cell, RefCell};

use wasm_bindgen::prelude::*;

use crate::{Verifier, clock, options};

thread_local! {
    static ERROR: Cell<Option<JsValue>> = const { Cell::new(None) };
    static WIRE: RefCell<Wire> = const {
        RefCell::new(Wire { input: Vec::new(), record: Vec::new(), scratch: Vec::new() })
    };
}

/// The two buffers shared with `tokenlife.js`, and core's scratch buffer, kept between
/// calls so that a verify allocates nothing.
struct Wire {
    /// Where JavaScript writes the token's UTF-8 bytes.
    input: Vec<u8>,
    /// Where Rust writes the answer, laid out as [`Record`] says.
    record: Vec<u8>,
    /// Where core decodes the token ([`tokenlife_core::Verifier::verify_in`]).
    scratch: Vec<u8>,
}

/// The layout of an answer in [`Wire::record`], little-endian, read with a `DataView`:
///
/// | offset | type | field |
/// |---|---|---|
/// | 0, 8 | f64 | `iat`, `exp` |
/// | 16, 24 | f64 | `jwt_token_life`, `jwt_token_life_remaining` (inspect) |
/// | 32 | u32 | flags: 1 all text is ASCII, 2 `expiry_status` is `Valid`, 4 has endpoints, 8 the payload may hold claims besides these (see [`only_known_claims`]) |
/// | 36, 40 | u32 | `base`, the address the texts are counted from, and `span`, the bytes from there that hold all of them |
/// | 44..84 | (u32, u32) × 5 | offset from `base` and byte length of username, id, description, iss, endpoints (JSON) |
/// | 84 | bytes | the texts, when they are copied (see below) |
///
/// The texts stay where they are when they all live on after the call: claims without
/// escapes are borrowed from the buffer core decoded the token into, which is kept. `base`
/// is then where the first of them starts, and JavaScript reads all of them with one
/// decode of `span` bytes, with no copy in wasm. Otherwise they are copied after the fixed
/// part, one after another, and `base` is where they start.
struct Record;

impl Record {
    const TEXT: usize = 84;
    const ASCII: u32 = 1;
    const VALID: u32 = 2;
    const ENDPOINTS: u32 = 4;
    const OTHERS: u32 = 8;
    /// How many bytes of other claims may lie between texts that stay where they are.
    const GAPS: usize = 512;

    /// Writes a record; `kept` says that the texts live on after the call (they are
    /// borrowed from the scratch buffer), so that they can stay where they are.
    fn write(out: &mut Vec<u8>, numbers: [f64; 4], flags: u32, texts: [&str; 5], kept: bool) {
        // One pass over the texts: whether all are ASCII, their total length, and the span
        // from the first to the end of the last in memory (empty texts have no place).
        let (mut ascii, mut total) = (true, 0);
        let (mut start, mut end) = (usize::MAX, 0);
        for text in texts {
            ascii &= bytes_ascii(text.as_bytes());
            total += text.len();
            if !text.is_empty() {
                let at = text.as_ptr() as usize;
                start = start.min(at);
                end = end.max(at + text.len());
            }
        }
        let start = start.min(end);
        // Far apart (a large claim between them), the texts are copied all the same: one
        // decode of all that would cost more, and the strings cut from it would keep it
        // alive in JavaScript.
        let kept = kept && end - start <= total + Record::GAPS;
        // The fixed part is written in place (the buffer keeps its length between calls),
        // with room for the copied texts made first, so that their address is known.
        let room = Record::TEXT + if kept { 0 } else { total };
        if out.len() < room {
            out.resize(room, 0);
        }
        out.truncate(Record::TEXT);
        let (base, span) = if kept {
            (start, end - start)
        } else {
            out.reserve(total);
            (out.as_ptr() as usize + Record::TEXT, total)
        };
        // One bounds check for the whole fixed part; the offsets below are constants.
        let Ok(head) = <&mut [u8; Record::TEXT]>::try_from(&mut out[..Record::TEXT]) else {
            return;
        };
        for (at, number) in numbers.into_iter().enumerate() {
            head[8 * at..8 * at + 8].copy_from_slice(&number.to_le_bytes());
        }
        let flags = if ascii { flags | Record::ASCII } else { flags };
        // Addresses are 32 bits in wasm32, so `as u32` keeps all of them there.
        let words = [flags, base as u32, span as u32];
        for (at, word) in words.into_iter().enumerate() {
            head[32 + 4 * at..36 + 4 * at].copy_from_slice(&word.to_le_bytes());
        }
        let mut copied = 0;
        for (at, text) in texts.iter().enumerate() {
            let offset = match (kept, text.is_empty()) {
                (true, false) => text.as_ptr() as usize - base,
                (true, true) => 0,
                (false, _) => {
                    copied += text.len();
                    copied - text.len()
                }
            };
            head[44 + 8 * at..48 + 8 * at].copy_from_slice(&(offset as u32).to_le_bytes());
            head[48 + 8 * at..52 + 8 * at].copy_from_slice(&(text.len() as u32).to_le_bytes());
        }
        if !kept {
            for text in texts {
                out.extend_from_slice(text.as_bytes());
            }
        }
    }
}

/// Whether `bytes` are all ASCII, eight at a time (`is_ascii` goes four at a time in
/// wasm32, with alignment steps that cost more than these short texts).
fn bytes_ascii(bytes: &[u8]) -> bool {
    let mut chunks = bytes.chunks_exact(8);
    let mut high = 0u64;
    for chunk in &mut chunks {
        let mut word = [0; 8];
        word.copy_from_slice(chunk);
        high |= u64::from_le_bytes(word);
    }
    let rest = chunks
        .remainder()
        .iter()
        .fold(0u8, |high, &byte| high | byte);
    (high & 0x8080_8080_8080_8080) == 0 && rest < 0x80
}

/// Makes room for a token of `len` UTF-8 bytes and returns where to write it. The address
/// stays valid until the next call of this function.
#[wasm_bindgen(js_name = wireInput, skip_typescript)]
pub fn wire_input(len: usize) -> usize {
    WIRE.with(|wire| {
        let mut wire = wire.borrow_mut();
        if wire.input.len() < len {
            wire.input.resize(len, 0);
        }
        wire.input.as_ptr() as usize
    })
}

/// `inspect` of the token in the input buffer; returns the address of the record, or 0
/// for an error, which [`wire_error`] then gives.
#[wasm_bindgen(js_name = wireInspect, skip_typescript)]
pub fn wire_inspect(len: usize, now: f64, leeway: f64) -> usize {
    address_or_error(inspect_record(len, now, leeway))
}

fn inspect_record(len: usize, now: f64, leeway: f64) -> Result<usize, JsValue> {
    let (now, leeway) = times(now, leeway)?;
    with_token(len, |token, record, _| {
        let seen = crate::inspect_token(token, now, leeway)?;
        let valid = seen.expiry_status == tokenlife_core::ExpiryStatus::Valid;
        Record::write(
            record,
            [
                seen.iat as f64,
                seen.exp as f64,
                seen.jwt_token_life as f64,
                seen.jwt_token_life_remaining,
            ],
            if valid { Record::VALID } else { 0 },
            [
                &seen.username,
                &seen.jwt_token_id,
                &seen.jwt_token_description,
                "",
                "",
            ],
            false,
        );
        Ok(())
    })
}

/// `verifier.verify` of the token in the input buffer with `now`, `leeway` and `issuer`
/// (the `revoked` option takes the checked path); returns the address of the record, or 0
/// for an error, which [`wire_error`] then gives.
#[wasm_bindgen(js_name = wireVerify, skip_typescript)]
pub fn wire_verify(
    verifier: &Verifier,
    len: usize,
    now: f64,
    leeway: f64,
    issuer: Option<String>,
) -> usize {
    address_or_error(verify_record(verifier, len, now, leeway, issuer))
}

fn verify_record(
    verifier: &Verifier,
    len: usize,
    now: f64,
    leeway: f64,
    issuer: Option<String>,
) -> Result<usize, JsValue> {
    let (now, leeway) = times(now, leeway)?;
    let mut checks = tokenlife_core::VerifyOptions::at(now).leeway(leeway);
    if let Some(issuer) = &issuer {
        checks = checks.issuer(issuer);
    }
    with_token(len, |token, record, scratch| {
        let claims = verifier.check_in(token, &checks, scratch)?;
        let endpoints = match &claims.jwt_token_endpoints {
            // A list of strings always serialises.
            Some(list) => serde_json::to_string(list).unwrap_or_default(),
            None => String::new(),
        };
        let mut flags = if claims.jwt_token_endpoints.is_some() {
            Record::ENDPOINTS
        } else {
            0
        };
        if !only_known_claims(token, &claims) {
            flags |= Record::OTHERS;
        }
        Record::write(
            record,
            [claims.iat as f64, claims.exp as f64, 0.0, 0.0],
            flags,
            [
                &*claims.username,
                &*claims.jwt_token_id,
                &*claims.jwt_token_description,
                &*claims.iss,
                &endpoints,
            ],
            // Borrowed texts live in the scratch buffer, which outlives the call.
            [
                &claims.username,
                &claims.jwt_token_id,
                &claims.jwt_token_description,
                &claims.iss,
            ]
            .iter()
            .all(|text| matches!(text, Cow::Borrowed(_)))
                && endpoints.is_empty(),
        );
        Ok(())
    })
}

/// Whether the token's payload holds nothing but the claims core read, written the short
/// way: its length is then exactly the shortest JSON those claims can be written in.
/// Any other member (at least `,"":0`), white space or escape makes the payload longer,
/// and core refuses a member given twice, so a payload of that length is exactly these
/// claims. When this says no, `tokenlife.js` adds the payload's other claims from
/// `decode` (a few tokens pay for that; the signer's tokens and jose's do not).
fn only_known_claims(token: &[u8], claims: &tokenlife_core::ClaimsRef<'_>) -> bool {
    // Core has checked the form: three base64url parts without padding.
    let mut dots = token
        .iter()
        .enumerate()
        .filter(|&(_, &b)| b == b'.')
        .map(|(at, _)| at);
    let (Some(first), Some(second)) = (dots.next(), dots.next()) else {
        return false;
    };
    let payload = (second - first - 1) * 3 / 4;
    let text = |name: &str, value: &str| name.len() + value.len() + 5;
    let whole = |name: &str, value: i64| name.len() + digits(value) + 3;
    let mut shortest = 2 // {}
        + text("username", &claims.username)
        + text("jwt_token_id", &claims.jwt_token_id)
        + text("jwt_token_description", &claims.jwt_token_description)
        + whole("iat", claims.iat)
        + whole("exp", claims.exp)
        + text("sub", &claims.sub)
        + text("jti", &claims.jti)
        + text("iss", &claims.iss);
    let mut members = 8;
    if let Some(nbf) = claims.nbf {
        shortest += whole("nbf", nbf);
        members += 1;
    }
    if let Some(list) = &claims.jwt_token_endpoints {
        // "name":[...] with each entry quoted and commas between.
        let entries: usize = list.iter().map(|entry| entry.len() + 2).sum();
        shortest += "jwt_token_endpoints".len() + 5 + entries + list.len().saturating_sub(1);
        members += 1;
    }
    payload == shortest + members - 1
}

/// The characters of `value` written in JSON (its digits and a minus sign), without
/// allocating.
fn digits(value: i64) -> usize {
    let mut n = value.unsigned_abs();
    let mut count = usize::from(value < 0) + 1;
    while n >= 10 {
        n /= 10;
        count += 1;
    }
    count
}

/// The error of the last packed call that returned 0, taken (`undefined` if none).
#[wasm_bindgen(js_name = wireError, skip_typescript)]
pub fn wire_error() -> JsValue {
    ERROR.take().unwrap_or(JsValue::UNDEFINED)
}

/// A record's address, or 0 with the error kept for [`wire_error`]. A plain number
/// crosses to JavaScript as it is, where a `Result` comes back as an array to unpack,
/// one allocation per call. (A record's address is never 0: it is a live allocation.)
fn address_or_error(result: Result<usize, JsValue>) -> usize {
    result.unwrap_or_else(|error| {
        ERROR.set(Some(error));
        0
    })
}

/// `now` (NaN for the host's clock) and `leeway` as the checked exports read them,
/// without making JavaScript values of them.
pub(crate) fn times(now: f64, leeway: f64) -> Result<(f64, u64), JsValue> {
    let now = if now.is_nan() {
        clock::now()
    } else {
        options::given_now(Some(now))?
    };
    Ok((now, options::given_leeway(Some(leeway))?))
}

/// Runs `f` on the token in the input buffer, the record buffer and the scratch buffer,
/// and returns the record's address.
fn with_token(
    len: usize,
    f: impl FnOnce(&[u8], &mut Vec<u8>, &mut Vec<u8>) -> Result<(), JsValue>,
) -> Result<usize, JsValue> {
    WIRE.with(|wire| {
        let mut wire = wire.borrow_mut();
        let Wire {
            input,
            record,
            scratch,
        } = &mut *wire;
        f(input_token(input, len), record, scratch)?;
        Ok(record.as_ptr() as usize)
    })
}

/// The token JavaScript wrote, as bytes: core takes a token's bytes as they are, with no
/// UTF-8 check (`TextEncoder.encodeInto` writes UTF-8 anyway, and a byte outside base64url
/// makes a token malformed). A length past the buffer, which `tokenlife.js` never gives,
/// reads as the empty token, which core calls malformed.
fn input_token(input: &[u8], len: usize) -> &[u8] {
    input.get(..len).unwrap_or_default()
}

#[cfg(test)]
mod tests;
