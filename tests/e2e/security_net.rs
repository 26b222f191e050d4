//! Connections (issue 11, items 5 and 8): header and idle timeouts, the connection cap,
//! the open-file limit, a SIGTERM just after `listening on`, and hyper's own 400 and 431.
//! Each test runs the server with small limits so that it is quick; the counts of
//! connections are bounded.

use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::harness::{BIN, Server, TempDir, basic, store_args};

const LIVENESS: &str = "/api/healthz/liveness";

/// Whether the server has closed `stream`: EOF or a reset within `wait`.
fn closed_within(mut stream: &TcpStream, wait: Duration) -> bool {
    let start = Instant::now();
    let mut buf = [0u8; 4096];
    while start.elapsed() < wait {
        let _ = stream.set_read_timeout(Some(Duration::from_millis(200)));
        match stream.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => {}
            Err(err) if matches!(err.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => return true,
        }
    }
    false
}

/// Whether `stream` is still open (no EOF within a short look).
fn still_open(stream: &TcpStream) -> bool {
    !closed_within(stream, Duration::from_millis(50))
}

/// One keep-alive GET on `stream`; the status and body of the answer.
fn get_keep_alive(stream: &mut TcpStream, path: &str) -> (u16, Vec<u8>) {
    stream
        .write_all(format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").as_bytes())
        .expect("write");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    let mut raw = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = stream.read(&mut buf).expect("read the answer");
        assert!(n > 0, "the connection closed before the answer");
        raw.extend_from_slice(&buf[..n]);
        if let Some(end) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&raw[..end]).to_ascii_lowercase();
            let length: usize = head
                .lines()
                .find_map(|line| line.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse().ok())
                .expect("content-length");
            if raw.len() >= end + 4 + length {
                let status = head
                    .split(' ')
                    .nth(1)
                    .and_then(|s| s.parse().ok())
                    .expect("status");
                return (status, raw[end + 4..end + 4 + length].to_vec());
            }
        }
    }
}

/// Sends `bytes` on a fresh connection and reads everything back: (status, body), or
/// `None` when no answer came before the connection ended.
fn exchange(port: u16, bytes: &[u8]) -> Option<(u16, Vec<u8>)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .ok()?;
    let _ = stream.write_all(bytes);
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw);
    let end = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&raw[..end]).into_owned();
    let status = head.split(' ').nth(1)?.parse().ok()?;
    Some((status, raw[end + 4..].to_vec()))
}

/// Liveness on a fresh connection; its status, or `None` when no answer came.
fn liveness(port: u16) -> Option<u16> {
    exchange(
        port,
        format!("GET {LIVENESS} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            .as_bytes(),
    )
    .map(|(status, _)| status)
}

/// `tokenlife serve` started through `sh -c` after `shell` (a `ulimit` line), on the
/// JSON files or the suite's store; the process and its port.
fn spawn_through_shell(data: &Path, shell: &str, args: &[&str]) -> (Child, u16) {
    let mut command_line = format!("{shell}; exec \"$0\" --data \"$1\"");
    let mut positional = vec![BIN.to_owned(), data.display().to_string()];
    let mut rest: Vec<String> = store_args(data);
    rest.extend(["serve", "--listen", "127.0.0.1:0"].map(String::from));
    rest.extend(args.iter().map(|a| (*a).to_owned()));
    for arg in rest {
        positional.push(arg);
        command_line.push_str(&format!(" \"${{{}}}\"", positional.len() - 1));
    }
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(&command_line)
        .args(&positional)
        .env_remove("TOKENLIFE_DATA")
        .env_remove("TOKENLIFE_STORE")
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn sh");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let port = loop {
        let line = lines
            .next()
            .expect("the server stopped before listening")
            .expect("stdout");
        if let Some(addr) = line.strip_prefix("listening on http://") {
            break addr
                .rsplit(':')
                .next()
                .and_then(|p| p.parse().ok())
                .expect("port");
        }
    };
    std::thread::spawn(move || for _ in lines {});
    (child, port)
}

