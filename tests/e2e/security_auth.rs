//! Holding the door (issue 11, items 1 and 3): forward auth judges exactly one request,
//! behind a real nginx configured from the README's own snippet and with requests shaped
//! as Traefik sends them; the sign-in throttle counts attempts before hashing, so
//! concurrency buys a guesser nothing, and a good password resets the count.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::harness::{Client, Response, Server, TempDir, basic, bearer};

const TOKENS: &str = "/api/v1alpha/token/";
const AUTH: &str = "/api/v1alpha/auth";
const SCOPE: &str = "GET /api/v1alpha/wallets/*";

fn h(name: &str, value: &str) -> (String, String) {
    (name.to_owned(), value.to_owned())
}

/// The admin's Basic header and a token scoped to [`SCOPE`].
fn scoped_token(server: &Server) -> ((String, String), String) {
    let admin = basic(
        "admin",
        server.admin_password.as_deref().expect("first start"),
    );
    let response = server.client().post_json(
        TOKENS,
        std::slice::from_ref(&admin),
        &json!({
            "jwt_token_description": "wallets",
            "jwt_token_life": "1h",
            "jwt_token_endpoints": [SCOPE],
        }),
    );
    assert_eq!(response.status, 201, "{:?}", response.json());
    let token = response.json()["jwt_token"]
        .as_str()
        .expect("jwt_token")
        .to_owned();
    (admin, token)
}

fn assert_refused(response: &Response, header: &str, what: &str) {
    assert_eq!(response.status, 403, "{what}: {:?}", response.json());
    assert_eq!(response.code(), "forward_headers_refused", "{what}");
    let message = response.message();
    assert!(
        message
            .to_ascii_lowercase()
            .contains(&header.to_ascii_lowercase()),
        "{what}: the message names {header}: {message}"
    );
}

/// Traefik's `forwardAuth` request for `method uri`, with the headers Traefik sets.
fn traefik(token: &str, method: &str, uri: &str) -> Vec<(String, String)> {
    vec![
        bearer(token),
        h("X-Forwarded-Method", method),
        h("X-Forwarded-Proto", "https"),
        h("X-Forwarded-Host", "api.example.com"),
        h("X-Forwarded-Uri", uri),
        h("X-Forwarded-For", "203.0.113.7"),
    ]
}

