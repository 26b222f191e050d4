//! Upgrade from the previous release (commit f1e2ab8, before issue 16): today's binary
//! started on data written as that release wrote it. Then a data folder had no
//! `keyring.json`, only the key file `hs256.key` (32 bytes in hex); token headers had no
//! `kid`, and neither had the records of `users.json`; a PostgreSQL schema stopped at
//! migration 2. The old data is made here byte for byte as that release wrote it (its
//! formats read with `git show f1e2ab8:server/src/store/json/format.rs`,
//! `.../store/keys.rs`, `core/src/claims.rs`, `core/src/sign.rs`): the token is signed
//! as its `Signer` did (jsonwebtoken's `Header::new(HS256)`, the raw key bytes as the
//! HMAC secret), and its record is `TokenRecord::new`, which writes no `kid` for a
//! kid-less header and none of the members issue 16 added until they are set.

use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokenlife_core::{Claims, Life, TokenId, TokenRecord};

use crate::harness::{Server, TempDir, basic, bearer, run_cli_with};

const TOKENS: &str = "/api/v1alpha/token/";
const WHOAMI: &str = "/api/v1alpha/whoami";
/// The old release's HS256 key, as its `hs256.key` (or `signing_keys` row) held it.
const OLD_KEY: [u8; 32] = *b"an old release's hs256 key bytes";
const PASSWORD: &str = "old-admin-password";

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// HMAC-SHA256 (RFC 2104), written out so that the test signs without today's code.
fn hmac_sha256(key: &[u8; 32], message: &[u8]) -> [u8; 32] {
    let mut ipad = [0x36u8; 64];
    let mut opad = [0x5cu8; 64];
    for (i, byte) in key.iter().enumerate() {
        ipad[i] ^= byte;
        opad[i] ^= byte;
    }
    let inner = Sha256::new()
        .chain_update(ipad)
        .chain_update(message)
        .finalize();
    Sha256::new()
        .chain_update(opad)
        .chain_update(inner)
        .finalize()
        .into()
}

/// A token as the old release signed it (no `kid`), and its record in `users.json`.
fn old_token(username: &str, id: u8, description: &str) -> (String, String, TokenRecord) {
    let life = Life::parse("1 day").expect("life");
    let claims = Claims::new(
        username,
        TokenId::from_random_bytes([id; 16]),
        description,
        life,
        now() - 60,
        "tokenlife",
    )
    .expect("claims");
    // jsonwebtoken's Header::new(Algorithm::HS256), serialised: typ first, no kid.
    let header = URL_SAFE_NO_PAD.encode(br#"{"typ":"JWT","alg":"HS256"}"#);
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).expect("claims"));
    let input = format!("{header}.{payload}");
    let signature = URL_SAFE_NO_PAD.encode(hmac_sha256(&OLD_KEY, input.as_bytes()));
    let token = format!("{input}.{signature}");
    let record = TokenRecord::new(&claims, &token);
    assert_eq!(record.kid, None, "an old token's record has no kid");
    (token, claims.jwt_token_id, record)
}

/// The password record of [`PASSWORD`] as the old release wrote it (an Argon2id PHC string).
fn old_password() -> String {
    use argon2::password_hash::PasswordHasher;
    argon2::Argon2::default()
        .hash_password_with_salt(PASSWORD.as_bytes(), b"an old salt, 16+")
        .expect("hash")
        .to_string()
}

fn write_private(path: &Path, text: &str) {
    use std::io::Write;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .expect("create");
    file.write_all(text.as_bytes()).expect("write");
}

