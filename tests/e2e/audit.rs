//! The audit trail (issue 16): every kind of event after its action, with its actor,
//! target and client address; never a token or a password in the store; administrators
//! only; paging; retention; rotation of the JSON file; nothing recorded lost on SIGTERM.

use std::path::Path;
use std::time::Duration;

use serde_json::{Value, json};

use crate::harness::{
    Client, Server, TempDir, basic, bearer, on_postgres, run_cli, run_cli_with, sql, store_args,
    stored_text,
};

const AUDIT: &str = "/api/v1alpha/audit";
const ADMIN: &str = "root";
const ADMIN_PASSWORD: &str = "root-password-1";

/// A folder (or database) with the administrator `root` and the users `others`.
fn with_users(dir: &Path, others: &[(&str, &str)]) {
    let (ok, _, err) = run_cli(
        dir,
        &["user", "add", ADMIN, "--admin"],
        &format!("{ADMIN_PASSWORD}\n"),
    );
    assert!(ok, "{err}");
    for (name, password) in others {
        let (ok, _, err) = run_cli(dir, &["user", "add", name], &format!("{password}\n"));
        assert!(ok, "{err}");
    }
}

/// Every event of the trail through the API, newest first, following `next`.
fn all_events(client: &Client, query: &str) -> Vec<Value> {
    let mut events = Vec::new();
    let mut before: Option<String> = None;
    loop {
        let mut path = format!("{AUDIT}?limit=1000{query}");
        if let Some(cursor) = &before {
            path.push_str(&format!("&before={cursor}"));
        }
        let page = client.get(&path, &[basic(ADMIN, ADMIN_PASSWORD)]);
        assert_eq!(page.status, 200, "{}", String::from_utf8_lossy(&page.body));
        let page = page.json();
        events.extend(page["events"].as_array().expect("events").iter().cloned());
        match page["next"].as_str() {
            Some(next) => before = Some(next.to_owned()),
            None => return events,
        }
    }
}

fn find<'a>(events: &'a [Value], kind: &str, target: &str) -> &'a Value {
    events
        .iter()
        .find(|e| e["kind"] == kind && e["target"] == target)
        .unwrap_or_else(|| panic!("no {kind} event on {target} in {events:#?}"))
}

/// Everything the audit trail of `dir` holds, as text.
fn audit_text(dir: &Path) -> String {
    match store_args(dir).get(1) {
        Some(url) => sql(url, "SELECT a::text FROM audit_log a")
            .into_iter()
            .map(|row| row.join(" "))
            .collect::<Vec<_>>()
            .join("\n"),
        None => {
            let mut text = String::new();
            for entry in std::fs::read_dir(dir).expect("data folder") {
                let path = entry.expect("entry").path();
                let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
                if name.starts_with("audit") {
                    text.push_str(&std::fs::read_to_string(&path).unwrap_or_default());
                }
            }
            text
        }
    }
}

