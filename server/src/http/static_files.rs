//! The web page: `GET /` is `www/index.html`, `GET /<name>` another file of `www/`, and
//! `GET /pkg/<path>` a file of the npm package folder (`wasm/pkg/`). Both folders are built
//! into the binary (`build.rs`), so the binary alone serves them; `--www DIR` / `--pkg DIR`
//! serve folders instead, read on every request (development). Every answer says
//! `Cache-Control: no-cache` with an `ETag` (SHA-256 of a built-in file; size and mtime of
//! a folder's file), so a rebuilt page is never served stale and an unchanged one costs a
//! `304`. A binary built before the package serves, at `/`, a `503` page naming the command
//! that builds it, and `503 package_not_built` under `/pkg/`.
//!
//! Every answer of the page and the package, `404`s included, carries [`PAGE_POLICY`]
//! (the page's own origin only, and `'wasm-unsafe-eval'` for the package's module),
//! `X-Frame-Options: DENY`, `Referrer-Policy: no-referrer` and
//! `X-Content-Type-Options: nosniff`; [`secure`] gives the API's answers the same framing,
//! referrer and sniffing rules with a policy that allows nothing.

use std::collections::HashMap;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use sha2::{Digest, Sha256};

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

/// The files of `www/` and `wasm/pkg/` as they were when this binary was built
/// (`build.rs` writes the lists).
mod embedded {
    include!(concat!(env!("OUT_DIR"), "/embedded.rs"));
}

/// The command that builds the npm package, named wherever its absence shows.
pub const BUILD_PACKAGE: &str = "bash scripts/build-wasm.sh";

/// Where the page and the package are served from: the copies built into the binary, or
/// folders on disk (`--www`, `--pkg`) for development.
#[derive(Debug, Clone)]
pub struct StaticDirs {
    www: Source,
    pkg: Source,
}

#[derive(Debug, Clone)]
enum Source {
    /// A folder read on every request: a changed file is served at once.
    Folder(PathBuf),
    /// The files built into the binary, each with the `ETag` of its bytes.
    Embedded(Arc<HashMap<&'static str, Embedded>>),
    /// The package was not built before this binary (`build.rs`'s warning).
    NotBuilt,
}

#[derive(Debug)]
struct Embedded {
    bytes: &'static [u8],
    etag: String,
}

impl Source {
    fn folder(path: PathBuf, flag: &str) -> Result<Source, String> {
        if path.is_dir() {
            Ok(Source::Folder(path))
        } else {
            Err(format!("{flag} {}: no such folder", path.display()))
        }
    }

    fn embedded(files: &'static [(&'static str, &'static [u8])]) -> Source {
        let files = files
            .iter()
            .map(|&(name, bytes)| {
                let digest = Sha256::digest(bytes);
                let etag = format!("\"{}\"", hex(&digest[..16]));
                (name, Embedded { bytes, etag })
            })
            .collect();
        Source::Embedded(Arc::new(files))
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut out, byte| {
        use std::fmt::Write as _;
        let _ = write!(out, "{byte:02x}");
        out
    })
}

impl StaticDirs {
    /// The page and the package built into the binary, each replaced by a folder when one
    /// is given (`--www`, `--pkg`).
    ///
    /// # Errors
    ///
    /// A given folder that does not exist, as one line naming its flag.
    pub fn new(www: Option<PathBuf>, pkg: Option<PathBuf>) -> Result<StaticDirs, String> {
        let www = match www {
            Some(path) => Source::folder(path, "--www")?,
            None => Source::embedded(embedded::WWW),
        };
        let pkg = match (pkg, embedded::PKG) {
            (Some(path), _) => Source::folder(path, "--pkg")?,
            (None, Some(files)) => Source::embedded(files),
            (None, None) => Source::NotBuilt,
        };
        Ok(StaticDirs { www, pkg })
    }

