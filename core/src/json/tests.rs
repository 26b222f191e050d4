//! The reader against serde_json, the oracle: on objects built from the members core
//! reads, with every kind of value, escapes, edge numbers, white space and random damage,
//! both must accept the same texts and read the same values.

use std::borrow::Cow;

use proptest::prelude::*;
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::ClaimsRef;

mod rules;

/// What `jws::Header` read with serde, before the reader.
#[derive(Debug, Deserialize)]
struct SerdeHeader<'a> {
    #[serde(borrow)]
    alg: Cow<'a, str>,
    #[serde(default, borrow)]
    kid: Option<Text<'a>>,
    #[serde(default, borrow)]
    crit: Option<&'a RawValue>,
}

/// What `inspect` read with serde, before the reader.
#[derive(Debug, PartialEq, Deserialize)]
struct SerdeLoose<'a> {
    #[serde(default, borrow)]
    username: Option<Text<'a>>,
    #[serde(default, borrow)]
    sub: Option<Text<'a>>,
    #[serde(default, borrow)]
    jwt_token_id: Option<Text<'a>>,
    #[serde(default, borrow)]
    jti: Option<Text<'a>>,
    #[serde(default, borrow)]
    jwt_token_description: Option<Text<'a>>,
    iat: i64,
    exp: i64,
}

#[derive(Debug, PartialEq, Deserialize)]
struct Text<'a>(#[serde(borrow)] Cow<'a, str>);

/// Member names: first the nine of [`BASE`], then others.
const NAMES: &[&str] = &[
    "username",
    "jwt_token_id",
    "jwt_token_description",
    "iat",
    "exp",
    "sub",
    "jti",
    "iss",
    "alg",
    "jwt_token_endpoints",
    "nbf",
    "kid",
    "crit",
    "typ",
    "x",
    "",
    "user\\u006eame",
    "\\u0069at",
    "al\\u0067",
    "ex\\ud800p",
    "caf\u{e9}",
];

const VALUES: &[&str] = &[
    r#""alice""#,
    r#""""#,
    r#""HS256""#,
    r#""EdDSA""#,
    r#""caf\u00e9 \ud83c\udfab \"q\" \\ \/ \b\f\n\r\t""#,
    r#""caf√© ‚òÉ""#,
    r#""\ud800""#,
    r#""\udc00x""#,
    r#""\ud800\u0041""#,
    r#""\ud800\n""#,
    r#""\x""#,
    r#""\u12G4""#,
    "\"tab\there\"",
    "\"nul\u{0}\"",
    r#""unterminated"#,
    "0",
    "-0",
    "01",
    "-",
    "-a",
    "1.0",
    "1.",
    "1e3",
    "1E+2",
    "2e-1",
    "-1.5e-7",
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775808",
    "-9223372036854775809",
    "18446744073709551616",
    "1700000000",
    "null",
    "nul",
    "true",
    "false",
    "fals",
    "[]",
    r#"["GET /a", "/b"]"#,
    r#"["a", 1]"#,
    r#"["a",]"#,
    "[",
    "[[[]], {}]",
    r#"{}"#,
    r#"{"a": {"b": [1, {"c": null}], "d": "\ud800"}}"#,
    r#"{"a" 1}"#,
    r#"{1: 2}"#,
    r#"{"a": 1,}"#,
];

fn white() -> impl Strategy<Value = &'static str> {
    prop_oneof![Just(""), Just(""), Just(" "), Just("\n\t "), Just("\r")]
}

/// Well-formed strings, then strings and others that a string member refuses.
const STRINGS: &[&str] = &[
    r#""alice""#,
    r#""""#,
    r#""HS256""#,
    r#""3f2b8c4e-9a1d-4e7b-8c2a-5d6e7f809a1b""#,
    r#""caf\u00e9 \ud83c\udfab \"q\" \\ \/ \b\f\n\r\t""#,
    "\"caf\u{e9} \u{2603}\"",
];
const NOT_STRINGS: &[&str] = &[
    r#""\ud800""#,
    r#""x\udc00""#,
    r#""\ud800\u0041""#,
    "null",
    "1",
    "[]",
];

