//! Claims' rules, from the SPEC (section 3) and RFC 8259 for the numbers: the life of a
//! token, its fingerprint, the twins that must agree, and the signer's layout read the
//! short way to the very claims the reader would read.

use super::{Claims, ClaimsRef, TokenId, TokenRecord, fingerprint};
use crate::{ErrorKind, Life};

fn claims(iat: i64, life: &str) -> Claims {
    Claims::new(
        "alice",
        TokenId::from_random_bytes([9; 16]),
        "ci",
        Life::parse(life).expect("life"),
        iat,
        "tokenlife",
    )
    .expect("claims")
}

#[test]
fn the_life_is_exp_minus_iat() {
    // SPEC section 3: `exp = iat + life`.
    let six_minutes = claims(1_700_000_000, "6m");
    assert_eq!(six_minutes.exp, 1_700_000_360);
    assert_eq!(six_minutes.life(), 360);
    assert_eq!(TokenRecord::new(&six_minutes, "a.b.c").jwt_token_life, 360);
    assert_eq!(claims(5, "1s").life(), 1);
    assert_eq!(claims(5, "2d").life(), 2 * 86_400);
    // Claims from elsewhere may have `exp` before `iat`: no life, rather than a wrap.
    let backwards = Claims {
        exp: 10,
        iat: 20,
        ..claims(0, "1s")
    };
    assert_eq!(backwards.life(), 0);
    let extreme = Claims {
        exp: i64::MAX,
        iat: i64::MIN,
        ..claims(0, "1s")
    };
    assert_eq!(extreme.life(), u64::try_from(i64::MAX).expect("fits"));
}

#[test]
fn the_fingerprint_is_the_sha256_of_the_token_in_lowercase_hex() {
    // FIPS 180-4's examples: the empty string and "abc".
    assert_eq!(
        fingerprint(""),
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
    assert_eq!(
        fingerprint("abc"),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    let record = TokenRecord::new(&claims(0, "1h"), "abc");
    assert_eq!(record.fingerprint, fingerprint("abc"));
    assert!(record.matches("abc"));
    assert!(!record.matches("abd"));
    assert!(!record.matches(""));
}

/// The claims in the signer's layout, with `iat` and `exp` as given (raw JSON text).
fn signed(username: &str, iat: &str, exp: &str) -> String {
    format!(
        r#"{{"username":"{username}","jwt_token_id":"id-1","jwt_token_description":"ci","iat":{iat},"exp":{exp},"sub":"{username}","jti":"id-1","iss":"tokenlife"}}"#
    )
}

#[test]
fn the_signers_layout_is_read_the_short_way_to_the_same_claims() {
    // Whole numbers of up to 18 digits without a leading zero (RFC 8259 section 6
    // forbids leading zeros) are the short way's to read.
    for number in ["0", "1", "7", "10", "1700000000", "999999999999999999"] {
        let text = signed("zoë", number, "1700000360");
        let fast = ClaimsRef::read_as_signed(&text).unwrap_or_else(|| panic!("{text}"));
        assert_eq!(fast.iat, number.parse::<i64>().expect("number"), "{text}");
        assert_eq!(fast.exp, 1_700_000_360);
        assert_eq!(fast.username, "zoë");
        assert_eq!(fast.sub, "zoë");
        assert_eq!(fast.jwt_token_id, "id-1");
        assert_eq!(fast.jti, "id-1");
        assert_eq!(fast.jwt_token_description, "ci");
        assert_eq!(fast.iss, "tokenlife");
        assert_eq!(Ok(fast), ClaimsRef::read(&text).map_err(|f| f.to_string()));
    }
}

#[test]
fn what_the_short_way_does_not_take_the_reader_judges() {
    let valid = signed("alice", "100", "200");
    // Each is either not JSON (and refused) or JSON the short way leaves to the reader;
    // both ways end in the same claims or the same refusal.
    let cases: [(String, Option<i64>); 12] = [
        // 19 digits: within i64, read by the reader.
        (
            signed("alice", "1000000000000000000", "200"),
            Some(1_000_000_000_000_000_000),
        ),
        // 20 digits: beyond i64 (it would wrap in a u64 of 19 digits' arithmetic).
        (signed("alice", "99999999999999999999", "200"), None),
        (signed("alice", "18446744073709551717", "200"), None),
        // Leading zeros, and no digits at all.
        (signed("alice", "0100", "200"), None),
        (signed("alice", "00", "200"), None),
        (signed("alice", "", "200"), None),
        // Signed, fractional and exponent numbers.
        (signed("alice", "-5", "200"), Some(-5)),
        (signed("alice", "1.5", "200"), None),
        (signed("alice", "1e3", "200"), None),
        // After the object: nothing but white space.
        (format!("{valid}x"), None),
        (format!("{valid} "), Some(100)),
        (format!("{valid}}}"), None),
    ];
    for (text, iat) in cases {
        assert!(ClaimsRef::read_as_signed(&text).is_none(), "{text}");
        let read = ClaimsRef::parse(&text).map(|claims| claims.iat);
        assert_eq!(read.ok(), iat, "{text}");
    }
    // An escaped string is the reader's, and read to its value.
    let escaped = signed(r"al\u0069ce", "100", "200");
    assert!(ClaimsRef::read_as_signed(&escaped).is_none());
    assert_eq!(
        ClaimsRef::parse(&escaped).expect("claims").username,
        "alice"
    );
    // Cut short anywhere: never read the short way, never taken.
    for end in 0..valid.len() {
        let cut = &valid[..end];
        assert!(ClaimsRef::read_as_signed(cut).is_none(), "{cut}");
        assert!(ClaimsRef::parse(cut).is_err(), "{cut}");
    }
}

#[test]
fn the_rfc_7519_twins_must_agree_with_the_specter_names() {
    let text = signed("alice", "100", "200");
    let twins = ClaimsRef::parse(&text).expect("claims");
    assert_eq!(twins.check_twins(), Ok(()));
    for (from, to, claim) in [
        (r#""sub":"alice""#, r#""sub":"alicf""#, "sub"),
        (r#""sub":"alice""#, r#""sub":"alice ""#, "sub"),
        (r#""jti":"id-1""#, r#""jti":"id-2""#, "jti"),
        (r#""jti":"id-1""#, r#""jti":"id-10""#, "jti"),
    ] {
        let other = text.replace(from, to);
        let claims = ClaimsRef::parse(&other).expect("claims");
        let err = claims.check_twins().expect_err(&other);
        assert!(
            matches!(err.kind(), ErrorKind::ClaimMismatch { claim: c, .. } if *c == claim),
            "{other}: {err}"
        );
    }
}
