//! Storage (SPEC 4): restarts, concurrency, crashes, two processes on one folder, modes.
//! Every test runs on both stores (see the harness) except where it says it is about the
//! JSON files themselves.

use std::collections::{HashMap, HashSet};
use std::os::unix::fs::PermissionsExt;
use std::sync::{Arc, Mutex};

use serde_json::json;

use crate::harness::{Server, TempDir, basic, bearer, on_postgres, read_users_json};

const TOKENS: &str = "/api/v1alpha/token/";

/// About the JSON file itself: JSON store only.
#[test]
#[cfg_attr(tokenlife_test_pg, ignore = "about the JSON files: JSON store only")]
fn users_json_is_complete_from_the_first_start_and_after_a_stop() {
    let data = TempDir::new("users-json");
    let dir = data.join("data");
    let server = Server::start(&dir, &[]);
    // The first start wrote the admin into users.json, not only into the journal.
    assert_eq!(read_users_json(&dir)[0]["username"], "admin");
    let password = server.admin_password.clone().expect("admin password");
    let created = server
        .client()
        .create(&basic("admin", &password), "folded", json!("1 hour"));
    let id = created["jwt_token_id"].as_str().expect("id").to_owned();
    server.stop();
    // A clean stop folds the journal in: users.json alone holds the token.
    let users = read_users_json(&dir);
    assert_eq!(
        users[0]["jwt_tokens"][&id]["jwt_token_description"],
        "folded"
    );
    let journal = std::fs::metadata(dir.join("users.journal")).map_or(0, |m| m.len());
    assert_eq!(journal, 0, "the journal is empty after a clean stop");
}

#[test]
fn tokens_and_keys_survive_a_restart() {
    let data = TempDir::new("restart");
    let dir = data.join("data");
    let server = Server::start(&dir, &[]);
    let password = server.admin_password.clone().expect("admin password");
    let auth = basic("admin", &password);
    let created = server.client().create(&auth, "kept", json!("1 day"));
    let token = created["jwt_token"].as_str().expect("token").to_owned();
    server.stop();

    let server = Server::start(&dir, &[]);
    assert_eq!(
        server.admin_password, None,
        "the admin password is printed once only"
    );
    let client = server.client();
    let response = client.get("/api/v1alpha/whoami", &[bearer(&token)]);
    assert_eq!(
        response.status,
        200,
        "{:?}",
        String::from_utf8_lossy(&response.body)
    );
    assert_eq!(response.json()["jwt_token_description"], "kept");
    assert_eq!(
        client.get(TOKENS, &[auth]).json()["jwt_tokens"]
            .as_object()
            .map(|m| m.len()),
        Some(1)
    );
    server.stop();
}

#[test]
#[cfg_attr(tokenlife_test_pg, ignore = "about the JSON files: JSON store only")]
fn the_data_folder_is_private_and_in_specters_layout() {
    let data = TempDir::new("layout");
    let dir = data.join("data");
    let server = Server::start(&dir, &[]);
    let password = server.admin_password.clone().expect("admin password");
    server
        .client()
        .create(&basic("admin", &password), "kept", json!("1 day"));
    server.stop();

    // Folder 0700, files 0600.
    let mode = |path: &std::path::Path| {
        std::fs::metadata(path).expect("stat").permissions().mode() & 0o777
    };
    assert_eq!(mode(&dir), 0o700);
    for entry in std::fs::read_dir(&dir).expect("read_dir") {
        let path = entry.expect("entry").path();
        assert_eq!(mode(&path), 0o600, "{}", path.display());
    }
    // users.json is Specter's layout without raw tokens.
    let users = read_users_json(&dir);
    let admin = &users[0];
    assert_eq!(admin["username"], "admin");
    assert_eq!(admin["is_admin"], true);
    assert!(admin["id"].is_string());
    assert!(
        admin["password"]
            .as_str()
            .is_some_and(|p| p.starts_with("$argon2id$"))
    );
    let record = admin["jwt_tokens"]
        .as_object()
        .and_then(|m| m.values().next())
        .expect("a record");
    assert_eq!(record["jwt_token_description"], "kept");
    assert_eq!(record["jwt_token_life"], 86400);
    assert!(record.get("jwt_token").is_none());
}

