//! Issue 11, items 6 to 8: the page's security headers, request bodies that name a key
//! twice, stored data that is never lost without a word (users or token ids twice, a
//! folder that lost its users.json, a folder others can write), and readiness after a
//! failed write. The store tests are about the JSON files: they run on the folder whatever
//! store the suite runs on.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use serde_json::{Value, json};

use crate::harness::{Server, TempDir, basic, run_cli_with};

const TOKENS: &str = "/api/v1alpha/token/";
const READY: &str = "/api/healthz/readyness";
const PAGE_POLICY: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; \
     style-src 'self'; img-src 'self'; connect-src 'self'; object-src 'none'; \
     frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

fn json_type() -> (String, String) {
    ("Content-Type".into(), "application/json".into())
}

#[test]
fn the_page_and_the_package_carry_a_content_policy_and_refuse_framing() {
    let data = TempDir::new("csp");
    let www = data.join("www");
    let pkg = data.join("pkg");
    std::fs::create_dir_all(&www).expect("mkdir");
    std::fs::create_dir_all(&pkg).expect("mkdir");
    std::fs::write(www.join("index.html"), "<!doctype html><title>t</title>").expect("write");
    std::fs::write(www.join("app.js"), "export {}").expect("write");
    std::fs::write(www.join("style.css"), "body{}").expect("write");
    std::fs::write(www.join("favicon.svg"), "<svg/>").expect("write");
    std::fs::write(pkg.join("tokenlife.js"), "export default 1").expect("write");
    std::fs::write(pkg.join("tokenlife_bg.wasm"), b"\0asm\x01\0\0\0").expect("write");
    let server = Server::start(
        &data.join("data"),
        &[
            "--www",
            www.to_str().expect("utf-8"),
            "--pkg",
            pkg.to_str().expect("utf-8"),
        ],
    );
    let client = server.client();
    let page_headers = |response: &crate::harness::Response, what: &str| {
        assert_eq!(
            response.header("content-security-policy"),
            Some(PAGE_POLICY),
            "{what}"
        );
        assert_eq!(response.header("x-frame-options"), Some("DENY"), "{what}");
        assert_eq!(
            response.header("referrer-policy"),
            Some("no-referrer"),
            "{what}"
        );
        assert_eq!(
            response.header("x-content-type-options"),
            Some("nosniff"),
            "{what}"
        );
    };
    for path in [
        "/",
        "/index.html",
        "/app.js",
        "/style.css",
        "/favicon.svg",
        "/pkg/tokenlife.js",
        "/pkg/tokenlife_bg.wasm",
    ] {
        let response = client.get(path, &[]);
        assert_eq!(response.status, 200, "{path}");
        page_headers(&response, path);
        // The revalidated answer too: a 304 replaces the headers of the cached one.
        let etag = response.header("etag").expect("etag").to_owned();
        let again = client.get(path, &[("If-None-Match".into(), etag)]);
        assert_eq!(again.status, 304, "{path}");
        page_headers(&again, path);
        let head = client.send("HEAD", path, &[], None);
        page_headers(&head, path);
    }
    // A missing file of the page is a page answer as well.
    let missing = client.get("/missing.js", &[]);
    assert_eq!(missing.status, 404);
    page_headers(&missing, "/missing.js");

    // The API's answers: no framing, no referrer, no sniffing, a policy that allows nothing.
    for (method, path, status) in [
        ("GET", "/api/healthz/liveness", 200),
        ("GET", "/api/v1alpha/whoami", 401),
        ("GET", "/api/v1alpha/nothing", 404),
        ("GET", "/.well-known/jwks.json", 200),
        ("POST", "/app.js", 405),
    ] {
        let response = client.send(method, path, &[], None);
        assert_eq!(response.status, status, "{path}");
        assert_eq!(
            response.header("content-security-policy"),
            Some("default-src 'none'; frame-ancestors 'none'"),
            "{path}"
        );
        assert_eq!(response.header("x-frame-options"), Some("DENY"), "{path}");
        assert_eq!(
            response.header("referrer-policy"),
            Some("no-referrer"),
            "{path}"
        );
        assert_eq!(
            response.header("x-content-type-options"),
            Some("nosniff"),
            "{path}"
        );
    }
}