/// The soft and hard open-file limits of process `pid`.
fn file_limits(pid: u32) -> (u64, u64) {
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).expect("limits");
    let line = limits
        .lines()
        .find(|line| line.starts_with("Max open files"))
        .expect("Max open files");
    let numbers: Vec<u64> = line
        .split_whitespace()
        .filter_map(|word| word.parse().ok())
        .collect();
    (numbers[0], numbers[1])
}

fn stop(mut child: Child) {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let exit = child.wait().expect("wait");
    assert!(
        exit.success(),
        "the server exited with {exit:?} after SIGTERM"
    );
}

#[test]
fn a_slowloris_head_is_closed_after_the_header_timeout() {
    let data = TempDir::new("slowloris");
    let server = Server::start(
        &data.join("data"),
        &["--header-timeout", "2s", "--idle-timeout", "30s"],
    );
    let mut stream = TcpStream::connect(("127.0.0.1", server.port)).expect("connect");
    stream
        .write_all(b"GET /api/healthz/liveness HTTP/1.1\r\nX-Slow: ")
        .expect("write");
    let start = Instant::now();
    // One byte a second, as long as the server keeps the connection (30 s at most).
    let mut sent = 0;
    let closed = loop {
        if start.elapsed() > Duration::from_secs(30) {
            break false;
        }
        if stream.write_all(b"a").is_err() || !still_open(&stream) {
            break true;
        }
        sent += 1;
        std::thread::sleep(Duration::from_secs(1));
    };
    let held = start.elapsed();
    eprintln!("slowloris: closed={closed} after {held:?}, {sent} bytes dribbled");
    assert!(
        closed,
        "a head sent one byte a second was still open after {held:?}"
    );
    assert!(
        held < Duration::from_secs(25),
        "closed only after {held:?} (header timeout 2 s)"
    );
    // The server is still there for everyone else.
    assert_eq!(liveness(server.port), Some(200));
    server.stop();
}

#[test]
fn a_connection_that_sends_nothing_is_closed_after_the_header_timeout() {
    let data = TempDir::new("silent");
    let server = Server::start(
        &data.join("data"),
        &["--header-timeout", "2s", "--idle-timeout", "60s"],
    );
    let stream = TcpStream::connect(("127.0.0.1", server.port)).expect("connect");
    let start = Instant::now();
    assert!(
        closed_within(&stream, Duration::from_secs(30)),
        "a connection that never sent a byte was kept 30 s"
    );
    eprintln!("silent connection closed after {:?}", start.elapsed());
    server.stop();
}

#[test]
fn an_idle_keep_alive_connection_is_closed_after_the_idle_timeout() {
    let data = TempDir::new("idle");
    let server = Server::start(
        &data.join("data"),
        &["--header-timeout", "1s", "--idle-timeout", "4s"],
    );
    let mut stream = TcpStream::connect(("127.0.0.1", server.port)).expect("connect");
    // Two requests on the connection: it is kept alive between them.
    assert_eq!(get_keep_alive(&mut stream, LIVENESS).0, 200);
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(
        get_keep_alive(&mut stream, LIVENESS).0,
        200,
        "a kept-alive connection waiting longer than the header timeout (but less than the \
         idle timeout) for its next request still serves it"
    );
    let start = Instant::now();
    let closed = closed_within(&stream, Duration::from_secs(40));
    let held = start.elapsed();
    eprintln!("idle keep-alive connection: closed={closed} after {held:?}");
    assert!(closed, "an idle kept-alive connection was kept {held:?}");
    assert!(
        held >= Duration::from_secs(3),
        "closed after {held:?}, before the idle timeout (4 s)"
    );
    server.stop();
}

