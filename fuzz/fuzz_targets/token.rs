//! `inspect`, `decode_unverified` and `Verifier::verify` (HS256) on any bytes and on tokens
//! from a structure-aware generator: headers and claims as issuers write them, then
//! mutated (members dropped, doubled, retyped, escaped, reordered; signatures wrong;
//! bytes edited), signed with a known key. None of them panics; `verify` never accepts a
//! token the `jsonwebtoken` crate (the reference, over an HMAC from the `hmac` crate, not
//! core's) refuses for the same key and the same options (HS256 only, `leeway`, `iss`,
//! the SPEC's claims required with their types; no audience); and it refuses one that
//! jsonwebtoken accepts only for a rule core documents as stricter:
//!
//! - `expired` when `now` is exactly `exp` + leeway: core's tokens expire *from* `exp` on
//!   (`core/src/time.rs`, `expiry_status`; ARCHITECTURE.md "Decisions"), jsonwebtoken's
//!   one second later (`exp < now - leeway`);
//! - `claim_mismatch` when `sub` is not `username` or `jti` is not `jwt_token_id`
//!   (`Verifier::verify`'s documentation, `core/src/verify.rs`);
//! - `malformed` for any `crit` header (`jws::Header`, `core/src/jws.rs`: core understands
//!   no extension; jsonwebtoken takes `crit: ["b64"]` with `b64: true`);
//! - `malformed` for claims written as a JSON array (`core/src/json.rs`'s module comment:
//!   the top level must be an object; serde's derive also takes a struct as an array);
//! - `malformed` for a header or claims with 128 lists and objects open at once
//!   (`json::MAX_DEPTH`): serde_json refuses that depth in what it builds (a header's
//!   members, `aud`), so jsonwebtoken refuses it there, but skips an unknown claim to any
//!   depth; core refuses all alike (`tokenlife_fuzz::deepest` is the oracle).
//!
//! Not compared: tokens whose header has a parameter core neither uses nor checks and
//! jsonwebtoken reads into a type of its own (a JWK's members inside `jwk`, JWE's `enc` and
//! `zip`, ACME's `url` and `nonce`, RFC 7797's `b64`, which RFC 7797 section 6 says is
//! understood only when `crit` names it, and core refuses every `crit`). RFC 7515's own
//! parameters (`typ`, `cty`, `jku`, `x5u`, `x5c`, `x5t`, `x5t#S256`, `jwk` as an object)
//! are held to their types by core, so they are compared.
//!
//! jsonwebtoken reads the system clock, so its time rule (`validation.rs`: `exp` and `nbf`
//! are unsigned, `exp < now - leeway` is expired, `nbf > now + leeway` not yet valid) is
//! applied here at the fuzzer's `now`, with its own `validate_exp` and `validate_nbf` off.
//! Surrounding white space, which core trims as `str::trim` does (`core/src/jws.rs`), is
//! trimmed before jsonwebtoken sees the token.

#![no_main]

use std::sync::Once;

use arbitrary::Arbitrary;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use jsonwebtoken::crypto::{CryptoProvider, JwtSigner, JwtVerifier, KeyUtils};
use jsonwebtoken::errors::{Error as JwtError, ErrorKind as JwtErrorKind};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Validation};
use libfuzzer_sys::fuzz_target;
use sha2::Sha256;
use tokenlife_core::{Claims, Verifier, VerifyOptions, decode_unverified, inspect};
use tokenlife_fuzz::SpecClaims;

const SECRET: &[u8] = b"the fuzzer's HS256 secret";
const NOW: i64 = 1_750_000_000;

/// The reference HMAC for jsonwebtoken: the `hmac` crate.
struct RefHs256(Vec<u8>);

impl signature::Verifier<Vec<u8>> for RefHs256 {
    fn verify(&self, msg: &[u8], tag: &Vec<u8>) -> Result<(), signature::Error> {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(&self.0).map_err(|_| signature::Error::new())?;
        mac.update(msg);
        mac.verify_slice(tag).map_err(|_| signature::Error::new())
    }
}

