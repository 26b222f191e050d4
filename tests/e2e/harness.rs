//! The test harness: a temporary data folder, the real binary on `127.0.0.1:0`, and a
//! small HTTP/1.1 client over `TcpStream` that can send anything (bad methods, bodies,
//! headers) and reads everything back.
//!
//! The store: when `TOKENLIFE_TEST_PG` names a PostgreSQL server
//! (`scripts/with-postgres.sh` sets it), every data folder stands for a fresh database
//! (`CREATE DATABASE tl_...` on its first use) and the binary runs with `--store`, so the
//! same tests run against both stores. Otherwise the JSON files of the folder.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_tokenlife");

/// Specter's message for every authentication failure.
pub const UNAUTHORIZED: &str = "The server could not verify that you are authorized to access the URL requested. You either supplied the wrong credentials (e.g. a bad password), or your browser doesn't understand how to supply the credentials required.";

/// A folder removed when dropped.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(name: &str) -> TempDir {
        static COUNT: AtomicUsize = AtomicUsize::new(0);
        let path = std::env::temp_dir().join(format!(
            "tokenlife-e2e-{name}-{}-{}",
            std::process::id(),
            COUNT.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("temp dir");
        TempDir(path)
    }

    pub fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The PostgreSQL server the tests run against, if any (`TOKENLIFE_TEST_PG`).
pub fn pg_url() -> Option<String> {
    std::env::var("TOKENLIFE_TEST_PG")
        .ok()
        .filter(|url| !url.is_empty())
}

/// Whether the tests run against PostgreSQL.
pub fn on_postgres() -> bool {
    pg_url().is_some()
}

/// The `--store` arguments for the data folder `data`: none for the JSON store; with
/// PostgreSQL, the database that stands for this folder, made on first use.
pub fn store_args(data: &Path) -> Vec<String> {
    let Some(server) = pg_url() else {
        return Vec::new();
    };
    static DATABASES: Mutex<Vec<(PathBuf, String)>> = Mutex::new(Vec::new());
    static COUNT: AtomicUsize = AtomicUsize::new(0);
    let mut databases = DATABASES.lock().unwrap_or_else(|e| e.into_inner());
    let url = match databases.iter().find(|(path, _)| path == data) {
        Some((_, url)) => url.clone(),
        None => {
            let name = format!(
                "tl_{}_{}",
                std::process::id(),
                COUNT.fetch_add(1, Ordering::Relaxed)
            );
            sql(&server, &format!("CREATE DATABASE {name}"));
            let url = database_url(&server, &name);
            databases.push((data.to_path_buf(), url.clone()));
            url
        }
    };
    vec!["--store".into(), url]
}

/// `url` with its database replaced by `name`.
pub fn database_url(url: &str, name: &str) -> String {
    let base = url.rsplit_once('/').map_or(url, |(base, _)| base);
    format!("{base}/{name}")
}

/// Runs `query` (simple protocol) on `url`; the rows, each as its columns' text.
pub fn sql(url: &str, query: &str) -> Vec<Vec<String>> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
            .await
            .expect("connect to PostgreSQL");
        tokio::spawn(connection);
        let messages = client.simple_query(query).await.expect(query);
        messages
            .into_iter()
            .filter_map(|message| match message {
                tokio_postgres::SimpleQueryMessage::Row(row) => Some(
                    (0..row.len())
                        .map(|i| row.get(i).unwrap_or("").to_owned())
                        .collect(),
                ),
                _ => None,
            })
            .collect()
    })
}

/// Everything the store of `data` holds, as text: the folder's files, or each row of the
/// database (one line each), to look for things that must never be stored.
pub fn stored_text(data: &Path) -> String {
    let args = store_args(data);
    match args.get(1) {
        Some(url) => sql(
            url,
            "SELECT u::text FROM users u UNION ALL SELECT t::text FROM tokens t \
             UNION ALL SELECT r::text FROM revoked r",
        )
        .into_iter()
        .map(|row| row.join(" "))
        .collect::<Vec<_>>()
        .join("\n"),
        None => {
            let mut text = String::new();
            for entry in std::fs::read_dir(data).expect("data folder") {
                let bytes = std::fs::read(entry.expect("entry").path()).unwrap_or_default();
                text.push_str(&String::from_utf8_lossy(&bytes));
                text.push('\n');
            }
            text
        }
    }
}

/// A running `tokenlife serve`.
pub struct Server {
    child: Child,
    pub port: u16,
    /// The admin password printed on a first start.
    pub admin_password: Option<String>,
    /// The port of `--metrics-listen`, when given.
    pub metrics_port: Option<u16>,
}

