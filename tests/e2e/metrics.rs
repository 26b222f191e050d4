//! `serve --metrics-listen`: `GET /metrics` on its own address, read with the Prometheus
//! Python client's parser (tests/metrics/parse.py, in the venv scripts/metrics-parser.sh
//! makes), its counts held to the requests the test made.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::harness::{Response, Server, TempDir, basic, bearer, on_postgres, parse_response};

/// The venv's Python, made by `scripts/metrics-parser.sh` (run by `scripts/setup.sh test`).
fn python() -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let python = root.join("tests/metrics/.venv/bin/python");
    assert!(
        python.exists(),
        "{} is missing: run `bash scripts/metrics-parser.sh` (or `bash scripts/setup.sh test`)",
        python.display()
    );
    python
}

/// One plain GET on `port`, connection closed after it.
fn get(port: u16, path: &str) -> Response {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .expect("timeout");
    let request = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).expect("write");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).expect("read");
    parse_response(&raw).expect("an HTTP answer")
}

/// The metric families of `/metrics` as the Prometheus parser read them.
struct Families(Vec<Value>);

impl Families {
    fn scrape(port: u16) -> Families {
        let response = get(port, "/metrics");
        assert_eq!(response.status, 200);
        assert_eq!(
            response.header("content-type"),
            Some("text/plain; version=0.0.4; charset=utf-8")
        );
        let mut child = Command::new(python())
            .arg(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../tests/metrics/parse.py"
            ))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("python");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(&response.body)
            .expect("write");
        let out = child.wait_with_output().expect("parser");
        assert!(
            out.status.success(),
            "the Prometheus parser refused the text: {}\n{}",
            String::from_utf8_lossy(&out.stderr),
            String::from_utf8_lossy(&response.body)
        );
        let families: Value = serde_json::from_slice(&out.stdout).expect("JSON");
        Families(families.as_array().expect("list").clone())
    }

    /// The family `name` (as the parser names it: counters without `_total`), checked to
    /// be of `kind`.
    fn family(&self, name: &str, kind: &str) -> &Value {
        let family = self
            .0
            .iter()
            .find(|family| family["name"] == name)
            .unwrap_or_else(|| panic!("no family {name}"));
        assert_eq!(family["type"], kind, "{name}");
        family
    }

    fn has(&self, name: &str) -> bool {
        self.0.iter().any(|family| family["name"] == name)
    }

    /// The value of the sample `sample` of family `name` whose labels include `labels`;
    /// 0 when there is none (a count never made is not written).
    fn value(&self, name: &str, kind: &str, sample: &str, labels: &[(&str, &str)]) -> f64 {
        let found: Vec<f64> = self.family(name, kind)["samples"]
            .as_array()
            .expect("samples")
            .iter()
            .filter(|s| s["name"] == sample)
            .filter(|s| labels.iter().all(|(k, v)| s["labels"][*k] == *v))
            .map(|s| s["value"].as_f64().expect("number"))
            .collect();
        assert!(found.len() <= 1, "{sample} {labels:?}: {found:?}");
        found.first().copied().unwrap_or(0.0)
    }

    fn requests(&self, route: &str, method: &str, status: &str) -> f64 {
        self.value(
            "tokenlife_http_requests",
            "counter",
            "tokenlife_http_requests_total",
            &[("route", route), ("method", method), ("status", status)],
        )
    }

    fn counter(&self, name: &str) -> f64 {
        self.value(name, "counter", &format!("{name}_total"), &[])
    }

    fn gauge(&self, name: &str) -> f64 {
        self.value(name, "gauge", name, &[])
    }
}