impl JwtVerifier for RefHs256 {
    fn algorithm(&self) -> Algorithm {
        Algorithm::HS256
    }
}

fn ref_signer(_: &Algorithm, _: &EncodingKey) -> Result<Box<dyn JwtSigner>, JwtError> {
    Err(JwtErrorKind::InvalidAlgorithm.into())
}

fn ref_verifier(alg: &Algorithm, key: &DecodingKey) -> Result<Box<dyn JwtVerifier>, JwtError> {
    match alg {
        Algorithm::HS256 => Ok(Box::new(RefHs256(key.try_get_as_bytes()?.to_vec()))),
        _ => Err(JwtErrorKind::InvalidAlgorithm.into()),
    }
}

static REFERENCE: CryptoProvider = CryptoProvider {
    signer_factory: ref_signer,
    verifier_factory: ref_verifier,
    key_utils: KeyUtils::new_unimplemented(),
};

#[derive(Arbitrary, Debug, Clone)]
enum Value {
    Str(String),
    Int(i64),
    Small(i8),
    Float(f32),
    Null,
    Bool(bool),
    Strings(Vec<String>),
    Nested(u8),
    Raw(String),
}

impl Value {
    fn json(&self) -> String {
        match self {
            Value::Str(s) => quote(s),
            Value::Int(n) => n.to_string(),
            Value::Small(n) => n.to_string(),
            Value::Float(f) => serde_json::to_string(f).unwrap_or_else(|_| "0.5".into()),
            Value::Null => "null".into(),
            Value::Bool(b) => b.to_string(),
            Value::Strings(list) => {
                format!(
                    "[{}]",
                    list.iter().map(|s| quote(s)).collect::<Vec<_>>().join(",")
                )
            }
            Value::Nested(depth) => {
                let depth = usize::from(*depth);
                format!("{}{}", "[".repeat(depth), "]".repeat(depth))
            }
            Value::Raw(text) => text.clone(),
        }
    }
}

fn quote(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_default()
}

/// Names that mean something to core, to jsonwebtoken, or to neither.
const NAMES: &[&str] = &[
    "alg",
    "typ",
    "kid",
    "crit",
    "b64",
    "cty",
    "jwk",
    "x5c",
    "enc",
    "username",
    "jwt_token_id",
    "jwt_token_description",
    "iat",
    "exp",
    "sub",
    "jti",
    "iss",
    "nbf",
    "aud",
    "jwt_token_endpoints",
    "x",
    "",
    "\u{e9}",
];

#[derive(Arbitrary, Debug)]
enum Alg {
    Hs256,
    EdDsa,
    None,
    Lower,
    Other(String),
}

#[derive(Arbitrary, Debug)]
enum Twin {
    Same,
    Other(String),
}

#[derive(Arbitrary, Debug)]
enum Signing {
    Right,
    OtherKey(Vec<u8>),
    FlipBit(u16),
    Empty,
    Garbage(Vec<u8>),
}

#[derive(Arbitrary, Debug)]
enum Edit {
    /// A member dropped (by index), or its value replaced.
    Drop(u8),
    Retype(u8, Value),
    /// A member written twice, with another value.
    Twice(u8, Value),
    /// Every name and string value escaped as \uXXXX.
    Escape,
    Rotate(u8),
    White,
}

#[derive(Arbitrary, Debug)]
enum TokenEdit {
    Byte(u16, u8),
    Delete(u16),
    Insert(u16, u8),
    Around(u8),
    Claims(Vec<u8>),
}

#[derive(Arbitrary, Debug)]
struct Generated {
    alg: Alg,
    typ: bool,
    kid: Option<String>,
    crit: Option<Value>,
    header_extra: Vec<(u8, Value)>,
    header_edits: Vec<Edit>,
    username: String,
    id: String,
    description: String,
    iat: i32,
    exp: i16,
    sub: Twin,
    jti: Twin,
    iss: bool,
    nbf: Option<i16>,
    endpoints: Option<Vec<String>>,
    claims_extra: Vec<(u8, Value)>,
    claims_edits: Vec<Edit>,
    signing: Signing,
    edits: Vec<TokenEdit>,
}

