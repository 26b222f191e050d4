//! The `tokenlife` command line (SPEC section 7): `serve`, `user`, `import-specter`,
//! `inspect`, `migrate`, `health`. Every `serve` flag can also come from the environment
//! (`TOKENLIFE_<FLAG>`, listed by `tokenlife serve --help`). Every command takes `--data DIR` (or `TOKENLIFE_DATA`), or
//! `--store postgres://...` (or `TOKENLIFE_STORE`) for the PostgreSQL store, and works
//! while servers run on the same store.

use std::io::{BufRead, IsTerminal, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};
use tokenlife_core::Life;

use crate::app::{App, Config};
use crate::http::static_files::StaticDirs;
use crate::secrets::Algorithm;
use crate::store::{ImportedUser, JsonStore, NewUser, Op, Store, StoreError};
use crate::{auth, routes, secrets};

mod audit;
mod health;
mod keys;
mod token;

/// Issues, lists, inspects and revokes JSON Web Tokens for an HTTP API.
#[derive(Debug, Parser)]
#[command(name = "tokenlife", version, about)]
pub struct Cli {
    /// The data folder: users.json, its journal and the signing keys.
    #[arg(
        long,
        global = true,
        env = "TOKENLIFE_DATA",
        default_value = "./tokenlife-data"
    )]
    pub data: PathBuf,
    /// The PostgreSQL store instead of the data folder's files, as a URL
    /// (postgres://USER[:PASSWORD]@HOST:PORT/DATABASE); several servers can share it.
    #[arg(long, global = true, env = "TOKENLIFE_STORE", hide_env_values = true)]
    pub store: Option<String>,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the API and the web page.
    Serve(Box<ServeArgs>),
    /// Manage users.
    #[command(subcommand)]
    User(UserCommand),
    /// Rotate, list and retire the signing keys.
    #[command(subcommand)]
    Keys(keys::KeysCommand),
    /// Show users' tokens.
    #[command(subcommand)]
    Token(token::TokenCommand),
    /// Import the users and tokens of a Specter Desktop users.json.
    ImportSpecter {
        /// The Specter users.json.
        path: PathBuf,
        /// A file holding Specter's SECRET_KEY (one line), kept to verify the tokens Specter
        /// issued so that they keep working (never to sign). SPECTER_SECRET_KEY in the
        /// environment does the same.
        #[arg(long, value_name = "FILE")]
        specter_secret_key_file: Option<PathBuf>,
    },
    /// Show a token's claims and remaining life (without checking its signature).
    Inspect {
        /// The token, or "-" to read it from standard input.
        token: String,
    },
    /// Copy the users, tokens, revoked ids and keys of a data folder into PostgreSQL.
    Migrate {
        /// The data folder of the JSON store.
        #[arg(long)]
        from: PathBuf,
        /// The PostgreSQL URL.
        #[arg(long)]
        to: String,
        /// Add to a database that already holds data (its users and keys are kept).
        #[arg(long)]
        merge: bool,
    },
    /// Check that a server answers: exit 0 on a 200 from URL, else 1 with one line saying
    /// why (for container health checks, which have no curl).
    Health(health::HealthArgs),
    /// Show the audit trail, newest first, one line per event: time, kind, actor, target,
    /// client address.
    Audit(audit::AuditArgs),
    /// Benchmarks only: add COUNT synthetic token records to USER (created if missing,
    /// password from standard input).
    #[command(hide = true)]
    Seed {
        /// The user.
        user: String,
        /// How many records.
        count: usize,
    },
}

