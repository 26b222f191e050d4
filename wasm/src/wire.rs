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
/// | 32 | u32 | flags: 1 all text is ASCII, 2 `expiry_status` is `Valid`, 4 has endpoints |
/// | 36..56 | u32 × 5 | byte lengths of username, id, description, iss, endpoints (JSON) |
/// | 56 | bytes | those five texts, one after the other |
struct Record;

impl Record {
    const TEXT: usize = 56;
    const ASCII: u32 = 1;
    const VALID: u32 = 2;
    const ENDPOINTS: u32 = 4;

    fn write(out: &mut Vec<u8>, numbers: [f64; 4], flags: u32, texts: [&str; 5]) {
        // The fixed part is put together on the stack and copied once.
        let mut head = [0u8; Record::TEXT];
        for (at, number) in numbers.into_iter().enumerate() {
            head[8 * at..8 * at + 8].copy_from_slice(&number.to_le_bytes());
        }
        let ascii = texts.iter().all(|text| text.is_ascii());
        let flags = if ascii { flags | Record::ASCII } else { flags };
        head[32..36].copy_from_slice(&flags.to_le_bytes());
        for (at, text) in texts.iter().enumerate() {
            // A text longer than 4 GiB cannot have come through a wasm32 memory.
            head[36 + 4 * at..40 + 4 * at].copy_from_slice(&(text.len() as u32).to_le_bytes());
        }
        out.clear();
        out.reserve(Record::TEXT + texts.iter().map(|text| text.len()).sum::<usize>());
        out.extend_from_slice(&head);
        for text in texts {
            out.extend_from_slice(text.as_bytes());
        }
    }
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
        let flags = if claims.jwt_token_endpoints.is_some() {
            Record::ENDPOINTS
        } else {
            0
        };
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
        );
        Ok(())
    })
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
fn times(now: f64, leeway: f64) -> Result<(f64, u64), JsValue> {
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