/// Integers that fit, then numbers and others that an integer member refuses.
const NUMBERS: &[&str] = &[
    "1700000000",
    "0",
    "-1",
    "999999999999999999",
    "1000000000000000000",
    "-9223372036854775808",
    "9223372036854775807",
];
const NOT_NUMBERS: &[&str] = &[
    "-0",
    "01",
    "00",
    "1e3",
    "9223372036854775808",
    "18446744073709551616",
    "99999999999999999999",
    "1.0",
    "null",
    r#""1""#,
];

/// A member: a name and a value of its kind, now and then a value of any kind.
fn member(name: &'static str) -> impl Strategy<Value = String> {
    let (good, bad) = match name {
        "iat" | "exp" | "nbf" => (NUMBERS, NOT_NUMBERS),
        "jwt_token_endpoints" | "crit" | "typ" | "x" | "" => (VALUES, VALUES),
        _ => (STRINGS, NOT_STRINGS),
    };
    let value = prop_oneof![
        30 => prop::sample::select(good),
        1 => prop::sample::select(bad),
        1 => prop::sample::select(VALUES),
    ];
    (value, any::<i64>(), white(), white()).prop_map(move |(value, number, w1, w2)| {
        let value = match value {
            "1700000000" => number.to_string(),
            value => value.to_owned(),
        };
        format!("{w1}\"{name}\"{w2}:{w1}{value}{w2}")
    })
}

/// The names every reader needs, so that many texts are accepted by all three.
const BASE: &[&str] = NAMES.split_at(9).0;

/// An object with the base members and a few more, shuffled, and sometimes one random
/// edit of its text.
fn text() -> impl Strategy<Value = String> {
    let base: Vec<_> = BASE.iter().map(|&name| member(name).boxed()).collect();
    // Mostly names outside the base, sometimes a second member of a base name.
    let extra = prop_oneof![
        8 => prop::sample::select(&NAMES[9..]),
        1 => prop::sample::select(BASE),
    ]
    .prop_flat_map(member);
    (
        base,
        prop::collection::vec(extra, 0..5),
        prop::collection::vec(0..60usize, 0..2),
        white(),
        0..24u8,
        any::<prop::sample::Index>(),
        prop::sample::select(
            &[
                '{', '}', '[', ']', '"', ',', ':', '\\', ' ', '1', 'n', '\u{0}', '\u{e9}',
            ][..],
        ),
    )
        .prop_map(|(mut members, extra, dropped, w, edit, at, c)| {
            for i in dropped {
                if i < members.len() {
                    members.remove(i);
                }
            }
            members.extend(extra);
            members.reverse();
            let mut text = format!("{w}{{{}}}{w}", members.join(","));
            let chars: Vec<char> = text.chars().collect();
            let i = at.index(chars.len() + 1);
            match edit {
                0 if i < chars.len() => {
                    text = chars
                        .iter()
                        .enumerate()
                        .filter(|&(j, _)| j != i)
                        .map(|(_, c)| c)
                        .collect();
                }
                1 => {
                    let mut chars = chars;
                    chars.insert(i, c);
                    text = chars.into_iter().collect();
                }
                2 => text = chars[..i].iter().collect(),
                _ => {}
            }
            text
        })
}

