//! `tokenlife keys rotate|list|retire`: the keyring of the store (see [`crate::secrets`]).
//! Servers running on the same store follow each change at their next request.

use clap::Subcommand;

use super::AlgArg;
use crate::audit::Kind;
use crate::secrets::{self, Algorithm};
use crate::store::Store;
use crate::store::audit::AuditLog;

/// `tokenlife keys ...`.
#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Make a new signing key; the signing key becomes verifying only, and the tokens it
    /// signed keep working until they expire.
    Rotate {
        /// The new key's algorithm (by default the signing key's).
        #[arg(long, value_enum, ignore_case = true)]
        alg: Option<AlgArg>,
    },
    /// Every kept key: kid, algorithm, created (UTC), signing or verifying, and the
    /// unexpired tokens it signed.
    List,
    /// Drop a verifying key: every token it signed is refused at once (revoked) on every
    /// server. Prints how many first; changes nothing without --yes.
    Retire {
        /// The key's kid (from `tokenlife keys list`).
        kid: String,
        /// Do it (without: only print the count, and exit non-zero).
        #[arg(long)]
        yes: bool,
    },
}

/// The algorithm servers on this store signed with before the first rotation: their
/// `--alg` (`TOKENLIFE_ALG`), HS256 by default. Only read while the store has no keyring.
fn prior() -> Algorithm {
    match std::env::var("TOKENLIFE_ALG") {
        Ok(alg) if alg.eq_ignore_ascii_case("eddsa") => Algorithm::EdDsa,
        _ => Algorithm::Hs256,
    }
}

/// Runs one `keys` command on `store`.
///
/// # Errors
///
/// One line: the store failed, no such key, the signing key cannot be retired, or a
/// retirement was not confirmed.
pub async fn run(
    store: &dyn Store,
    audit: &dyn AuditLog,
    command: KeysCommand,
) -> Result<(), String> {
    let now = crate::clock::now_secs();
    match command {
        KeysCommand::Rotate { alg } => {
            let alg = alg.map(|alg| match alg {
                AlgArg::Hs256 => Algorithm::Hs256,
                AlgArg::EdDsa => Algorithm::EdDsa,
            });
            let (kid, alg) = secrets::rotate(store, alg, prior(), now).await?;
            println!(
                "new signing key {kid} ({}); the previous keys verify only",
                alg.name()
            );
            super::audit::cli_event(audit, Kind::KeyRotated, &kid).await
        }
        KeysCommand::List => {
            println!("KID\tALG\tCREATED\tSTATE\tTOKENS");
            for key in secrets::list(store, prior(), now).await? {
                let created = if key.created == 0 {
                    "-".to_owned()
                } else {
                    humantime::format_rfc3339_seconds(
                        std::time::UNIX_EPOCH
                            + std::time::Duration::from_secs(
                                u64::try_from(key.created).unwrap_or(0),
                            ),
                    )
                    .to_string()
                };
                println!(
                    "{}\t{}\t{created}\t{}\t{}",
                    key.kid, key.alg, key.state, key.tokens
                );
            }
            Ok(())
        }
        KeysCommand::Retire { kid, yes } => {
            let retired = secrets::retire(store, &kid, yes, prior(), now).await?;
            if retired.done {
                println!(
                    "retired {kid}: {} valid tokens it signed are refused from now on",
                    retired.tokens
                );
                super::audit::cli_event(audit, Kind::KeyRetired, &kid).await
            } else {
                println!("{kid} signed {} valid tokens", retired.tokens);
                Err(format!(
                    "not retired: run again with --yes to drop {kid} and refuse its {} tokens",
                    retired.tokens
                ))
            }
        }
    }
}
