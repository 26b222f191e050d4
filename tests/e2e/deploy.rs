//! Deployment: the binary alone (under chroot, nothing else reachable) serves the page, the package
//! and the API (the files are built in); every `serve` flag from the environment only;
//! `tokenlife health` for container health checks.
//!
//! `TOKENLIFE_ALONE_BIN` runs the binary-alone test on another build of the same tree,
//! such as the static one (`scripts/build-static.sh --test`).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::{Value, json};

use crate::harness::{BIN, Server, TempDir, basic, bearer, run_command, store_args};

/// The repository's top (the tests compare the served files with its `www/` and
/// `wasm/pkg/`).
fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn read(path: PathBuf) -> Vec<u8> {
    std::fs::read(&path).unwrap_or_else(|err| panic!("{}: {err}", path.display()))
}

/// The claims of a compact JWS, unverified.
fn claims(token: &str) -> Value {
    use base64::Engine;
    let payload = token.split('.').nth(1).expect("a JWS");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .expect("base64url");
    serde_json::from_slice(&bytes).expect("JSON claims")
}

/// Runs `bin ARGS` in `cwd` with nothing of this environment but what is given.
fn run(bin: &Path, cwd: &Path, args: &[&str], stdin: &str) -> (bool, String, String) {
    let mut command = Command::new(bin);
    command
        .current_dir(cwd)
        .args(args)
        .env_clear()
        .env("RUST_LOG", "warn");
    run_command(&mut command, stdin)
}

/// A folder holding only `bin` (as `/tokenlife`) and the shared libraries it loads
/// (`ldd`; none for a static build), to run it under `chroot`: nothing else of this
/// machine, the repository included, is reachable from it.
fn alone_root(bin: &Path) -> TempDir {
    let root = TempDir::new("alone");
    std::fs::copy(bin, root.join("tokenlife")).expect("copy the binary");
    let ldd = Command::new("ldd").arg(bin).output().expect("ldd");
    for line in String::from_utf8_lossy(&ldd.stdout).lines() {
        let Some(lib) = line.split_whitespace().find(|word| word.starts_with('/')) else {
            continue;
        };
        let inside = root.0.join(lib.trim_start_matches('/'));
        std::fs::create_dir_all(inside.parent().expect("a folder")).expect("mkdir");
        std::fs::copy(lib, &inside).expect("copy a library");
    }
    root
}

/// `chroot ROOT /tokenlife ARGS`, with nothing of this environment (needs root, as on
/// the project's machines and CI).
fn chrooted(root: &Path, args: &[&str]) -> Command {
    let mut command = Command::new("chroot");
    command
        .arg(root)
        .arg("/tokenlife")
        .args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("RUST_LOG", "warn");
    command
}

