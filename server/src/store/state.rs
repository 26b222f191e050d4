//! The rules of the token store as a pure state machine: users, their token records and
//! the revoked ids, with every check a change must pass. No I/O, no clock, no randomness:
//! the time comes in with each [`Op`] (or as `now`), new user ids from the caller's random
//! bytes.
//!
//! [`State::check_and_apply`] judges an [`Op`] and turns it into [`Change`]s, the journal's
//! lines; [`State::apply`] replays one blindly (every change sets or removes a key, so
//! replaying one twice is harmless). The JSON store keeps one `State` in memory and writes
//! its changes; the PostgreSQL store keeps its data in tables but shares [`user_id`], the
//! token limit ([`check_token_limit`]) and the fingerprint check
//! ([`TokenRecord::matches_fingerprint`]).

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};
use tokenlife_core::TokenRecord;

use super::{Dump, ImportedUser, NewUser, Op, PasswordRecord, StoreError, Use, UserSummary};

/// The data of a store, with the indexes its checks need.
#[derive(Debug, Default, Clone)]
pub struct State {
    users: BTreeMap<String, UserEntry>,
    revoked: HashMap<String, i64>,
    /// The latest time an operation was given (Unix seconds): expired revocations before
    /// it may be forgotten.
    clock: i64,
}

#[derive(Debug, Clone)]
struct UserEntry {
    user: User,
    /// How many tokens carry each description, so that a duplicate is found in O(1).
    descriptions: HashMap<String, u32>,
}

/// A user as `users.json` holds it (Specter's layout; tokens without the raw token).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// Specter's user id (`admin` for the first administrator, else 16 hex digits).
    pub id: String,
    /// The username.
    pub username: String,
    /// The password record.
    pub password: PasswordRecord,
    /// Whether the user is an administrator.
    #[serde(default)]
    pub is_admin: bool,
    /// By token id; an id given twice is refused, not overwritten.
    #[serde(default, deserialize_with = "unique_keys")]
    pub jwt_tokens: BTreeMap<String, TokenRecord>,
}

/// One change, as one line of the journal. Each sets or removes a key, so replaying one
/// twice is harmless.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Change {
    /// Set a token record of a user.
    PutToken {
        /// The owner.
        user: String,
        /// The token id.
        id: String,
        /// The record.
        token: TokenRecord,
    },
    /// Remove a token record, and list its id as revoked until `revoke_until` if given.
    DeleteToken {
        /// The owner.
        user: String,
        /// The token id.
        id: String,
        /// The token's `exp`, when it had not expired at the deletion.
        revoke_until: Option<i64>,
    },
    /// Regenerate: remove the token `old` (listed as revoked until `revoke_until` if
    /// given) and set the record `token` under `id`, in one line of the journal so that
    /// a torn write loses neither without the other.
    ReplaceToken {
        /// The owner.
        user: String,
        /// The token replaced.
        old: String,
        /// The old token's `exp`, when it had not expired at the change.
        revoke_until: Option<i64>,
        /// The new token's id.
        id: String,
        /// The new record.
        token: TokenRecord,
    },
    /// Set a user (without touching their tokens), adding them if missing.
    PutUser {
        /// Specter's user id.
        id: String,
        /// The username.
        username: String,
        /// The password record.
        password: PasswordRecord,
        /// Whether the user is an administrator.
        is_admin: bool,
    },
    /// Remove a user and list the given ids as revoked.
    RemoveUser {
        /// The username.
        username: String,
        /// The user's unexpired tokens at the removal, with their `exp`.
        revoke: Vec<(String, i64)>,
    },
    /// Record the last use of tokens (see [`Op::Touch`]); a token that is gone, or holds a
    /// later use, is left as it is.
    Touch {
        /// The uses, at most one per token.
        uses: Vec<Use>,
    },
    /// Written last to a journal that is being replaced by a compaction, so that a reader
    /// watching the old file sees it change and reloads. Changes nothing.
    Compacted,
}