#[test]
fn each_event_is_recorded_with_actor_target_and_address() {
    let data = TempDir::new("audit-events");
    let dir = data.join("data");
    with_users(
        &dir,
        &[("alice", "alice-password-1"), ("bob", "bob-password-1")],
    );
    let server = Server::start(&dir, &[]);
    let client = server.client();
    let alice = basic("alice", "alice-password-1");

    // Created, used, deleted, used after revocation.
    let created = client.create(&alice, "deploy", json!("1h"));
    let token = created["jwt_token"].as_str().expect("token").to_owned();
    let id = created["jwt_token_id"].as_str().expect("id").to_owned();
    assert_eq!(
        client.get("/api/v1alpha/whoami", &[bearer(&token)]).status,
        200
    );
    let path = format!("/api/v1alpha/token/{id}");
    assert_eq!(
        client.delete(&path, std::slice::from_ref(&alice)).status,
        200
    );
    let refused = client.get("/api/v1alpha/whoami", &[bearer(&token)]);
    assert_eq!(
        (refused.status, refused.code()),
        (401, "token_revoked".into())
    );

    // Used after expiry, both before and after the server verified it once.
    let short = client.create(&alice, "short", json!(1));
    let short_token = short["jwt_token"].as_str().expect("token").to_owned();
    let short_id = short["jwt_token_id"].as_str().expect("id").to_owned();
    std::thread::sleep(Duration::from_millis(2100));
    let refused = client.get("/api/v1alpha/whoami", &[bearer(&short_token)]);
    assert_eq!(
        (refused.status, refused.code()),
        (401, "token_expired".into())
    );

    // A wrong password, then a name guessed at until it is locked.
    assert_eq!(
        client
            .get("/api/v1alpha/token/", &[basic("bob", "wrong")])
            .status,
        401
    );
    let mut throttled = false;
    for _ in 0..20 {
        let answer = client.get("/api/v1alpha/token/", &[basic("eve", "guess")]);
        if answer.status == 429 {
            throttled = true;
            break;
        }
    }
    assert!(throttled, "eve was never throttled");

    // The commands: a new password, a user removed.
    let (ok, _, err) = run_cli(&dir, &["user", "passwd", "bob"], "bob-password-2\n");
    assert!(ok, "{err}");
    let (ok, _, err) = run_cli(&dir, &["user", "remove", "bob"], "");
    assert!(ok, "{err}");

    let events = all_events(&client, "");
    let target = format!("alice/{id}");
    for kind in [
        "token_created",
        "token_deleted",
        "token_used_after_revocation",
    ] {
        let event = find(&events, kind, &target);
        assert_eq!(event["actor"], "alice", "{event}");
        assert_eq!(event["addr"], "127.0.0.1", "{event}");
    }
    let expired = find(
        &events,
        "token_used_after_expiry",
        &format!("alice/{short_id}"),
    );
    assert_eq!(
        (&expired["actor"], &expired["addr"]),
        (&json!("alice"), &json!("127.0.0.1"))
    );
    let failed = find(&events, "sign_in_failed", "bob");
    assert_eq!(
        (&failed["actor"], &failed["addr"]),
        (&json!("bob"), &json!("127.0.0.1"))
    );
    let locked = find(&events, "sign_in_throttled", "eve");
    assert_eq!(
        (&locked["actor"], &locked["addr"]),
        (&json!("eve"), &json!("127.0.0.1"))
    );
    for (kind, target) in [
        ("user_added", "root"),
        ("user_added", "alice"),
        ("password_changed", "bob"),
        ("user_removed", "bob"),
    ] {
        let event = find(&events, kind, target);
        assert_eq!(
            (&event["actor"], &event["addr"]),
            (&json!("cli"), &Value::Null)
        );
    }
    // Newest first.
    let times: Vec<i64> = events
        .iter()
        .map(|e| e["time"].as_i64().expect("time"))
        .collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "{times:?}");
    let created_at = events
        .iter()
        .position(|e| e["kind"] == "token_created" && e["target"] == target);
    let deleted_at = events.iter().position(|e| e["kind"] == "token_deleted");
    assert!(
        deleted_at < created_at,
        "deleted after created, so listed before it"
    );

    // `user` keeps the events of one user: as actor, target or token owner.
    let bobs = all_events(&client, "&user=bob");
    assert!(!bobs.is_empty());
    assert!(
        bobs.iter()
            .all(|e| e["actor"] == "bob" || e["target"] == "bob"),
        "{bobs:#?}"
    );
    let alices = all_events(&client, "&user=alice");
    assert!(alices.iter().any(|e| e["kind"] == "token_created"));
    assert!(alices.iter().all(|e| e["target"] != "bob"));

    // Never a token or a password, in the trail or anywhere in the store.
    let audit = audit_text(&dir);
    assert!(audit.contains(&id), "the trail names the token by id");
    let everything = format!("{audit}\n{}", stored_text(&dir));
    for secret in [
        token.as_str(),
        short_token.as_str(),
        "alice-password-1",
        "bob-password-1",
        "bob-password-2",
        "wrong",
        "guess",
        ADMIN_PASSWORD,
    ] {
        assert!(!everything.contains(secret), "the store holds {secret}");
    }
    // The token's signature alone is not kept either.
    let signature = token.rsplit('.').next().expect("signature");
    assert!(!everything.contains(signature));

    // The command shows the same, one line per event.
    let (ok, out, err) = run_cli(&dir, &["audit", "--user", "bob", "--since", "1h"], "");
    assert!(ok, "{err}");
    assert_eq!(out.lines().count(), bobs.len(), "{out}");
    assert!(
        out.lines()
            .next()
            .is_some_and(|line| line.contains(" user_removed actor=cli target=bob addr=-")),
        "{out}"
    );
    assert!(
        out.contains(" sign_in_failed actor=bob target=bob addr=127.0.0.1"),
        "{out}"
    );

    if !on_postgres() {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.join("audit.jsonl"))
            .expect("audit.jsonl")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}