#[test]
fn metrics_count_what_was_done_and_parse_as_prometheus_text() {
    let dir = TempDir::new("metrics");
    let server = Server::start(&dir.join("data"), &["--metrics-listen", "127.0.0.1:0"]);
    let metrics = server.metrics_port.expect("metrics on http://... printed");
    assert_ne!(metrics, server.port);
    let client = server.client();
    let admin = basic("admin", server.admin_password.as_deref().expect("password"));

    // Nothing but /metrics on the metrics address; no /metrics on the API's.
    assert_eq!(get(metrics, "/").status, 404);
    assert_eq!(get(metrics, "/api/healthz/liveness").status, 404);
    assert_eq!(get(server.port, "/metrics").status, 404);

    let first = client.create(&admin, "one", json!("1h"));
    let second = client.create(&admin, "two", json!("1h"));
    let token = first["jwt_token"].as_str().expect("token");
    for _ in 0..3 {
        assert_eq!(
            client.get("/api/v1alpha/whoami", &[bearer(token)]).status,
            200
        );
    }
    let id = second["jwt_token_id"].as_str().expect("id");
    let path = format!("/api/v1alpha/token/{id}");
    assert_eq!(
        client.delete(&path, std::slice::from_ref(&admin)).status,
        200
    );
    assert_eq!(
        client.delete(&path, std::slice::from_ref(&admin)).status,
        404
    );

    // Wrong passwords for one name until it is locked.
    let guesser = basic("mallory", "guess");
    let (mut refused, mut locked) = (0, 0);
    while locked == 0 {
        let status = client
            .get("/api/v1alpha/token/", std::slice::from_ref(&guesser))
            .status;
        match status {
            401 => refused += 1,
            429 => locked += 1,
            other => panic!("a wrong password answered {other}"),
        }
        assert!(refused < 20, "never locked");
    }

    // One connection held open, idle.
    let held = TcpStream::connect(("127.0.0.1", server.port)).expect("connect");
    let wait_for_connections = |wanted: f64| {
        let start = Instant::now();
        loop {
            let families = Families::scrape(metrics);
            if families.gauge("tokenlife_open_connections") == wanted {
                return families;
            }
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "open connections never {wanted}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    };
    let families = wait_for_connections(1.0);

    assert_eq!(families.requests("/api/v1alpha/token/", "POST", "201"), 2.0);
    assert_eq!(families.requests("/api/v1alpha/whoami", "GET", "200"), 3.0);
    assert_eq!(
        families.requests("/api/v1alpha/token/{id}", "DELETE", "200"),
        1.0
    );
    assert_eq!(
        families.requests("/api/v1alpha/token/{id}", "DELETE", "404"),
        1.0
    );
    assert_eq!(
        families.requests("/api/v1alpha/token/", "GET", "401"),
        f64::from(refused)
    );
    assert_eq!(families.requests("/api/v1alpha/token/", "GET", "429"), 1.0);
    assert_eq!(
        families.requests("/", "GET", "404"),
        1.0,
        "GET /metrics on the API"
    );
    assert_eq!(
        families.requests("/api/healthz/liveness", "GET", "200"),
        0.0,
        "the metrics listener's own answers are not counted"
    );
    assert_eq!(
        families.counter("tokenlife_sign_in_failures"),
        f64::from(refused)
    );
    assert_eq!(families.counter("tokenlife_sign_in_throttled"), 1.0);
    assert_eq!(families.counter("tokenlife_tokens_created"), 2.0);
    assert_eq!(families.counter("tokenlife_tokens_deleted"), 1.0);

    let latency = "tokenlife_http_request_duration_seconds";
    let whoami = [("route", "/api/v1alpha/whoami")];
    assert_eq!(
        families.value(latency, "histogram", &format!("{latency}_count"), &whoami),
        3.0
    );
    assert_eq!(
        families.value(
            latency,
            "histogram",
            &format!("{latency}_bucket"),
            &[("route", "/api/v1alpha/whoami"), ("le", "+Inf")]
        ),
        3.0
    );
    assert!(families.value(latency, "histogram", &format!("{latency}_sum"), &whoami) > 0.0);
    // Two creates and two deletes reached the store.
    let writes = "tokenlife_store_write_duration_seconds";
    assert_eq!(
        families.value(writes, "histogram", &format!("{writes}_count"), &[]),
        4.0
    );
    if on_postgres() {
        assert!(!families.has("tokenlife_store_journal_bytes"));
    } else {
        let journal = std::fs::metadata(dir.join("data").join("users.journal"))
            .expect("journal")
            .len();
        assert!(journal > 0);
        assert_eq!(
            families.gauge("tokenlife_store_journal_bytes"),
            journal as f64
        );
    }
    let memory = families.gauge("process_resident_memory_bytes");
    assert!(memory > 1e6, "resident memory {memory}");

    drop(held);
    wait_for_connections(0.0);
}