#[test]
fn a_body_that_names_a_key_twice_is_refused() {
    let data = TempDir::new("dup-keys");
    let server = Server::start(&data.join("data"), &[]);
    let auth = basic("admin", server.admin_password.as_deref().expect("password"));
    let client = server.client();
    for body in [
        // The attack: the check and the log would see different lives.
        r#"{"jwt_token_description":"d","jwt_token_life":"10 years","jwt_token_life":"1h"}"#,
        r#"{"jwt_token_description":"a","jwt_token_description":"b","jwt_token_life":"1h"}"#,
        r#"{"jwt_token_description":"d","jwt_token_life":3600,"jwt_token_life":3600}"#,
        // Anywhere in the body, at any depth.
        r#"{"jwt_token_description":"d","jwt_token_life":"1h","extra":{"a":1,"a":2}}"#,
        r#"{"jwt_token_description":"d","jwt_token_life":"1h","extra":[1,{"x":{"y":1,"y":1}}]}"#,
        r#"{"jwt_token_description":"d","jwt_token_life":"1h","jwt_token_endpoints":["GET /a"],"jwt_token_endpoints":["GET /*"]}"#,
        r#"{"jwt_token_description":"d","jwt_token_life":"1h","jwt_token_endpoints":[{"m":"GET","m":"POST"}]}"#,
        // Escapes name the same key.
        r#"{"jwt_token_description":"d","jwt_token_life":"1h","jwt_token_\u006cife":"1h"}"#,
    ] {
        let response = client.send(
            "POST",
            TOKENS,
            &[auth.clone(), json_type()],
            Some(body.as_bytes()),
        );
        assert_eq!(response.status, 400, "{body}");
        assert_eq!(response.code(), "invalid_json", "{body}");
        assert!(response.message().contains("twice"), "{body}");
    }
    // Nothing was made, and the same key in two different objects is fine.
    assert_eq!(
        client.get(TOKENS, std::slice::from_ref(&auth)).code(),
        "tokens_not_found"
    );
    let fine =
        r#"{"jwt_token_description":"d","jwt_token_life":"1h","extra":{"a":1},"other":{"a":1}}"#;
    let response = client.send("POST", TOKENS, &[auth, json_type()], Some(fine.as_bytes()));
    assert_eq!(response.status, 201, "{:?}", response.message());
}

/// A stopped server on a fresh folder with an admin holding `count` tokens; the folder
/// and the admin's password.
fn folder_with_tokens(data: &TempDir, count: usize) -> (std::path::PathBuf, String) {
    let dir = data.join("data");
    let server = Server::start_json(&dir, &[]);
    let password = server.admin_password.clone().expect("admin password");
    let auth = basic("admin", &password);
    for i in 0..count {
        server
            .client()
            .create(&auth, &format!("token {i}"), json!("1 day"));
    }
    server.stop();
    (dir, password)
}

/// `serve` on the folder, which must refuse to start: its standard error. A server that
/// is still running after 30 seconds started, and fails the test.
fn serve_refused(dir: &Path) -> String {
    use std::io::Read;
    use std::process::{Command, Stdio};
    let mut child = Command::new(crate::harness::BIN)
        .arg("--data")
        .arg(dir)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env_remove("SECRET_KEY")
        .env_remove("TOKENLIFE_STORE")
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn tokenlife");
    let start = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if start.elapsed() > std::time::Duration::from_secs(30) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("tokenlife serve started on {}", dir.display());
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    let mut out = String::new();
    let mut err = String::new();
    if let Some(mut stdout) = child.stdout.take() {
        let _ = stdout.read_to_string(&mut out);
    }
    if let Some(mut stderr) = child.stderr.take() {
        let _ = stderr.read_to_string(&mut err);
    }
    assert!(!status.success(), "{out}");
    assert!(!out.contains("admin password"), "{out}");
    err
}

/// The refusal is one readable line on standard error.
fn one_line(err: &str) -> &str {
    let err = err.trim();
    assert_eq!(err.lines().count(), 1, "{err}");
    err
}

#[test]
fn a_user_twice_in_users_json_refuses_the_start_and_the_file_is_kept() {
    let data = TempDir::new("dup-user");
    let (dir, _) = folder_with_tokens(&data, 5);
    let users: Value =
        serde_json::from_slice(&std::fs::read(dir.join("users.json")).expect("read"))
            .expect("json");
    assert_eq!(users[0]["jwt_tokens"].as_object().map(|m| m.len()), Some(5));
    // The attack: a second "admin" entry without tokens, after the real one.
    let mut second = users[0].clone();
    second["jwt_tokens"] = json!({});
    second["id"] = json!("intruder");
    let text = serde_json::to_string_pretty(&json!([users[0], second])).expect("encode");
    std::fs::write(dir.join("users.json"), &text).expect("write");
    for args in [&["user", "list"][..], &["user", "add", "carol"], &["serve"]] {
        let err = if args == ["serve"] {
            serve_refused(&dir)
        } else {
            let (ok, out, err) = run_cli_with(&dir, &[], args, "a new password\na new password\n");
            assert!(!ok, "{args:?}: {out}");
            err
        };
        let line = one_line(&err);
        assert!(line.contains("users.json"), "{line}");
        assert!(line.contains("\"admin\" twice"), "{line}");
        assert!(line.contains("entries 1 and 2"), "{line}");
        assert_eq!(
            std::fs::read_to_string(dir.join("users.json")).expect("read"),
            text,
            "the file is untouched"
        );
    }
}