#[test]
fn only_administrators_read_the_trail() {
    let data = TempDir::new("audit-forbidden");
    let dir = data.join("data");
    with_users(&dir, &[("alice", "alice-password-1")]);
    let server = Server::start(&dir, &[]);
    let client = server.client();
    let answer = client.get(AUDIT, &[basic("alice", "alice-password-1")]);
    assert_eq!((answer.status, answer.code()), (403, "forbidden".into()));
    assert!(!answer.message().is_empty());
    let answer = client.get(AUDIT, &[basic("alice", "wrong")]);
    assert_eq!(answer.status, 401);
    let answer = client.get(AUDIT, &[]);
    assert_eq!(answer.status, 401);
    assert_eq!(
        client.get(AUDIT, &[basic(ADMIN, ADMIN_PASSWORD)]).status,
        200
    );
    // The command shows the refused reads (alice's wrong password) like the rest.
    let (ok, out, err) = run_cli(&dir, &["audit", "--user", "alice"], "");
    assert!(ok, "{err}");
    assert!(out.contains("sign_in_failed actor=alice"), "{out}");
}

#[test]
fn the_trail_pages_newest_first_with_a_cursor() {
    let data = TempDir::new("audit-paging");
    let dir = data.join("data");
    with_users(&dir, &[("alice", "alice-password-1")]);
    let server = Server::start(&dir, &[]);
    let client = server.client();
    let alice = basic("alice", "alice-password-1");
    for n in 0..7 {
        client.create(&alice, &format!("t{n}"), json!("1h"));
    }
    let admin = basic(ADMIN, ADMIN_PASSWORD);
    let whole = client
        .get(&format!("{AUDIT}?limit=1000"), std::slice::from_ref(&admin))
        .json();
    let whole = whole["events"].as_array().expect("events").clone();
    assert_eq!(whole.len(), 9, "two users added, seven tokens: {whole:#?}");
    let mut paged = Vec::new();
    let mut path = format!("{AUDIT}?limit=3");
    let mut pages = 0;
    loop {
        let page = client.get(&path, std::slice::from_ref(&admin)).json();
        let events = page["events"].as_array().expect("events");
        assert!(events.len() <= 3);
        paged.extend(events.iter().cloned());
        pages += 1;
        match page["next"].as_str() {
            Some(next) => path = format!("{AUDIT}?limit=3&before={next}"),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(
        paged, whole,
        "the pages, one after the other, are the whole trail"
    );
    // Default page and bad parameters.
    let page = client.get(AUDIT, std::slice::from_ref(&admin)).json();
    assert_eq!(page["next"], Value::Null);
    for bad in [
        "?limit=0",
        "?limit=1001",
        "?limit=x",
        "?before=nope",
        "?since=yesterday",
        "?user=",
        "?color=red",
        "?limit=1&limit=2",
    ] {
        let answer = client.get(&format!("{AUDIT}{bad}"), std::slice::from_ref(&admin));
        assert_eq!(
            (answer.status, answer.code()),
            (400, "invalid_query".into()),
            "{bad}"
        );
    }
    // since: an hour back holds everything, and a token's events are not in the future.
    let recent = client
        .get(
            &format!("{AUDIT}?since=1h&limit=1000"),
            std::slice::from_ref(&admin),
        )
        .json();
    assert_eq!(recent["events"].as_array().map(Vec::len), Some(9));
}

/// An event line as the stores keep it, `age` seconds old.
fn old_event(id: &str, age: i64, target: &str) -> (i64, String) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs() as i64;
    let time = now - age;
    let line = json!({
        "id": id, "time": time, "kind": "sign_in_failed", "actor": target,
        "target": target, "addr": "192.0.2.7"
    });
    (time, line.to_string())
}

#[test]
fn retention_drops_old_events() {
    let data = TempDir::new("audit-retention");
    let dir = data.join("data");
    with_users(&dir, &[]);
    let day = 86_400;
    let old = old_event("00000aaaaaaaaaaa", 40 * day, "old-name");
    let kept = old_event("00000bbbbbbbbbbb", 20 * day, "kept-name");
    match store_args(&dir).get(1) {
        Some(url) => {
            for (time, line) in [&old, &kept] {
                let event: Value = serde_json::from_str(line).expect("json");
                sql(
                    url,
                    &format!(
                        "INSERT INTO audit_log (id, time, kind, actor, target, addr) VALUES \
                         ('{}', {time}, 'sign_in_failed', '{}', '{}', '192.0.2.7')",
                        event["id"].as_str().expect("id"),
                        event["actor"].as_str().expect("actor"),
                        event["target"].as_str().expect("target"),
                    ),
                );
            }
        }
        None => {
            // Written before the event of `user add`, as an older file would hold them.
            let path = dir.join("audit.jsonl");
            let recorded = std::fs::read_to_string(&path).expect("audit.jsonl");
            std::fs::write(&path, format!("{}\n{}\n{recorded}", old.1, kept.1)).expect("write");
        }
    }
    let (ok, out, err) = run_cli(&dir, &["audit"], "");
    assert!(ok, "{err}");
    assert!(
        out.contains("old-name") && out.contains("kept-name"),
        "{out}"
    );

    let server = Server::start(&dir, &["--audit-retention", "30d"]);
    let events = all_events(&server.client(), "");
    assert!(
        events.iter().all(|e| e["target"] != "old-name"),
        "{events:#?}"
    );
    let kept = find(&events, "sign_in_failed", "kept-name");
    assert_eq!(kept["addr"], "192.0.2.7");
    find(&events, "user_added", ADMIN);
    assert!(
        !audit_text(&dir).contains("old-name"),
        "dropped from the store itself"
    );
}

#[test]
fn the_json_trail_rotates_by_size_and_reads_across_files() {
    // The JSON store's file, whatever store the suite runs on.
    let data = TempDir::new("audit-rotation");
    let dir = data.join("data");
    let (ok, _, err) = run_cli_with(
        &dir,
        &[],
        &["user", "add", ADMIN, "--admin"],
        &format!("{ADMIN_PASSWORD}\n"),
    );
    assert!(ok, "{err}");
    let server = Server::start_json(&dir, &["--audit-rotate-bytes", "600"]);
    let client = server.client();
    let admin = basic(ADMIN, ADMIN_PASSWORD);
    for n in 0..12 {
        client.create(&admin, &format!("t{n}"), json!("1h"));
        // One batch per request, so that the file crosses the size several times.
        let _ = client.get(&format!("{AUDIT}?limit=1"), std::slice::from_ref(&admin));
    }
    let events = all_events(&client, "");
    assert_eq!(events.len(), 13, "one user added, twelve tokens");
    assert!(dir.join("audit.1.jsonl").exists());
    assert!(dir.join("audit.2.jsonl").exists());
    for name in ["audit.1.jsonl", "audit.2.jsonl"] {
        let size = std::fs::metadata(dir.join(name)).expect(name).len();
        assert!(size < 600 + 400, "{name} is {size} bytes");
    }
    let (ok, out, err) = run_cli_with(&dir, &[], &["audit"], "");
    assert!(ok, "{err}");
    assert_eq!(out.lines().count(), 13, "{out}");
}

#[test]
fn sigterm_loses_no_event_recorded_before_it() {
    let data = TempDir::new("audit-sigterm");
    let dir = data.join("data");
    with_users(&dir, &[]);
    // Events wait up to a minute to be written with others: only the flush at the stop
    // writes them before the process exits.
    let server = Server::start(&dir, &["--audit-linger", "60s"]);
    let client = server.client();
    let admin = basic(ADMIN, ADMIN_PASSWORD);
    for n in 0..40 {
        client.create(&admin, &format!("t{n}"), json!("1h"));
    }
    server.stop();
    let (ok, out, err) = run_cli(&dir, &["audit"], "");
    assert!(ok, "{err}");
    assert_eq!(
        out.lines()
            .filter(|line| line.contains(" token_created "))
            .count(),
        40,
        "{out}"
    );
}

#[test]
fn regenerate_admin_revoke_and_key_changes_are_recorded() {
    let data = TempDir::new("audit-lifecycle");
    let dir = data.join("data");
    with_users(&dir, &[("alice", "alice-password-1")]);
    let server = Server::start(&dir, &[]);
    let client = server.client();
    let alice = basic("alice", "alice-password-1");

    // Regenerated by its owner: the event names the old token.
    let first = client.create(&alice, "ci", json!("1h"));
    let old = first["jwt_token_id"].as_str().expect("id").to_owned();
    let answer = client.send(
        "POST",
        &format!("/api/v1alpha/token/{old}/regenerate"),
        std::slice::from_ref(&alice),
        None,
    );
    assert_eq!(
        answer.status,
        201,
        "{}",
        String::from_utf8_lossy(&answer.body)
    );
    let new = answer.json()["jwt_token_id"]
        .as_str()
        .expect("id")
        .to_owned();

    // Revoked by an administrator: the administrator is the actor, the owner in the target.
    let path = format!("/api/v1alpha/admin/token/alice/{new}");
    let answer = client.delete(&path, &[basic(ADMIN, ADMIN_PASSWORD)]);
    assert_eq!(
        answer.status,
        200,
        "{}",
        String::from_utf8_lossy(&answer.body)
    );

    // A key rotated, then the older one retired, by the commands.
    let (ok, out, err) = run_cli(&dir, &["keys", "rotate"], "");
    assert!(ok, "{err}");
    let rotated = out
        .strip_prefix("new signing key ")
        .and_then(|rest| rest.split_whitespace().next())
        .expect("the new kid")
        .to_owned();
    let (ok, out, err) = run_cli(&dir, &["keys", "list"], "");
    assert!(ok, "{err}");
    let older = out
        .lines()
        .skip(1)
        .filter_map(|line| line.split('\t').next())
        .find(|kid| *kid != rotated)
        .expect("the older kid")
        .to_owned();
    let (ok, _, err) = run_cli(&dir, &["keys", "retire", &older, "--yes"], "");
    assert!(ok, "{err}");

    let events = all_events(&client, "");
    let regenerated = find(&events, "token_regenerated", &format!("alice/{old}"));
    assert_eq!(
        (&regenerated["actor"], &regenerated["addr"]),
        (&json!("alice"), &json!("127.0.0.1"))
    );
    let revoked = find(&events, "token_deleted", &format!("alice/{new}"));
    assert_eq!(
        (&revoked["actor"], &revoked["addr"]),
        (&json!(ADMIN), &json!("127.0.0.1"))
    );
    for (kind, kid) in [("key_rotated", &rotated), ("key_retired", &older)] {
        let event = find(&events, kind, kid);
        assert_eq!(
            (&event["actor"], &event["addr"]),
            (&json!("cli"), &Value::Null)
        );
    }
}
