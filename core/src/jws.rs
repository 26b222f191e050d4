//! Splitting and decoding a JWS compact token, without judging it.

use std::borrow::Cow;
use std::ops::Range;

use crate::{Error, json};

/// The three parts of a compact token, still encoded.
pub(crate) struct Compact<'a> {
    /// The token without the white space around it.
    token: &'a [u8],
    pub header: &'a [u8],
    pub payload: &'a [u8],
    pub signature: &'a [u8],
}

impl<'a> Compact<'a> {
    /// Splits a token, given as text or as bytes, at its two dots, after trimming the
    /// white space around it as [`str::trim`] does. Bytes need not be UTF-8: every part is
    /// base64url, so a byte outside it makes the token malformed when its part is decoded.
    pub fn split(token: &'a [u8]) -> Result<Self, Error> {
        let malformed = || Error::malformed("a token has three base64url parts separated by dots");
        let token = trim(token).ok_or_else(malformed)?;
        let first = memchr::memchr(b'.', token).ok_or_else(malformed)?;
        let second = memchr::memchr(b'.', &token[first + 1..]).ok_or_else(malformed)? + first + 1;
        let (header, payload, signature) = (
            &token[..first],
            &token[first + 1..second],
            &token[second + 1..],
        );
        if header.is_empty() || payload.is_empty() || memchr::memchr(b'.', signature).is_some() {
            return Err(malformed());
        }
        Ok(Compact {
            token,
            header,
            payload,
            signature,
        })
    }