/// Specter's id of a new user: `admin` for the user named `admin` (as Specter does), else
/// the 8 `random` bytes in hex. Both stores name users this way.
pub fn user_id(username: &str, random: [u8; 8]) -> String {
    if username == "admin" {
        return "admin".into();
    }
    random.iter().map(|b| format!("{b:02x}")).collect()
}

/// The token-count policy (`--max-tokens-per-user`): a user who already `held` `max`
/// tokens unexpired at the new token's `iat` (`exp > iat`) may not create another. Both
/// stores judge a create with this; the PostgreSQL store counts in SQL, with the same
/// `exp > iat`, under the user's row lock.
///
/// # Errors
///
/// [`StoreError::TooManyTokens`] when the limit is reached.
pub fn check_token_limit(held: usize, max: u32) -> Result<(), StoreError> {
    if held >= max as usize {
        return Err(StoreError::TooManyTokens(max));
    }
    Ok(())
}

impl State {
    /// The state of a snapshot: `users` and the revoked ids with their `exp`. `source`
    /// names the file in errors.
    ///
    /// # Errors
    ///
    /// [`StoreError::Corrupt`] when a username or a token id is held twice.
    pub fn from_snapshot(
        users: Vec<User>,
        revoked: impl IntoIterator<Item = (String, i64)>,
        source: &str,
    ) -> Result<State, StoreError> {
        let mut state = State::default();
        // Two entries of one name would become one, and a token id held twice would answer
        // for either owner: both lose data at the next write, so refuse.
        let mut seen_at: HashMap<String, usize> = HashMap::new();
        for (index, user) in users.into_iter().enumerate() {
            if let Some(first) = seen_at.insert(user.username.clone(), index) {
                return Err(StoreError::Corrupt(format!(
                    "{source} holds the user \"{}\" twice (entries {} and {}); nothing was changed: \
                     merge the two entries by hand, or restore the file from a backup",
                    user.username,
                    first + 1,
                    index + 1
                )));
            }
            state.insert_user(user);
        }
        state.check_token_ids(source)?;
        state.revoked = revoked.into_iter().collect();
        Ok(state)
    }

    /// The latest time an operation gave this state (0 before any did).
    pub fn clock(&self) -> i64 {
        self.clock
    }

    /// The users in username order, as a snapshot lists them.
    pub fn users_in_order(&self) -> impl Iterator<Item = &User> {
        self.users.values().map(|entry| &entry.user)
    }

    /// The revoked ids whose tokens have not expired yet at `now`, with their `exp`, by id.
    pub fn unexpired_revoked(&self, now: i64) -> Vec<(String, i64)> {
        let mut list: Vec<(String, i64)> = self
            .revoked
            .iter()
            .filter(|&(_, &exp)| exp > now)
            .map(|(id, &exp)| (id.clone(), exp))
            .collect();
        list.sort();
        list
    }

    /// Forgets the revocations of tokens that have expired at `now`: no check asks for them.
    pub fn prune_revoked(&mut self, now: i64) {
        self.revoked.retain(|_, exp| *exp > now);
    }

    /// The password record of `username`.
    pub fn password(&self, username: &str) -> Option<&PasswordRecord> {
        self.users.get(username).map(|u| &u.user.password)
    }

    /// The token records of `username` by id (empty for an unknown user).
    pub fn tokens(&self, username: &str) -> Vec<(String, TokenRecord)> {
        self.users
            .get(username)
            .map(|u| {
                let tokens = &u.user.jwt_tokens;
                tokens.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
            })
            .unwrap_or_default()
    }

    /// One token record of `username`.
    pub fn token(&self, username: &str, id: &str) -> Option<&TokenRecord> {
        self.users.get(username)?.user.jwt_tokens.get(id)
    }

    /// `None` without such a record, else whether its fingerprint is `fingerprint`.
    pub fn holds(&self, username: &str, id: &str, fingerprint: &str) -> Option<bool> {
        Some(self.token(username, id)?.matches_fingerprint(fingerprint))
    }

