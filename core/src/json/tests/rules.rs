//! The reader held to the rules, one at a time: RFC 8259's grammar (white space, literals,
//! numbers, strings and their escapes, objects and arrays) and what core adds to it
//! (`json.rs`'s documentation): a kept string's escapes must make real characters (no
//! lone surrogate), an integer member must fit an `i64` (so `-0`, a fraction or an
//! exponent is refused), a member given twice is refused, at most 127 lists and objects
//! are open at once (serde_json's limit), and a fault says what is wrong and at which
//! byte. serde_json is the oracle where it reads the same thing: a string as `String`,
//! an integer as `i64`, any skipped value as a `RawValue` (nesting as a `Value`).

use std::borrow::Cow;

use proptest::prelude::*;
use serde_json::value::RawValue;

use super::super::{Fault, Reader, once, plain_run, required};

/// What one reading step gives, a fault as its message.
type Read<T> = Result<T, String>;

fn message(fault: Fault) -> String {
    fault.to_string()
}

/// The whole text is one value that `read` reads, then only white space.
fn whole_text<'a, T>(
    text: &'a str,
    read: impl FnOnce(&mut Reader<'a>) -> super::super::Result<T>,
) -> Read<T> {
    let mut reader = Reader::new(text);
    let value = read(&mut reader).map_err(message)?;
    reader.end().map_err(message)?;
    Ok(value)
}

fn skip(text: &str) -> Read<&str> {
    whole_text(text, Reader::skip)
}

fn integer(text: &str) -> Read<i64> {
    whole_text(text, |r| r.whole("n"))
}

fn string(text: &str) -> Read<Cow<'_, str>> {
    whole_text(text, |r| r.text("s"))
}

fn strings(text: &str) -> Read<Vec<String>> {
    whole_text(text, |r| r.strings("list"))
}

/// The members of an object, each value skipped, as (name, value text) pairs.
fn members(text: &str) -> Read<Vec<(Cow<'_, str>, &str)>> {
    let mut list = Vec::new();
    whole_text(text, |r| {
        r.object(|r, name| {
            list.push((name, r.skip()?));
            Ok(())
        })
    })?;
    Ok(list)
}

/// What serde_json makes of a skipped value: its text, or a refusal.
fn serde_skip(text: &str) -> Option<&str> {
    serde_json::from_str::<&RawValue>(text)
        .ok()
        .map(RawValue::get)
}

// White space (RFC 8259 section 2).

#[test]
fn only_four_characters_are_white_space() {
    for white in [" ", "\t", "\n", "\r", " \t\n\r\r\n  "] {
        let text = format!(
            "{white}{{{white}\"a\"{white}:{white}[{white}1{white},{white}true{white}]{white},{white}\"b\"{white}:{white}{{{white}}}{white}}}{white}"
        );
        assert_eq!(
            members(&text),
            Ok(vec![
                (
                    "a".into(),
                    &*format!("[{white}1{white},{white}true{white}]")
                ),
                ("b".into(), &*format!("{{{white}}}"))
            ]),
            "{white:?}"
        );
        assert_eq!(integer(&format!("{white}7{white}")), Ok(7));
        assert_eq!(string(&format!("{white}\"s\"{white}")).as_deref(), Ok("s"));
        assert_eq!(skip(&format!("{white}null{white}")), Ok("null"));
    }
    // Not white space in JSON, though they are elsewhere.
    for other in ["\u{b}", "\u{c}", "\u{a0}", "\u{feff}", "\u{2028}", "\u{0}"] {
        for text in [
            format!("{other}{{}}"),
            format!("{{}}{other}"),
            format!("{{{other}}}"),
            format!("{{\"a\":{other}1}}"),
        ] {
            assert!(members(&text).is_err(), "{text:?}");
            assert!(serde_json::from_str::<serde::de::IgnoredAny>(&text).is_err());
        }
    }
}

// Literals (section 3).

#[test]
fn the_three_literals_and_nothing_like_them() {
    for word in ["true", "false", "null"] {
        assert_eq!(skip(word), Ok(word));
        assert_eq!(
            skip(&format!("[{word},{word}]")),
            Ok(&*format!("[{word},{word}]"))
        );
        for wrong in [
            &word[..word.len() - 1],
            &word.to_uppercase(),
            &format!("{word}x"),
        ] {
            assert!(skip(wrong).is_err(), "{wrong}");
            assert_eq!(serde_skip(wrong), None, "{wrong}");
        }
    }
    assert_eq!(skip("nul").unwrap_err(), "expected a value at byte 0");
    assert_eq!(skip("[tru]").unwrap_err(), "expected a value at byte 1");
    assert_eq!(skip("[fals]").unwrap_err(), "expected a value at byte 1");
}