/// An old release's data folder: today's server starts on it, its token works, its
/// revoked token stays refused, its key becomes the keyring's signing key, a rotation
/// keeps the old token working, and every file stays private.
#[test]
fn a_folder_of_the_previous_release_keeps_working() {
    let data = TempDir::new("upgrade-json");
    let dir = data.join("old");
    std::fs::DirBuilder::new()
        .mode(0o700)
        .create(&dir)
        .expect("folder");
    let (token, id, record) = old_token("admin", 1, "old script");
    let (gone, gone_id, gone_record) = old_token("admin", 2, "deleted");
    let users = json!([{
        "id": "admin",
        "username": "admin",
        "password": old_password(),
        "is_admin": true,
        "jwt_tokens": { &id: record },
    }]);
    let users_text = serde_json::to_string_pretty(&users).expect("users");
    assert!(!users_text.contains("kid"), "{users_text}");
    write_private(&dir.join("users.json"), &users_text);
    let revoked = json!({ "revoked": { &gone_id: gone_record.exp } });
    write_private(
        &dir.join("revoked.json"),
        &serde_json::to_string_pretty(&revoked).expect("revoked"),
    );
    let hex: String = OLD_KEY.iter().map(|b| format!("{b:02x}")).collect();
    write_private(&dir.join("hs256.key"), &format!("{hex}\n"));

    let server = Server::start_json(&dir, &[]);
    assert_eq!(server.admin_password, None, "the old admin is kept");
    let client = server.client();
    let auth = basic("admin", PASSWORD);

    // The old record lists as it was: no kid, never used.
    let list = client.get(TOKENS, std::slice::from_ref(&auth));
    assert_eq!(list.status, 200);
    let listed = &list.json()["jwt_tokens"][&id];
    assert_eq!(listed["jwt_token_description"], "old script", "{listed}");
    assert_eq!(listed["jwt_token_last_used"], Value::Null, "{listed}");
    assert!(listed.get("kid").is_none_or(Value::is_null), "{listed}");
    let detail = client.get(&format!("{TOKENS}{id}"), std::slice::from_ref(&auth));
    assert_eq!(detail.status, 200);
    assert_eq!(detail.json()["jwt_token_last_used"], Value::Null);

    // The kid-less token passes whoami and forward auth; the revoked one stays refused.
    let whoami = client.get(WHOAMI, &[bearer(&token)]);
    assert_eq!(whoami.status, 200);
    assert_eq!(whoami.json()["jwt_token_id"], id.as_str());
    let forwarded = client.get(
        "/api/v1alpha/auth",
        &[
            bearer(&token),
            ("X-Forwarded-Method".into(), "GET".into()),
            ("X-Forwarded-Uri".into(), "/anything".into()),
        ],
    );
    assert_eq!(forwarded.status, 200);
    assert_eq!(forwarded.header("x-auth-user"), Some("admin"));
    assert_eq!(client.get(WHOAMI, &[bearer(&gone)]).code(), "token_revoked");

    // The old key is the keyring's signing key, under its HS256 kid.
    let old_kid = tokenlife_core::hs256_kid(&OLD_KEY);
    let rows = crate::keys::list_with(&dir, &[]);
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(
        (
            rows[0][0].as_str(),
            rows[0][1].as_str(),
            rows[0][3].as_str()
        ),
        (old_kid.as_str(), "HS256", "signing"),
        "{rows:?}"
    );

    // A rotation: the old token still works, new tokens carry the new key's kid.
    let (ok, out, err) = run_cli_with(&dir, &[], &["keys", "rotate"], "");
    assert!(ok, "keys rotate: {err}");
    let new_kid = out
        .strip_prefix("new signing key ")
        .and_then(|rest| rest.split_whitespace().next())
        .expect("the new kid")
        .to_owned();
    assert_ne!(new_kid, old_kid);
    assert_eq!(client.get(WHOAMI, &[bearer(&token)]).status, 200);
    let created = client.create(&auth, "after the upgrade", json!("1h"));
    let new = created["jwt_token"].as_str().expect("token");
    assert_eq!(crate::keys::header(new)["kid"], new_kid.as_str());
    assert_eq!(client.get(WHOAMI, &[bearer(new)]).status, 200);
    assert_eq!(client.get(WHOAMI, &[bearer(&gone)]).code(), "token_revoked");
    server.stop();

    // Every file of the folder, old and new, is private.
    for entry in std::fs::read_dir(&dir).expect("read folder") {
        let entry = entry.expect("entry");
        let meta = entry.metadata().expect("metadata");
        if meta.is_file() {
            assert_eq!(
                meta.permissions().mode() & 0o777,
                0o600,
                "{}",
                entry.path().display()
            );
        }
    }
}

