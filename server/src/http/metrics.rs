//! Prometheus metrics: counted in [`METRICS`] as requests are answered, written out in
//! the Prometheus text format (version 0.0.4) by `GET /metrics` on the separate address of
//! `serve --metrics-listen` ([`routes`]).
//!
//! Hand-written rather than with the `prometheus-client` crate: the label sets are fixed
//! and known here (routes, methods, statuses), so every count is a plain atomic or one
//! short lock, where the crate's `Family` hashes a label set under a lock and its
//! `Histogram` takes a lock for each observation, on every request. The format is small;
//! the e2e test reads the output with the Prometheus client's own parser.
//!
//! | metric | type | labels |
//! |---|---|---|
//! | `tokenlife_http_requests_total` | counter | `route`, `method`, `status` |
//! | `tokenlife_http_request_duration_seconds` | histogram | `route` |
//! | `tokenlife_sign_in_failures_total` | counter | |
//! | `tokenlife_sign_in_throttled_total` | counter | |
//! | `tokenlife_tokens_created_total`, `tokenlife_tokens_deleted_total` | counter | |
//! | `tokenlife_store_write_duration_seconds` | histogram | |
//! | `tokenlife_store_journal_bytes` (JSON store) | gauge | |
//! | `tokenlife_open_connections` | gauge | |
//! | `process_resident_memory_bytes` | gauge | |

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use warp::Filter;
use warp::http::{Method, StatusCode};

use crate::store::Store;

/// The process's metrics.
pub static METRICS: Metrics = Metrics::new();

/// Upper bounds of the latency buckets, in microseconds (0.5 ms to 10 s; `+Inf` above).
const BUCKETS_US: [u64; 14] = [
    500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000, 1_000_000,
    2_500_000, 5_000_000, 10_000_000,
];

/// Everything counted.
pub struct Metrics {
    /// Answers by route, method and status.
    requests: Mutex<BTreeMap<(Route, Verb, u16), u64>>,
    /// Time to answer, by route.
    request_time: [Histogram; Route::ALL.len()],
    sign_in_failures: AtomicU64,
    sign_in_throttled: AtomicU64,
    tokens_created: AtomicU64,
    tokens_deleted: AtomicU64,
    store_write_time: Histogram,
    /// Open connections of the API's listener (kept by it).
    pub open_connections: AtomicUsize,
}

impl Metrics {
    const fn new() -> Metrics {
        Metrics {
            requests: Mutex::new(BTreeMap::new()),
            request_time: [const { Histogram::new() }; Route::ALL.len()],
            sign_in_failures: AtomicU64::new(0),
            sign_in_throttled: AtomicU64::new(0),
            tokens_created: AtomicU64::new(0),
            tokens_deleted: AtomicU64::new(0),
            store_write_time: Histogram::new(),
            open_connections: AtomicUsize::new(0),
        }
    }

    /// An answer to `method path` with `status`, `elapsed` after the request came.
    pub fn request(&self, method: &Method, path: &str, status: StatusCode, elapsed: Duration) {
        let route = Route::of(path);
        let key = (route, Verb::of(method), status.as_u16());
        *self
            .requests
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(key)
            .or_insert(0) += 1;
        self.request_time[route as usize].observe(elapsed);
    }

    /// Basic credentials refused after their check (a wrong password, an unknown user).
    pub fn sign_in_failed(&self) {
        self.sign_in_failures.fetch_add(1, Ordering::Relaxed);
    }

    /// A sign-in answered `429` by the throttle.
    pub fn sign_in_throttled(&self) {
        self.sign_in_throttled.fetch_add(1, Ordering::Relaxed);
    }

    /// A token created (stored).
    pub fn token_created(&self) {
        self.tokens_created.fetch_add(1, Ordering::Relaxed);
    }

    /// A token deleted through the API.
    pub fn token_deleted(&self) {
        self.tokens_deleted.fetch_add(1, Ordering::Relaxed);
    }

    /// A store write (a token's creation or deletion) that took `elapsed`, successful or
    /// not.
    pub fn store_write(&self, elapsed: Duration) {
        self.store_write_time.observe(elapsed);
    }

