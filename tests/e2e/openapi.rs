//! The API held to its OpenAPI document (`docs/openapi.json`): every answer any end-to-end
//! test receives through [`crate::harness::Client`] is checked here ([`check`], called by
//! the harness), so the document cannot drift from the server.
//!
//! For a path the document has (trailing slash or not, query ignored), an answer must have
//! a status the operation documents, the documented media type, the required headers, and
//! a body valid against the documented schema (JSON Schema 2020-12, formats checked). A
//! method the path does not document must answer `405` with an `Allow` header naming
//! exactly the documented methods. Paths the document does not have (the page, unknown
//! paths) are not checked here.

use std::collections::{BTreeSet, HashMap};
use std::sync::{LazyLock, Mutex};

use jsonschema::Validator;
use serde_json::{Value, json};

use crate::harness::{Client, Response, Server, TempDir, basic, bearer};

/// The document, as committed (and as the server embeds it).
const DOCUMENT: &str = include_str!("../../docs/openapi.json");

static DOC: LazyLock<Value> =
    LazyLock::new(|| serde_json::from_str(DOCUMENT).expect("docs/openapi.json is JSON"));

/// Compiled validators by the JSON pointer of their schema.
static VALIDATORS: LazyLock<Mutex<HashMap<String, std::sync::Arc<Validator>>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// Called by the harness for every answer: panics, naming the request, when the answer is
/// not one the document allows.
pub fn check(method: &str, target: &str, response: &Response) {
    if let Err(problem) = validate(method, target, response) {
        panic!(
            "{method} {target} answered {} against docs/openapi.json: {problem}\nbody: {}",
            response.status,
            String::from_utf8_lossy(&response.body)
        );
    }
}

/// Segments of a request target's path, without query, fragment or trailing slash.
fn segments(target: &str) -> Vec<&str> {
    let path = target.split(['?', '#']).next().unwrap_or("");
    let path = path.strip_suffix('/').unwrap_or(path);
    path.split('/').skip(1).collect()
}

/// The document's path template matching `target`, if any.
fn template_for(target: &str) -> Option<&'static str> {
    if !target.starts_with('/') {
        return None;
    }
    let wanted = segments(target);
    let paths = DOC["paths"].as_object()?;
    paths.keys().map(String::as_str).find(|template| {
        let parts = segments(template);
        parts.len() == wanted.len()
            && parts.iter().zip(&wanted).all(|(part, seg)| {
                (part.starts_with('{') && part.ends_with('}') && !seg.is_empty()) || part == seg
            })
    })
}

/// JSON pointer escaping of one token.
fn escape(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// Follows an OpenAPI `$ref` (within the document); the object and its pointer.
fn resolve(value: &'static Value, pointer: String) -> (&'static Value, String) {
    match value.get("$ref").and_then(Value::as_str) {
        Some(reference) => {
            let target = reference.strip_prefix('#').unwrap_or(reference);
            let found = DOC
                .pointer(target)
                .unwrap_or_else(|| panic!("docs/openapi.json: dangling $ref {reference}"));
            resolve(found, target.to_owned())
        }
        None => (value, pointer),
    }
}

/// A validator for the schema at `pointer`: the whole document with a root `$ref` to it,
/// so its own `$ref`s resolve within the document.
fn validator(pointer: &str) -> std::sync::Arc<Validator> {
    let mut cache = VALIDATORS.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(validator) = cache.get(pointer) {
        return std::sync::Arc::clone(validator);
    }
    let mut root = DOC.clone();
    root["$ref"] = Value::String(format!("#{}", uri_fragment(pointer)));
    let validator = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .should_validate_formats(true)
        .build(&root)
        .unwrap_or_else(|err| panic!("docs/openapi.json: schema at {pointer}: {err}"));
    let validator = std::sync::Arc::new(validator);
    cache.insert(pointer.to_owned(), std::sync::Arc::clone(&validator));
    validator
}

/// A JSON pointer as a URI fragment: `{`, `}` and the like percent-encoded.
fn uri_fragment(pointer: &str) -> String {
    pointer
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~/!$&'()*+,;=:@".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn schema_errors(pointer: &str, instance: &Value) -> Result<(), String> {
    let validator = validator(pointer);
    let errors: Vec<String> = validator
        .iter_errors(instance)
        .map(|err| format!("{} at {}", err, err.instance_path()))
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(format!("schema {pointer}: {}", errors.join("; ")))
    }
}