/// Claims in the layout tokenlife's signer writes, with values of every kind, and
/// sometimes one random edit: the texts `ClaimsRef::read_as_signed` is for, and its edges.
fn signed_text() -> impl Strategy<Value = String> {
    let string = || {
        prop_oneof![
            8 => prop::sample::select(STRINGS),
            1 => prop::sample::select(NOT_STRINGS),
        ]
    };
    let number = || {
        prop_oneof![
            8 => prop::sample::select(NUMBERS),
            1 => prop::sample::select(NOT_NUMBERS),
        ]
    };
    (
        prop::collection::vec(string(), 6),
        prop::collection::vec(number(), 2),
        any::<i64>(),
        0..12u8,
        any::<prop::sample::Index>(),
        prop::sample::select(&['{', '}', '"', ',', ':', '\\', ' ', '1', '-', '\u{e9}'][..]),
    )
        .prop_map(|(s, n, number, edit, at, c)| {
            let n: Vec<String> = n
                .iter()
                .map(|&v| if v == "1700000000" { number.to_string() } else { v.to_owned() })
                .collect();
            let text = format!(
                r#"{{"username":{},"jwt_token_id":{},"jwt_token_description":{},"iat":{},"exp":{},"sub":{},"jti":{},"iss":{}}}"#,
                s[0], s[1], s[2], n[0], n[1], s[3], s[4], s[5]
            );
            let mut chars: Vec<char> = text.chars().collect();
            let i = at.index(chars.len());
            match edit {
                0 => {
                    chars.remove(i);
                }
                1 => chars.insert(i, c),
                2 => chars.truncate(i),
                _ => {}
            }
            chars.into_iter().collect()
        })
}

/// Both accept, with the same values, or both refuse. The top level as a list is left
/// out: serde would read it as the members in field order, the reader refuses it.
fn agree<T: PartialEq + std::fmt::Debug, U: std::fmt::Debug>(
    text: &str,
    ours: Result<T, U>,
    theirs: Result<T, serde_json::Error>,
) -> Result<(), TestCaseError> {
    if text.trim_start().starts_with('[') {
        return Ok(());
    }
    match (ours, theirs) {
        (Ok(ours), Ok(theirs)) => prop_assert_eq!(ours, theirs, "{}", text),
        (Err(_), Err(_)) => {}
        (ours, theirs) => prop_assert!(false, "{text}\nours:   {ours:?}\nserde:  {theirs:?}"),
    }
    Ok(())
}

/// 3000 cases each, unless `PROPTEST_CASES` says otherwise (scripts/mutants.sh asks for
/// fewer: every mutant of core runs these tests).
fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|cases| cases.parse().ok())
        .unwrap_or(3000)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn claims_as_serde_reads_them(text in prop_oneof![text(), signed_text()]) {
        let theirs = serde_json::from_str::<ClaimsRef<'_>>(&text);
        agree(&text, ClaimsRef::parse(&text), theirs)?;
    }

    #[test]
    fn headers_as_serde_reads_them(text in text()) {
        let ours = crate::jws::Header::parse(text.as_bytes())
            .map(|h| (h.alg, h.kid, h.crit.map(str::to_owned)));
        let theirs = serde_json::from_str::<SerdeHeader<'_>>(&text)
            .map(|h| (h.alg, h.kid.map(|Text(t)| t), h.crit.map(|c| c.get().to_owned())));
        agree(&text, ours, theirs)?;
    }

    #[test]
    fn loose_claims_as_serde_reads_them(text in text()) {
        let ours = crate::inspect::LooseClaims::parse(&text)
            .map(|c| (c.username, c.sub, c.jwt_token_id, c.jti, c.jwt_token_description, c.iat, c.exp));
        let theirs = serde_json::from_str::<SerdeLoose<'_>>(&text).map(|c| {
            fn t(t: Option<Text<'_>>) -> Option<Cow<'_, str>> {
                t.map(|Text(t)| t)
            }
            (t(c.username), t(c.sub), t(c.jwt_token_id), t(c.jti), t(c.jwt_token_description), c.iat, c.exp)
        });
        agree(&text, ours, theirs)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn the_signers_layout_is_read_as_the_reader_reads_it(text in signed_text()) {
        if let Some(fast) = ClaimsRef::read_as_signed(&text) {
            let full = ClaimsRef::read(&text).map_err(|fault| fault.to_string());
            prop_assert_eq!(Ok(fast), full, "{}", text);
        }
    }
}

