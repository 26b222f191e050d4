//! The web page: `GET /` is `www/index.html`, `GET /<name>` another file of `www/`, and
//! `GET /pkg/<path>` a file of the npm package folder (`wasm/pkg/`). Every answer says
//! `Cache-Control: no-cache` with an `ETag`, so a rebuilt page is never served stale and
//! an unchanged one costs a `304`.
//!
//! Every answer of the page and the package, `404`s included, carries [`PAGE_POLICY`]
//! (the page's own origin only, and `'wasm-unsafe-eval'` for the package's module),
//! `X-Frame-Options: DENY`, `Referrer-Policy: no-referrer` and
//! `X-Content-Type-Options: nosniff`; [`secure`] gives the API's answers the same framing,
//! referrer and sniffing rules with a policy that allows nothing.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use warp::Filter;
use warp::http::{HeaderMap, HeaderValue, StatusCode, header};
use warp::reply::Response;

use crate::http::api_error::ApiError;

/// The page's content security policy: everything from its own origin only; scripts
/// may compile WebAssembly (`'wasm-unsafe-eval'`) but never evaluate text; no inline
/// script or style, no plugins, no framing, no `<base>`, forms post only to the server.
pub const PAGE_POLICY: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; \
     style-src 'self'; img-src 'self'; connect-src 'self'; object-src 'none'; \
     frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// The policy of the API's JSON answers: nothing may load or run from them.
pub const API_POLICY: &str = "default-src 'none'; frame-ancestors 'none'";

/// Adds the security headers to an answer that has not set them: the API's policy, no
/// framing, no referrer, no sniffing. The page's answers set their own policy first.
pub fn secure(mut response: Response) -> Response {
    let out = response.headers_mut();
    for (name, value) in [
        (header::CONTENT_SECURITY_POLICY, API_POLICY),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    ] {
        out.entry(name)
            .or_insert_with(|| HeaderValue::from_static(value));
    }
    response
}

fn page_headers(out: &mut HeaderMap) {
    out.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(PAGE_POLICY),
    );
    out.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    out.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    out.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
}

/// The folders the page is served from.
#[derive(Debug, Clone)]
pub struct StaticDirs {
    /// The page: `index.html`, scripts, styles.
    pub www: PathBuf,
    /// The npm package folder, served under `/pkg/`.
    pub pkg: PathBuf,
}

impl StaticDirs {
    /// The repository's `www/` and `wasm/pkg/`, as found at compile time.
    pub fn from_repo() -> StaticDirs {
        let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        StaticDirs {
            www: repo.join("www"),
            pkg: repo.join("wasm").join("pkg"),
        }
    }
}

/// `GET`/`HEAD` of the page's files. Paths under `/api/` and `/.well-known/` are left to
/// the API, so that an unknown API path answers a JSON `404`.
pub fn routes(
    dirs: Arc<StaticDirs>,
) -> impl warp::Filter<Extract = (Response,), Error = warp::Rejection> + Clone {
    let not_api = warp::path::peek()
        .and_then(|peek: warp::path::Peek| async move {
            let first = peek.segments().next().unwrap_or("");
            if first == "api" || first == ".well-known" {
                Err(warp::reject::not_found())
            } else {
                Ok(())
            }
        })
        .untuple_one();
    let read = warp::get().or(warp::head()).unify();
    not_api
        .and(warp::path::tail())
        .and(read)
        .and(warp::header::headers_cloned())
        .and(warp::any().map(move || Arc::clone(&dirs)))
        .then(
            |tail: warp::path::Tail, headers: HeaderMap, dirs: Arc<StaticDirs>| async move {
                serve(&dirs, tail.as_str(), &headers).await
            },
        )
}

async fn serve(dirs: &StaticDirs, tail: &str, headers: &HeaderMap) -> Response {
    let (root, rest) = match tail.split_once('/') {
        Some(("pkg", rest)) => (&dirs.pkg, rest),
        _ if tail == "pkg" => (&dirs.pkg, ""),
        _ if tail.is_empty() => (&dirs.www, "index.html"),
        _ => (&dirs.www, tail),
    };
    let mut response = match file(root, rest, headers).await {
        Ok(response) => response,
        Err(()) => ApiError::not_found("not_found", "Not found").into_response(),
    };
    page_headers(response.headers_mut());
    response
}

/// A file below `root`, or `Err` when the path is unsafe or there is no such file.
async fn file(root: &Path, rest: &str, headers: &HeaderMap) -> Result<Response, ()> {
    let mut path = root.to_path_buf();
    for segment in rest.split('/') {
        let safe = !segment.is_empty()
            && !segment.starts_with('.')
            && !segment.contains(['\\', '%', '\0', ':']);
        if !safe {
            return Err(());
        }
        path.push(segment);
    }
    // Symbolic links must not lead out of the folder.
    let real_root = tokio::fs::canonicalize(root).await.map_err(|_| ())?;
    let real = tokio::fs::canonicalize(&path).await.map_err(|_| ())?;
    if !real.starts_with(&real_root) {
        return Err(());
    }
    let meta = tokio::fs::metadata(&real).await.map_err(|_| ())?;
    if !meta.is_file() {
        return Err(());
    }
    let etag = format!(
        "\"{:x}-{:x}-{:x}\"",
        meta.len(),
        meta.mtime(),
        meta.mtime_nsec()
    );
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .any(|tag| tag.trim().trim_start_matches("W/") == etag)
        });
    let mut response = if fresh {
        let mut response = Response::new(Vec::new().into());
        *response.status_mut() = StatusCode::NOT_MODIFIED;
        response
    } else {
        let bytes = tokio::fs::read(&real).await.map_err(|_| ())?;
        let mut response = Response::new(bytes.into());
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(content_type(&real)),
        );
        response
    };
    let out = response.headers_mut();
    out.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if let Ok(value) = HeaderValue::from_str(&etag) {
        out.insert(header::ETAG, value);
    }
    Ok(response)
}

fn content_type(path: &Path) -> &'static str {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let ext = name.rsplit('.').next().unwrap_or("").to_ascii_lowercase();
    match ext.as_str() {
        "html" | "htm" => "text/html; charset=utf-8",
        "js" | "mjs" | "cjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "wasm" => "application/wasm",
        "json" | "map" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "txt" | "md" | "ts" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}