#[test]
fn forward_auth_judges_one_request_with_traefik_headers() {
    let data = TempDir::new("forward-traefik");
    for mode in ["traefik", "any"] {
        let server = Server::start(&data.join(mode), &["--forward-headers", mode]);
        let client = server.client();
        let (_, token) = scoped_token(&server);

        let allowed = client.get(
            AUTH,
            &traefik(&token, "GET", "/api/v1alpha/wallets/w1?page=2"),
        );
        assert_eq!(allowed.status, 200, "{mode}: {:?}", allowed.json());
        assert_eq!(allowed.header("x-auth-user"), Some("admin"));
        assert!(allowed.header("x-auth-token-id").is_some());
        let outside = client.get(AUTH, &traefik(&token, "GET", "/api/v1alpha/admin"));
        assert_eq!(outside.status, 403, "{mode}");
        assert_eq!(outside.code(), "insufficient_scope");
        let delete = client.get(AUTH, &traefik(&token, "DELETE", "/api/v1alpha/wallets/w1"));
        assert_eq!(delete.code(), "insufficient_scope", "{mode}");

        // The client's own X-Original-* headers, passed on by Traefik: ignored in traefik
        // mode, refused in any mode when they name another request.
        let mut smuggled = traefik(&token, "GET", "/api/v1alpha/admin");
        smuggled.push(h("X-Original-URI", "/api/v1alpha/wallets/w1"));
        smuggled.push(h("X-Original-Method", "GET"));
        let response = client.get(AUTH, &smuggled);
        if mode == "traefik" {
            assert_eq!(response.code(), "insufficient_scope");
        } else {
            assert_refused(&response, "X-Original-URI", "smuggled X-Original-URI");
        }
        let mut smuggled = traefik(&token, "DELETE", "/api/v1alpha/wallets/w1");
        smuggled.push(h("X-Original-Method", "GET"));
        let response = client.get(AUTH, &smuggled);
        assert_eq!(response.status, 403, "{mode}: {:?}", response.json());
        let mut agreeing = traefik(&token, "GET", "/api/v1alpha/wallets/w1");
        agreeing.push(h("X-Original-URI", "/api/v1alpha/wallets/w1"));
        agreeing.push(h("X-Original-Method", "GET"));
        assert_eq!(client.get(AUTH, &agreeing).status, 200, "{mode}");

        // Present but unreadable: a refusal, never the other family.
        let mut twice = traefik(&token, "GET", "/api/v1alpha/wallets/w1");
        twice.push(h("X-Forwarded-Uri", "/api/v1alpha/admin"));
        assert_refused(&client.get(AUTH, &twice), "X-Forwarded-Uri", "sent twice");
        let mut not_text = traefik(&token, "GET", "/caf\u{e9}");
        not_text.push(h("X-Original-URI", "/api/v1alpha/wallets/w1"));
        not_text.push(h("X-Original-Method", "GET"));
        assert_refused(&client.get(AUTH, &not_text), "X-Forwarded-Uri", "not text");
        let empty = traefik(&token, "GET", "  ");
        assert_refused(&client.get(AUTH, &empty), "X-Forwarded-Uri", "empty");
        let absolute = traefik(&token, "GET", "http://evil.example/api/v1alpha/wallets/w1");
        assert_refused(&client.get(AUTH, &absolute), "X-Forwarded-Uri", "absolute");
        let mut no_method = traefik(&token, "GET", "/api/v1alpha/wallets/w1");
        no_method.retain(|(name, _)| name != "X-Forwarded-Method");
        assert_refused(
            &client.get(AUTH, &no_method),
            "X-Forwarded-Uri",
            "no method",
        );

        // The refusal holds for an unscoped token too, and comes before the token is looked
        // at: a request without one learns nothing more.
        let admin = basic(
            "admin",
            server.admin_password.as_deref().expect("first start"),
        );
        let unscoped = client.create(&admin, "everything", json!("1h"))["jwt_token"]
            .as_str()
            .expect("jwt_token")
            .to_owned();
        assert_refused(
            &client.get(AUTH, &twice_for(&unscoped)),
            "X-Forwarded-Uri",
            "unscoped",
        );
        let mut anonymous = twice_for("not-a-token");
        anonymous.retain(|(name, _)| name != "Authorization");
        assert_refused(&client.get(AUTH, &anonymous), "X-Forwarded-Uri", "no token");
        assert_eq!(
            client
                .get(
                    AUTH,
                    &traefik("not-a-token", "GET", "/api/v1alpha/wallets/w1")
                )
                .status,
            401
        );
    }

    // nginx mode needs its own family: Traefik's headers alone are refused.
    let server = Server::start(&data.join("nginx"), &["--forward-headers", "nginx"]);
    let (_, token) = scoped_token(&server);
    let response = server
        .client()
        .get(AUTH, &traefik(&token, "GET", "/api/v1alpha/wallets/w1"));
    assert_refused(
        &response,
        "X-Original-Method",
        "nginx mode, Traefik headers",
    );

    // The environment sets the mode too; a bad mode stops the start with a message.
    let server = Server::start_with_env(
        &data.join("env"),
        &[],
        &[("TOKENLIFE_FORWARD_HEADERS", "nginx")],
    );
    let (_, token) = scoped_token(&server);
    let response = server
        .client()
        .get(AUTH, &traefik(&token, "GET", "/api/v1alpha/wallets/w1"));
    assert_refused(
        &response,
        "X-Original-Method",
        "TOKENLIFE_FORWARD_HEADERS=nginx",
    );
    let (ok, _, stderr) = crate::harness::run_cli(
        &data.join("bad"),
        &[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--forward-headers",
            "apache",
        ],
        "",
    );
    assert!(!ok && stderr.contains("--forward-headers"), "{stderr}");
}

fn twice_for(token: &str) -> Vec<(String, String)> {
    let mut headers = traefik(token, "GET", "/api/v1alpha/wallets/w1");
    headers.push(h("X-Forwarded-Uri", "/api/v1alpha/wallets/w1"));
    headers
}