/// `tokenlife serve` options.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// The address to listen on; port 0 picks a free port.
    #[arg(long, env = "TOKENLIFE_LISTEN", default_value = "127.0.0.1:25441")]
    pub listen: SocketAddr,
    /// The signing algorithm.
    #[arg(
        long,
        value_enum,
        ignore_case = true,
        env = "TOKENLIFE_ALG",
        default_value = "HS256"
    )]
    pub alg: AlgArg,
    /// The longest life a token may be given.
    #[arg(long, env = "TOKENLIFE_MAX_LIFE", default_value = "1 year")]
    pub max_life: String,
    /// The most unexpired tokens one user may hold; a create beyond it is refused (400
    /// too_many_tokens). Regenerating a token does not count. Unlimited when not given.
    #[arg(long, env = "TOKENLIFE_MAX_TOKENS_PER_USER", value_parser = clap::value_parser!(u32).range(1..))]
    pub max_tokens_per_user: Option<u32>,
    /// New tokens (created or regenerated) must carry jwt_token_endpoints; one without is
    /// refused (400 scopes_required). In the environment: true/false, yes/no, 1/0.
    #[arg(long, env = "TOKENLIFE_REQUIRE_SCOPES", value_parser = clap::builder::BoolishValueParser::new())]
    pub require_scopes: bool,
    /// The issuer name put in every token.
    #[arg(long, env = "TOKENLIFE_ISSUER", default_value = "tokenlife")]
    pub issuer: String,
    /// Serve the web page from this folder instead of the copy built into the binary
    /// (development: edits show without a rebuild).
    #[arg(long, env = "TOKENLIFE_WWW")]
    pub www: Option<PathBuf>,
    /// Serve /pkg/ from this npm package folder instead of the copy built into the binary.
    #[arg(long, env = "TOKENLIFE_PKG")]
    pub pkg: Option<PathBuf>,
    /// Which request forward auth (/api/v1alpha/auth) judges: nginx reads only
    /// X-Original-Method and X-Original-URI, traefik only X-Forwarded-Method and
    /// X-Forwarded-Uri (both of the family required); any reads both families and
    /// refuses them when they disagree.
    #[arg(
        long,
        value_enum,
        env = "TOKENLIFE_FORWARD_HEADERS",
        default_value = "any"
    )]
    pub forward_headers: crate::app::ForwardHeaders,
    /// Time a client has to send a request's head (from the connection's start, or from
    /// the first byte of the next request on a kept-alive connection): a head that misses
    /// it closes the connection. A request's body gets the same time from its head on, or
    /// is answered 400.
    #[arg(long, env = "TOKENLIFE_HEADER_TIMEOUT", default_value = "10s", value_parser = parse_duration)]
    pub header_timeout: Duration,
    /// Time a kept-alive connection may wait for its next request, or for its client to
    /// read an answer, before it is closed.
    #[arg(long, env = "TOKENLIFE_IDLE_TIMEOUT", default_value = "60s", value_parser = parse_duration)]
    pub idle_timeout: Duration,
    /// The most connections open at once (lowered to fit the open-file limit). A new one
    /// beyond it closes the oldest connection that has no request in flight.
    #[arg(long, env = "TOKENLIFE_MAX_CONNECTIONS", default_value_t = 1024, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_connections: u32,
    /// Time the requests in flight get to finish after SIGTERM or SIGINT.
    #[arg(long, env = "TOKENLIFE_SHUTDOWN_GRACE", default_value = "10s", value_parser = parse_duration)]
    pub shutdown_grace: Duration,
    /// Serve HTTPS (TLS 1.2 and 1.3) with this certificate chain, PEM, the server's own
    /// certificate first; needs --tls-key. Both files are read again on SIGHUP and when
    /// either changes (looked at every 5 seconds); a pair that does not load keeps the
    /// one in use.
    #[arg(long, env = "TOKENLIFE_TLS_CERT")]
    pub tls_cert: Option<PathBuf>,
    /// The private key of --tls-cert, PEM (PKCS#8, PKCS#1 or SEC1).
    #[arg(long, env = "TOKENLIFE_TLS_KEY")]
    pub tls_key: Option<PathBuf>,
    /// Serve Prometheus metrics (GET /metrics) on this address, apart from the API so
    /// that they are not exposed with it; off when not given.
    #[arg(long, env = "TOKENLIFE_METRICS_LISTEN")]
    pub metrics_listen: Option<SocketAddr>,
    /// How long the audit trail keeps events; older ones are dropped when the server
    /// starts and every hour.
    #[arg(long, env = "TOKENLIFE_AUDIT_RETENTION", default_value = "90d", value_parser = parse_duration)]
    pub audit_retention: Duration,
    /// The size in bytes past which the data folder's audit.jsonl is rotated (to
    /// audit.1.jsonl, the older ones moving up); not used by the PostgreSQL store.
    #[arg(long, env = "TOKENLIFE_AUDIT_ROTATE_BYTES", default_value_t = crate::store::audit::json::DEFAULT_ROTATE_BYTES, value_parser = clap::value_parser!(u64).range(1..))]
    pub audit_rotate_bytes: u64,
    /// How long an audit event may wait for others to be written with it (0: at once).
    /// Hidden: for tests of the flush at shutdown, and for busy servers.
    #[arg(long, hide = true, env = "TOKENLIFE_AUDIT_LINGER", default_value = "0s", value_parser = humantime::parse_duration)]
    pub audit_linger: Duration,
}