impl Server {
    /// Starts the binary on `data` with extra `serve` arguments and waits for
    /// `listening on http://...`.
    pub fn start(data: &Path, args: &[&str]) -> Server {
        Server::start_with_env(data, args, &[])
    }

    pub fn start_with_env(data: &Path, args: &[&str], env: &[(&str, &str)]) -> Server {
        Server::spawn(data, &store_args(data), args, env)
    }

    /// Starts the binary on the JSON files of `data`, whatever store the suite runs on.
    pub fn start_json(data: &Path, args: &[&str]) -> Server {
        Server::spawn(data, &[], args, &[])
    }

    /// Starts the binary on the PostgreSQL database `url` (a folder is still given, and
    /// left empty).
    pub fn start_on(url: &str, data: &Path, args: &[&str]) -> Server {
        Server::spawn(data, &["--store".into(), url.into()], args, &[])
    }

    fn spawn(data: &Path, store: &[String], args: &[&str], env: &[(&str, &str)]) -> Server {
        let mut command = Command::new(BIN);
        command
            .arg("--data")
            .arg(data)
            .args(store)
            .arg("serve")
            .args(["--listen", "127.0.0.1:0"])
            .args(args)
            .env_remove("SECRET_KEY")
            .env_remove("TOKENLIFE_DATA")
            .env_remove("TOKENLIFE_STORE")
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        for (key, value) in env {
            command.env(key, value);
        }
        Server::from_command(command)
    }

    /// Starts a `tokenlife serve` command made by the caller (its binary, folder and
    /// environment) and waits for `listening on http://...`; stdout must be piped.
    pub fn from_command(mut command: Command) -> Server {
        let mut child = command.spawn().expect("spawn tokenlife");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let mut admin_password = None;
        let mut metrics_port = None;
        let port_of = |addr: &str| addr.rsplit(':').next().and_then(|p| p.parse().ok());
        let port = loop {
            let line = lines
                .next()
                .expect("the server stopped before listening")
                .expect("stdout");
            if let Some(password) = line.strip_prefix("admin password: ") {
                admin_password = Some(password.to_owned());
            } else if let Some(addr) = line.strip_prefix("metrics on http://") {
                metrics_port = port_of(addr);
            } else if let Some(addr) = line
                .strip_prefix("listening on http://")
                .or_else(|| line.strip_prefix("listening on https://"))
            {
                break port_of(addr).expect("port");
            }
        };
        // Keep draining stdout so that the server never blocks on it.
        std::thread::spawn(move || for _ in lines {});
        Server {
            child,
            port,
            admin_password,
            metrics_port,
        }
    }

    /// Sends SIGTERM and waits for a clean exit.
    pub fn stop(mut self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        assert!(status.is_ok_and(|s| s.success()));
        let exit = self.child.wait().expect("wait");
        assert!(
            exit.success(),
            "the server exited with {exit:?} after SIGTERM"
        );
    }

    /// SIGKILL, no chance to clean up.
    pub fn kill9(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub fn client(&self) -> Client {
        Client { port: self.port }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs a `tokenlife` command with `stdin` and returns (success, stdout, stderr).
pub fn run_cli(data: &Path, args: &[&str], stdin: &str) -> (bool, String, String) {
    run_cli_with(data, &store_args(data), args, stdin)
}

/// [`run_cli`] with explicit store arguments (`--store URL`, or none for the folder).
pub fn run_cli_with(
    data: &Path,
    store: &[String],
    args: &[&str],
    stdin: &str,
) -> (bool, String, String) {
    let mut command = Command::new(BIN);
    command
        .arg("--data")
        .arg(data)
        .args(store)
        .args(args)
        .env_remove("SECRET_KEY")
        .env_remove("TOKENLIFE_STORE")
        .env("RUST_LOG", "warn");
    run_command(&mut command, stdin)
}

/// Runs `command` with `stdin` written to it; (success, stdout, stderr).
pub fn run_command(command: &mut Command, stdin: &str) -> (bool, String, String) {
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

/// An HTTP answer.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|err| {
            panic!(
                "not JSON ({err}): {:?} (status {})",
                String::from_utf8_lossy(&self.body),
                self.status
            )
        })
    }

    /// The `error` code of an error body.
    pub fn code(&self) -> String {
        self.json()["error"].as_str().unwrap_or("").to_owned()
    }

    pub fn message(&self) -> String {
        self.json()["message"].as_str().unwrap_or("").to_owned()
    }
}

