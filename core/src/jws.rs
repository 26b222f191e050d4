//! Splitting and decoding a JWS compact token, without judging it.

use std::borrow::Cow;
use std::ops::Range;

use crate::{Error, json};

/// The three parts of a compact token, still encoded.
pub(crate) struct Compact<'a> {
    pub header: &'a str,
    pub payload: &'a str,
    pub signature: &'a str,
}

impl<'a> Compact<'a> {
    pub fn split(token: &'a str) -> Result<Self, Error> {
        let token = token.trim();
        let bytes = token.as_bytes();
        let malformed = || Error::malformed("a token has three base64url parts separated by dots");
        let first = memchr::memchr(b'.', bytes).ok_or_else(malformed)?;
        let second = memchr::memchr(b'.', &bytes[first + 1..]).ok_or_else(malformed)? + first + 1;
        // The dots are ASCII, so every slice boundary below falls on a char boundary.
        let (header, payload, signature) = (
            &token[..first],
            &token[first + 1..second],
            &token[second + 1..],
        );
        if header.is_empty()
            || payload.is_empty()
            || memchr::memchr(b'.', signature.as_bytes()).is_some()
        {
            return Err(malformed());
        }
        Ok(Compact {
            header,
            payload,
            signature,
        })
    }

    /// The bytes the signature covers: `header.payload`.
    pub fn signing_input(&self, token: &'a str) -> &'a [u8] {
        let token = token.trim();
        &token.as_bytes()[..self.header.len() + 1 + self.payload.len()]
    }

    /// Decodes the payload, then the signature, onto the end of `scratch`, and returns
    /// where each landed. One buffer for all the parts spares an allocation per part, and
    /// a caller that keeps `scratch` allocates nothing.
    pub fn decode_into(&self, scratch: &mut Vec<u8>) -> Result<Parts, Error> {
        Ok(Parts {
            payload: decode_part_into(self.payload, "payload", scratch)?,
            signature: decode_part_into(self.signature, "signature", scratch)?,
        })
    }

    /// Decodes the header onto the end of `scratch` (after [`Compact::decode_into`]: a
    /// token's parts are judged in the order payload, signature, header).
    pub fn decode_header_into(&self, scratch: &mut Vec<u8>) -> Result<Range<usize>, Error> {
        decode_part_into(self.header, "header", scratch)
    }

    pub fn payload_bytes(&self) -> Result<Vec<u8>, Error> {
        decode_part(self.payload, "payload")
    }
}

/// Where [`Compact::decode_into`] put the payload and the signature in its buffer.
pub(crate) struct Parts {
    pub payload: Range<usize>,
    pub signature: Range<usize>,
}

pub(crate) fn decode_part(part: &str, name: &str) -> Result<Vec<u8>, Error> {
    let mut bytes = Vec::new();
    decode_part_into(part, name, &mut bytes)?;
    Ok(bytes)
}

/// Decodes `part` onto the end of `out` and returns where it landed.
fn decode_part_into(part: &str, name: &str, out: &mut Vec<u8>) -> Result<Range<usize>, Error> {
    crate::base64url::decode(part.as_bytes(), out)
        .ok_or_else(|| Error::malformed(format!("{name} is not base64url without padding")))
}

/// Decodes a JSON part to a `&str` once, so that serde_json need not re-check the UTF-8
/// of every string in it.
pub(crate) fn utf8<'a>(bytes: &'a [u8], name: &str) -> Result<&'a str, Error> {
    std::str::from_utf8(bytes).map_err(|_| Error::malformed(format!("{name} is not UTF-8")))
}

/// The JOSE header fields core looks at; anything else is ignored, except `crit`.
pub(crate) struct Header<'a> {
    pub alg: Cow<'a, str>,
    pub kid: Option<Cow<'a, str>>,
    /// Extensions the issuer says must be understood, as JSON text. Core understands
    /// none, so any `crit` makes the token unusable (RFC 7515 section 4.1.11).
    pub crit: Option<&'a str>,
}

impl<'a> Header<'a> {
    /// Parses a decoded header; its strings borrow from `bytes` where they can.
    pub fn parse(bytes: &'a [u8]) -> Result<Header<'a>, Error> {
        Self::read(utf8(bytes, "header")?)
            .map_err(|fault| Error::malformed(format!("header is not a JSON object: {fault}")))
    }

    fn read(text: &'a str) -> json::Result<Header<'a>> {
        let (mut alg, mut kid, mut crit) = (None, None, None);
        let mut reader = json::Reader::new(text);
        reader.object(|r, name| match &*name {
            "alg" => json::once(&mut alg, "alg", r.text("alg")?),
            "kid" => {
                let value = r.or_null(|r| r.text("kid"))?;
                json::once(&mut kid, "kid", value)
            }
            "crit" => {
                let value = r.or_null(json::Reader::skip)?;
                json::once(&mut crit, "crit", value)
            }
            _ => r.skip().map(drop),
        })?;
        reader.end()?;
        Ok(Header {
            alg: json::required(alg, "alg")?,
            kid: kid.flatten(),
            crit: crit.flatten(),
        })
    }

    pub fn reject_crit(&self) -> Result<(), Error> {
        match &self.crit {
            None => Ok(()),
            Some(crit) => Err(Error::malformed(format!(
                "unsupported critical header {crit}"
            ))),
        }
    }
}
