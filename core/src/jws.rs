//! Splitting and decoding a JWS compact token, without judging it.

use std::borrow::Cow;

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

    /// Calls `f` with the decoded header; the header borrows from a buffer that lives
    /// only for the call, which spares an allocation per string field.
    pub fn with_header<T>(
        &self,
        f: impl FnOnce(Header<'_>) -> Result<T, Error>,
    ) -> Result<T, Error> {
        let bytes = decode_part(self.header, "header")?;
        let header: Header<'_> = serde_json::from_str(utf8(&bytes, "header")?)
            .map_err(|err| Error::malformed(format!("header is not a JSON object: {err}")))?;
        f(header)
    }

    pub fn payload_bytes(&self) -> Result<Vec<u8>, Error> {
        decode_part(self.payload, "payload")
    }

    pub fn signature_bytes(&self) -> Result<Vec<u8>, Error> {
        decode_part(self.signature, "signature")
    }
}

pub(crate) fn decode_part(part: &str, name: &str) -> Result<Vec<u8>, Error> {
    decode_base64url(part.as_bytes())
        .ok_or_else(|| Error::malformed(format!("{name} is not base64url without padding")))
}

/// Decodes a JSON part to a `&str` once, so that serde_json need not re-check the UTF-8
/// of every string in it.
pub(crate) fn utf8<'a>(bytes: &'a [u8], name: &str) -> Result<&'a str, Error> {
    std::str::from_utf8(bytes).map_err(|_| Error::malformed(format!("{name} is not UTF-8")))
}

/// Strict base64url without padding (RFC 7515 section 2): the alphabet `A-Z a-z 0-9 - _`,
/// no `=`, no white space, and unused trailing bits zero, so every token has exactly one
/// encoding. Hand-written because it runs on every verify and is several times cheaper
/// than the general-purpose engine of the base64 crate for these short inputs.
fn decode_base64url(input: &[u8]) -> Option<Vec<u8>> {
    let tail = match input.len() % 4 {
        0 => 0,
        2 => 1,
        3 => 2,
        _ => return None,
    };
    let mut out = vec![0u8; input.len() / 4 * 3 + tail];
    let (body, rest) = out.split_at_mut(input.len() / 4 * 3);
    let mut chunks = input.chunks_exact(4);
    for (src, dst) in (&mut chunks).zip(body.chunks_exact_mut(3)) {
        let a = DECODE[usize::from(src[0])];
        let b = DECODE[usize::from(src[1])];
        let c = DECODE[usize::from(src[2])];
        let d = DECODE[usize::from(src[3])];
        // Valid sextets are below 64; INVALID has the top bits set: one test for four.
        if (a | b | c | d) & 0xc0 != 0 {
            return None;
        }
        dst[0] = a << 2 | b >> 4;
        dst[1] = b << 4 | c >> 2;
        dst[2] = c << 6 | d;
    }
    let mut n = 0u32;
    for (i, &byte) in chunks.remainder().iter().enumerate() {
        let sextet = DECODE[usize::from(byte)];
        if sextet & 0xc0 != 0 {
            return None;
        }
        n |= u32::from(sextet) << (18 - 6 * i);
    }
    // The bits past the last whole byte must be zero (one encoding per token).
    let bytes = n.to_be_bytes();
    if bytes[1 + tail..].iter().any(|&b| b != 0) {
        return None;
    }
    rest.copy_from_slice(&bytes[1..1 + tail]);
    Some(out)
}

const INVALID: u8 = 0xff;
const DECODE: [u8; 256] = {
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut table = [INVALID; 256];
    let mut i = 0;
    while i < 64 {
        table[alphabet[i] as usize] = i as u8;
        i += 1;
    }
    table
};

/// The JOSE header fields core looks at; anything else is ignored, except `crit`.
#[derive(Deserialize)]
pub(crate) struct Header<'a> {
    #[serde(borrow)]
    pub alg: Cow<'a, str>,
    #[serde(default, borrow)]
    pub kid: Option<Cow<'a, str>>,
    /// Extensions the issuer says must be understood. Core understands none, so any
    /// `crit` makes the token unusable (RFC 7515 section 4.1.11).
    #[serde(default)]
    pub crit: Option<serde_json::Value>,
}

impl Header<'_> {
    pub fn reject_crit(&self) -> Result<(), Error> {
        match &self.crit {
            None => Ok(()),
            Some(crit) => Err(Error::malformed(format!(
                "unsupported critical header {crit}"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::decode_base64url;
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    #[test]
    fn agrees_with_the_base64_crate() {
        let data: Vec<u8> = (0..=255u8).cycle().take(700).collect();
        for len in 0..data.len() {
            let text = URL_SAFE_NO_PAD.encode(&data[..len]);
            assert_eq!(
                decode_base64url(text.as_bytes()).as_deref(),
                Some(&data[..len]),
                "{len}"
            );
        }
        for bad in [
            "A", "AAAAA", "AB", "AAB", "A=", "AA==", "A+AA", "A/AA", "AA AA", "é",
        ] {
            assert_eq!(decode_base64url(bad.as_bytes()), None, "{bad}");
            assert!(URL_SAFE_NO_PAD.decode(bad).is_err(), "{bad}");
        }
    }
}