/// A client for one server.
#[derive(Debug, Clone, Copy)]
pub struct Client {
    pub port: u16,
}

/// `Authorization: Basic ...`.
pub fn basic(user: &str, password: &str) -> (String, String) {
    (
        "Authorization".into(),
        format!("Basic {}", STANDARD.encode(format!("{user}:{password}"))),
    )
}

/// `Authorization: Bearer ...`.
pub fn bearer(token: &str) -> (String, String) {
    ("Authorization".into(), format!("Bearer {token}"))
}

impl Client {
    /// Sends one request on a fresh connection and reads the whole answer.
    pub fn send(
        &self,
        method: &str,
        path: &str,
        headers: &[(String, String)],
        body: Option<&[u8]>,
    ) -> Response {
        self.try_send(method, path, headers, body)
            .expect("a complete HTTP answer")
    }

    /// Like `send`, but `None` when the server is gone.
    pub fn try_send(
        &self,
        method: &str,
        path: &str,
        headers: &[(String, String)],
        body: Option<&[u8]>,
    ) -> Option<Response> {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).ok()?;
        stream
            .set_read_timeout(Some(Duration::from_secs(60)))
            .ok()?;
        let mut request =
            format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n");
        for (name, value) in headers {
            request.push_str(&format!("{name}: {value}\r\n"));
        }
        if let Some(body) = body {
            request.push_str(&format!("Content-Length: {}\r\n", body.len()));
        }
        request.push_str("\r\n");
        let mut bytes = request.into_bytes();
        if let Some(body) = body {
            bytes.extend_from_slice(body);
        }
        // The server may answer (413, 401) and close before reading all of a large body.
        let _ = stream.write_all(&bytes);
        let mut raw = Vec::new();
        let _ = stream.read_to_end(&mut raw);
        let response = parse_response(&raw)?;
        // Every answer is held to docs/openapi.json.
        crate::openapi::check(method, path, &response);
        Some(response)
    }

    pub fn get(&self, path: &str, headers: &[(String, String)]) -> Response {
        self.send("GET", path, headers, None)
    }

    /// DELETE without a body.
    pub fn delete(&self, path: &str, headers: &[(String, String)]) -> Response {
        self.send("DELETE", path, headers, None)
    }

    /// POST with a JSON body.
    pub fn post_json(&self, path: &str, headers: &[(String, String)], body: &Value) -> Response {
        let mut headers = headers.to_vec();
        headers.push(("Content-Type".into(), "application/json".into()));
        self.send("POST", path, &headers, Some(body.to_string().as_bytes()))
    }

    /// Creates a token and returns the 201 body.
    pub fn create(&self, auth: &(String, String), description: &str, life: Value) -> Value {
        let response = self.post_json(
            "/api/v1alpha/token/",
            std::slice::from_ref(auth),
            &serde_json::json!({ "jwt_token_description": description, "jwt_token_life": life }),
        );
        assert_eq!(
            response.status,
            201,
            "create {description}: {:?}",
            String::from_utf8_lossy(&response.body)
        );
        response.json()
    }
}

pub fn parse_response(raw: &[u8]) -> Option<Response> {
    let end = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&raw[..end]).into_owned();
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or("");
    let status = status_line.split(' ').nth(1).and_then(|s| s.parse().ok())?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let mut body = raw[end + 4..].to_vec();
    let chunked = headers
        .iter()
        .any(|(n, v)| n.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"));
    if chunked {
        body = dechunk(&body);
    }
    Some(Response {
        status,
        headers,
        body,
    })
}

fn dechunk(mut raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(line_end) = raw.windows(2).position(|w| w == b"\r\n") {
        let size = usize::from_str_radix(String::from_utf8_lossy(&raw[..line_end]).trim(), 16)
            .unwrap_or(0);
        if size == 0 {
            break;
        }
        let start = line_end + 2;
        out.extend_from_slice(&raw[start..start + size]);
        raw = &raw[start + size + 2..];
    }
    out
}

/// The users of a `users.json` as JSON.
pub fn read_users_json(data: &Path) -> Value {
    let text = std::fs::read_to_string(data.join("users.json")).expect("users.json");
    serde_json::from_str(&text).expect("users.json is valid JSON")
}

impl Server {
    /// The server's process id, to signal it.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits up to `limit` for the server to exit by itself (after a signal sent with
    /// [`Server::pid`]); `None` if it is still running then (it is killed when dropped).
    pub fn wait_for(mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        let start = std::time::Instant::now();
        while start.elapsed() < limit {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }
}