    /// Everything in the Prometheus text format, with the journal size of `store` and
    /// the process's resident memory read now.
    pub fn render(&self, store: &dyn Store) -> String {
        let mut out = String::with_capacity(16 * 1024);
        header(
            &mut out,
            "tokenlife_http_requests_total",
            "counter",
            "HTTP requests answered, by route, method and status.",
        );
        let requests = self
            .requests
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        for ((route, verb, status), count) in requests {
            let _ = writeln!(
                out,
                "tokenlife_http_requests_total{{route=\"{}\",method=\"{}\",status=\"{status}\"}} {count}",
                route.label(),
                verb.label(),
            );
        }
        header(
            &mut out,
            "tokenlife_http_request_duration_seconds",
            "histogram",
            "Time from a request's head to its answer, by route.",
        );
        for route in Route::ALL {
            let labels = format!("route=\"{}\"", route.label());
            self.request_time[route as usize].write(
                &mut out,
                "tokenlife_http_request_duration_seconds",
                &labels,
            );
        }
        counter(
            &mut out,
            "tokenlife_sign_in_failures_total",
            "Basic credentials refused after their check (wrong password or unknown user).",
            &self.sign_in_failures,
        );
        counter(
            &mut out,
            "tokenlife_sign_in_throttled_total",
            "Sign-ins answered 429 because the name was locked after failures.",
            &self.sign_in_throttled,
        );
        counter(
            &mut out,
            "tokenlife_tokens_created_total",
            "Tokens created.",
            &self.tokens_created,
        );
        counter(
            &mut out,
            "tokenlife_tokens_deleted_total",
            "Tokens deleted through the API.",
            &self.tokens_deleted,
        );
        header(
            &mut out,
            "tokenlife_store_write_duration_seconds",
            "histogram",
            "Time a token's creation or deletion took in the store (durable when done).",
        );
        self.store_write_time
            .write(&mut out, "tokenlife_store_write_duration_seconds", "");
        if let Some(bytes) = store.journal_bytes() {
            gauge(
                &mut out,
                "tokenlife_store_journal_bytes",
                "Size of the JSON store's journal (users.journal), folded into users.json by compaction.",
                bytes,
            );
        }
        gauge(
            &mut out,
            "tokenlife_open_connections",
            "Connections open on the API's listener.",
            self.open_connections.load(Ordering::Relaxed) as u64,
        );
        if let Some(bytes) = resident_memory() {
            gauge(
                &mut out,
                "process_resident_memory_bytes",
                "Resident memory of the process (VmRSS of /proc/self/status).",
                bytes,
            );
        }
        out
    }
}

/// Runs a store write, counting its time in the store-write histogram.
pub async fn timed_write<T>(write: impl std::future::Future<Output = T>) -> T {
    let started = std::time::Instant::now();
    let result = write.await;
    METRICS.store_write(started.elapsed());
    result
}

/// `GET /metrics` and nothing else (a JSON `404`/`405` otherwise), for the metrics
/// listener.
pub fn routes(
    store: Arc<dyn Store>,
) -> impl Filter<Extract = (warp::reply::Response,), Error = Infallible> + Clone {
    warp::path!("metrics")
        .and(warp::get())
        .map(move || {
            let mut response = warp::reply::Response::new(METRICS.render(store.as_ref()).into());
            response.headers_mut().insert(
                warp::http::header::CONTENT_TYPE,
                warp::http::HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
            );
            response
        })
        .recover(crate::http::api_error::recover)
        .unify()
        .map(warp::Reply::into_response)
}

/// A latency histogram: counts per bucket (not cumulative), their sum in microseconds.
struct Histogram {
    buckets: [AtomicU64; BUCKETS_US.len() + 1],
    sum_us: AtomicU64,
}

impl Histogram {
    const fn new() -> Histogram {
        Histogram {
            buckets: [const { AtomicU64::new(0) }; BUCKETS_US.len() + 1],
            sum_us: AtomicU64::new(0),
        }
    }

    fn observe(&self, elapsed: Duration) {
        let us = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
        let bucket = BUCKETS_US.partition_point(|&bound| bound < us);
        self.buckets[bucket].fetch_add(1, Ordering::Relaxed);
        self.sum_us.fetch_add(us, Ordering::Relaxed);
    }

    /// The `_bucket` lines (cumulative, `+Inf` last), `_sum` and `_count`; `labels` are
    /// the others of the family (`name="value",...`, or empty).
    fn write(&self, out: &mut String, name: &str, labels: &str) {
        let sep = if labels.is_empty() { "" } else { "," };
        let mut total = 0u64;
        for (i, count) in self.buckets.iter().enumerate() {
            total += count.load(Ordering::Relaxed);
            let le = match BUCKETS_US.get(i) {
                Some(&bound) => seconds(bound),
                None => "+Inf".to_owned(),
            };
            let _ = writeln!(out, "{name}_bucket{{{labels}{sep}le=\"{le}\"}} {total}");
        }
        let braces = if labels.is_empty() {
            String::new()
        } else {
            format!("{{{labels}}}")
        };
        let sum = seconds(self.sum_us.load(Ordering::Relaxed));
        let _ = writeln!(out, "{name}_sum{braces} {sum}");
        let _ = writeln!(out, "{name}_count{braces} {total}");
    }
}

