//! Specter's claim set: tokens laid out as PyJWT writes them for Specter
//! (`User.generate_jwt_token`), what the verifier makes of them, and what it refuses.
//! jsonwebtoken signs the generated tokens and is the oracle of the signature and `exp`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use proptest::prelude::*;
use serde_json::{Value, json};

use crate::{Claims, Life, Signer, TokenId, Verifier, VerifyOptions};

const KEY: &[u8] = b"specter secret key";
const EXP: i64 = 4_102_444_800;

/// A token signed as PyJWT signs it: its header, the payload's members in the order given,
/// no white space.
fn pyjwt(payload: &str, key: &[u8]) -> String {
    let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"HS256","typ":"JWT"}"#);
    let input = format!("{header}.{}", URL_SAFE_NO_PAD.encode(payload));
    let signature = signature::Signer::<Vec<u8>>::try_sign(
        &crate::keys::Hs256::new(key).expect("key"),
        input.as_bytes(),
    )
    .expect("sign");
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
}

/// Specter's payload (its member order), with `extra` members added at the end.
fn specter_payload(extra: &[(&str, Value)]) -> String {
    let mut text = format!(
        r#"{{"username":"alice","jwt_token_id":"5b9e1a52-1111-4c3a-9f00-0000000000a1","jwt_token_description":"wallet script","exp":{EXP},"iat":1767225600"#
    );
    for (name, value) in extra {
        text.push_str(&format!(",{}:{value}", Value::from(*name)));
    }
    text.push('}');
    text
}

fn code(verifier: &Verifier, token: &str, now: f64) -> Result<Claims, &'static str> {
    verifier
        .verify(token, &VerifyOptions::at(now))
        .map_err(|err| err.code())
}

#[test]
fn a_specter_token_reads_as_a_token_of_its_user_and_id() {
    let verifier = Verifier::specter_hs256(KEY).expect("verifier");
    let claims = code(&verifier, &pyjwt(&specter_payload(&[]), KEY), 1.8e9).expect("valid");
    assert_eq!(claims.username, "alice");
    assert_eq!(claims.sub, "alice");
    assert_eq!(claims.jwt_token_id, "5b9e1a52-1111-4c3a-9f00-0000000000a1");
    assert_eq!(claims.jti, claims.jwt_token_id);
    assert_eq!(claims.jwt_token_description, "wallet script");
    assert_eq!((claims.iat, claims.exp), (1_767_225_600, EXP));
    assert_eq!(claims.iss, "");
    assert_eq!(claims.jwt_token_endpoints, None);
    // The token the Python of the vectors writes (Specter's code path, PyJWT 2.13 alike)
    // is the same text.
    assert!(pyjwt(&specter_payload(&[]), KEY).starts_with("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ1c2VybmFtZSI6ImFsaWNlIiwiand0X3Rva2VuX2lkIjoiNWI5ZTFhNTItMTExMS00YzNhLTlmMDAtMDAwMDAwMDAwMGExIiwiand0X3Rva2VuX2Rlc2NyaXB0aW9uIjoid2FsbGV0IHNjcmlwdCIsImV4cCI6NDEwMjQ0NDgwMCwiaWF0IjoxNzY3MjI1NjAwfQ.M__q7wVrYF6pOlQlbAhORKh4UZw1PgR6eFziz4DbHOg"));
}

#[test]
fn every_other_check_is_the_usual_one() {
    let verifier = Verifier::specter_hs256(KEY).expect("verifier");
    let token = pyjwt(&specter_payload(&[]), KEY);
    // Expired from `exp` on, as every token.
    assert_eq!(code(&verifier, &token, EXP as f64), Err("expired"));
    assert!(code(&verifier, &token, EXP as f64 - 1.0).is_ok());
    // Another key, another algorithm, a changed payload.
    assert_eq!(
        code(&verifier, &pyjwt(&specter_payload(&[]), b"other key"), 0.0),
        Err("bad_signature")
    );
    let none = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"none"}"#),
        URL_SAFE_NO_PAD.encode(specter_payload(&[]))
    );
    assert_eq!(code(&verifier, &none, 0.0), Err("alg_not_allowed"));
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    parts[1] = URL_SAFE_NO_PAD.encode(specter_payload(&[]).replace(&EXP.to_string(), "4102444801"));
    assert_eq!(code(&verifier, &parts.join("."), 0.0), Err("bad_signature"));
    // An issuer asked for is never found: Specter's tokens have none.
    let err = verifier
        .verify(&token, &VerifyOptions::at(0.0).issuer("tokenlife"))
        .unwrap_err();
    assert_eq!(err.code(), "claim_mismatch");
    // The revoked set applies to the id.
    let revoked = ["5b9e1a52-1111-4c3a-9f00-0000000000a1".to_owned()].into();
    let err = verifier
        .verify(&token, &VerifyOptions::at(0.0).revoked(&revoked))
        .unwrap_err();
    assert_eq!(err.code(), "revoked");
    assert!(Verifier::specter_hs256(b"").is_err());
}