#[derive(Arbitrary, Debug)]
enum Input {
    Bytes(Vec<u8>),
    Token(Box<Generated>),
}

#[derive(Arbitrary, Debug)]
struct Case {
    input: Input,
    now: i8,
    leeway: u8,
    issuer: Option<bool>,
}

fn object(mut members: Vec<(String, String)>, edits: &[Edit]) -> String {
    let mut white = false;
    let mut escape = false;
    for edit in edits {
        let n = members.len().max(1);
        match edit {
            Edit::Drop(i) if !members.is_empty() => {
                members.remove(usize::from(*i) % n);
            }
            Edit::Retype(i, value) if !members.is_empty() => {
                members[usize::from(*i) % n].1 = value.json();
            }
            Edit::Twice(i, value) if !members.is_empty() => {
                let name = members[usize::from(*i) % n].0.clone();
                members.push((name, value.json()));
            }
            Edit::Escape => escape = true,
            Edit::Rotate(i) => members.rotate_left(usize::from(*i) % n),
            Edit::White => white = true,
            _ => {}
        }
    }
    let sep = if white { " \n\t" } else { "" };
    let body: Vec<String> = members
        .into_iter()
        .map(|(name, value)| {
            let (name, value) = if escape {
                (
                    escape_all(&name),
                    if value.starts_with('"') {
                        escape_all_json(&value)
                    } else {
                        value
                    },
                )
            } else {
                (quote(&name), value)
            };
            format!("{sep}{name}{sep}:{sep}{value}{sep}")
        })
        .collect();
    format!("{{{}}}", body.join(","))
}

fn escape_all(text: &str) -> String {
    let mut out = String::from("\"");
    for unit in text.encode_utf16() {
        out.push_str(&format!("\\u{unit:04x}"));
    }
    out.push('"');
    out
}

fn escape_all_json(quoted: &str) -> String {
    serde_json::from_str::<String>(quoted).map_or_else(|_| quoted.to_owned(), |s| escape_all(&s))
}

