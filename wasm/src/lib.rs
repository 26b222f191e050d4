//! The npm package `tokenlife`: tokenlife-core for browsers, Node and edge runtimes.
//!
//! Thin bindings with the SPEC's JavaScript names (section 6). Each export reads its
//! arguments, calls core and hands back plain objects and numbers; seconds are `f64`.
//! A core failure becomes a JavaScript `Error` with a `code` in one place
//! (`error::into_error`), and the host's clock is read in one place (`clock.rs`).
//! The TypeScript types of the results and options are declared below, next to the code
//! that produces them, and land in the generated `tokenlife.d.ts`.
//!
//! The package's `tokenlife.js` (wasm/npm, hand-written) re-exports these bindings and
//! takes a packed road for the hot calls (`wire.rs`); these exports remain the reference
//! it falls back to and is tested against.

#![deny(missing_docs)]

mod clock;
mod error;
mod options;
mod verifier;
mod wire;

use serde::Serialize;
use wasm_bindgen::prelude::*;

pub use options::{InspectOptions, ParseLifeOptions, VerifyOptions};
pub use verifier::Verifier;

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &str = r#"
/** The code of every error this package throws for a bad token, key or life (SPEC 6). */
export type ErrorCode =
  | "malformed"
  | "bad_signature"
  | "expired"
  | "not_yet_valid"
  | "revoked"
  | "unknown_key"
  | "alg_not_allowed"
  | "claim_mismatch"
  | "bad_life";

/** What the package throws: a real `Error` whose `code` says what went wrong. */
export interface TokenlifeError extends Error {
  code: ErrorCode;
}

/** `"Valid"` while the remaining life is above zero, `"Expired"` from `exp` on. */
export type ExpiryStatus = "Valid" | "Expired";

/** Options of `inspect`. */
export interface InspectOptions {
  /** The time to judge the token at, Unix seconds (fractions allowed); the host's clock when absent. */
  now?: number;
  /** Whole seconds of grace after `exp` before `expiry_status` says `"Expired"`; 0 when absent. */
  leeway?: number;
}

/** What `inspect` reads from a token, without checking its signature. */
export interface Inspection {
  /** The owner (`username`, or `sub` for tokens of other issuers). */
  username: string;
  /** The token id (`jwt_token_id`, or `jti`). */
  jwt_token_id: string;
  /** The description given at creation; empty if the token has none. */
  jwt_token_description: string;
  /** Issued at, Unix seconds. */
  iat: number;
  /** Expires at, Unix seconds. */
  exp: number;
  /** `exp - iat`, seconds. */
  jwt_token_life: number;
  /** `max(0, exp - now)`, seconds (fractional when `now` is). */
  jwt_token_life_remaining: number;
  /** The expiry status at `now`. */
  expiry_status: ExpiryStatus;
}

/** The claims of a verified tokenlife token (SPEC 3). */
export interface Claims {
  /** The owner's username. */
  username: string;
  /** The token id, a UUID v4. */
  jwt_token_id: string;
  /** The description given at creation. */
  jwt_token_description: string;
  /** Issued at, Unix seconds. */
  iat: number;
  /** Expires at, Unix seconds: `iat + life`. */
  exp: number;
  /** The username again, under its RFC 7519 name. */
  sub: string;
  /** The token id again, under its RFC 7519 name. */
  jti: string;
  /** The issuing server's name. */
  iss: string;
  /** Endpoint patterns the token is limited to; absent means everywhere. */
  jwt_token_endpoints?: string[];
}

/** A token's JOSE header and claims, as JSON, unjudged. */
export interface Decoded {
  header: Record<string, unknown>;
  claims: Record<string, unknown>;
}

/** One entry of the server's `/api/v1alpha/revoked` document. */
export interface RevokedEntry {
  /** The revoked token's id. */
  jwt_token_id: string;
  /** Its `exp`: the server lists it until then. */
  exp?: number;
}

/** The server's `/api/v1alpha/revoked` document. */
export interface RevokedDocument {
  revoked: RevokedEntry[];
}

/** Revoked token ids: a list or `Set` of ids or entries, or the server's document. */
export type Revoked =
  | readonly (string | RevokedEntry)[]
  | ReadonlySet<string>
  | RevokedDocument;

/** Options of `parseLife`. */
export interface ParseLifeOptions {
  /** The longest life allowed, as a life ("1 year") or in seconds. */
  max?: string | number;
}

/** Options of `Verifier.verify`. */
export interface VerifyOptions {
  /** The time of the check, Unix seconds (fractions allowed); the host's clock when absent. */
  now?: number;
  /** Whole seconds of grace after `exp` and before `nbf`; 0 when absent. */
  leeway?: number;
  /** The `iss` the token must carry. */
  issuer?: string;
  /** Token ids to refuse with `revoked`. */
  revoked?: Revoked;
}

/** One key of a JWKS; `OKP`/`Ed25519` and `oct` (HS256) signing keys are used. */
export interface Jwk {
  kty: string;
  kid?: string;
  alg?: string;
  use?: string;
  crv?: string;
  x?: string;
  k?: string;
  [member: string]: unknown;
}

/** A JWKS document, such as a tokenlife server's `/.well-known/jwks.json`. */
export interface Jwks {
  keys: Jwk[];
}

/** What `new Verifier(key)` takes. */
export type VerifierKey =
  | { secret: string | Uint8Array }
  | { jwks: Jwks | string }
  | Jwks
  | string
  | Uint8Array;
"#;

