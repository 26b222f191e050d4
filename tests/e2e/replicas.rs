//! Several servers on one PostgreSQL database (PostgreSQL only: with the JSON store this
//! is `durability::two_servers_on_one_folder_see_each_other`). Tokens, deletions, users,
//! keys and the sign-in throttle are shared; a database restart under load loses nothing
//! that was acknowledged, answers 503 while the database is away, and heals by itself.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::harness::{Client, Server, TempDir, basic, bearer, run_cli};

const TOKENS: &str = "/api/v1alpha/token/";

#[test]
#[cfg_attr(
    not(tokenlife_test_pg),
    ignore = "PostgreSQL only: scripts/with-postgres.sh runs it"
)]
fn two_replicas_share_tokens_users_keys_and_throttle() {
    let data = TempDir::new("replicas");
    let dir = data.join("data");
    // Both start at once on an empty database: the migrations, the first admin and the
    // keys are made once.
    let (a, b) = std::thread::scope(|scope| {
        let a = scope.spawn(|| Server::start(&dir, &["--alg", "EdDSA"]));
        let b = scope.spawn(|| Server::start(&dir, &["--alg", "EdDSA"]));
        (a.join().expect("a"), b.join().expect("b"))
    });
    let passwords: Vec<&String> = [&a.admin_password, &b.admin_password]
        .into_iter()
        .flatten()
        .collect();
    assert_eq!(passwords.len(), 1, "one admin for the database");
    let auth = basic("admin", passwords[0]);
    let (ca, cb) = (a.client(), b.client());

    // One key, made by the first server, published by both.
    let jwks = ca.get("/.well-known/jwks.json", &[]).json();
    assert_eq!(jwks["keys"].as_array().map(Vec::len), Some(1));
    assert_eq!(cb.get("/.well-known/jwks.json", &[]).json(), jwks);

    // Made on a, used on b; deleted on b, refused on a at once.
    let created = ca.create(&auth, "from a", json!("1h"));
    let id = created["jwt_token_id"].as_str().expect("id");
    let token = created["jwt_token"].as_str().expect("token");
    assert_eq!(ca.get("/api/v1alpha/whoami", &[bearer(token)]).status, 200);
    let response = cb.get("/api/v1alpha/whoami", &[bearer(token)]);
    assert_eq!(response.status, 200);
    assert_eq!(response.json()["jwt_token_id"], id);
    let duplicate = cb.post_json(
        TOKENS,
        std::slice::from_ref(&auth),
        &json!({"jwt_token_description": "from a", "jwt_token_life": "1h"}),
    );
    assert_eq!(duplicate.status, 400);
    assert_eq!(duplicate.code(), "duplicate_description");
    let path = format!("{TOKENS}{id}/");
    assert_eq!(cb.delete(&path, std::slice::from_ref(&auth)).status, 200);
    let refused = ca.get("/api/v1alpha/whoami", &[bearer(token)]);
    assert_eq!(refused.status, 401);
    assert_eq!(refused.code(), "token_revoked");
    let revoked = ca.get("/api/v1alpha/revoked", &[]).json();
    assert_eq!(revoked["revoked"][0]["jwt_token_id"], id);

    // A user added by the CLI signs in on both; a password changed by the CLI is checked
    // afresh on both, although each had the old one cached.
    let (ok, _, err) = run_cli(&dir, &["user", "add", "carol"], "carol-password\n");
    assert!(ok, "{err}");
    let carol = basic("carol", "carol-password");
    for client in [ca, cb] {
        assert_eq!(client.get(TOKENS, std::slice::from_ref(&carol)).status, 404);
    }
    let (ok, _, err) = run_cli(&dir, &["user", "passwd", "carol"], "new-password\n");
    assert!(ok, "{err}");
    for client in [ca, cb] {
        assert_eq!(client.get(TOKENS, std::slice::from_ref(&carol)).status, 401);
        assert_eq!(
            client.get(TOKENS, &[basic("carol", "new-password")]).status,
            404
        );
    }

    // Wrong passwords count across replicas: five spread over both lock the name on both.
    for i in 0..5 {
        let client = if i % 2 == 0 { ca } else { cb };
        assert_eq!(client.get(TOKENS, &[basic("ghost", "guess")]).status, 401);
    }
    for client in [ca, cb] {
        let response = client.get(TOKENS, &[basic("ghost", "guess")]);
        assert_eq!(response.status, 429, "{}", response.message());
        assert!(response.header("retry-after").is_some());
    }

    // Concurrent creates spread over both replicas: none lost, both list them all.
    std::thread::scope(|scope| {
        for (n, client) in [ca, cb, ca, cb].into_iter().enumerate() {
            let auth = auth.clone();
            scope.spawn(move || {
                for i in 0..25 {
                    client.create(&auth, &format!("worker {n} {i}"), json!("1h"));
                }
            });
        }
    });
    for client in [ca, cb] {
        let listed = client.get(TOKENS, std::slice::from_ref(&auth)).json();
        assert_eq!(listed["jwt_tokens"].as_object().map(|m| m.len()), Some(100));
    }
    let (ok, out, _) = run_cli(&dir, &["user", "list"], "");
    assert!(ok && out.contains("admin\tadmin\t100 tokens"), "{out}");

    // A database migrated by a newer tokenlife is refused with a message, not misread.
    let url = crate::harness::store_args(&dir).pop().expect("url");
    crate::harness::sql(
        &url,
        "INSERT INTO schema_migrations (version, name) VALUES (999, 'future')",
    );
    let (ok, _, err) = run_cli(&dir, &["user", "list"], "");
    assert!(!ok && err.contains("newer than this tokenlife"), "{err}");
}

