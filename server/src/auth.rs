//! Who is asking: HTTP Basic for token management (passwords: Argon2id, or Specter's
//! PBKDF2 for imported users), Bearer tokens for the endpoints they protect.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;
use tokenlife_core::{Claims, VerifyOptions};
use tokio::sync::Semaphore;
use warp::http::{HeaderMap, HeaderValue};

use crate::App;
use crate::api_error::ApiError;
use crate::store::{PasswordRecord, StoreError};
use crate::throttle::Throttle;

/// Specter's PBKDF2 iteration count.
const SPECTER_ITERATIONS: u32 = 10_000;
/// Remembered good credentials at most; the cache is emptied when full.
const MAX_CACHED: usize = 10_000;

/// Password checks: the expensive hash, a cache of good ones, and the throttle.
pub struct Passwords {
    /// Per-process random key: cache keys are HMACs of username and password under it, so
    /// the cache never holds a password or anything that can be checked offline later.
    cache_key: [u8; 32],
    cache: Mutex<HashMap<[u8; 32], String>>,
    throttle: Throttle,
    /// Argon2 uses 19 MiB per check: at most a few at once.
    hashing: Semaphore,
}

impl Passwords {
    /// A checker with a fresh random cache key.
    ///
    /// # Errors
    ///
    /// When the OS random generator fails.
    pub fn new() -> Result<Passwords, String> {
        let mut cache_key = [0u8; 32];
        getrandom::fill(&mut cache_key).map_err(|err| format!("no OS randomness: {err}"))?;
        let cpus = std::thread::available_parallelism().map_or(2, |n| n.get());
        Ok(Passwords {
            cache_key,
            cache: Mutex::new(HashMap::new()),
            throttle: Throttle::default(),
            hashing: Semaphore::new(cpus * 2),
        })
    }

    /// The cache key of a username and password; `None` (nothing cached) only if HMAC
    /// refused the key, which it never does for 32 bytes.
    fn cache_slot(&self, username: &str, password: &str) -> Option<[u8; 32]> {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.cache_key).ok()?;
        mac.update(&(username.len() as u64).to_be_bytes());
        mac.update(username.as_bytes());
        mac.update(password.as_bytes());
        Some(mac.finalize().into_bytes().into())
    }
}

/// Hashes a new password with Argon2id and a random salt.
///
/// # Errors
///
/// When the OS random generator or the hash fails.
pub fn hash_password(password: &str) -> Result<PasswordRecord, String> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|err| format!("no OS randomness: {err}"))?;
    let hash = Argon2::default()
        .hash_password_with_salt(password.as_bytes(), &salt)
        .map_err(|err| format!("cannot hash the password: {err}"))?;
    Ok(PasswordRecord::Phc(hash.to_string()))
}

/// Whether `password` matches `record`. Specter records are checked as Specter does:
/// PBKDF2-HMAC-SHA256 over the salt's text, 10,000 iterations, against base64 `pwdhash`.
pub fn verify_password(record: &PasswordRecord, password: &str) -> bool {
    match record {
        PasswordRecord::Phc(phc) => match PasswordHash::new(phc) {
            Ok(hash) => Argon2::default()
                .verify_password(password.as_bytes(), &hash)
                .is_ok(),
            Err(_) => false,
        },
        PasswordRecord::Specter { salt, pwdhash } => {
            let Ok(expected) = STANDARD.decode(pwdhash.trim()) else {
                return false;
            };
            let derived = pbkdf2::pbkdf2_hmac_array::<Sha256, 32>(
                password.as_bytes(),
                salt.as_bytes(),
                SPECTER_ITERATIONS,
            );
            derived.as_slice().ct_eq(expected.as_slice()).into()
        }
    }
}

/// A hash of a random password, checked for unknown usernames so that they take as long
/// as a wrong password.
fn dummy_record() -> &'static PasswordRecord {
    static DUMMY: OnceLock<PasswordRecord> = OnceLock::new();
    DUMMY.get_or_init(|| {
        let mut bytes = [0u8; 16];
        let _ = getrandom::fill(&mut bytes);
        hash_password(&STANDARD.encode(bytes))
            .unwrap_or_else(|_| PasswordRecord::Phc("$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g".into()))
    })
}

/// Computes the dummy hash now rather than in the first unknown user's request.
pub fn warm_up() {
    let _ = dummy_record();
}