    /// Whether `id` was revoked and its token has not expired at `now`.
    pub fn is_revoked(&self, id: &str, now: i64) -> bool {
        self.revoked.get(id).is_some_and(|&exp| exp > now)
    }

    /// Every user, in username order.
    pub fn users(&self) -> Vec<UserSummary> {
        self.users_in_order()
            .map(|u| UserSummary {
                username: u.username.clone(),
                is_admin: u.is_admin,
                tokens: u.jwt_tokens.len(),
            })
            .collect()
    }

    /// Everything held but the keys, for `tokenlife migrate`.
    pub fn dump(&self, now: i64) -> Dump {
        let users = self
            .users_in_order()
            .map(|user| {
                let imported = ImportedUser {
                    user: NewUser {
                        username: user.username.clone(),
                        password: user.password.clone(),
                        is_admin: user.is_admin,
                    },
                    tokens: user
                        .jwt_tokens
                        .iter()
                        .map(|(id, t)| (id.clone(), t.clone()))
                        .collect(),
                };
                (user.id.clone(), imported)
            })
            .collect();
        Dump {
            users,
            revoked: self.unexpired_revoked(now),
            keys: Vec::new(),
            specter_key: None,
        }
    }

    /// `Err` naming the id and both owners when two users hold the same token id.
    pub fn check_token_ids(&self, source: &str) -> Result<(), StoreError> {
        let mut owners: HashMap<&str, &str> = HashMap::new();
        for user in self.users_in_order() {
            for id in user.jwt_tokens.keys() {
                if let Some(other) = owners.insert(id, &user.username) {
                    return Err(StoreError::Corrupt(format!(
                        "{source}: the token id \"{id}\" belongs to both \"{other}\" and \"{}\"; \
                         nothing was changed: remove one of the two by hand, or restore users.json \
                         from a backup",
                        user.username
                    )));
                }
            }
        }
        Ok(())
    }

    /// The user other than `username` holding the token `id`, if any.
    fn other_owner(&self, username: &str, id: &str) -> Option<&str> {
        self.users_in_order()
            .find(|u| u.username != username && u.jwt_tokens.contains_key(id))
            .map(|u| u.username.as_str())
    }

    fn insert_user(&mut self, user: User) {
        let mut descriptions = HashMap::new();
        for token in user.jwt_tokens.values() {
            *descriptions
                .entry(token.jwt_token_description.clone())
                .or_insert(0) += 1;
        }
        self.users
            .insert(user.username.clone(), UserEntry { user, descriptions });
    }

