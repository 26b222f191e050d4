//! The two documents edge verifiers poll, `/.well-known/jwks.json` and
//! `/api/v1alpha/revoked`: a strong `ETag` over the body, `304` with no body for a matching
//! `If-None-Match`, `Cache-Control: max-age` (60 s and 10 s).

use serde_json::json;

use crate::harness::{Client, Response, Server, TempDir, basic};

fn if_none_match(value: &str) -> Vec<(String, String)> {
    vec![("If-None-Match".into(), value.into())]
}

/// A 200 with a strong tag and the max-age; its tag.
fn fresh(response: &Response, max_age: &str) -> String {
    assert_eq!(response.status, 200, "{response:?}");
    assert_eq!(response.header("cache-control"), Some(max_age));
    let tag = response.header("etag").expect("an ETag").to_owned();
    assert!(
        tag.len() > 2 && tag.starts_with('"') && tag.ends_with('"'),
        "a strong tag: {tag}"
    );
    tag
}

/// The same document asked with `tag` in every form a client may send it.
fn assert_not_modified(client: &Client, path: &str, tag: &str, max_age: &str) {
    let weak = format!("W/{tag}");
    let listed = format!("\"other\", {tag}");
    for value in [tag, weak.as_str(), listed.as_str(), "*"] {
        let response = client.get(path, &if_none_match(value));
        assert_eq!(response.status, 304, "{path} with {value}: {response:?}");
        assert!(response.body.is_empty(), "a 304 has no body");
        assert_eq!(response.header("etag"), Some(tag), "{path} with {value}");
        assert_eq!(response.header("cache-control"), Some(max_age));
    }
}

#[test]
fn jwks_is_tagged_and_revalidated() {
    let data = TempDir::new("cache-jwks");
    let server = Server::start(&data.join("data"), &["--alg", "EdDSA"]);
    let client = server.client();
    let path = "/.well-known/jwks.json";
    let first = client.get(path, &[]);
    let tag = fresh(&first, "max-age=60");
    assert_eq!(first.json()["keys"].as_array().map(Vec::len), Some(1));
    assert_eq!(fresh(&client.get(path, &[]), "max-age=60"), tag);
    assert_not_modified(&client, path, &tag, "max-age=60");
    for other in ["\"other\"", "W/\"other\"", "other", ""] {
        let response = client.get(path, &if_none_match(other));
        assert_eq!(fresh(&response, "max-age=60"), tag, "with {other}");
        assert_eq!(response.body, first.body);
    }

    // Another document, another tag: an HS256 server publishes no keys.
    let data = TempDir::new("cache-jwks-hs");
    let server = Server::start(&data.join("data"), &[]);
    let response = server.client().get(path, &if_none_match(&tag));
    assert_ne!(fresh(&response, "max-age=60"), tag);
    assert_eq!(response.json()["keys"], json!([]));
}

#[test]
fn revoked_changes_its_tag_with_each_revocation() {
    let data = TempDir::new("cache-revoked");
    let server = Server::start(&data.join("data"), &[]);
    let client = server.client();
    let auth = basic(
        "admin",
        server.admin_password.as_deref().expect("admin password"),
    );
    let path = "/api/v1alpha/revoked";
    let empty = fresh(&client.get(path, &[]), "max-age=10");
    assert_not_modified(&client, path, &empty, "max-age=10");

    // A created token changes nothing; deleting it does.
    let created = client.create(&auth, "edge", json!("1 hour"));
    let id = created["jwt_token_id"].as_str().expect("id");
    assert_eq!(client.get(path, &if_none_match(&empty)).status, 304);
    let deleted = client.delete(
        &format!("/api/v1alpha/token/{id}/"),
        std::slice::from_ref(&auth),
    );
    assert_eq!(deleted.status, 200);
    let response = client.get(path, &if_none_match(&empty));
    let one = fresh(&response, "max-age=10");
    assert_ne!(one, empty);
    assert_eq!(response.json()["revoked"][0]["jwt_token_id"], json!(id));
    assert_not_modified(&client, path, &one, "max-age=10");
}

#[test]
fn other_answers_stay_uncached() {
    let data = TempDir::new("cache-others");
    let server = Server::start(&data.join("data"), &[]);
    let response = server
        .client()
        .get("/api/healthz/liveness", &if_none_match("*"));
    assert_eq!(response.status, 200);
    assert_eq!(response.header("cache-control"), Some("no-store"));
    assert_eq!(response.header("etag"), None);
}