impl ServeArgs {
    /// The TLS files, when both are given (an empty value counts as not given).
    fn tls_files(&self) -> Result<Option<crate::http::tls::Files>, String> {
        let given = |path: &Option<PathBuf>| path.clone().filter(|p| !p.as_os_str().is_empty());
        match (given(&self.tls_cert), given(&self.tls_key)) {
            (Some(cert), Some(key)) => Ok(Some(crate::http::tls::Files { cert, key })),
            (None, None) => Ok(None),
            (Some(_), None) => {
                Err("--tls-cert needs --tls-key (the certificate's private key)".into())
            }
            (None, Some(_)) => Err("--tls-key needs --tls-cert (the certificate chain)".into()),
        }
    }
}

/// A duration on the command line: `humantime` text (`10s`, `1m 30s`, `500ms`), more
/// than zero.
fn parse_duration(text: &str) -> Result<Duration, String> {
    let duration = humantime::parse_duration(text).map_err(|err| err.to_string())?;
    if duration.is_zero() {
        return Err("must be more than zero".into());
    }
    Ok(duration)
}

/// The signing algorithms, as written on the command line.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum AlgArg {
    /// HMAC-SHA256.
    #[value(name = "HS256")]
    Hs256,
    /// Ed25519.
    #[value(name = "EdDSA")]
    EdDsa,
}

/// `tokenlife user ...`.
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add a user (password from a prompt, or one line of standard input).
    Add {
        /// The username.
        username: String,
        /// Make the user an administrator.
        #[arg(long)]
        admin: bool,
    },
    /// Change a user's password (from a prompt, or one line of standard input).
    Passwd {
        /// The username.
        username: String,
    },
    /// Remove a user; their tokens stop working at once.
    Remove {
        /// The username.
        username: String,
    },
    /// List the users.
    List,
}

/// Runs the command line; the error is one line for people.
///
/// # Errors
///
/// Whatever stopped the command, as a message.
pub fn run(cli: Cli) -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|err| format!("cannot start the runtime: {err}"))?;
    let location = Location {
        data: cli.data,
        store: cli.store,
    };
    runtime.block_on(async move {
        match cli.command {
            Command::Serve(args) => serve(&location, *args).await,
            Command::User(command) => user(&location, command).await,
            Command::Token(command) => {
                let store = open(&location).await?;
                let result = token::run(store.as_ref(), command).await;
                store.close();
                result
            }
            Command::Keys(command) => {
                let store = open(&location).await?;
                let log = crate::store::audit::open(
                    &location.store(),
                    crate::store::audit::json::DEFAULT_ROTATE_BYTES,
                )
                .await?;
                let result = keys::run(store.as_ref(), log.as_ref(), command).await;
                store.close();
                result
            }
            Command::ImportSpecter {
                path,
                specter_secret_key_file,
            } => import_specter(&location, &path, specter_secret_key_file.as_deref()).await,
            Command::Inspect { token } => inspect(&token),
            Command::Migrate { from, to, merge } => migrate(&from, &to, merge).await,
            Command::Seed { user, count } => seed(&location, &user, count).await,
            Command::Health(args) => health::check(&args).await,
            Command::Audit(args) => audit::show(&location.store(), &args).await,
        }
    })
}

/// Where the data is: `--store` when given, else the folder of `--data`.
struct Location {
    data: PathBuf,
    store: Option<String>,
}

impl Location {
    fn store(&self) -> crate::store::Location<'_> {
        // An empty TOKENLIFE_STORE means the folder, as if it were not set.
        match self.store.as_deref().filter(|url| !url.is_empty()) {
            Some(url) => crate::store::Location::Database(url),
            None => crate::store::Location::Folder(&self.data),
        }
    }
}

async fn open(location: &Location) -> Result<Arc<dyn Store>, String> {
    crate::store::open(&location.store()).await
}

/// Folds what the store has in flight into its files (see [`Store::checkpoint`]).
async fn checkpoint(store: &dyn Store) -> Result<(), String> {
    store
        .checkpoint(crate::clock::now_secs())
        .await
        .map_err(|err| err.to_string())
}

