//! Deployment: the binary copied alone into an empty folder serves the page, the package
//! and the API (the files are built in).
//!
//! `TOKENLIFE_ALONE_BIN` runs the binary-alone test on another build of the same tree,
//! such as the static one (`scripts/build-static.sh --test`).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::json;

use crate::harness::{BIN, Server, TempDir, basic, bearer};

/// The repository's top (the tests compare the served files with its `www/` and
/// `wasm/pkg/`).
fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn read(path: PathBuf) -> Vec<u8> {
    std::fs::read(&path).unwrap_or_else(|err| panic!("{}: {err}", path.display()))
}

/// Runs `command` with `stdin`; (success, stdout, stderr).
fn run_with(command: &mut Command, stdin: &str) -> (bool, String, String) {
    use std::io::Write;
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn tokenlife");
    if let Some(mut input) = child.stdin.take() {
        let _ = input.write_all(stdin.as_bytes());
    }
    let out = child.wait_with_output().expect("wait");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
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
    let (ok, _, err) = run_with(&mut add, &format!("{password}\n"));
    assert!(ok, "user add: {err}");
    let created = client.create(&basic("alice", password), "alone", json!("1h"));
    let token = created["jwt_token"].as_str().expect("token");
    let whoami = client.get("/api/v1alpha/whoami", &[bearer(token)]);
    assert_eq!(whoami.status, 200);
    assert_eq!(whoami.json()["username"], "alice");
    assert!(root.join("tokenlife-data").join("users.json").is_file());
    server.stop();
}