    /// Checks `op` against the state; when it passes, applies its changes, appends them to
    /// `out` (for the journal) and returns `Ok(true)`, or `Ok(false)` when there was
    /// nothing to do. `random` gives the bytes of a new user's id.
    ///
    /// # Errors
    ///
    /// The [`StoreError`] of a failed check; nothing is changed then.
    pub fn check_and_apply(
        &mut self,
        op: Op,
        random: &mut dyn FnMut() -> [u8; 8],
        out: &mut Vec<Change>,
    ) -> Result<bool, StoreError> {
        let changes = match op {
            Op::CreateToken {
                user,
                id,
                record,
                max_tokens,
            } => {
                let entry = self.users.get(&user).ok_or(StoreError::UnknownUser)?;
                if entry
                    .descriptions
                    .contains_key(&record.jwt_token_description)
                {
                    return Err(StoreError::DuplicateDescription);
                }
                if let Some(max) = max_tokens {
                    let held = entry
                        .user
                        .jwt_tokens
                        .values()
                        .filter(|t| t.exp > record.iat)
                        .count();
                    check_token_limit(held, max)?;
                }
                self.clock = self.clock.max(record.iat);
                vec![Change::PutToken {
                    user,
                    id,
                    token: record,
                }]
            }
            Op::RegenerateToken {
                user,
                old,
                id,
                record,
            } => {
                let now = record.iat;
                self.clock = self.clock.max(now);
                let Some(token) = self.token(&user, &old) else {
                    return Ok(false);
                };
                let revoke_until = (token.exp > now).then_some(token.exp);
                vec![Change::ReplaceToken {
                    user,
                    old,
                    revoke_until,
                    id,
                    token: record,
                }]
            }
            Op::DeleteToken { user, id, now } => {
                self.clock = self.clock.max(now);
                let Some(token) = self.token(&user, &id) else {
                    return Ok(false);
                };
                let revoke_until = (token.exp > now).then_some(token.exp);
                vec![Change::DeleteToken {
                    user,
                    id,
                    revoke_until,
                }]
            }
            Op::AddUser(new) => {
                if self.users.contains_key(&new.username) {
                    return Err(StoreError::UserExists);
                }
                vec![put_user(new, random())]
            }
            Op::AddFirstUser(new) => {
                if !self.users.is_empty() {
                    return Ok(false);
                }
                vec![put_user(new, random())]
            }
            Op::SetPassword { username, password } => {
                let entry = self.users.get(&username).ok_or(StoreError::UnknownUser)?;
                vec![Change::PutUser {
                    id: entry.user.id.clone(),
                    username,
                    password,
                    is_admin: entry.user.is_admin,
                }]
            }
            Op::UpgradePassword { username, from, to } => {
                let Some(entry) = self
                    .users
                    .get(&username)
                    .filter(|e| e.user.password == from)
                else {
                    return Ok(false);
                };
                vec![Change::PutUser {
                    id: entry.user.id.clone(),
                    username,
                    password: to,
                    is_admin: entry.user.is_admin,
                }]
            }
            Op::RemoveUser { username, now } => {
                let entry = self.users.get(&username).ok_or(StoreError::UnknownUser)?;
                let revoke = entry
                    .user
                    .jwt_tokens
                    .iter()
                    .filter(|(_, t)| t.exp > now)
                    .map(|(id, t)| (id.clone(), t.exp))
                    .collect();
                self.clock = self.clock.max(now);
                vec![Change::RemoveUser { username, revoke }]
            }
            Op::Import(users) => {
                self.check_import(&users)?;
                self.import_changes(users, random)
            }
            Op::Touch(uses) => {
                let uses: Vec<Use> = uses
                    .into_iter()
                    .filter(|u| self.token(&u.user, &u.id).is_some())
                    .collect();
                if uses.is_empty() {
                    return Ok(false);
                }
                vec![Change::Touch { uses }]
            }
        };
        for change in &changes {
            self.apply(change.clone());
        }
        out.extend(changes);
        Ok(true)
    }

    /// A token id may be imported again for its owner (the same file twice), but never
    /// for a second user: the store would no longer load.
    fn check_import(&self, users: &[ImportedUser]) -> Result<(), StoreError> {
        let mut importing: HashMap<&str, &str> = HashMap::new();
        for imported in users {
            let username = imported.user.username.as_str();
            for (id, _) in &imported.tokens {
                let clash = match importing.insert(id, username) {
                    Some(other) if other != username => Some(other.to_owned()),
                    _ => self.other_owner(username, id).map(str::to_owned),
                };
                if let Some(other) = clash {
                    return Err(StoreError::Corrupt(format!(
                        "the token id \"{id}\" of \"{username}\" already belongs to \"{other}\"; nothing was imported"
                    )));
                }
            }
        }
        Ok(())
    }

    fn import_changes(
        &self,
        users: Vec<ImportedUser>,
        random: &mut dyn FnMut() -> [u8; 8],
    ) -> Vec<Change> {
        let mut changes = Vec::new();
        for ImportedUser { user, tokens } in users {
            let username = user.username.clone();
            let known = self.users.get(&username).map(|u| u.user.id.clone());
            let mut put = put_user(user, random());
            if let (Change::PutUser { id: put_id, .. }, Some(id)) = (&mut put, known) {
                *put_id = id;
            }
            changes.push(put);
            for (id, token) in tokens {
                changes.push(Change::PutToken {
                    user: username.clone(),
                    id,
                    token,
                });
            }
        }
        changes
    }