#[test]
fn a_hundred_concurrent_creates_are_all_kept() {
    let data = TempDir::new("concurrent");
    let dir = data.join("data");
    let server = Server::start(&dir, &[]);
    let auth = basic("admin", server.admin_password.as_deref().expect("password"));
    let client = server.client();
    // One sign-in first, so that the threads share the cached check.
    assert_eq!(client.get(TOKENS, std::slice::from_ref(&auth)).status, 404);
    let ids: Vec<String> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..100)
            .map(|i| {
                let auth = auth.clone();
                scope.spawn(move || {
                    client.create(&auth, &format!("parallel {i}"), json!("1h"))["jwt_token_id"]
                        .as_str()
                        .expect("id")
                        .to_owned()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("thread"))
            .collect()
    });
    let listed = client.get(TOKENS, std::slice::from_ref(&auth)).json();
    let listed = listed["jwt_tokens"].as_object().expect("tokens");
    assert_eq!(listed.len(), 100);
    for id in &ids {
        assert!(listed.contains_key(id));
    }
    server.stop();
    let server = Server::start(&dir, &[]);
    let listed = server.client().get(TOKENS, &[auth]).json();
    assert_eq!(listed["jwt_tokens"].as_object().map(|m| m.len()), Some(100));
}

/// Creates and deletes that race each other are judged one at a time, as if sent in turn
/// (PostgreSQL commits them in groups: a group must not blur who came first).
#[test]
fn racing_creates_of_one_description_and_deletes_of_one_token_win_once() {
    let data = TempDir::new("racing");
    let dir = data.join("data");
    let server = Server::start(&dir, &[]);
    let auth = basic("admin", server.admin_password.as_deref().expect("password"));
    let client = server.client();
    assert_eq!(client.get(TOKENS, std::slice::from_ref(&auth)).status, 404);
    // 40 creates of "same" (half of them scoped), 40 of distinct descriptions, at once.
    let answers: Vec<(bool, u16, String)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..80)
            .map(|i| {
                let auth = auth.clone();
                scope.spawn(move || {
                    let same = i % 2 == 0;
                    let mut body = json!({
                        "jwt_token_description": if same { "same".to_owned() } else { format!("own {i}") },
                        "jwt_token_life": "1h",
                    });
                    if i % 4 < 2 {
                        body["jwt_token_endpoints"] = json!(["/api/v1alpha/whoami"]);
                    }
                    let response = client.post_json(TOKENS, std::slice::from_ref(&auth), &body);
                    let code = if response.status == 201 {
                        response.json()["jwt_token_id"].as_str().expect("id").to_owned()
                    } else {
                        response.code()
                    };
                    (same, response.status, code)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("thread"))
            .collect()
    });
    let same: Vec<_> = answers.iter().filter(|a| a.0).collect();
    let made: Vec<_> = same.iter().filter(|a| a.1 == 201).collect();
    assert_eq!(made.len(), 1, "one create of a description wins: {same:?}");
    for (_, status, code) in same.iter().filter(|a| a.1 != 201) {
        assert_eq!((*status, code.as_str()), (400, "duplicate_description"));
    }
    assert!(
        answers.iter().filter(|a| !a.0).all(|a| a.1 == 201),
        "{answers:?}"
    );
    let listed = client.get(TOKENS, std::slice::from_ref(&auth)).json();
    assert_eq!(listed["jwt_tokens"].as_object().map(|m| m.len()), Some(41));
    // 20 deletes of the winner at once: one finds it.
    let path = format!("{TOKENS}{}/", made[0].2);
    let statuses: Vec<u16> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..20)
            .map(|_| {
                let (auth, path) = (auth.clone(), path.clone());
                scope.spawn(move || client.delete(&path, &[auth]).status)
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("thread"))
            .collect()
    });
    assert_eq!(
        statuses.iter().filter(|&&s| s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|&&s| s == 404).count(),
        19,
        "{statuses:?}"
    );
    let revoked = client.get("/api/v1alpha/revoked", &[]).json();
    assert_eq!(
        revoked["revoked"][0]["jwt_token_id"].as_str(),
        Some(made[0].2.as_str())
    );
}

