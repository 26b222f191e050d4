//! Issue 16's admin view, token policy and regenerate, on whichever store the suite runs.

use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use crate::harness::{Client, Server, TempDir, basic, bearer, run_cli};

const TOKENS: &str = "/api/v1alpha/token/";
const ADMIN_TOKENS: &str = "/api/v1alpha/admin/tokens";

fn add_user(data: &Path, name: &str, admin: bool) -> (String, String) {
    let password = format!("{name}-password");
    let mut args = vec!["user", "add", name];
    if admin {
        args.push("--admin");
    }
    let (ok, _, err) = run_cli(data, &args, &format!("{password}\n"));
    assert!(ok, "user add {name}: {err}");
    basic(name, &password)
}

fn create(client: &Client, auth: &(String, String), body: &Value) -> crate::harness::Response {
    client.post_json(TOKENS, std::slice::from_ref(auth), body)
}

fn regenerate(client: &Client, auth: &(String, String), id: &str) -> crate::harness::Response {
    client.send(
        "POST",
        &format!("{TOKENS}{id}/regenerate"),
        std::slice::from_ref(auth),
        None,
    )
}

fn whoami(client: &Client, token: &str) -> crate::harness::Response {
    client.get("/api/v1alpha/whoami", &[bearer(token)])
}

/// The claims of a token, read without checking it.
fn claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).expect("payload");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("base64url")).expect("json")
}

fn str_of<'a>(value: &'a Value, key: &str) -> &'a str {
    value[key]
        .as_str()
        .unwrap_or_else(|| panic!("{key} in {value}"))
}

#[test]
fn regenerate_replaces_a_token_and_refuses_the_old_one_at_once() {
    let dir = TempDir::new("regenerate");
    let data = dir.join("data");
    let server = Server::start(&data, &[]);
    let alice = add_user(&data, "alice", false);
    let bob = add_user(&data, "bob", false);
    let client = server.client();

    let scopes = json!(["GET /api/v1alpha/whoami", "GET /api/v1alpha/wallets/*"]);
    let response = create(
        &client,
        &alice,
        &json!({"jwt_token_description": "deploy", "jwt_token_life": "2 hours",
                "jwt_token_endpoints": scopes}),
    );
    assert_eq!(response.status, 201);
    let old = response.json();
    let old_id = str_of(&old, "jwt_token_id").to_owned();
    let old_token = str_of(&old, "jwt_token").to_owned();
    assert_eq!(whoami(&client, &old_token).status, 200);

    // Only the owner regenerates; others and strangers see nothing.
    let response = regenerate(&client, &bob, &old_id);
    assert_eq!(
        (response.status, response.code()),
        (404, "token_not_found".into())
    );
    let response = client.send("POST", &format!("{TOKENS}{old_id}/regenerate"), &[], None);
    assert_eq!(response.status, 401);
    let response = regenerate(&client, &alice, "00000000-0000-4000-8000-000000000000");
    assert_eq!(
        (response.status, response.code()),
        (404, "token_not_found".into())
    );
    assert_eq!(whoami(&client, &old_token).status, 200);

    let response = regenerate(&client, &alice, &old_id);
    assert_eq!(response.status, 201);
    let new = response.json();
    assert_eq!(new["message"], "Token regenerated");
    assert_eq!(new["jwt_token_description"], "deploy");
    assert_eq!(new["jwt_token_life"], 7200);
    let new_id = str_of(&new, "jwt_token_id").to_owned();
    let new_token = str_of(&new, "jwt_token").to_owned();
    assert_ne!(new_id, old_id);
    assert_ne!(new_token, old_token);
    let (before, after) = (claims(&old_token), claims(&new_token));
    assert_eq!(after["jwt_token_endpoints"], scopes);
    assert_eq!(after["jwt_token_description"], "deploy");
    assert_eq!(
        after["exp"].as_i64().expect("exp") - after["iat"].as_i64().expect("iat"),
        7200
    );
    assert!(after["iat"].as_i64() >= before["iat"].as_i64());

    // The old token is refused at once, the new one works, the list holds only the new.
    let response = whoami(&client, &old_token);
    assert_eq!(
        (response.status, response.code()),
        (401, "token_revoked".into())
    );
    let response = whoami(&client, &new_token);
    assert_eq!(response.status, 200);
    assert_eq!(response.json()["jwt_token_id"], new_id.as_str());
    let list = client.get(TOKENS, std::slice::from_ref(&alice)).json();
    let ids: Vec<&String> = list["jwt_tokens"]
        .as_object()
        .expect("map")
        .keys()
        .collect();
    assert_eq!(ids, [&new_id]);
    let got = client
        .get(&format!("{TOKENS}{new_id}/"), std::slice::from_ref(&alice))
        .json();
    assert_eq!(
        (
            got["jwt_token_description"].clone(),
            got["jwt_token_life"].clone()
        ),
        (json!("deploy"), json!(7200))
    );
    let revoked = client.get("/api/v1alpha/revoked", &[]).json();
    assert!(
        revoked["revoked"]
            .as_array()
            .expect("list")
            .iter()
            .any(|r| r["jwt_token_id"] == old_id.as_str())
    );

    // Regenerated once: the old id is gone.
    let response = regenerate(&client, &alice, &old_id);
    assert_eq!(
        (response.status, response.code()),
        (404, "token_not_found".into())
    );
    let response = client.send(
        "GET",
        &format!("{TOKENS}{new_id}/regenerate"),
        std::slice::from_ref(&alice),
        None,
    );
    assert_eq!(response.status, 405);
    assert_eq!(response.header("allow"), Some("POST"));

    // After a restart: the store kept the change whole.
    server.stop();
    let server = Server::start(&data, &[]);
    let client = server.client();
    assert_eq!(whoami(&client, &old_token).code(), "token_revoked");
    assert_eq!(whoami(&client, &new_token).status, 200);
    server.stop();
}