/// The username of a request with good Basic credentials.
///
/// # Errors
///
/// `401` (`missing_credentials`, `invalid_credentials`), `429` while the name is locked,
/// `503` when the store fails.
pub async fn basic(app: &App, headers: &HeaderMap) -> Result<String, ApiError> {
    let value = headers
        .get(warp::http::header::AUTHORIZATION)
        .ok_or_else(|| ApiError::unauthorized_basic("missing_credentials"))?;
    let value = value
        .to_str()
        .map_err(|_| ApiError::unauthorized_basic("invalid_credentials"))?;
    let (scheme, rest) = value.trim().split_once(' ').unwrap_or((value, ""));
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(ApiError::unauthorized_basic("missing_credentials"));
    }
    let decoded = STANDARD
        .decode(rest.trim())
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .ok_or_else(|| ApiError::unauthorized_basic("invalid_credentials"))?;
    let (username, password) = decoded
        .split_once(':')
        .ok_or_else(|| ApiError::unauthorized_basic("invalid_credentials"))?;
    if username.is_empty() || password.is_empty() {
        return Err(ApiError::unauthorized_basic("invalid_credentials"));
    }
    let passwords = &app.passwords;
    // A store that several servers share counts failures itself, so that a guesser
    // cannot spread guesses over the servers.
    let shared = app.store.shared_throttle();
    let locked = match shared {
        Some(throttle) => throttle
            .retry_after(username, crate::clock::now_millis())
            .await
            .map_err(|err| store_failure(&err))?,
        None => passwords.throttle.retry_after(username),
    };
    if let Some(retry_after) = locked {
        return Err(ApiError::too_many_attempts(retry_after));
    }
    let record = app
        .store
        .password(username)
        .await
        .map_err(|err| store_failure(&err))?;
    let slot = passwords.cache_slot(username, password);
    if let (Some(record), Some(slot)) = (&record, &slot) {
        let cache = passwords.cache.lock().unwrap_or_else(|e| e.into_inner());
        if cache
            .get(slot)
            .is_some_and(|identity| *identity == record.identity())
        {
            return Ok(username.to_owned());
        }
    }
    let good = {
        let _permit = passwords.hashing.acquire().await.ok();
        let known = record.clone();
        let password = password.to_owned();
        tokio::task::spawn_blocking(move || match known {
            Some(record) => verify_password(&record, &password),
            None => {
                let _ = verify_password(dummy_record(), &password);
                false
            }
        })
        .await
        .unwrap_or(false)
    };
    match (good, record) {
        (true, Some(record)) => {
            match shared {
                Some(throttle) => {
                    if let Err(err) = throttle.succeed(username).await {
                        tracing::warn!(error = %err, "cannot clear the failed sign-ins");
                    }
                }
                None => passwords.throttle.succeed(username),
            }
            if matches!(record, PasswordRecord::Specter { .. }) {
                upgrade_in_background(app, username, &record, password);
            }
            if let Some(slot) = slot {
                let mut cache = passwords.cache.lock().unwrap_or_else(|e| e.into_inner());
                if cache.len() >= MAX_CACHED {
                    cache.clear();
                }
                cache.insert(slot, record.identity());
            }
            Ok(username.to_owned())
        }
        _ => {
            match shared {
                Some(throttle) => throttle
                    .fail(username, crate::clock::now_millis())
                    .await
                    .map_err(|err| store_failure(&err))?,
                None => passwords.throttle.fail(username),
            }
            Err(ApiError::unauthorized_basic("invalid_credentials"))
        }
    }
}

/// Moves an imported Specter (PBKDF2) password to Argon2id after a good sign-in, so that
/// its checks cost as much as every other (a wrong password then takes as long as an
/// unknown user). The answer does not wait for it.
fn upgrade_in_background(app: &App, username: &str, record: &PasswordRecord, password: &str) {
    let store = std::sync::Arc::clone(&app.store);
    let (username, from, password) = (username.to_owned(), record.clone(), password.to_owned());
    tokio::spawn(async move {
        let hashed = tokio::task::spawn_blocking(move || hash_password(&password)).await;
        if let Ok(Ok(to)) = hashed {
            let op = crate::store::Op::UpgradePassword { username, from, to };
            if let Err(err) = store.apply(op).await {
                tracing::warn!(error = %err, "cannot upgrade an imported password");
            }
        }
    });
}

/// A verified Bearer token: its claims and the store's record of it.
#[derive(Debug)]
pub struct Bearer {
    /// The token's claims, shared with the cache of verified tokens. They equal the
    /// store's record: the record was made from them and its fingerprint matched.
    pub verified: Arc<Verified>,
}

