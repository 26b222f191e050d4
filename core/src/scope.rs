//! Endpoint scopes: patterns such as `GET /api/v1alpha/wallets/*` that limit where a token
//! is accepted (SPEC 5.4).
//!
//! A pattern is an optional HTTP method, a space, and a path. The method matches in any
//! case; without one, every method matches. A trailing slash does not matter. A `*` as the
//! last segment matches the path above it and everything below; a `*` anywhere else
//! matches exactly one segment, never an empty one, `.` or `..`.
//!
//! # How a request path is judged
//!
//! The path is judged as a backend will resolve it, not as it was written ([`resolve_path`]):
//!
//! 1. The query (`?`) and fragment (`#`) are cut off.
//! 2. Percent-escapes of unreserved characters (`A-Z a-z 0-9 - . _ ~`) are decoded, so
//!    `%2e` is a `.`; every other escape is kept, its hex digits in upper case (RFC 3986
//!    section 6.2.2).
//! 3. Dot segments are removed (RFC 3986 section 5.2.4): `/a/./b/../c` is `/a/c`.
//!
//! A path whose meaning differs between backends is refused rather than guessed, and
//! refused paths match no pattern: one not starting with `/`; an encoded `/` or `\` (`%2F`,
//! `%5C`), which some backends decode into a separator; a raw `\`, which some read as `/`;
//! a `;`, raw or `%3B`, which starts path parameters (`..;/` is `..` to Tomcat); a NUL or
//! any other control character, raw or encoded, and raw whitespace (never valid in a
//! request line; `%20` is fine); a malformed escape (`%zz`,
//! `%2`); a double-encoded escape (`%25` followed by two hex digits: `%252e` is `%2e` to a
//! backend that decodes once and `.` to one that decodes twice); an empty segment (`//`,
//! which some backends merge and others keep); and a path that climbs above `/` (more `..`
//! than segments, which RFC 3986 would silently drop).
//!
//! A pattern's path is read the same way, but a pattern may not contain what can never
//! match or what it would be guessing at: a query, a fragment or a dot segment, besides
//! everything a request path may not contain ([`validate`]).

use std::borrow::Cow;
use std::fmt;

/// The longest pattern path [`validate`] accepts, in bytes.
const MAX_PATTERN_PATH: usize = 512;

/// Checks that `pattern` is a method-and-path pattern a token may carry.
///
/// # Errors
///
/// A message for people saying what is wrong with the pattern: its shape, or the
/// [`PathProblem`] of its path.
///
/// ```
/// use tokenlife_core::scope;
/// assert!(scope::validate("GET /api/v1alpha/wallets/*").is_ok());
/// assert!(scope::validate("/api/v1alpha/wallets/*/tx").is_ok());
/// assert!(scope::validate("wallets").is_err());
/// let dots = scope::validate("/api/v1alpha/wallets/../admin").unwrap_err();
/// assert!(dots.contains("dot segment"), "{dots}");
/// ```
pub fn validate(pattern: &str) -> Result<(), String> {
    let (method, path) = split(pattern);
    let method_ok =
        method.is_none_or(|m| !m.is_empty() && m.bytes().all(|b| b.is_ascii_alphabetic()));
    if !method_ok
        || !path.starts_with('/')
        || path.len() > MAX_PATTERN_PATH
        || path.contains(char::is_whitespace)
    {
        return Err(format!(
            "endpoint pattern \"{pattern}\" must be a path starting with \"/\", optionally after \
             a method, as in \"GET /api/v1alpha/wallets/*\""
        ));
    }
    match pattern_path(path) {
        Ok(_) => Ok(()),
        Err(problem) => Err(format!(
            "endpoint pattern \"{pattern}\" can never be matched safely: {problem}"
        )),
    }
}

/// Whether a request (`method`, and `target` as the client sent it, query included or
/// not) is allowed by `patterns`. `None` means the token has no limits.
///
/// `target` is resolved first ([`resolve_path`]); a target that cannot be resolved
/// without guessing is allowed by no pattern.
///
/// ```
/// use tokenlife_core::scope::allows;
/// let patterns = vec!["GET /api/v1alpha/wallets/*".to_string(), "/api/v1alpha/whoami".to_string()];
/// assert!(allows(Some(&patterns), "GET", "/api/v1alpha/wallets/w1/tx"));
/// assert!(allows(Some(&patterns), "get", "/api/v1alpha/wallets/w1?limit=5"));
/// assert!(!allows(Some(&patterns), "POST", "/api/v1alpha/wallets/w1"));
/// assert!(allows(Some(&patterns), "POST", "/api/v1alpha/whoami/"));
/// assert!(!allows(Some(&patterns), "GET", "/api/v1alpha/wallets/%2e%2e/admin"));
/// assert!(!allows(Some(&patterns), "GET", "/api/v1alpha/wallets/..;/admin"));
/// assert!(allows(None, "DELETE", "/anything"));
/// ```
pub fn allows(patterns: Option<&Vec<String>>, method: &str, target: &str) -> bool {
    let Some(patterns) = patterns else {
        return true;
    };
    let Ok(path) = resolve_path(target) else {
        return false;
    };
    patterns.iter().any(|pattern| {
        let (want_method, want_path) = split(pattern);
        want_method.is_none_or(|m| m.eq_ignore_ascii_case(method))
            && pattern_path(want_path).is_ok_and(|want| path_matches(&want, &path))
    })
}

