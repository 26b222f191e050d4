//! The `tokenlife` command line (SPEC section 7): `serve`, `user`, `import-specter`,
//! `inspect`. Every command takes `--data DIR` (or `TOKENLIFE_DATA`) and works while a
//! server runs on the same folder.

use std::io::{BufRead, IsTerminal, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::{Parser, Subcommand, ValueEnum};
use tokenlife_core::Life;

use crate::secrets::Algorithm;
use crate::static_files::StaticDirs;
use crate::store::{ImportedUser, JsonStore, NewUser, Op, Store, StoreError};
use crate::{App, Config, auth, routes, secrets};

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
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the API and the web page.
    Serve(ServeArgs),
    /// Manage users.
    #[command(subcommand)]
    User(UserCommand),
    /// Import the users and tokens of a Specter Desktop users.json.
    ImportSpecter {
        /// The Specter users.json.
        path: PathBuf,
    },
    /// Show a token's claims and remaining life (without checking its signature).
    Inspect {
        /// The token, or "-" to read it from standard input.
        token: String,
    },
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
    #[arg(long, value_enum, ignore_case = true, default_value = "HS256")]
    pub alg: AlgArg,
    /// The longest life a token may be given.
    #[arg(long, default_value = "1 year")]
    pub max_life: String,
    /// The issuer name put in every token.
    #[arg(long, default_value = "tokenlife")]
    pub issuer: String,
    /// The folder of the web page.
    #[arg(long, env = "TOKENLIFE_WWW")]
    pub www: Option<PathBuf>,
    /// The npm package folder served under /pkg/.
    #[arg(long, env = "TOKENLIFE_PKG")]
    pub pkg: Option<PathBuf>,
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
    runtime.block_on(async move {
        match cli.command {
            Command::Serve(args) => serve(&cli.data, args).await,
            Command::User(command) => user(&cli.data, command).await,
            Command::ImportSpecter { path } => import_specter(&cli.data, &path).await,
            Command::Inspect { token } => inspect(&token),
            Command::Seed { user, count } => seed(&cli.data, &user, count).await,
        }
    })
}

fn open(data: &Path) -> Result<Arc<JsonStore>, String> {
    JsonStore::open(data)
        .map(Arc::new)
        .map_err(|err| err.to_string())
}

async fn serve(data: &Path, args: ServeArgs) -> Result<(), String> {
    let max_life = Life::parse(&args.max_life).map_err(|err| format!("--max-life: {err}"))?;
    if args.issuer.trim().is_empty() {
        return Err("--issuer must not be empty".into());
    }
    let store = open(data)?;
    store.compact_if_journal().map_err(|err| err.to_string())?;
    let alg = match args.alg {
        AlgArg::Hs256 => Algorithm::Hs256,
        AlgArg::EdDsa => Algorithm::EdDsa,
    };
    let signer = secrets::signer(data, alg)?;
    let verifier = signer.verifier();
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
            store.compact_if_journal().map_err(|err| err.to_string())?;
            println!("admin password: {password}");
        }
    }
    tokio::task::spawn_blocking(auth::warm_up)
        .await
        .map_err(|err| err.to_string())?;
    let defaults = StaticDirs::from_repo();
    let dirs = StaticDirs {
        www: args.www.unwrap_or(defaults.www),
        pkg: args.pkg.unwrap_or(defaults.pkg),
    };
    let app = Arc::new(App {
        config: Config {
            issuer: args.issuer,
            max_life,
        },
        store: Arc::clone(&store) as Arc<dyn Store>,
        signer,
        verifier,
        passwords,
        verified: auth::VerifiedTokens::default(),
    });
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|err| format!("cannot listen on {}: {err}", args.listen))?;
    let addr = listener.local_addr().map_err(|err| err.to_string())?;
    tracing::info!(%addr, data = %data.display(), alg = app.signer.algorithm(), "serving");
    println!("listening on http://{addr}");
    let _ = std::io::stdout().flush();
    warp::serve(routes(app, Arc::new(dirs)))
        .incoming(listener)
        .graceful(shutdown_signal())
        .run()
        .await;
    tracing::info!("stopped accepting; finishing the writes in flight");
    store.close();
    // A stopped server leaves everything in users.json, in Specter's layout, for whoever
    // reads the folder next (a person, a backup, `tokenlife migrate`).
    store.compact_if_journal().map_err(|err| err.to_string())?;
    Ok(())
}

async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
    tracing::info!("shutting down");
}

async fn user(data: &Path, command: UserCommand) -> Result<(), String> {
    let store = open(data)?;
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

async fn import_specter(data: &Path, path: &Path) -> Result<(), String> {
    let text = std::fs::read_to_string(path)
        .map_err(|err| format!("cannot read {}: {err}", path.display()))?;
    let import = crate::store::specter::parse(&text, auth::hash_password)
        .map_err(|err| format!("{}: {err}", path.display()))?;
    let store = open(data)?;
    let users = import.users.len();
    let tokens: usize = import.users.iter().map(|u| u.tokens.len()).sum();
    let result = store
        .apply(Op::Import(import.users))
        .await
        .map_err(|err| err.to_string());
    store.close();
    result?;
    for line in import.skipped {
        eprintln!("skipped {line}");
    }
    println!(
        "imported {users} users and {tokens} tokens from {}",
        path.display()
    );
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

async fn seed(data: &Path, user: &str, count: usize) -> Result<(), String> {
    let store = open(data)?;
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
    result.map(|_| println!("seeded {count} tokens"))
}
