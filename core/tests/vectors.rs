//! Core against the shared vectors of `tests/vectors/` (the same files the npm package and
//! the server's end-to-end tests read), properties, and pinned error messages.

use std::collections::HashSet;
use std::path::PathBuf;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use proptest::prelude::*;
use serde_json::Value;
use tokenlife_core::{
    Claims, Error, Life, LifeError, Signer, TokenId, Verifier, VerifyOptions, format_life, inspect,
};

fn vectors(name: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/vectors")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn rows(value: &Value, key: &str) -> Vec<Vec<Value>> {
    serde_json::from_value(value[key].clone()).expect("rows")
}

fn life_kind(err: &LifeError) -> &'static str {
    match err {
        LifeError::Empty => "empty",
        LifeError::UnknownUnit { .. } => "unknown_unit",
        LifeError::MissingUnit { .. } => "missing_unit",
        LifeError::Syntax { .. } => "syntax",
        LifeError::NotPositive => "not_positive",
        LifeError::NotWhole => "not_whole",
        LifeError::TooLong { .. } => "too_long",
        LifeError::Overflow => "overflow",
        _ => "unknown",
    }
}

#[test]
fn life_table() {
    let table = vectors("life.json");
    for row in rows(&table, "ok") {
        let (text, secs) = (
            row[0].as_str().expect("text"),
            row[1].as_u64().expect("secs"),
        );
        assert_eq!(Life::parse(text).map(Life::secs), Ok(secs), "{text:?}");
    }
    for row in rows(&table, "err") {
        let text = row[0].as_str().expect("text");
        let err = Life::parse(text).expect_err(text);
        assert_eq!(life_kind(&err), row[1], "{text:?}");
        let message = err.to_string();
        assert!(
            message.contains(row[2].as_str().expect("fragment")),
            "{text:?}: {message}"
        );
        assert_eq!(Error::from(err).code(), "bad_life");
    }
    let max = Life::parse("1 year").expect("max");
    for row in rows(&table, "max") {
        let text = row[0].as_str().expect("text");
        let result = Life::parse(text).expect("parses").at_most(max);
        match (&row[1], &row[2]) {
            (Value::Number(secs), _) => assert_eq!(result.map(Life::secs).ok(), secs.as_u64()),
            (_, Value::String(message)) => {
                assert_eq!(result.expect_err(text).to_string(), *message)
            }
            _ => panic!("bad row {row:?}"),
        }
    }
    for row in rows(&table, "format") {
        assert_eq!(
            format_life(row[0].as_u64().expect("secs")),
            row[1].as_str().expect("text")
        );
    }
}

fn verifier_for(vectors: &Value, key: &str) -> Verifier {
    match key {
        "hs256" => Verifier::hs256(
            vectors["keys"]["hs256_secret"]
                .as_str()
                .expect("secret")
                .as_bytes(),
        ),
        "jwks" => Verifier::from_jwks(&vectors["keys"]["jwks"].to_string()),
        other => panic!("unknown key {other}"),
    }
    .expect("verifier")
}

#[test]
fn peer_tokens() {
    let vectors = vectors("tokens.json");
    let cases = vectors["cases"].as_array().expect("cases");
    assert!(cases.len() >= 20);
    for case in cases {
        let name = case["name"].as_str().expect("name");
        let verifier = verifier_for(&vectors, case["key"].as_str().expect("key"));
        let revoked: HashSet<String> =
            serde_json::from_value(case.get("revoked").cloned().unwrap_or(Value::Array(vec![])))
                .expect("revoked");
        let mut options = VerifyOptions::at(case["now"].as_f64().expect("now")).revoked(&revoked);
        if let Some(leeway) = case.get("leeway") {
            options = options.leeway(leeway.as_u64().expect("leeway"));
        }
        if let Some(issuer) = case.get("issuer") {
            options = options.issuer(issuer.as_str().expect("issuer"));
        }
        let result = verifier.verify(case["token"].as_str().expect("token"), &options);
        match (&case["expect"]["ok"], &case["expect"]["error"]) {
            (Value::Object(_), _) => {
                let want: Claims =
                    serde_json::from_value(case["expect"]["ok"].clone()).expect("claims");
                assert_eq!(result, Ok(want), "{name}");
            }
            (_, Value::String(code)) => {
                assert_eq!(result.map_err(|e| e.code()), Err(code.as_str()), "{name}")
            }
            _ => panic!("{name}: bad expectation"),
        }
    }
}