/// The path a backend will see for the request target `raw`: query and fragment cut off,
/// unreserved escapes decoded, other escapes in upper case, dot segments removed (see the
/// [module documentation](self)). Borrowed when nothing had to change.
///
/// # Errors
///
/// The [`PathProblem`] that makes the path ambiguous.
///
/// ```
/// use tokenlife_core::scope::{resolve_path, PathProblem};
/// assert_eq!(resolve_path("/a/%2e/b/../c%7e%3f?q=1").unwrap(), "/a/c~%3F");
/// assert_eq!(resolve_path("/wallets/w1/..").unwrap(), "/wallets/");
/// assert_eq!(resolve_path("/wallets/..%2fadmin"), Err(PathProblem::EncodedSeparator));
/// assert_eq!(resolve_path("/wallets/../../admin"), Err(PathProblem::AboveRoot));
/// ```
pub fn resolve_path(raw: &str) -> Result<Cow<'_, str>, PathProblem> {
    let path = raw.split(['?', '#']).next().unwrap_or(raw);
    remove_dot_segments(normalise_escapes(path)?)
}

/// Why a path (of a request or of a pattern) is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PathProblem {
    /// It does not start with `/`.
    NotAbsolute,
    /// A pattern with a query (`?`): a pattern names a path only.
    Query,
    /// A pattern with a fragment (`#`): clients never send one.
    Fragment,
    /// A control character (NUL included), raw or percent-encoded, or raw whitespace.
    Control,
    /// A raw `\`, which some backends read as `/`.
    Backslash,
    /// An encoded `/` or `\` (`%2F`, `%5C`, any case), which some backends decode into a
    /// separator.
    EncodedSeparator,
    /// A `;`, raw or `%3B`: path parameters, which some backends strip (`..;/` is `..`).
    PathParameter,
    /// A `%` not followed by two hex digits.
    MalformedEscape,
    /// `%25` followed by two hex digits: one thing to a backend that decodes once and
    /// another to one that decodes twice.
    DoubleEncoded,
    /// An empty segment (`//`), which some backends merge and others keep.
    EmptySegment,
    /// A pattern with a `.` or `..` segment (also percent-encoded), which no resolved path
    /// has.
    DotSegment,
    /// More `..` segments than segments before them.
    AboveRoot,
}

impl fmt::Display for PathProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PathProblem::NotAbsolute => "the path does not start with \"/\"",
            PathProblem::Query => "the path has a query (\"?\"); a pattern names a path only",
            PathProblem::Fragment => "the path has a fragment (\"#\"); a pattern names a path only",
            PathProblem::Control => {
                "the path has a control character (raw or percent-encoded) or raw whitespace"
            }
            PathProblem::Backslash => "the path has a backslash (\"\\\")",
            PathProblem::EncodedSeparator => {
                "the path has an encoded \"/\" or \"\\\" (\"%2F\" or \"%5C\")"
            }
            PathProblem::PathParameter => {
                "the path has a \";\" (path parameters), raw or as \"%3B\""
            }
            PathProblem::MalformedEscape => {
                "the path has a \"%\" that is not followed by two hex digits"
            }
            PathProblem::DoubleEncoded => {
                "the path has a double-encoded escape (\"%25\" followed by two hex digits)"
            }
            PathProblem::EmptySegment => "the path has an empty segment (\"//\")",
            PathProblem::DotSegment => {
                "the path has a dot segment (\".\" or \"..\", also percent-encoded); name the \
                 path it resolves to"
            }
            PathProblem::AboveRoot => "the path climbs above \"/\" (more \"..\" than segments)",
        })
    }
}

impl std::error::Error for PathProblem {}

/// A pattern's method (if any) and path, around the first space.
fn split(pattern: &str) -> (Option<&str>, &str) {
    let pattern = pattern.trim();
    match pattern.split_once(' ') {
        Some((method, path)) => (Some(method), path.trim()),
        None => (None, pattern),
    }
}

