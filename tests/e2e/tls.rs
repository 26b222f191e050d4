//! `serve --tls-cert/--tls-key`: a throwaway CA and server certificates made with rcgen, a
//! rustls client that trusts only that CA, the certificate reloaded on SIGHUP and when
//! its files change, plain HTTP and silent clients on the TLS port.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
use rustls::pki_types::{CertificateDer, ServerName};
use serde_json::json;

use crate::harness::{Response, Server, TempDir, basic, bearer, parse_response, run_cli};

/// A certificate authority of its own, for one test.
struct Ca {
    issuer: CertifiedIssuer<'static, KeyPair>,
}

impl Ca {
    fn new() -> Ca {
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(DnType::CommonName, "tokenlife test CA");
        let key = KeyPair::generate().expect("CA key");
        Ca {
            issuer: CertifiedIssuer::self_signed(params, key).expect("CA certificate"),
        }
    }

    fn der(&self) -> CertificateDer<'static> {
        self.issuer.der().clone()
    }

    /// A server certificate for 127.0.0.1 with serial `serial` and a new key, written as
    /// PEM to `cert` and `key` (each replaced by a rename, key first); its DER.
    fn issue(&self, serial: u64, cert: &Path, key: &Path) -> CertificateDer<'static> {
        let mut params =
            CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
                .expect("params");
        params.serial_number = Some(serial.into());
        let pair = KeyPair::generate().expect("key");
        let issued = params.signed_by(&pair, &self.issuer).expect("sign");
        replace(key, pair.serialize_pem().as_bytes());
        replace(cert, issued.pem().as_bytes());
        issued.der().clone()
    }
}

/// Writes `path` whole: a temporary file renamed over it.
fn replace(path: &Path, bytes: &[u8]) {
    let temporary = path.with_extension("tmp");
    std::fs::write(&temporary, bytes).expect("write");
    std::fs::rename(&temporary, path).expect("rename");
}

/// A client configuration that trusts `root` alone.
fn trusting(root: &CertificateDer<'static>) -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(root.clone()).expect("root");
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Arc::new(
        rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("versions")
            .with_root_certificates(roots)
            .with_no_client_auth(),
    )
}

/// One request over HTTPS to 127.0.0.1 (the name checked against the certificate),
/// trusting `root` alone: the answer, held to docs/openapi.json, and the certificate the
/// server showed; `Err` with rustls's words when the handshake fails.
fn https(
    port: u16,
    root: &CertificateDer<'static>,
    method: &str,
    path: &str,
    headers: &[(String, String)],
    body: Option<&[u8]>,
) -> Result<(Response, CertificateDer<'static>), String> {
    let tcp = TcpStream::connect(("127.0.0.1", port)).map_err(|err| err.to_string())?;
    tcp.set_read_timeout(Some(Duration::from_secs(60)))
        .map_err(|err| err.to_string())?;
    let name = ServerName::try_from("127.0.0.1").expect("name");
    let connection =
        rustls::ClientConnection::new(trusting(root), name).map_err(|err| err.to_string())?;
    let mut stream = rustls::StreamOwned::new(connection, tcp);
    let mut request =
        format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    let body = body.unwrap_or_default();
    request.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    let mut bytes = request.into_bytes();
    bytes.extend_from_slice(body);
    stream.write_all(&bytes).map_err(|err| err.to_string())?;
    let mut raw = Vec::new();
    match stream.read_to_end(&mut raw) {
        Ok(_) => {}
        // A peer that closes without close_notify after a complete answer.
        Err(err) if err.kind() == ErrorKind::UnexpectedEof && !raw.is_empty() => {}
        Err(err) => return Err(err.to_string()),
    }
    let shown = stream
        .conn
        .peer_certificates()
        .and_then(|chain| chain.first())
        .expect("the server's certificate")
        .clone()
        .into_owned();
    let response = parse_response(&raw).ok_or("no HTTP answer")?;
    crate::openapi::check(method, path, &response);
    Ok((response, shown))
}