fn build(g: &Generated, now: i64) -> Vec<u8> {
    let alg = match &g.alg {
        Alg::Hs256 => "HS256".to_owned(),
        Alg::EdDsa => "EdDSA".to_owned(),
        Alg::None => "none".to_owned(),
        Alg::Lower => "hs256".to_owned(),
        Alg::Other(other) => other.clone(),
    };
    let mut header = vec![("alg".to_owned(), quote(&alg))];
    if g.typ {
        header.push(("typ".to_owned(), quote("JWT")));
    }
    if let Some(kid) = &g.kid {
        header.push(("kid".to_owned(), quote(kid)));
    }
    if let Some(crit) = &g.crit {
        header.push(("crit".to_owned(), crit.json()));
    }
    for (name, value) in &g.header_extra {
        header.push((
            NAMES[usize::from(*name) % NAMES.len()].to_owned(),
            value.json(),
        ));
    }
    let iat = i64::from(g.iat) + now;
    let exp = now + i64::from(g.exp);
    let twin = |twin: &Twin, same: &str| match twin {
        Twin::Same => same.to_owned(),
        Twin::Other(other) => other.clone(),
    };
    let mut claims = vec![
        ("username".to_owned(), quote(&g.username)),
        ("jwt_token_id".to_owned(), quote(&g.id)),
        ("jwt_token_description".to_owned(), quote(&g.description)),
        ("iat".to_owned(), iat.to_string()),
        ("exp".to_owned(), exp.to_string()),
        ("sub".to_owned(), quote(&twin(&g.sub, &g.username))),
        ("jti".to_owned(), quote(&twin(&g.jti, &g.id))),
        (
            "iss".to_owned(),
            quote(if g.iss { "tokenlife" } else { "elsewhere" }),
        ),
    ];
    if let Some(nbf) = g.nbf {
        claims.push(("nbf".to_owned(), (now + i64::from(nbf)).to_string()));
    }
    if let Some(endpoints) = &g.endpoints {
        claims.push((
            "jwt_token_endpoints".to_owned(),
            Value::Strings(endpoints.clone()).json(),
        ));
    }
    for (name, value) in &g.claims_extra {
        claims.push((
            NAMES[usize::from(*name) % NAMES.len()].to_owned(),
            value.json(),
        ));
    }
    let header = object(header, &g.header_edits);
    let mut claims = object(claims, &g.claims_edits).into_bytes();
    for edit in &g.edits {
        if let TokenEdit::Claims(raw) = edit {
            claims = raw.clone();
        }
    }
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(&claims)
    );
    let tag = |key: &[u8]| {
        Hmac::<Sha256>::new_from_slice(key)
            .map(|mut mac| {
                mac.update(input.as_bytes());
                mac.finalize().into_bytes().to_vec()
            })
            .unwrap_or_default()
    };
    let signature = match &g.signing {
        Signing::Right => tag(SECRET),
        Signing::OtherKey(key) => tag(key),
        Signing::FlipBit(bit) => {
            let mut tag = tag(SECRET);
            tag[usize::from(bit / 8) % 32] ^= 1 << (bit % 8);
            tag
        }
        Signing::Empty => Vec::new(),
        Signing::Garbage(bytes) => bytes.clone(),
    };
    let mut token = format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature)).into_bytes();
    for edit in &g.edits {
        let n = token.len().max(1);
        match *edit {
            TokenEdit::Byte(at, byte) if !token.is_empty() => token[usize::from(at) % n] = byte,
            TokenEdit::Delete(at) if !token.is_empty() => {
                token.remove(usize::from(at) % n);
            }
            TokenEdit::Insert(at, byte) => token.insert(usize::from(at) % (token.len() + 1), byte),
            TokenEdit::Around(white) => {
                let white = [b" ", b"\t", b"\n", b"\r", "\u{a0}".as_bytes(), b"\x0b"]
                    [usize::from(white) % 6];
                token.splice(0..0, white.iter().copied());
                token.extend_from_slice(white);
            }
            _ => {}
        }
    }
    token
}

/// jsonwebtoken's verdict with the same key and options.
/// The token without the white space around it, as core and `reference` trim it:
/// `str::trim` (Unicode white space, such as a no-break space) when it is text.
fn trimmed(token: &[u8]) -> &[u8] {
    match std::str::from_utf8(token) {
        Ok(text) => text.trim().as_bytes(),
        Err(_) => token.trim_ascii(),
    }
}

fn reference(token: &[u8], now: i64, leeway: u64, issuer: Option<&str>) -> Result<Claims, String> {
    let token = trimmed(token);
    let key = DecodingKey::from_secret(SECRET).map_err(|err| err.to_string())?;
    let mut validation = Validation::new(Algorithm::HS256);
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    validation.leeway = leeway;
    if let Some(issuer) = issuer {
        validation.set_issuer(&[issuer]);
    }
    let c = jsonwebtoken::decode::<SpecClaims>(token, &key, &validation)
        .map_err(|err| err.to_string())?
        .claims;
    // validation.rs, at the fuzzer's `now`: both unsigned; expired when exp < now - leeway,
    // not yet valid when nbf > now + leeway.
    let exp = u64::try_from(c.exp()).map_err(|_| "exp is not unsigned")?;
    let now = now as u64;
    if exp < now - leeway {
        return Err("ExpiredSignature".into());
    }
    if let Some(nbf) = c.nbf() {
        let nbf = u64::try_from(nbf).map_err(|_| "nbf is not unsigned")?;
        if nbf > now + leeway {
            return Err("ImmatureSignature".into());
        }
    }
    Ok(Claims::from(c))
}