#[test]
fn rfc_examples() {
    let vectors = vectors("tokens.json");
    let decode = |text: &Value| {
        URL_SAFE_NO_PAD
            .decode(text.as_str().expect("b64"))
            .expect("b64")
    };
    for case in vectors["rfc"].as_array().expect("rfc") {
        let name = case["name"].as_str().expect("name");
        let token = case["token"].as_str().expect("token");
        let jwk = &case["jwk"];
        let verifier = match jwk["kty"].as_str() {
            Some("oct") => Verifier::hs256(&decode(&jwk["k"])),
            _ => Verifier::from_jwks(&serde_json::json!({ "keys": [jwk] }).to_string()),
        }
        .expect(name);
        let payload = token.split('.').nth(1).expect("three parts");
        assert_eq!(
            String::from_utf8(URL_SAFE_NO_PAD.decode(payload).expect("b64")).expect("utf-8"),
            case["payload"],
            "{name}"
        );
        // The RFCs' payloads are not tokenlife claims: verify checks the key, the algorithm
        // and the signature before the claims, so a good signature is told by the claims
        // being what fails, and a forged one by bad_signature.
        let err = verifier
            .verify(token, &VerifyOptions::at(0.0))
            .expect_err(name);
        assert_eq!(err.code(), "malformed", "{name}: {err}");
        assert!(err.to_string().contains("claims"), "{name}: {err}");
        let mut forged = token.to_owned();
        forged.pop();
        forged.push(if token.ends_with('A') { 'B' } else { 'A' });
        let err = verifier
            .verify(&forged, &VerifyOptions::at(0.0))
            .expect_err(name);
        assert_eq!(err.code(), "bad_signature", "{name}: forged");
        if jwk["kty"] == "OKP" {
            let seed: [u8; 32] = decode(&jwk["d"]).try_into().expect("32 bytes");
            let signer = Signer::ed25519(&seed).expect("signer");
            let jwks = signer.jwks();
            assert_eq!(jwks["keys"][0]["x"], jwk["x"], "{name}: public key");
            assert_eq!(
                signer.kid(),
                case["thumbprint"].as_str(),
                "{name}: RFC 8037 A.3 thumbprint"
            );
            // Signing the RFC's input with the RFC's key through jsonwebtoken and core's
            // provider gives the RFC's signature (Ed25519 is deterministic).
            let mut der = hex("302e020100300506032b657004220420");
            der.extend_from_slice(&seed);
            let (input, signature) = token.rsplit_once('.').expect("three parts");
            let key = jsonwebtoken::EncodingKey::from_ed_der(&der);
            let ours =
                jsonwebtoken::crypto::sign(input.as_bytes(), &key, jsonwebtoken::Algorithm::EdDSA);
            assert_eq!(ours.expect("sign"), signature, "{name}: signature");
        }
    }
}

fn hex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("hex"))
        .collect()
}

#[test]
fn signer_round_trip_and_pinning() {
    let id = TokenId::from_random_bytes([42; 16]);
    let claims = Claims::new(
        "bob",
        id,
        "deploy",
        Life::parse("1h").expect("life"),
        1_000,
        "tl",
    )
    .expect("claims")
    .with_endpoints(vec!["GET /api/v1alpha/wallets/*".into()]);
    let hs = Signer::hs256(b"0123456789abcdef0123456789abcdef").expect("hs");
    let ed = Signer::ed25519(&[5; 32]).expect("ed");
    for signer in [&hs, &ed] {
        let token = signer.sign(&claims).expect("sign");
        let at = |now: f64| signer.verifier().verify(&token, &VerifyOptions::at(now));
        assert_eq!(at(1_000.0), Ok(claims.clone()));
        assert_eq!(at(4_600.0).map_err(|e| e.code()), Err("expired"));
        assert_eq!(at(4_599.999).map(|c| c.exp), Ok(4_600));
        let seen = inspect(&token, 4_000.0, 0).expect("inspect");
        assert_eq!(
            (seen.jwt_token_life, seen.jwt_token_life_remaining),
            (3_600, 600.0)
        );
    }
    let hs_token = hs.sign(&claims).expect("sign");
    let ed_token = ed.sign(&claims).expect("sign");
    // Every header names its key now, HS256 too: the other signer's kid is unknown before
    // the algorithm is looked at; a verifier of a bare key (no kid) pins the algorithm.
    for (verifier, token) in [(ed.verifier(), &hs_token), (hs.verifier(), &ed_token)] {
        assert_eq!(
            verifier
                .verify(token, &VerifyOptions::at(1.0))
                .map_err(|e| e.code()),
            Err("unknown_key")
        );
    }
    let x = ed.jwks()["keys"][0]["x"]
        .as_str()
        .map(str::to_owned)
        .expect("x");
    let public = URL_SAFE_NO_PAD.decode(x).expect("base64url");
    let bare_ed = tokenlife_core::Verifier::ed25519(&public, None).expect("bare");
    let bare_hs =
        tokenlife_core::Verifier::hs256(b"0123456789abcdef0123456789abcdef").expect("bare");
    for (verifier, token) in [(bare_ed, &hs_token), (bare_hs, &ed_token)] {
        assert_eq!(
            verifier
                .verify(token, &VerifyOptions::at(1.0))
                .map_err(|e| e.code()),
            Err("alg_not_allowed")
        );
    }
    let header = tokenlife_core::decode_unverified(&ed_token)
        .expect("decode")
        .header_value();
    assert_eq!(
        (header["alg"].as_str(), header["typ"].as_str()),
        (Some("EdDSA"), Some("JWT"))
    );
    assert_eq!(header["kid"].as_str(), ed.kid());
    assert_eq!(
        tokenlife_core::decode_unverified(&hs_token)
            .expect("decode")
            .header_value()["kid"]
            .as_str(),
        Some(tokenlife_core::hs256_kid(b"0123456789abcdef0123456789abcdef").as_str())
    );
    assert!(Signer::hs256(b"").is_err());
}