#[test]
fn null_is_read_only_where_it_is() {
    let mut reader = Reader::new(" null,");
    assert!(reader.null());
    assert_eq!(reader.at, 5);
    let mut reader = Reader::new("nul");
    assert!(!reader.null());
    assert_eq!(reader.at, 0);
    assert_eq!(
        whole_text("null", |r| r.or_null(|r| r.whole("n"))),
        Ok(None)
    );
    assert_eq!(
        whole_text(" 5 ", |r| r.or_null(|r| r.whole("n"))),
        Ok(Some(5))
    );
    assert_eq!(
        whole_text("[null, \"a\"]", |r| r.or_null(|r| r.strings("l"))).unwrap_err(),
        "`l` must be a string at byte 1"
    );
    assert_eq!(
        whole_text("null ", |r| r.or_null(|r| r.strings("l"))),
        Ok(None)
    );
}

// Numbers (section 6).

/// Texts that are JSON numbers, and texts that are not.
const NUMBERS: &[&str] = &[
    "0",
    "-0",
    "1",
    "-1",
    "10",
    "0.5",
    "-0.0",
    "1.25",
    "1e5",
    "1E5",
    "1e+5",
    "1e-5",
    "1E-05",
    "-0.0e+0",
    "123456789012345678901234567890",
    "1.7976931348623157e308",
    "5e-324",
    "0e0",
];
const NOT_NUMBERS: &[&str] = &[
    "01",
    "00",
    "-01",
    "+1",
    ".5",
    "-.5",
    "1.",
    "1.e5",
    "1e",
    "1e+",
    "1e-",
    "1E+-5",
    "1e5.0",
    "--1",
    "-",
    "0x10",
    "1_000",
    "Infinity",
    "-Infinity",
    "NaN",
    "1.5.5",
    "1ee5",
    "- 1",
];

#[test]
fn numbers_follow_the_grammar() {
    for &number in NUMBERS {
        assert_eq!(serde_skip(number), Some(number), "serde: {number}");
        assert_eq!(skip(number), Ok(number));
        let list = format!("[{number},{number} ]");
        assert_eq!(skip(&list).as_deref(), Ok(&*list));
    }
    for &text in NOT_NUMBERS {
        assert_eq!(serde_skip(text), None, "serde: {text}");
        assert!(skip(text).is_err(), "{text}");
        assert!(skip(&format!("[{text}]")).is_err(), "[{text}]");
    }
    assert_eq!(skip("01").unwrap_err(), "invalid number at byte 1");
    assert_eq!(skip("-x").unwrap_err(), "invalid number at byte 1");
    assert_eq!(skip("1.x").unwrap_err(), "invalid number at byte 2");
    assert_eq!(skip("1e+x").unwrap_err(), "invalid number at byte 3");
    assert_eq!(skip("12e-").unwrap_err(), "invalid number at byte 4");
}

