//! The commands of SPEC section 7, and the Specter import.

use serde_json::{Value, json};

use crate::harness::{Server, TempDir, basic, bearer, run_cli};

const TOKENS: &str = "/api/v1alpha/token/";

#[test]
fn user_commands() {
    let data = TempDir::new("users");
    let dir = data.join("data");
    let (ok, out, err) = run_cli(
        &dir,
        &["user", "add", "carol", "--admin"],
        "carol-password\n",
    );
    assert!(ok, "{err}");
    assert_eq!(out.trim(), "added user carol");
    let (ok, _, err) = run_cli(&dir, &["user", "add", "carol"], "x\n");
    assert!(!ok);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("already exists"), "{err}");
    let (ok, _, err) = run_cli(&dir, &["user", "add", "dave"], "\n");
    assert!(!ok && err.contains("empty"), "{err}");
    let (ok, _, err) = run_cli(&dir, &["user", "add", "bad:name"], "pw\n");
    assert!(!ok && err.contains("':'"), "{err}");
    let (ok, out, _) = run_cli(&dir, &["user", "list"], "");
    assert!(ok);
    assert!(out.contains("carol\tadmin\t0 tokens"), "{out}");
    let (ok, _, err) = run_cli(&dir, &["user", "passwd", "nobody"], "x\n");
    assert!(!ok && err.contains("no user named nobody"), "{err}");
    let (ok, _, err) = run_cli(&dir, &["user", "remove", "nobody"], "");
    assert!(!ok && err.contains("no user named nobody"), "{err}");

    // A folder with a user already: no admin is made, and carol signs in.
    let server = Server::start(&dir, &[]);
    assert_eq!(server.admin_password, None);
    assert_eq!(
        server
            .client()
            .get(TOKENS, &[basic("carol", "carol-password")])
            .status,
        404
    );
    let (ok, _, _) = run_cli(&dir, &["user", "remove", "carol"], "");
    assert!(ok);
    assert_eq!(
        server
            .client()
            .get(TOKENS, &[basic("carol", "carol-password")])
            .status,
        401
    );
}

#[test]
fn inspect_prints_claims_and_remaining_life() {
    let data = TempDir::new("inspect");
    let dir = data.join("data");
    let server = Server::start(&dir, &[]);
    let auth = basic("admin", server.admin_password.as_deref().expect("password"));
    let created = server.client().create(&auth, "look", json!("6 minutes"));
    let token = created["jwt_token"].as_str().expect("token");
    let (ok, out, err) = run_cli(&dir, &["inspect", token], "");
    assert!(ok, "{err}");
    let shown: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(shown["claims"]["jwt_token_description"], "look");
    assert_eq!(shown["jwt_token_life"], 360);
    assert_eq!(shown["expiry_status"], "Valid");
    assert!(
        shown["jwt_token_life_remaining"]
            .as_f64()
            .is_some_and(|r| r > 300.0)
    );
    let (ok, out, _) = run_cli(&dir, &["inspect", "-"], &format!("{token}\n"));
    assert!(ok && out.contains("\"look\""));
    let (ok, _, err) = run_cli(&dir, &["inspect", "garbage"], "");
    assert!(!ok);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("malformed"), "{err}");
}

