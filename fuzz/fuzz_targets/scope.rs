//! The scope matcher (`core/src/scope.rs`): when `allows` lets a request through a
//! pattern, the path stays under the pattern's literal prefix (its segments before the
//! first `*`, the whole path when there is none) however a backend reads it: escapes
//! decoded once before or after splitting into segments, or twice; `\` taken as `/`;
//! `;` parameters cut off each segment (Tomcat); empty segments kept or merged; dot
//! segments removed (RFC 3986 5.2.4) with a climb above `/` stopping there. The method
//! matches too, and `resolve_path` accepts every path `allows` lets through.
//!
//! Inputs are a pattern and a request target, each either any text or made of segments
//! chosen for trouble (dots, escapes, separators, parameters).

#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use tokenlife_core::scope;

const SEGMENTS: &[&str] = &[
    "api", "v1alpha", "wallets", "w1", "admin", "*", "", ".", "..", "%2e", "%2E%2e", ".%2e", "%2f",
    "%2F", "%5c", "..;", ";x", "%3b", "a%41", "%41", "%7e", "~", "%25", "%252e", "%", "%zz", "\\",
    "..\\", "%00", " ", "%20", "?", "#", "a?b", "%3f", "é", "%c3%a9", "A", "a",
];

#[derive(Arbitrary, Debug)]
enum Text {
    Any(String),
    Segments(Vec<u8>, bool),
}

impl Text {
    fn path(&self) -> String {
        match self {
            Text::Any(text) => text.clone(),
            Text::Segments(picks, slash) => {
                let mut path: String = picks
                    .iter()
                    .map(|&pick| format!("/{}", SEGMENTS[usize::from(pick) % SEGMENTS.len()]))
                    .collect();
                if *slash || path.is_empty() {
                    path.push('/');
                }
                path
            }
        }
    }
}

#[derive(Arbitrary, Debug)]
struct Input {
    pattern_method: Option<u8>,
    pattern: Text,
    method: u8,
    target: Text,
}

const METHODS: &[&str] = &["GET", "get", "POST", "DELETE", "PUT", "x"];

fn unhex(byte: u8) -> Option<u8> {
    char::from(byte).to_digit(16).map(|d| d as u8)
}

/// Every `%XX` with two hex digits decoded, the rest kept.
fn decode(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let (Some(hi), Some(lo)) = (
                bytes.get(i + 1).copied().and_then(unhex),
                bytes.get(i + 2).copied().and_then(unhex),
            )
        {
            out.push(hi << 4 | lo);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    out
}

/// RFC 3986 5.2.4 on segments (after the leading `/`); a climb above `/` stops there.
fn remove_dots(segments: Vec<Vec<u8>>) -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = Vec::new();
    for segment in segments {
        match &segment[..] {
            b"." => {}
            b".." => {
                out.pop();
            }
            _ => out.push(segment),
        }
    }
    out
}

fn split(path: &[u8]) -> Vec<Vec<u8>> {
    let path = path.strip_prefix(b"/").unwrap_or(path);
    path.split(|&b| b == b'/').map(<[u8]>::to_vec).collect()
}

/// The segments each kind of backend sees for `path` (query and fragment cut off).
fn readings(path: &[u8]) -> Vec<Vec<Vec<u8>>> {
    let path = path
        .split(|&b| b == b'?' || b == b'#')
        .next()
        .unwrap_or(path);
    let backslash: Vec<u8> = path
        .iter()
        .map(|&b| if b == b'\\' { b'/' } else { b })
        .collect();
    let mut readings = vec![
        // RFC 3986: split, then decode each segment.
        split(path).iter().map(|s| decode(s)).collect::<Vec<_>>(),
        // Decode, then split: an encoded `/` becomes a separator.
        split(&decode(path)),
        // Decode twice.
        split(&decode(&decode(path))),
        // `\` as `/`, then decode (and decode, then `\` as `/`).
        split(&backslash).iter().map(|s| decode(s)).collect(),
        split(
            &decode(path)
                .iter()
                .map(|&b| if b == b'\\' { b'/' } else { b })
                .collect::<Vec<_>>(),
        ),
        // `;` parameters cut off each segment.
        split(path)
            .iter()
            .map(|s| decode(s.split(|&b| b == b';').next().unwrap_or(s)))
            .collect(),
    ];
    // Empty segments merged.
    let merged: Vec<Vec<Vec<u8>>> = readings
        .iter()
        .map(|r| r.iter().filter(|s| !s.is_empty()).cloned().collect())
        .collect();
    readings.extend(merged);
    readings.into_iter().map(remove_dots).collect()
}

fuzz_target!(|input: Input| {
    let pattern = match input.pattern_method {
        Some(m) => format!(
            "{} {}",
            METHODS[usize::from(m) % METHODS.len()],
            input.pattern.path()
        ),
        None => input.pattern.path(),
    };
    // A pattern is trimmed, then split at its first space into method and path
    // (scope.rs's module comment).
    let (pattern_method, path) = match pattern.trim().split_once(' ') {
        Some((method, path)) => (Some(method), path.trim()),
        None => (None, pattern.trim()),
    };
    let method = METHODS[usize::from(input.method) % METHODS.len()];
    let target = input.target.path();
    let patterns = vec![pattern.clone()];
    let allowed = scope::allows(Some(&patterns), method, &target);
    let _ = scope::validate(&pattern);
    if !allowed {
        return;
    }
    assert!(scope::resolve_path(&target).is_ok(), "{target:?}");
    if let Some(want) = pattern_method {
        assert!(want.eq_ignore_ascii_case(method), "{pattern:?} {method}");
    }
    // The pattern's literal prefix, decoded once; a trailing slash does not matter.
    let mut want: Vec<Vec<u8>> = split(path.as_bytes()).iter().map(|s| decode(s)).collect();
    if want.last().is_some_and(Vec::is_empty) {
        want.pop();
    }
    let star = want.iter().position(|s| s == b"*");
    let prefix = &want[..star.unwrap_or(want.len())];
    for reading in readings(target.as_bytes()) {
        assert!(
            reading.len() >= prefix.len() && reading[..prefix.len()] == *prefix,
            "{pattern:?} allows {target:?}, which a backend reads as {:?}",
            reading
                .iter()
                .map(|s| String::from_utf8_lossy(s).into_owned())
                .collect::<Vec<_>>()
        );
    }
});