#[test]
fn integers_are_whole_numbers_that_fit_an_i64() {
    for (text, value) in [
        ("0", 0),
        ("7", 7),
        ("-7", -7),
        ("10", 10),
        ("1700000000", 1_700_000_000),
        ("9223372036854775807", i64::MAX),
        ("-9223372036854775808", i64::MIN),
        ("-9223372036854775807", -i64::MAX),
        ("1000000000000000000", 1_000_000_000_000_000_000),
    ] {
        assert_eq!(
            serde_json::from_str::<i64>(text).ok(),
            Some(value),
            "serde: {text}"
        );
        assert_eq!(integer(text), Ok(value), "{text}");
    }
    for (text, fault) in [
        ("9223372036854775808", "integer out of range at byte 0"),
        ("-9223372036854775809", "integer out of range at byte 0"),
        ("10000000000000000000", "integer out of range at byte 0"),
        // More digits than a u64 holds, which would wrap to a small number.
        ("18446744073709551616", "integer out of range at byte 0"),
        ("18446744073709551617", "integer out of range at byte 0"),
        ("-18446744073709551617", "integer out of range at byte 0"),
        ("36893488147419103232", "integer out of range at byte 0"),
        (" 00000000000000000001", "invalid number at byte 2"),
        ("-0", "expected a whole number, found -0 at byte 0"),
        (" -0 ", "expected a whole number, found -0 at byte 1"),
        ("1.0", "expected a whole number, found a fraction at byte 0"),
        (
            "-5e3",
            "expected a whole number, found a fraction at byte 0",
        ),
        ("5E3", "expected a whole number, found a fraction at byte 0"),
        ("01", "invalid number at byte 1"),
        ("-01", "invalid number at byte 2"),
        ("-", "invalid number at byte 1"),
        ("-a", "invalid number at byte 1"),
        ("\"1\"", "`n` must be an integer at byte 0"),
        (" null", "`n` must be an integer at byte 1"),
        ("1x", "trailing characters at byte 1"),
    ] {
        assert!(serde_json::from_str::<i64>(text).is_err(), "serde: {text}");
        assert_eq!(integer(text).unwrap_err(), fault, "{text}");
    }
}

// Strings (section 7).