#[test]
fn specter_users_import_and_keep_working() {
    let data = TempDir::new("specter");
    let dir = data.join("data");
    let server = Server::start(&dir, &[]);
    let fixture = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/vectors/specter-users.json"
    );
    let (ok, out, err) = run_cli(&dir, &["import-specter", fixture], "");
    assert!(ok, "{err}");
    assert!(out.contains("imported 1 users and 2 tokens"), "{out}");
    let client = server.client();
    // The PBKDF2 password works, checked as Specter checks it; a wrong one does not.
    let specter = basic("specter", "specter-password-1");
    let listed = client.get(TOKENS, std::slice::from_ref(&specter));
    assert_eq!(
        listed.status,
        200,
        "{:?}",
        String::from_utf8_lossy(&listed.body)
    );
    let tokens = listed.json()["jwt_tokens"].clone();
    let wallet = &tokens["5b9e1a52-1111-4c3a-9f00-0000000000a1"];
    assert_eq!(wallet["jwt_token_description"], "wallet script");
    assert_eq!(wallet["expiry_status"], "Valid");
    let old = &tokens["5b9e1a52-2222-4c3a-9f00-0000000000a2"];
    assert_eq!(old["jwt_token_life"], 360);
    assert_eq!(old["expiry_status"], "Expired");
    assert_eq!(old["jwt_token_remaining_life"], 0.0);
    assert_eq!(client.get(TOKENS, &[basic("specter", "wrong")]).status, 401);
    // After a good sign-in the PBKDF2 record is replaced by Argon2id, and the password
    // goes on working.
    let upgraded = (0..100).any(|_| {
        // A journal line, or a database row, holding the user and an Argon2id hash.
        let done = crate::harness::stored_text(&dir)
            .lines()
            .any(|line| line.contains("specter") && line.contains("$argon2id$"));
        if !done {
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        done
    });
    assert!(upgraded, "the imported password was not moved to Argon2id");
    assert_eq!(
        client.get(TOKENS, std::slice::from_ref(&specter)).status,
        200
    );
    // Imported users can make new tokens; the raw Specter tokens are not kept.
    client.create(&specter, "new one", json!("1h"));
    let original = std::fs::read_to_string(fixture).expect("fixture");
    let raw: serde_json::Value = serde_json::from_str(&original).expect("json");
    let raw_token = raw[0]["jwt_tokens"]["5b9e1a52-1111-4c3a-9f00-0000000000a1"]["jwt_token"]
        .as_str()
        .expect("t");
    assert!(!crate::harness::stored_text(&dir).contains(raw_token));
    let (ok, _, err) = run_cli(&dir, &["import-specter", "/no/such/users.json"], "");
    assert!(!ok && err.contains("/no/such/users.json"), "{err}");
}

#[test]
fn eddsa_server_publishes_a_usable_jwks_and_options_apply() {
    let data = TempDir::new("eddsa");
    let server = Server::start(
        &data.join("data"),
        &[
            "--alg",
            "EdDSA",
            "--issuer",
            "example",
            "--max-life",
            "1 day",
        ],
    );
    let client = server.client();
    let auth = basic("admin", server.admin_password.as_deref().expect("password"));
    let jwks = client.get("/.well-known/jwks.json", &[]).json();
    assert_eq!(jwks["keys"][0]["kty"], "OKP");
    assert_eq!(jwks["keys"][0]["crv"], "Ed25519");
    let created = client.create(&auth, "edge", json!("1h"));
    let token = created["jwt_token"].as_str().expect("token");
    let decoded = tokenlife_core::decode_unverified(token).expect("decode");
    assert_eq!(decoded.header_value()["alg"], "EdDSA");
    assert_eq!(decoded.header_value()["kid"], jwks["keys"][0]["kid"]);
    assert_eq!(decoded.claims_value()["iss"], "example");
    let verifier = tokenlife_core::Verifier::from_jwks(&jwks.to_string()).expect("verifier");
    let now = crate::api::now() as f64;
    let claims = verifier
        .verify(
            token,
            &tokenlife_core::VerifyOptions::at(now).issuer("example"),
        )
        .expect("the JWKS verifies the token");
    assert_eq!(claims.jwt_token_description, "edge");
    assert_eq!(
        client.get("/api/v1alpha/whoami", &[bearer(token)]).status,
        200
    );
    let response = client.post_json(
        TOKENS,
        &[auth],
        &json!({"jwt_token_description": "long", "jwt_token_life": "2 days"}),
    );
    assert_eq!(response.status, 400);
    assert!(
        response
            .message()
            .contains("maximum of 1day (86400 seconds)"),
        "{}",
        response.message()
    );
}

