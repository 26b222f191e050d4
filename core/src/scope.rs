//! Endpoint scopes: patterns such as `GET /api/v1alpha/wallets/*` that limit where a token
//! is accepted (SPEC 5.4).
//!
//! A pattern is an optional HTTP method, a space, and a path. The method matches in any
//! case; without one, every method matches. A trailing slash does not matter. A `*` as the
//! last segment matches the path above it and everything below; a `*` anywhere else
//! matches exactly one segment.

/// Checks that `pattern` is a method-and-path pattern a token may carry.
///
/// # Errors
///
/// A message for people saying what a pattern looks like.
///
/// ```
/// use tokenlife_core::scope;
/// assert!(scope::validate("GET /api/v1alpha/wallets/*").is_ok());
/// assert!(scope::validate("wallets").is_err());
/// ```
pub fn validate(pattern: &str) -> Result<(), String> {
    let (method, path) = split(pattern);
    let method_ok =
        method.is_none_or(|m| !m.is_empty() && m.bytes().all(|b| b.is_ascii_alphabetic()));
    if !method_ok
        || !path.starts_with('/')
        || path.len() > 512
        || path.contains(char::is_whitespace)
    {
        return Err(format!(
            "endpoint pattern \"{pattern}\" must be a path starting with \"/\", optionally after \
             a method, as in \"GET /api/v1alpha/wallets/*\""
        ));
    }
    Ok(())
}

/// Whether a request (`method`, `path` without the query) is allowed by `patterns`.
/// `None` means the token has no limits.
///
/// ```
/// use tokenlife_core::scope::allows;
/// let patterns = vec!["GET /api/v1alpha/wallets/*".to_string(), "/api/v1alpha/whoami".to_string()];
/// assert!(allows(Some(&patterns), "GET", "/api/v1alpha/wallets/w1/tx"));
/// assert!(!allows(Some(&patterns), "POST", "/api/v1alpha/wallets/w1"));
/// assert!(allows(Some(&patterns), "POST", "/api/v1alpha/whoami/"));
/// assert!(allows(None, "DELETE", "/anything"));
/// ```
pub fn allows(patterns: Option<&Vec<String>>, method: &str, path: &str) -> bool {
    let Some(patterns) = patterns else {
        return true;
    };
    let path = path.split(['?', '#']).next().unwrap_or(path);
    patterns.iter().any(|pattern| {
        let (want_method, want_path) = split(pattern);
        want_method.is_none_or(|m| m.eq_ignore_ascii_case(method)) && path_matches(want_path, path)
    })
}

fn split(pattern: &str) -> (Option<&str>, &str) {
    let pattern = pattern.trim();
    match pattern.split_once(' ') {
        Some((method, path)) => (Some(method), path.trim()),
        None => (None, pattern),
    }
}

fn path_matches(pattern: &str, path: &str) -> bool {
    let mut want = pattern.trim_end_matches('/').split('/');
    let mut have = path.trim_end_matches('/').split('/');
    loop {
        match (want.next(), have.next()) {
            (Some("*"), _) if want.clone().next().is_none() => return true,
            (Some("*"), Some(_)) => {}
            (Some(w), Some(h)) if w == h => {}
            (None, None) => return true,
            _ => return false,
        }
    }
}
