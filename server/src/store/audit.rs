//! The audit trail as a store keeps it: security events ([`Event`]), appended in batches
//! and read newest first ([`AuditLog`]). The JSON store keeps `audit.jsonl` in its data
//! folder, rotated by size ([`json`]); PostgreSQL keeps the `audit_log` table of migration
//! 5 ([`postgres`]). An event never holds a token, a password or a key: only its time,
//! kind, actor, target and client address.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::{Location, StoreFuture};

pub mod json;
mod postgres;

pub use json::JsonAudit;
pub use postgres::PgAudit;
pub(crate) use postgres::insert as insert_pg;

/// The kinds of security events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A token was created (`POST /api/v1alpha/token`).
    TokenCreated,
    /// A token was deleted, which revokes it.
    TokenDeleted,
    /// A token was regenerated: a new token string, the old one refused.
    TokenRegenerated,
    /// A Bearer token was refused because it had been revoked.
    TokenUsedAfterRevocation,
    /// A Bearer token was refused because it had expired.
    TokenUsedAfterExpiry,
    /// A Basic sign-in failed (wrong password or unknown user).
    SignInFailed,
    /// A Basic sign-in was refused because the name is locked (`429`).
    SignInThrottled,
    /// A user was added.
    UserAdded,
    /// A user was removed.
    UserRemoved,
    /// A user's password was changed.
    PasswordChanged,
    /// A new signing key was made.
    KeyRotated,
    /// A signing key was retired.
    KeyRetired,
}

impl Kind {
    /// Every kind, in the order of the enum.
    pub const ALL: [Kind; 12] = [
        Kind::TokenCreated,
        Kind::TokenDeleted,
        Kind::TokenRegenerated,
        Kind::TokenUsedAfterRevocation,
        Kind::TokenUsedAfterExpiry,
        Kind::SignInFailed,
        Kind::SignInThrottled,
        Kind::UserAdded,
        Kind::UserRemoved,
        Kind::PasswordChanged,
        Kind::KeyRotated,
        Kind::KeyRetired,
    ];

    /// The kind's name as it is stored and shown (`token_created`).
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::TokenCreated => "token_created",
            Kind::TokenDeleted => "token_deleted",
            Kind::TokenRegenerated => "token_regenerated",
            Kind::TokenUsedAfterRevocation => "token_used_after_revocation",
            Kind::TokenUsedAfterExpiry => "token_used_after_expiry",
            Kind::SignInFailed => "sign_in_failed",
            Kind::SignInThrottled => "sign_in_throttled",
            Kind::UserAdded => "user_added",
            Kind::UserRemoved => "user_removed",
            Kind::PasswordChanged => "password_changed",
            Kind::KeyRotated => "key_rotated",
            Kind::KeyRetired => "key_retired",
        }
    }

    /// Whether the target is a token (`USER/TOKEN_ID`).
    pub fn is_token(self) -> bool {
        self.as_str().starts_with("token_")
    }

    /// The kind of a stored name.
    pub fn parse(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|kind| kind.as_str() == name)
    }
}

/// One security event. `target` is a username (user and sign-in events), `USER/TOKEN_ID`
/// (token events) or a key id (key events); `actor` is the signed-in user, the name a
/// failed sign-in tried, or `cli` for the commands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// Unique and fixed: 16 hexadecimal digits, the first 5 the microseconds within the
    /// second, the rest random. With `time` it orders the trail.
    pub id: String,
    /// When, Unix seconds.
    pub time: i64,
    /// What happened.
    pub kind: Kind,
    /// Who did it.
    pub actor: String,
    /// What it was done to.
    pub target: String,
    /// The client's IP address; `None` for the commands.
    pub addr: Option<String>,
}

/// What a command records as its actor.
pub const CLI_ACTOR: &str = "cli";

impl Event {
    /// An event of `kind` at `now` (Unix seconds with a fraction, as
    /// `crate::clock::now()`), with a new id.
    pub fn new(
        kind: Kind,
        actor: impl Into<String>,
        target: impl Into<String>,
        addr: Option<std::net::IpAddr>,
        now: f64,
    ) -> Event {
        let time = now.floor();
        // Within 0..1_000_000, so five hexadecimal digits.
        let micros = ((now - time) * 1e6).clamp(0.0, 999_999.0) as u32;
        Event {
            id: format!("{micros:05x}{}", random_hex()),
            time: time as i64,
            kind,
            actor: actor.into(),
            target: target.into(),
            addr: addr.map(|addr| addr.to_canonical().to_string()),
        }
    }

    /// The target of a token event: `USER/TOKEN_ID`.
    pub fn token_target(user: &str, id: &str) -> String {
        format!("{user}/{id}")
    }

    /// Whether the event concerns `user`: as its actor, or as its target or the owner of
    /// the token it targets (a username may hold `/`, a token id never does).
    pub fn concerns(&self, user: &str) -> bool {
        self.actor == user
            || self.target == user
            || (self.kind.is_token()
                && self
                    .target
                    .rsplit_once('/')
                    .is_some_and(|(owner, _)| owner == user))
    }

    /// The cursor that pages on after this event.
    pub fn cursor(&self) -> Cursor {
        Cursor {
            time: self.time,
            id: self.id.clone(),
        }
    }