/// The documented methods of a path, upper case.
fn documented_methods(template: &str) -> BTreeSet<String> {
    METHODS
        .iter()
        .filter(|m| DOC["paths"][template].get(**m).is_some())
        .map(|m| m.to_ascii_uppercase())
        .collect()
}

/// `Ok` when the document allows this answer to this request.
pub fn validate(method: &str, target: &str, response: &Response) -> Result<(), String> {
    let Some(template) = template_for(target) else {
        return Ok(());
    };
    let path_item = &DOC["paths"][template];
    let lower = method.to_ascii_lowercase();
    let Some(operation) = path_item.get(lower.as_str()) else {
        let documented = documented_methods(template);
        if response.status != 405 {
            return Err(format!(
                "{method} is not documented for {template}: expected 405"
            ));
        }
        let allow: BTreeSet<String> = response
            .header("allow")
            .ok_or("a 405 without Allow")?
            .split(',')
            .map(|m| m.trim().to_owned())
            .collect();
        if allow != documented {
            return Err(format!("Allow {allow:?}, the document has {documented:?}"));
        }
        // A HEAD answer has no body.
        return if lower == "head" {
            Ok(())
        } else {
            error_body(response)
        };
    };
    let status = response.status.to_string();
    let responses_pointer = format!("/paths/{}/{lower}/responses", escape(template));
    let range = format!("{}XX", &status[..1]);
    let (key, documented) = [status.as_str(), range.as_str(), "default"]
        .into_iter()
        .find_map(|key| operation["responses"].get(key).map(|r| (key, r)))
        .ok_or_else(|| format!("status {status} is not documented for {method} {template}"))?;
    let (documented, pointer) = resolve(documented, format!("{responses_pointer}/{key}"));

    if let Some(headers) = documented.get("headers").and_then(Value::as_object) {
        for (name, header) in headers {
            let (header, header_pointer) =
                resolve(header, format!("{pointer}/headers/{}", escape(name)));
            let value = response.header(name);
            if header["required"] == true && value.is_none() {
                return Err(format!("the required header {name} is missing"));
            }
            if let Some(value) = value {
                let instance = if header["schema"]["type"] == "integer" {
                    value
                        .parse::<i64>()
                        .map(Value::from)
                        .map_err(|_| format!("header {name}: {value:?} is not an integer"))?
                } else {
                    Value::String(value.to_owned())
                };
                schema_errors(&format!("{header_pointer}/schema"), &instance)
                    .map_err(|err| format!("header {name}: {err}"))?;
            }
        }
    }

    let content = documented.get("content").and_then(Value::as_object);
    match content {
        None => {
            if !response.body.is_empty() {
                return Err("a body where the document has none".into());
            }
        }
        Some(_) if lower == "head" => {
            return Err("HEAD documented with content".into());
        }
        Some(content) => {
            let media = response
                .header("content-type")
                .map(|v| {
                    v.split(';')
                        .next()
                        .unwrap_or("")
                        .trim()
                        .to_ascii_lowercase()
                })
                .ok_or("no Content-Type")?;
            if !content.contains_key(&media) {
                return Err(format!("Content-Type {media} is not documented"));
            }
            let body: Value = serde_json::from_slice(&response.body)
                .map_err(|err| format!("the body is not JSON: {err}"))?;
            schema_errors(
                &format!("{pointer}/content/{}/schema", escape(&media)),
                &body,
            )?;
        }
    }
    Ok(())
}

