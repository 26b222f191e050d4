//! The JSON reader of core (`core/src/json.rs`) against serde_json: for any text, the
//! header, the claims (with and without the signer's fast path), `inspect`'s loose claims
//! and a skipped value are accepted by both or refused by both, with the same values.
//!
//! The documented differences (json.rs's module comment): the top level must be an
//! object, where serde would also take a struct as an array; such texts must be refused.
//! And a text where 128 lists and objects are open at once is refused by every reader of
//! core (serde_json refuses it only in values it builds, and skips an ignored value to any
//! depth); the oracle for that is `tokenlife_fuzz::deepest`, written apart from core.

#![no_main]

use libfuzzer_sys::fuzz_target;
use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::value::RawValue;
use tokenlife_core::Claims;
use tokenlife_core::fuzzing;
use tokenlife_fuzz::SpecClaims;

#[derive(Deserialize)]
struct Header<'a> {
    alg: String,
    #[serde(default)]
    kid: Option<String>,
    #[serde(default, borrow)]
    crit: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct Loose {
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    sub: Option<String>,
    #[serde(default)]
    jwt_token_id: Option<String>,
    #[serde(default)]
    jti: Option<String>,
    #[serde(default)]
    jwt_token_description: Option<String>,
    iat: i64,
    exp: i64,
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // serde takes a struct as an array too; core only as an object (documented above).
    let array = text
        .trim_start_matches([' ', '\t', '\n', '\r'])
        .starts_with('[');

    if tokenlife_fuzz::deepest(text.as_bytes()) >= 128 {
        assert!(fuzzing::skip_value(text).is_err(), "skip: too deep");
        assert!(fuzzing::read_header(text).is_err(), "header: too deep");
        assert!(fuzzing::read_claims(text).is_err(), "claims: too deep");
        assert!(fuzzing::read_claims_slow(text).is_err(), "claims: too deep");
        assert!(fuzzing::read_loose(text).is_err(), "loose claims: too deep");
        return;
    }

    let ours = fuzzing::skip_value(text);
    let theirs = serde_json::from_str::<IgnoredAny>(text);
    assert_eq!(ours.is_ok(), theirs.is_ok(), "skip: {ours:?} vs {theirs:?}");
    if let Ok(value) = ours {
        assert_eq!(value, text.trim_matches([' ', '\t', '\n', '\r']));
    }

    let ours = fuzzing::read_header(text);
    let theirs = serde_json::from_str::<Header>(text);
    match (&ours, &theirs) {
        (Ok((alg, kid, crit)), Ok(header)) => {
            assert_eq!(alg, &header.alg);
            assert_eq!(kid, &header.kid);
            assert_eq!(crit.as_deref(), header.crit.map(RawValue::get));
        }
        (Err(_), Ok(_)) if array => {}
        (ours, theirs) => assert_eq!(
            ours.is_ok(),
            theirs.is_ok(),
            "header: {ours:?} vs {:?}",
            theirs.as_ref().err()
        ),
    }

    let ours = fuzzing::read_claims(text);
    let slow = fuzzing::read_claims_slow(text);
    assert_eq!(
        ours.as_ref().ok(),
        slow.as_ref().ok(),
        "the signer's fast path and the reader differ"
    );
    let theirs = serde_json::from_str::<SpecClaims>(text).map(Claims::from);
    match (&ours, &theirs) {
        (Ok(claims), Ok(spec)) => assert_eq!(claims, spec),
        (Err(_), Ok(_)) if array => {}
        (ours, theirs) => assert_eq!(
            ours.is_ok(),
            theirs.is_ok(),
            "claims: {ours:?} vs {:?}",
            theirs.as_ref().err()
        ),
    }

    let ours = fuzzing::read_loose(text);
    let theirs = serde_json::from_str::<Loose>(text);
    match (&ours, &theirs) {
        (Ok((names, iat, exp)), Ok(loose)) => {
            let expected = [
                &loose.username,
                &loose.sub,
                &loose.jwt_token_id,
                &loose.jti,
                &loose.jwt_token_description,
            ];
            assert_eq!(names.iter().collect::<Vec<_>>(), expected);
            assert_eq!((*iat, *exp), (loose.iat, loose.exp));
        }
        (Err(_), Ok(_)) if array => {}
        (ours, theirs) => assert_eq!(
            ours.is_ok(),
            theirs.is_ok(),
            "loose claims: {ours:?} vs {:?}",
            theirs.as_ref().err()
        ),
    }
});
