//! `tokenlife token list USER`: a user's tokens as the store holds them, one line each
//! (id, description, status, remaining life, last use), read straight from the store.

use tokenlife_core::{ExpiryStatus, TokenRecord, expiry_status, format_life, remaining_life};

use crate::store::Store;

/// `tokenlife token ...`.
#[derive(Debug, clap::Subcommand)]
pub enum TokenCommand {
    /// List a user's tokens: id, description, status, remaining life and last use
    /// (recorded at most once a minute per token), tab-separated under a header line.
    List {
        /// The username.
        username: String,
    },
}

/// Runs `command` on `store`.
///
/// # Errors
///
/// `no user named USER`, or the store's failure, as one line.
pub async fn run(store: &dyn Store, command: TokenCommand) -> Result<(), String> {
    match command {
        TokenCommand::List { username } => {
            if store
                .password(&username)
                .await
                .map_err(|err| err.to_string())?
                .is_none()
            {
                return Err(format!("no user named {username}"));
            }
            let tokens = store
                .tokens(&username)
                .await
                .map_err(|err| err.to_string())?;
            let now = crate::clock::now();
            print!("{}", table(&tokens, now));
            Ok(())
        }
    }
}

/// The lines `token list` prints for `tokens` at `now`.
fn table(tokens: &[(String, TokenRecord)], now: f64) -> String {
    let mut out = String::from("ID\tDESCRIPTION\tSTATUS\tREMAINING\tLAST USED\n");
    for (id, record) in tokens {
        let status = expiry_status(record.exp, now, 0);
        let remaining = match status {
            ExpiryStatus::Valid => format_life(remaining_life(record.exp, now).ceil() as u64),
            ExpiryStatus::Expired => "-".to_owned(),
        };
        let used = match record.jwt_token_last_used {
            None => "never".to_owned(),
            Some(at) => {
                let when = u64::try_from(at)
                    .ok()
                    .map(|secs| std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs))
                    .map_or_else(
                        || at.to_string(),
                        |t| humantime::format_rfc3339_seconds(t).to_string(),
                    );
                match &record.jwt_token_last_used_from {
                    Some(from) => format!("{when} from {}", printable(from)),
                    None => when,
                }
            }
        };
        out.push_str(&format!(
            "{}\t{}\t{}\t{remaining}\t{used}\n",
            printable(id),
            printable(&record.jwt_token_description),
            status.as_str()
        ));
    }
    out
}

/// `text` with control characters (tabs, new lines) escaped, so that each token is one
/// line of tab-separated columns.
fn printable(text: &str) -> String {
    if text.chars().any(char::is_control) {
        text.chars()
            .flat_map(|c| {
                let escaped: Vec<char> = if c.is_control() {
                    c.escape_default().collect()
                } else {
                    vec![c]
                };
                escaped
            })
            .collect()
    } else {
        text.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(description: &str, iat: i64, exp: i64) -> TokenRecord {
        TokenRecord {
            jwt_token_description: description.into(),
            jwt_token_life: u64::try_from(exp - iat).unwrap_or(0),
            iat,
            exp,
            fingerprint: String::new(),
            jwt_token_endpoints: None,
            jwt_token_origin: None,
            jwt_token_last_used: None,
            jwt_token_last_used_from: None,
            kid: None,
        }
    }

    #[test]
    fn one_line_per_token_with_its_last_use() {
        let mut used = record("ci\tdeploy", 0, 7200);
        used.jwt_token_last_used = Some(86_400);
        used.jwt_token_last_used_from = Some("192.0.2.7".into());
        let tokens = vec![
            ("a".to_owned(), record("laptop", 0, 3600)),
            ("b".to_owned(), used),
            ("c".to_owned(), record("old", 0, 10)),
        ];
        assert_eq!(
            table(&tokens, 1799.5),
            "ID\tDESCRIPTION\tSTATUS\tREMAINING\tLAST USED\n\
             a\tlaptop\tValid\t30m 1s\tnever\n\
             b\tci\\tdeploy\tValid\t1h 30m 1s\t1970-01-02T00:00:00Z from 192.0.2.7\n\
             c\told\tExpired\t-\tnever\n"
        );
    }
}