    /// Whether it comes before (is older than) `cursor` in the trail's order.
    fn before(&self, cursor: &Cursor) -> bool {
        (self.time, self.id.as_str()) < (cursor.time, cursor.id.as_str())
    }
}

/// 11 hexadecimal digits from the OS generator; from the process id and a counter only if
/// the generator fails.
fn random_hex() -> String {
    let mut bytes = [0u8; 8];
    if getrandom::fill(&mut bytes).is_err() {
        static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        bytes = (n ^ (u64::from(std::process::id()) << 24)).to_be_bytes();
    }
    let n = u64::from_be_bytes(bytes) & ((1 << 44) - 1);
    format!("{n:011x}")
}

/// Where a page of the trail starts: after the event of this time and id (older ones
/// follow). Written `TIME.ID`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    /// The event's time.
    pub time: i64,
    /// The event's id.
    pub id: String,
}

impl Cursor {
    /// Reads `TIME.ID`.
    pub fn parse(text: &str) -> Option<Cursor> {
        let (time, id) = text.split_once('.')?;
        let time = time.parse().ok()?;
        let good_id = id.len() == 16 && id.bytes().all(|b| b.is_ascii_hexdigit());
        good_id.then(|| Cursor {
            time,
            id: id.to_ascii_lowercase(),
        })
    }
}

impl std::fmt::Display for Cursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.time, self.id)
    }
}

/// Which events to read.
#[derive(Debug, Clone, Default)]
pub struct Query {
    /// Only events that concern this user ([`Event::concerns`]).
    pub user: Option<String>,
    /// Only events at or after this time.
    pub since: Option<i64>,
    /// Only events older than this cursor.
    pub before: Option<Cursor>,
    /// At most this many.
    pub limit: usize,
}

impl Query {
    /// Whether `event` passes the filters (not the limit).
    pub fn matches(&self, event: &Event) -> bool {
        self.user.as_deref().is_none_or(|user| event.concerns(user))
            && self.since.is_none_or(|since| event.time >= since)
            && self
                .before
                .as_ref()
                .is_none_or(|cursor| event.before(cursor))
    }
}

/// Where the audit trail lives. Appends from several processes (servers and commands)
/// interleave safely.
pub trait AuditLog: Send + Sync {
    /// Appends `events`; resolves once they are durable. Appending an event twice (a
    /// retry after a failure) keeps one.
    fn append(&self, events: Vec<Event>) -> StoreFuture<'_, ()>;

    /// The events that match `query`, newest first (by time, then id), at most
    /// `query.limit`.
    fn page(&self, query: Query) -> StoreFuture<'_, Vec<Event>>;

    /// Drops every event older than `cutoff` (Unix seconds): the retention. Returns how
    /// many were dropped.
    fn expire(&self, cutoff: i64) -> StoreFuture<'_, u64>;

    /// Closes connections (PostgreSQL); nothing for files.
    fn close(&self) {}
}

/// Opens the audit trail of a store's location: `audit.jsonl` in a data folder (rotated
/// past `rotate_bytes`), or the `audit_log` table of a PostgreSQL store.
///
/// # Errors
///
/// A readable message when the folder or the database cannot be used.
pub async fn open(location: &Location<'_>, rotate_bytes: u64) -> Result<Arc<dyn AuditLog>, String> {
    match location {
        Location::Folder(dir) => Ok(Arc::new(
            JsonAudit::open(dir, rotate_bytes).map_err(|err| err.to_string())?,
        )),
        Location::Database(url) => Ok(Arc::new(PgAudit::open(url).await?)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_read_back_by_name() {
        for kind in Kind::ALL {
            assert_eq!(Kind::parse(kind.as_str()), Some(kind));
            let json = serde_json::to_string(&kind).unwrap_or_default();
            assert_eq!(json, format!("\"{}\"", kind.as_str()));
        }
        assert_eq!(Kind::parse("token"), None);
    }

    #[test]
    fn a_cursor_reads_back_and_refuses_other_text() {
        let event = Event::new(Kind::TokenCreated, "a", "a/id", None, 1_700_000_000.25);
        assert_eq!(event.time, 1_700_000_000);
        assert!(event.id.starts_with("3d090"), "250000 µs: {}", event.id);
        let cursor = event.cursor();
        assert_eq!(Cursor::parse(&cursor.to_string()), Some(cursor));
        for bad in [
            "",
            "1",
            "x.0123456789abcdef",
            "1.0123",
            "1.0123456789abcdeg",
            "1.0123456789abcdef0",
        ] {
            assert_eq!(Cursor::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn an_event_concerns_its_actor_target_and_token_owner() {
        let token = Event::new(Kind::TokenDeleted, "root", "a/b/ID", None, 0.0);
        assert!(token.concerns("a/b") && token.concerns("root"));
        assert!(!token.concerns("a") && !token.concerns("b"));
        let user = Event::new(Kind::UserRemoved, CLI_ACTOR, "a/b", None, 0.0);
        assert!(user.concerns("a/b") && !user.concerns("a"));
        let query = Query {
            user: Some("a/b".into()),
            since: Some(0),
            before: Some(Cursor {
                time: 1,
                id: "0".repeat(16),
            }),
            limit: 10,
        };
        assert!(query.matches(&token));
        assert!(!query.matches(&Event::new(Kind::SignInFailed, "c", "c", None, 0.0)));
    }
}
