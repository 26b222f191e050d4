//! tokenlife-server: the HTTP API of SPEC section 5 over warp, the JSON store of section 4,
//! and the commands of section 7.
//!
//! [`routes`] builds the whole application from an [`App`]; `main.rs` only parses the
//! command line ([`cli`]) and runs it.

#![deny(missing_docs)]

use std::convert::Infallible;
use std::sync::Arc;

use futures_util::StreamExt;
use warp::Filter;

pub mod app;
pub mod audit;
pub mod auth;
pub mod cli;
pub mod clock;
pub mod http;
pub mod logging;
pub mod secrets;
pub mod store;

use app::App;
use http::handlers::{Body, BodyError, MAX_BODY_BYTES};
use http::{api_error, handlers, metrics, static_files};

/// The whole application: the API, the public endpoints and the web page, with every
/// rejection turned into a JSON answer and one log line per request.
pub fn routes(
    app: Arc<App>,
    dirs: Arc<static_files::StaticDirs>,
) -> impl Filter<Extract = (impl warp::Reply,), Error = Infallible> + Clone {
    let with_app = {
        let app = Arc::clone(&app);
        warp::any().map(move || Arc::clone(&app))
    };
    let headers = warp::header::headers_cloned();

    let tokens = warp::path!("api" / "v1alpha" / "token");
    let create = tokens
        .and(warp::post())
        .and(with_app.clone())
        .and(headers)
        .and(limited_body())
        .then(handlers::create_token);
    let list = tokens
        .and(warp::get())
        .and(with_app.clone())
        .and(headers)
        .then(handlers::list_tokens);
    let token = warp::path!("api" / "v1alpha" / "token" / String);
    let get = token
        .and(warp::get())
        .and(with_app.clone())
        .and(headers)
        .then(handlers::get_token);
    let delete = token
        .and(warp::delete())
        .and(with_app.clone())
        .and(headers)
        .then(handlers::delete_token);
    let regenerate = warp::path!("api" / "v1alpha" / "token" / String / "regenerate")
        .and(warp::post())
        .and(with_app.clone())
        .and(headers)
        .then(handlers::regenerate_token);
    let admin_list = warp::path!("api" / "v1alpha" / "admin" / "tokens")
        .and(warp::get())
        .and(with_app.clone())
        .and(headers)
        .and(warp::query::<Vec<(String, String)>>())
        .then(handlers::admin::list_tokens);
    let admin_delete = warp::path!("api" / "v1alpha" / "admin" / "token" / String / String)
        .and(warp::delete())
        .and(with_app.clone())
        .and(headers)
        .then(handlers::admin::delete_token);
    let whoami = warp::path!("api" / "v1alpha" / "whoami")
        .and(warp::get())
        .and(with_app.clone())
        .and(authorization())
        .then(handlers::whoami);
    let forward_auth = warp::path!("api" / "v1alpha" / "auth")
        .and(
            warp::get()
                .or(warp::head())
                .unify()
                .or(warp::post())
                .unify(),
        )
        .and(with_app.clone())
        .and(warp::method())
        .and(headers)
        .then(handlers::forward_auth);
    let revoked = warp::path!("api" / "v1alpha" / "revoked")
        .and(warp::get())
        .and(with_app.clone())
        .and(headers)
        .then(handlers::revoked);
    let jwks = warp::path!(".well-known" / "jwks.json")
        .and(warp::get())
        .and(with_app.clone())
        .and(headers)
        .then(handlers::jwks);
    let audit = warp::path!("api" / "v1alpha" / "audit")
        .and(warp::get())
        .and(with_app.clone())
        .and(headers)
        .and(warp::query::<Vec<(String, String)>>())
        .then(handlers::audit::list);
    let openapi = warp::path!("api" / "v1alpha" / "openapi.json")
        .and(warp::get())
        .and(headers)
        .then(handlers::openapi::document);
    let liveness = warp::path!("api" / "healthz" / "liveness")
        .and(warp::get())
        .then(handlers::liveness);
    let readyness = warp::path!("api" / "healthz" / "readyness")
        .and(warp::get())
        .and(with_app)
        .then(handlers::readyness);

    // The Bearer endpoints come first: they carry the most traffic. The other groups are
    // boxed: one chain of every route is a type too deep for rustc's release build
    // (E0275), and a box per group costs one indirect call, off the Bearer path.
    let owner = create
        .or(list)
        .unify()
        .or(get)
        .unify()
        .or(delete)
        .unify()
        .or(regenerate)
        .unify()
        .boxed();
    let admin = admin_list
        .or(admin_delete)
        .unify()
        .or(audit)
        .unify()
        .boxed();
    let public = revoked
        .or(jwks)
        .unify()
        .or(liveness)
        .unify()
        .or(readyness)
        .unify()
        .or(openapi)
        .unify()
        .boxed();
    let api = whoami
        .or(forward_auth)
        .unify()
        .or(owner)
        .unify()
        .or(admin)
        .unify()
        .or(public)
        .unify();
    layers(api, dirs)
}