#[test]
fn expired_tokens_report_zero_and_are_refused() {
    let data = TempDir::new("expiry");
    let server = Server::start(&data.join("data"), &[]);
    let client = server.client();
    let auth = basic("admin", server.admin_password.as_deref().expect("password"));
    let created = client.create(&auth, "short", json!("2 seconds"));
    assert_eq!(created["jwt_token_life"], 2);
    let id = created["jwt_token_id"].as_str().expect("id");
    let token = created["jwt_token"].as_str().expect("token");
    // `iat` is whole seconds, so the token may have little more than one second left
    // now: on a loaded machine it can run out before the next request.
    let early = client.get("/api/v1alpha/whoami", &[bearer(token)]);
    assert!(
        early.status == 200 || early.code() == "token_expired",
        "{}",
        early.status
    );
    std::thread::sleep(std::time::Duration::from_millis(2500));
    let one = client
        .get(&format!("{TOKENS}{id}/"), std::slice::from_ref(&auth))
        .json();
    assert_eq!(one["jwt_token_life_remaining"], 0.0);
    assert_eq!(one["expiry_status"], "Expired");
    let all = client.get(TOKENS, std::slice::from_ref(&auth)).json();
    assert_eq!(all["jwt_tokens"][id]["jwt_token_remaining_life"], 0.0);
    assert_eq!(all["jwt_tokens"][id]["expiry_status"], "Expired");
    let response = client.get("/api/v1alpha/whoami", &[bearer(token)]);
    assert_eq!(response.status, 401);
    assert_eq!(response.code(), "token_expired");
    assert!(
        response
            .header("www-authenticate")
            .is_some_and(|h| h.contains("error=\"invalid_token\""))
    );
    // Deleting an expired token does not list it as revoked.
    assert_eq!(
        client.delete(&format!("{TOKENS}{id}/"), &[auth]).status,
        200
    );
    assert_eq!(
        client.get("/api/v1alpha/revoked", &[]).json()["revoked"],
        json!([])
    );
}

