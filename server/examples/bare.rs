//! A bare warp route answering a JSON body the size of `whoami`'s, for
//! `scripts/bench-server.sh`: the ceiling the real endpoint is compared with.

use warp::Filter;

#[tokio::main]
async fn main() {
    let body = serde_json::json!({
        "username": "admin",
        "jwt_token_id": "2f1c7c3e-3a51-4c4e-9a5e-4f2b7e3c9d10",
        "jwt_token_description": "bench",
        "jwt_token_life": 3600,
        "jwt_token_life_remaining": 3599.123456,
        "expiry_status": "Valid",
    })
    .to_string();
    let route = warp::path!("api" / "v1alpha" / "whoami")
        .map(move || warp::reply::with_header(body.clone(), "content-type", "application/json"));
    let listener = match tokio::net::TcpListener::bind("127.0.0.1:0").await {
        Ok(listener) => listener,
        Err(err) => {
            eprintln!("bare: cannot listen: {err}");
            std::process::exit(1);
        }
    };
    if let Ok(addr) = listener.local_addr() {
        println!("listening on http://{addr}");
    }
    warp::serve(route).incoming(listener).run().await;
}