/// A create that fails a constraint inside a group (as a create does when its user was
/// removed meanwhile) fails alone: the group is written again one create at a time.
#[test]
#[cfg_attr(
    not(tokenlife_test_pg),
    ignore = "PostgreSQL only: scripts/with-postgres.sh runs it"
)]
fn a_create_that_fails_in_a_group_fails_alone() {
    let data = TempDir::new("poison");
    let dir = data.join("data");
    let server = Server::start(&dir, &[]);
    let auth = basic("admin", server.admin_password.as_deref().expect("password"));
    let client = server.client();
    assert_eq!(client.get(TOKENS, std::slice::from_ref(&auth)).status, 404);
    // The description "poison" fails as an insert of a user that is gone would.
    let url = crate::harness::store_args(&dir).pop().expect("url");
    crate::harness::sql(
        &url,
        "CREATE FUNCTION poison() RETURNS trigger LANGUAGE plpgsql AS \
         $$ BEGIN IF NEW.description = 'poison' THEN \
         RAISE foreign_key_violation USING MESSAGE = 'no such user'; END IF; \
         RETURN NEW; END $$; \
         CREATE TRIGGER poison BEFORE INSERT ON tokens FOR EACH ROW EXECUTE FUNCTION poison()",
    );
    for round in 0..3 {
        let statuses: Vec<(usize, u16)> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..40)
                .map(|i| {
                    let auth = auth.clone();
                    scope.spawn(move || {
                        let description = if i == 20 {
                            "poison".to_owned()
                        } else {
                            format!("r{round} {i}")
                        };
                        let body =
                            json!({"jwt_token_description": description, "jwt_token_life": "1h"});
                        (i, client.post_json(TOKENS, &[auth], &body).status)
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("thread"))
                .collect()
        });
        for (i, status) in statuses {
            let expected = if i == 20 { 401 } else { 201 };
            assert_eq!(status, expected, "round {round}, create {i}");
        }
    }
    let listed = client.get(TOKENS, std::slice::from_ref(&auth)).json();
    assert_eq!(listed["jwt_tokens"].as_object().map(|m| m.len()), Some(117));
}