#[test]
fn a_request_body_sent_too_slowly_is_answered_400() {
    let data = TempDir::new("slow-body");
    let server = Server::start(
        &data.join("data"),
        &["--header-timeout", "2s", "--idle-timeout", "60s"],
    );
    let mut stream = half_sent_create(
        &server,
        "Content-Type: application/json\r\n",
        1000,
        b"{\"jwt",
    );
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    let start = Instant::now();
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw);
    let text = String::from_utf8_lossy(&raw);
    eprintln!("slow body answered after {:?}", start.elapsed());
    assert!(
        text.starts_with("HTTP/1.1 400 "),
        "a body that never came: {text:?}"
    );
    assert!(text.contains("\"error\":\"invalid_body\""), "{text:?}");
    server.stop();
}

#[test]
fn liveness_answers_while_idle_and_slow_connections_hold_the_cap() {
    let data = TempDir::new("cap");
    let server = Server::start(
        &data.join("data"),
        &[
            "--max-connections",
            "50",
            "--header-timeout",
            "120s",
            "--idle-timeout",
            "120s",
        ],
    );
    // 60 connections that send nothing and 20 that dribble a head: more than the cap.
    let silent: Vec<TcpStream> = (0..60)
        .map(|_| TcpStream::connect(("127.0.0.1", server.port)).expect("connect"))
        .collect();
    let slow: Vec<TcpStream> = (0..20)
        .map(|_| {
            let mut stream = TcpStream::connect(("127.0.0.1", server.port)).expect("connect");
            let _ = stream.write_all(b"GET / HTTP/1.1\r\nX-Slow: a");
            stream
        })
        .collect();
    for _ in 0..3 {
        assert_eq!(
            liveness(server.port),
            Some(200),
            "liveness while 80 idle or slow connections are held (cap 50)"
        );
    }
    std::thread::sleep(Duration::from_millis(500));
    let open_silent = silent.iter().filter(|s| still_open(s)).count();
    let open_slow = slow.iter().filter(|s| still_open(s)).count();
    eprintln!(
        "cap 50: of 60 silent and 20 slow connections, {open_silent} and {open_slow} still open"
    );
    assert!(
        open_silent + open_slow <= 50,
        "{} attacker connections open over a cap of 50",
        open_silent + open_slow
    );
    // The oldest gave way first.
    assert!(
        !still_open(&silent[0]),
        "the oldest idle connection is the first closed"
    );
    assert!(still_open(&slow[19]), "the newest connection is kept");
    server.stop();
}

#[test]
fn the_soft_open_file_limit_is_raised_to_the_hard_limit() {
    let data = TempDir::new("nofile-soft");
    let dir = data.join("data");
    std::fs::create_dir_all(&dir).expect("dir");
    let (child, port) = spawn_through_shell(&dir, "ulimit -S -n 256", &[]);
    let (soft, hard) = file_limits(child.id());
    eprintln!("started with a soft limit of 256: now soft {soft}, hard {hard}");
    assert!(soft > 256, "the soft limit stayed at {soft}");
    assert_eq!(soft, hard, "the soft limit is raised to the hard limit");
    assert_eq!(liveness(port), Some(200));
    stop(child);
}

#[test]
fn a_low_hard_file_limit_lowers_the_cap_and_the_server_keeps_accepting() {
    let data = TempDir::new("nofile-hard");
    let dir = data.join("data");
    std::fs::create_dir_all(&dir).expect("dir");
    // Hard and soft at 128: the cap of 1024 is lowered to 64.
    let (child, port) = spawn_through_shell(
        &dir,
        "ulimit -n 128",
        &["--header-timeout", "120s", "--idle-timeout", "120s"],
    );
    assert_eq!(file_limits(child.id()), (128, 128));
    // 150 idle connections: more than the process can hold open.
    let held: Vec<TcpStream> = (0..150)
        .map(|_| TcpStream::connect(("127.0.0.1", port)).expect("connect"))
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    for _ in 0..3 {
        assert_eq!(
            liveness(port),
            Some(200),
            "liveness with 150 idle connections and 128 file descriptors"
        );
    }
    drop(held);
    stop(child);
}

