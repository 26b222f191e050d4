//! Who is asking: HTTP Basic for token management (passwords: Argon2id, or Specter's
//! PBKDF2 for imported users), Bearer tokens for the endpoints they protect.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use argon2::Params;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use tokenlife_core::{Claims, VerifyOptions};
use warp::http::{HeaderMap, HeaderValue};

use crate::app::App;
use crate::audit::Kind;
use crate::http::api_error::ApiError;
use crate::store::PasswordRecord;
use crate::store::last_use;
use crate::store::throttle::{LocalThrottle, Standing, Throttle};

mod hashing;

pub use hashing::HashPool;

/// Remembered good credentials at most; the cache is emptied when full.
const MAX_CACHED: usize = 10_000;

/// Password checks: the expensive hash on its own threads, a cache of good ones, and the
/// throttle.
pub struct Passwords {
    /// Per-process random key: cache keys are HMACs of username and password under it, so
    /// the cache never holds a password or anything that can be checked offline later.
    cache_key: [u8; 32],
    cache: Mutex<HashMap<[u8; 32], String>>,
    /// This process's failure counts, used unless the store keeps shared ones.
    throttle: LocalThrottle,
    /// Argon2 uses 19 MiB per check: one check per core at once, in memory kept by the
    /// hashing threads.
    pool: HashPool,
}

impl Passwords {
    /// A checker with a fresh random cache key and one hashing thread per core.
    ///
    /// # Errors
    ///
    /// When the OS random generator fails or refuses a thread.
    pub fn new() -> Result<Passwords, String> {
        let mut cache_key = [0u8; 32];
        getrandom::fill(&mut cache_key).map_err(|err| format!("no OS randomness: {err}"))?;
        let cpus = std::thread::available_parallelism().map_or(2, |n| n.get());
        Ok(Passwords {
            cache_key,
            cache: Mutex::new(HashMap::new()),
            throttle: LocalThrottle::default(),
            pool: HashPool::new(cpus)?,
        })
    }

    /// This process's failure counts, for a store that keeps none of its own (see
    /// [`App::throttle`]).
    pub fn local_throttle(&self) -> &LocalThrottle {
        &self.throttle
    }