#[test]
fn kill_9_loses_no_acknowledged_token() {
    let data = TempDir::new("kill9");
    let dir = data.join("data");
    let server = Server::start(&dir, &[]);
    let auth = basic("admin", server.admin_password.as_deref().expect("password"));
    let client = server.client();
    assert_eq!(client.get(TOKENS, std::slice::from_ref(&auth)).status, 404);
    let acknowledged = Arc::new(Mutex::new(HashMap::new()));
    let workers: Vec<_> = (0..8)
        .map(|worker| {
            let auth = auth.clone();
            let acknowledged = Arc::clone(&acknowledged);
            std::thread::spawn(move || {
                for i in 0..10_000 {
                    let body = json!({"jwt_token_description": format!("w{worker} n{i}"), "jwt_token_life": "1h"});
                    let json_type = ("Content-Type".to_string(), "application/json".to_string());
                    let bytes = body.to_string();
                    let response =
                        client.try_send("POST", TOKENS, &[auth.clone(), json_type], Some(bytes.as_bytes()));
                    match response {
                        Some(response) if response.status == 201 => {
                            let body = response.json();
                            let id = body["jwt_token_id"].as_str().expect("id").to_owned();
                            let token = body["jwt_token"].as_str().expect("token").to_owned();
                            acknowledged.lock().expect("lock").insert(id, token);
                        }
                        _ => break,
                    }
                }
            })
        })
        .collect();
    // Let a stream of creates run, then kill the server in the middle of it.
    let start = std::time::Instant::now();
    while acknowledged.lock().expect("lock").len() < 300 && start.elapsed().as_secs() < 60 {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    server.kill9();
    for worker in workers {
        let _ = worker.join();
    }
    let acknowledged = acknowledged.lock().expect("lock").clone();
    assert!(
        acknowledged.len() >= 300,
        "only {} creates before the kill",
        acknowledged.len()
    );

    let server = Server::start(&dir, &[]);
    let listed = server.client().get(TOKENS, &[auth]).json();
    let listed: HashSet<String> = listed["jwt_tokens"]
        .as_object()
        .expect("tokens")
        .keys()
        .cloned()
        .collect();
    let stored = if on_postgres() {
        listed
    } else {
        // The start folded the journal into a complete users.json.
        let users = read_users_json(&dir);
        let stored: HashSet<String> = users[0]["jwt_tokens"]
            .as_object()
            .expect("tokens")
            .keys()
            .cloned()
            .collect();
        assert_eq!(stored, listed);
        stored
    };
    let missing: Vec<_> = acknowledged
        .keys()
        .filter(|id| !stored.contains(*id))
        .collect();
    assert!(
        missing.is_empty(),
        "{} acknowledged tokens lost: {missing:?}",
        missing.len()
    );
    // And every acknowledged token still works.
    let client = server.client();
    for token in acknowledged.values() {
        let response = client.get("/api/v1alpha/whoami", &[bearer(token)]);
        assert_eq!(
            response.status,
            200,
            "{}",
            String::from_utf8_lossy(&response.body)
        );
    }
}

#[test]
fn two_servers_on_one_folder_see_each_other() {
    let data = TempDir::new("two");
    let dir = data.join("data");
    let a = Server::start(&dir, &[]);
    let b = Server::start(&dir, &[]);
    assert_eq!(b.admin_password, None, "one admin for the folder");
    let auth = basic("admin", a.admin_password.as_deref().expect("password"));
    let (ca, cb) = (a.client(), b.client());
    let created = ca.create(&auth, "from a", json!("1h"));
    let id = created["jwt_token_id"].as_str().expect("id");
    let token = created["jwt_token"].as_str().expect("token");
    // b sees a's token at once, and refuses a duplicate description.
    assert_eq!(
        cb.get(&format!("{TOKENS}{id}/"), std::slice::from_ref(&auth))
            .status,
        200
    );
    assert_eq!(cb.get("/api/v1alpha/whoami", &[bearer(token)]).status, 200);
    let response = cb.post_json(
        TOKENS,
        std::slice::from_ref(&auth),
        &json!({"jwt_token_description": "from a", "jwt_token_life": "1h"}),
    );
    assert_eq!(response.status, 400);
    // Concurrent creates on both never lose one.
    std::thread::scope(|scope| {
        for (client, name) in [(ca, "a"), (cb, "b")] {
            let auth = auth.clone();
            scope.spawn(move || {
                for i in 0..40 {
                    client.create(&auth, &format!("{name} {i}"), json!("1h"));
                }
            });
        }
    });
    for client in [ca, cb] {
        let listed = client.get(TOKENS, std::slice::from_ref(&auth)).json();
        assert_eq!(listed["jwt_tokens"].as_object().map(|m| m.len()), Some(81));
    }
    // A delete on b revokes on a at its next request.
    assert_eq!(
        cb.delete(&format!("{TOKENS}{id}/"), std::slice::from_ref(&auth))
            .status,
        200
    );
    assert_eq!(
        ca.get("/api/v1alpha/whoami", &[bearer(token)]).code(),
        "token_revoked"
    );
}

/// About the JSON file itself: JSON store only.
#[test]
#[cfg_attr(tokenlife_test_pg, ignore = "about the JSON files: JSON store only")]
fn a_corrupt_users_json_stops_the_start_and_is_kept() {
    let data = TempDir::new("corrupt");
    let dir = data.join("data");
    std::fs::create_dir_all(&dir).expect("mkdir");
    let text = "[\n  {\"id\": \"admin\",\n    \"username\": oops\n  }\n]\n";
    std::fs::write(dir.join("users.json"), text).expect("write");
    let (ok, _, err) = crate::harness::run_cli(&dir, &["serve", "--listen", "127.0.0.1:0"], "");
    assert!(!ok);
    assert!(err.contains("users.json"), "{err}");
    assert!(err.contains("line 3"), "{err}");
    assert!(err.contains("column"), "{err}");
    assert_eq!(
        std::fs::read_to_string(dir.join("users.json")).expect("read"),
        text
    );
    let (ok, _, err) = crate::harness::run_cli(&dir, &["user", "list"], "");
    assert!(!ok && err.contains("users.json"), "{err}");
}
