//! Scoped paths as a backend resolves them (issue 11, item 2; SPEC 5.4), through the real
//! binary: forward auth refuses every path that climbs out of a token's pattern in any
//! encoding, and a pattern that can never match is refused at create, naming the problem.

use serde_json::json;

use crate::harness::{Client, Server, TempDir, basic, bearer};

const TOKENS: &str = "/api/v1alpha/token/";
const AUTH: &str = "/api/v1alpha/auth";

/// A token limited to `patterns`, made by the admin of `server`.
fn token_for(server: &Server, description: &str, patterns: &[&str]) -> String {
    let admin = basic(
        "admin",
        server.admin_password.as_deref().expect("first start"),
    );
    let response = server.client().post_json(
        TOKENS,
        &[admin],
        &json!({
            "jwt_token_description": description,
            "jwt_token_life": "1h",
            "jwt_token_endpoints": patterns,
        }),
    );
    assert_eq!(response.status, 201, "{:?}", response.json());
    response.json()["jwt_token"]
        .as_str()
        .expect("jwt_token")
        .to_owned()
}

/// Forward auth's answer for `GET uri`, named as Traefik names it.
fn judge(client: Client, token: &str, uri: &str) -> (u16, String) {
    let response = client.get(
        AUTH,
        &[
            bearer(token),
            ("X-Forwarded-Method".into(), "GET".into()),
            ("X-Forwarded-Uri".into(), uri.into()),
        ],
    );
    let code = if response.status == 200 {
        String::new()
    } else {
        response.code()
    };
    (response.status, code)
}

#[test]
fn paths_that_climb_out_of_a_scope_are_refused_in_every_encoding() {
    let dir = TempDir::new("scope-paths");
    let server = Server::start(&dir.0, &[]);
    let client = server.client();
    let token = token_for(&server, "wallets", &["GET /api/v1alpha/wallets/*"]);
    let middle = token_for(&server, "tx", &["GET /api/v1alpha/wallets/*/tx"]);

    for allowed in [
        "/api/v1alpha/wallets",
        "/api/v1alpha/wallets/w1",
        "/api/v1alpha/wallets/w1/tx/",
        "/api/v1alpha/wallets/w%31",
        "/api/v1alpha/wallets/w1/./tx",
        "/api/v1alpha/wallets/w1/tmp/../tx",
        "/api/v1alpha/wallets/w1?next=..%2f..%2fadmin",
    ] {
        assert_eq!(judge(client, &token, allowed).0, 200, "{allowed}");
    }
    // The attacks, and variants in other cases and encodings.
    for attack in [
        "/api/v1alpha/wallets/../admin",
        "/api/v1alpha/wallets/%2e%2e/admin",
        "/api/v1alpha/wallets/%2E%2E/admin",
        "/api/v1alpha/wallets/.%2e/admin",
        "/api/v1alpha/wallets/..%2fadmin",
        "/api/v1alpha/wallets/..%2Fadmin",
        "/api/v1alpha/wallets/w1%2f..%2f..%2fadmin",
        "/api/v1alpha/wallets/..;/admin",
        "/api/v1alpha/wallets/..%3b/admin",
        "/api/v1alpha/wallets/w1\\..\\..\\admin",
        "/api/v1alpha/wallets/w1%5c..%5c..%5cadmin",
        "/api/v1alpha/wallets/%252e%252e/admin",
        "/api/v1alpha/wallets/w1/%00/../../admin",
        "/api/v1alpha/wallets/w1/../../../../admin",
        "/api/v1alpha/wallets//../admin",
        "/api/v1alpha/admin",
    ] {
        assert_eq!(
            judge(client, &token, attack),
            (403, "insufficient_scope".to_owned()),
            "{attack}"
        );
    }

    assert_eq!(judge(client, &middle, "/api/v1alpha/wallets/w1/tx").0, 200);
    for attack in [
        "/api/v1alpha/wallets/../tx",
        "/api/v1alpha/wallets/%2e%2e/tx",
        "/api/v1alpha/wallets//tx",
        "/api/v1alpha/wallets/./tx",
        "/api/v1alpha/wallets/tx",
    ] {
        assert_eq!(
            judge(client, &middle, attack),
            (403, "insufficient_scope".to_owned()),
            "a * in the middle never stands for an empty, . or .. segment: {attack}"
        );
    }
}

#[test]
fn patterns_that_can_never_match_are_refused_at_create() {
    let dir = TempDir::new("scope-patterns");
    let server = Server::start(&dir.0, &[]);
    let admin = basic(
        "admin",
        server.admin_password.as_deref().expect("first start"),
    );
    for (pattern, names) in [
        ("GET /api/v1alpha/wallets?limit=5", "query"),
        ("/api/v1alpha/wallets#top", "fragment"),
        ("/api/v1alpha/wallets/../admin", "dot segment"),
        ("/api/v1alpha/wallets/%2e%2e/admin", "dot segment"),
        ("/api/v1alpha/wallets/./w1", "dot segment"),
        ("/api/v1alpha//wallets", "empty segment"),
        ("/api/v1alpha\\wallets", "backslash"),
        ("/api/v1alpha/wallets;jsessionid=1", "path parameters"),
        ("/api/v1alpha/wallets%2fw1", "encoded"),
    ] {
        let response = server.client().post_json(
            TOKENS,
            std::slice::from_ref(&admin),
            &json!({
                "jwt_token_description": format!("bad {pattern}"),
                "jwt_token_life": "1h",
                "jwt_token_endpoints": [pattern],
            }),
        );
        assert_eq!(response.status, 400, "{pattern}: {:?}", response.json());
        assert_eq!(response.code(), "invalid_endpoint", "{pattern}");
        let message = response.message();
        assert!(
            message.contains(names),
            "{pattern}: the message names the problem ({names}): {message}"
        );
    }
    // Nothing was stored for the refused patterns.
    assert_eq!(
        server
            .client()
            .get(TOKENS, std::slice::from_ref(&admin))
            .status,
        404
    );
}