/// The certificate a handshake shows now (any answer will do).
fn shown(port: u16, root: &CertificateDer<'static>) -> CertificateDer<'static> {
    https(port, root, "GET", "/api/healthz/liveness", &[], None)
        .expect("an HTTPS answer")
        .1
}

fn tls_args<'a>(cert: &'a Path, key: &'a Path) -> Vec<&'a str> {
    vec![
        "--tls-cert",
        cert.to_str().expect("path"),
        "--tls-key",
        key.to_str().expect("path"),
    ]
}

#[test]
fn tokens_are_made_and_used_over_https_with_a_checked_certificate() {
    let dir = TempDir::new("tls-api");
    let ca = Ca::new();
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let issued = ca.issue(1, &cert, &key);
    let data = dir.join("data");
    let server = Server::start(&data, &tls_args(&cert, &key));
    let admin = basic("admin", server.admin_password.as_deref().expect("password"));

    let body = json!({ "jwt_token_description": "over tls", "jwt_token_life": "1h" }).to_string();
    let json_type = ("Content-Type".to_owned(), "application/json".to_owned());
    let (created, shown_cert) = https(
        server.port,
        &ca.der(),
        "POST",
        "/api/v1alpha/token/",
        &[admin, json_type],
        Some(body.as_bytes()),
    )
    .expect("create over HTTPS");
    assert_eq!(created.status, 201);
    assert_eq!(
        shown_cert, issued,
        "the server shows the certificate it was given"
    );
    let token = created.json()["jwt_token"]
        .as_str()
        .expect("token")
        .to_owned();

    let (whoami, _) = https(
        server.port,
        &ca.der(),
        "GET",
        "/api/v1alpha/whoami",
        &[bearer(&token)],
        None,
    )
    .expect("whoami over HTTPS");
    assert_eq!(whoami.status, 200);
    assert_eq!(whoami.json()["username"], "admin");

    // A client that trusts another CA refuses the server: the check is real.
    let stranger = Ca::new();
    let refused = https(
        server.port,
        &stranger.der(),
        "GET",
        "/api/healthz/liveness",
        &[],
        None,
    );
    let err = refused.expect_err("a certificate of another CA is refused");
    assert!(err.contains("invalid peer certificate"), "{err}");
}

#[test]
fn plain_http_to_the_tls_port_is_answered_400_and_closed() {
    let dir = TempDir::new("tls-plain");
    let ca = Ca::new();
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let issued = ca.issue(1, &cert, &key);
    let server = Server::start(&dir.join("data"), &tls_args(&cert, &key));

    let mut stream = TcpStream::connect(("127.0.0.1", server.port)).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .expect("timeout");
    stream
        .write_all(b"GET /api/healthz/liveness HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        .expect("write");
    let mut raw = Vec::new();
    // Ends: the server closes the connection after its answer.
    stream.read_to_end(&mut raw).expect("read to the close");
    let response = parse_response(&raw).expect("an HTTP answer");
    assert_eq!(response.status, 400);
    assert_eq!(response.code(), "https_required");
    assert!(response.message().contains("https://"));

    // The server still speaks TLS afterwards.
    assert_eq!(shown(server.port, &ca.der()), issued);
}

#[test]
fn sighup_and_a_file_change_reload_the_certificate_and_a_bad_pair_keeps_the_old() {
    let dir = TempDir::new("tls-reload");
    let ca = Ca::new();
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let first = ca.issue(1, &cert, &key);
    let server = Server::start(&dir.join("data"), &tls_args(&cert, &key));
    assert_eq!(shown(server.port, &ca.der()), first);

    let wait_for = |wanted: &CertificateDer<'static>, hup: bool| {
        if hup {
            signal_hup(server.pid());
        }
        let start = Instant::now();
        loop {
            if shown(server.port, &ca.der()) == *wanted {
                return;
            }
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "the new certificate was not served"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    };

    // SIGHUP.
    let second = ca.issue(2, &cert, &key);
    wait_for(&second, true);

    // A key that is not the certificate's, and then a file that is no PEM at all: the
    // second pair stays in use, through SIGHUP and the change of the files alike.
    let other = KeyPair::generate().expect("key");
    replace(&key, other.serialize_pem().as_bytes());
    signal_hup(server.pid());
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(shown(server.port, &ca.der()), second);
    replace(&cert, b"not a certificate\n");
    signal_hup(server.pid());
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(shown(server.port, &ca.der()), second);

    // The files change, no signal: noticed within the poll time (5 s).
    let third = ca.issue(3, &cert, &key);
    wait_for(&third, false);
}

fn signal_hup(pid: u32) {
    let status = Command::new("kill")
        .args(["-HUP", &pid.to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
}

#[test]
fn a_silent_or_stalled_tls_client_is_dropped_after_the_header_timeout() {
    let dir = TempDir::new("tls-silent");
    let ca = Ca::new();
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    ca.issue(1, &cert, &key);
    let mut args = tls_args(&cert, &key);
    args.extend(["--header-timeout", "2s"]);
    let server = Server::start(&dir.join("data"), &args);

    // Nothing at all, and the first bytes of a handshake record and then nothing.
    for sent in [&b""[..], &[22, 3, 1, 0][..]] {
        let mut stream = TcpStream::connect(("127.0.0.1", server.port)).expect("connect");
        stream.write_all(sent).expect("write");
        // Far longer than the header timeout: a read that times out means not dropped.
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .expect("timeout");
        let mut buf = [0u8; 64];
        match stream.read(&mut buf) {
            Ok(0) => {}
            Err(err) if err.kind() == ErrorKind::ConnectionReset => {}
            other => panic!("after {sent:?} the connection was not dropped: {other:?}"),
        }
    }
    // The server is unharmed.
    shown(server.port, &ca.der());
}

#[test]
fn serve_refuses_half_a_tls_pair_and_a_bad_one_in_one_line() {
    let dir = TempDir::new("tls-cli");
    let ca = Ca::new();
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    ca.issue(1, &cert, &key);
    let data = dir.join("data");
    let cert_text = cert.to_str().expect("path");
    let key_text = key.to_str().expect("path");
    let cases: [(&[&str], &str); 4] = [
        (&["--tls-cert", cert_text], "--tls-cert needs --tls-key"),
        (&["--tls-key", key_text], "--tls-key needs --tls-cert"),
        (
            &["--tls-cert", key_text, "--tls-key", key_text],
            "no PEM certificate",
        ),
        (
            &["--tls-cert", cert_text, "--tls-key", cert_text],
            "no PEM private key",
        ),
    ];
    for (args, wanted) in cases {
        let mut all = vec!["serve", "--listen", "127.0.0.1:0"];
        all.extend_from_slice(args);
        let (ok, _, stderr) = run_cli(&data, &all, "");
        assert!(!ok, "{args:?} started a server");
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        assert!(stderr.contains(wanted), "{args:?}: {stderr}");
    }
    // A key of another certificate.
    let other = KeyPair::generate().expect("key");
    let other_key = dir.join("other.pem");
    replace(&other_key, other.serialize_pem().as_bytes());
    let (ok, _, stderr) = run_cli(
        &data,
        &[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--tls-cert",
            cert_text,
            "--tls-key",
            other_key.to_str().expect("path"),
        ],
        "",
    );
    assert!(!ok);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("tokenlife: TLS:"), "{stderr}");
}