#[test]
fn sigterm_right_after_listening_stops_cleanly() {
    let data = TempDir::new("early-term");
    let dir = data.join("data");
    for round in 0..20 {
        let mut command = Command::new(BIN);
        command
            .arg("--data")
            .arg(&dir)
            .args(store_args(&dir))
            .args(["serve", "--listen", "127.0.0.1:0"])
            .env_remove("TOKENLIFE_DATA")
            .env_remove("TOKENLIFE_STORE")
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        let mut child = command.spawn().expect("spawn");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        loop {
            let line = lines
                .next()
                .expect("the server stopped before listening")
                .expect("stdout");
            if line.starts_with("listening on http://") {
                break;
            }
        }
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        let exit = child.wait().expect("wait");
        assert!(
            exit.success(),
            "start {round}: SIGTERM just after `listening on` ended the server with {exit:?}"
        );
        if store_args(&dir).is_empty() {
            let journal = std::fs::metadata(dir.join("users.journal")).map_or(0, |m| m.len());
            assert_eq!(journal, 0, "start {round}: the journal was not folded");
            assert!(dir.join("users.json").exists());
        }
    }
}

#[test]
fn requests_hyper_cannot_parse_get_a_bare_status() {
    let data = TempDir::new("bare-status");
    let server = Server::start(&data.join("data"), &[]);
    // A malformed request line: 400 from hyper, with no body (README says so).
    let (status, body) =
        exchange(server.port, b"GET /a b c HTTP/1.1\r\nHost: x\r\n\r\n").expect("an answer");
    assert_eq!(status, 400);
    assert!(body.is_empty(), "{:?}", String::from_utf8_lossy(&body));
    let (status, body) = exchange(server.port, b"\x16\x03\x01\x02\x00\x01\x00\r\n\r\n")
        .expect("an answer to bytes that are not HTTP");
    assert_eq!(status, 400);
    assert!(body.is_empty());
    // A 64 KiB header: 431, no body.
    let big = "a".repeat(64 * 1024);
    let request = format!("GET {LIVENESS} HTTP/1.1\r\nHost: x\r\nX-Big: {big}\r\n\r\n");
    let (status, body) = exchange(server.port, request.as_bytes()).expect("an answer");
    assert_eq!(status, 431);
    assert!(body.is_empty());
    // A 40 KiB URI counts in the head: 431 as well.
    let request = format!(
        "GET /{big} HTTP/1.1\r\nHost: x\r\n\r\n",
        big = "a".repeat(40 * 1024)
    );
    let (status, body) = exchange(server.port, request.as_bytes()).expect("an answer");
    assert_eq!(status, 431);
    assert!(body.is_empty());
    // Just under the limit (32 KiB of head) is served.
    let fits = "a".repeat(30 * 1024);
    let request =
        format!("GET {LIVENESS} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Big: {fits}\r\n\r\n");
    let (status, _) = exchange(server.port, request.as_bytes()).expect("an answer");
    assert_eq!(status, 200);
    // Everything the application answers is JSON, errors included.
    let (status, body) = exchange(
        server.port,
        b"GET /api/v1alpha/whoami HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    .expect("an answer");
    assert_eq!(status, 401);
    let json: serde_json::Value = serde_json::from_slice(&body).expect("JSON");
    assert!(json["error"].is_string());
    server.stop();
}

#[test]
fn sigterm_lets_a_request_in_flight_finish_and_closes_idle_connections() {
    let data = TempDir::new("grace");
    let dir = data.join("data");
    let server = Server::start(
        &dir,
        &["--header-timeout", "30s", "--shutdown-grace", "60s"],
    );
    let port = server.port;
    // An idle kept-alive connection, and a create whose body is half sent.
    let idle = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    let body = br#"{"jwt_token_description":"in flight","jwt_token_life":"1 hour"}"#;
    let mut stream = half_sent_create(
        &server,
        "Content-Type: application/json\r\nConnection: close\r\n",
        body.len(),
        &body[..10],
    );
    std::thread::sleep(Duration::from_millis(500));
    let pid = server.pid();
    let _ = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status();
    // The idle connection is closed at once; the request in flight goes on.
    assert!(
        closed_within(&idle, Duration::from_secs(30)),
        "an idle connection was kept after SIGTERM"
    );
    stream.write_all(&body[10..]).expect("the rest of the body");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw);
    let text = String::from_utf8_lossy(&raw);
    assert!(
        text.starts_with("HTTP/1.1 201 "),
        "the request in flight at SIGTERM: {text:?}"
    );
    let exit = server
        .wait_for(Duration::from_secs(60))
        .expect("the server stopped after its last request");
    assert!(exit.success(), "{exit:?}");
    // No new connection is accepted any more.
    assert_eq!(liveness(port), None);
    if store_args(&dir).is_empty() {
        let users = std::fs::read_to_string(dir.join("users.json")).expect("users.json");
        assert!(users.contains("in flight"), "the token was folded in");
    }
}

