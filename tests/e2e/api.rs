//! Every row of SPEC section 5 and the bad inputs it lists.

use serde_json::{Value, json};

use crate::harness::{Client, Server, TempDir, UNAUTHORIZED, basic, bearer};

const TOKENS: &str = "/api/v1alpha/token/";

fn admin(server: &Server) -> (String, String) {
    basic(
        "admin",
        server
            .admin_password
            .as_deref()
            .expect("first start prints the admin password"),
    )
}

#[test]
fn token_management_rows() {
    let data = TempDir::new("rows");
    let server = Server::start(&data.join("data"), &[]);
    let client = server.client();
    let auth = admin(&server);

    // No tokens yet: Specter's 404, with and without the trailing slash.
    for path in [TOKENS, "/api/v1alpha/token"] {
        let response = client.get(path, std::slice::from_ref(&auth));
        assert_eq!(response.status, 404);
        assert_eq!(response.message(), "Tokens does not exist");
        assert!(!response.code().is_empty());
    }

    let created = client.create(&auth, "ci", json!("6 minutes"));
    assert_eq!(created["message"], "Token generated");
    assert_eq!(created["jwt_token_description"], "ci");
    assert_eq!(created["jwt_token_life"], 360);
    let id = created["jwt_token_id"].as_str().expect("id").to_owned();
    assert_eq!(id.len(), 36);
    assert_eq!(&id[14..15], "4", "a UUID v4");
    let token = created["jwt_token"].as_str().expect("token").to_owned();
    assert_eq!(token.split('.').count(), 3);

    // Without the trailing slash too, and an integer life.
    let response = client.post_json(
        "/api/v1alpha/token",
        std::slice::from_ref(&auth),
        &json!({"jwt_token_description": "other", "jwt_token_life": 3600}),
    );
    assert_eq!(response.status, 201);
    assert_eq!(response.json()["jwt_token_life"], 3600);

    for path in [TOKENS, "/api/v1alpha/token"] {
        let response = client.get(path, std::slice::from_ref(&auth));
        assert_eq!(response.status, 200);
        let body = response.json();
        assert_eq!(body["message"], "Tokens exist");
        let entry = &body["jwt_tokens"][&id];
        assert_eq!(entry["jwt_token_description"], "ci");
        assert_eq!(entry["jwt_token_life"], 360);
        let remaining = entry["jwt_token_remaining_life"]
            .as_f64()
            .expect("remaining");
        assert!(remaining > 300.0 && remaining <= 360.0, "{remaining}");
        assert_eq!(entry["expiry_status"], "Valid");
        assert_eq!(body["jwt_tokens"].as_object().map(|m| m.len()), Some(2));
    }

    for path in [format!("{TOKENS}{id}/"), format!("{TOKENS}{id}")] {
        let response = client.get(&path, std::slice::from_ref(&auth));
        assert_eq!(response.status, 200, "{path}");
        let body = response.json();
        assert_eq!(body["message"], "Token exists");
        assert_eq!(body["jwt_token_description"], "ci");
        assert_eq!(body["jwt_token_life"], 360);
        assert!(
            body["jwt_token_life_remaining"]
                .as_f64()
                .is_some_and(|r| r > 300.0)
        );
        assert_eq!(body["expiry_status"], "Valid");
    }

    let missing = client.get(&format!("{TOKENS}no-such-id/"), std::slice::from_ref(&auth));
    assert_eq!(missing.status, 404);
    assert_eq!(
        missing.message(),
        "Token does not exist, make sure to enter correct token id"
    );

    // Other methods: 405, JSON.
    for (method, path) in [
        ("PUT", TOKENS.to_string()),
        ("PATCH", "/api/v1alpha/token".to_string()),
        ("DELETE", TOKENS.to_string()),
        ("PUT", format!("{TOKENS}{id}/")),
        ("POST", format!("{TOKENS}{id}")),
        ("POST", "/api/v1alpha/whoami".to_string()),
        ("DELETE", "/api/v1alpha/revoked".to_string()),
        ("POST", "/.well-known/jwks.json".to_string()),
    ] {
        let response = client.send(method, &path, std::slice::from_ref(&auth), None);
        assert_eq!(response.status, 405, "{method} {path}");
        assert_eq!(response.code(), "method_not_allowed");
    }

    // Delete, with and without the slash; then 404.
    let response = client.delete(&format!("{TOKENS}{id}"), std::slice::from_ref(&auth));
    assert_eq!(response.status, 200);
    assert_eq!(response.json(), json!({"message": "Token deleted"}));
    let response = client.delete(&format!("{TOKENS}{id}/"), std::slice::from_ref(&auth));
    assert_eq!(response.status, 404);
    assert_eq!(
        response.message(),
        "Token does not exist, make sure to enter correct token id"
    );
    assert_eq!(
        client
            .get(&format!("{TOKENS}{id}/"), std::slice::from_ref(&auth))
            .status,
        404
    );

    // The token was shown once: it is nowhere in the store (files or database rows).
    assert!(
        !crate::harness::stored_text(&data.join("data")).contains(&token),
        "the store holds the raw token"
    );
}

