//! `GET /api/v1alpha/openapi.json`: the API's OpenAPI 3.1 document (`docs/openapi.json`),
//! built into the binary. Like the page's files it says `Cache-Control: no-cache` with an
//! `ETag` (a hash of the document), and a matching `If-None-Match` costs a `304`.

use std::sync::LazyLock;

use sha2::{Digest, Sha256};
use warp::http::{HeaderMap, HeaderValue, StatusCode, header};
use warp::reply::Response;

/// The document, as committed.
pub const DOCUMENT: &str = include_str!("../../../../docs/openapi.json");

/// `"<first 16 bytes of the document's SHA-256 in hex>"`.
static ETAG: LazyLock<HeaderValue> = LazyLock::new(|| {
    let digest = Sha256::digest(DOCUMENT.as_bytes());
    let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    HeaderValue::from_str(&format!("\"{hex}\"")).unwrap_or(HeaderValue::from_static("\"\""))
});

/// The document, or `304` when `If-None-Match` names its `ETag` (or is `*`).
pub async fn document(headers: HeaderMap) -> Response {
    let etag = &*ETAG;
    let current = headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(|tag| tag.trim().trim_start_matches("W/"))
        .any(|tag| tag == "*" || tag.as_bytes() == etag.as_bytes());
    let mut response = if current {
        let mut response = Response::new(Vec::new().into());
        *response.status_mut() = StatusCode::NOT_MODIFIED;
        response
    } else {
        let mut response = Response::new(bytes::Bytes::from_static(DOCUMENT.as_bytes()).into());
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        response
    };
    let out = response.headers_mut();
    out.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    out.insert(header::ETAG, etag.clone());
    response
}