async fn serve(location: &Location, args: ServeArgs) -> Result<(), String> {
    let max_life = Life::parse(&args.max_life).map_err(|err| format!("--max-life: {err}"))?;
    if args.issuer.trim().is_empty() {
        return Err("--issuer must not be empty".into());
    }
    // Checked before the store is opened: a wrong folder changes nothing.
    let dirs = StaticDirs::new(args.www.clone(), args.pkg.clone())?;
    if dirs.package_missing() {
        tracing::warn!(
            "this binary was built without the npm package: / says so and /pkg/ answers 503; \
             run {} and build the server again",
            crate::http::static_files::BUILD_PACKAGE
        );
    }
    let tls = match args.tls_files()? {
        Some(files) => {
            Some(crate::http::tls::Tls::load(files).map_err(|err| format!("TLS: {err}"))?)
        }
        None => None,
    };
    let signals = install_signals()?;
    // SIGHUP is caught from here on when it reloads the certificate.
    let tls_watch = tls
        .as_ref()
        .map(|tls| Arc::clone(tls).watch())
        .transpose()?;
    let store = open(location).await?;
    checkpoint(store.as_ref()).await?;
    let audit_log = crate::store::audit::open(&location.store(), args.audit_rotate_bytes).await?;
    let alg = match args.alg {
        AlgArg::Hs256 => Algorithm::Hs256,
        AlgArg::EdDsa => Algorithm::EdDsa,
    };
    let keys = secrets::Keys::load(store.as_ref(), alg).await?;
    let passwords = auth::Passwords::new()?;
    if store
        .users()
        .await
        .map_err(|err| err.to_string())?
        .is_empty()
    {
        let password = random_password()?;
        let record = hash(&password).await?;
        let op = Op::AddFirstUser(NewUser {
            username: "admin".into(),
            password: record,
            is_admin: true,
        });
        if store.apply(op).await.map_err(|err| err.to_string())? {
            // A new folder holds a complete users.json from its first start on.
            checkpoint(store.as_ref()).await?;
            audit::cli_event(audit_log.as_ref(), crate::audit::Kind::UserAdded, "admin").await?;
            println!("admin password: {password}");
        }
    }
    tokio::task::spawn_blocking(auth::warm_up)
        .await
        .map_err(|err| err.to_string())?;
    let app = Arc::new(App {
        config: Config {
            issuer: args.issuer,
            max_life,
            forward_headers: args.forward_headers,
            policy: crate::app::Policy {
                max_tokens_per_user: args.max_tokens_per_user,
                require_scopes: args.require_scopes,
            },
        },
        store: Arc::clone(&store),
        keys,
        passwords,
        verified: auth::VerifiedTokens::default(),
        specter: auth::SpecterKey::default(),
        last_use: Arc::default(),
        audit: crate::audit::Audit::start(audit_log, Some(args.audit_retention), args.audit_linger),
    });
    let flusher =
        crate::store::last_use::Flusher::spawn(Arc::clone(&app.last_use), Arc::clone(&store));
    let audit_writer = Arc::clone(&app);
    let file_limit = match crate::http::listener::raise_file_limit() {
        Ok(limit) => limit,
        Err(err) => {
            tracing::warn!(%err, "cannot raise the open-file limit");
            rlimit::getrlimit(rlimit::Resource::NOFILE).map_or(1024, |(soft, _)| soft)
        }
    };
    let wanted = usize::try_from(args.max_connections).unwrap_or(usize::MAX);
    let max_connections = crate::http::listener::connection_cap(wanted, file_limit);
    if max_connections < wanted {
        tracing::warn!(
            file_limit,
            max_connections,
            "--max-connections lowered to fit the open-file limit"
        );
    }
    let limits = crate::http::listener::Limits {
        header_timeout: args.header_timeout,
        idle_timeout: args.idle_timeout,
        max_connections,
        shutdown_grace: args.shutdown_grace,
    };
    let acceptor = tls
        .as_ref()
        .map(crate::http::tls::Tls::acceptor)
        .transpose()?;
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|err| format!("cannot listen on {}: {err}", args.listen))?;
    let addr = listener.local_addr().map_err(|err| err.to_string())?;
    let metrics = match args.metrics_listen {
        Some(at) => Some(serve_metrics(at, Arc::clone(&store), limits).await?),
        None => None,
    };
    tracing::info!(
        %addr,
        store = %store.describe(),
        alg = app.keys.current().signer.algorithm(),
        tls = acceptor.is_some(),
        file_limit,
        max_connections,
        "serving"
    );
    let scheme = if acceptor.is_some() { "https" } else { "http" };
    println!("listening on {scheme}://{addr}");
    let _ = std::io::stdout().flush();
    let tls_watch = tls_watch.map(tokio::spawn);
    let service =
        hyper_util::service::TowerToHyperService::new(warp::service(routes(app, Arc::new(dirs))));
    let options = crate::http::listener::Options {
        tls: acceptor,
        open_connections: Some(&crate::http::metrics::METRICS.open_connections),
    };
    crate::http::listener::serve_with(listener, service, limits, options, shutdown_signal(signals))
        .await;
    if let Some(watch) = tls_watch {
        watch.abort();
    }
    if let Some((stop, task)) = metrics {
        let _ = stop.send(());
        let _ = task.await;
    }
    tracing::info!("stopped accepting; finishing the writes in flight");
    flusher.finish().await;
    // The audit events of every answered request, before the store closes.
    if tokio::time::timeout(AUDIT_FLUSH_WAIT, audit_writer.audit.shutdown())
        .await
        .is_err()
    {
        tracing::error!("the audit trail could not be written before the stop");
    }
    store.close();
    // A stopped server leaves everything in users.json, in Specter's layout, for whoever
    // reads the folder next (a person, a backup, `tokenlife migrate`).
    store
        .checkpoint(crate::clock::now_secs())
        .await
        .map_err(|err| err.to_string())
}

