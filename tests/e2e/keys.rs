//! Signing-key rotation (`tokenlife keys rotate|list|retire`), on either store: two servers
//! on one store follow the CLI's changes at their next request, without a restart.

use serde_json::{Value, json};

use crate::harness::{Server, TempDir, basic, bearer, run_cli, run_cli_with, store_args};

const WHOAMI: &str = "/api/v1alpha/whoami";

/// The header of a token, as JSON.
pub(crate) fn header(token: &str) -> Value {
    tokenlife_core::decode_unverified(token)
        .expect("decode")
        .header_value()
}

/// `keys list` as rows of (kid, alg, created, state, tokens), header left out.
fn list(dir: &std::path::Path) -> Vec<Vec<String>> {
    list_with(dir, &store_args(dir))
}

/// [`list`] with explicit store arguments (none: the folder, whatever the run's store).
pub(crate) fn list_with(dir: &std::path::Path, store: &[String]) -> Vec<Vec<String>> {
    let (ok, out, err) = run_cli_with(dir, store, &["keys", "list"], "");
    assert!(ok, "keys list: {err}");
    let mut lines = out.lines();
    assert_eq!(lines.next(), Some("KID\tALG\tCREATED\tSTATE\tTOKENS"));
    lines
        .map(|line| line.split('\t').map(str::to_owned).collect())
        .collect()
}

fn rotate(dir: &std::path::Path, args: &[&str]) -> String {
    let mut all = vec!["keys", "rotate"];
    all.extend_from_slice(args);
    let (ok, out, err) = run_cli(dir, &all, "");
    assert!(ok, "keys rotate: {err}");
    out.strip_prefix("new signing key ")
        .and_then(|rest| rest.split_whitespace().next())
        .expect("the new kid")
        .to_owned()
}

#[test]
fn rotation_keeps_old_tokens_and_retirement_refuses_them_on_two_servers() {
    let data = TempDir::new("keys-rotate");
    let dir = data.join("data");
    let a = Server::start(&dir, &[]);
    let b = Server::start(&dir, &[]);
    let auth = basic("admin", a.admin_password.as_deref().expect("password"));
    let (ca, cb) = (a.client(), b.client());

    // HS256 tokens carry a kid too: 16 hex digits, the same on both servers.
    let old = ca.create(&auth, "before", json!("1h"));
    let old = old["jwt_token"].as_str().expect("token").to_owned();
    let old_kid = header(&old)["kid"].as_str().expect("kid").to_owned();
    assert_eq!(header(&old)["alg"], "HS256");
    assert!(
        old_kid.len() == 16 && old_kid.bytes().all(|b| b.is_ascii_hexdigit()),
        "{old_kid}"
    );
    let listed = list(&dir);
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0][0], old_kid);
    assert_eq!(
        (listed[0][3].as_str(), listed[0][4].as_str()),
        ("signing", "1")
    );

    // Rotate with the CLI while both run: b signs with the new key at its next create.
    let new_kid = rotate(&dir, &[]);
    assert_ne!(new_kid, old_kid);
    let new = cb.create(&auth, "after", json!("1h"));
    let new = new["jwt_token"].as_str().expect("token").to_owned();
    assert_eq!(header(&new)["kid"], new_kid.as_str());
    assert_eq!(header(&new)["alg"], "HS256");
    for client in [&ca, &cb] {
        for token in [&old, &new] {
            assert_eq!(client.get(WHOAMI, &[bearer(token)]).status, 200);
        }
    }
    let listed = list(&dir);
    let rows: Vec<(&str, &str, &str)> = listed
        .iter()
        .map(|row| (row[0].as_str(), row[3].as_str(), row[4].as_str()))
        .collect();
    assert_eq!(
        rows,
        [
            (old_kid.as_str(), "verifying", "1"),
            (new_kid.as_str(), "signing", "1")
        ]
    );

    // Without --yes: the count, a non-zero exit, nothing changed.
    let (ok, out, _) = run_cli(&dir, &["keys", "retire", &old_kid], "");
    assert!(!ok);
    assert!(out.contains("signed 1 valid tokens"), "{out}");
    assert_eq!(ca.get(WHOAMI, &[bearer(&old)]).status, 200);
    // The signing key and an unknown kid: one line each, non-zero.
    for (kid, says) in [(new_kid.as_str(), "rotate first"), ("nokid", "no key")] {
        let (ok, out, err) = run_cli(&dir, &["keys", "retire", kid, "--yes"], "");
        assert!(!ok && out.is_empty(), "{out}");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains(says), "{err}");
    }
    assert_eq!(list(&dir).len(), 2);

    // With --yes: the old key's token is refused at once by both servers (which had it in
    // their caches of verified tokens), the new one still works.
    let (ok, out, err) = run_cli(&dir, &["keys", "retire", &old_kid, "--yes"], "");
    assert!(ok, "{err}");
    assert!(out.contains("1 valid tokens"), "{out}");
    for client in [&ca, &cb] {
        let refused = client.get(WHOAMI, &[bearer(&old)]);
        assert_eq!(refused.status, 401, "{:?}", refused.json());
        assert_eq!(client.get(WHOAMI, &[bearer(&new)]).status, 200);
    }
    let listed = list(&dir);
    assert_eq!(listed.len(), 1);
    assert_eq!(
        (listed[0][0].as_str(), listed[0][3].as_str()),
        (new_kid.as_str(), "signing")
    );
    // The HS256 keys are never published.
    assert_eq!(
        ca.get("/.well-known/jwks.json", &[]).json(),
        json!({"keys": []})
    );
}