#[test]
#[cfg_attr(
    tokenlife_no_pkg,
    ignore = "wasm/pkg/ was not built before this binary: run bash scripts/build-wasm.sh"
)]
fn the_binary_alone_serves_the_page_the_package_and_the_api() {
    let source =
        std::env::var_os("TOKENLIFE_ALONE_BIN").map_or_else(|| PathBuf::from(BIN), PathBuf::from);
    let root = alone_root(&source);
    // No flag but the port: the data folder is ./tokenlife-data, in the new root.
    let mut command = chrooted(&root.0, &["serve", "--listen", "127.0.0.1:0"]);
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let server = Server::from_command(command);
    let client = server.client();

    for (path, file, content_type) in [
        (
            "/",
            repo().join("www/index.html"),
            "text/html; charset=utf-8",
        ),
        (
            "/app.js",
            repo().join("www/app.js"),
            "text/javascript; charset=utf-8",
        ),
        (
            "/pkg/tokenlife.js",
            repo().join("wasm/pkg/tokenlife.js"),
            "text/javascript; charset=utf-8",
        ),
        (
            "/pkg/tokenlife_bg.wasm",
            repo().join("wasm/pkg/tokenlife_bg.wasm"),
            "application/wasm",
        ),
    ] {
        let response = client.get(path, &[]);
        assert_eq!(response.status, 200, "{path}");
        assert_eq!(
            response.header("content-type"),
            Some(content_type),
            "{path}"
        );
        assert_eq!(response.header("cache-control"), Some("no-cache"), "{path}");
        assert!(
            response
                .header("content-security-policy")
                .is_some_and(|p| p.contains("'wasm-unsafe-eval'")),
            "{path}"
        );
        assert!(
            response.body == read(file),
            "{path}: not the repository's file"
        );
        let etag = response.header("etag").expect("ETag").to_owned();
        let again = client.get(path, &[("If-None-Match".into(), etag)]);
        assert_eq!(again.status, 304, "{path}");
    }
    assert!(
        client
            .get("/pkg/tokenlife_bg.wasm", &[])
            .body
            .starts_with(b"\0asm")
    );
    assert_eq!(client.get("/pkg/missing.js", &[]).status, 404);

    // The command line, from the same folder, on the same default data folder.
    let password = "alone in a folder";
    let mut add = chrooted(&root.0, &["user", "add", "alice"]);
    let (ok, _, err) = run_command(&mut add, &format!("{password}\n"));
    assert!(ok, "user add: {err}");
    let created = client.create(&basic("alice", password), "alone", json!("1h"));
    let token = created["jwt_token"].as_str().expect("token");
    let whoami = client.get("/api/v1alpha/whoami", &[bearer(token)]);
    assert_eq!(whoami.status, 200);
    assert_eq!(whoami.json()["username"], "alice");
    assert!(root.join("tokenlife-data").join("users.json").is_file());
    server.stop();
}

#[test]
fn every_serve_flag_from_the_environment() {
    let folder = TempDir::new("env");
    let data = folder.join("data");
    let www = folder.join("www");
    let pkg = folder.join("pkg");
    std::fs::create_dir_all(&www).expect("mkdir");
    std::fs::create_dir_all(&pkg).expect("mkdir");
    std::fs::write(www.join("index.html"), "<!doctype html><title>env</title>").expect("write");
    std::fs::write(pkg.join("tokenlife.js"), "export const env = 1").expect("write");
    let mut command = Command::new(BIN);
    command
        .current_dir(&folder.0)
        .arg("serve")
        .env_clear()
        .env("RUST_LOG", "warn")
        .env("TOKENLIFE_DATA", &data)
        .env("TOKENLIFE_LISTEN", "127.0.0.1:0")
        .env("TOKENLIFE_ALG", "EdDSA")
        .env("TOKENLIFE_MAX_LIFE", "2h")
        .env("TOKENLIFE_ISSUER", "from-the-environment")
        .env("TOKENLIFE_WWW", &www)
        .env("TOKENLIFE_PKG", &pkg)
        .env("TOKENLIFE_FORWARD_HEADERS", "nginx")
        .env("TOKENLIFE_HEADER_TIMEOUT", "5s")
        .env("TOKENLIFE_IDLE_TIMEOUT", "30s")
        .env("TOKENLIFE_MAX_CONNECTIONS", "64")
        .env("TOKENLIFE_SHUTDOWN_GRACE", "5s")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    if let Some(url) = store_args(&data).get(1) {
        command.env("TOKENLIFE_STORE", url);
    }
    let server = Server::from_command(command);
    let client = server.client();
    let admin = basic(
        "admin",
        server.admin_password.as_deref().expect("a first start"),
    );

    let jwks = client.get("/.well-known/jwks.json", &[]).json();
    assert_eq!(jwks["keys"][0]["kty"], "OKP", "{jwks}");
    let too_long = client.post_json(
        "/api/v1alpha/token/",
        std::slice::from_ref(&admin),
        &json!({ "jwt_token_description": "long", "jwt_token_life": "3h" }),
    );
    assert_eq!(too_long.status, 400);
    let created = client.create(&admin, "env", json!("2h"));
    let token = created["jwt_token"].as_str().expect("token");
    assert_eq!(claims(token)["iss"], "from-the-environment");
    assert_eq!(
        client.get("/", &[]).body,
        b"<!doctype html><title>env</title>"
    );
    assert_eq!(
        client.get("/pkg/tokenlife.js", &[]).body,
        b"export const env = 1"
    );
    // nginx's headers only: Traefik's alone are refused.
    let traefik = client.get(
        "/api/v1alpha/auth",
        &[
            bearer(token),
            ("X-Forwarded-Method".into(), "GET".into()),
            ("X-Forwarded-Uri".into(), "/x".into()),
        ],
    );
    let nginx = client.get(
        "/api/v1alpha/auth",
        &[
            bearer(token),
            ("X-Original-Method".into(), "GET".into()),
            ("X-Original-URI".into(), "/x".into()),
        ],
    );
    assert_eq!(
        nginx.status,
        200,
        "{:?}",
        String::from_utf8_lossy(&nginx.body)
    );
    assert_ne!(traefik.status, 200);
    if store_args(&data).is_empty() {
        assert!(data.join("users.json").is_file(), "TOKENLIFE_DATA not used");
    }
    server.stop();

    // A bad value from the environment stops the start with one line naming it.
    let mut bad = Command::new(BIN);
    let out = bad
        .current_dir(&folder.0)
        .args(["serve", "--data", "d"])
        .env_clear()
        .env("TOKENLIFE_ALG", "RS256")
        .output()
        .expect("run");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("RS256") && err.contains("--alg"), "{err}");
}