#[test]
fn the_signers_own_claims_take_the_short_way() {
    use crate::{Claims, Life, TokenId};
    let claims = Claims::new(
        "zoë",
        TokenId::from_random_bytes([3; 16]),
        "wallet sync",
        Life::parse("6m").expect("life"),
        1_700_000_000,
        "tokenlife",
    )
    .expect("claims");
    let text = serde_json::to_string(&claims).expect("json");
    let fast = ClaimsRef::read_as_signed(&text).expect("the signer's layout");
    assert_eq!(fast.into_owned(), claims);
    // What it does not cover is read the long way, to the same claims.
    let limited = claims.with_endpoints(vec!["/a".into()]);
    let text = serde_json::to_string(&limited).expect("json");
    assert!(ClaimsRef::read_as_signed(&text).is_none());
    assert_eq!(
        ClaimsRef::parse(&text).expect("claims").into_owned(),
        limited
    );
    let spaced = text.replace(",", ", ");
    assert!(ClaimsRef::read_as_signed(&spaced).is_none());
    assert_eq!(
        ClaimsRef::parse(&spaced).expect("claims").into_owned(),
        limited
    );
}

#[test]
fn deep_nesting_is_refused_without_recursion() {
    let deep = format!(
        "{{\"x\": {}{}, \"alg\": \"HS256\"}}",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    let header = crate::jws::Header::parse(deep.as_bytes()).map(|h| h.alg);
    assert!(header.is_err());
    let open = format!("{{\"x\": {}", "[{\"a\":".repeat(10_000));
    assert!(crate::jws::Header::parse(open.as_bytes()).is_err());
    let limit = format!(
        "{{\"x\": {}{}, \"alg\": \"HS256\"}}",
        "[".repeat(126),
        "]".repeat(126)
    );
    let header = crate::jws::Header::parse(limit.as_bytes()).map(|h| h.alg);
    assert_eq!(header.ok().as_deref(), Some("HS256"));
}

#[test]
fn the_texts_are_often_accepted_and_often_refused() {
    // Guards the properties above against comparing refusals only (or acceptances only).
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let (mut claims, mut headers, mut loose) = (0, 0, 0);
    let total = 2000;
    for _ in 0..total {
        let text = text().new_tree(&mut runner).expect("a text").current();
        claims += usize::from(ClaimsRef::parse(&text).is_ok());
        headers += usize::from(crate::jws::Header::parse(text.as_bytes()).is_ok());
        loose += usize::from(crate::inspect::LooseClaims::parse(&text).is_ok());
    }
    eprintln!("accepted: claims {claims}, headers {headers}, loose {loose} of {total}");
    for (what, accepted) in [("claims", claims), ("headers", headers), ("loose", loose)] {
        assert!(
            accepted > total / 10 && accepted < total * 9 / 10,
            "{what}: {accepted} of {total} accepted"
        );
    }
}

#[test]
fn plain_runs_end_at_the_first_special_byte() {
    // Fillers include bytes just beside the special ones and UTF-8 beyond ASCII.
    let fillers = [
        "a",
        " ",
        "!",
        "#",
        "[",
        "]",
        "\u{7f}",
        "é",
        "☃",
        "\u{10ffff}",
    ];
    for filler in fillers {
        for len in 0..40 {
            let plain = filler.repeat(len);
            assert_eq!(
                super::plain_run(plain.as_bytes(), 0),
                plain.len(),
                "{filler:?} x {len}"
            );
            for special in ["\"", "\\", "\u{0}", "\u{1f}", "\n"] {
                let text = format!("{plain}{special}{plain}{special}");
                assert_eq!(
                    super::plain_run(text.as_bytes(), 0),
                    plain.len(),
                    "{filler:?} x {len} {special:?}"
                );
            }
        }
    }
}