/// A `405` body: `{message, error: "method_not_allowed"}`.
fn error_body(response: &Response) -> Result<(), String> {
    let body: Value = serde_json::from_slice(&response.body)
        .map_err(|err| format!("the body is not JSON: {err}"))?;
    schema_errors("/components/schemas/Error", &body)?;
    if body["error"] != "method_not_allowed" {
        return Err(format!("a 405 with error {}", body["error"]));
    }
    Ok(())
}

/// The server serves the committed document, with the cache headers of a static answer.
#[test]
fn the_server_serves_the_document() {
    let data = TempDir::new("openapi-doc");
    let server = Server::start(&data.join("data"), &[]);
    let client = server.client();
    for path in ["/api/v1alpha/openapi.json", "/api/v1alpha/openapi.json/"] {
        let response = client.get(path, &[]);
        assert_eq!(response.status, 200);
        assert_eq!(response.header("content-type"), Some("application/json"));
        assert_eq!(response.header("cache-control"), Some("no-cache"));
        assert_eq!(response.json(), *DOC);
        let etag = response.header("etag").expect("an ETag").to_owned();
        let again = client.get(path, &[("If-None-Match".into(), etag.clone())]);
        assert_eq!(again.status, 304);
        assert!(again.body.is_empty());
        assert_eq!(again.header("etag"), Some(etag.as_str()));
        let other = client.get(path, &[("If-None-Match".into(), "\"other\"".into())]);
        assert_eq!(other.status, 200);
    }
    assert_eq!(DOC["openapi"], "3.1.0");
    assert_eq!(
        DOC["info"]["version"].as_str(),
        Some(env!("CARGO_PKG_VERSION")),
        "info.version follows the crate's version"
    );
}