/// `tokenlife migrate`: a JSON folder into PostgreSQL (PostgreSQL only: it needs both).
#[test]
#[cfg_attr(
    not(tokenlife_test_pg),
    ignore = "PostgreSQL only: scripts/with-postgres.sh runs it"
)]
fn migrate_moves_a_folder_to_postgres_and_tokens_keep_working() {
    let server_url = crate::harness::pg_url().expect("TOKENLIFE_TEST_PG");
    let data = TempDir::new("migrate");
    let folder = data.join("json");
    let none: [String; 0] = [];
    // A JSON server with a token, a deleted (revoked) token, a Specter user, EdDSA keys.
    let fixture = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/vectors/specter-users.json"
    );
    let (ok, _, err) =
        crate::harness::run_cli_with(&folder, &none, &["import-specter", fixture], "");
    assert!(ok, "{err}");
    let (ok, _, err) = crate::harness::run_cli_with(
        &folder,
        &none,
        &["user", "add", "admin"],
        "admin-password\n",
    );
    assert!(ok, "{err}");
    let auth = basic("admin", "admin-password");
    let mut tokens = Vec::new();
    let revoked_token;
    let used_id;
    let used_detail;
    {
        let json = crate::harness::Server::start_json(&folder, &["--alg", "EdDSA"]);
        let client = json.client();
        let kept = client.create(&auth, "kept", json!("1h"));
        tokens.push(kept["jwt_token"].as_str().expect("t").to_owned());
        used_id = kept["jwt_token_id"].as_str().expect("id").to_owned();
        // A use, recorded by the background flush (every 5 s) before the migration.
        assert_eq!(
            client
                .get("/api/v1alpha/whoami", &[bearer(&tokens[0])])
                .status,
            200
        );
        let start = std::time::Instant::now();
        used_detail = loop {
            let body = client
                .get(&format!("{TOKENS}{used_id}"), std::slice::from_ref(&auth))
                .json();
            if !body["jwt_token_last_used"].is_null() {
                break body;
            }
            assert!(
                start.elapsed() < std::time::Duration::from_secs(30),
                "the use was not recorded in 30 s: {body}"
            );
            std::thread::sleep(std::time::Duration::from_millis(200));
        };
        let scoped = client.post_json(
            TOKENS,
            std::slice::from_ref(&auth),
            &json!({"jwt_token_description": "scoped", "jwt_token_life": "1h",
                    "jwt_token_endpoints": ["/api/v1alpha/whoami"]}),
        );
        assert_eq!(scoped.status, 201);
        tokens.push(scoped.json()["jwt_token"].as_str().expect("t").to_owned());
        let gone = client.create(&auth, "gone", json!("1h"));
        revoked_token = gone["jwt_token"].as_str().expect("t").to_owned();
        let path = format!("{TOKENS}{}/", gone["jwt_token_id"].as_str().expect("id"));
        assert_eq!(
            client.delete(&path, std::slice::from_ref(&auth)).status,
            200
        );
        json.stop();
    }

    let url = crate::harness::database_url(&server_url, "tl_migrate");
    crate::harness::sql(&server_url, "CREATE DATABASE tl_migrate");
    let folder_arg = folder.display().to_string();
    let migrate = [
        "migrate",
        "--from",
        folder_arg.as_str(),
        "--to",
        url.as_str(),
    ];
    // The folder's audit trail, as the JSON server wrote it (flushed at its stop).
    let trail: Vec<Value> = std::fs::read_to_string(folder.join("audit.jsonl"))
        .expect("audit.jsonl")
        .lines()
        .map(|line| serde_json::from_str(line).expect("an event"))
        .collect();
    let kinds: Vec<&str> = trail.iter().filter_map(|e| e["kind"].as_str()).collect();
    for kind in ["user_added", "token_created", "token_deleted"] {
        assert!(kinds.contains(&kind), "{kind} in {trail:?}");
    }
    let (ok, out, err) = crate::harness::run_cli_with(&folder, &none, &migrate, "");
    assert!(ok, "{err}");
    assert!(
        out.contains(&format!(
            "migrated 2 users, 4 tokens, 1 revoked ids, 1 keys and {} audit events from",
            trail.len()
        )),
        "{out}"
    );
    // A second run refuses to merge, unless asked; merged, it adds no event twice.
    let (ok, _, err) = crate::harness::run_cli_with(&folder, &none, &migrate, "");
    assert!(!ok && err.contains("--merge"), "{err}");
    let merge: Vec<&str> = migrate.iter().copied().chain(["--merge"]).collect();
    let (ok, out, err) = crate::harness::run_cli_with(&folder, &none, &merge, "");
    assert!(ok, "{err}");
    assert!(
        out.contains(&format!(
            "1 keys and 0 audit events ({} already present) from",
            trail.len()
        )),
        "{out}"
    );
    let copied = crate::harness::sql(&url, "SELECT count(*) FROM audit_log");
    assert_eq!(copied, vec![vec![trail.len().to_string()]]);

    let server = crate::harness::Server::start_on(&url, &data.join("unused"), &["--alg", "EdDSA"]);
    assert_eq!(server.admin_password, None);
    let client = server.client();
    for token in &tokens {
        assert_eq!(
            client.get("/api/v1alpha/whoami", &[bearer(token)]).status,
            200
        );
    }
    assert_eq!(
        client
            .get("/api/v1alpha/whoami", &[bearer(&revoked_token)])
            .code(),
        "token_revoked"
    );
    // The Specter PBKDF2 password came as it was and still signs in.
    assert_eq!(
        client
            .get(TOKENS, &[basic("specter", "specter-password-1")])
            .status,
        200
    );
    let list = client.get(TOKENS, std::slice::from_ref(&auth)).json();
    assert_eq!(list["jwt_tokens"].as_object().map(|m| m.len()), Some(2));
    // The last use came along, in list and get, with its address.
    for key in ["jwt_token_last_used", "jwt_token_last_used_from"] {
        assert_eq!(list["jwt_tokens"][&used_id][key], used_detail[key], "{key}");
    }
    let detail = client
        .get(&format!("{TOKENS}{used_id}"), std::slice::from_ref(&auth))
        .json();
    assert_eq!(
        detail["jwt_token_last_used"],
        used_detail["jwt_token_last_used"]
    );
    // Every event of the folder's trail is on PostgreSQL as it was, once.
    // (Specter's user is the administrator here.)
    let page = client.get(
        "/api/v1alpha/audit?limit=1000",
        &[basic("specter", "specter-password-1")],
    );
    assert_eq!(page.status, 200);
    let events = page.json()["events"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    for event in &trail {
        let found = events.iter().filter(|e| *e == event).count();
        assert_eq!(found, 1, "{event} in {events:?}");
    }
    let on_pg = ["--store".to_owned(), url.clone()];
    let (ok, out, err) = crate::harness::run_cli_with(&folder, &on_pg, &["audit"], "");
    assert!(ok, "{err}");
    assert!(out.contains(&format!("admin/{used_id}")), "{out}");
    let (ok, _, err) = crate::harness::run_cli_with(
        &folder,
        &none,
        &["migrate", "--from", "/no/such/folder", "--to", url.as_str()],
        "",
    );
    assert!(!ok && err.contains("/no/such/folder"), "{err}");
}
