//! TLS for deployments without a proxy (`serve --tls-cert FILE --tls-key FILE`): rustls
//! with ring's provider, TLS 1.2 and 1.3, ALPN `http/1.1` (the listener speaks HTTP/1.1
//! only), no client certificates.
//!
//! The certificate chain and its key are PEM files, read at start (a bad pair stops the
//! start) and again on SIGHUP or when either file changes: their modification time and
//! length are looked at every [`POLL`]. A pair that does not load (unreadable, no
//! certificate, no key, a key that is not the certificate's) leaves the one in use and
//! logs one line; the handshakes after a good reload use the new pair, connections
//! already open keep theirs.

use std::fmt;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use tokio_rustls::TlsAcceptor;

/// How often the certificate and key files are looked at for a change.
pub const POLL: Duration = Duration::from_secs(5);

/// The certificate in use and where it came from; handed to every handshake.
pub struct Tls {
    files: Files,
    provider: Arc<CryptoProvider>,
    current: RwLock<Arc<CertifiedKey>>,
    /// The files' modification times and lengths as last looked at.
    seen: RwLock<Option<Stamp>>,
}

/// The PEM files of `--tls-cert` and `--tls-key`.
#[derive(Debug, Clone)]
pub struct Files {
    /// The certificate chain, the server's own first.
    pub cert: PathBuf,
    /// Its private key (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
}

type Stamp = [Option<(SystemTime, u64)>; 2];

impl Tls {
    /// Loads the pair of `files`.
    ///
    /// # Errors
    ///
    /// One line saying which file is wrong and why.
    pub fn load(files: Files) -> Result<Arc<Tls>, String> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let seen = stamp(&files);
        let key = read_pair(&files, &provider)?;
        Ok(Arc::new(Tls {
            files,
            provider,
            current: RwLock::new(Arc::new(key)),
            seen: RwLock::new(Some(seen)),
        }))
    }

    /// The acceptor for the listener: its handshakes take whatever pair is current.
    ///
    /// # Errors
    ///
    /// The provider refuses its own default protocol versions (it does not).
    pub fn acceptor(self: &Arc<Tls>) -> Result<TlsAcceptor, String> {
        let mut config = rustls::ServerConfig::builder_with_provider(Arc::clone(&self.provider))
            .with_safe_default_protocol_versions()
            .map_err(|err| format!("TLS: {err}"))?
            .with_no_client_auth()
            .with_cert_resolver(Arc::new(Resolver(Arc::clone(self))));
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(TlsAcceptor::from(Arc::new(config)))
    }

    /// Reads the files again and, if they hold a good pair, uses it from the next
    /// handshake on.
    ///
    /// # Errors
    ///
    /// The pair did not load; the one in use stays.
    pub fn reload(&self) -> Result<(), String> {
        *self.seen.write().unwrap_or_else(|e| e.into_inner()) = Some(stamp(&self.files));
        let key = read_pair(&self.files, &self.provider)?;
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(key);
        Ok(())
    }

    /// Whether either file's modification time or length differs from the last look.
    fn changed(&self) -> bool {
        let now = stamp(&self.files);
        *self.seen.read().unwrap_or_else(|e| e.into_inner()) != Some(now)
    }

    /// Reloads on SIGHUP and when the files change, logging each outcome in one line,
    /// until the task is dropped.
    ///
    /// # Errors
    ///
    /// The SIGHUP handler could not be installed.
    pub fn watch(self: Arc<Tls>) -> Result<impl Future<Output = ()>, String> {
        use tokio::signal::unix::{SignalKind, signal};
        let mut hangup = signal(SignalKind::hangup())
            .map_err(|err| format!("cannot install the SIGHUP handler: {err}"))?;
        Ok(async move {
            let mut poll = tokio::time::interval(POLL);
            poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                let why = tokio::select! {
                    _ = hangup.recv() => "SIGHUP",
                    _ = poll.tick() => {
                        if !self.changed() {
                            continue;
                        }
                        "the files changed"
                    }
                };
                match self.reload() {
                    Ok(()) => tracing::info!(
                        cert = %self.files.cert.display(),
                        "TLS certificate reloaded ({why})"
                    ),
                    Err(err) => tracing::warn!(
                        "TLS certificate not reloaded ({why}), the previous one stays: {err}"
                    ),
                }
            }
        })
    }
}

impl fmt::Debug for Tls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tls").field("files", &self.files).finish()
    }
}

/// Hands every handshake the current pair.
#[derive(Debug)]
struct Resolver(Arc<Tls>);

impl ResolvesServerCert for Resolver {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(Arc::clone(
            &self.0.current.read().unwrap_or_else(|e| e.into_inner()),
        ))
    }
}

/// The chain of `files.cert` and the key of `files.key`, checked to belong together.
fn read_pair(files: &Files, provider: &CryptoProvider) -> Result<CertifiedKey, String> {
    let named = |path: &Path, what: &dyn fmt::Display| format!("{}: {what}", path.display());
    let chain = CertificateDer::pem_file_iter(&files.cert)
        .map_err(|err| named(&files.cert, &pem_error(&err)))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|err| named(&files.cert, &pem_error(&err)))?;
    if chain.is_empty() {
        return Err(named(&files.cert, &"no PEM certificate in it"));
    }
    let key = PrivateKeyDer::from_pem_file(&files.key).map_err(|err| match err {
        rustls::pki_types::pem::Error::NoItemsFound => {
            named(&files.key, &"no PEM private key in it")
        }
        other => named(&files.key, &pem_error(&other)),
    })?;
    CertifiedKey::from_der(chain, key, provider).map_err(|err| {
        format!(
            "{} and {}: {err}",
            files.cert.display(),
            files.key.display()
        )
    })
}

fn pem_error(err: &rustls::pki_types::pem::Error) -> String {
    match err {
        rustls::pki_types::pem::Error::Io(io) => io.to_string(),
        other => format!("not PEM ({other:?})"),
    }
}

fn stamp(files: &Files) -> Stamp {
    let one = |path: &Path| {
        let meta = std::fs::metadata(path).ok()?;
        Some((meta.modified().ok()?, meta.len()))
    };
    [one(&files.cert), one(&files.key)]
}
