//! What more than one target needs, written apart from core: the SPEC's claims as serde
//! reads them, and an oracle for JSON nesting.

#![deny(missing_docs)]

use serde::Deserialize;
use tokenlife_core::Claims;

/// The SPEC's claims as serde's derive reads them (the reference for core's reader in
/// `json`, and what jsonwebtoken decodes in `token`): every one required but the last two.
#[derive(Deserialize)]
pub struct SpecClaims {
    username: String,
    jwt_token_id: String,
    jwt_token_description: String,
    iat: i64,
    exp: i64,
    sub: String,
    jti: String,
    iss: String,
    #[serde(default)]
    jwt_token_endpoints: Option<Vec<String>>,
    #[serde(default)]
    nbf: Option<i64>,
}

impl SpecClaims {
    /// `exp`, to apply a time rule to.
    pub fn exp(&self) -> i64 {
        self.exp
    }

    /// `nbf`, to apply a time rule to.
    pub fn nbf(&self) -> Option<i64> {
        self.nbf
    }
}

impl From<SpecClaims> for Claims {
    fn from(c: SpecClaims) -> Claims {
        Claims {
            username: c.username,
            jwt_token_id: c.jwt_token_id,
            jwt_token_description: c.jwt_token_description,
            iat: c.iat,
            exp: c.exp,
            sub: c.sub,
            jti: c.jti,
            iss: c.iss,
            jwt_token_endpoints: c.jwt_token_endpoints,
            nbf: c.nbf,
        }
    }
}

/// The most lists and objects open at once anywhere in `text`, strings skipped (their
/// escaped quotes included). On a text that is JSON up to some byte, the count is exact up
/// to that byte; core's reader refuses a text where it reaches 128 (`json::MAX_DEPTH`,
/// serde_json's limit for values it builds) at the latest there.
pub fn deepest(text: &[u8]) -> usize {
    let (mut open, mut most) = (0usize, 0usize);
    let (mut string, mut escaped) = (false, false);
    for &byte in text {
        if string {
            match byte {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => string = false,
                _ => {}
            }
            continue;
        }
        match byte {
            b'"' => string = true,
            b'[' | b'{' => {
                open += 1;
                most = most.max(open);
            }
            b']' | b'}' => open = open.saturating_sub(1),
            _ => {}
        }
    }
    most
}

#[cfg(test)]
mod tests {
    use super::deepest;

    #[test]
    fn counts_what_is_open_at_once_outside_strings() {
        assert_eq!(deepest(b"0"), 0);
        assert_eq!(deepest(b"[]"), 1);
        assert_eq!(deepest(b"[[],[[]]]"), 3);
        assert_eq!(deepest(br#"{"a":[{"b":1}],"c":{}}"#), 3);
        assert_eq!(deepest(br#"{"[[[":"\"[[["}"#), 1);
        assert_eq!(deepest(br#"["\\",[]]"#), 2);
        assert_eq!(deepest(&[b'['; 300]), 300);
    }
}