    /// Applies a change blindly: the check happened when it was first made.
    pub fn apply(&mut self, change: Change) {
        match change {
            Change::PutToken { user, id, token } => {
                if let Some(entry) = self.users.get_mut(&user) {
                    *entry
                        .descriptions
                        .entry(token.jwt_token_description.clone())
                        .or_insert(0) += 1;
                    if let Some(old) = entry.user.jwt_tokens.insert(id, token) {
                        entry.forget_description(&old.jwt_token_description);
                    }
                }
            }
            Change::DeleteToken {
                user,
                id,
                revoke_until,
            } => {
                if let Some(entry) = self.users.get_mut(&user)
                    && let Some(old) = entry.user.jwt_tokens.remove(&id)
                {
                    entry.forget_description(&old.jwt_token_description);
                }
                if let Some(exp) = revoke_until {
                    self.revoked.insert(id, exp);
                }
            }
            Change::ReplaceToken {
                user,
                old,
                revoke_until,
                id,
                token,
            } => {
                self.apply(Change::DeleteToken {
                    user: user.clone(),
                    id: old,
                    revoke_until,
                });
                self.apply(Change::PutToken { user, id, token });
            }
            Change::PutUser {
                id,
                username,
                password,
                is_admin,
            } => match self.users.get_mut(&username) {
                Some(entry) => {
                    entry.user.id = id;
                    entry.user.password = password;
                    entry.user.is_admin = is_admin;
                }
                None => self.insert_user(User {
                    id,
                    username,
                    password,
                    is_admin,
                    jwt_tokens: BTreeMap::new(),
                }),
            },
            Change::RemoveUser { username, revoke } => {
                self.users.remove(&username);
                self.revoked.extend(revoke);
            }
            Change::Touch { uses } => {
                for Use { user, id, at, from } in uses {
                    let token = self
                        .users
                        .get_mut(&user)
                        .and_then(|entry| entry.user.jwt_tokens.get_mut(&id));
                    if let Some(token) = token
                        && token.jwt_token_last_used.is_none_or(|last| last <= at)
                    {
                        token.jwt_token_last_used = Some(at);
                        token.jwt_token_last_used_from = from;
                    }
                }
            }
            Change::Compacted => {}
        }
    }
}

impl UserEntry {
    fn forget_description(&mut self, description: &str) {
        if let Some(count) = self.descriptions.get_mut(description) {
            *count -= 1;
            if *count == 0 {
                self.descriptions.remove(description);
            }
        }
    }
}

fn put_user(new: NewUser, random: [u8; 8]) -> Change {
    Change::PutUser {
        id: user_id(&new.username, random),
        username: new.username,
        password: new.password,
        is_admin: new.is_admin,
    }
}

/// A JSON object as a map that refuses a key given twice: serde's own maps keep the last
/// value and drop the others without a word, which would lose a token.
pub fn unique_keys<'de, D, V>(deserializer: D) -> Result<BTreeMap<String, V>, D::Error>
where
    D: serde::Deserializer<'de>,
    V: Deserialize<'de>,
{
    struct Unique<V>(std::marker::PhantomData<V>);
    impl<'de, V: Deserialize<'de>> serde::de::Visitor<'de> for Unique<V> {
        type Value = BTreeMap<String, V>;

        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("an object")
        }

        fn visit_map<A: serde::de::MapAccess<'de>>(
            self,
            mut map: A,
        ) -> Result<Self::Value, A::Error> {
            let mut out = BTreeMap::new();
            while let Some(key) = map.next_key::<String>()? {
                if out.contains_key(&key) {
                    return Err(serde::de::Error::custom(format_args!(
                        "the id \"{key}\" is given twice"
                    )));
                }
                let value = map.next_value()?;
                out.insert(key, value);
            }
            Ok(out)
        }
    }
    deserializer.deserialize_map(Unique(std::marker::PhantomData))
}

#[cfg(test)]
mod tests;
