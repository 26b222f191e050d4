//! The web page's files: types, revalidation, no way out of the folders.

use crate::harness::{Server, TempDir};

#[test]
fn page_and_package_files() {
    let data = TempDir::new("static");
    let www = data.join("www");
    let pkg = data.join("pkg");
    std::fs::create_dir_all(pkg.join("snippets")).expect("mkdir");
    std::fs::create_dir_all(&www).expect("mkdir");
    std::fs::write(www.join("index.html"), "<!doctype html><title>t</title>").expect("write");
    std::fs::write(www.join("app.js"), "export {}").expect("write");
    std::fs::write(www.join("style.css"), "body{}").expect("write");
    std::fs::write(www.join(".hidden"), "no").expect("write");
    std::fs::write(pkg.join("tokenlife.js"), "export default 1").expect("write");
    std::fs::write(pkg.join("tokenlife_bg.wasm"), b"\0asm\x01\0\0\0").expect("write");
    std::fs::write(pkg.join("snippets").join("a.js"), "1").expect("write");
    std::fs::write(data.join("secret.txt"), "secret").expect("write");
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
    for (path, content_type, body) in [
        (
            "/",
            "text/html; charset=utf-8",
            &b"<!doctype html><title>t</title>"[..],
        ),
        (
            "/index.html",
            "text/html; charset=utf-8",
            b"<!doctype html><title>t</title>",
        ),
        ("/app.js", "text/javascript; charset=utf-8", b"export {}"),
        ("/style.css", "text/css; charset=utf-8", b"body{}"),
        (
            "/pkg/tokenlife.js",
            "text/javascript; charset=utf-8",
            b"export default 1",
        ),
        (
            "/pkg/tokenlife_bg.wasm",
            "application/wasm",
            b"\0asm\x01\0\0\0",
        ),
        ("/pkg/snippets/a.js", "text/javascript; charset=utf-8", b"1"),
    ] {
        let response = client.get(path, &[]);
        assert_eq!(response.status, 200, "{path}");
        assert_eq!(
            response.header("content-type"),
            Some(content_type),
            "{path}"
        );
        assert_eq!(response.header("cache-control"), Some("no-cache"), "{path}");
        assert_eq!(response.body, body, "{path}");
        let etag = response.header("etag").expect("ETag").to_owned();
        let again = client.get(path, &[("If-None-Match".into(), etag.clone())]);
        assert_eq!(again.status, 304, "{path}");
        assert!(again.body.is_empty());
    }
    // A rebuilt file gets a new ETag at once.
    let before = client
        .get("/app.js", &[])
        .header("etag")
        .expect("etag")
        .to_owned();
    std::thread::sleep(std::time::Duration::from_millis(20));
    std::fs::write(www.join("app.js"), "export const changed = 1").expect("write");
    let after = client.get("/app.js", &[("If-None-Match".into(), before.clone())]);
    assert_eq!(after.status, 200);
    assert_ne!(after.header("etag"), Some(before.as_str()));
    // Nothing outside the folders, nothing hidden, no directories.
    for path in [
        "/../secret.txt",
        "/..%2fsecret.txt",
        "/%2e%2e/secret.txt",
        "/pkg/../../secret.txt",
        "/pkg/..%2f..%2fsecret.txt",
        "/.hidden",
        "/pkg/",
        "/pkg/snippets",
        "/missing.js",
        "/pkg/missing.wasm",
    ] {
        let response = client.get(path, &[]);
        assert_eq!(response.status, 404, "{path}");
        assert_eq!(response.code(), "not_found", "{path}");
    }
    assert_eq!(client.send("POST", "/app.js", &[], Some(b"x")).status, 405);
}