/// Every documented path answers an undocumented method with `405` and an `Allow` header
/// naming exactly the documented methods (RFC 9110), and every documented operation is
/// reached with the statuses a test can make; each answer goes through [`check`].
#[test]
fn every_operation_answers_as_documented() {
    let data = TempDir::new("openapi-tour");
    let server = Server::start(&data.join("data"), &[]);
    let client = server.client();
    let password = server.admin_password.clone().expect("admin password");
    let admin = basic("admin", &password);
    let wrong = basic("admin", "not the password");

    let paths: Vec<&str> = DOC["paths"]
        .as_object()
        .expect("paths")
        .keys()
        .map(String::as_str)
        .collect();
    let id = "00000000-0000-4000-8000-000000000000";
    for template in &paths {
        let path = template
            .replace("{jwt_token_id}", id)
            .replace("{username}", "admin");
        let documented = documented_methods(template);
        for method in ["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"] {
            if !documented.contains(method) {
                let response = client.send(method, &path, std::slice::from_ref(&admin), None);
                assert_eq!(response.status, 405, "{method} {path}");
                assert!(response.header("allow").is_some(), "{method} {path}");
            }
        }
    }

    let tokens = "/api/v1alpha/token/";
    assert_eq!(client.get(tokens, std::slice::from_ref(&admin)).status, 404);
    assert_eq!(client.get(tokens, &[]).status, 401);
    assert_eq!(client.get(tokens, std::slice::from_ref(&wrong)).status, 401);
    let created = client.create(&admin, "tour", json!("1h"));
    let token = created["jwt_token"].as_str().expect("jwt_token").to_owned();
    let id = created["jwt_token_id"].as_str().expect("id").to_owned();
    let scoped = client.post_json(
        tokens,
        std::slice::from_ref(&admin),
        &json!({"jwt_token_description": "scoped", "jwt_token_life": 60,
                "jwt_token_endpoints": ["GET /api/v1alpha/wallets/*"]}),
    );
    assert_eq!(scoped.status, 201);
    let scoped = scoped.json()["jwt_token"]
        .as_str()
        .expect("token")
        .to_owned();
    for body in [
        json!({"jwt_token_description": "tour", "jwt_token_life": "1h"}),
        json!({"jwt_token_description": " ", "jwt_token_life": "1h"}),
        json!({"jwt_token_description": "x", "jwt_token_life": "soon"}),
        json!({"jwt_token_description": "x"}),
        json!([1]),
    ] {
        let response = client.post_json(tokens, std::slice::from_ref(&admin), &body);
        assert_eq!(response.status, 400, "{body}");
    }
    let not_json = client.send(
        "POST",
        tokens,
        std::slice::from_ref(&admin),
        Some(&b"{}"[..]),
    );
    assert_eq!(not_json.status, 415);
    let large = vec![b' '; 70 * 1024];
    let headers = [
        admin.clone(),
        ("Content-Type".into(), "application/json".into()),
    ];
    assert_eq!(
        client
            .send("POST", tokens, &headers, Some(large.as_slice()))
            .status,
        413
    );
    assert_eq!(client.get(tokens, std::slice::from_ref(&admin)).status, 200);

    let one = format!("{tokens}{id}/");
    assert_eq!(client.get(&one, std::slice::from_ref(&admin)).status, 200);
    assert_eq!(client.get(&one, &[]).status, 401);

    let whoami = "/api/v1alpha/whoami";
    assert_eq!(client.get(whoami, &[bearer(&token)]).status, 200);
    assert_eq!(client.get(whoami, &[bearer(&scoped)]).status, 403);
    assert_eq!(client.get(whoami, &[]).status, 401);
    assert_eq!(client.get(whoami, &[bearer("a.b.c")]).status, 401);

    let auth = "/api/v1alpha/auth";
    for method in ["GET", "HEAD", "POST"] {
        let ok = client.send(method, auth, &[bearer(&token)], None);
        assert_eq!(ok.status, 200, "{method}");
        assert_eq!(ok.header("x-auth-token-id"), Some(id.as_str()));
        assert_eq!(client.send(method, auth, &[], None).status, 401);
        let refused = [bearer(&token), ("X-Forwarded-Uri".into(), "nope".into())];
        assert_eq!(client.send(method, auth, &refused, None).status, 403);
        let elsewhere = [
            bearer(&scoped),
            ("X-Forwarded-Method".into(), "GET".into()),
            ("X-Forwarded-Uri".into(), "/api/v1alpha/other".into()),
        ];
        assert_eq!(client.send(method, auth, &elsewhere, None).status, 403);
    }

    for path in [
        "/.well-known/jwks.json",
        "/api/v1alpha/revoked",
        "/api/healthz/liveness",
        "/api/healthz/readyness",
    ] {
        assert_eq!(client.get(path, &[]).status, 200, "{path}");
    }

    assert_eq!(
        client.delete(&one, std::slice::from_ref(&admin)).status,
        200
    );
    assert_eq!(
        client.delete(&one, std::slice::from_ref(&admin)).status,
        404
    );
    assert_eq!(client.get(&one, std::slice::from_ref(&admin)).status, 404);
    assert_eq!(client.get(whoami, &[bearer(&token)]).status, 401);
    let revoked = client.get("/api/v1alpha/revoked", &[]).json();
    assert_eq!(revoked["revoked"][0]["jwt_token_id"], id.as_str());

    // Issue 16: regenerate and the admin view (tests/e2e/admin.rs has the rest).
    let again = client.create(&admin, "again", json!("1h"));
    let again_id = again["jwt_token_id"].as_str().expect("id");
    let regenerate = format!("{tokens}{again_id}/regenerate");
    assert_eq!(
        client
            .send("POST", &regenerate, std::slice::from_ref(&admin), None)
            .status,
        201
    );
    assert_eq!(
        client
            .send("POST", &regenerate, std::slice::from_ref(&admin), None)
            .status,
        404
    );
    let every = "/api/v1alpha/admin/tokens";
    assert_eq!(client.get(every, std::slice::from_ref(&admin)).status, 200);
    assert_eq!(
        client
            .get(
                &format!("{every}?user=nobody"),
                std::slice::from_ref(&admin)
            )
            .status,
        404
    );
    assert_eq!(client.get(every, &[]).status, 401);
    let gone = format!("/api/v1alpha/admin/token/admin/{again_id}");
    assert_eq!(
        client.delete(&gone, std::slice::from_ref(&admin)).status,
        404
    );

    for _ in 0..20 {
        let response = client.get(tokens, std::slice::from_ref(&wrong));
        if response.status == 429 {
            return;
        }
        assert_eq!(response.status, 401);
    }
    panic!("twenty wrong passwords were never throttled");
}