/// The longest a stopping server waits for the audit trail's last writes.
const AUDIT_FLUSH_WAIT: Duration = Duration::from_secs(30);

/// Serves `GET /metrics` on `at` (its own listener and limits, the API's timeouts) until
/// told to stop; prints `metrics on http://ADDR`.
async fn serve_metrics(
    at: SocketAddr,
    store: Arc<dyn Store>,
    limits: crate::http::listener::Limits,
) -> Result<
    (
        tokio::sync::oneshot::Sender<()>,
        tokio::task::JoinHandle<()>,
    ),
    String,
> {
    let listener = tokio::net::TcpListener::bind(at)
        .await
        .map_err(|err| format!("cannot listen on {at} for the metrics: {err}"))?;
    let addr = listener.local_addr().map_err(|err| err.to_string())?;
    let service = hyper_util::service::TowerToHyperService::new(warp::service(
        crate::http::metrics::routes(store),
    ));
    let limits = crate::http::listener::Limits {
        max_connections: 16,
        ..limits
    };
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(crate::http::listener::serve(
        listener,
        service,
        limits,
        async {
            let _ = stopped.await;
        },
    ));
    println!("metrics on http://{addr}");
    Ok((stop, task))
}

/// SIGTERM and SIGINT, caught from the moment this is made: one that comes while the
/// server starts (even just after it prints its address) stops it cleanly once it serves.
struct Signals {
    term: tokio::signal::unix::Signal,
    interrupt: tokio::signal::unix::Signal,
}

fn install_signals() -> Result<Signals, String> {
    use tokio::signal::unix::{SignalKind, signal};
    let catch = |kind: SignalKind| {
        signal(kind).map_err(|err| format!("cannot install the signal handlers: {err}"))
    };
    Ok(Signals {
        term: catch(SignalKind::terminate())?,
        interrupt: catch(SignalKind::interrupt())?,
    })
}

async fn shutdown_signal(mut signals: Signals) {
    tokio::select! {
        _ = signals.term.recv() => {}
        _ = signals.interrupt.recv() => {}
    }
    tracing::info!("shutting down");
}