/// Every message a person can see from core, pinned: a change shows up in review.
#[test]
fn messages_snapshot() {
    let mut out = String::new();
    let vectors = vectors("life.json");
    for row in rows(&vectors, "err") {
        let text = row[0].as_str().expect("text");
        out += &format!("life {text:?}: {}\n", Life::parse(text).expect_err(text));
    }
    let tokens = self::vectors("tokens.json");
    for case in tokens["cases"].as_array().expect("cases") {
        if case["expect"]["error"].is_string() {
            let verifier = verifier_for(&tokens, case["key"].as_str().expect("key"));
            let revoked: HashSet<String> = serde_json::from_value(
                case.get("revoked").cloned().unwrap_or(Value::Array(vec![])),
            )
            .expect("ids");
            let mut options =
                VerifyOptions::at(case["now"].as_f64().expect("now")).revoked(&revoked);
            if let Some(issuer) = case.get("issuer") {
                options = options.issuer(issuer.as_str().expect("issuer"));
            }
            let err = verifier
                .verify(case["token"].as_str().expect("token"), &options)
                .expect_err("error");
            out += &format!(
                "{}: [{}] {err}\n",
                case["name"].as_str().expect("name"),
                err.code()
            );
        }
    }
    for jwks in [
        "",
        "{}",
        r#"{"keys":[]}"#,
        r#"{"keys":[{"kty":"OKP","crv":"Ed25519","x":"AAAA"}]}"#,
    ] {
        out += &format!(
            "jwks {jwks:?}: {}\n",
            Verifier::from_jwks(jwks).expect_err("bad jwks")
        );
    }
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots/messages.txt");
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::create_dir_all(path.parent().expect("dir")).expect("mkdir");
        std::fs::write(&path, &out).expect("write snapshot");
    }
    let want = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        want == out,
        "messages changed; rerun with UPDATE_SNAPSHOTS=1 and review the diff\n{out}"
    );
}

proptest! {
    #[test]
    fn format_then_parse_is_identity(secs in 1u64..=(i64::MAX as u64)) {
        let text = format_life(secs);
        prop_assert_eq!(Life::parse(&text).map(Life::secs), Ok(secs), "{}", text);
    }

    #[test]
    fn parse_never_panics(text in "\\PC{0,40}") {
        let _ = Life::parse(&text);
    }

    #[test]
    fn parse_never_panics_on_life_shaped_text(
        text in "[-+ ]?[0-9]{0,25}(\\.[0-9]{0,12})? ?(s|m|h|d|w|y|months?|years?|x)?( ?[0-9]{1,20}[a-z]{0,8})*"
    ) {
        if let Ok(life) = Life::parse(&text) {
            prop_assert!(life.secs() > 0 && life.secs() <= i64::MAX as u64);
        }
    }

    #[test]
    fn verify_and_inspect_never_panic(token in "[A-Za-z0-9_.=-]{0,200}", now in any::<f64>()) {
        let verifier = Verifier::hs256(b"k").expect("verifier");
        let _ = verifier.verify(&token, &VerifyOptions::at(now));
        let _ = inspect(&token, now, u64::MAX);
        let _ = tokenlife_core::decode_unverified(&token);
    }

    #[test]
    fn claims_never_overflow(iat in any::<i64>(), secs in 1i64..=i64::MAX) {
        let life = Life::from_secs(secs).expect("positive");
        let _ = Claims::new("u", TokenId::from_random_bytes([0; 16]), "d", life, iat, "i");
    }
}
