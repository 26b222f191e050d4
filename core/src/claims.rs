//! The claims every tokenlife token carries, and the store's record of a token.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use crate::bytes::same;
use crate::json;
use crate::life::Life;
use crate::{Error, ErrorKind};

/// The payload of a tokenlife token: Specter's names plus their RFC 7519 twins.
///
/// ```
/// use tokenlife_core::{Claims, Life, TokenId};
/// let id = TokenId::from_random_bytes([7; 16]);
/// let claims = Claims::new("alice", id, "ci", Life::parse("6m")?, 1_700_000_000, "tokenlife")?;
/// assert_eq!(claims.exp - claims.iat, 360);
/// assert_eq!(claims.sub, "alice");
/// # Ok::<(), tokenlife_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The owner's username (Specter).
    pub username: String,
    /// The token's id, a UUID v4 string (Specter).
    pub jwt_token_id: String,
    /// The description given at creation (Specter).
    pub jwt_token_description: String,
    /// Issued at, Unix seconds.
    pub iat: i64,
    /// Expires at, Unix seconds: `iat + life`.
    pub exp: i64,
    /// The username again, under its RFC 7519 name.
    pub sub: String,
    /// The token id again, under its RFC 7519 name.
    pub jti: String,
    /// The issuing server's name.
    pub iss: String,
    /// Endpoint patterns that limit where the token is accepted; absent means everywhere.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwt_token_endpoints: Option<Vec<String>>,
    /// Not before, Unix seconds. tokenlife never sets it; tokens from other issuers may.
    #[serde(default, skip_serializing)]
    pub nbf: Option<i64>,
}

impl Claims {
    /// The claims of a new token issued at `iat` (Unix seconds) for `life`.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::BadLife`] when `iat + life` does not fit an `i64`.
    pub fn new(
        username: &str,
        id: TokenId,
        description: &str,
        life: Life,
        iat: i64,
        issuer: &str,
    ) -> Result<Claims, Error> {
        let exp = i64::try_from(life.secs())
            .ok()
            .and_then(|secs| iat.checked_add(secs))
            .ok_or(crate::LifeError::Overflow)?;
        let id = id.to_string();
        Ok(Claims {
            username: username.to_owned(),
            jwt_token_id: id.clone(),
            jwt_token_description: description.to_owned(),
            iat,
            exp,
            sub: username.to_owned(),
            jti: id,
            iss: issuer.to_owned(),
            jwt_token_endpoints: None,
            nbf: None,
        })
    }

    /// The same claims limited to the given endpoint patterns.
    pub fn with_endpoints(mut self, endpoints: Vec<String>) -> Claims {
        self.jwt_token_endpoints = Some(endpoints);
        self
    }

    /// The life the token was issued with, `exp - iat`, in seconds (0 if `exp < iat`).
    pub fn life(&self) -> u64 {
        u64::try_from(self.exp.saturating_sub(self.iat)).unwrap_or(0)
    }
}

/// [`Claims`] as read from a token's payload, their strings borrowed from the payload
/// where the JSON has no escapes: what [`crate::Verifier::verify_in`] returns, so that a
/// caller who only reads the claims allocates nothing. The fields are those of [`Claims`].
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ClaimsRef<'a> {
    /// The owner's username.
    #[serde(borrow)]
    pub username: Cow<'a, str>,
    /// The token's id.
    #[serde(borrow)]
    pub jwt_token_id: Cow<'a, str>,
    /// The description given at creation.
    #[serde(borrow)]
    pub jwt_token_description: Cow<'a, str>,
    /// Issued at, Unix seconds.
    pub iat: i64,
    /// Expires at, Unix seconds.
    pub exp: i64,
    /// The username again.
    #[serde(borrow)]
    pub sub: Cow<'a, str>,
    /// The token id again.
    #[serde(borrow)]
    pub jti: Cow<'a, str>,
    /// The issuing server's name.
    #[serde(borrow)]
    pub iss: Cow<'a, str>,
    /// Endpoint patterns, if any (rare, so owned).
    #[serde(default)]
    pub jwt_token_endpoints: Option<Vec<String>>,
    /// Not before, Unix seconds, if any.
    #[serde(default)]
    pub nbf: Option<i64>,
}