    /// Whether `/pkg/` has no package: the binary was built before `wasm/pkg/` and no
    /// `--pkg` folder was given.
    pub fn package_missing(&self) -> bool {
        matches!(self.pkg, Source::NotBuilt)
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

/// What `/` shows when the package was not built into the binary: the page cannot run
/// without it, so it says how to build it (the API works all the same).
const NOT_BUILT_PAGE: &str = "<!doctype html>
<html lang=\"en\">
<meta charset=\"utf-8\">
<title>tokenlife: the npm package was not built</title>
<h1>This tokenlife binary was built without its npm package</h1>
<p>The API works, but the page needs the package (<code>/pkg/</code>). Build the package,
then the server again:</p>
<pre>bash scripts/build-wasm.sh
cargo build --release -p tokenlife-server</pre>
<p>(<code>make run</code> does both), or serve a built package folder with
<code>--pkg DIR</code>.</p>
</html>
";

async fn serve(dirs: &StaticDirs, tail: &str, headers: &HeaderMap) -> Response {
    let (root, rest) = match tail.split_once('/') {
        Some(("pkg", rest)) => (&dirs.pkg, rest),
        _ if tail == "pkg" => (&dirs.pkg, ""),
        _ if tail.is_empty() => (&dirs.www, "index.html"),
        _ => (&dirs.www, tail),
    };
    let found = match root {
        _ if dirs.package_missing() && std::ptr::eq(root, &dirs.www) && rest == "index.html" => {
            Ok(not_built_page())
        }
        Source::Folder(folder) => file(folder, rest, headers).await,
        Source::Embedded(files) => embedded_file(files, rest, headers),
        Source::NotBuilt => Ok(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "package_not_built",
            format!(
                "This binary was built without the npm package: run {BUILD_PACKAGE}, then \
                 build the server again"
            ),
        )
        .into_response()),
    };
    let mut response =
        found.unwrap_or_else(|()| ApiError::not_found("not_found", "Not found").into_response());
    page_headers(response.headers_mut());
    response
}

fn not_built_page() -> Response {
    let mut response = Response::new(NOT_BUILT_PAGE.into());
    *response.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
    let out = response.headers_mut();
    out.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    out.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// The segments of a path below a root, or `None` when one could leave it, name a hidden
/// file or be read two ways (empty, `.`-led, `\\`, `%`, NUL, `:`).
fn segments(rest: &str) -> Option<Vec<&str>> {
    rest.split('/')
        .map(|segment| {
            let safe = !segment.is_empty()
                && !segment.starts_with('.')
                && !segment.contains(['\\', '%', '\0', ':']);
            safe.then_some(segment)
        })
        .collect()
}

/// Whether `If-None-Match` names `etag` (weak or strong).
fn fresh(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .any(|tag| tag.trim().trim_start_matches("W/") == etag)
        })
}

/// `200` with the bytes (or `304` when the client has them), `no-cache` and the `ETag`.
fn answer(bytes: Option<bytes::Bytes>, name: &Path, etag: &str) -> Response {
    let mut response = match bytes {
        None => {
            let mut response = Response::new(Vec::new().into());
            *response.status_mut() = StatusCode::NOT_MODIFIED;
            response
        }
        Some(bytes) => {
            let mut response = Response::new(bytes.into());
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static(content_type(name)),
            );
            response
        }
    };
    let out = response.headers_mut();
    out.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if let Ok(value) = HeaderValue::from_str(etag) {
        out.insert(header::ETAG, value);
    }
    response
}

/// A file built into the binary, or `Err` when the path is unsafe or names no file.
fn embedded_file(
    files: &HashMap<&'static str, Embedded>,
    rest: &str,
    headers: &HeaderMap,
) -> Result<Response, ()> {
    segments(rest).ok_or(())?;
    let file = files.get(rest).ok_or(())?;
    let bytes = (!fresh(headers, &file.etag)).then(|| bytes::Bytes::from_static(file.bytes));
    Ok(answer(bytes, Path::new(rest), &file.etag))
}

/// A file below `root`, or `Err` when the path is unsafe or there is no such file.
async fn file(root: &Path, rest: &str, headers: &HeaderMap) -> Result<Response, ()> {
    let mut path = root.to_path_buf();
    for segment in segments(rest).ok_or(())? {
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
    let bytes = if fresh(headers, &etag) {
        None
    } else {
        Some(tokio::fs::read(&real).await.map_err(|_| ())?.into())
    };
    Ok(answer(bytes, &real, &etag))
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

#[cfg(test)]
mod tests {
    use super::*;

    fn get(dirs: &StaticDirs, tail: &str) -> Response {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime");
        runtime.block_on(serve(dirs, tail, &HeaderMap::new()))
    }

    fn body(response: Response) -> String {
        use http_body_util::BodyExt;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime");
        let bytes = runtime
            .block_on(response.into_body().collect())
            .expect("body")
            .to_bytes();
        String::from_utf8(bytes.to_vec()).expect("utf-8")
    }

    /// A binary built before the package says so at `/` and under `/pkg/`; the rest of
    /// the page is served as usual.
    #[test]
    fn without_the_package() {
        let dirs = StaticDirs {
            www: Source::embedded(embedded::WWW),
            pkg: Source::NotBuilt,
        };
        assert!(dirs.package_missing());
        for tail in ["", "index.html"] {
            let page = get(&dirs, tail);
            assert_eq!(page.status(), StatusCode::SERVICE_UNAVAILABLE);
            assert!(page.headers().contains_key(header::CONTENT_SECURITY_POLICY));
            assert!(body(page).contains(BUILD_PACKAGE));
        }
        let wasm = get(&dirs, "pkg/tokenlife_bg.wasm");
        assert_eq!(wasm.status(), StatusCode::SERVICE_UNAVAILABLE);
        let text = body(wasm);
        assert!(
            text.contains("package_not_built") && text.contains(BUILD_PACKAGE),
            "{text}"
        );
        assert_eq!(get(&dirs, "app.js").status(), StatusCode::OK);
        assert_eq!(get(&dirs, "missing.js").status(), StatusCode::NOT_FOUND);
    }

    #[test]
    fn built_in_files() {
        let dirs = StaticDirs::new(None, None).expect("built in");
        let index = get(&dirs, "");
        assert_eq!(index.status(), StatusCode::OK);
        let etag = index.headers()[header::ETAG]
            .to_str()
            .expect("etag")
            .to_owned();
        assert_eq!(etag.len(), 34, "{etag}");
        assert!(body(index).contains("<html"));
        for tail in ["../Cargo.toml", ".hidden", "a//b", "pkg", "pkg/"] {
            assert_eq!(get(&dirs, tail).status(), StatusCode::NOT_FOUND, "{tail}");
        }
    }

    #[test]
    fn a_missing_folder_is_refused() {
        let err = StaticDirs::new(Some("/no/such/www".into()), None).expect_err("missing");
        assert_eq!(err, "--www /no/such/www: no such folder");
        let err = StaticDirs::new(None, Some("/no/such/pkg".into())).expect_err("missing");
        assert_eq!(err, "--pkg /no/such/pkg: no such folder");
    }
}