    /// The bytes the signature covers: `header.payload`.
    pub fn signing_input(&self) -> &'a [u8] {
        &self.token[..self.header.len() + 1 + self.payload.len()]
    }

    /// Decodes the payload, then the signature, into `scratch` from its start, and
    /// returns where each landed. One buffer for all the parts spares an allocation per
    /// part; a caller that keeps `scratch` allocates nothing, and what lies past the parts
    /// is left as it was (not cleared or zeroed per call).
    pub fn decode_into(&self, scratch: &mut Vec<u8>) -> Result<Parts, Error> {
        let payload = decode_part_at(self.payload, "payload", scratch, 0)?;
        let signature = decode_part_at(self.signature, "signature", scratch, payload.end)?;
        Ok(Parts { payload, signature })
    }

    /// Decodes the header into `scratch` after the parts [`Compact::decode_into`] put
    /// there (a token's parts are judged in the order payload, signature, header).
    pub fn decode_header_into(
        &self,
        scratch: &mut Vec<u8>,
        parts: &Parts,
    ) -> Result<Range<usize>, Error> {
        decode_part_at(self.header, "header", scratch, parts.signature.end)
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

pub(crate) fn decode_part(part: &[u8], name: &str) -> Result<Vec<u8>, Error> {
    let mut bytes = Vec::new();
    decode_part_at(part, name, &mut bytes, 0)?;
    Ok(bytes)
}

/// Decodes `part` into `out` from `at` on and returns where it landed.
fn decode_part_at(
    part: &[u8],
    name: &str,
    out: &mut Vec<u8>,
    at: usize,
) -> Result<Range<usize>, Error> {
    crate::base64url::decode_at(part, out, at)
        .ok_or_else(|| Error::malformed(format!("{name} is not base64url without padding")))
}

/// `token` without the white space around it, exactly as [`str::trim`] trims its text;
/// `None` when that needs the text and `token` is not UTF-8. ASCII white space is trimmed
/// here, a byte at a time: most tokens have none, and the rest have only ASCII. Where an
/// end is beyond ASCII it may be Unicode white space, and `str::trim` decides.
fn trim(token: &[u8]) -> Option<&[u8]> {
    // The ASCII characters `char::is_whitespace` takes: tab, line feed, vertical tab, form
    // feed, carriage return and space (`u8::is_ascii_whitespace` leaves out vertical tab).
    let white = |byte: &u8| matches!(byte, b'\t'..=b'\r' | b' ');
    let start = token
        .iter()
        .position(|byte| !white(byte))
        .unwrap_or(token.len());
    let end = token
        .iter()
        .rposition(|byte| !white(byte))
        .map_or(start, |last| last + 1);
    let token = &token[start..end];
    match (token.first(), token.last()) {
        (Some(first), Some(last)) if !first.is_ascii() || !last.is_ascii() => {
            std::str::from_utf8(token)
                .ok()
                .map(|text| text.trim().as_bytes())
        }
        _ => Some(token),
    }
}

/// A bit of its own for each of RFC 7515 section 4.1's parameters that core does not use,
/// and what is wrong with `value` (its JSON text) for it, if anything.
fn registered_parameter(name: &str, value: &str) -> (u8, Option<&'static str>) {
    let string = || serde_json::from_str::<Option<String>>(value).is_ok();
    let (bit, ok) = match name {
        "typ" => (1, string()),
        "cty" => (2, string()),
        "jku" => (4, string()),
        "x5u" => (8, string()),
        "x5t" => (16, string()),
        "x5t#S256" => (32, string()),
        "x5c" => (
            64,
            serde_json::from_str::<Option<Vec<String>>>(value).is_ok(),
        ),
        _ => (128, value == "null" || value.starts_with('{')),
    };
    let problem = "a header parameter of RFC 7515 does not have its type";
    (bit, (!ok).then_some(problem))
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
    /// The first of RFC 7515 section 4.1's other parameters that is named twice or does
    /// not have its type (`typ` a string, `x5c` a list of strings, `jwk` an object...).
    /// Core uses none of them, but a verified token must have them right, as jsonwebtoken
    /// requires (found by fuzz/fuzz_targets/token.rs); [`Header::reject_crit`] refuses it.
    /// Kept apart from reading, which takes what serde_json takes (`json/tests.rs`).
    pub mistyped: Option<&'static str>,
}

impl<'a> Header<'a> {
    /// Parses a decoded header; its strings borrow from `bytes` where they can.
    pub fn parse(bytes: &'a [u8]) -> Result<Header<'a>, Error> {
        Self::read(utf8(bytes, "header")?)
            .map_err(|fault| Error::malformed(format!("header is not a JSON object: {fault}")))
    }

    fn read(text: &'a str) -> json::Result<Header<'a>> {
        let (mut alg, mut kid, mut crit) = (None, None, None);
        let (mut registered, mut mistyped) = (0u8, None);
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
            // RFC 7515 section 4.1's other parameters, unused here: checked and noted.
            "typ" | "cty" | "jku" | "x5u" | "x5t" | "x5t#S256" | "x5c" | "jwk" => {
                let value = r.skip()?;
                let (bit, problem) = registered_parameter(&name, value);
                if mistyped.is_none() {
                    mistyped = if registered & bit != 0 {
                        Some("a header parameter of RFC 7515 is named twice")
                    } else {
                        problem
                    };
                }
                registered |= bit;
                Ok(())
            }
            _ => r.skip().map(drop),
        })?;
        reader.end()?;
        Ok(Header {
            alg: json::required(alg, "alg")?,
            kid: kid.flatten(),
            crit: crit.flatten(),
            mistyped,
        })
    }

    pub fn reject_crit(&self) -> Result<(), Error> {
        if let Some(problem) = self.mistyped {
            return Err(Error::malformed(problem));
        }
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
    use super::{Compact, trim};
    use crate::ErrorKind;

    #[test]
    fn a_compact_token_is_exactly_three_parts() {
        // RFC 7515 section 7.1: header `.` payload `.` signature. A JWS protected header is
        // a JSON object, never empty; tokenlife's payload holds its claims, never empty
        // either; the signature is judged later (a token with none fails its check).
        let token = Compact::split(b" aGVhZA.cGF5bG9hZA.c2ln \n").expect("three parts");
        assert_eq!(token.header, b"aGVhZA");
        assert_eq!(token.payload, b"cGF5bG9hZA");
        assert_eq!(token.signature, b"c2ln");
        assert_eq!(token.signing_input(), b"aGVhZA.cGF5bG9hZA");
        let unsigned = Compact::split(b"aGVhZA.cGF5bG9hZA.").expect("three parts");
        assert_eq!(unsigned.signature, b"");
        for bad in [
            "",
            "aGVhZA",
            "aGVhZA.cGF5bG9hZA",
            ".cGF5bG9hZA.c2ln",
            "aGVhZA..c2ln",
            "..c2ln",
            "..",
            "aGVhZA.cGF5bG9hZA.c2ln.",
            "aGVhZA.cGF5bG9hZA.c2ln.c2ln",
            "aGVhZA.cGF5bG9hZA..",
        ] {
            let Err(err) = Compact::split(bad.as_bytes()) else {
                panic!("{bad:?} was split");
            };
            assert!(
                matches!(err.kind(), ErrorKind::Malformed { reason } if reason.contains("three")),
                "{bad:?}: {err}"
            );
        }
    }

    #[test]
    fn trim_is_str_trim() {
        // Every end: nothing, each ASCII white space character (vertical tab included),
        // Unicode white space (NEL, no-break space, em space, line separator), non-white
        // characters beyond ASCII, and mixtures.
        let ends = [
            "",
            " ",
            "\t",
            "\n",
            "\u{b}",
            "\u{c}",
            "\r",
            " \t\r\n ",
            "\u{85}",
            "\u{a0}",
            "\u{2003}",
            "\u{2028}",
            " \u{a0} ",
            "\u{a0}x",
            "é",
            "\u{1f600}",
            "x\u{3000}",
        ];
        let middles = ["", "a", "a.b.c", "a b", "é", "\u{a0}", "a\u{2003}b"];
        for start in ends {
            for middle in middles {
                for end in ends {
                    let text = format!("{start}{middle}{end}");
                    assert_eq!(
                        trim(text.as_bytes()),
                        Some(text.trim().as_bytes()),
                        "{text:?}"
                    );
                }
            }
        }
        // Bytes that are not UTF-8: trimmed as ASCII while the ends are ASCII; past that,
        // refused, since whether they are white space cannot be told.
        assert_eq!(trim(b" a\xffb\n"), Some(&b"a\xffb"[..]));
        assert_eq!(trim(b" a\xff"), None);
        assert_eq!(trim(b"\xc2a"), None);
    }
}