impl<'a> ClaimsRef<'a> {
    /// Reads claims from a payload's JSON text, as their `Deserialize` does (which the
    /// tests hold this to), with the reader of [`crate::json`].
    pub(crate) fn parse(text: &'a str) -> Result<ClaimsRef<'a>, Error> {
        if let Some(claims) = Self::read_as_signed(text) {
            return Ok(claims);
        }
        Self::read(text).map_err(|fault| Error::malformed(format!("claims: {fault}")))
    }

    /// Claims laid out exactly as tokenlife's signer writes them (its members in its order,
    /// no white space, no escapes, no endpoints), read by comparing the member names as
    /// literals; `None` at the first difference, and [`ClaimsRef::read`] decides. Whatever
    /// this accepts is plain JSON with each member once, so both read the same claims (a
    /// property test holds them to it).
    pub(crate) fn read_as_signed(text: &'a str) -> Option<ClaimsRef<'a>> {
        let mut at = 0;
        let claims = ClaimsRef {
            username: signed_string(text, &mut at, br#"{"username":""#)?,
            jwt_token_id: signed_string(text, &mut at, br#","jwt_token_id":""#)?,
            jwt_token_description: signed_string(text, &mut at, br#","jwt_token_description":""#)?,
            iat: signed_whole(text.as_bytes(), &mut at, br#","iat":"#)?,
            exp: signed_whole(text.as_bytes(), &mut at, br#","exp":"#)?,
            sub: signed_string(text, &mut at, br#","sub":""#)?,
            jti: signed_string(text, &mut at, br#","jti":""#)?,
            iss: signed_string(text, &mut at, br#","iss":""#)?,
            jwt_token_endpoints: None,
            nbf: None,
        };
        (signed_literal(text.as_bytes(), &mut at, b"}").is_some() && at == text.len())
            .then_some(claims)
    }

    pub(crate) fn read(text: &'a str) -> json::Result<ClaimsRef<'a>> {
        let (mut username, mut jwt_token_id, mut jwt_token_description) = (None, None, None);
        let (mut iat, mut exp, mut sub, mut jti, mut iss) = (None, None, None, None, None);
        let (mut endpoints, mut nbf, mut aud) = (None, None, None);
        let mut reader = json::Reader::new(text);
        reader.object(|r, name| match &*name {
            "username" => json::once(&mut username, "username", r.text("username")?),
            "jwt_token_id" => {
                json::once(&mut jwt_token_id, "jwt_token_id", r.text("jwt_token_id")?)
            }
            "jwt_token_description" => json::once(
                &mut jwt_token_description,
                "jwt_token_description",
                r.text("jwt_token_description")?,
            ),
            "iat" => json::once(&mut iat, "iat", r.whole("iat")?),
            "exp" => json::once(&mut exp, "exp", r.whole("exp")?),
            "sub" => json::once(&mut sub, "sub", r.text("sub")?),
            "jti" => json::once(&mut jti, "jti", r.text("jti")?),
            "iss" => json::once(&mut iss, "iss", r.text("iss")?),
            "jwt_token_endpoints" => {
                let list = r.or_null(|r| r.strings("jwt_token_endpoints"))?;
                json::once(&mut endpoints, "jwt_token_endpoints", list)
            }
            "nbf" => json::once(&mut nbf, "nbf", r.or_null(|r| r.whole("nbf"))?),
            // Unused, but a registered claim (RFC 7519 4.1.3) named twice is refused, as
            // jsonwebtoken refuses it (found by fuzz/fuzz_targets/token.rs).
            "aud" => json::once(&mut aud, "aud", r.skip()?),
            _ => r.skip().map(drop),
        })?;
        reader.end()?;
        Ok(ClaimsRef {
            username: json::required(username, "username")?,
            jwt_token_id: json::required(jwt_token_id, "jwt_token_id")?,
            jwt_token_description: json::required(jwt_token_description, "jwt_token_description")?,
            iat: json::required(iat, "iat")?,
            exp: json::required(exp, "exp")?,
            sub: json::required(sub, "sub")?,
            jti: json::required(jti, "jti")?,
            iss: json::required(iss, "iss")?,
            jwt_token_endpoints: endpoints.flatten(),
            nbf: nbf.flatten(),
        })
    }

    /// The same claims, owning their strings.
    pub fn into_owned(self) -> Claims {
        Claims {
            username: self.username.into_owned(),
            jwt_token_id: self.jwt_token_id.into_owned(),
            jwt_token_description: self.jwt_token_description.into_owned(),
            iat: self.iat,
            exp: self.exp,
            sub: self.sub.into_owned(),
            jti: self.jti.into_owned(),
            iss: self.iss.into_owned(),
            jwt_token_endpoints: self.jwt_token_endpoints,
            nbf: self.nbf,
        }
    }

    /// Checks that the Specter names and the RFC 7519 names agree.
    pub(crate) fn check_twins(&self) -> Result<(), Error> {
        if !same(self.sub.as_bytes(), self.username.as_bytes()) {
            return Err(mismatch("sub", "sub must equal username"));
        }
        if !same(self.jti.as_bytes(), self.jwt_token_id.as_bytes()) {
            return Err(mismatch("jti", "jti must equal jwt_token_id"));
        }
        Ok(())
    }
}

/// `literal` at `at` in the signer's layout ([`ClaimsRef::read_as_signed`]), stepped over.
#[inline(always)]
fn signed_literal(bytes: &[u8], at: &mut usize, literal: &[u8]) -> Option<()> {
    let end = *at + literal.len();
    let next = bytes.get(*at..end)?;
    same(next, literal).then(|| *at = end)
}

/// `before`, then a string without escapes and its closing quote.
#[inline(always)]
fn signed_string<'a>(text: &'a str, at: &mut usize, before: &[u8]) -> Option<Cow<'a, str>> {
    let bytes = text.as_bytes();
    signed_literal(bytes, at, before)?;
    let start = *at;
    let end = json::plain_run(bytes, start);
    (bytes.get(end) == Some(&b'"')).then_some(())?;
    *at = end + 1;
    // The quotes are ASCII, so both ends fall on character boundaries.
    text.get(start..end).map(Cow::Borrowed)
}

/// `before`, then a whole number of at most 18 digits (which cannot overflow) without a
/// leading zero; anything else is for the reader to judge.
#[inline(always)]
fn signed_whole(bytes: &[u8], at: &mut usize, before: &[u8]) -> Option<i64> {
    signed_literal(bytes, at, before)?;
    let start = *at;
    let mut value = 0u64;
    let mut end = start;
    while let Some(&digit) = bytes.get(end).filter(|digit| digit.is_ascii_digit()) {
        value = value.wrapping_mul(10).wrapping_add(u64::from(digit - b'0'));
        end += 1;
    }
    let digits = end - start;
    if digits == 0 || digits > 18 || (digits > 1 && bytes[start] == b'0') {
        return None;
    }
    *at = end;
    i64::try_from(value).ok()
}

pub(crate) fn mismatch(claim: &'static str, detail: impl Into<String>) -> Error {
    ErrorKind::ClaimMismatch {
        claim,
        detail: detail.into(),
    }
    .into()
}

/// A token id: a UUID v4 made from caller-given random bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TokenId(uuid::Uuid);

impl TokenId {
    /// A version 4 UUID from 16 random bytes (the caller's generator, not core's).
    ///
    /// ```
    /// let id = tokenlife_core::TokenId::from_random_bytes([0; 16]);
    /// assert_eq!(id.to_string(), "00000000-0000-4000-8000-000000000000");
    /// ```
    pub fn from_random_bytes(bytes: [u8; 16]) -> TokenId {
        TokenId(uuid::Builder::from_random_bytes(bytes).into_uuid())
    }
}

impl std::fmt::Display for TokenId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.hyphenated().fmt(f)
    }
}

/// What the store keeps of a token: enough to recognise it and report on it, never the
/// token itself.
///
/// ```
/// use tokenlife_core::{Claims, Life, TokenId, TokenRecord};
/// let claims = Claims::new("alice", TokenId::from_random_bytes([1; 16]), "ci",
///     Life::parse("6m")?, 100, "tokenlife")?;
/// let record = TokenRecord::new(&claims, "header.payload.signature");
/// assert!(record.matches("header.payload.signature"));
/// assert!(!record.matches("header.payload.other"));
/// assert!(record.matches_fingerprint(&tokenlife_core::fingerprint("header.payload.signature")));
/// # Ok::<(), tokenlife_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenRecord {
    /// The description given at creation.
    pub jwt_token_description: String,
    /// The life in seconds.
    pub jwt_token_life: u64,
    /// Issued at, Unix seconds.
    pub iat: i64,
    /// Expires at, Unix seconds.
    pub exp: i64,
    /// SHA-256 of the token, hex: recognises the token without letting anyone use it.
    pub fingerprint: String,
    /// Endpoint patterns the token is limited to, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwt_token_endpoints: Option<Vec<String>>,
    /// Where the token was issued when not by tokenlife: `"specter"` for a token imported
    /// by `tokenlife import-specter`. Absent for tokenlife's own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwt_token_origin: Option<String>,
    /// When the token was last accepted, Unix seconds, coarsely (a server records a use
    /// at most once a minute per token). Absent until the first use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwt_token_last_used: Option<i64>,
    /// The client address of that use (the peer's IP address). Absent until the first use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwt_token_last_used_from: Option<String>,
    /// The `kid` of the key that signed the token (from its header), so that a keyring can
    /// count and retire the tokens of each key. Absent for tokens signed before headers
    /// carried one, and for imported ones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
}

/// The `kid` of a token's header, if it has a readable one.
fn header_kid(token: &str) -> Option<String> {
    let header = token.split('.').next()?;
    let bytes = crate::jws::decode_part(header.as_bytes(), "header").ok()?;
    let header = crate::jws::Header::parse(&bytes).ok()?;
    header.kid.map(std::borrow::Cow::into_owned)
}

impl TokenRecord {
    /// The record of a freshly signed `token` with these claims.
    pub fn new(claims: &Claims, token: &str) -> TokenRecord {
        TokenRecord {
            jwt_token_description: claims.jwt_token_description.clone(),
            jwt_token_life: claims.life(),
            iat: claims.iat,
            exp: claims.exp,
            fingerprint: fingerprint(token),
            jwt_token_endpoints: claims.jwt_token_endpoints.clone(),
            jwt_token_origin: None,
            jwt_token_last_used: None,
            jwt_token_last_used_from: None,
            kid: header_kid(token),
        }
    }

    /// Whether `token` is the very token this record was made for (constant time).
    pub fn matches(&self, token: &str) -> bool {
        self.matches_fingerprint(&fingerprint(token))
    }

    /// Whether `fingerprint` (of a token, by [`fingerprint`]) is this record's, compared
    /// in constant time so that the time taken tells nothing of the stored one: how both
    /// stores judge a Bearer token, whose fingerprint the server computes once.
    pub fn matches_fingerprint(&self, fingerprint: &str) -> bool {
        use subtle::ConstantTimeEq;
        fingerprint
            .as_bytes()
            .ct_eq(self.fingerprint.as_bytes())
            .into()
    }
}

/// The SHA-256 of a token, lowercase hex.
pub fn fingerprint(token: &str) -> String {
    let digest = crate::keys::sha256(token.as_bytes());
    let mut hex = String::with_capacity(64);
    for byte in digest.iter() {
        hex.push(char::from_digit(u32::from(byte >> 4), 16).unwrap_or('0'));
        hex.push(char::from_digit(u32::from(byte & 0xf), 16).unwrap_or('0'));
    }
    hex
}

#[cfg(test)]
mod tests;
