//! `tokenlife audit`: the audit trail, newest first, one line per event; and the events
//! the commands record themselves (actor `cli`, no client address).

use std::io::Write;
use std::time::Duration;

use crate::store::Location;
use crate::store::audit::{AuditLog, CLI_ACTOR, Event, Kind, Query};

/// Events read from the store at a time.
const PAGE: usize = 1000;

/// `tokenlife audit` options.
#[derive(Debug, clap::Args)]
pub struct AuditArgs {
    /// Only the events of this user: as the actor, or as the target or the owner of the
    /// targeted token.
    #[arg(long)]
    pub user: Option<String>,
    /// Only the events of this last stretch of time (1d, 2h 30m, 90s).
    #[arg(long, value_parser = super::parse_duration)]
    pub since: Option<Duration>,
    /// At most this many events.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    pub limit: Option<u64>,
}

/// Prints the events of `args`, newest first.
///
/// # Errors
///
/// When the store cannot be read or standard output is closed.
pub async fn show(location: &Location<'_>, args: &AuditArgs) -> Result<(), String> {
    let log = crate::store::audit::open(location, crate::store::audit::json::DEFAULT_ROTATE_BYTES)
        .await?;
    let result = print(log.as_ref(), args).await;
    log.close();
    result
}

async fn print(log: &dyn AuditLog, args: &AuditArgs) -> Result<(), String> {
    let now = crate::clock::now_secs();
    let since = args
        .since
        .map(|since| now.saturating_sub(i64::try_from(since.as_secs()).unwrap_or(i64::MAX)));
    let mut left = args.limit.map_or(usize::MAX, |limit| {
        usize::try_from(limit).unwrap_or(usize::MAX)
    });
    let mut query = Query {
        user: args.user.clone(),
        since,
        before: None,
        limit: PAGE,
    };
    let mut out = std::io::stdout().lock();
    while left > 0 {
        query.limit = PAGE.min(left);
        let events = log
            .page(query.clone())
            .await
            .map_err(|err| err.to_string())?;
        for event in &events {
            writeln!(out, "{}", line(event)).map_err(|err| err.to_string())?;
        }
        left -= events.len();
        match events.last() {
            Some(last) if events.len() == query.limit => query.before = Some(last.cursor()),
            _ => break,
        }
    }
    out.flush().map_err(|err| err.to_string())
}

/// One event as a line: `2026-11-29T23:05:28Z token_created actor=alice target=alice/ID
/// addr=127.0.0.1` (`addr=-` for the commands). Names are written as JSON strings when
/// they hold spaces, quotes or control characters, so that a line always reads back.
pub fn line(event: &Event) -> String {
    let time = u64::try_from(event.time)
        .ok()
        .map(|secs| std::time::UNIX_EPOCH + Duration::from_secs(secs))
        .map_or_else(
            || event.time.to_string(),
            |at| humantime::format_rfc3339_seconds(at).to_string(),
        );
    format!(
        "{time} {} actor={} target={} addr={}",
        event.kind.as_str(),
        quoted(&event.actor),
        quoted(&event.target),
        event.addr.as_deref().unwrap_or("-"),
    )
}

fn quoted(text: &str) -> String {
    let plain = !text.is_empty()
        && !text
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '"' || c == '=');
    if plain {
        text.to_owned()
    } else {
        serde_json::to_string(text).unwrap_or_default()
    }
}

/// Records an event a command made (actor `cli`, no client address) on `target`, now.
///
/// # Errors
///
/// When the trail cannot be written: the change is made, and the message says so.
pub async fn cli_event(log: &dyn AuditLog, kind: Kind, target: &str) -> Result<(), String> {
    let event = Event::new(kind, CLI_ACTOR, target, None, crate::clock::now());
    log.append(vec![event])
        .await
        .map_err(|err| format!("done, but the audit trail could not be written: {err}"))
}
