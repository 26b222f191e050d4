//! Reading a token without its key, for clients that only hold the token.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::Error;
use crate::jws::Compact;
use crate::time::{ExpiryStatus, expiry_status, remaining_life};

/// What a token says about itself, and its life at the time of asking.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Inspection {
    /// The owner (`username`, or `sub` for tokens from other issuers).
    pub username: String,
    /// The token id (`jwt_token_id`, or `jti`).
    pub jwt_token_id: String,
    /// The description, empty if the token has none.
    pub jwt_token_description: String,
    /// Issued at, Unix seconds.
    pub iat: i64,
    /// Expires at, Unix seconds.
    pub exp: i64,
    /// `exp - iat` in seconds.
    pub jwt_token_life: u64,
    /// Seconds left at the time of asking.
    pub jwt_token_life_remaining: f64,
    /// `Valid` or `Expired` at the time of asking.
    pub expiry_status: ExpiryStatus,
}

/// Borrowed where the JSON has no escapes, so only the three strings kept are allocated.
#[derive(Deserialize)]
struct LooseClaims<'a> {
    #[serde(default, borrow)]
    username: Option<Text<'a>>,
    #[serde(default, borrow)]
    sub: Option<Text<'a>>,
    #[serde(default, borrow)]
    jwt_token_id: Option<Text<'a>>,
    #[serde(default, borrow)]
    jti: Option<Text<'a>>,
    #[serde(default, borrow)]
    jwt_token_description: Option<Text<'a>>,
    iat: i64,
    exp: i64,
}

/// A JSON string borrowed from the payload unless it has escapes. serde borrows a
/// `Cow<str>` only as a direct field with `#[serde(borrow)]`, not inside an `Option`,
/// hence the newtype.
#[derive(Deserialize)]
struct Text<'a>(#[serde(borrow)] Cow<'a, str>);

/// Reads a token's claims and life at `now` **without checking its signature**: anyone
/// can make a token that inspects well. Use [`crate::Verifier::verify`] to trust one.
///
/// # Errors
///
/// `malformed` when the token is not a JWS compact token whose payload has integer `iat`
/// and `exp`.
///
/// ```
/// use tokenlife_core::{inspect, ExpiryStatus};
/// // {"alg":"HS256"} . {"username":"u","jwt_token_id":"i","iat":100,"exp":460}
/// let token = "eyJhbGciOiJIUzI1NiJ9.eyJ1c2VybmFtZSI6InUiLCJqd3RfdG9rZW5faWQiOiJpIiwiaWF0IjoxMDAsImV4cCI6NDYwfQ.x";
/// let seen = inspect(token, 400.0, 0)?;
/// assert_eq!(seen.jwt_token_life, 360);
/// assert_eq!(seen.jwt_token_life_remaining, 60.0);
/// assert_eq!(seen.expiry_status, ExpiryStatus::Valid);
/// # Ok::<(), tokenlife_core::Error>(())
/// ```
pub fn inspect(token: &str, now: f64, leeway: u64) -> Result<Inspection, Error> {
    let compact = Compact::split(token)?;
    let payload = compact.payload_bytes()?;
    let claims: LooseClaims<'_> = serde_json::from_str(crate::jws::utf8(&payload, "claims")?)
        .map_err(|err| Error::malformed(format!("claims: {err}")))?;
    let owned =
        |text: Option<Text<'_>>| text.map(|Text(text)| text.into_owned()).unwrap_or_default();
    Ok(Inspection {
        username: owned(claims.username.or(claims.sub)),
        jwt_token_id: owned(claims.jwt_token_id.or(claims.jti)),
        jwt_token_description: owned(claims.jwt_token_description),
        iat: claims.iat,
        exp: claims.exp,
        jwt_token_life: u64::try_from(claims.exp.saturating_sub(claims.iat)).unwrap_or(0),
        jwt_token_life_remaining: remaining_life(claims.exp, now),
        expiry_status: expiry_status(claims.exp, now, leeway),
    })
}

/// A token's header and claims as JSON, **without checking its signature**, for showing
/// a token to a person. Both are kept as the token wrote them (raw JSON text), so a
/// person sees the members in the token's order; [`Decoded::header_value`] and
/// [`Decoded::claims_value`] give them as values to look into.
#[derive(Debug, Clone, Serialize)]
pub struct Decoded {
    /// The JOSE header, a JSON object as the token has it.
    pub header: Box<RawValue>,
    /// The claims, a JSON object as the token has it.
    pub claims: Box<RawValue>,
}

impl Decoded {
    /// The header as a JSON value.
    pub fn header_value(&self) -> serde_json::Value {
        // The text was checked to be a JSON object when the token was decoded.
        serde_json::from_str(self.header.get()).unwrap_or_default()
    }

    /// The claims as a JSON value.
    pub fn claims_value(&self) -> serde_json::Value {
        serde_json::from_str(self.claims.get()).unwrap_or_default()
    }
}

/// Decodes any JWS compact token's header and claims without judging them.
///
/// # Errors
///
/// `malformed` when a part is not base64url or not a JSON object.
///
/// ```
/// // {"alg":"none"} . {"b":2,"a":1}
/// let decoded = tokenlife_core::decode_unverified("eyJhbGciOiJub25lIn0.eyJiIjoyLCJhIjoxfQ.")?;
/// assert_eq!(decoded.header_value()["alg"], "none");
/// assert_eq!(decoded.claims.get(), r#"{"b":2,"a":1}"#);
/// assert_eq!(decoded.claims_value()["a"], 1);
/// # Ok::<(), tokenlife_core::Error>(())
/// ```
pub fn decode_unverified(token: &str) -> Result<Decoded, Error> {
    let compact = Compact::split(token)?;
    let object = |bytes: Vec<u8>, name: &str| -> Result<Box<RawValue>, Error> {
        let not_object = || Error::malformed(format!("{name} is not a JSON object"));
        let text = String::from_utf8(bytes).map_err(|_| not_object())?;
        match RawValue::from_string(text) {
            Ok(raw) if raw.get().starts_with('{') => Ok(raw),
            _ => Err(not_object()),
        }
    };
    Ok(Decoded {
        header: object(crate::jws::decode_part(compact.header, "header")?, "header")?,
        claims: object(compact.payload_bytes()?, "claims")?,
    })
}