#[test]
fn a_token_id_twice_refuses_the_start() {
    let data = TempDir::new("dup-token");
    let (dir, _) = folder_with_tokens(&data, 2);
    let users: Value =
        serde_json::from_slice(&std::fs::read(dir.join("users.json")).expect("read"))
            .expect("json");
    let admin = &users[0];
    let tokens = admin["jwt_tokens"].as_object().expect("tokens");
    let (id, record) = tokens.iter().next().expect("a token");

    // Within one user: the same id twice in the jwt_tokens object.
    let inner = format!(
        "{{\"{id}\": {record}, \"{id}\": {record}}}",
        record = serde_json::to_string(record).expect("encode")
    );
    let mut entry = admin.clone();
    entry["jwt_tokens"] = json!("PLACEHOLDER");
    let text = serde_json::to_string(&json!([entry]))
        .expect("encode")
        .replace("\"PLACEHOLDER\"", &inner);
    std::fs::write(dir.join("users.json"), &text).expect("write");
    let err = serve_refused(&dir);
    let line = one_line(&err);
    assert!(line.contains("users.json"), "{line}");
    assert!(line.contains(&format!("\"{id}\" is given twice")), "{line}");
    assert_eq!(
        std::fs::read_to_string(dir.join("users.json")).expect("read"),
        text
    );

    // Across users: bob holds one of admin's ids.
    let mut bob = admin.clone();
    bob["username"] = json!("bob");
    bob["id"] = json!("bob");
    bob["jwt_tokens"] = json!({ id.clone(): record });
    let text = serde_json::to_string_pretty(&json!([admin, bob])).expect("encode");
    std::fs::write(dir.join("users.json"), &text).expect("write");
    let err = serve_refused(&dir);
    let line = one_line(&err);
    assert!(line.contains("users.json"), "{line}");
    assert!(
        line.contains(&format!(
            "the token id \"{id}\" belongs to both \"admin\" and \"bob\""
        )),
        "{line}"
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("users.json")).expect("read"),
        text
    );

    // Through the journal: a line giving bob admin's token is refused at replay.
    let mut alone = admin.clone();
    alone["jwt_tokens"] = json!({ id.clone(): record });
    let mut bob = bob.clone();
    bob["jwt_tokens"] = json!({});
    let text = serde_json::to_string_pretty(&json!([alone, bob])).expect("encode");
    std::fs::write(dir.join("users.json"), &text).expect("write");
    let line = json!({"op": "put_token", "user": "bob", "id": id, "token": record});
    std::fs::write(dir.join("users.journal"), format!("{line}\n")).expect("write");
    let err = serve_refused(&dir);
    let line = one_line(&err);
    assert!(line.contains("users.journal"), "{line}");
    assert!(line.contains("belongs to both"), "{line}");
}

#[test]
fn a_folder_that_lost_its_users_json_is_not_taken_for_a_new_one() {
    let data = TempDir::new("lost-users");
    let (dir, password) = folder_with_tokens(&data, 2);
    // Delete one token so that the revoked list exists too.
    let server = Server::start_json(&dir, &[]);
    let auth = basic("admin", &password);
    let listed = server
        .client()
        .get(TOKENS, std::slice::from_ref(&auth))
        .json();
    let id = listed["jwt_tokens"]
        .as_object()
        .and_then(|m| m.keys().next().cloned())
        .expect("id");
    assert_eq!(
        server
            .client()
            .delete(&format!("{TOKENS}{id}/"), std::slice::from_ref(&auth))
            .status,
        200
    );
    server.stop();
    assert!(dir.join("revoked.json").exists());
    std::fs::remove_file(dir.join("users.json")).expect("rm");
    let key = std::fs::read(dir.join("hs256.key")).expect("key");
    let (ok, out, err) = run_cli_with(&dir, &[], &["user", "list"], "");
    assert!(!ok, "{out}");
    for err in [err, serve_refused(&dir)] {
        let line = one_line(&err);
        assert!(line.contains("no users.json"), "{line}");
        assert!(line.contains("hs256.key"), "{line}");
        assert!(line.contains("revoked.json"), "{line}");
        assert!(line.contains("backup"), "{line}");
        assert!(line.contains("move the folder away"), "{line}");
    }
    assert!(!dir.join("users.json").exists(), "nothing was made up");
    assert_eq!(std::fs::read(dir.join("hs256.key")).expect("key"), key);

    // A journal alone is refused as well: it holds only the changes since the snapshot.
    let journal_only = data.join("journal-only");
    std::fs::create_dir_all(&journal_only).expect("mkdir");
    std::fs::set_permissions(&journal_only, std::fs::Permissions::from_mode(0o700)).expect("chmod");
    std::fs::write(
        journal_only.join("users.journal"),
        "{\"op\":\"delete_token\",\"user\":\"admin\",\"id\":\"x\",\"revoke_until\":null}\n",
    )
    .expect("write");
    std::fs::set_permissions(
        journal_only.join("users.journal"),
        std::fs::Permissions::from_mode(0o600),
    )
    .expect("chmod");
    let err = serve_refused(&journal_only);
    assert!(
        one_line(&err).contains("users.journal but no users.json"),
        "{err}"
    );

    // An empty folder that exists is a new store: it starts and prints the password.
    let empty = data.join("empty");
    std::fs::create_dir_all(&empty).expect("mkdir");
    let server = Server::start_json(&empty, &[]);
    assert!(server.admin_password.is_some());
    assert!(empty.join("users.json").exists());
}