#[test]
fn bad_bodies_answer_400_413_415() {
    let data = TempDir::new("bodies");
    let server = Server::start(&data.join("data"), &[]);
    let client = server.client();
    let auth = admin(&server);
    let post = |body: &Value| client.post_json(TOKENS, std::slice::from_ref(&auth), body);

    client.create(&auth, "taken", json!("1h"));
    let cases: Vec<(Value, &str, Option<&str>)> = vec![
        (json!({"jwt_token_life": "1h"}), "missing_field", None),
        (json!({"jwt_token_description": "x"}), "missing_field", None),
        (
            json!({"jwt_token_description": 5, "jwt_token_life": "1h"}),
            "invalid_field",
            None,
        ),
        (
            json!({"jwt_token_description": ["x"], "jwt_token_life": "1h"}),
            "invalid_field",
            None,
        ),
        (
            json!({"jwt_token_description": "x", "jwt_token_life": true}),
            "invalid_field",
            None,
        ),
        (
            json!({"jwt_token_description": "x", "jwt_token_life": 1.5}),
            "bad_life",
            Some("life must come out at whole seconds"),
        ),
        (
            json!({"jwt_token_description": "x", "jwt_token_life": {"h": 1}}),
            "invalid_field",
            None,
        ),
        (
            json!({"jwt_token_description": "x", "jwt_token_life": "abc"}),
            "bad_life",
            Some("minutes (m)"),
        ),
        (
            json!({"jwt_token_description": "x", "jwt_token_life": ""}),
            "bad_life",
            Some("life is empty"),
        ),
        (
            json!({"jwt_token_description": "x", "jwt_token_life": 0}),
            "bad_life",
            Some("life must be positive"),
        ),
        (
            json!({"jwt_token_description": "x", "jwt_token_life": -5}),
            "bad_life",
            Some("life must be positive"),
        ),
        (
            json!({"jwt_token_description": "x", "jwt_token_life": 18446744073709551615u64}),
            "bad_life",
            Some("too long"),
        ),
        (
            json!({"jwt_token_description": "x", "jwt_token_life": "2 years"}),
            "bad_life",
            Some("life is longer than the maximum of 1year (31536000 seconds)"),
        ),
        (
            json!({"jwt_token_description": "", "jwt_token_life": "1h"}),
            "blank_description",
            Some("Token description already exists or is blank"),
        ),
        (
            json!({"jwt_token_description": "   ", "jwt_token_life": "1h"}),
            "blank_description",
            Some("Token description already exists or is blank"),
        ),
        (
            json!({"jwt_token_description": "y".repeat(257), "jwt_token_life": "1h"}),
            "description_too_long",
            Some("256"),
        ),
        (
            json!({"jwt_token_description": "taken", "jwt_token_life": "1h"}),
            "duplicate_description",
            Some("Token description already exists or is blank"),
        ),
        (
            json!({"jwt_token_description": "x", "jwt_token_life": "1h", "jwt_token_endpoints": "GET /"}),
            "invalid_field",
            None,
        ),
        (
            json!({"jwt_token_description": "x", "jwt_token_life": "1h", "jwt_token_endpoints": ["wallets"]}),
            "invalid_endpoint",
            None,
        ),
        (
            json!({"jwt_token_description": "x", "jwt_token_life": "1h", "jwt_token_endpoints": []}),
            "invalid_endpoint",
            None,
        ),
        (json!([1, 2]), "invalid_body", None),
        (json!("text"), "invalid_body", None),
    ];
    for (body, code, fragment) in cases {
        let response = post(&body);
        assert_eq!(
            response.status,
            400,
            "{body}: {:?}",
            String::from_utf8_lossy(&response.body)
        );
        assert_eq!(response.code(), code, "{body}");
        if let Some(fragment) = fragment {
            assert!(
                response.message().contains(fragment),
                "{body}: {}",
                response.message()
            );
        }
    }
    // The duplicate message is Specter's exactly.
    let response = post(&json!({"jwt_token_description": "taken", "jwt_token_life": "1h"}));
    assert_eq!(
        response.json()["message"],
        "Token description already exists or is blank"
    );
    // 256 characters are fine.
    client.create(&auth, &"z".repeat(256), json!("1h"));
    // A whole number spelled with a fraction or an exponent is that many seconds, as it is
    // to the package (JavaScript cannot tell 360.0 from 360); a fraction is bad_life above.
    for (description, raw) in [("point", "360.0"), ("exponent", "3.6e2")] {
        let body = format!(r#"{{"jwt_token_description":"{description}","jwt_token_life":{raw}}}"#);
        let response = client.send(
            "POST",
            TOKENS,
            &[
                auth.clone(),
                ("Content-Type".to_string(), "application/json".to_string()),
            ],
            Some(body.as_bytes()),
        );
        assert_eq!(response.status, 201, "{raw}");
        assert_eq!(response.json()["jwt_token_life"], 360, "{raw}");
    }

    // Not JSON at all.
    let json_header = ("Content-Type".to_string(), "application/json".to_string());
    for raw in [&b"{"[..], b"not json", b"", b"\xff\xfe"] {
        let response = client.send(
            "POST",
            TOKENS,
            &[auth.clone(), json_header.clone()],
            Some(raw),
        );
        assert_eq!(response.status, 400, "{raw:?}");
        assert_eq!(response.code(), "invalid_json");
    }
    // 415: another content type, or none.
    let body = br#"{"jwt_token_description":"f","jwt_token_life":"1h"}"#;
    let form = (
        "Content-Type".to_string(),
        "application/x-www-form-urlencoded".to_string(),
    );
    for headers in [vec![auth.clone(), form], vec![auth.clone()]] {
        let response = client.send("POST", TOKENS, &headers, Some(body));
        assert_eq!(response.status, 415);
        assert_eq!(response.code(), "unsupported_media_type");
    }
    // A charset parameter is fine.
    let utf8 = (
        "Content-Type".to_string(),
        "application/json; charset=utf-8".to_string(),
    );
    assert_eq!(
        client
            .send("POST", TOKENS, &[auth.clone(), utf8], Some(body))
            .status,
        201
    );
    // 413 over 64 KiB.
    let mut big = br#"{"jwt_token_description":"big","jwt_token_life":"1h","pad":""#.to_vec();
    big.extend(std::iter::repeat_n(b'a', 70 * 1024));
    big.extend_from_slice(b"\"}");
    let response = client.send(
        "POST",
        TOKENS,
        &[auth.clone(), json_header.clone()],
        Some(&big),
    );
    assert_eq!(response.status, 413);
    assert_eq!(response.code(), "payload_too_large");
}

#[test]
fn authentication_failures_are_401_with_challenges() {
    let data = TempDir::new("auth");
    let server = Server::start(&data.join("data"), &[]);
    let client = server.client();
    let auth = admin(&server);
    let created = client.create(&auth, "ci", json!("1h"));
    let token = created["jwt_token"].as_str().expect("token");

    let check = |response: crate::harness::Response, code: &str, challenge: &str| {
        assert_eq!(response.status, 401);
        assert_eq!(response.message(), UNAUTHORIZED);
        assert_eq!(response.code(), code);
        let header = response
            .header("www-authenticate")
            .expect("WWW-Authenticate");
        assert!(header.starts_with(challenge), "{header}");
        if challenge.starts_with("Basic") {
            assert_eq!(header, "Basic realm=\"tokenlife\"");
        } else {
            assert!(header.starts_with("Bearer realm=\"tokenlife\""), "{header}");
            assert!(header.contains("error=\"invalid_token\""), "{header}");
            assert!(header.contains("error_description=\""), "{header}");
        }
        header.to_owned()
    };
    // Basic endpoints.
    check(
        client.get(TOKENS, &[]),
        "missing_credentials",
        "Basic realm=\"tokenlife\"",
    );
    check(
        client.get(TOKENS, &[bearer(token)]),
        "missing_credentials",
        "Basic realm=\"tokenlife\"",
    );
    check(
        client.get(TOKENS, &[basic("admin", "wrong")]),
        "invalid_credentials",
        "Basic realm=\"tokenlife\"",
    );
    check(
        client.get(TOKENS, &[basic("nobody", "wrong")]),
        "invalid_credentials",
        "Basic realm=\"tokenlife\"",
    );
    let junk = (
        "Authorization".to_string(),
        "Basic !!!not-base64".to_string(),
    );
    check(
        client.get(TOKENS, &[junk]),
        "invalid_credentials",
        "Basic realm=\"tokenlife\"",
    );
    check(
        client.post_json(
            TOKENS,
            &[],
            &json!({"jwt_token_description": "x", "jwt_token_life": "1h"}),
        ),
        "missing_credentials",
        "Basic",
    );
    check(
        client.delete(&format!("{TOKENS}x/"), &[]),
        "missing_credentials",
        "Basic",
    );
    // Bearer endpoints.
    for path in [
        "/api/v1alpha/whoami",
        "/api/v1alpha/whoami/",
        "/api/v1alpha/auth",
        "/api/v1alpha/auth/",
    ] {
        check(
            client.get(path, &[]),
            "missing_credentials",
            "Bearer realm=\"tokenlife\"",
        );
        check(
            client.get(path, std::slice::from_ref(&auth)),
            "missing_credentials",
            "Bearer",
        );
        let header = check(
            client.get(path, &[bearer("not.a.token")]),
            "invalid_token",
            "Bearer",
        );
        assert!(
            header.contains("error=\"invalid_token\"") && header.contains("error_description="),
            "{header}"
        );
    }
    // A token signed with another key.
    let other = tokenlife_core::Signer::hs256(b"some other secret").expect("signer");
    let claims = tokenlife_core::Claims::new(
        "admin",
        tokenlife_core::TokenId::from_random_bytes([5; 16]),
        "forged",
        tokenlife_core::Life::parse("1h").expect("life"),
        now(),
        "tokenlife",
    )
    .expect("claims");
    let forged = other.sign(&claims).expect("sign");
    check(
        client.get("/api/v1alpha/whoami", &[bearer(&forged)]),
        "invalid_token",
        "Bearer",
    );
    // The good one works.
    assert_eq!(
        client.get("/api/v1alpha/whoami", &[bearer(token)]).status,
        200
    );
}

pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

#[test]
fn never_stored_token_is_refused_and_wrong_issuer_too() {
    let data = TempDir::new("forged");
    let secret = "a shared secret for this test";
    let server = Server::start_with_env(&data.join("data"), &[], &[("SECRET_KEY", secret)]);
    let client = server.client();
    let signer = tokenlife_core::Signer::hs256(secret.as_bytes()).expect("signer");
    let life = tokenlife_core::Life::parse("1h").expect("life");
    let sign = |issuer: &str, id: [u8; 16]| {
        let claims = tokenlife_core::Claims::new(
            "admin",
            tokenlife_core::TokenId::from_random_bytes(id),
            "never stored",
            life,
            now(),
            issuer,
        )
        .expect("claims");
        signer.sign(&claims).expect("sign")
    };
    let response = client.get(
        "/api/v1alpha/whoami",
        &[bearer(&sign("tokenlife", [9; 16]))],
    );
    assert_eq!(response.status, 401);
    assert_eq!(response.code(), "invalid_token");
    let response = client.get(
        "/api/v1alpha/whoami",
        &[bearer(&sign("someone-else", [8; 16]))],
    );
    assert_eq!(response.code(), "invalid_token");

    // A stored id with another token under it (same id, other iat): refused.
    let auth = admin(&server);
    let created = client.create(&auth, "real", json!("1h"));
    let real = created["jwt_token"].as_str().expect("token");
    let decoded = tokenlife_core::decode_unverified(real).expect("decode");
    let mut claims: tokenlife_core::Claims =
        serde_json::from_value(decoded.claims_value()).expect("claims");
    claims.iat -= 1;
    let twin = signer.sign(&claims).expect("sign");
    let response = client.get("/api/v1alpha/whoami", &[bearer(&twin)]);
    assert_eq!(response.status, 401);
    assert_eq!(response.code(), "invalid_token");
    assert_eq!(
        client.get("/api/v1alpha/whoami", &[bearer(real)]).status,
        200
    );
}

#[test]
fn whoami_forward_auth_scopes_and_revocation() {
    let data = TempDir::new("bearer");
    let server = Server::start(&data.join("data"), &[]);
    let client = server.client();
    let auth = admin(&server);
    let created = client.create(&auth, "ci", json!("1 hour"));
    let token = created["jwt_token"].as_str().expect("token").to_owned();
    let id = created["jwt_token_id"].as_str().expect("id").to_owned();

    for path in ["/api/v1alpha/whoami", "/api/v1alpha/whoami/"] {
        let response = client.get(path, &[bearer(&token)]);
        assert_eq!(response.status, 200);
        let body = response.json();
        assert_eq!(body["username"], "admin");
        assert_eq!(body["jwt_token_id"], id.as_str());
        assert_eq!(body["jwt_token_description"], "ci");
        assert_eq!(body["jwt_token_life"], 3600);
        assert!(
            body["jwt_token_life_remaining"]
                .as_f64()
                .is_some_and(|r| r > 3500.0)
        );
        assert_eq!(body["expiry_status"], "Valid");
    }

    // Forward auth, both header families.
    let forwarded = |method: &str, uri: &str| {
        vec![
            bearer(&token),
            ("X-Forwarded-Method".to_string(), method.to_string()),
            ("X-Forwarded-Uri".to_string(), uri.to_string()),
        ]
    };
    let response = client.get("/api/v1alpha/auth", &forwarded("POST", "/anything?x=1"));
    assert_eq!(response.status, 200);
    assert_eq!(response.header("x-auth-user"), Some("admin"));
    assert_eq!(response.header("x-auth-token-id"), Some(id.as_str()));

    // A scoped token.
    let response = client.post_json(
        TOKENS,
        std::slice::from_ref(&auth),
        &json!({
            "jwt_token_description": "scoped",
            "jwt_token_life": "1h",
            "jwt_token_endpoints": ["GET /api/v1alpha/wallets/*"],
        }),
    );
    assert_eq!(response.status, 201);
    let scoped = response.json()["jwt_token"]
        .as_str()
        .expect("token")
        .to_owned();
    let response = client.get("/api/v1alpha/whoami", &[bearer(&scoped)]);
    assert_eq!(response.status, 403);
    assert_eq!(response.code(), "insufficient_scope");
    let original = |method: &str, uri: &str| {
        vec![
            bearer(&scoped),
            ("X-Original-Method".to_string(), method.to_string()),
            ("X-Original-URI".to_string(), uri.to_string()),
        ]
    };
    let response = client.get(
        "/api/v1alpha/auth",
        &original("GET", "/api/v1alpha/wallets/w1/tx?page=2"),
    );
    assert_eq!(response.status, 200);
    assert_eq!(response.header("x-auth-user"), Some("admin"));
    let response = client.get(
        "/api/v1alpha/auth",
        &original("POST", "/api/v1alpha/wallets/w1"),
    );
    assert_eq!(response.status, 403);
    assert_eq!(response.json()["error"], "insufficient_scope");
    let response = client.get("/api/v1alpha/auth", &original("GET", "/api/v1alpha/other"));
    assert_eq!(response.status, 403);
    // The scoped token's claims carry its patterns.
    let decoded = tokenlife_core::decode_unverified(&scoped).expect("decode");
    assert_eq!(
        decoded.claims_value()["jwt_token_endpoints"],
        json!(["GET /api/v1alpha/wallets/*"])
    );

    // Revocation: refused at once, listed until it expires.
    let revoked = client.get("/api/v1alpha/revoked", &[]);
    assert_eq!(revoked.status, 200);
    assert_eq!(revoked.json()["revoked"], json!([]));
    assert_eq!(
        client
            .delete(&format!("{TOKENS}{id}/"), std::slice::from_ref(&auth))
            .status,
        200
    );
    let response = client.get("/api/v1alpha/whoami", &[bearer(&token)]);
    assert_eq!(response.status, 401);
    assert_eq!(response.code(), "token_revoked");
    assert!(
        response
            .header("www-authenticate")
            .is_some_and(|h| h.contains("invalid_token"))
    );
    assert_eq!(
        client
            .get("/api/v1alpha/auth", &forwarded("GET", "/"))
            .code(),
        "token_revoked"
    );
    let exp = tokenlife_core::decode_unverified(&token)
        .expect("decode")
        .claims_value()["exp"]
        .clone();
    for path in ["/api/v1alpha/revoked", "/api/v1alpha/revoked/"] {
        let list = client.get(path, &[]).json();
        assert_eq!(list["revoked"], json!([{"jwt_token_id": id, "exp": exp}]));
    }
}

#[test]
fn users_are_isolated() {
    let data = TempDir::new("isolation");
    let dir = data.join("data");
    let server = Server::start(&dir, &[]);
    let client = server.client();
    let auth = admin(&server);
    let admins = client.create(&auth, "mine", json!("1h"));
    let admin_id = admins["jwt_token_id"].as_str().expect("id");

    // A user added by the CLI while the server runs can sign in at once.
    let (ok, out, err) = crate::harness::run_cli(&dir, &["user", "add", "bob"], "bob-password\n");
    assert!(ok, "{out} {err}");
    let bob = basic("bob", "bob-password");
    assert_eq!(client.get(TOKENS, std::slice::from_ref(&bob)).status, 404);
    let bobs = client.create(&bob, "mine", json!("1h"));
    let bob_token = bobs["jwt_token"].as_str().expect("token");

    assert_eq!(
        client
            .get(&format!("{TOKENS}{admin_id}/"), std::slice::from_ref(&bob))
            .status,
        404
    );
    assert_eq!(
        client
            .delete(&format!("{TOKENS}{admin_id}/"), std::slice::from_ref(&bob))
            .status,
        404
    );
    let listed = client.get(TOKENS, std::slice::from_ref(&bob)).json();
    assert_eq!(listed["jwt_tokens"].as_object().map(|m| m.len()), Some(1));
    assert!(listed["jwt_tokens"].get(admin_id).is_none());
    // Admin's token is untouched.
    assert_eq!(
        client
            .get(&format!("{TOKENS}{admin_id}/"), std::slice::from_ref(&auth))
            .status,
        200
    );
    assert_eq!(
        client
            .get("/api/v1alpha/whoami", &[bearer(bob_token)])
            .json()["username"],
        "bob"
    );

    // A password changed by the CLI: the old one stops working at the next request.
    let (ok, _, err) =
        crate::harness::run_cli(&dir, &["user", "passwd", "bob"], "new-bob-password\n");
    assert!(ok, "{err}");
    assert_eq!(client.get(TOKENS, std::slice::from_ref(&bob)).status, 401);
    assert_eq!(
        client
            .get(TOKENS, &[basic("bob", "new-bob-password")])
            .status,
        200
    );

    // Removing the user revokes their tokens.
    let (ok, _, err) = crate::harness::run_cli(&dir, &["user", "remove", "bob"], "");
    assert!(ok, "{err}");
    let response = client.get("/api/v1alpha/whoami", &[bearer(bob_token)]);
    assert_eq!(response.status, 401);
    assert_eq!(response.code(), "token_revoked");
    assert_eq!(
        client
            .get(TOKENS, &[basic("bob", "new-bob-password")])
            .status,
        401
    );
}

#[test]
fn repeated_wrong_passwords_are_throttled() {
    let data = TempDir::new("throttle");
    let server = Server::start(&data.join("data"), &[]);
    let client = server.client();
    for name in ["admin", "ghost"] {
        let mut statuses = Vec::new();
        for _ in 0..7 {
            let response = client.get(TOKENS, &[basic(name, "wrong password")]);
            if response.status == 429 {
                let retry: u64 = response
                    .header("retry-after")
                    .and_then(|v| v.parse().ok())
                    .expect("Retry-After");
                assert!(retry >= 1);
                assert_eq!(response.code(), "too_many_requests");
            }
            statuses.push(response.status);
        }
        assert_eq!(&statuses[..5], &[401; 5], "{name}: {statuses:?}");
        assert!(statuses[5..].contains(&429), "{name}: {statuses:?}");
    }
    // Another user is not affected.
    assert_eq!(client.get(TOKENS, &[basic("someone", "x")]).status, 401);
}

#[test]
fn public_endpoints() {
    let data = TempDir::new("public");
    let server = Server::start(&data.join("data"), &[]);
    let client = server.client();
    for path in [
        "/api/healthz/liveness",
        "/api/healthz/liveness/",
        "/api/healthz/readyness",
        "/api/healthz/readyness/",
    ] {
        let response = client.get(path, &[]);
        assert_eq!(response.status, 200, "{path}");
        assert!(response.json().is_object());
    }
    let jwks = client.get("/.well-known/jwks.json", &[]);
    assert_eq!(jwks.status, 200);
    assert_eq!(jwks.json(), json!({"keys": []}));
    let response = client.get("/api/v1alpha/nothing-here", &[]);
    assert_eq!(response.status, 404);
    assert_eq!(response.code(), "not_found");
    assert_eq!(
        client.send("POST", "/api/nothing", &[], Some(b"x")).status,
        404
    );
}

#[test]
fn odd_requests_never_answer_500() {
    let data = TempDir::new("odd");
    let server = Server::start(&data.join("data"), &[]);
    let client: Client = server.client();
    let auth = admin(&server);
    let h = |name: &str, value: &str| (name.to_string(), value.to_string());
    type Case<'a> = (&'a str, String, Vec<(String, String)>, Option<Vec<u8>>);
    let cases: Vec<Case> = vec![
        (
            "GET",
            TOKENS.into(),
            vec![h("Authorization", "Basic")],
            None,
        ),
        (
            "GET",
            TOKENS.into(),
            vec![h("Authorization", "Basic Og==")],
            None,
        ),
        (
            "GET",
            TOKENS.into(),
            vec![h("Authorization", "Basic YWRtaW4=")],
            None,
        ),
        (
            "GET",
            TOKENS.into(),
            vec![h("Authorization", "Bearer")],
            None,
        ),
        (
            "GET",
            "/api/v1alpha/whoami".into(),
            vec![h("Authorization", "Bearer a.b.c")],
            None,
        ),
        (
            "GET",
            "/api/v1alpha/whoami".into(),
            vec![h("Authorization", "Bearer e30.e30.")],
            None,
        ),
        (
            "GET",
            "/api/v1alpha/whoami".into(),
            vec![h("Authorization", "Bearer eyJhbGciOiJub25lIn0.e30.")],
            None,
        ),
        (
            "GET",
            "/api/v1alpha/whoami".into(),
            vec![h("Authorization", "bearer   ")],
            None,
        ),
        (
            "GET",
            format!("{TOKENS}{}/", "x".repeat(4000)),
            vec![auth.clone()],
            None,
        ),
        ("GET", format!("{TOKENS}%00%ff/"), vec![auth.clone()], None),
        (
            "DELETE",
            format!("{TOKENS}../../"),
            vec![auth.clone()],
            None,
        ),
        (
            "POST",
            TOKENS.into(),
            vec![auth.clone(), h("Content-Type", "application/json")],
            Some(b"null".to_vec()),
        ),
        (
            "POST",
            TOKENS.into(),
            vec![auth.clone(), h("Content-Type", "application/json")],
            Some(br#"{"jwt_token_description":"\ud800","jwt_token_life":"1h"}"#.to_vec()),
        ),
        (
            "POST",
            TOKENS.into(),
            vec![auth.clone(), h("Content-Type", "application/json")],
            Some(b"{}".to_vec()),
        ),
        ("OPTIONS", TOKENS.into(), vec![], None),
        ("GET", "/..%2f..%2fetc/passwd".into(), vec![], None),
        (
            "GET",
            "/api/v1alpha/auth".into(),
            vec![
                h("X-Forwarded-Uri", "/caf\u{e9}"),
                h("Authorization", "Bearer caf\u{e9}"),
            ],
            None,
        ),
    ];
    for (method, path, headers, body) in cases {
        let response = client.send(method, &path, &headers, body.as_deref());
        assert!(
            response.status < 500,
            "{method} {path}: {}",
            response.status
        );
        if response.status != 200 {
            assert!(
                !response.body.is_empty() && !response.code().is_empty(),
                "{method} {path} {headers:?}: {}",
                response.status
            );
        }
    }
}
