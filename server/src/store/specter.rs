//! Reading a Specter Desktop `users.json` for `tokenlife import-specter`.
//!
//! Specter keeps a JSON list of users with `username`, `password` (`{salt, pwdhash}`, its
//! PBKDF2-HMAC-SHA256 record), `is_admin` and `jwt_tokens` (`{id: {jwt_token,
//! jwt_token_description, jwt_token_life}}`, the raw token in plain text). The import keeps
//! the password records as they are (they keep working) and turns each token into a
//! record (fingerprint, times, life) without the raw token.

use std::collections::BTreeMap;

use serde::Deserialize;
use tokenlife_core::{TokenRecord, fingerprint};

use super::{ImportedUser, NewUser, PasswordRecord};

/// The `jwt_token_origin` of an imported token record.
pub const ORIGIN: &str = "specter";

#[derive(Deserialize)]
struct SpecterUser {
    username: String,
    password: serde_json::Value,
    #[serde(default)]
    is_admin: bool,
    #[serde(default)]
    jwt_tokens: Option<BTreeMap<String, SpecterToken>>,
}

#[derive(Deserialize)]
struct SpecterToken {
    jwt_token: String,
    #[serde(default)]
    jwt_token_description: String,
    #[serde(default)]
    jwt_token_life: Option<serde_json::Value>,
}

/// What an import found: the users, and a line for each thing it had to leave out.
#[derive(Debug)]
pub struct Import {
    /// The users with their token records.
    pub users: Vec<ImportedUser>,
    /// Things skipped, for people.
    pub skipped: Vec<String>,
    /// With Specter's key: how many tokens it verifies (signature, claim set, owner, id).
    pub verified: usize,
    /// With Specter's key: a line for each token it does not verify, for people. Their
    /// records are imported all the same (listed, deletable), but the server will refuse
    /// the tokens.
    pub unverified: Vec<String>,
}

/// Reads a Specter `users.json`; with `key` (a verifier of Specter's tokens under its
/// `SECRET_KEY`), also checks each token's signature and claim set, whatever its expiry.
///
/// # Errors
///
/// A message naming the place of the error when the text is not such a file, or when a
/// password is neither a `{salt, pwdhash}` record nor (as very old Specter versions kept
/// it) a string, which Specter hashes on load and which is hashed here with `hash`.
pub fn parse(
    text: &str,
    hash: impl Fn(&str) -> Result<PasswordRecord, String>,
    key: Option<&tokenlife_core::Verifier>,
) -> Result<Import, String> {
    let users: Vec<SpecterUser> = serde_json::from_str(text).map_err(|err| {
        format!(
            "not a Specter users.json (line {} column {}): {err}",
            err.line(),
            err.column()
        )
    })?;
    let mut skipped = Vec::new();
    let mut unverified = Vec::new();
    let mut verified = 0;
    let mut out = Vec::new();
    for user in users {
        if user.username.is_empty() || user.username.contains(':') {
            skipped.push(format!(
                "user {:?}: a username must be non-empty and without ':'",
                user.username
            ));
            continue;
        }
        let password = match &user.password {
            serde_json::Value::Object(map) => match (map.get("salt"), map.get("pwdhash")) {
                (
                    Some(serde_json::Value::String(salt)),
                    Some(serde_json::Value::String(pwdhash)),
                ) => PasswordRecord::Specter {
                    salt: salt.clone(),
                    pwdhash: pwdhash.clone(),
                },
                _ => {
                    return Err(format!(
                        "user {}: the password record has no salt and pwdhash",
                        user.username
                    ));
                }
            },
            serde_json::Value::String(plain) => hash(plain)?,
            _ => {
                return Err(format!(
                    "user {}: unreadable password record",
                    user.username
                ));
            }
        };
        let mut tokens = Vec::new();
        for (id, token) in user.jwt_tokens.unwrap_or_default() {
            match token_record(&token) {
                Ok(record) => {
                    if let Some(key) = key {
                        match check(key, &token.jwt_token, &user.username, &id) {
                            Ok(()) => verified += 1,
                            Err(reason) => unverified
                                .push(format!("token {id} of {}: {reason}", user.username)),
                        }
                    }
                    tokens.push((id, record));
                }
                Err(reason) => skipped.push(format!("token {id} of {}: {reason}", user.username)),
            }
        }
        out.push(ImportedUser {
            user: NewUser {
                username: user.username,
                password,
                is_admin: user.is_admin,
            },
            tokens,
        });
    }
    Ok(Import {
        users: out,
        skipped,
        verified,
        unverified,
    })
}

/// Whether `token` is one Specter issued under `key` for `username` with the id `id`, as
/// the server will judge it (any time: an expired token is still the one issued).
fn check(
    key: &tokenlife_core::Verifier,
    token: &str,
    username: &str,
    id: &str,
) -> Result<(), String> {
    let claims = key
        .verify(token, &tokenlife_core::VerifyOptions::at(f64::MIN))
        .map_err(|err| format!("{err} ({})", err.code()))?;
    if claims.username != username || claims.jwt_token_id != id {
        return Err(format!(
            "it was issued to {:?} as {:?}, not to this user under this id",
            claims.username, claims.jwt_token_id
        ));
    }
    Ok(())
}

/// The record of a Specter token: its times come from its own claims (read without the
/// key, which only Specter has), its life from Specter's record.
fn token_record(token: &SpecterToken) -> Result<TokenRecord, String> {
    let claims = tokenlife_core::decode_unverified(&token.jwt_token)
        .map_err(|err| err.to_string())?
        .claims_value();
    let exp = claims["exp"]
        .as_i64()
        .ok_or("the token has no integer exp")?;
    let life = match &token.jwt_token_life {
        Some(serde_json::Value::Number(n)) => n.as_f64().map(|f| f as i64),
        Some(serde_json::Value::String(s)) => {
            tokenlife_core::Life::parse(s).ok().map(|l| l.secs() as i64)
        }
        _ => None,
    };
    let iat = claims["iat"]
        .as_i64()
        .or(life.and_then(|l| exp.checked_sub(l)))
        .ok_or("the token has no iat and no life")?;
    Ok(TokenRecord {
        jwt_token_description: token.jwt_token_description.clone(),
        jwt_token_life: u64::try_from(life.unwrap_or(exp.saturating_sub(iat))).unwrap_or(0),
        iat,
        exp,
        fingerprint: fingerprint(&token.jwt_token),
        jwt_token_endpoints: None,
        jwt_token_origin: Some(ORIGIN.to_owned()),
        jwt_token_last_used: None,
        jwt_token_last_used_from: None,
        kid: None,
    })
}