#[test]
fn a_data_folder_others_can_write_is_made_private() {
    let data = TempDir::new("modes");
    let (dir, password) = folder_with_tokens(&data, 1);
    let mode = |path: &Path| std::fs::metadata(path).expect("stat").permissions().mode() & 0o777;
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).expect("chmod");
    std::fs::set_permissions(
        dir.join("users.json"),
        std::fs::Permissions::from_mode(0o644),
    )
    .expect("chmod");
    // A command says what it did, once, and goes on.
    let (ok, out, err) = run_cli_with(&dir, &[], &["user", "list"], "");
    assert!(ok, "{err}");
    assert!(out.contains("admin"), "{out}");
    assert!(err.contains("made it 0700"), "{err}");
    assert!(err.contains("made it 0600"), "{err}");
    assert_eq!(mode(&dir), 0o700);
    assert_eq!(mode(&dir.join("users.json")), 0o600);
    // Group-writable only is fixed the same way, by serve.
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o770)).expect("chmod");
    let server = Server::start_json(&dir, &[]);
    assert_eq!(mode(&dir), 0o700);
    let auth = basic("admin", &password);
    assert_eq!(server.client().get(TOKENS, &[auth]).status, 200);
}

#[test]
fn readyness_reports_a_failed_write_until_a_write_succeeds() {
    let data = TempDir::new("ready");
    let dir = data.join("data");
    let server = Server::start_json(&dir, &[]);
    let auth = basic("admin", server.admin_password.as_deref().expect("password"));
    let client = server.client();
    client.create(&auth, "before", json!("1h"));
    assert_eq!(client.get(READY, &[]).status, 200);

    // The journal becomes unwritable (a folder in its place: permission bits do not
    // stop root).
    let journal = dir.join("users.journal");
    let aside = dir.join("journal.aside");
    std::fs::rename(&journal, &aside).expect("rename");
    std::fs::create_dir(&journal).expect("mkdir");
    let response = client.post_json(
        TOKENS,
        std::slice::from_ref(&auth),
        &json!({"jwt_token_description": "during", "jwt_token_life": "1h"}),
    );
    assert_eq!(response.status, 503, "{:?}", response.message());
    assert_eq!(response.code(), "storage_unavailable");
    // Reads are still served from memory; readiness tells the truth.
    assert_eq!(client.get(TOKENS, std::slice::from_ref(&auth)).status, 200);
    for _ in 0..2 {
        let ready = client.get(READY, &[]);
        assert_eq!(ready.status, 503);
        assert_eq!(ready.code(), "storage_unavailable");
        assert!(!ready.message().is_empty());
    }

    // The disk is back: readiness stays 503 until a write succeeds.
    std::fs::remove_dir(&journal).expect("rmdir");
    std::fs::rename(&aside, &journal).expect("rename");
    assert_eq!(client.get(READY, &[]).status, 503);
    client.create(&auth, "after", json!("1h"));
    assert_eq!(client.get(READY, &[]).status, 200);
    let listed = client.get(TOKENS, std::slice::from_ref(&auth)).json();
    let mut descriptions: Vec<&str> = listed["jwt_tokens"]
        .as_object()
        .expect("tokens")
        .values()
        .filter_map(|t| t["jwt_token_description"].as_str())
        .collect();
    descriptions.sort_unstable();
    assert_eq!(descriptions, ["after", "before"]);
}
