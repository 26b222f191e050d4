//! Reading a token without its key, for clients that only hold the token.

use std::borrow::Cow;

use serde::Serialize;
use serde_json::value::RawValue;

use crate::jws::Compact;
use crate::time::{ExpiryStatus, expiry_status, remaining_life};
use crate::{Error, json};

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

/// What `inspect` reads: Specter's names or their RFC 7519 twins, all optional but the
/// times. Borrowed where the JSON has no escapes, so only the strings kept are allocated.
pub(crate) struct LooseClaims<'a> {
    pub(crate) username: Option<Cow<'a, str>>,
    pub(crate) sub: Option<Cow<'a, str>>,
    pub(crate) jwt_token_id: Option<Cow<'a, str>>,
    pub(crate) jti: Option<Cow<'a, str>>,
    pub(crate) jwt_token_description: Option<Cow<'a, str>>,
    pub(crate) iat: i64,
    pub(crate) exp: i64,
}

impl<'a> LooseClaims<'a> {
    pub(crate) fn parse(text: &'a str) -> Result<LooseClaims<'a>, Error> {
        Self::read(text).map_err(|fault| Error::malformed(format!("claims: {fault}")))
    }

    fn read(text: &'a str) -> json::Result<LooseClaims<'a>> {
        let (mut username, mut sub, mut jwt_token_id, mut jti) = (None, None, None, None);
        let (mut jwt_token_description, mut iat, mut exp) = (None, None, None);
        let optional = |r: &mut json::Reader<'a>, name: &str| {
            r.or_null(|r: &mut json::Reader<'a>| r.text(name))
        };
        let mut reader = json::Reader::new(text);
        reader.object(|r, name| match &*name {
            "username" => json::once(&mut username, "username", optional(r, "username")?),
            "sub" => json::once(&mut sub, "sub", optional(r, "sub")?),
            "jwt_token_id" => json::once(
                &mut jwt_token_id,
                "jwt_token_id",
                optional(r, "jwt_token_id")?,
            ),
            "jti" => json::once(&mut jti, "jti", optional(r, "jti")?),
            "jwt_token_description" => json::once(
                &mut jwt_token_description,
                "jwt_token_description",
                optional(r, "jwt_token_description")?,
            ),
            "iat" => json::once(&mut iat, "iat", r.whole("iat")?),
            "exp" => json::once(&mut exp, "exp", r.whole("exp")?),
            _ => r.skip().map(drop),
        })?;
        reader.end()?;
        Ok(LooseClaims {
            username: username.flatten(),
            sub: sub.flatten(),
            jwt_token_id: jwt_token_id.flatten(),
            jti: jti.flatten(),
            jwt_token_description: jwt_token_description.flatten(),
            iat: json::required(iat, "iat")?,
            exp: json::required(exp, "exp")?,
        })
    }
}

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
pub fn inspect(token: impl AsRef<[u8]>, now: f64, leeway: u64) -> Result<Inspection, Error> {
    inspect_bytes(token.as_ref(), now, leeway)
}

/// [`inspect`] on bytes: one copy of the code whatever the callers pass.
fn inspect_bytes(token: &[u8], now: f64, leeway: u64) -> Result<Inspection, Error> {
    let compact = Compact::split(token)?;
    let payload = compact.payload_bytes()?;
    let claims = LooseClaims::parse(crate::jws::utf8(&payload, "claims")?)?;
    let owned = |text: Option<Cow<'_, str>>| text.map(Cow::into_owned).unwrap_or_default();
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
pub fn decode_unverified(token: impl AsRef<[u8]>) -> Result<Decoded, Error> {
    decode_bytes(token.as_ref())
}

/// [`decode_unverified`] on bytes: one copy of the code whatever the callers pass.
fn decode_bytes(token: &[u8]) -> Result<Decoded, Error> {
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

#[cfg(test)]
mod tests {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    use super::decode_unverified;

    #[test]
    fn header_and_claims_must_be_json_objects() {
        let part = |json: &str| URL_SAFE_NO_PAD.encode(json);
        let token = |header: &str, claims: &str| format!("{}.{}.c2ln", part(header), part(claims));
        assert!(decode_unverified(token(r#"{"alg":"HS256"}"#, r#"{"a":1}"#)).is_ok());
        for (header, claims, which) in [
            ("[1]", "{}", "header"),
            (r#""text""#, "{}", "header"),
            ("1", "{}", "header"),
            ("{}", "[]", "claims"),
            ("{}", "null", "claims"),
        ] {
            let err = decode_unverified(token(header, claims)).unwrap_err();
            assert_eq!(err.code(), "malformed");
            assert!(
                err.to_string()
                    .contains(&format!("{which} is not a JSON object")),
                "{err}"
            );
        }
    }
}