/// Reads a token's claims and its life at `now` **without checking its signature**:
/// anyone can make a token that inspects well. Use `Verifier.verify` to trust a token.
///
/// @throws {TokenlifeError} `malformed` when `token` is not a JWS compact token whose
/// claims have integer `iat` and `exp`.
#[wasm_bindgen(unchecked_return_type = "Inspection")]
pub fn inspect(
    #[wasm_bindgen(unchecked_param_type = "string")] token: JsValue,
    options: Option<InspectOptions>,
) -> Result<JsValue, JsValue> {
    let token = token_str(&token);
    let (now, leeway) = match options {
        Some(options) => (
            options::now(options.now())?,
            options::leeway(options.leeway())?,
        ),
        None => (clock::now(), 0),
    };
    let inspection = inspect_token(token.as_bytes(), now, leeway)?;
    Ok(to_js(&inspection))
}

/// The token's remaining life at `now` (the host's clock when absent), in seconds:
/// `max(0, exp - now)`, fractional when `now` is. The signature is not checked.
///
/// @throws {TokenlifeError} `malformed` as `inspect` does.
#[wasm_bindgen(js_name = remainingLife)]
pub fn remaining_life(
    #[wasm_bindgen(unchecked_param_type = "string")] token: JsValue,
    now: Option<f64>,
) -> Result<f64, JsValue> {
    let token = token_str(&token);
    let now = options::now(now.map_or(JsValue::UNDEFINED, JsValue::from_f64))?;
    let inspection = inspect_token(token.as_bytes(), now, 0)?;
    Ok(inspection.jwt_token_life_remaining)
}

/// Parses a life as a person writes it ("6 minutes", "1h30m", "1.5 hours", "3600") into
/// whole seconds. A number is taken as seconds, as a JSON integer is. With `max`, a longer
/// life is refused, as the server refuses lives over its maximum.
///
/// @throws {TokenlifeError} `bad_life`, with a message saying why.
#[wasm_bindgen(js_name = parseLife)]
pub fn parse_life(
    #[wasm_bindgen(unchecked_param_type = "string | number")] life: JsValue,
    options: Option<ParseLifeOptions>,
) -> Result<f64, JsValue> {
    let mut parsed = life_from_js(&life)?;
    let max = options.map_or(JsValue::UNDEFINED, |options| options.max());
    if !max.is_undefined() && !max.is_null() {
        let max = life_from_js(&max)?.map_err(error::from_life)?;
        parsed = parsed.and_then(|life| life.at_most(max));
    }
    // Lives beyond 2^53 seconds lose precision as a JavaScript number, like any such number.
    parsed
        .map(|life| life.secs() as f64)
        .map_err(error::from_life)
}

/// A life from a string or a number of seconds; the outer error is for other types.
fn life_from_js(
    life: &JsValue,
) -> Result<Result<tokenlife_core::Life, tokenlife_core::LifeError>, JsValue> {
    use tokenlife_core::Life;
    if let Some(text) = life.as_string() {
        return Ok(Life::parse(&text));
    }
    let Some(secs) = life.as_f64() else {
        return Err(error::type_error(
            "a life is a string or a number of seconds",
        ));
    };
    Ok(Life::from_number(secs))
}

/// Writes seconds the way lives are shown (`360` → `"6m"`, `259200` → `"3days"`,
/// `0` → `"0s"`). A fraction is dropped, so a remaining life shows its whole seconds.
///
/// @throws {TokenlifeError} `bad_life` for a negative number, `NaN` or an infinity.
#[wasm_bindgen(js_name = formatLife)]
pub fn format_life(seconds: f64) -> Result<String, JsValue> {
    use tokenlife_core::LifeError;
    if seconds.is_nan() {
        return Err(error::from_life(LifeError::NotWhole));
    }
    if seconds < 0.0 {
        return Err(error::from_life(LifeError::NotPositive));
    }
    if seconds.is_infinite() {
        return Err(error::from_life(LifeError::Overflow));
    }
    // Finite and non-negative: the cast drops the fraction and saturates at u64::MAX.
    Ok(tokenlife_core::format_life(seconds as u64))
}

/// A token's JOSE header and claims as they are, for showing a token to a person. Nothing
/// is checked but the form: not the signature, not the times, not the claims.
///
/// @throws {TokenlifeError} `malformed` when a part is not base64url JSON.
#[wasm_bindgen(unchecked_return_type = "Decoded")]
pub fn decode(
    #[wasm_bindgen(unchecked_param_type = "string")] token: JsValue,
) -> Result<JsValue, JsValue> {
    let token = token_str(&token);
    let decoded = tokenlife_core::decode_unverified(&token).map_err(error::into_error)?;
    Ok(to_js(&decoded))
}

/// Core's `inspect`, in one copy for the checked and the packed exports alike (inlined
/// into each, it would be in the `.wasm` several times).
#[inline(never)]
pub(crate) fn inspect_token(
    token: &[u8],
    now: f64,
    leeway: u64,
) -> Result<tokenlife_core::Inspection, JsValue> {
    tokenlife_core::inspect(token, now, leeway).map_err(error::into_error)
}

/// The token as a Rust string. Anything but a string reads as the empty string, which
/// core then reports as `malformed` like any other text that is not a token.
pub(crate) fn token_str(token: &JsValue) -> String {
    token.as_string().unwrap_or_default()
}

/// A plain JavaScript object from a core value, through JSON: one string crosses the
/// boundary and `JSON.parse` builds the object, which measured as fast as building it
/// property by property with serde-wasm-bindgen and is 2 KB smaller in the `.wasm`.
pub(crate) fn to_js<T: Serialize>(value: &T) -> JsValue {
    // Core's values are structs of strings, numbers and JSON values: they always
    // serialise, and serde_json writes JSON that `JSON.parse` reads.
    serde_json::to_string(value)
        .ok()
        .and_then(|json| js_sys::JSON::parse(&json).ok())
        .unwrap_or(JsValue::UNDEFINED)
}