/// A pattern's path with its escapes normalised as a request path's are.
fn pattern_path(path: &str) -> Result<Cow<'_, str>, PathProblem> {
    if path.contains('?') {
        return Err(PathProblem::Query);
    }
    if path.contains('#') {
        return Err(PathProblem::Fragment);
    }
    let path = normalise_escapes(path)?;
    if path.split('/').any(|s| s == "." || s == "..") {
        return Err(PathProblem::DotSegment);
    }
    Ok(path)
}

/// Step 2 of the module documentation, with every check that is about characters and
/// escapes.
fn normalise_escapes(path: &str) -> Result<Cow<'_, str>, PathProblem> {
    if !path.starts_with('/') {
        return Err(PathProblem::NotAbsolute);
    }
    if path.contains("//") {
        return Err(PathProblem::EmptySegment);
    }
    // Allocated at the first escape; until then the output is the input.
    let mut out: Option<String> = None;
    let mut chars = path.char_indices();
    while let Some((at, c)) = chars.next() {
        match c {
            '\\' => return Err(PathProblem::Backslash),
            ';' => return Err(PathProblem::PathParameter),
            c if c.is_control() || c.is_whitespace() => return Err(PathProblem::Control),
            '%' => {
                let byte = escape_at(path, at + 1).ok_or(PathProblem::MalformedEscape)?;
                // Both hex digits are ASCII, one char each.
                chars.nth(1);
                let out = out.get_or_insert_with(|| path[..at].to_owned());
                match byte {
                    b'/' | b'\\' => return Err(PathProblem::EncodedSeparator),
                    b';' => return Err(PathProblem::PathParameter),
                    b'%' if escape_at(path, at + 3).is_some() => {
                        return Err(PathProblem::DoubleEncoded);
                    }
                    b if b.is_ascii_control() => return Err(PathProblem::Control),
                    b if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') => {
                        out.push(char::from(b));
                    }
                    b => {
                        const HEX: &[u8; 16] = b"0123456789ABCDEF";
                        out.push('%');
                        out.push(char::from(HEX[usize::from(b >> 4)]));
                        out.push(char::from(HEX[usize::from(b & 0xf)]));
                    }
                }
            }
            c => {
                if let Some(out) = &mut out {
                    out.push(c);
                }
            }
        }
    }
    Ok(out.map_or(Cow::Borrowed(path), Cow::Owned))
}

/// The byte written as two hex digits at `at`, if there are two.
fn escape_at(path: &str, at: usize) -> Option<u8> {
    let digits = path.as_bytes().get(at..at + 2)?;
    Some(hex_value(digits[0])? * 16 + hex_value(digits[1])?)
}

fn hex_value(digit: u8) -> Option<u8> {
    char::from(digit)
        .to_digit(16)
        .and_then(|d| u8::try_from(d).ok())
}

/// Step 3 of the module documentation on a path that starts with `/` and has no empty
/// segment, refusing a `..` with nothing left to remove.
fn remove_dot_segments(path: Cow<'_, str>) -> Result<Cow<'_, str>, PathProblem> {
    let is_dots = |s: &str| s == "." || s == "..";
    if !path.split('/').any(is_dots) {
        return Ok(path);
    }
    let mut kept: Vec<&str> = Vec::new();
    // A path ending in a dot segment names a folder: "/a/b/.." is "/a/".
    let mut ends_in_dots = false;
    for segment in path.split('/').skip(1) {
        ends_in_dots = is_dots(segment);
        match segment {
            "." => {}
            ".." => {
                kept.pop().ok_or(PathProblem::AboveRoot)?;
            }
            name => kept.push(name),
        }
    }
    let mut out = String::with_capacity(path.len());
    for segment in &kept {
        out.push('/');
        out.push_str(segment);
    }
    // Nothing kept means the last segment was a dot segment: the result is "/".
    if ends_in_dots {
        out.push('/');
    }
    Ok(Cow::Owned(out))
}

/// Whether the resolved `path` matches the pattern path `pattern`, segment by segment.
fn path_matches(pattern: &str, path: &str) -> bool {
    let mut want = pattern.trim_end_matches('/').split('/');
    let mut have = path.trim_end_matches('/').split('/');
    loop {
        match (want.next(), have.next()) {
            (Some("*"), h) if want.clone().next().is_none() => {
                return h.is_none_or(is_name) && have.all(is_name);
            }
            (Some("*"), Some(h)) if is_name(h) => {}
            (Some(w), Some(h)) if w == h => {}
            (None, None) => return true,
            _ => return false,
        }
    }
}

/// A segment a `*` may stand for: not empty, `.` or `..`.
fn is_name(segment: &str) -> bool {
    !segment.is_empty() && segment != "." && segment != ".."
}

#[cfg(test)]
mod tests;
