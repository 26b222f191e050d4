//! Moving a Specter node without re-issuing tokens (`tokenlife import-specter` with
//! Specter's key): users and tokens made by Specter's code path
//! (`tests/vectors/make-specter-users.py`, issued now under a key of the test's own), the
//! tokens used as Bearer tokens on whoami and forward auth, across a restart, until they
//! are deleted or expire; tokens signed with the same key but never issued are refused.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

use crate::harness::{BIN, Client, Server, TempDir, basic, bearer, store_args};

const TOKENS: &str = "/api/v1alpha/token/";
const WHOAMI: &str = "/api/v1alpha/whoami";
/// Not ASCII, so that the key's bytes are its UTF-8, as PyJWT takes a text key.
const KEY: &str = "Specter's SECRET_KEY, clé 7f3a";
const WALLET: &str = "5b9e1a52-1111-4c3a-9f00-0000000000a1";
const OLD: &str = "5b9e1a52-2222-4c3a-9f00-0000000000a2";
const SOON: &str = "5b9e1a52-3333-4c3a-9f00-0000000000a3";
const BOB: &str = "5b9e1a52-4444-4c3a-9f00-0000000000a4";
/// Seconds the "soon gone" token has left when the users are written.
const SOON_SECS: u64 = 25;

/// A Specter users.json issued now (and the forged tokens) in `dir`, by the vectors' script.
struct Specter {
    users: std::path::PathBuf,
    written: Value,
    forged: Value,
    issued_at: u64,
}

impl Specter {
    fn make(dir: &Path, key: &str) -> Specter {
        std::fs::create_dir_all(dir).expect("dir");
        let users = dir.join("users.json");
        let forged = dir.join("forged.json");
        let issued_at = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("clock")
            .as_secs();
        let script = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../tests/vectors/make-specter-users.py"
        );
        let status = Command::new("python3")
            .arg(script)
            .args(["--now", &issued_at.to_string()])
            .args(["--soon", &SOON_SECS.to_string()])
            .args(["--secret-key", key])
            .arg("--out")
            .arg(&users)
            .arg("--forged")
            .arg(&forged)
            .status()
            .expect("python3");
        assert!(status.success(), "make-specter-users.py failed");
        let read = |path: &Path| -> Value {
            serde_json::from_str(&std::fs::read_to_string(path).expect("read")).expect("json")
        };
        Specter {
            written: read(&users),
            forged: read(&forged),
            users,
            issued_at,
        }
    }

    /// The raw token `id` of the user at `index` as Specter stored it.
    fn token(&self, index: usize, id: &str) -> String {
        self.written[index]["jwt_tokens"][id]["jwt_token"]
            .as_str()
            .expect("token")
            .to_owned()
    }

    fn forged(&self, which: &str) -> String {
        self.forged[which].as_str().expect("forged").to_owned()
    }
}

/// `tokenlife import-specter` with extra arguments and environment.
fn import(data: &Path, args: &[&str], env: &[(&str, &str)]) -> (bool, String, String) {
    let mut command = Command::new(BIN);
    command
        .arg("--data")
        .arg(data)
        .args(store_args(data))
        .arg("import-specter")
        .args(args)
        .env_remove("SECRET_KEY")
        .env_remove("SPECTER_SECRET_KEY")
        .env_remove("TOKENLIFE_STORE")
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null());
    for (key, value) in env {
        command.env(key, value);
    }
    let out = command.output().expect("tokenlife");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// whoami's status and error code (or username) for `token`.
fn whoami(client: &Client, token: &str) -> (u16, String) {
    let response = client.get(WHOAMI, &[bearer(token)]);
    let body = response.json();
    let what = if response.status == 200 {
        body["username"].as_str().unwrap_or_default().to_owned()
    } else {
        response.code().to_owned()
    };
    (response.status, what)
}