/// An old release's database (schema version 2, as its migration runner left it): today's
/// server migrates it to the latest version at start and the old token works.
#[test]
#[cfg_attr(
    not(tokenlife_test_pg),
    ignore = "PostgreSQL only: scripts/with-postgres.sh runs it"
)]
fn a_database_of_the_previous_release_is_migrated_and_keeps_working() {
    let server_url = crate::harness::pg_url().expect("TOKENLIFE_TEST_PG");
    let name = format!("tl_upgrade_{}", std::process::id());
    crate::harness::sql(&server_url, &format!("DROP DATABASE IF EXISTS {name}"));
    crate::harness::sql(&server_url, &format!("CREATE DATABASE {name}"));
    let url = crate::harness::database_url(&server_url, &name);
    // The old runner: its version table, then each migration and its row. 0001 and 0002
    // are unchanged since f1e2ab8 (`git diff f1e2ab8 -- server/migrations` adds files only).
    let migrations = concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/");
    let mut setup = String::from(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, \
         name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now());\n",
    );
    for (version, name, file) in [
        (1, "init", "0001_init.sql"),
        (2, "specter", "0002_specter.sql"),
    ] {
        let sql = std::fs::read_to_string(format!("{migrations}{file}")).expect("migration");
        setup.push_str(&sql);
        setup.push_str(&format!(
            "\nINSERT INTO schema_migrations (version, name) VALUES ({version}, '{name}');\n"
        ));
    }
    let (token, id, record) = old_token("admin", 3, "old script");
    let (gone, gone_id, gone_record) = old_token("admin", 4, "deleted");
    let password = serde_json::to_string(&old_password()).expect("password");
    let hex: String = OLD_KEY.iter().map(|b| format!("{b:02x}")).collect();
    setup.push_str(&format!(
        "INSERT INTO users (username, id, password, is_admin) VALUES ('admin', 'admin', '{password}', true);\n\
         INSERT INTO tokens (id, username, description, life, iat, exp, fingerprint) VALUES \
         ('{id}', 'admin', '{}', {}, {}, {}, '{}');\n\
         INSERT INTO revoked (id, exp) VALUES ('{gone_id}', {});\n\
         INSERT INTO signing_keys (name, value) VALUES ('hs256', '\\x{hex}');\n",
        record.jwt_token_description,
        record.jwt_token_life,
        record.iat,
        record.exp,
        record.fingerprint,
        gone_record.exp,
    ));
    crate::harness::sql(&url, &setup);
    assert_eq!(
        crate::harness::sql(&url, "SELECT max(version) FROM schema_migrations"),
        vec![vec!["2".to_owned()]]
    );

    let data = TempDir::new("upgrade-pg");
    let server = Server::start_on(&url, &data.join("unused"), &[]);
    assert_eq!(server.admin_password, None, "the old admin is kept");
    let latest = std::fs::read_dir(migrations)
        .expect("migrations")
        .filter_map(|entry| {
            let name = entry.ok()?.file_name().into_string().ok()?;
            name.get(..4)?.parse::<u32>().ok()
        })
        .max()
        .expect("a migration");
    assert_eq!(
        crate::harness::sql(&url, "SELECT max(version) FROM schema_migrations"),
        vec![vec![latest.to_string()]]
    );
    let client = server.client();
    let auth = basic("admin", PASSWORD);
    let whoami = client.get(WHOAMI, &[bearer(&token)]);
    assert_eq!(whoami.status, 200);
    assert_eq!(whoami.json()["jwt_token_id"], id.as_str());
    assert_eq!(client.get(WHOAMI, &[bearer(&gone)]).code(), "token_revoked");
    let listed = client.get(TOKENS, std::slice::from_ref(&auth)).json();
    let listed = &listed["jwt_tokens"][&id];
    assert_eq!(listed["jwt_token_description"], "old script", "{listed}");
    assert!(listed.get("kid").is_none_or(Value::is_null), "{listed}");
    // New tokens carry a kid, and the old token still works beside them.
    let created = client.create(&auth, "after the upgrade", json!("1h"));
    let new = created["jwt_token"].as_str().expect("token");
    assert_eq!(
        crate::keys::header(new)["kid"],
        tokenlife_core::hs256_kid(&OLD_KEY).as_str()
    );
    assert_eq!(client.get(WHOAMI, &[bearer(new)]).status, 200);
    assert_eq!(client.get(WHOAMI, &[bearer(&token)]).status, 200);
    server.stop();
    crate::harness::sql(&server_url, &format!("DROP DATABASE IF EXISTS {name}"));
}