/// What every answer goes through, around the API's routes: the web page and the package
/// after them, every rejection turned into a JSON answer, the security headers, and one
/// log line per request. (`examples/bare.rs` puts its bare route in the same layers, so
/// that the benchmark's ratio measures the API's own work.)
pub fn layers<A>(
    api: A,
    dirs: Arc<static_files::StaticDirs>,
) -> impl Filter<Extract = (impl warp::Reply,), Error = Infallible> + Clone
where
    A: Filter<Extract = (warp::reply::Response,), Error = warp::Rejection>
        + Clone
        + Send
        + Sync
        + 'static,
{
    api.or(static_files::routes(dirs))
        .unify()
        .recover(api_error::recover)
        .unify()
        .and(warp::path::full())
        .map(api_error::with_allow)
        .map(static_files::secure)
        .with(warp::log::custom(|info| {
            metrics::METRICS.request(info.method(), info.path(), info.status(), info.elapsed());
            // Paths carry token ids at most, never tokens, passwords or keys.
            tracing::info!(
                method = %info.method(),
                path = info.path(),
                status = info.status().as_u16(),
                latency_us = info.elapsed().as_micros() as u64,
                "request"
            );
        }))
}

/// The `Authorization` header if there is one: a cheap clone of the value, not of every
/// header.
pub fn authorization()
-> impl Filter<Extract = (Option<warp::http::HeaderValue>,), Error = Infallible> + Clone {
    warp::header::value(warp::http::header::AUTHORIZATION.as_str())
        .map(Some)
        .or(warp::any().map(|| None))
        .unify()
}

/// The request body, read up to 64 KiB: the rest is never read.
fn limited_body() -> impl Filter<Extract = (Body,), Error = warp::Rejection> + Clone {
    warp::header::optional::<u64>("content-length")
        .and(warp::body::stream())
        .then(collect_body)
}

async fn collect_body<S, B>(length: Option<u64>, stream: S) -> Body
where
    S: futures_util::Stream<Item = Result<B, warp::Error>>,
    B: bytes::Buf,
{
    if length.is_some_and(|length| length > MAX_BODY_BYTES as u64) {
        return Err(BodyError::TooLarge);
    }
    let mut stream = std::pin::pin!(stream);
    let mut bytes = Vec::new();
    while let Some(chunk) = stream.next().await {
        let mut chunk = chunk.map_err(|_| BodyError::Unreadable)?;
        while chunk.has_remaining() {
            let part = chunk.chunk();
            let n = part.len();
            if bytes.len() + n > MAX_BODY_BYTES {
                return Err(BodyError::TooLarge);
            }
            bytes.extend_from_slice(part);
            chunk.advance(n);
        }
    }
    Ok(bytes::Bytes::from(bytes))
}