#[test]
fn the_claim_set_is_specters_only() {
    let verifier = Verifier::specter_hs256(KEY).expect("verifier");
    for claim in ["iss", "sub", "jti"] {
        let token = pyjwt(&specter_payload(&[(claim, json!("alice"))]), KEY);
        let err = verifier
            .verify(&token, &VerifyOptions::at(0.0))
            .expect_err(claim);
        assert_eq!(err.code(), "claim_mismatch", "{claim}");
        // The message names the claim that is not Specter's.
        let named = format!("\"{claim}\"");
        assert!(err.to_string().contains(&named), "{claim}: {err}");
    }
    // `nbf`, which Specter never writes, is held to its rule when a token has one: a whole
    // number of seconds (or null), not yet valid before it.
    let later = pyjwt(&specter_payload(&[("nbf", json!(1_900_000_000))]), KEY);
    assert_eq!(code(&verifier, &later, 1.8e9), Err("not_yet_valid"));
    assert!(code(&verifier, &later, 1.9e9).is_ok());
    let null = pyjwt(&specter_payload(&[("nbf", Value::Null)]), KEY);
    assert!(code(&verifier, &null, 1.8e9).is_ok());
    let text = pyjwt(&specter_payload(&[("nbf", json!("soon"))]), KEY);
    assert_eq!(code(&verifier, &text, 1.8e9), Err("malformed"));
    for missing in ["username", "jwt_token_id", "jwt_token_description", "exp"] {
        let mut payload: serde_json::Map<String, Value> =
            serde_json::from_str(&specter_payload(&[])).expect("json");
        payload.remove(missing);
        let token = pyjwt(&Value::Object(payload).to_string(), KEY);
        assert_eq!(code(&verifier, &token, 0.0), Err("malformed"), "{missing}");
    }
    // `iat` may be missing: the life is then 0.
    let token = pyjwt(
        r#"{"username":"a","jwt_token_id":"i","jwt_token_description":"","exp":100}"#,
        KEY,
    );
    let claims = code(&verifier, &token, 0.0).expect("valid");
    assert_eq!((claims.iat, claims.exp, claims.life()), (100, 100, 0));
    // Whole seconds only, each member once; other members are skipped.
    for payload in [
        r#"{"username":"a","jwt_token_id":"i","jwt_token_description":"","exp":100.5}"#,
        r#"{"username":"a","jwt_token_id":"i","jwt_token_description":"","exp":"100"}"#,
        r#"{"username":"a","username":"b","jwt_token_id":"i","jwt_token_description":"","exp":100}"#,
        r#"{"username":1,"jwt_token_id":"i","jwt_token_description":"","exp":100}"#,
        r#"["a","i","",100]"#,
    ] {
        assert_eq!(
            code(&verifier, &pyjwt(payload, KEY), 0.0),
            Err("malformed"),
            "{payload}"
        );
    }
    let token = pyjwt(&specter_payload(&[("services", json!([{"x": 1}]))]), KEY);
    assert!(code(&verifier, &token, 0.0).is_ok());
}

/// Under one key, neither kind of token passes as the other: tokenlife's verifier refuses
/// Specter's claims, and Specter's refuses tokenlife's `iss`/`sub`/`jti`.
#[test]
fn tokenlife_and_specter_tokens_never_pass_for_each_other() {
    let specter = pyjwt(&specter_payload(&[]), KEY);
    let native = Verifier::hs256(KEY).expect("verifier");
    assert_eq!(code(&native, &specter, 0.0), Err("malformed"));
    let claims = Claims::new(
        "alice",
        TokenId::from_random_bytes([1; 16]),
        "ci",
        Life::parse("1h").expect("life"),
        100,
        "tokenlife",
    )
    .expect("claims");
    let ours = Signer::hs256(KEY)
        .expect("signer")
        .sign(&claims)
        .expect("sign");
    let legacy = Verifier::specter_hs256(KEY).expect("verifier");
    assert_eq!(code(&legacy, &ours, 200.0), Err("claim_mismatch"));
    assert!(code(&native, &ours, 200.0).is_ok());
}

proptest! {
    /// Any Specter token, as PyJWT writes it, verifies to its own values while unexpired
    /// and is `expired` from `exp` on; jsonwebtoken with the same key agrees on the
    /// signature.
    #[test]
    fn specter_tokens_verify_to_their_own_claims(
        username in "\\PC{1,12}",
        id in "[0-9a-f-]{1,36}",
        description in "\\PC{0,20}",
        iat in 0i64..4_000_000_000,
        life in 1i64..1_000_000_000,
        now_offset in -10i64..10,
        key in proptest::collection::vec(any::<u8>(), 1..40),
    ) {
        let exp = iat + life;
        let payload = format!(
            r#"{{"username":{},"jwt_token_id":{},"jwt_token_description":{},"exp":{exp},"iat":{iat}}}"#,
            Value::from(username.as_str()),
            Value::from(id.as_str()),
            Value::from(description.as_str()),
        );
        let token = pyjwt(&payload, &key);
        let now = exp + now_offset;
        let ours = code(&Verifier::specter_hs256(&key).expect("verifier"), &token, now as f64);
        // jsonwebtoken reads the system clock for `exp`: it judges the signature only.
        crate::keys::install_provider();
        let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
        validation.validate_exp = false;
        validation.required_spec_claims = ["exp".to_owned()].into();
        validation.validate_aud = false;
        let oracle = jsonwebtoken::decode::<Value>(
            &token,
            &jsonwebtoken::DecodingKey::from_secret(&key).expect("key"),
            &validation,
        );
        if now < exp {
            let claims = ours.expect("valid");
            prop_assert_eq!(&claims.username, &username);
            prop_assert_eq!(&claims.jwt_token_id, &id);
            prop_assert_eq!(&claims.jwt_token_description, &description);
            prop_assert_eq!((claims.iat, claims.exp), (iat, exp));
        } else {
            prop_assert_eq!(ours.map(|c| c.exp), Err("expired"));
        }
        prop_assert!(oracle.is_ok());
    }
}
