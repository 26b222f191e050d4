//! The web page: `GET /` is `www/index.html`, `GET /<name>` another file of `www/`, and
//! `GET /pkg/<path>` a file of the npm package folder (`wasm/pkg/`). Every answer says
//! `Cache-Control: no-cache` with an `ETag`, so a rebuilt page is never served stale and
//! an unchanged one costs a `304`.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use warp::Filter;
use warp::http::{HeaderMap, HeaderValue, StatusCode, header};
use warp::reply::Response;

use crate::api_error::ApiError;

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
    match file(root, rest, headers).await {
        Ok(response) => response,
        Err(()) => ApiError::not_found("not_found", "Not found").into_response(),
    }
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
    out.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
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