#[test]
fn the_shutdown_grace_bounds_a_request_that_never_ends() {
    let data = TempDir::new("grace-bound");
    let server = Server::start(
        &data.join("data"),
        &["--header-timeout", "120s", "--shutdown-grace", "2s"],
    );
    let stream = half_sent_create(&server, "", 100, b"{");
    std::thread::sleep(Duration::from_millis(500));
    let _ = Command::new("kill")
        .args(["-TERM", &server.pid().to_string()])
        .status();
    let start = Instant::now();
    let exit = server
        .wait_for(Duration::from_secs(60))
        .expect("the server stopped though a request never ended");
    eprintln!(
        "stopped {:?} after SIGTERM with a request held",
        start.elapsed()
    );
    assert!(exit.success(), "{exit:?}");
    assert!(closed_within(&stream, Duration::from_secs(5)));
}

#[test]
fn cleartext_http2_is_not_spoken() {
    let data = TempDir::new("h2c");
    let server = Server::start(&data.join("data"), &[]);
    // HTTP/2 with prior knowledge: the preface, then an empty SETTINGS frame.
    let mut preface = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec();
    preface.extend_from_slice(&[0, 0, 0, 4, 0, 0, 0, 0, 0]);
    let mut stream = TcpStream::connect(("127.0.0.1", server.port)).expect("connect");
    stream.write_all(&preface).expect("write");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw);
    assert!(
        raw.is_empty() || raw.starts_with(b"HTTP/1.1 "),
        "an HTTP/2 answer to the h2c preface: {raw:?}"
    );
    // An upgrade request is answered in HTTP/1.1, not switched.
    let (status, _) = exchange(
        server.port,
        format!(
            "GET {LIVENESS} HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings, close\r\n\
             Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\r\n\r\n"
        )
        .as_bytes(),
    )
    .expect("an answer");
    assert_eq!(status, 200);
    server.stop();
}

/// A create by the admin whose head is sent whole (with `headers` and a `Content-Length` of
/// `length`) and whose body stops after `first`: the connection, left open.
fn half_sent_create(server: &Server, headers: &str, length: usize, first: &[u8]) -> TcpStream {
    let password = server.admin_password.as_deref().expect("admin password");
    let (name, value) = basic("admin", password);
    let mut stream = TcpStream::connect(("127.0.0.1", server.port)).expect("connect");
    let head = format!(
        "POST /api/v1alpha/token/ HTTP/1.1\r\nHost: 127.0.0.1\r\n{name}: {value}\r\n\
         {headers}Content-Length: {length}\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).expect("write");
    stream.write_all(first).expect("write");
    stream
}