async fn user(location: &Location, command: UserCommand) -> Result<(), String> {
    let store = open(location).await?;
    let log = match command {
        UserCommand::List => None,
        _ => Some(
            crate::store::audit::open(
                &location.store(),
                crate::store::audit::json::DEFAULT_ROTATE_BYTES,
            )
            .await?,
        ),
    };
    let audit_event = async |kind, username: &str| match &log {
        Some(log) => audit::cli_event(log.as_ref(), kind, username).await,
        None => Ok(()),
    };
    let result = match command {
        UserCommand::Add { username, admin } => {
            check_username(&username)?;
            let password = read_password(true)?;
            let record = hash(&password).await?;
            store
                .apply(Op::AddUser(NewUser {
                    username: username.clone(),
                    password: record,
                    is_admin: admin,
                }))
                .await
                .map_err(|err| user_error(err, &username))?;
            println!("added user {username}");
            audit_event(crate::audit::Kind::UserAdded, &username).await?;
            Ok(())
        }
        UserCommand::Passwd { username } => {
            if store
                .password(&username)
                .await
                .map_err(|e| e.to_string())?
                .is_none()
            {
                return Err(format!("no user named {username}"));
            }
            let password = read_password(true)?;
            let record = hash(&password).await?;
            store
                .apply(Op::SetPassword {
                    username: username.clone(),
                    password: record,
                })
                .await
                .map_err(|err| user_error(err, &username))?;
            println!("changed the password of {username}");
            audit_event(crate::audit::Kind::PasswordChanged, &username).await?;
            Ok(())
        }
        UserCommand::Remove { username } => {
            store
                .apply(Op::RemoveUser {
                    username: username.clone(),
                    now: crate::clock::now_secs(),
                })
                .await
                .map_err(|err| user_error(err, &username))?;
            println!("removed user {username}");
            audit_event(crate::audit::Kind::UserRemoved, &username).await?;
            Ok(())
        }
        UserCommand::List => {
            for user in store.users().await.map_err(|err| err.to_string())? {
                let role = if user.is_admin { "admin" } else { "user" };
                println!("{}\t{role}\t{} tokens", user.username, user.tokens);
            }
            Ok(())
        }
    };
    store.close();
    if let Some(log) = log {
        log.close();
    }
    result
}

fn user_error(err: StoreError, username: &str) -> String {
    match err {
        StoreError::UnknownUser => format!("no user named {username}"),
        StoreError::UserExists => format!("a user named {username} already exists"),
        other => other.to_string(),
    }
}

fn check_username(username: &str) -> Result<(), String> {
    if username.is_empty()
        || username.len() > 64
        || username.contains(':')
        || username.chars().any(char::is_control)
    {
        return Err("a username is 1 to 64 characters, without ':' or control characters".into());
    }
    Ok(())
}

/// A password from the terminal (asked twice), or one line of standard input.
fn read_password(confirm: bool) -> Result<String, String> {
    let password = if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("password: ")
            .map_err(|err| format!("cannot read the password: {err}"))?;
        if confirm {
            let again = rpassword::prompt_password("again: ")
                .map_err(|err| format!("cannot read the password: {err}"))?;
            if again != first {
                return Err("the two passwords differ".into());
            }
        }
        first
    } else {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|err| format!("cannot read the password from standard input: {err}"))?;
        line.trim_end_matches(['\n', '\r']).to_owned()
    };
    if password.is_empty() {
        return Err("the password must not be empty".into());
    }
    Ok(password)
}

async fn hash(password: &str) -> Result<crate::store::PasswordRecord, String> {
    let password = password.to_owned();
    tokio::task::spawn_blocking(move || auth::hash_password(&password))
        .await
        .map_err(|err| err.to_string())?
}

fn random_password() -> Result<String, String> {
    use base64::Engine;
    let mut bytes = [0u8; 18];
    getrandom::fill(&mut bytes).map_err(|err| format!("no OS randomness: {err}"))?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

/// Specter's signing key for `import-specter`: `--specter-secret-key-file` (its text, the
/// line end cut off) or `SPECTER_SECRET_KEY`, not both; `None` when neither is given.
fn specter_secret_key(file: Option<&Path>) -> Result<Option<Vec<u8>>, String> {
    let env = std::env::var_os("SPECTER_SECRET_KEY").filter(|value| !value.is_empty());
    let key = match (file, env) {
        (Some(_), Some(_)) => {
            return Err(
                "give Specter's key once: SPECTER_SECRET_KEY or --specter-secret-key-file, not both"
                    .into(),
            );
        }
        (Some(file), None) => {
            let mut text = std::fs::read(file)
                .map_err(|err| format!("cannot read {}: {err}", file.display()))?;
            while text.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
                text.pop();
            }
            if text.is_empty() {
                return Err(format!("{} holds no key", file.display()));
            }
            text
        }
        (None, Some(value)) => value.into_encoded_bytes(),
        (None, None) => return Ok(None),
    };
    Ok(Some(key))
}