/// Whether the header has a parameter that core neither uses nor types and jsonwebtoken
/// reads into a type of its own (see the module comment).
fn unused_by_core(token: &[u8]) -> bool {
    let header = trimmed(token)
        .split(|&b| b == b'.')
        .next()
        .unwrap_or_default();
    let Ok(header) = URL_SAFE_NO_PAD.decode(header) else {
        return false;
    };
    // Names unescaped, values skipped (without serde_json's depth limit).
    serde_json::from_slice::<std::collections::HashMap<String, serde::de::IgnoredAny>>(&header)
        .is_ok_and(|members| {
            ["jwk", "enc", "zip", "url", "nonce", "b64"]
                .iter()
                .any(|name| members.contains_key(*name))
        })
}

/// Whether the token's header or claims open 128 lists and objects at once.
fn too_deep(token: &[u8]) -> bool {
    trimmed(token)
        .split(|&b| b == b'.')
        .take(2)
        .filter_map(|part| URL_SAFE_NO_PAD.decode(part).ok())
        .any(|json| tokenlife_fuzz::deepest(&json) >= 128)
}

/// Whether core may refuse what jsonwebtoken accepted: one of the stricter rules above.
fn stricter(token: &[u8], claims: &Claims, code: &str, now: i64, leeway: u64) -> bool {
    match code {
        "expired" => claims.exp.saturating_add(leeway as i64) == now,
        "claim_mismatch" => claims.sub != claims.username || claims.jti != claims.jwt_token_id,
        "malformed" => {
            let decoded = decode_unverified(token);
            let crit = decoded
                .as_ref()
                .is_ok_and(|d| d.header_value().get("crit").is_some());
            let array = decoded
                .as_ref()
                .is_ok_and(|d| d.claims.get().starts_with('['));
            crit || array || too_deep(token)
        }
        _ => false,
    }
}

fuzz_target!(|case: Case| {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        REFERENCE
            .install_default()
            .map_err(|_| ())
            .expect("the reference provider is installed before core's");
    });
    let now = NOW + i64::from(case.now);
    let token = match &case.input {
        Input::Bytes(bytes) => bytes.clone(),
        Input::Token(g) => build(g, NOW),
    };
    let leeway = u64::from(case.leeway % 4);
    let issuer = case
        .issuer
        .map(|same| if same { "tokenlife" } else { "other" });

    let inspected = inspect(&token, now as f64, leeway);
    let decoded = decode_unverified(&token);
    if let Ok(decoded) = &decoded {
        let _ = (decoded.header_value(), decoded.claims_value());
    }

    let verifier = Verifier::hs256(SECRET).expect("a secret");
    let mut options = VerifyOptions::at(now as f64).leeway(leeway);
    if let Some(issuer) = issuer {
        options = options.issuer(issuer);
    }
    let ours = verifier.verify(&token, &options);
    let theirs = reference(&token, now, leeway, issuer);
    match (&ours, &theirs) {
        (Ok(ours), Ok(theirs)) => assert_eq!(ours, theirs),
        (Ok(ours), Err(why)) => assert!(
            unused_by_core(&token),
            "core accepts what jsonwebtoken refuses ({why}): {ours:?} in {}",
            String::from_utf8_lossy(&token)
        ),
        (Err(err), Ok(claims)) => assert!(
            stricter(&token, claims, err.code(), now, leeway),
            "core refuses ({err}) what jsonwebtoken accepts: {claims:?} in {}",
            String::from_utf8_lossy(&token)
        ),
        (Err(_), Err(_)) => {}
    }
    if let Ok(claims) = &ours {
        let seen = inspected.expect("a verified token inspects");
        assert_eq!(
            (&seen.username, &seen.jwt_token_id, seen.iat, seen.exp),
            (
                &claims.username,
                &claims.jwt_token_id,
                claims.iat,
                claims.exp
            )
        );
        assert_eq!(
            seen.jwt_token_life,
            u64::try_from(claims.exp - claims.iat).unwrap_or(0)
        );
        assert!(decoded.is_ok(), "a verified token decodes");
    }
});