/// A cluster of its own (made by `scripts/with-postgres.sh`), because this test stops
/// it: the other tests share the suite's cluster and run meanwhile.
struct OwnCluster {
    child: Child,
    url: String,
    ctl: String,
}

impl OwnCluster {
    fn start() -> OwnCluster {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/with-postgres.sh");
        let mut child = Command::new("bash")
            .arg(script)
            .args([
                "sh",
                "-c",
                "echo \"$TOKENLIFE_TEST_PG $TOKENLIFE_TEST_PG_CTL\"; read line",
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("with-postgres.sh");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("the cluster's address");
        let (url, ctl) = line.trim().split_once(' ').expect("url and pg_ctl");
        OwnCluster {
            url: url.to_owned(),
            ctl: ctl.to_owned(),
            child,
        }
    }

    fn ctl(&self, args: &[&str]) {
        let status = Command::new(&self.ctl)
            .args(args)
            .stdout(Stdio::null())
            .status()
            .expect("pg_ctl");
        assert!(status.success(), "pg_ctl {args:?}");
    }
}

impl Drop for OwnCluster {
    fn drop(&mut self) {
        // The script's command ends at the end of its input; the script then removes the
        // cluster.
        if let Some(mut stdin) = self.child.stdin.take() {
            let _ = stdin.write_all(b"\n");
        }
        let _ = self.child.wait();
    }
}

#[test]
#[cfg_attr(
    not(tokenlife_test_pg),
    ignore = "PostgreSQL only: scripts/with-postgres.sh runs it"
)]
fn replicas_ride_out_a_database_restart_under_load() {
    let cluster = OwnCluster::start();
    let data = TempDir::new("outage");
    let a = Server::start_on(&cluster.url, &data.join("a"), &[]);
    let b = Server::start_on(&cluster.url, &data.join("b"), &[]);
    let auth = basic("admin", a.admin_password.as_deref().expect("password"));
    let clients = [a.client(), b.client()];
    assert_eq!(
        clients[0].get(TOKENS, std::slice::from_ref(&auth)).status,
        404
    );

    let acknowledged: Arc<Mutex<HashMap<String, String>>> = Arc::default();
    let statuses: Arc<Mutex<HashMap<u16, usize>>> = Arc::default();
    let unavailable_codes: Arc<Mutex<Vec<String>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = (0..4)
        .map(|worker| {
            let client: Client = clients[worker % 2];
            let (auth, acknowledged, statuses, codes, stop) = (
                auth.clone(),
                Arc::clone(&acknowledged),
                Arc::clone(&statuses),
                Arc::clone(&unavailable_codes),
                Arc::clone(&stop),
            );
            std::thread::spawn(move || {
                let mut i = 0;
                while !stop.load(Ordering::Relaxed) {
                    i += 1;
                    let response = client.post_json(
                        TOKENS,
                        std::slice::from_ref(&auth),
                        &json!({"jwt_token_description": format!("w{worker} n{i}"), "jwt_token_life": "1h"}),
                    );
                    *statuses.lock().expect("lock").entry(response.status).or_default() += 1;
                    match response.status {
                        201 => {
                            let body = response.json();
                            acknowledged.lock().expect("lock").insert(
                                body["jwt_token_id"].as_str().expect("id").to_owned(),
                                body["jwt_token"].as_str().expect("token").to_owned(),
                            );
                        }
                        503 => {
                            codes.lock().expect("lock").push(response.code());
                            std::thread::sleep(Duration::from_millis(20));
                        }
                        _ => {}
                    }
                }
            })
        })
        .collect();
    let count = || acknowledged.lock().expect("lock").len();
    let wait_for = |what: &str, done: &dyn Fn() -> bool| {
        let start = Instant::now();
        while !done() {
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "timed out: {what}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    wait_for("creates before the stop", &|| count() >= 100);

    cluster.ctl(&["stop", "-m", "fast"]);
    let before_restart = count();
    for client in clients {
        let ready = client.get("/api/healthz/readyness", &[]);
        assert_eq!(ready.status, 503);
        assert_eq!(ready.code(), "storage_unavailable");
        let create = client.post_json(
            TOKENS,
            std::slice::from_ref(&auth),
            &json!({"jwt_token_description": "while down", "jwt_token_life": "1h"}),
        );
        assert_eq!(create.status, 503);
        assert!(!create.message().is_empty());
    }
    std::thread::sleep(Duration::from_millis(500));
    cluster.ctl(&["start"]);

    // Both replicas heal by themselves and go on creating.
    wait_for("both replicas ready again", &|| {
        clients
            .iter()
            .all(|c| c.get("/api/healthz/readyness", &[]).status == 200)
    });
    wait_for("creates after the restart", &|| {
        count() >= before_restart + 100
    });
    stop.store(true, Ordering::Relaxed);
    for worker in workers {
        worker.join().expect("worker");
    }

    let statuses = statuses.lock().expect("lock").clone();
    assert!(
        statuses.keys().all(|s| *s == 201 || *s == 503),
        "only 201 and 503 while the database restarts: {statuses:?}"
    );
    assert!(statuses.contains_key(&503), "{statuses:?}");
    let codes = unavailable_codes.lock().expect("lock");
    assert!(
        codes.iter().all(|c| c == "storage_unavailable"),
        "{codes:?}"
    );

    // Nothing acknowledged was lost, and every acknowledged token works on both.
    let acknowledged = acknowledged.lock().expect("lock").clone();
    let listed = clients[1].get(TOKENS, std::slice::from_ref(&auth)).json();
    let listed = listed["jwt_tokens"].as_object().expect("tokens").clone();
    for (id, token) in &acknowledged {
        assert!(listed.contains_key(id), "acknowledged token {id} lost");
        for client in clients {
            assert_eq!(
                client.get("/api/v1alpha/whoami", &[bearer(token)]).status,
                200
            );
        }
    }
    drop((a, b));
    drop(cluster);
}