async fn import_specter(
    location: &Location,
    path: &Path,
    key_file: Option<&Path>,
) -> Result<(), String> {
    let key = specter_secret_key(key_file)?;
    let verifier = key
        .as_deref()
        .map(tokenlife_core::Verifier::specter_hs256)
        .transpose()
        .map_err(|err| format!("Specter's key: {err}"))?;
    let text = std::fs::read_to_string(path)
        .map_err(|err| format!("cannot read {}: {err}", path.display()))?;
    let import = crate::store::specter::parse(&text, auth::hash_password, verifier.as_ref())
        .map_err(|err| format!("{}: {err}", path.display()))?;
    let users = import.users.len();
    let tokens: usize = import.users.iter().map(|u| u.tokens.len()).sum();
    if key.is_some() && tokens > 0 && import.verified == 0 {
        let first = import.unverified.first().cloned().unwrap_or_default();
        return Err(format!(
            "Specter's key verifies none of the {tokens} tokens of {} ({first}): is it that \
             node's SECRET_KEY? Nothing was imported",
            path.display()
        ));
    }
    let store = open(location).await?;
    let mut result = store
        .apply(Op::Import(import.users))
        .await
        .map(drop)
        .map_err(|err| err.to_string());
    if let (Ok(()), Some(key)) = (&result, &key) {
        result = store.set_specter_key(key).await.map_err(|err| {
            format!("the users were imported, but Specter's key was not kept: {err}")
        });
    }
    store.close();
    result?;
    for line in import.skipped {
        eprintln!("skipped {line}");
    }
    for line in &import.unverified {
        eprintln!("warning: Specter's key does not verify {line}; it stays listed but is refused");
    }
    println!(
        "imported {users} users and {tokens} tokens from {}",
        path.display()
    );
    if key.is_some() {
        println!(
            "kept Specter's key to verify its tokens (never to sign): {} of {tokens} tokens keep \
             working until they expire or are deleted",
            import.verified
        );
    } else if tokens > 0 {
        println!(
            "Specter's tokens are listed but refused: to keep them working, run import-specter \
             again with Specter's SECRET_KEY in SPECTER_SECRET_KEY or --specter-secret-key-file FILE"
        );
    }
    Ok(())
}

fn inspect(token: &str) -> Result<(), String> {
    let token = if token == "-" {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|err| err.to_string())?;
        line.trim().to_owned()
    } else {
        token.trim().to_owned()
    };
    let now = crate::clock::now();
    let seen = tokenlife_core::inspect(&token, now, 0)
        .map_err(|err| format!("{} ({})", err, err.code()))?;
    let decoded = tokenlife_core::decode_unverified(&token).map_err(|err| err.to_string())?;
    let remaining = seen.jwt_token_life_remaining.floor() as u64;
    let out = serde_json::json!({
        "header": decoded.header,
        "claims": decoded.claims,
        "jwt_token_life": seen.jwt_token_life,
        "jwt_token_life_remaining": seen.jwt_token_life_remaining,
        "remaining": tokenlife_core::format_life(remaining),
        "expiry_status": seen.expiry_status.as_str(),
        "signature": "not checked",
    });
    println!(
        "{}",
        serde_json::to_string_pretty(&out).map_err(|err| err.to_string())?
    );
    Ok(())
}

async fn seed(location: &Location, user: &str, count: usize) -> Result<(), String> {
    let store = open(location).await?;
    let now = crate::clock::now_secs();
    let password = match store.password(user).await.map_err(|e| e.to_string())? {
        Some(record) => record,
        None => hash(&read_password(false)?).await?,
    };
    let tokens = (0..count)
        .map(|i| {
            let mut random = [0u8; 16];
            let _ = getrandom::fill(&mut random);
            let id = tokenlife_core::TokenId::from_random_bytes(random).to_string();
            let record = tokenlife_core::TokenRecord {
                jwt_token_description: format!("seed {i} {id}"),
                jwt_token_life: 31_536_000,
                iat: now,
                exp: now + 31_536_000,
                fingerprint: tokenlife_core::fingerprint(&id),
                jwt_token_endpoints: None,
                jwt_token_origin: None,
                jwt_token_last_used: None,
                jwt_token_last_used_from: None,
                kid: None,
            };
            (id, record)
        })
        .collect();
    let user = ImportedUser {
        user: NewUser {
            username: user.to_owned(),
            password,
            is_admin: false,
        },
        tokens,
    };
    let result = store
        .apply(Op::Import(vec![user]))
        .await
        .map_err(|err| err.to_string());
    store.close();
    result?;
    // Written once into users.json, so that a server starting on it replays nothing.
    store.checkpoint(now).await.map_err(|err| err.to_string())?;
    println!("seeded {count} tokens");
    Ok(())
}

