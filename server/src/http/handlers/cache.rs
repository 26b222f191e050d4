//! Revalidation of the two public documents edge verifiers poll, `/.well-known/jwks.json`
//! and `/api/v1alpha/revoked`: a strong `ETag` over the body's bytes, `304 Not Modified`
//! with no body when `If-None-Match` names it, and `Cache-Control: max-age`.
//!
//! The tag is computed from the bytes sent, so it changes exactly when the document does:
//! after a key change, a revocation, or a revoked entry reaching its `exp` and leaving.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use warp::http::{HeaderMap, HeaderValue, StatusCode, header};
use warp::reply::Response;

use crate::http::api_error::json_bytes;

/// `max-age` of `/.well-known/jwks.json`, in seconds: keys change rarely, and a verifier
/// that meets an unknown `kid` asks again at once.
pub const JWKS_MAX_AGE: u32 = 60;
/// `max-age` of `/api/v1alpha/revoked`, in seconds: an HTTP cache between the server and an
/// edge verifier adds at most this much to the time a revocation takes to reach it.
pub const REVOKED_MAX_AGE: u32 = 10;

/// A `200` JSON answer of `body` that may be cached for `max_age` seconds, or a `304` with
/// no body when the request's `If-None-Match` names its tag (or is `*`).
pub fn json(request: &HeaderMap, max_age: u32, body: &serde_json::Value) -> Response {
    let bytes = serde_json::to_vec(body).unwrap_or_else(|_| b"{}".to_vec());
    let tag = etag(&bytes);
    let mut response = if none_match(request, &tag) {
        let mut response = Response::new(Vec::new().into());
        *response.status_mut() = StatusCode::NOT_MODIFIED;
        response
    } else {
        json_bytes(StatusCode::OK, bytes)
    };
    let out = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&format!("max-age={max_age}")) {
        out.insert(header::CACHE_CONTROL, value);
    }
    if let Ok(value) = HeaderValue::from_str(&tag) {
        out.insert(header::ETAG, value);
    }
    response
}

/// The strong entity tag of `bytes`: 18 bytes of their SHA-256, base64url, quoted.
fn etag(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    format!("\"{}\"", URL_SAFE_NO_PAD.encode(&digest[..18]))
}

/// Whether any `If-None-Match` header of the request matches `tag` by the weak comparison
/// RFC 9110 (13.1.2) prescribes for it: `*`, or a listed tag with the same opaque part,
/// `W/` or not.
fn none_match(request: &HeaderMap, tag: &str) -> bool {
    request
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .any(|value| value.trim() == "*" || listed(value).any(|listed| listed == tag))
}

/// The quoted tags of an `If-None-Match` value (`"a", W/"b"`), quotes kept, `W/` dropped;
/// it stops at the first thing that is not one.
fn listed(value: &str) -> impl Iterator<Item = &str> {
    let mut rest = value;
    std::iter::from_fn(move || {
        rest = rest.trim_start_matches([' ', '\t', ',']);
        let quoted = rest.strip_prefix("W/").unwrap_or(rest);
        let inner = quoted.strip_prefix('"')?;
        let end = inner.find('"')?;
        let (tag, after) = quoted.split_at(end + 2);
        rest = after;
        Some(tag)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append(
                header::IF_NONE_MATCH,
                HeaderValue::from_str(value).expect("header"),
            );
        }
        headers
    }

    #[test]
    fn lists_are_read_tag_by_tag() {
        let tag = "\"abc\"";
        for (values, expected) in [
            (&["\"abc\""][..], true),
            (&["W/\"abc\""], true),
            (&["\"x\", \"abc\""], true),
            (&["\"x\",W/\"abc\" "], true),
            (&["\"x\"", "\"abc\""], true),
            (&["*"], true),
            (&[" * "], true),
            (&["\"abcd\""], false),
            (&["\"ab\""], false),
            (&["abc"], false),
            (&["\"x\", abc"], false),
            (&["\"a,bc\""], false),
            (&[""], false),
            (&["\""], false),
            (&[], false),
        ] {
            assert_eq!(none_match(&request(values), tag), expected, "{values:?}");
        }
    }

    #[test]
    fn the_tag_follows_the_bytes() {
        assert_eq!(etag(b"{}"), etag(b"{}"));
        assert_ne!(etag(b"{}"), etag(b"{ }"));
        let tag = etag(b"{\"keys\":[]}");
        assert_eq!(tag.len(), 26);
        assert!(tag.starts_with('"') && tag.ends_with('"'));
    }
}
