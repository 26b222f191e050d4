//! Last use (issue 16): each token records when and from where it was last accepted,
//! at most once a minute, written in batches by a background task (every 5 s). Every test
//! runs on both stores (see the harness) except where it says it is about the JSON files.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::harness::{Client, Server, TempDir, basic, bearer, run_cli};

const TOKENS: &str = "/api/v1alpha/token/";
const WHOAMI: &str = "/api/v1alpha/whoami";

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// The token `id`'s detail answer.
fn detail(client: &Client, auth: &(String, String), id: &str) -> Value {
    let response = client.get(&format!("{TOKENS}{id}"), std::slice::from_ref(auth));
    assert_eq!(response.status, 200);
    response.json()
}

/// Waits (up to 30 s: the flush runs every 5 s) for the token's last use to be recorded.
fn wait_for_use(client: &Client, auth: &(String, String), id: &str) -> Value {
    let start = Instant::now();
    loop {
        let body = detail(client, auth, id);
        if !body["jwt_token_last_used"].is_null() {
            return body;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "the use was not recorded in 30 s: {body}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn start() -> (TempDir, std::path::PathBuf, Server, (String, String)) {
    let data = TempDir::new("last-use");
    let dir = data.join("data");
    let server = Server::start(&dir, &[]);
    let auth = basic("admin", server.admin_password.as_deref().expect("password"));
    (data, dir, server, auth)
}

#[test]
fn last_use_is_null_before_any_use_and_set_after_a_whoami() {
    let (_data, _dir, server, auth) = start();
    let client = server.client();
    let created = client.create(&auth, "used", json!("1 day"));
    let id = created["jwt_token_id"].as_str().expect("id").to_owned();
    let token = created["jwt_token"].as_str().expect("token").to_owned();
    let other = client.create(&auth, "unused", json!("1 day"));
    let other_id = other["jwt_token_id"].as_str().expect("id").to_owned();

    let body = detail(&client, &auth, &id);
    assert_eq!(body["jwt_token_last_used"], Value::Null, "{body}");
    assert_eq!(body["jwt_token_last_used_from"], Value::Null, "{body}");
    let list = client.get(TOKENS, std::slice::from_ref(&auth)).json();
    assert_eq!(list["jwt_tokens"][&id]["jwt_token_last_used"], Value::Null);
    assert_eq!(
        list["jwt_tokens"][&id]["jwt_token_last_used_from"],
        Value::Null
    );

    // A refused request is not a use.
    let refused = client.get(WHOAMI, &[bearer(&format!("{token}x"))]);
    assert_eq!(refused.status, 401);

    let before = now();
    assert_eq!(client.get(WHOAMI, &[bearer(&token)]).status, 200);
    let after = now();
    let body = wait_for_use(&client, &auth, &id);
    let at = body["jwt_token_last_used"].as_i64().expect("seconds");
    assert!(
        (before..=after).contains(&at),
        "{at} not in {before}..={after}"
    );
    assert_eq!(body["jwt_token_last_used_from"], "127.0.0.1");
    // Specter's members are all still there.
    for member in [
        "jwt_token_description",
        "jwt_token_life",
        "jwt_token_life_remaining",
    ] {
        assert!(body.get(member).is_some(), "{member} missing: {body}");
    }

    let list = client.get(TOKENS, std::slice::from_ref(&auth)).json();
    assert_eq!(list["jwt_tokens"][&id]["jwt_token_last_used"], at);
    assert_eq!(
        list["jwt_tokens"][&id]["jwt_token_last_used_from"],
        "127.0.0.1"
    );
    assert_eq!(
        list["jwt_tokens"][&other_id]["jwt_token_last_used"],
        Value::Null
    );
    // The administrators' list shows it too (the first user is an administrator).
    let admin = client.get("/api/v1alpha/admin/tokens", std::slice::from_ref(&auth));
    assert_eq!(admin.status, 200);
    let admin = admin.json();
    let entry = |wanted: &str| {
        admin["jwt_tokens"]
            .as_array()
            .and_then(|all| all.iter().find(|t| t["jwt_token_id"] == wanted))
            .cloned()
            .unwrap_or_else(|| panic!("{wanted} not in {admin}"))
    };
    assert_eq!(entry(&id)["jwt_token_last_used"], at);
    assert_eq!(entry(&id)["jwt_token_last_used_from"], "127.0.0.1");
    assert_eq!(entry(&other_id)["jwt_token_last_used"], Value::Null);
    assert_eq!(entry(&other_id)["jwt_token_last_used_from"], Value::Null);
}

#[test]
fn forward_auth_is_a_use_too() {
    let (_data, _dir, server, auth) = start();
    let client = server.client();
    let created = client.create(&auth, "proxy", json!("1 day"));
    let id = created["jwt_token_id"].as_str().expect("id").to_owned();
    let token = created["jwt_token"].as_str().expect("token").to_owned();
    assert_eq!(
        client.get("/api/v1alpha/auth", &[bearer(&token)]).status,
        200
    );
    let body = wait_for_use(&client, &auth, &id);
    assert_eq!(body["jwt_token_last_used_from"], "127.0.0.1");
}

#[test]
fn a_token_used_again_within_the_minute_is_not_written_again() {
    let (_data, dir, server, auth) = start();
    let client = server.client();
    let created = client.create(&auth, "busy", json!("1 day"));
    let id = created["jwt_token_id"].as_str().expect("id").to_owned();
    let token = created["jwt_token"].as_str().expect("token").to_owned();
    assert_eq!(client.get(WHOAMI, &[bearer(&token)]).status, 200);
    let first = wait_for_use(&client, &auth, &id)["jwt_token_last_used"].clone();
    // Uses spread over more than two flushes, each at least a second after the first.
    std::thread::sleep(Duration::from_millis(1100));
    for _ in 0..12 {
        assert_eq!(client.get(WHOAMI, &[bearer(&token)]).status, 200);
        std::thread::sleep(Duration::from_millis(500));
    }
    // Time for one more flush after the last use.
    std::thread::sleep(Duration::from_secs(7));
    let body = detail(&client, &auth, &id);
    assert_eq!(
        body["jwt_token_last_used"], first,
        "a use within the minute was written: {body}"
    );
    if !crate::harness::on_postgres() {
        // One journal line recorded the use, however many requests there were.
        let journal = std::fs::read_to_string(dir.join("users.journal")).expect("journal");
        let touches = journal
            .lines()
            .filter(|line| line.contains(r#""op":"touch""#))
            .count();
        assert_eq!(touches, 1, "{journal}");
    }
}

#[test]
fn last_use_survives_a_restart_and_a_stop_writes_what_waits() {
    let (_data, dir, server, auth) = start();
    let client = server.client();
    let created = client.create(&auth, "kept", json!("1 day"));
    let id = created["jwt_token_id"].as_str().expect("id").to_owned();
    let token = created["jwt_token"].as_str().expect("token").to_owned();
    let before = now();
    assert_eq!(client.get(WHOAMI, &[bearer(&token)]).status, 200);
    // Stopped at once: the use waits in memory, and the stop writes it.
    server.stop();

    let server = Server::start(&dir, &[]);
    let body = detail(&server.client(), &auth, &id);
    let at = body["jwt_token_last_used"]
        .as_i64()
        .expect("recorded at the stop");
    assert!(at >= before, "{body}");
    assert_eq!(body["jwt_token_last_used_from"], "127.0.0.1");
    server.stop();

    // The CLI shows it, one line per token.
    let (ok, out, err) = run_cli(&dir, &["token", "list", "admin"], "");
    assert!(ok, "{err}");
    let line = out
        .lines()
        .find(|line| line.starts_with(&id))
        .unwrap_or_else(|| panic!("no line for {id}: {out}"));
    assert!(line.contains("\tkept\tValid\t"), "{line}");
    assert!(line.ends_with("from 127.0.0.1"), "{line}");
    let (ok, _, err) = run_cli(&dir, &["token", "list", "nobody"], "");
    assert!(!ok);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("no user named nobody"), "{err}");
}

/// About users.json itself: JSON store only.
#[test]
#[cfg_attr(tokenlife_test_pg, ignore = "about the JSON files: JSON store only")]
fn users_json_keeps_the_last_use_beside_specters_members() {
    let (_data, dir, server, auth) = start();
    let client = server.client();
    let created = client.create(&auth, "folded", json!("1 day"));
    let id = created["jwt_token_id"].as_str().expect("id").to_owned();
    let token = created["jwt_token"].as_str().expect("token").to_owned();
    assert_eq!(client.get(WHOAMI, &[bearer(&token)]).status, 200);
    wait_for_use(&client, &auth, &id);
    server.stop();
    let users = crate::harness::read_users_json(&dir);
    let record = &users[0]["jwt_tokens"][&id];
    assert!(record["jwt_token_last_used"].is_i64(), "{record}");
    assert_eq!(record["jwt_token_last_used_from"], "127.0.0.1");
    // A reader of Specter's layout (as Specter's UserManager reads users.json: the user's
    // members and each token's description and life by name) still reads the file.
    let script = r#"
import json, sys
users = json.load(open(sys.argv[1]))
for user in users:
    assert isinstance(user["id"], str) and isinstance(user["username"], str)
    for token_id, token in user.get("jwt_tokens", {}).items():
        print(user["username"], token_id, token["jwt_token_description"], token["jwt_token_life"])
"#;
    let output = std::process::Command::new("python3")
        .args(["-c", script])
        .arg(dir.join("users.json"))
        .output()
        .expect("python3");
    assert!(output.status.success(), "{output:?}");
    let printed = String::from_utf8_lossy(&output.stdout);
    assert!(
        printed.contains(&format!("admin {id} folded 86400")),
        "{printed}"
    );
}