#[test]
fn admins_list_and_revoke_every_users_tokens_and_others_get_403() {
    let dir = TempDir::new("admin-view");
    let data = dir.join("data");
    let server = Server::start(&data, &[]);
    let carol = add_user(&data, "carol", true);
    let bob = add_user(&data, "bob", false);
    let client = server.client();
    let bob_token = client.create(&bob, "bob's", json!("1h"));
    let carol_token = client.create(&carol, "carol's", json!("1h"));
    let bob_id = str_of(&bob_token, "jwt_token_id").to_owned();

    // Not an admin: 403 forbidden, whatever the request; no credentials: 401.
    for response in [
        client.get(ADMIN_TOKENS, std::slice::from_ref(&bob)),
        client.get(
            &format!("{ADMIN_TOKENS}?user=bob"),
            std::slice::from_ref(&bob),
        ),
        client.delete(
            &format!("/api/v1alpha/admin/token/bob/{bob_id}"),
            std::slice::from_ref(&bob),
        ),
    ] {
        assert_eq!(
            (response.status, response.code()),
            (403, "forbidden".into())
        );
        assert!(!response.message().is_empty());
    }
    assert_eq!(client.get(ADMIN_TOKENS, &[]).status, 401);
    assert_eq!(
        client.get(ADMIN_TOKENS, &[basic("carol", "wrong")]).status,
        401
    );

    let list = client.get(ADMIN_TOKENS, std::slice::from_ref(&carol));
    assert_eq!(list.status, 200);
    let list = list.json();
    let rows: Vec<(&str, &str, &str)> = list["jwt_tokens"]
        .as_array()
        .expect("list")
        .iter()
        .map(|t| {
            (
                str_of(t, "username"),
                str_of(t, "jwt_token_id"),
                str_of(t, "jwt_token_description"),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            ("bob", bob_id.as_str(), "bob's"),
            ("carol", str_of(&carol_token, "jwt_token_id"), "carol's")
        ]
    );
    assert_eq!(list["jwt_tokens"][0]["expiry_status"], "Valid");
    assert_eq!(list["jwt_tokens"][0]["jwt_token_life"], 3600);

    let only = client
        .get(
            &format!("{ADMIN_TOKENS}?user=bob"),
            std::slice::from_ref(&carol),
        )
        .json();
    assert_eq!(only["jwt_tokens"].as_array().map(Vec::len), Some(1));
    assert_eq!(only["jwt_tokens"][0]["username"], "bob");
    let response = client.get(
        &format!("{ADMIN_TOKENS}?user=nobody"),
        std::slice::from_ref(&carol),
    );
    assert_eq!(
        (response.status, response.code()),
        (404, "user_not_found".into())
    );
    let response = client.get(
        &format!("{ADMIN_TOKENS}?page=2"),
        std::slice::from_ref(&carol),
    );
    assert_eq!(
        (response.status, response.code()),
        (400, "invalid_query".into())
    );

    // Revoking another user's token: refused at once, as the owner's delete.
    assert_eq!(whoami(&client, str_of(&bob_token, "jwt_token")).status, 200);
    let path = format!("/api/v1alpha/admin/token/bob/{bob_id}");
    let response = client.delete(&path, std::slice::from_ref(&carol));
    assert_eq!(response.status, 200);
    assert_eq!(response.message(), "Token deleted");
    let response = whoami(&client, str_of(&bob_token, "jwt_token"));
    assert_eq!(
        (response.status, response.code()),
        (401, "token_revoked".into())
    );
    let response = client.delete(&path, std::slice::from_ref(&carol));
    assert_eq!(
        (response.status, response.code()),
        (404, "token_not_found".into())
    );
    // The user must be the owner: another user's name finds nothing.
    let carol_id = str_of(&carol_token, "jwt_token_id");
    let response = client.delete(
        &format!("/api/v1alpha/admin/token/bob/{carol_id}"),
        std::slice::from_ref(&carol),
    );
    assert_eq!(response.status, 404);
    assert_eq!(
        whoami(&client, str_of(&carol_token, "jwt_token")).status,
        200
    );
    let response = client.get(&path, std::slice::from_ref(&carol));
    assert_eq!(
        (response.status, response.header("allow")),
        (405, Some("DELETE"))
    );
    server.stop();
}

#[test]
fn policy_refuses_tokens_beyond_the_maximum_and_without_scopes() {
    let dir = TempDir::new("policy");
    let data = dir.join("data");
    // A token without scopes, made before the policy.
    let server = Server::start(&data, &[]);
    let dora = add_user(&data, "dora", false);
    let unscoped = server.client().create(&dora, "unscoped", json!("1h"));
    server.stop();

    let (ok, _, err) = run_cli(&data, &["serve", "--max-tokens-per-user", "0"], "");
    assert!(!ok);
    assert!(err.contains("--max-tokens-per-user"), "{err}");

    // The flags from the environment, as every serve flag.
    let server = Server::start_with_env(
        &data,
        &[],
        &[
            ("TOKENLIFE_MAX_TOKENS_PER_USER", "3"),
            ("TOKENLIFE_REQUIRE_SCOPES", "true"),
        ],
    );
    let client = server.client();
    let scoped = |description: &str, life: &str| {
        json!({"jwt_token_description": description, "jwt_token_life": life,
               "jwt_token_endpoints": ["GET /api/v1alpha/whoami"]})
    };
    let response = create(
        &client,
        &dora,
        &json!({"jwt_token_description": "x", "jwt_token_life": "1h"}),
    );
    assert_eq!(
        (response.status, response.code()),
        (400, "scopes_required".into())
    );
    assert!(
        response.message().contains("--require-scopes"),
        "{}",
        response.message()
    );
    // Regenerating the old unscoped token would make a new one without scopes.
    let response = regenerate(&client, &dora, str_of(&unscoped, "jwt_token_id"));
    assert_eq!(
        (response.status, response.code()),
        (400, "scopes_required".into())
    );

    // dora holds one; two more reach the maximum of 3.
    assert_eq!(create(&client, &dora, &scoped("a", "1h")).status, 201);
    let b = create(&client, &dora, &scoped("b", "1h"));
    assert_eq!(b.status, 201);
    let response = create(&client, &dora, &scoped("c", "1h"));
    assert_eq!(
        (response.status, response.code()),
        (400, "too_many_tokens".into())
    );
    assert!(
        response.message().contains("--max-tokens-per-user"),
        "{}",
        response.message()
    );
    assert!(response.message().contains('3'), "{}", response.message());
    // Regenerating does not add one.
    let b_id = str_of(&b.json(), "jwt_token_id").to_owned();
    let response = regenerate(&client, &dora, &b_id);
    assert_eq!(response.status, 201);
    // Deleting one makes room.
    let response = client.delete(
        &format!("{TOKENS}{}/", str_of(&unscoped, "jwt_token_id")),
        std::slice::from_ref(&dora),
    );
    assert_eq!(response.status, 200);
    assert_eq!(create(&client, &dora, &scoped("c", "1h")).status, 201);
    assert_eq!(
        create(&client, &dora, &scoped("d", "1h")).code(),
        "too_many_tokens"
    );
    // The limit is per user.
    let erin = add_user(&data, "erin", false);
    assert_eq!(create(&client, &erin, &scoped("a", "2s")).status, 201);
    server.stop();

    // Expired tokens do not count.
    let server = Server::start(&data, &["--max-tokens-per-user", "1"]);
    let client = server.client();
    assert_eq!(
        create(&client, &erin, &scoped("b", "1h")).code(),
        "too_many_tokens"
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let list = client.get(TOKENS, std::slice::from_ref(&erin)).json();
        if list["jwt_tokens"]
            .as_object()
            .into_iter()
            .flatten()
            .all(|(_, t)| t["expiry_status"] == "Expired")
        {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the 2s token never expired"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    assert_eq!(
        create(
            &client,
            &erin,
            &json!({"jwt_token_description": "b", "jwt_token_life": "1h"})
        )
        .status,
        201
    );
    server.stop();
}

#[test]
fn racing_creates_on_two_servers_stop_at_the_maximum() {
    const MAX: usize = 4;
    const RACERS: usize = 24;
    let dir = TempDir::new("policy-race");
    let data = dir.join("data");
    let max = MAX.to_string();
    let a = Server::start(&data, &["--max-tokens-per-user", &max]);
    let b = Server::start(&data, &["--max-tokens-per-user", &max]);
    let user = add_user(&data, "racer", false);
    let clients = [a.client(), b.client()];
    // Sign in once on each server first: concurrent first sign-ins of one name take turns
    // in the throttle (429), and the race is about the store's count, not passwords.
    for client in clients {
        assert_eq!(client.get(TOKENS, std::slice::from_ref(&user)).status, 404);
    }
    let barrier = std::sync::Barrier::new(RACERS);
    let statuses: Vec<(u16, String)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..RACERS)
            .map(|i| {
                let (client, user, barrier) = (clients[i % 2], &user, &barrier);
                scope.spawn(move || {
                    barrier.wait();
                    let body =
                        json!({"jwt_token_description": format!("r{i}"), "jwt_token_life": "1h"});
                    let response = create(&client, user, &body);
                    let code = if response.status == 201 {
                        String::new()
                    } else {
                        response.code()
                    };
                    (response.status, code)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("racer"))
            .collect()
    });
    let created = statuses.iter().filter(|(status, _)| *status == 201).count();
    assert_eq!(created, MAX, "{statuses:?}");
    assert!(
        statuses
            .iter()
            .all(|(status, code)| *status == 201 || (*status == 400 && code == "too_many_tokens")),
        "{statuses:?}"
    );
    let list = clients[0].get(TOKENS, std::slice::from_ref(&user)).json();
    assert_eq!(list["jwt_tokens"].as_object().map(|m| m.len()), Some(MAX));
    a.stop();
    b.stop();
}