/// whoami until it answers 200 (a server that looked for Specter's key before the import
/// looks again a few seconds later), for at most a minute.
fn whoami_until_accepted(client: &Client, token: &str) -> (u16, String) {
    let start = Instant::now();
    loop {
        let answer = whoami(client, token);
        if answer.0 == 200 || start.elapsed() > Duration::from_secs(60) {
            return answer;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
}

fn write_key_file(dir: &Path, key: &str) -> String {
    let path = dir.join("specter.secret");
    std::fs::write(&path, format!("{key}\n")).expect("key file");
    path.to_string_lossy().into_owned()
}

#[test]
fn specter_tokens_keep_working_after_an_import_with_the_key() {
    let data = TempDir::new("specter-key");
    let dir = data.join("data");
    let specter = Specter::make(&data.join("specter"), KEY);
    let wallet = specter.token(0, WALLET);
    let server = Server::start(&dir, &[]);
    let client = server.client();
    // Before the import: unknown.
    assert_eq!(whoami(&client, &wallet), (401, "invalid_token".into()));

    // A wrong key verifies none of the tokens: nothing is imported, one line says why.
    let wrong = write_key_file(&data.join("specter"), "not Specter's key");
    let users = specter.users.to_string_lossy().into_owned();
    let (ok, _, err) = import(&dir, &[&users, "--specter-secret-key-file", &wrong], &[]);
    assert!(!ok, "a wrong key was taken");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("verifies none"), "{err}");
    assert_eq!(
        client
            .get(TOKENS, &[basic("specter", "specter-password-1")])
            .status,
        401
    );
    // Both ways of giving the key at once are refused.
    let key_file = write_key_file(&data.join("specter"), KEY);
    let (ok, _, err) = import(
        &dir,
        &[&users, "--specter-secret-key-file", &key_file],
        &[("SPECTER_SECRET_KEY", KEY)],
    );
    assert!(!ok && err.contains("not both"), "{err}");

    let (ok, out, err) = import(&dir, &[&users, "--specter-secret-key-file", &key_file], &[]);
    assert!(ok, "{err}");
    assert!(out.contains("imported 2 users and 4 tokens"), "{out}");
    assert!(out.contains("4 of 4 tokens keep working"), "{out}");

    // Whoami and forward auth take Specter's tokens as Specter issued them.
    assert_eq!(
        whoami_until_accepted(&client, &wallet),
        (200, "specter".into())
    );
    let body = client.get(WHOAMI, &[bearer(&wallet)]).json();
    assert_eq!(body["jwt_token_id"], WALLET);
    assert_eq!(body["jwt_token_description"], "wallet script");
    assert_eq!(body["jwt_token_life"], 365 * 86400);
    assert_eq!(body["expiry_status"], "Valid");
    let forwarded = client.get(
        "/api/v1alpha/auth",
        &[
            bearer(&wallet),
            ("X-Forwarded-Method".into(), "GET".into()),
            ("X-Forwarded-Uri".into(), "/api/v1alpha/wallets/".into()),
        ],
    );
    assert_eq!(forwarded.status, 200);
    assert_eq!(forwarded.header("x-auth-user"), Some("specter"));
    assert_eq!(forwarded.header("x-auth-token-id"), Some(WALLET));
    // The user whose Specter id ("bob_smith") is not its username.
    assert_eq!(
        whoami(&client, &specter.token(1, BOB)),
        (200, "Bob Smith".into())
    );
    let soon = specter.token(0, SOON);
    assert_eq!(whoami(&client, &soon), (200, "specter".into()));
    // Expired in Specter, expired here.
    assert_eq!(
        whoami(&client, &specter.token(0, OLD)),
        (401, "token_expired".into())
    );
    // Signed with Specter's key by Specter's code, but never issued: refused.
    for forged in ["new_id", "changed_exp"] {
        assert_eq!(
            whoami(&client, &specter.forged(forged)),
            (401, "invalid_token".into()),
            "{forged}"
        );
    }
    // tokenlife's own tokens work beside them.
    let signed_by_us = client.create(&basic("specter", "specter-password-1"), "ours", json!("1h"));
    let ours = signed_by_us["jwt_token"].as_str().expect("token");
    assert_eq!(whoami(&client, ours), (200, "specter".into()));

    // The list marks the imported tokens, not the new one.
    let listed = client
        .get(TOKENS, &[basic("specter", "specter-password-1")])
        .json();
    let tokens = listed["jwt_tokens"].as_object().expect("tokens");
    for id in [WALLET, OLD, SOON] {
        assert_eq!(tokens[id]["jwt_token_origin"], "specter", "{id}");
    }
    let new_id = signed_by_us["jwt_token_id"].as_str().expect("id");
    assert_eq!(tokens[new_id].get("jwt_token_origin"), None);
    let one = client
        .get(
            &format!("{TOKENS}{WALLET}/"),
            &[basic("specter", "specter-password-1")],
        )
        .json();
    assert_eq!(one["jwt_token_origin"], "specter");
    // Neither the raw tokens nor the key in the clear are kept; the key file is 0600.
    let stored = crate::harness::stored_text(&dir);
    assert!(!stored.contains(&wallet));
    assert!(!stored.contains(KEY));
    if !crate::harness::on_postgres() {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.join("specter.key"))
            .expect("specter.key")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    // A restart: the key comes from the store again.
    server.stop();
    let server = Server::start(&dir, &[]);
    let client = server.client();
    assert_eq!(whoami(&client, &wallet), (200, "specter".into()));

    // Deleted: revoked at once.
    let deleted = client.delete(
        &format!("{TOKENS}{WALLET}/"),
        &[basic("specter", "specter-password-1")],
    );
    assert_eq!(deleted.status, 200);
    assert_eq!(whoami(&client, &wallet), (401, "token_revoked".into()));
    assert_eq!(
        whoami(&client, &specter.token(1, BOB)),
        (200, "Bob Smith".into())
    );

    // The "soon gone" token expires at its `exp`, as Specter's own check would have it.
    let exp = specter.issued_at + SOON_SECS;
    while SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs()
        < exp + 1
    {
        std::thread::sleep(Duration::from_millis(250));
    }
    assert_eq!(whoami(&client, &soon), (401, "token_expired".into()));
}

#[test]
fn an_import_without_the_key_keeps_the_records_and_says_how_to_keep_the_tokens() {
    let data = TempDir::new("specter-nokey");
    let dir = data.join("data");
    let specter = Specter::make(&data.join("specter"), KEY);
    let wallet = specter.token(0, WALLET);
    let users = specter.users.to_string_lossy().into_owned();
    let (ok, out, err) = import(&dir, &[&users], &[]);
    assert!(ok, "{err}");
    assert!(out.contains("imported 2 users and 4 tokens"), "{out}");
    let hint: Vec<&str> = out
        .lines()
        .filter(|line| line.contains("SPECTER_SECRET_KEY"))
        .collect();
    assert_eq!(hint.len(), 1, "{out}");
    assert!(hint[0].contains("--specter-secret-key-file"), "{out}");
    let server = Server::start(&dir, &[]);
    let client = server.client();
    // Listed and marked, but the tokens are refused.
    let listed = client.get(TOKENS, &[basic("specter", "specter-password-1")]);
    assert_eq!(listed.status, 200);
    assert_eq!(
        listed.json()["jwt_tokens"][WALLET]["jwt_token_origin"],
        "specter"
    );
    assert_eq!(whoami(&client, &wallet), (401, "invalid_token".into()));
    // Run again with the key, from the environment this time, while the server runs.
    let (ok, out, err) = import(&dir, &[&users], &[("SPECTER_SECRET_KEY", KEY)]);
    assert!(ok, "{err}");
    assert!(out.contains("4 of 4 tokens keep working"), "{out}");
    assert_eq!(
        whoami_until_accepted(&client, &wallet),
        (200, "specter".into())
    );
}

/// `tokenlife migrate` carries Specter's key to PostgreSQL with the records.
#[test]
#[cfg_attr(
    not(tokenlife_test_pg),
    ignore = "PostgreSQL only: scripts/with-postgres.sh runs it"
)]
fn migrate_carries_specters_key_to_postgres() {
    let server_url = crate::harness::pg_url().expect("TOKENLIFE_TEST_PG");
    let data = TempDir::new("specter-migrate");
    let folder = data.join("json");
    let specter = Specter::make(&data.join("specter"), KEY);
    let users = specter.users.to_string_lossy().into_owned();
    let key_file = write_key_file(&data.join("specter"), KEY);
    let out = Command::new(BIN)
        .arg("--data")
        .arg(&folder)
        .args([
            "import-specter",
            &users,
            "--specter-secret-key-file",
            &key_file,
        ])
        .env_remove("SECRET_KEY")
        .env_remove("SPECTER_SECRET_KEY")
        .env_remove("TOKENLIFE_STORE")
        .output()
        .expect("tokenlife");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let name = format!("tl_specter_migrate_{}", std::process::id());
    crate::harness::sql(&server_url, &format!("CREATE DATABASE {name}"));
    let url = crate::harness::database_url(&server_url, &name);
    let none: [String; 0] = [];
    let (ok, out, err) = crate::harness::run_cli_with(
        &folder,
        &none,
        &["migrate", "--from", &folder.to_string_lossy(), "--to", &url],
        "",
    );
    assert!(ok, "{err}");
    assert!(out.contains("migrated 2 users, 4 tokens"), "{out}");
    let server = Server::start_on(&url, &data.join("pg"), &[]);
    let client = server.client();
    assert_eq!(
        whoami(&client, &specter.token(0, WALLET)),
        (200, "specter".into())
    );
    let listed = client
        .get(TOKENS, &[basic("specter", "specter-password-1")])
        .json();
    assert_eq!(listed["jwt_tokens"][WALLET]["jwt_token_origin"], "specter");
    assert_eq!(
        whoami(&client, &specter.forged("changed_exp")),
        (401, "invalid_token".into())
    );
}