    /// A new Argon2id record of `password`, hashed on the hashing threads.
    ///
    /// # Errors
    ///
    /// When the OS random generator or the hash fails.
    pub async fn hash(&self, password: &str) -> Result<PasswordRecord, String> {
        self.pool.hash(password.to_owned()).await
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

/// Hashes a new password with Argon2id and a random salt, on the calling thread (for the
/// commands; the server hashes with [`Passwords::hash`]).
///
/// # Errors
///
/// When the OS random generator or the hash fails.
pub fn hash_password(password: &str) -> Result<PasswordRecord, String> {
    hashing::Memory::default().hash(password)
}

/// The record checked for unknown usernames, so that they take as long as a wrong
/// password: Argon2id with the default parameters, a random salt and a random output.
/// No password hashes to a random output, and making it costs no hash.
fn dummy_record() -> &'static PasswordRecord {
    static DUMMY: OnceLock<PasswordRecord> = OnceLock::new();
    DUMMY.get_or_init(|| {
        let mut bytes = [0u8; 16 + Params::DEFAULT_OUTPUT_LEN];
        let _ = getrandom::fill(&mut bytes);
        let (salt, out) = bytes.split_at(16);
        let phc = hashing::phc_string(&Params::default(), salt, out).unwrap_or_else(|_| {
            "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g"
                .into()
        });
        PasswordRecord::Phc(phc)
    })
}

/// Makes the dummy record now rather than in the first unknown user's request.
pub fn warm_up() {
    let _ = dummy_record();
}

/// The username of a request with good Basic credentials.
///
/// The attempt is counted by the throttle before the password is hashed (see
/// [`crate::store::throttle`]); credentials found in the cache of good checks cost no hash and
/// count nothing, but the name's standing is still read: a locked name answers `429` even
/// with the right password, cached or not, or the cache would tell a guesser which of
/// their guesses is right while the name is locked.
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
    let throttle = app.throttle();
    let now_ms = crate::clock::now_millis();
    let slot = passwords.cache_slot(username, password);
    let cached = slot.and_then(|slot| {
        let cache = passwords.cache.lock().unwrap_or_else(|e| e.into_inner());
        cache.get(&slot).cloned()
    });
    // The record is read before the attempt is counted: a store that fails answers 503
    // without counting a check that never happened (a database restart must not lock
    // out the users who keep signing in through it). Credentials checked before also need
    // the name's standing: both are asked at once (two round trips to a database in the
    // time of one).
    let (record, standing) = match cached {
        Some(_) => {
            let (record, standing) = futures_util::future::join(
                app.store.password(username),
                throttle.check(username, now_ms),
            )
            .await;
            (record?, Some(standing))
        }
        None => (app.store.password(username).await?, None),
    };
    if let (Some(record), Some(cached), Some(standing)) = (&record, cached, standing)
        && cached == record.identity()
    {
        // Good credentials checked before: no hash, so no guess to count; a locked name
        // still refuses them, and failures there are forgotten.
        match standing? {
            Standing::Locked(locked) => {
                crate::http::metrics::METRICS.sign_in_throttled();
                app.audit.event(Kind::SignInThrottled, username, username);
                return Err(ApiError::too_many_attempts(locked.retry_after));
            }
            Standing::Failing => forget_failures(throttle, username).await,
            Standing::Clear => {}
        }
        return Ok(username.to_owned());
    }
    throttle.begin(username, now_ms).await?.map_err(|locked| {
        crate::http::metrics::METRICS.sign_in_throttled();
        app.audit.event(Kind::SignInThrottled, username, username);
        ApiError::too_many_attempts(locked.retry_after)
    })?;
    let checked = record.clone().unwrap_or_else(|| dummy_record().clone());
    let good = passwords.pool.verify(checked, password.to_owned()).await;
    match (good, record) {
        (true, Some(record)) => {
            forget_failures(throttle, username).await;
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
        // The failure was counted when the attempt began.
        _ => {
            crate::http::metrics::METRICS.sign_in_failed();
            app.audit.event(Kind::SignInFailed, username, username);
            Err(ApiError::unauthorized_basic("invalid_credentials"))
        }
    }
}

/// Forgets a name's failures after a good password, trying a shared store three times (a
/// pooled connection that broke fails once and is dropped). A store that cannot do it
/// leaves the count as it was: the sign-in still succeeds.
async fn forget_failures(throttle: &dyn Throttle, username: &str) {
    for attempt in 1..=3 {
        match throttle.succeed(username).await {
            Ok(()) => return,
            Err(err) if attempt == 3 => {
                tracing::warn!(error = %err, "cannot clear the failed sign-ins");
            }
            Err(_) => {}
        }
    }
}

/// Moves an imported Specter (PBKDF2) password to Argon2id after a good sign-in, so that
/// its checks cost as much as every other (a wrong password then takes as long as an
/// unknown user). The answer does not wait for it.
fn upgrade_in_background(app: &App, username: &str, record: &PasswordRecord, password: &str) {
    let store = Arc::clone(&app.store);
    let pool = app.passwords.pool.clone();
    let (username, from, password) = (username.to_owned(), record.clone(), password.to_owned());
    tokio::spawn(async move {
        let hashed = pool.hash(password).await;
        if let Ok(to) = hashed {
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
    /// When this process last recorded a use of the token (Unix seconds; `i64::MIN`
    /// before any): the once-a-minute gate of [`crate::store::last_use`].
    recorded: AtomicI64,
}

impl Verified {
    /// Records a use at `now` from `peer`, unless one was recorded in the last minute: one
    /// atomic load on the common path, no lock, no store call.
    fn record_use(&self, app: &App, now: i64, peer: Option<IpAddr>) {
        let last = self.recorded.load(Ordering::Relaxed);
        if now.saturating_sub(last) < last_use::MIN_INTERVAL {
            return;
        }
        // Of the requests that see the gate open at once, one records; the recorder's own
        // gate holds the minute for a token that fell out of the cache and came back.
        if self
            .recorded
            .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
            .is_err()
        {
            return;
        }
        app.last_use
            .record(&self.claims.username, &self.claims.jwt_token_id, now, peer);
    }
}

/// The Basic-authenticated user when the store marks them an administrator
/// (`tokenlife user add --admin`): the admin endpoints.
///
/// # Errors
///
/// As [`basic`]; then `403 forbidden` for a user who is not an administrator.
pub async fn admin(app: &App, headers: &HeaderMap) -> Result<String, ApiError> {
    let username = basic(app, headers).await?;
    let is_admin = app
        .store
        .users()
        .await?
        .into_iter()
        .any(|user| user.username == username && user.is_admin);
    if !is_admin {
        return Err(ApiError::new(
            warp::http::StatusCode::FORBIDDEN,
            "forbidden",
            "This endpoint is for administrators only.",
        ));
    }
    Ok(username)
}

/// The token of an `Authorization: Bearer TOKEN` header (trimmed; possibly empty, which
/// verification then refuses), before any check of the token itself.
///
/// # Errors
///
/// `401` `missing_credentials` without the header or with another scheme, `invalid_token`
/// when the header is not text.
pub fn bearer_token(authorization: Option<&HeaderValue>) -> Result<&str, ApiError> {
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
    Ok(token.trim())
}

/// The token of a request with a good Bearer token: signature and times by core (no
/// leeway), then the record must exist for that user and match the token exactly. A token
/// that passes has its use recorded (from the connection's address,
/// [`crate::audit::client_addr`]) for the store's last use, off the request's path
/// ([`crate::store::last_use`]).
///
/// # Errors
///
/// `401` with `missing_credentials`, `invalid_token`, `token_expired` or `token_revoked`;
/// `503` when the store fails.
pub async fn bearer(app: &App, authorization: Option<&HeaderValue>) -> Result<Bearer, ApiError> {
    let token = bearer_token(authorization)?;
    let now = crate::clock::now();
    let verified = match app.verified.get(token) {
        // A token whose signature, form and issuer were checked before: only its time can
        // have run out since.
        Some(known) => {
            if tokenlife_core::expiry_status(known.claims.exp, now, 0)
                == tokenlife_core::ExpiryStatus::Expired
            {
                audit_token(app, Kind::TokenUsedAfterExpiry, &known.claims);
                return Err(ApiError::unauthorized_bearer(
                    "token_expired",
                    Some("the token has expired"),
                ));
            }
            known
        }
        None => {
            let expired =
                || ApiError::unauthorized_bearer("token_expired", Some("the token has expired"));
            let invalid = |err: tokenlife_core::Error| {
                ApiError::unauthorized_bearer("invalid_token", Some(&err.to_string()))
            };
            let options = VerifyOptions::at(now).issuer(&app.config.issuer);
            let mut checked = app.keys.current().verifier.verify(token, &options);
            // A kid this server has not read yet: another process may have rotated.
            if matches!(&checked, Err(err) if err.code() == "unknown_key") {
                checked = app
                    .keys
                    .fresh(app.store.as_ref())
                    .await?
                    .verifier
                    .verify(token, &options);
            }
            let claims = match checked {
                Ok(claims) => claims,
                Err(err) if err.code() == "expired" => {
                    audit_expired(app, token, now);
                    return Err(expired());
                }
                // Not one of ours: perhaps one Specter issued, under the key an import kept.
                // Its claims have no `iss`; its record and fingerprint are checked below,
                // as for every token.
                Err(err) => match app.specter.verifier(app.store.as_ref(), now).await? {
                    Some(specter) => match specter.verify(token, &VerifyOptions::at(now)) {
                        Ok(claims) => claims,
                        Err(legacy) if legacy.code() == "expired" => {
                            audit_expired(app, token, now);
                            return Err(expired());
                        }
                        Err(_) => return Err(invalid(err)),
                    },
                    None => return Err(invalid(err)),
                },
            };
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
        .await?;
    match held {
        Some(true) => {
            verified.record_use(app, crate::clock::now_secs(), crate::audit::client_addr());
            Ok(Bearer { verified })
        }
        Some(false) => Err(ApiError::unauthorized_bearer(
            "invalid_token",
            Some("the token is not the one issued under its id"),
        )),
        None => {
            let revoked = app
                .store
                .is_revoked(&claims.jwt_token_id, crate::clock::now_secs())
                .await?;
            if revoked {
                audit_token(app, Kind::TokenUsedAfterRevocation, claims);
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

/// Records a refused use of the token of `claims` (revoked or expired).
fn audit_token(app: &App, kind: Kind, claims: &Claims) {
    let target = crate::audit::Event::token_target(&claims.username, &claims.jwt_token_id);
    app.audit.event(kind, &claims.username, target);
}

/// Records the use of a token that expired. Its signature was checked before its expiry
/// (core's order), so its claims are read without checking it again.
fn audit_expired(app: &App, token: &str, now: f64) {
    if let Ok(seen) = tokenlife_core::inspect(token, now, 0) {
        let target = crate::audit::Event::token_target(&seen.username, &seen.jwt_token_id);
        app.audit
            .event(Kind::TokenUsedAfterExpiry, &seen.username, target);
    }
}

/// Specter's signing key as a verifier of the tokens Specter issued (never a signer), read
/// from the store ([`crate::store::Store::specter_key`]) when a token first fails as one of
/// ours. While the store has none, it is asked again at most every
/// [`SPECTER_KEY_RECHECK`] seconds, so that an import made while the server runs is seen
/// without a restart and bad tokens cost no store call each.
#[derive(Default)]
pub struct SpecterKey {
    state: tokio::sync::Mutex<SpecterKeyState>,
}

#[derive(Default)]
struct SpecterKeyState {
    verifier: Option<Arc<tokenlife_core::Verifier>>,
    /// When the store was last asked and had no key.
    missing_at: Option<f64>,
}

/// Seconds between two questions to a store that had no Specter key.
pub const SPECTER_KEY_RECHECK: f64 = 5.0;

impl SpecterKey {
    /// The verifier of Specter's tokens, if the store keeps Specter's key.
    ///
    /// # Errors
    ///
    /// `503` when the store fails.
    pub async fn verifier(
        &self,
        store: &dyn crate::store::Store,
        now: f64,
    ) -> Result<Option<Arc<tokenlife_core::Verifier>>, ApiError> {
        let mut state = self.state.lock().await;
        if let Some(verifier) = &state.verifier {
            return Ok(Some(Arc::clone(verifier)));
        }
        if state
            .missing_at
            .is_some_and(|at| (now - at).abs() < SPECTER_KEY_RECHECK)
        {
            return Ok(None);
        }
        match store.specter_key().await? {
            Some(key) => match tokenlife_core::Verifier::specter_hs256(&key) {
                Ok(verifier) => {
                    let verifier = Arc::new(verifier);
                    state.verifier = Some(Arc::clone(&verifier));
                    Ok(Some(verifier))
                }
                Err(err) => {
                    tracing::warn!(error = %err, "the store's Specter key is unusable");
                    state.missing_at = Some(now);
                    Ok(None)
                }
            },
            None => {
                state.missing_at = Some(now);
                Ok(None)
            }
        }
    }
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
            recorded: AtomicI64::new(i64::MIN),
        });
        let mut tokens = self.tokens.write().unwrap_or_else(|e| e.into_inner());
        if tokens.len() >= MAX_VERIFIED {
            tokens.clear();
        }
        tokens.insert(signature_part(token).to_owned(), Arc::clone(&entry));
        entry
    }
}
