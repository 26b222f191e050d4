//! The ceiling `scripts/bench-server.sh` compares `GET /api/v1alpha/whoami` with: the same
//! HTTP work without the API's own. It is served exactly as `tokenlife serve` serves the
//! API (the same `serve` options and defaults, the same accept loop and limits, the same
//! runtime, log setup, `Authorization` filter, recovery, security headers and log line),
//! and reads the Bearer header as whoami does (`auth::bearer_token`); then, instead of verifying the token and
//! asking the store, it answers a JSON body of whoami's size.
//!
//! `cargo run --release --example bare -- --listen 127.0.0.1:0`

use std::sync::Arc;

use clap::Parser;
use tokenlife_server::auth::bearer_token;
use tokenlife_server::cli::ServeArgs;
use tokenlife_server::http::api_error::json_bytes;
use tokenlife_server::http::listener;
use tokenlife_server::http::static_files::StaticDirs;
use tokenlife_server::{authorization, layers, logging};
use warp::Filter;
use warp::http::{HeaderValue, StatusCode};

/// The options of `tokenlife serve`; only the listener's are used.
#[derive(Parser)]
struct Bare {
    #[command(flatten)]
    serve: ServeArgs,
}

fn main() -> std::process::ExitCode {
    let args = Bare::parse().serve;
    logging::to_stderr();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("bare: cannot start the runtime: {err}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(serve(args)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("bare: {message}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn serve(args: ServeArgs) -> Result<(), String> {
    // whoami's answer for a token of the benchmark's shape, made once.
    let body = serde_json::to_vec(&serde_json::json!({
        "username": "admin",
        "jwt_token_id": "2f1c7c3e-3a51-4c4e-9a5e-4f2b7e3c9d10",
        "jwt_token_description": "bench",
        "jwt_token_life": 3600,
        "jwt_token_life_remaining": 3599.123456,
        "expiry_status": "Valid",
    }))
    .map_err(|err| err.to_string())?;
    let whoami = warp::path!("api" / "v1alpha" / "whoami")
        .and(warp::get())
        .and(authorization())
        .then(move |authorization: Option<HeaderValue>| {
            let body = body.clone();
            async move {
                match bearer_token(authorization.as_ref()) {
                    Ok(_) => json_bytes(StatusCode::OK, body),
                    Err(err) => err.into_response(),
                }
            }
        });
    let dirs = StaticDirs::new(args.www, args.pkg)?;
    let app = layers(whoami, Arc::new(dirs));

    let file_limit = listener::raise_file_limit().map_err(|err| err.to_string())?;
    let wanted = usize::try_from(args.max_connections).unwrap_or(usize::MAX);
    let limits = listener::Limits {
        header_timeout: args.header_timeout,
        idle_timeout: args.idle_timeout,
        max_connections: listener::connection_cap(wanted, file_limit),
        shutdown_grace: args.shutdown_grace,
    };
    let tcp = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|err| format!("cannot listen on {}: {err}", args.listen))?;
    let addr = tcp.local_addr().map_err(|err| err.to_string())?;
    println!("listening on http://{addr}");
    let service = hyper_util::service::TowerToHyperService::new(warp::service(app));
    let stop = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    listener::serve(tcp, service, limits, stop).await;
    Ok(())
}