/// A verified token's claims and fingerprint.
#[derive(Debug)]
pub struct Verified {
    /// The whole token, to tell tokens with the same signature part apart.
    token: String,
    /// The claims.
    pub claims: Claims,
    /// SHA-256 of the token, hex.
    fingerprint: String,
}

/// The token of a request with a good Bearer token: signature and times by core (no
/// leeway), then the record must exist for that user and match the token exactly.
///
/// # Errors
///
/// `401` with `missing_credentials`, `invalid_token`, `token_expired` or `token_revoked`;
/// `503` when the store fails.
pub async fn bearer(app: &App, authorization: Option<&HeaderValue>) -> Result<Bearer, ApiError> {
    let value =
        authorization.ok_or_else(|| ApiError::unauthorized_bearer("missing_credentials", None))?;
    let value = value.to_str().map_err(|_| {
        ApiError::unauthorized_bearer(
            "invalid_token",
            Some("the Authorization header is not text"),
        )
    })?;
    let (scheme, token) = value.trim().split_once(' ').unwrap_or((value, ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(ApiError::unauthorized_bearer("missing_credentials", None));
    }
    let token = token.trim();
    let now = crate::clock::now();
    let verified = match app.verified.get(token) {
        // A token whose signature, form and issuer were checked before: only its time can
        // have run out since.
        Some(known) => {
            if tokenlife_core::expiry_status(known.claims.exp, now, 0)
                == tokenlife_core::ExpiryStatus::Expired
            {
                return Err(ApiError::unauthorized_bearer(
                    "token_expired",
                    Some("the token has expired"),
                ));
            }
            known
        }
        None => {
            let options = VerifyOptions::at(now).issuer(&app.config.issuer);
            let claims = app.verifier.verify(token, &options).map_err(|err| {
                if err.code() == "expired" {
                    ApiError::unauthorized_bearer("token_expired", Some("the token has expired"))
                } else {
                    ApiError::unauthorized_bearer("invalid_token", Some(&err.to_string()))
                }
            })?;
            let fingerprint = tokenlife_core::fingerprint(token);
            app.verified.insert(token, claims, fingerprint)
        }
    };
    let claims = &verified.claims;
    let held = app
        .store
        .holds(
            &claims.username,
            &claims.jwt_token_id,
            &verified.fingerprint,
        )
        .await
        .map_err(|err| store_failure(&err))?;
    match held {
        Some(true) => Ok(Bearer { verified }),
        Some(false) => Err(ApiError::unauthorized_bearer(
            "invalid_token",
            Some("the token is not the one issued under its id"),
        )),
        None => {
            let revoked = app
                .store
                .is_revoked(&claims.jwt_token_id, crate::clock::now_secs())
                .await
                .map_err(|err| store_failure(&err))?;
            if revoked {
                Err(ApiError::unauthorized_bearer(
                    "token_revoked",
                    Some("the token has been revoked"),
                ))
            } else {
                Err(ApiError::unauthorized_bearer(
                    "invalid_token",
                    Some("the token is not known to this server"),
                ))
            }
        }
    }
}

/// A store failure as an answer.
pub fn store_failure(err: &StoreError) -> ApiError {
    ApiError::unavailable(&err.to_string())
}

/// Tokens whose signature, form and issuer passed, with their claims and fingerprint, so
/// that a token used again costs a map look-up instead of a signature check and a hash.
/// Expiry, the store's record and revocation are still checked on every request. Keyed by
/// the signature part (short, and as unique as the token), the whole token compared on a hit.
#[derive(Default)]
pub struct VerifiedTokens {
    tokens: std::sync::RwLock<HashMap<String, Arc<Verified>>>,
}

/// Verified tokens remembered at most; the cache is emptied when full.
const MAX_VERIFIED: usize = 10_000;

fn signature_part(token: &str) -> &str {
    token.rsplit('.').next().unwrap_or(token)
}

impl VerifiedTokens {
    fn get(&self, token: &str) -> Option<Arc<Verified>> {
        let tokens = self.tokens.read().unwrap_or_else(|e| e.into_inner());
        tokens
            .get(signature_part(token))
            .filter(|v| v.token == token)
            .cloned()
    }

    fn insert(&self, token: &str, claims: Claims, fingerprint: String) -> Arc<Verified> {
        let entry = Arc::new(Verified {
            token: token.to_owned(),
            claims,
            fingerprint,
        });
        let mut tokens = self.tokens.write().unwrap_or_else(|e| e.into_inner());
        if tokens.len() >= MAX_VERIFIED {
            tokens.clear();
        }
        tokens.insert(signature_part(token).to_owned(), Arc::clone(&entry));
        entry
    }
}