#[test]
fn rotation_to_eddsa_is_published_and_a_retired_key_leaves_the_jwks() {
    let data = TempDir::new("keys-eddsa");
    let dir = data.join("data");
    let server = Server::start(&dir, &[]);
    let auth = basic("admin", server.admin_password.as_deref().expect("password"));
    let client = server.client();
    let hs = client.create(&auth, "hs", json!("1h"));
    let hs = hs["jwt_token"].as_str().expect("token").to_owned();

    let first = rotate(&dir, &["--alg", "EdDSA"]);
    let jwks = client.get("/.well-known/jwks.json", &[]).json();
    let kids = |jwks: &Value| -> Vec<String> {
        jwks["keys"]
            .as_array()
            .expect("keys")
            .iter()
            .map(|key| key["kid"].as_str().expect("kid").to_owned())
            .collect()
    };
    assert_eq!(kids(&jwks), std::slice::from_ref(&first));
    let ed = client.create(&auth, "ed", json!("1h"));
    let ed = ed["jwt_token"].as_str().expect("token").to_owned();
    assert_eq!(header(&ed)["alg"], "EdDSA");
    assert_eq!(header(&ed)["kid"], first.as_str());

    // Same algorithm by default; both EdDSA keys are published while both verify.
    let second = rotate(&dir, &[]);
    let jwks = client.get("/.well-known/jwks.json", &[]).json();
    assert_eq!(kids(&jwks), [first.clone(), second.clone()]);
    let verifier = tokenlife_core::Verifier::from_jwks(&jwks.to_string()).expect("jwks");
    let now = crate::api::now() as f64;
    verifier
        .verify(&ed, &tokenlife_core::VerifyOptions::at(now))
        .expect("the first key's token verifies under the JWKS");
    for token in [&hs, &ed] {
        assert_eq!(client.get(WHOAMI, &[bearer(token)]).status, 200);
    }

    let (ok, _, err) = run_cli(&dir, &["keys", "retire", &first, "--yes"], "");
    assert!(ok, "{err}");
    let jwks = client.get("/.well-known/jwks.json", &[]).json();
    assert_eq!(kids(&jwks), [second]);
    assert_eq!(client.get(WHOAMI, &[bearer(&ed)]).status, 401);
    assert_eq!(client.get(WHOAMI, &[bearer(&hs)]).status, 200);
}