/// Microseconds as seconds, exactly (`0.0005`, `2.5`, `10`).
fn seconds(us: u64) -> String {
    let whole = us / 1_000_000;
    let fraction = us % 1_000_000;
    if fraction == 0 {
        return whole.to_string();
    }
    let digits = format!("{fraction:06}");
    format!("{whole}.{}", digits.trim_end_matches('0'))
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

fn counter(out: &mut String, name: &str, help: &str, value: &AtomicU64) {
    header(out, name, "counter", help);
    let _ = writeln!(out, "{name} {}", value.load(Ordering::Relaxed));
}

fn gauge(out: &mut String, name: &str, help: &str, value: u64) {
    header(out, name, "gauge", help);
    let _ = writeln!(out, "{name} {value}");
}

/// The process's resident memory in bytes, if `/proc` tells it. (`/proc/self/statm`
/// counts pages, whose size only `sysconf` knows; `status` says kB.)
fn resident_memory() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
    let kb: u64 = line
        .trim_start_matches("VmRSS:")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    kb.checked_mul(1024)
}

/// What a request was for, as a label: the API's path templates, the page and the
/// package, or `other` (so that no path a client makes up becomes a label value).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Route {
    Tokens,
    Token,
    Whoami,
    Auth,
    Revoked,
    OpenApi,
    Jwks,
    Liveness,
    Readyness,
    Pkg,
    Page,
    Other,
}

impl Route {
    const ALL: [Route; 12] = [
        Route::Tokens,
        Route::Token,
        Route::Whoami,
        Route::Auth,
        Route::Revoked,
        Route::OpenApi,
        Route::Jwks,
        Route::Liveness,
        Route::Readyness,
        Route::Pkg,
        Route::Page,
        Route::Other,
    ];

    /// The route of a request path, matched as warp matches it (one trailing `/` or
    /// none).
    fn of(path: &str) -> Route {
        let trimmed = path.strip_suffix('/').unwrap_or(path);
        match trimmed {
            "/api/v1alpha/token" => return Route::Tokens,
            "/api/v1alpha/whoami" => return Route::Whoami,
            "/api/v1alpha/auth" => return Route::Auth,
            "/api/v1alpha/revoked" => return Route::Revoked,
            "/api/v1alpha/openapi.json" => return Route::OpenApi,
            "/.well-known/jwks.json" => return Route::Jwks,
            "/api/healthz/liveness" => return Route::Liveness,
            "/api/healthz/readyness" => return Route::Readyness,
            _ => {}
        }
        if let Some(id) = trimmed.strip_prefix("/api/v1alpha/token/")
            && !id.is_empty()
            && !id.contains('/')
        {
            return Route::Token;
        }
        if path.starts_with("/pkg/") {
            Route::Pkg
        } else if path.starts_with("/api/") || path.starts_with("/.well-known/") {
            Route::Other
        } else {
            Route::Page
        }
    }

    fn label(self) -> &'static str {
        match self {
            Route::Tokens => "/api/v1alpha/token/",
            Route::Token => "/api/v1alpha/token/{id}",
            Route::Whoami => "/api/v1alpha/whoami",
            Route::Auth => "/api/v1alpha/auth",
            Route::Revoked => "/api/v1alpha/revoked",
            Route::OpenApi => "/api/v1alpha/openapi.json",
            Route::Jwks => "/.well-known/jwks.json",
            Route::Liveness => "/api/healthz/liveness",
            Route::Readyness => "/api/healthz/readyness",
            Route::Pkg => "/pkg/",
            Route::Page => "/",
            Route::Other => "other",
        }
    }
}

/// A request method as a label; methods the API never serves are `other`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Verb {
    Get,
    Head,
    Post,
    Put,
    Delete,
    Patch,
    Options,
    Other,
}

impl Verb {
    fn of(method: &Method) -> Verb {
        match *method {
            Method::GET => Verb::Get,
            Method::HEAD => Verb::Head,
            Method::POST => Verb::Post,
            Method::PUT => Verb::Put,
            Method::DELETE => Verb::Delete,
            Method::PATCH => Verb::Patch,
            Method::OPTIONS => Verb::Options,
            _ => Verb::Other,
        }
    }

    fn label(self) -> &'static str {
        match self {
            Verb::Get => "GET",
            Verb::Head => "HEAD",
            Verb::Post => "POST",
            Verb::Put => "PUT",
            Verb::Delete => "DELETE",
            Verb::Patch => "PATCH",
            Verb::Options => "OPTIONS",
            Verb::Other => "other",
        }
    }
}

#[cfg(test)]
mod tests;
