//! What the fuzz targets of `fuzz/` found, kept as ordinary tests: each input that made a
//! target fail, or the smallest of its kind, with the answer core now gives.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use tokenlife_core::{Verifier, VerifyOptions};

const SECRET: &[u8] = b"the fuzzer's HS256 secret";
const NOW: f64 = 1_750_000_000.0;

/// Claims valid at [`NOW`], with `extra` members before the closing brace.
fn claims(extra: &str) -> String {
    format!(
        r#"{{"username":"u","jwt_token_id":"i","jwt_token_description":"d","iat":1749999000,"exp":1750000300,"sub":"u","jti":"i","iss":"tokenlife"{extra}}}"#
    )
}

/// An HS256 token over these header and claims texts, signed with [`SECRET`].
fn token(header: &str, claims: &str) -> String {
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(claims)
    );
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET).expect("any key length");
    mac.update(input.as_bytes());
    format!(
        "{input}.{}",
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    )
}

fn verify(header: &str, claims: &str) -> Result<(), String> {
    let verifier = Verifier::hs256(SECRET).expect("a secret");
    verifier
        .verify(token(header, claims), &VerifyOptions::at(NOW))
        .map(drop)
        .map_err(|err| format!("{}: {err}", err.code()))
}

#[test]
fn rfc_7515_header_parameters_must_have_their_types() {
    // fuzz/fuzz_targets/token.rs: `"x5c": 0` was accepted (core ignored the parameter);
    // jsonwebtoken refuses it, and RFC 7515 4.1.6 says x5c is an array of strings.
    for header in [
        r#"{"alg":"HS256","x5c":0}"#,
        r#"{"alg":"HS256","x5c":["a",1]}"#,
        r#"{"alg":"HS256","typ":5}"#,
        r#"{"alg":"HS256","cty":[]}"#,
        r#"{"alg":"HS256","jku":{}}"#,
        r#"{"alg":"HS256","x5u":true}"#,
        r#"{"alg":"HS256","x5t":1.5}"#,
        r#"{"alg":"HS256","x5t#S256":0}"#,
        r#"{"alg":"HS256","jwk":"key"}"#,
        r#"{"alg":"HS256","jwk":[]}"#,
        // Named twice, like alg, kid and crit.
        r#"{"alg":"HS256","typ":"JWT","typ":"JWT"}"#,
        r#"{"alg":"HS256","t\u0079p":"JWT","typ":null}"#,
    ] {
        let err = verify(header, &claims("")).expect_err(header);
        assert!(err.starts_with("malformed"), "{header}: {err}");
    }
    for header in [
        r#"{"alg":"HS256","typ":"JWT"}"#,
        r#"{"alg":"HS256","typ":null,"cty":"JWT","x5c":["MIIB"],"x5t":"a","x5t#S256":"b"}"#,
        r#"{"alg":"HS256","jku":"https://example.com/jwks","x5u":"https://example.com/c"}"#,
        r#"{"alg":"HS256","jwk":{"kty":"oct"},"x5c":null}"#,
        r#"{"alg":"HS256","other":5,"other":[]}"#,
    ] {
        assert_eq!(verify(header, &claims("")), Ok(()), "{header}");
    }
}

#[test]
fn a_second_aud_claim_is_refused() {
    // fuzz/fuzz_targets/token.rs: three `aud` members were accepted; jsonwebtoken refuses a
    // registered claim named twice (RFC 7519 section 4 lets a parser refuse them).
    let header = r#"{"alg":"HS256"}"#;
    let err = verify(header, &claims(r#","aud":null,"aud":"x""#)).expect_err("two auds");
    assert!(err.starts_with("malformed"), "{err}");
    assert_eq!(verify(header, &claims(r#","aud":["x","y"]"#)), Ok(()));
    // Other unknown members may repeat, as serde's derive lets them.
    assert_eq!(verify(header, &claims(r#","x":1,"x":2"#)), Ok(()));
}

#[test]
fn a_negative_nbf_is_refused() {
    // fuzz/fuzz_targets/token.rs: `"nbf": -65719` was accepted (any time is after it);
    // jsonwebtoken refuses it, its times being unsigned.
    let header = r#"{"alg":"HS256"}"#;
    let err = verify(header, &claims(r#","nbf":-65719"#)).expect_err("negative nbf");
    assert!(err.starts_with("malformed"), "{err}");
    assert_eq!(verify(header, &claims(r#","nbf":0"#)), Ok(()));
    assert_eq!(verify(header, &claims(r#","nbf":null"#)), Ok(()));
}

#[test]
fn nesting_stops_at_serde_jsons_limit_in_header_and_claims_alike() {
    // fuzz/fuzz_targets/token.rs (CI, 2026-11-29): `"aud"` nested 230 lists deep was
    // accepted; jsonwebtoken refuses it (serde_json's recursion limit, met where it builds
    // `aud`). Core now refuses any 128th open list or object, in the header and in the
    // claims, known member or not; 127 open at once (the top-level object included) is
    // still a token.
    let lists = |depth: usize| format!("{}{}", "[".repeat(depth), "]".repeat(depth));
    let header = r#"{"alg":"HS256"}"#;
    for (name, at) in [("aud", 0), ("x", 0), ("aud", 1), ("x", 1)] {
        let deep = format!(r#","{name}":{}"#, lists(127));
        let (h, c) = if at == 0 {
            (header.to_owned(), claims(&deep))
        } else {
            (format!(r#"{{"alg":"HS256"{deep}}}"#), claims(""))
        };
        let refused = verify(&h, &c).expect_err("128 open");
        assert!(refused.starts_with("malformed: "), "{name}: {refused}");
        let fits = format!(r#","{name}":{}"#, lists(126));
        let (h, c) = if at == 0 {
            (header.to_owned(), claims(&fits))
        } else {
            (format!(r#"{{"alg":"HS256"{fits}}}"#), claims(""))
        };
        assert_eq!(verify(&h, &c), Ok(()), "{name} {at}");
    }
}