#[test]
fn health_checks_a_server() {
    let data = TempDir::new("health");
    let server = Server::start(&data.join("data"), &[]);
    let base = format!("http://127.0.0.1:{}", server.port);
    let health = |args: &[&str]| {
        let mut all = vec!["health"];
        all.extend_from_slice(args);
        run(Path::new(BIN), &data.0, &all, "")
    };
    for path in ["/api/healthz/liveness", "/api/healthz/readyness"] {
        let (ok, out, err) = health(&["--url", &format!("{base}{path}")]);
        assert!(ok, "{path}: {err}");
        assert!(out.contains("200"), "{out}");
    }
    // No --url: the liveness endpoint of TOKENLIFE_LISTEN, as in the container image.
    let mut command = Command::new(BIN);
    command
        .arg("health")
        .env_clear()
        .env("TOKENLIFE_LISTEN", format!("0.0.0.0:{}", server.port));
    let (ok, out, err) = run_command(&mut command, "");
    assert!(ok, "{err}");
    assert!(
        out.contains("127.0.0.1") && out.contains("/api/healthz/liveness"),
        "{out}"
    );
    let (ok, _, err) = health(&["--url", &format!("{base}/api/healthz/missing")]);
    assert!(!ok);
    assert!(
        err.starts_with("tokenlife: ") && err.contains("404"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
    for url in [
        format!("https://127.0.0.1:{}/", server.port),
        "http://".into(),
    ] {
        let (ok, _, err) = health(&["--url", &url]);
        assert!(!ok, "{url}");
        assert_eq!(err.lines().count(), 1, "{err}");
    }
    server.stop();
    // Nobody listens there any more.
    let (ok, _, err) = health(&["--url", &format!("{base}/api/healthz/liveness")]);
    assert!(!ok);
    assert!(err.starts_with("tokenlife: http://127.0.0.1:"), "{err}");
}

#[test]
fn a_missing_page_folder_stops_the_start_before_the_store() {
    let folder = TempDir::new("nowww");
    let data = folder.join("data");
    for flag in ["--www", "--pkg"] {
        let missing = folder.join("missing");
        let (ok, out, err) = run(
            Path::new(BIN),
            &folder.0,
            &[
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--data",
                data.to_str().expect("utf-8"),
                flag,
                missing.to_str().expect("utf-8"),
            ],
            "",
        );
        assert!(!ok, "{flag}: {out}");
        assert_eq!(
            err.trim(),
            format!("tokenlife: {flag} {}: no such folder", missing.display())
        );
        assert!(!data.exists(), "{flag}: the store was opened");
    }
}