/// The README's ```nginx block, as written.
fn readme_nginx_snippet() -> String {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md"))
            .expect("README.md");
    let start = readme
        .find("```nginx\n")
        .expect("a ```nginx block in README.md")
        + 9;
    let end = start + readme[start..].find("```").expect("the end of the block");
    readme[start..end].to_owned()
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// The Debian nginx binary, if installed (`bash scripts/setup.sh test` installs it).
fn nginx_binary() -> Option<&'static str> {
    ["/usr/sbin/nginx", "/usr/bin/nginx"]
        .into_iter()
        .find(|path| Path::new(path).exists())
}

/// A foreground nginx on loopback, killed when dropped.
struct Nginx {
    child: Child,
    port: u16,
}

impl Nginx {
    /// nginx with the README's snippet in a server on a free port, `http://your-api`
    /// replaced by a backend that echoes the method, the URI and the `X-Auth-User` it
    /// received, and tokenlife's address by `tokenlife_port`.
    fn start(dir: &Path, tokenlife_port: u16) -> Nginx {
        let nginx = nginx_binary().expect("nginx is installed");
        let (port, backend) = (free_port(), free_port());
        let snippet = readme_nginx_snippet();
        assert!(snippet.contains("http://your-api"), "{snippet}");
        assert!(snippet.contains("http://127.0.0.1:25441"), "{snippet}");
        let snippet = snippet
            .replace("http://your-api", &format!("http://127.0.0.1:{backend}"))
            .replace(
                "http://127.0.0.1:25441",
                &format!("http://127.0.0.1:{tokenlife_port}"),
            );
        std::fs::create_dir_all(dir).expect("nginx folder");
        let d = dir.display();
        let config = format!(
            "daemon off;\nmaster_process off;\nworker_processes 1;\npid {d}/nginx.pid;\n\
             error_log {d}/error.log warn;\nevents {{ worker_connections 256; }}\n\
             http {{\n  access_log off;\n  client_body_temp_path {d}/body;\n\
             proxy_temp_path {d}/proxy;\n  fastcgi_temp_path {d}/fastcgi;\n\
             uwsgi_temp_path {d}/uwsgi;\n  scgi_temp_path {d}/scgi;\n\
             server {{\n    listen 127.0.0.1:{backend};\n    location / {{\n\
             default_type text/plain;\n\
             return 200 \"backend $request_method $request_uri user=$http_x_auth_user\";\n\
             }}\n  }}\n  server {{\n    listen 127.0.0.1:{port};\n{snippet}\n  }}\n}}\n"
        );
        let conf = dir.join("nginx.conf");
        std::fs::write(&conf, config).expect("nginx.conf");
        let child = Command::new(nginx)
            .arg("-p")
            .arg(dir)
            .arg("-c")
            .arg(&conf)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start nginx");
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "nginx did not listen: {}",
                std::fs::read_to_string(dir.join("error.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Nginx { child, port }
    }

    fn client(&self) -> Client {
        Client { port: self.port }
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A method, a path, and the headers a client adds.
type Attack = (&'static str, &'static str, Vec<(String, String)>);

fn body(response: &Response) -> String {
    String::from_utf8_lossy(&response.body).into_owned()
}

#[test]
fn behind_the_readmes_nginx_a_scoped_token_reaches_only_its_endpoints() {
    let data = TempDir::new("forward-nginx");
    // The default mode (what the README's snippet is written for) and nginx mode.
    for (name, args) in [
        ("default", vec![]),
        ("nginx", vec!["--forward-headers", "nginx"]),
    ] {
        let server = Server::start(&data.join(name), &args);
        let (_, token) = scoped_token(&server);
        let nginx = Nginx::start(&data.join(&format!("nginx-{name}")), server.port);
        let client = nginx.client();
        let auth = bearer(&token);

        let allowed = client.get(
            "/api/v1alpha/wallets/w1?page=2",
            std::slice::from_ref(&auth),
        );
        assert_eq!(allowed.status, 200, "{name}: {}", body(&allowed));
        assert_eq!(
            body(&allowed),
            "backend GET /api/v1alpha/wallets/w1?page=2 user=admin",
            "{name}"
        );
        let outside = client.get("/api/v1alpha/admin", std::slice::from_ref(&auth));
        assert_eq!(outside.status, 403, "{name}: {}", body(&outside));
        let anonymous = client.get("/api/v1alpha/wallets/w1", &[]);
        assert_eq!(anonymous.status, 401, "{name}");

        // The attacks of issue 11, through nginx.
        let attacks: Vec<Attack> = vec![
            (
                "GET",
                "/api/v1alpha/admin",
                vec![h("X-Forwarded-Uri", "/api/v1alpha/wallets/w1")],
            ),
            (
                "GET",
                "/api/v1alpha/admin",
                vec![
                    h("X-Forwarded-Uri", "/api/v1alpha/wallets/w1"),
                    h("X-Forwarded-Method", "GET"),
                ],
            ),
            (
                "DELETE",
                "/api/v1alpha/wallets/w1",
                vec![h("X-Forwarded-Method", "GET")],
            ),
            // nginx replaces the client's own X-Original-* headers.
            (
                "GET",
                "/api/v1alpha/admin",
                vec![
                    h("X-Original-URI", "/api/v1alpha/wallets/w1"),
                    h("X-Original-Method", "GET"),
                ],
            ),
            (
                "GET",
                "/api/v1alpha/admin",
                vec![
                    h("X-Original-URI", "/api/v1alpha/wallets/w1"),
                    h("X-Original-URI", "/api/v1alpha/wallets/w2"),
                ],
            ),
            // An X-Forwarded-Uri that is not text is not skipped for the other family.
            (
                "GET",
                "/api/v1alpha/admin",
                vec![h("X-Forwarded-Uri", "/caf\u{e9}")],
            ),
        ];
        for (method, path, extra) in attacks {
            let mut headers = vec![auth.clone()];
            headers.extend(extra.iter().cloned());
            let response = client.send(method, path, &headers, None);
            assert_eq!(
                response.status,
                403,
                "{name}: {method} {path} {extra:?}: {}",
                body(&response)
            );
        }
        // Harmless extra headers do not get in the way of an allowed request in nginx
        // mode; in the default mode a client's X-Forwarded-Uri that agrees is fine too.
        let mut agreeing = vec![auth.clone()];
        agreeing.push(h("X-Forwarded-Uri", "/api/v1alpha/wallets/w1"));
        let response = client.get("/api/v1alpha/wallets/w1", &agreeing);
        assert_eq!(response.status, 200, "{name}: {}", body(&response));
        // A client's X-Auth-User never reaches the backend as the user.
        let mut forged = vec![auth.clone()];
        forged.push(h("X-Auth-User", "root"));
        let response = client.get("/api/v1alpha/wallets/w1", &forged);
        assert!(
            body(&response).ends_with("user=admin"),
            "{}",
            body(&response)
        );
        drop(nginx);
        server.stop();
    }
}

/// One request per connection, all sent at the same moment: `(status, body)` each.
fn storm(port: u16, requests: Vec<(String, String)>) -> Vec<(u16, Value)> {
    let barrier = Arc::new(Barrier::new(requests.len()));
    let handles: Vec<_> = requests
        .into_iter()
        .map(|(user, password)| {
            let barrier = Arc::clone(&barrier);
            std::thread::Builder::new()
                .stack_size(128 * 1024)
                .spawn(move || {
                    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
                    stream
                        .set_read_timeout(Some(Duration::from_secs(300)))
                        .expect("timeout");
                    let (name, value) = basic(&user, &password);
                    let request = format!(
                        "GET {TOKENS} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\
                         {name}: {value}\r\n\r\n"
                    );
                    barrier.wait();
                    stream.write_all(request.as_bytes()).expect("send");
                    let mut raw = Vec::new();
                    let _ = stream.read_to_end(&mut raw);
                    let text = String::from_utf8_lossy(&raw).into_owned();
                    let status = text
                        .split(' ')
                        .nth(1)
                        .and_then(|s| s.parse().ok())
                        .unwrap_or(0);
                    let retry = text
                        .lines()
                        .any(|l| l.to_ascii_lowercase().starts_with("retry-after: "));
                    let json = text
                        .split_once("\r\n\r\n")
                        .and_then(|(_, b)| serde_json::from_str(b).ok())
                        .unwrap_or(Value::Null);
                    (status, json, retry)
                })
                .expect("thread")
        })
        .collect();
    handles
        .into_iter()
        .map(|handle| {
            let (status, json, retry) = handle.join().expect("a request thread");
            if status == 429 {
                assert!(retry, "429 without Retry-After");
                assert_eq!(json["error"], "too_many_requests");
            }
            (status, json)
        })
        .collect()
}

fn count(answers: &[(u16, Value)], status: u16) -> usize {
    answers.iter().filter(|(s, _)| *s == status).count()
}

fn concurrent_guesses_get_five_hashes(connections: usize) {
    let data = TempDir::new(&format!("storm-{connections}"));
    let server = Server::start(&data.join("data"), &[]);
    let password = server.admin_password.clone().expect("first start");
    let client = server.client();
    client.create(&basic("admin", &password), "one", json!("1h"));

    // The right password among the wrong ones, in the middle.
    let right = connections / 2;
    let requests: Vec<_> = (0..connections)
        .map(|i| {
            let guess = if i == right {
                password.clone()
            } else {
                format!("guess {i}")
            };
            ("admin".to_owned(), guess)
        })
        .collect();
    let started = Instant::now();
    let answers = storm(server.port, requests);
    let (ok, wrong, locked) = (
        count(&answers, 200),
        count(&answers, 401),
        count(&answers, 429),
    );
    let statuses: Vec<u16> = answers.iter().map(|a| a.0).collect();
    assert_eq!(
        ok + wrong + locked,
        connections,
        "only 200, 401, 429: {statuses:?}"
    );
    // Five attempts are free; then the name is locked for 1 s, 2 s, 4 s...: an attempt
    // that arrives after a lock has passed is checked, as it would be one at a time. So a
    // storm that lasts `d` seconds may see one more check per lock that ran out in it.
    let allowance = 5 + lapsed_locks(started.elapsed());
    eprintln!(
        "{connections} concurrent sign-ins of one name: {wrong} x 401, {locked} x 429, \
         {ok} x 200 in {:.1} s (allowed checks: {allowance})",
        started.elapsed().as_secs_f64()
    );
    if answers[right].0 == 200 {
        // The right password was checked and reset the count: five more are free.
        assert!(
            wrong <= allowance + 5,
            "{wrong} wrong passwords were checked"
        );
    } else {
        assert_eq!(
            answers[right].0, 429,
            "a locked name refuses even the right password"
        );
        assert!(wrong <= allowance, "{wrong} wrong passwords were checked");
    }
    assert!(
        locked >= connections - allowance - 6,
        "{locked} of {connections} were throttled"
    );

    // The same for a username that does not exist.
    let requests = (0..connections)
        .map(|i| ("ghost".to_owned(), format!("guess {i}")))
        .collect();
    let started = Instant::now();
    let answers = storm(server.port, requests);
    let allowance = 5 + lapsed_locks(started.elapsed());
    eprintln!(
        "{connections} concurrent sign-ins of an unknown name: {} x 401, {} x 429 in {:.1} s",
        count(&answers, 401),
        count(&answers, 429),
        started.elapsed().as_secs_f64()
    );
    assert!(
        count(&answers, 401) <= allowance,
        "{} unknown-user guesses checked",
        count(&answers, 401)
    );
    assert_eq!(count(&answers, 429), connections - count(&answers, 401));
    // Other names are not affected.
    assert_eq!(client.get(TOKENS, &[basic("someone", "x")]).status, 401);
}

/// How many of the locks 1 s, 2 s, 4 s... (back to back) end within `elapsed`.
fn lapsed_locks(elapsed: Duration) -> usize {
    let mut ends = 0u64;
    let mut lapsed = 0;
    while ends + (1 << lapsed) <= elapsed.as_secs() + 1 {
        ends += 1 << lapsed;
        lapsed += 1;
    }
    lapsed
}

#[test]
fn two_hundred_concurrent_guesses_get_at_most_five_hashes() {
    concurrent_guesses_get_five_hashes(200);
}

#[test]
fn a_thousand_concurrent_guesses_get_at_most_five_hashes() {
    concurrent_guesses_get_five_hashes(1000);
}

#[test]
fn a_good_password_resets_the_count_and_a_locked_name_refuses_it() {
    let data = TempDir::new("reset");
    let server = Server::start(&data.join("data"), &[]);
    let password = server.admin_password.clone().expect("first start");
    let client = server.client();
    let right = || client.get(TOKENS, &[basic("admin", &password)]).status;
    let wrong = || client.get(TOKENS, &[basic("admin", "wrong")]).status;
    // 3 wrong, 1 right, 2 wrong, 1 right: never locked. The first right one is hashed;
    // the later ones come from the cache of good checks, which must reset the count too.
    for round in 0..3 {
        for _ in 0..3 {
            assert_eq!(wrong(), 401, "round {round}");
        }
        assert_eq!(right(), 404, "round {round}: the admin has no tokens");
        for _ in 0..2 {
            assert_eq!(wrong(), 401, "round {round}");
        }
        assert_eq!(right(), 404, "round {round}");
    }
    for _ in 0..4 {
        assert_eq!(wrong(), 401);
    }
    assert_eq!(right(), 404, "four wrong after a right one are free");
    // Five wrong ones lock the name: the right password is refused too (from the cache or
    // not), so that it cannot tell a guesser which guess was right.
    for _ in 0..5 {
        assert_eq!(wrong(), 401);
    }
    let response = client.get(TOKENS, &[basic("admin", &password)]);
    assert_eq!(response.status, 429);
    assert!(response.header("retry-after").is_some());
    // Bearer tokens keep working while the name is locked.
    let data2 = TempDir::new("reset-bearer");
    let server2 = Server::start(&data2.join("data"), &[]);
    let admin2 = basic(
        "admin",
        server2.admin_password.as_deref().expect("first start"),
    );
    let token = server2.client().create(&admin2, "t", json!("1h"))["jwt_token"]
        .as_str()
        .expect("jwt_token")
        .to_owned();
    for _ in 0..6 {
        server2.client().get(TOKENS, &[basic("admin", "wrong")]);
    }
    assert_eq!(
        server2
            .client()
            .get(TOKENS, std::slice::from_ref(&admin2))
            .status,
        429
    );
    assert_eq!(
        server2
            .client()
            .get("/api/v1alpha/whoami", &[bearer(&token)])
            .status,
        200
    );
}

#[test]
#[cfg_attr(
    not(tokenlife_test_pg),
    ignore = "PostgreSQL only: scripts/with-postgres.sh runs it"
)]
fn a_cached_good_sign_in_writes_nothing_to_the_shared_throttle() {
    let data = TempDir::new("cached-no-write");
    let dir = data.join("data");
    let server = Server::start(&dir, &[]);
    let password = server.admin_password.clone().expect("first start");
    let auth = basic("admin", &password);
    let client = server.client();
    // The first good sign-in is hashed (counted, then forgotten); it fills the cache.
    assert_eq!(client.get(TOKENS, std::slice::from_ref(&auth)).status, 404);
    // Every statement that writes sign_in_failures from here on is counted.
    let url = crate::harness::store_args(&dir).pop().expect("url");
    crate::harness::sql(
        &url,
        "CREATE TABLE throttle_writes (op text NOT NULL); \
         CREATE FUNCTION count_throttle_write() RETURNS trigger LANGUAGE plpgsql AS \
         $$ BEGIN INSERT INTO throttle_writes VALUES (TG_OP); RETURN NULL; END $$; \
         CREATE TRIGGER count_writes AFTER INSERT OR UPDATE OR DELETE ON sign_in_failures \
         FOR EACH STATEMENT EXECUTE FUNCTION count_throttle_write()",
    );
    let writes = || {
        crate::harness::sql(&url, "SELECT count(*) FROM throttle_writes")[0][0]
            .parse::<usize>()
            .expect("a count")
    };
    for i in 0..10 {
        client.create(&auth, &format!("cached {i}"), json!("1h"));
    }
    assert_eq!(client.get(TOKENS, std::slice::from_ref(&auth)).status, 200);
    assert_eq!(writes(), 0, "cached good sign-ins wrote to the throttle");
    // A wrong password is counted, and the next good one (cached) forgets it.
    assert_eq!(client.get(TOKENS, &[basic("admin", "wrong")]).status, 401);
    let counted = writes();
    assert!(counted >= 1, "a wrong password was not counted");
    assert_eq!(client.get(TOKENS, std::slice::from_ref(&auth)).status, 200);
    assert!(writes() > counted, "the failure was not forgotten");
    let rows = crate::harness::sql(&url, "SELECT count(*) FROM sign_in_failures");
    assert_eq!(rows[0][0], "0");
    // Forgotten: cached sign-ins write nothing again.
    let before = writes();
    for _ in 0..5 {
        assert_eq!(client.get(TOKENS, std::slice::from_ref(&auth)).status, 200);
    }
    assert_eq!(writes(), before);
}
