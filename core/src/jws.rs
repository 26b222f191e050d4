//! Splitting and decoding a JWS compact token, without judging it.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;

use crate::Error;

/// The three parts of a compact token, still encoded.
pub(crate) struct Compact<'a> {
    pub header: &'a str,
    pub payload: &'a str,
    pub signature: &'a str,
}

impl<'a> Compact<'a> {
    pub fn split(token: &'a str) -> Result<Self, Error> {
        let token = token.trim();
        let mut parts = token.split('.');
        match (parts.next(), parts.next(), parts.next(), parts.next()) {
            (Some(header), Some(payload), Some(signature), None)
                if !header.is_empty() && !payload.is_empty() =>
            {
                Ok(Compact { header, payload, signature })
            }
            _ => Err(Error::malformed("a token has three base64url parts separated by dots")),
        }
    }

    /// The bytes the signature covers: `header.payload`.
    pub fn signing_input(&self, token: &'a str) -> &'a [u8] {
        let token = token.trim();
        &token.as_bytes()[..self.header.len() + 1 + self.payload.len()]
    }

    pub fn header(&self) -> Result<Header, Error> {
        let bytes = decode_part(self.header, "header")?;
        serde_json::from_slice(&bytes)
            .map_err(|err| Error::malformed(format!("header is not a JSON object: {err}")))
    }

    pub fn payload_bytes(&self) -> Result<Vec<u8>, Error> {
        decode_part(self.payload, "payload")
    }

    pub fn signature_bytes(&self) -> Result<Vec<u8>, Error> {
        decode_part(self.signature, "signature")
    }
}

pub(crate) fn decode_part(part: &str, name: &str) -> Result<Vec<u8>, Error> {
    URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| Error::malformed(format!("{name} is not base64url without padding")))
}

/// The JOSE header fields core looks at; anything else is ignored, except `crit`.
#[derive(Deserialize)]
pub(crate) struct Header {
    pub alg: String,
    #[serde(default)]
    pub kid: Option<String>,
    /// Extensions the issuer says must be understood. Core understands none, so any
    /// `crit` makes the token unusable (RFC 7515 section 4.1.11).
    #[serde(default)]
    pub crit: Option<serde_json::Value>,
}

impl Header {
    pub fn reject_crit(&self) -> Result<(), Error> {
        match &self.crit {
            None => Ok(()),
            Some(crit) => Err(Error::malformed(format!("unsupported critical header {crit}"))),
        }
    }
}