/// `tokenlife migrate`: the JSON store of `from` into the PostgreSQL database `to`, users
/// with their password records as they are, tokens with their last use, revoked ids, keys
/// and the audit trail (every rotated file), so that every token keeps working. Refuses a
/// database that holds data unless `merge`; events keep their ids, so an event already in
/// the table (a second run) is not added again.
async fn migrate(from: &Path, to: &str, merge: bool) -> Result<(), String> {
    if !JsonStore::holds_data(from) {
        return Err(format!(
            "{} holds no tokenlife data (no users.json)",
            from.display()
        ));
    }
    let json = JsonStore::open(from).map_err(|err| err.to_string())?;
    let dump = json
        .dump(crate::clock::now_secs())
        .map_err(|err| err.to_string())?;
    let keyring = Store::keyring(&json).await.map_err(|err| err.to_string());
    json.close();
    let keyring = keyring?;
    let trail =
        crate::store::audit::JsonAudit::open(from, crate::store::audit::json::DEFAULT_ROTATE_BYTES)
            .map_err(|err| err.to_string())?;
    let events = crate::store::audit::AuditLog::page(
        &trail,
        crate::store::audit::Query {
            user: None,
            since: None,
            before: None,
            limit: usize::MAX,
        },
    )
    .await
    .map_err(|err| err.to_string())?;
    let pg = crate::store::open_postgres(to).await?;
    let [users, tokens, revoked, keys] = pg.counts().await.map_err(|err| err.to_string())?;
    if users + tokens + revoked + keys > 0 && !merge {
        pg.close();
        return Err(format!(
            "the database already holds {users} users, {tokens} tokens, {revoked} revoked ids \
             and {keys} keys; pass --merge to add to them"
        ));
    }
    let mut loaded = pg.load(&dump, &events).await.map_err(|err| err.to_string());
    // The keyring (after `tokenlife keys rotate`) goes along, unless the database has one.
    if loaded.is_ok() && !keyring.keys.is_empty() {
        match Store::save_keyring(&pg, 0, keyring.keys).await {
            Ok(true) => {}
            Ok(false) => eprintln!(
                "warning: the database already has a keyring and keeps it: tokens signed with \
                 keys of the folder's keyring will not verify on PostgreSQL"
            ),
            Err(err) => loaded = Err(err.to_string()),
        }
    }
    pg.close();
    let loaded = loaded?;
    for name in loaded.differing {
        eprintln!(
            "warning: the database already had another {name} key and keeps it: tokens signed \
             with the folder's {name} key will not verify on PostgreSQL"
        );
    }
    let tokens: usize = dump.users.iter().map(|(_, u)| u.tokens.len()).sum();
    // Events the database already held (a second run) are counted apart.
    let present = events.len() as u64 - loaded.events.min(events.len() as u64);
    let present = if present > 0 {
        format!(" ({present} already present)")
    } else {
        String::new()
    };
    println!(
        "migrated {} users, {tokens} tokens, {} revoked ids, {} keys and {} audit events{present} from {}",
        dump.users.len(),
        dump.revoked.len(),
        dump.keys.len() + usize::from(dump.specter_key.is_some()),
        loaded.events,
        from.display()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    /// Every flag of `serve`, and the global `--data`/`--store`, can come from the
    /// environment, and `serve --help` names the variable (clap prints `[env: NAME=]`).
    #[test]
    fn every_serve_flag_has_an_environment_variable() {
        let mut cli = super::Cli::command();
        // Building propagates the global --data and --store to the subcommands.
        cli.build();
        let mut help = Vec::new();
        let serve = cli.find_subcommand_mut("serve").expect("serve");
        serve.write_long_help(&mut help).expect("help");
        let help = String::from_utf8(help).expect("utf-8");
        let mut checked = 0;
        for arg in serve.get_arguments() {
            let Some(long) = arg.get_long() else { continue };
            if ["help", "version"].contains(&long) {
                continue;
            }
            let env = arg
                .get_env()
                .and_then(|env| env.to_str())
                .unwrap_or_else(|| panic!("--{long} has no environment variable"));
            assert_eq!(
                env,
                format!("TOKENLIFE_{}", long.to_uppercase().replace('-', "_")),
                "--{long}"
            );
            // A hidden flag (for tests) has its variable but is not in the help.
            assert_eq!(
                help.contains(&format!("[env: {env}")),
                !arg.is_hide_set(),
                "--{long}: {help}"
            );
            checked += 1;
        }
        assert!(checked >= 13, "only {checked} flags");
    }
}