#[test]
fn every_escape_makes_its_character() {
    for (text, value) in [
        (r#""\"""#, "\""),
        (r#""\\""#, "\\"),
        (r#""\/""#, "/"),
        (r#""\b""#, "\u{8}"),
        (r#""\f""#, "\u{c}"),
        (r#""\n""#, "\n"),
        (r#""\r""#, "\r"),
        (r#""\t""#, "\t"),
        (r#""\u0000""#, "\u{0}"),
        (
            r#""\u0041\u00e9\u00E9\u20AC\u20ac\uFFFF""#,
            "A\u{e9}\u{e9}\u{20ac}\u{20ac}\u{ffff}",
        ),
        (r#""\uaBcD""#, "\u{abcd}"),
        (r#""\u9fA0""#, "\u{9fa0}"),
        (r#""\ud83c\udfab""#, "\u{1f3ab}"),
        (r#""\uD800\uDC00""#, "\u{10000}"),
        (r#""\udbff\udfff""#, "\u{10ffff}"),
        (r#""\ud801\udc37""#, "\u{10437}"),
        (r#""a\tb\\c\"d""#, "a\tb\\c\"d"),
        (
            r#""caf\u00e9 and more than eight bytes before the end""#,
            "caf\u{e9} and more than eight bytes before the end",
        ),
    ] {
        assert_eq!(
            serde_json::from_str::<String>(text).as_deref().ok(),
            Some(value),
            "serde: {text}"
        );
        let read = string(text);
        assert_eq!(read.as_deref(), Ok(value), "{text}");
        assert!(
            matches!(read, Ok(Cow::Owned(_))),
            "an escaped string is owned: {text}"
        );
        // Skipped, the same text is well-formed.
        assert_eq!(skip(text), Ok(text));
    }
}

#[test]
fn a_string_without_escapes_is_borrowed() {
    for value in [
        "",
        "alice",
        "caf\u{e9} \u{2603} \u{1f3ab}",
        "\u{7f}",
        "/ and ' and `",
    ] {
        let text = format!("\"{value}\"");
        let read = string(&text);
        assert_eq!(read.as_deref(), Ok(value));
        assert!(matches!(read, Ok(Cow::Borrowed(_))), "{text}");
    }
}

#[test]
fn a_kept_string_has_no_lone_surrogate_a_skipped_one_may() {
    for (text, fault) in [
        (
            r#""\ud800""#,
            "lone leading surrogate in an escape at byte 7",
        ),
        (
            r#""\udbff x""#,
            "lone leading surrogate in an escape at byte 7",
        ),
        (
            r#""\ud800\n""#,
            "lone leading surrogate in an escape at byte 7",
        ),
        (
            r#""\ud800\u0041""#,
            "lone leading surrogate in an escape at byte 13",
        ),
        (
            r#""\ud800\ud800""#,
            "lone leading surrogate in an escape at byte 13",
        ),
        (
            r#""\ud800\ue000""#,
            "lone leading surrogate in an escape at byte 13",
        ),
        (
            r#""\udc00""#,
            "lone trailing surrogate in an escape at byte 7",
        ),
        (
            r#""x\udfff""#,
            "lone trailing surrogate in an escape at byte 8",
        ),
        (
            r#""\udc00\ud800""#,
            "lone trailing surrogate in an escape at byte 7",
        ),
    ] {
        assert!(
            serde_json::from_str::<String>(text).is_err(),
            "serde: {text}"
        );
        assert_eq!(string(text).unwrap_err(), fault, "{text}");
        assert_eq!(serde_skip(text), Some(text), "serde skips: {text}");
        assert_eq!(skip(text), Ok(text), "skipped: {text}");
    }
    // Either side of the surrogates is an ordinary character.
    assert_eq!(
        string(r#""\ud7ff\ue000""#).as_deref(),
        Ok("\u{d7ff}\u{e000}")
    );
}

#[test]
fn malformed_strings_are_refused_kept_or_skipped() {
    for (text, fault) in [
        (r#""\x""#, "invalid escape at byte 2"),
        (r#""ab\'""#, "invalid escape at byte 4"),
        (r#""\U0041""#, "invalid escape at byte 2"),
        (r#""\a""#, "invalid escape at byte 2"),
        (r#""\u12G4""#, "invalid escape at byte 3"),
        (r#""\u 123""#, "invalid escape at byte 3"),
        (r#""\u-123""#, "invalid escape at byte 3"),
        (r#""\u:123""#, "invalid escape at byte 3"),
        (r#""\u@123""#, "invalid escape at byte 3"),
        (r#""\ug123""#, "invalid escape at byte 3"),
        (r#""\u`123""#, "invalid escape at byte 3"),
        (r#""\u/123""#, "invalid escape at byte 3"),
        (r#""\uG123""#, "invalid escape at byte 3"),
        (r#""\u12""#, "unterminated escape at byte 3"),
        (r#""\u12"#, "unterminated escape at byte 3"),
        (r#""\u"#, "unterminated escape at byte 3"),
        (r#""\"#, "unterminated string at byte 2"),
        (r#""abc"#, "unterminated string at byte 4"),
        (r#""abc\n"#, "unterminated string at byte 6"),
        (r#"""#, "unterminated string at byte 1"),
        ("\"tab\there\"", "control character in a string at byte 4"),
        ("\"nul\u{0}\"", "control character in a string at byte 4"),
        ("\"a\\n\u{1f}\"", "control character in a string at byte 4"),
        (
            "\"line\nbreak, long enough to be read eight bytes at a time\"",
            "control character in a string at byte 5",
        ),
        (
            "\"long enough to be read eight bytes at a time, then a line\n\"",
            "control character in a string at byte 58",
        ),
    ] {
        assert!(
            serde_json::from_str::<String>(text).is_err(),
            "serde: {text}"
        );
        assert_eq!(string(text).unwrap_err(), fault, "{text}");
        assert_eq!(serde_skip(text), None, "serde skips: {text}");
        assert_eq!(skip(text).unwrap_err(), fault, "skipped: {text}");
    }
    // In a skipped string, a surrogate's partner is checked as an escape all the same.
    assert_eq!(
        skip(r#""\ud800\u12G4""#).unwrap_err(),
        "invalid escape at byte 9"
    );
    assert_eq!(
        string(r#""\ud800\u12G4""#).unwrap_err(),
        "invalid escape at byte 9"
    );
    assert_eq!(
        string(r#""\ud800\u12"#).unwrap_err(),
        "unterminated escape at byte 9"
    );
}

#[test]
fn every_control_character_is_refused_raw_and_read_escaped() {
    for byte in 0u8..0x20 {
        let c = char::from(byte);
        for text in [format!("\"{c}\""), format!("\"0123456789{c}abcdef\"")] {
            assert!(serde_json::from_str::<String>(&text).is_err());
            assert!(string(&text).is_err(), "{text:?}");
            assert!(skip(&text).is_err(), "{text:?}");
        }
        let escaped = format!("\"\\u{:04x}\"", byte);
        assert_eq!(string(&escaped).as_deref(), Ok(&*c.to_string()));
    }
    // 0x20 and up are plain, DEL and everything beyond ASCII included.
    for byte in 0x20u8..0x80 {
        if byte == b'"' || byte == b'\\' {
            continue;
        }
        let c = char::from(byte);
        for text in [format!("\"{c}\""), format!("\"0123456789{c}abcdef\"")] {
            assert_eq!(string(&text).as_deref(), Ok(&text[1..text.len() - 1]));
        }
    }
}

// Objects and arrays (sections 4 and 5).

#[test]
fn objects_and_arrays_follow_the_grammar() {
    for text in [
        "{}",
        "[]",
        "[1]",
        "[1,2]",
        "{\"a\":1}",
        "{\"a\":1,\"b\":[]}",
        "[{},[],\"\",0,true,false,null]",
        "{\"\":{\"\":{\"\":[[[]]]}}}",
        "[[[1],[2,[3]]],{\"a\":{\"b\":{}}}]",
        "{\"a\\\"b\":{\"c\\u00e9\":\"\\ud800\"}}",
        "{\"a\":{\"b\":1},\"c\":[2,{\"d\":3}],\"e\":\"f\"}",
    ] {
        assert_eq!(serde_skip(text), Some(text), "serde: {text}");
        assert_eq!(skip(text), Ok(text));
        let spaced = format!("[ {text} , {text} ]");
        assert_eq!(skip(&spaced), Ok(&*spaced));
    }
    for (text, fault) in [
        ("[", "expected a value at byte 1"),
        ("[1", "expected ',' or ']' at byte 2"),
        ("[1,", "expected a value at byte 3"),
        ("[1,]", "expected a value at byte 3"),
        ("[,1]", "expected a value at byte 1"),
        ("[1 2]", "expected ',' or ']' at byte 3"),
        ("[1}", "expected ',' or ']' at byte 2"),
        ("[[1]}", "expected ',' or ']' at byte 4"),
        ("[{}}", "expected ',' or ']' at byte 3"),
        ("{", "expected a member name at byte 1"),
        ("{\"a\"}", "expected ':' at byte 4"),
        ("{\"a\" 1}", "expected ':' at byte 5"),
        ("{\"a\":}", "expected a value at byte 5"),
        ("{\"a\":1", "expected ',' or '}' at byte 6"),
        ("{\"a\":1]", "expected ',' or '}' at byte 6"),
        ("{\"a\":[1]]", "expected ',' or '}' at byte 8"),
        ("{\"a\":{}]", "expected ',' or '}' at byte 7"),
        ("{\"a\":1,}", "expected a member name at byte 7"),
        ("{\"a\":1,\"b\"}", "expected ':' at byte 10"),
        ("{\"a\":1 \"b\":2}", "expected ',' or '}' at byte 7"),
        ("{,\"a\":1}", "expected a member name at byte 1"),
        ("{1:2}", "expected a member name at byte 1"),
        ("{a:2}", "expected a member name at byte 1"),
        ("{'a':2}", "expected a member name at byte 1"),
        ("{\"a\":1,2}", "expected a member name at byte 7"),
        ("{\"\\x\":1}", "invalid escape at byte 3"),
        ("{\"a\":1,\"\\x\":1}", "invalid escape at byte 9"),
        ("[\"\\x\"]", "invalid escape at byte 3"),
        ("[-]", "invalid number at byte 2"),
        ("[nul]", "expected a value at byte 1"),
        ("]", "expected a value at byte 0"),
        ("}", "expected a value at byte 0"),
        ("", "expected a value at byte 0"),
        ("  ", "expected a value at byte 2"),
        ("[]]", "trailing characters at byte 2"),
        ("{}}", "trailing characters at byte 2"),
        ("1 2", "trailing characters at byte 2"),
    ] {
        assert_eq!(serde_skip(text), None, "serde: {text}");
        assert_eq!(skip(text).unwrap_err(), fault, "{text}");
    }
}

#[test]
fn an_object_gives_each_member_once_in_order() {
    assert_eq!(members("{}"), Ok(vec![]));
    assert_eq!(members(" { } "), Ok(vec![]));
    assert_eq!(
        members(r#"{"a":1,"b\u0041":"x","":[1,{"c":2}],"a":null}"#),
        Ok(vec![
            ("a".into(), "1"),
            ("bA".into(), "\"x\""),
            ("".into(), "[1,{\"c\":2}]"),
            ("a".into(), "null"),
        ])
    );
    for (text, fault) in [
        ("[]", "expected a JSON object at byte 0"),
        (" 1", "expected a JSON object at byte 1"),
        ("", "expected a JSON object at byte 0"),
        ("{", "expected a member name at byte 1"),
        ("{\"a\"", "expected ':' at byte 4"),
        ("{\"a\":1", "expected ',' or '}' at byte 6"),
        ("{\"a\":1,", "expected a member name at byte 7"),
        ("{\"a\":1,}", "expected a member name at byte 7"),
        ("{\"a\":1]", "expected ',' or '}' at byte 6"),
        ("{\"a\":1 \"b\":2}", "expected ',' or '}' at byte 7"),
        (
            "{\"\\ud800\":1}",
            "lone leading surrogate in an escape at byte 8",
        ),
        ("{\"a\":1} x", "trailing characters at byte 8"),
        ("{\"a\":1}{}", "trailing characters at byte 7"),
    ] {
        assert_eq!(members(text).unwrap_err(), fault, "{text}");
    }
}

#[test]
fn a_list_of_strings() {
    assert_eq!(strings("[]"), Ok(vec![]));
    assert_eq!(strings(" [ ] "), Ok(vec![]));
    assert_eq!(strings(r#"["GET /a"]"#), Ok(vec!["GET /a".to_owned()]));
    assert_eq!(
        strings(r#"[ "a" , "\u00e9" ,"",  "/b/*" ]"#),
        Ok(vec![
            "a".to_owned(),
            "\u{e9}".to_owned(),
            String::new(),
            "/b/*".to_owned()
        ])
    );
    for (text, fault) in [
        ("\"a\"", "`list` must be a list of strings at byte 0"),
        ("{}", "`list` must be a list of strings at byte 0"),
        ("[1]", "`list` must be a string at byte 1"),
        ("[\"a\",1]", "`list` must be a string at byte 5"),
        ("[\"a\",]", "`list` must be a string at byte 5"),
        ("[\"a\"", "expected ',' or ']' at byte 4"),
        ("[\"a\"}", "expected ',' or ']' at byte 4"),
        ("[\"a\" \"b\"]", "expected ',' or ']' at byte 5"),
        (
            "[\"\\ud800\"]",
            "lone leading surrogate in an escape at byte 8",
        ),
        ("[\"a\"]]", "trailing characters at byte 5"),
    ] {
        assert!(
            serde_json::from_str::<Vec<String>>(text).is_err(),
            "serde: {text}"
        );
        assert_eq!(strings(text).unwrap_err(), fault, "{text}");
    }
}

#[test]
fn a_string_member_is_a_string() {
    for (text, fault) in [
        ("1", "`s` must be a string at byte 0"),
        (" null", "`s` must be a string at byte 1"),
        ("[\"a\"]", "`s` must be a string at byte 0"),
    ] {
        assert_eq!(string(text).unwrap_err(), fault);
    }
}

// Duplicates, missing members and the fault's text.

#[test]
fn a_member_is_given_once() {
    let mut slot = None;
    assert!(once(&mut slot, "alg", 1).is_ok());
    assert_eq!(slot, Some(1));
    assert_eq!(
        message(once(&mut slot, "alg", 2).unwrap_err()),
        "duplicate field `alg`"
    );
    assert_eq!(slot, Some(1));
    assert_eq!(required(Some(3), "exp").ok(), Some(3));
    assert_eq!(
        message(required::<i64>(None, "exp").unwrap_err()),
        "missing field `exp`"
    );
    // Through a reader: the second `alg` is refused even with the same value.
    let header = crate::jws::Header::parse(br#"{"alg":"HS256","alg":"HS256"}"#);
    assert!(header.is_err());
    assert!(
        serde_json::from_str::<super::SerdeHeader<'_>>(r#"{"alg":"HS256","alg":"HS256"}"#).is_err()
    );
}

// Nesting.

#[test]
fn nesting_stops_where_serde_json_stops_and_must_balance() {
    // serde_json refuses the 128th open list or object of a value it builds (its
    // `Value`); the reader refuses it in any value, skipped ones included.
    let deep = "more than 127 lists and objects nested";
    for depth in [1, 2, 100, 126, 127, 128, 129, 5000] {
        let lists = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        let objects = format!("{}0{}", "{\"a\":".repeat(depth), "}".repeat(depth));
        let mixed = format!(
            "{}[]{}",
            "[{\"a\":".repeat(depth / 2),
            "}]".repeat(depth / 2)
        );
        for text in [&lists, &objects, &mixed] {
            let serde = serde_json::from_str::<serde_json::Value>(text);
            match skip(text) {
                Ok(read) => {
                    assert_eq!(read, &**text);
                    assert!(serde.is_ok(), "{depth}: {text}");
                }
                Err(fault) => {
                    assert!(fault.starts_with(deep), "{depth}: {fault}");
                    let serde = serde.expect_err("serde_json refuses it too").to_string();
                    assert!(serde.contains("recursion limit exceeded"), "{serde}");
                }
            }
        }
        assert_eq!(skip(&lists).is_ok(), depth <= 127, "{depth}");
        // Inside an object read by `object`, that object is the first level.
        let member = format!("{{\"x\":{lists}}}");
        assert_eq!(members(&member).is_ok(), depth <= 126, "{depth}");
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&member).is_ok(),
            depth <= 126
        );
        for unbalanced in [
            format!("{}{}", "[".repeat(depth), "]".repeat(depth - 1)),
            format!("{}{}", "[".repeat(depth), "]".repeat(depth + 1)),
            format!("{}0{}", "{\"a\":".repeat(depth), "}".repeat(depth - 1)),
            format!("{}0{}]", "{\"a\":".repeat(depth), "}".repeat(depth - 1)),
            format!("{}[]{}", "[{\"a\":".repeat(depth), "]}".repeat(depth)),
        ] {
            assert!(skip(&unbalanced).is_err(), "{depth}");
        }
    }
    // The depth is where the cursor is, not the deepest point so far: siblings each
    // nest to the limit, and a closed object gives its level back.
    let full = format!("{}{}", "[".repeat(126), "]".repeat(126));
    let siblings = format!("{{\"x\":{full},\"y\":{full},\"z\":[{full}]}}");
    let read = members(&siblings).map(|list| list.len());
    assert!(read.is_err_and(|fault| fault.starts_with(deep)));
    let siblings = format!("{{\"x\":{full},\"y\":{full}}}");
    assert_eq!(members(&siblings).map(|list| list.len()), Ok(2));
    // Objects read inside objects count one level each, and give it back.
    let inner = format!(
        "{{\"a\":{{\"b\":{}{}}},\"c\":{{\"d\":{}{}}}}}",
        "[".repeat(125),
        "]".repeat(125),
        "[".repeat(125),
        "]".repeat(125)
    );
    let nested = |text: &str| {
        let mut reader = Reader::new(text);
        reader.object(|r, _| r.object(|r, _| r.skip().map(drop)))
    };
    assert!(nested(&inner).is_ok());
    let over = inner
        .replacen("\"b\":[", "\"b\":[[", 1)
        .replacen("]}", "]]}", 1);
    assert!(nested(&over).is_err_and(|fault| fault.to_string().starts_with(deep)));
    // An empty object gives its level back as well: after `"a":{}` the next object is at
    // the second level again, with room for 125 lists and no more.
    let after_empty = |lists: usize| {
        format!(
            "{{\"a\":{{}},\"c\":{{\"d\":{}{}}}}}",
            "[".repeat(lists),
            "]".repeat(lists)
        )
    };
    assert!(nested(&after_empty(125)).is_ok());
    assert!(nested(&after_empty(126)).is_err_and(|fault| fault.to_string().starts_with(deep)));
    // A list of strings is a level too.
    assert!(strings("[\"a\"]").is_ok());
}

// Where plain runs of a string end.

#[test]
fn plain_runs_end_at_quotes_backslashes_and_control_characters_only() {
    for byte in 0u8..0x80 {
        let special = byte < 0x20 || byte == b'"' || byte == b'\\';
        let c = char::from(byte);
        for before in 0..20 {
            let text = format!("{}{c}{}", "a".repeat(before), "b".repeat(20));
            let end = if special { before } else { text.len() };
            assert_eq!(
                plain_run(text.as_bytes(), 0),
                end,
                "{byte:#x} after {before}"
            );
            // From a later start, too.
            assert_eq!(
                plain_run(text.as_bytes(), before.min(3)),
                end,
                "{byte:#x} after {before}"
            );
        }
    }
}

// The same as serde_json, over generated values.

/// JSON values and their pieces, well-formed and not, to be put together at random.
fn value() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        prop::sample::select(NUMBERS).prop_map(str::to_owned),
        prop::sample::select(NOT_NUMBERS).prop_map(str::to_owned),
        prop::sample::select(&["true", "false", "null", "tru", "nulL", "\"\"", "\"a\""][..])
            .prop_map(str::to_owned),
        string_text(),
    ];
    leaf.prop_recursive(6, 64, 5, |inner| {
        prop_oneof![
            (prop::collection::vec(inner.clone(), 0..5), white(), sep())
                .prop_map(|(items, w, s)| format!("[{w}{}{w}]", items.join(s))),
            (
                prop::collection::vec((string_text(), inner), 0..5),
                white(),
                sep()
            )
                .prop_map(|(members, w, s)| {
                    let members: Vec<String> = members
                        .into_iter()
                        .map(|(n, v)| format!("{n}{w}:{w}{v}"))
                        .collect();
                    format!("{{{w}{}{w}}}", members.join(s))
                }),
        ]
    })
}

fn white() -> impl Strategy<Value = &'static str> {
    prop::sample::select(&["", "", " ", "\t\n\r ", "\u{b}"][..])
}

fn sep() -> impl Strategy<Value = &'static str> {
    prop::sample::select(&[",", ",", ",", " , ", ", ", ",,", ":", " "][..])
}

/// A string literal: plain characters, escapes of every kind (surrogates too, some
/// broken), raw control characters now and then, sometimes unterminated.
fn string_text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        6 => "[a-zA-Z0-9 /'é☃]{0,12}",
        2 => prop::sample::select(
            &[r#"\""#, r"\\", r"\/", r"\b", r"\f", r"\n", r"\r", r"\t", r"\x", r"\", "\u{1}", "\n", "\u{7f}"][..]
        ).prop_map(str::to_owned),
        3 => (any::<u16>(), any::<bool>()).prop_map(|(unit, upper)| {
            if upper { format!("\\u{unit:04X}") } else { format!("\\u{unit:04x}") }
        }),
        1 => (0xd800u16..0xdc00, 0xdc00u16..0xe000).prop_map(|(hi, lo)| format!("\\u{hi:04x}\\u{lo:04X}")),
        1 => prop::sample::select(&[r"\u12", r"\uZZZZ", r"\u00G0", r"\u"][..]).prop_map(str::to_owned),
    ];
    (prop::collection::vec(piece, 0..4), 0..20u8).prop_map(|(pieces, end)| {
        let body = pieces.concat();
        if end == 0 {
            format!("\"{body}")
        } else {
            format!("\"{body}\"")
        }
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(super::cases()))]

    /// Any value, well-formed or not: skipped as serde_json reads it into a `RawValue`,
    /// the same text or a refusal for both.
    #[test]
    fn values_are_skipped_as_serde_reads_them(text in value(), w1 in white(), w2 in white()) {
        let text = format!("{w1}{text}{w2}");
        let ours = skip(&text).ok();
        prop_assert_eq!(ours, serde_skip(&text), "{}", text);
    }

    /// A string, kept: the same characters as serde_json's `String`, or a refusal for both;
    /// borrowed exactly when it has no escape.
    #[test]
    fn strings_are_read_as_serde_reads_them(text in string_text()) {
        let ours = string(&text);
        let theirs = serde_json::from_str::<String>(&text);
        prop_assert_eq!(ours.as_deref().ok(), theirs.as_deref().ok(), "{}", text);
        if let Ok(read) = ours {
            prop_assert_eq!(matches!(read, Cow::Borrowed(_)), !text.contains('\\'), "{}", text);
        }
        // Skipped, only the escapes' form matters: serde agrees on that too.
        prop_assert_eq!(skip(&text).ok(), serde_skip(&text), "{}", text);
    }

    /// Any number text: the same `i64` as serde_json, or a refusal for both.
    #[test]
    fn integers_are_read_as_serde_reads_them(
        text in prop_oneof![
            any::<i64>().prop_map(|n| n.to_string()),
            any::<i128>().prop_map(|n| n.to_string()),
            any::<u64>().prop_map(|n| n.to_string()),
            "-?[0-9]{1,22}([.][0-9]{0,2})?([eE][+-]?[0-9]{0,2})?",
        ],
        w1 in prop::sample::select(&["", " ", "\n"][..]),
    ) {
        let text = format!("{w1}{text}{w1}");
        prop_assert_eq!(integer(&text).ok(), serde_json::from_str::<i64>(&text).ok(), "{}", text);
    }
}