/// An EdDSA server's key set matches the document's schema.
#[test]
fn an_eddsa_key_set_is_documented() {
    let data = TempDir::new("openapi-eddsa");
    let server = Server::start(&data.join("data"), &["--alg", "EdDSA"]);
    let keys = server.client().get("/.well-known/jwks.json", &[]);
    assert_eq!(keys.status, 200);
    assert_eq!(keys.json()["keys"].as_array().map(Vec::len), Some(1));
}

/// The check itself refuses drift: an answer with a field missing, a status the document
/// does not list, a wrong `Allow`, a missing challenge header.
#[test]
fn the_check_refuses_answers_the_document_does_not_allow() {
    let data = TempDir::new("openapi-drift");
    let server = Server::start(&data.join("data"), &[]);
    let client: Client = server.client();
    let admin = basic("admin", server.admin_password.as_deref().expect("password"));
    let created = client.create(&admin, "drift", json!(60));
    let token = created["jwt_token"].as_str().expect("token");
    let whoami = client.get("/api/v1alpha/whoami", &[bearer(token)]);
    validate("GET", "/api/v1alpha/whoami", &whoami).expect("the real answer is documented");

    let mut body = whoami.json();
    body.as_object_mut()
        .expect("object")
        .remove("expiry_status");
    let mut missing_field = whoami.clone();
    missing_field.body = body.to_string().into_bytes();
    assert!(validate("GET", "/api/v1alpha/whoami", &missing_field).is_err());

    let mut wrong_type = whoami.clone();
    let mut body = whoami.json();
    body["jwt_token_life"] = json!("60");
    wrong_type.body = body.to_string().into_bytes();
    assert!(validate("GET", "/api/v1alpha/whoami/", &wrong_type).is_err());

    let mut undocumented = whoami.clone();
    undocumented.status = 404;
    let err = validate("GET", "/api/v1alpha/whoami", &undocumented).expect_err("404");
    assert!(err.contains("not documented"), "{err}");

    let unauthorized = client.get("/api/v1alpha/token/", &[]);
    validate("GET", "/api/v1alpha/token/", &unauthorized).expect("documented");
    let mut no_challenge = unauthorized.clone();
    no_challenge
        .headers
        .retain(|(name, _)| !name.eq_ignore_ascii_case("www-authenticate"));
    assert!(validate("GET", "/api/v1alpha/token/", &no_challenge).is_err());
    let mut unknown_code = unauthorized.clone();
    unknown_code.body = br#"{"message": "x", "error": "nope"}"#.to_vec();
    assert!(validate("GET", "/api/v1alpha/token/", &unknown_code).is_err());

    let put = client.send("PUT", "/api/v1alpha/token/", &[], None);
    validate("PUT", "/api/v1alpha/token/", &put).expect("405 with Allow");
    let mut wrong_allow = put.clone();
    for (name, value) in &mut wrong_allow.headers {
        if name.eq_ignore_ascii_case("allow") {
            *value = "GET".into();
        }
    }
    assert!(validate("PUT", "/api/v1alpha/token/", &wrong_allow).is_err());
    let mut no_allow = put.clone();
    no_allow
        .headers
        .retain(|(name, _)| !name.eq_ignore_ascii_case("allow"));
    assert!(validate("PUT", "/api/v1alpha/token/", &no_allow).is_err());
}
