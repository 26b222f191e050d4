//! The API's handlers: plain async functions from the request's parts to a response.

use std::sync::Arc;

use serde_json::{Value, json};
use tokenlife_core::{Claims, Life, TokenId, TokenRecord, expiry_status, remaining_life, scope};
use warp::http::{HeaderMap, HeaderValue, Method, StatusCode};
use warp::reply::Response;

use crate::app::App;
use crate::audit::{Event, Kind};
use crate::auth;
use crate::http::api_error::{
    ApiError, Failure, json_bytes, json_response, payload_too_large, unsupported_media_type,
};
use crate::store::{Op, StoreError};

pub mod admin;
pub mod audit;
mod cache;
mod forward;
pub mod openapi;

pub use forward::REFUSED as FORWARD_HEADERS_REFUSED;

/// The longest description a token may have, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 256;
/// The largest request body, in bytes.
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// Specter's answer for a blank or repeated description.
const DESCRIPTION_TAKEN: &str = "Token description already exists or is blank";
pub(crate) const TOKEN_NOT_FOUND: &str =
    "Token does not exist, make sure to enter correct token id";

/// A request body read up to [`MAX_BODY_BYTES`]; `Err` when it was longer or unreadable.
pub type Body = Result<bytes::Bytes, BodyError>;

/// Why a body could not be read.
#[derive(Debug, Clone, Copy)]
pub enum BodyError {
    /// Longer than [`MAX_BODY_BYTES`].
    TooLarge,
    /// The connection failed while reading it.
    Unreadable,
}

pub(crate) fn respond(result: Result<Response, ApiError>) -> Response {
    result.unwrap_or_else(ApiError::into_response)
}

/// `POST /api/v1alpha/token/`: creates a token for the Basic-authenticated user.
pub async fn create_token(app: Arc<App>, headers: HeaderMap, body: Body) -> Response {
    respond(create_token_inner(&app, &headers, body).await)
}

async fn create_token_inner(
    app: &App,
    headers: &HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let username = auth::basic(app, headers).await?;
    let request = read_json(headers, body)?;
    let request = TokenRequest::from_json(&request, app.config.max_life)?;
    require_scopes(app, request.endpoints.as_ref())?;
    let issued = issue(
        app,
        &username,
        &request.description,
        request.life,
        request.endpoints,
    )
    .await?;
    let target = Event::token_target(&username, &issued.id);
    let op = Op::CreateToken {
        user: username.clone(),
        id: issued.id.clone(),
        record: issued.record.clone(),
        max_tokens: app.config.policy.max_tokens_per_user,
    };
    match crate::http::metrics::timed_write(app.store.apply(op)).await {
        Ok(_) => {
            crate::http::metrics::METRICS.token_created();
            app.audit.event(Kind::TokenCreated, &username, target);
        }
        Err(StoreError::DuplicateDescription) => {
            return Err(ApiError::bad_request(
                "duplicate_description",
                DESCRIPTION_TAKEN,
            ));
        }
        Err(StoreError::TooManyTokens(max)) => {
            return Err(ApiError::bad_request(
                "too_many_tokens",
                format!(
                    "This server allows each user at most {max} unexpired token{} \
                     (policy --max-tokens-per-user); delete one first.",
                    if max == 1 { "" } else { "s" }
                ),
            ));
        }
        Err(StoreError::UnknownUser) => {
            return Err(ApiError::unauthorized_basic("invalid_credentials"));
        }
        Err(err) => return Err(err.into()),
    }
    Ok(issued.answer("Token generated"))
}

/// A token just signed, with what the store keeps of it.
struct Issued {
    id: String,
    token: String,
    claims: Claims,
    record: TokenRecord,
}

impl Issued {
    /// The `201` of create and regenerate: the token, shown this once.
    fn answer(&self, message: &str) -> Response {
        json_response(
            StatusCode::CREATED,
            &json!({
                "message": message,
                "jwt_token_id": self.id,
                "jwt_token": self.token,
                "jwt_token_description": self.claims.jwt_token_description,
                "jwt_token_life": self.claims.life(),
            }),
        )
    }
}

/// Signs a new token of `username` from now on, with a fresh random id.
async fn issue(
    app: &App,
    username: &str,
    description: &str,
    life: Life,
    endpoints: Option<Vec<String>>,
) -> Result<Issued, ApiError> {
    let mut random = [0u8; 16];
    getrandom::fill(&mut random)
        .map_err(|err| ApiError::failure(Failure::Randomness(err.to_string())))?;
    let id = TokenId::from_random_bytes(random);
    let now = crate::clock::now_secs();
    let mut claims = Claims::new(username, id, description, life, now, &app.config.issuer)
        .map_err(|err| ApiError::bad_request("bad_life", err.to_string()))?;
    if let Some(endpoints) = endpoints {
        claims = claims.with_endpoints(endpoints);
    }
    // The keyring as the store has it now: a rotation made elsewhere signs from here on.
    let token = app
        .keys
        .fresh(app.store.as_ref())
        .await?
        .signer
        .sign(&claims)
        .map_err(|err| ApiError::failure(Failure::Signing(err.to_string())))?;
    let record = TokenRecord::new(&claims, &token);
    Ok(Issued {
        id: claims.jwt_token_id.clone(),
        token,
        claims,
        record,
    })
}

/// `400 scopes_required` when the server requires endpoint scopes (`--require-scopes`)
/// and a new token would carry none.
fn require_scopes(app: &App, endpoints: Option<&Vec<String>>) -> Result<(), ApiError> {
    if app.config.policy.require_scopes && endpoints.is_none() {
        return Err(ApiError::bad_request(
            "scopes_required",
            "This server requires every new token to carry jwt_token_endpoints \
             (policy --require-scopes).",
        ));
    }
    Ok(())
}

/// `POST /api/v1alpha/token/{id}/regenerate`: replaces one of the user's tokens by a new
/// one with the same description, endpoints and life (from now on), revoking the old one
/// at once, in one change of the store. Answered as create is: `201`, the token shown once.
pub async fn regenerate_token(id: String, app: Arc<App>, headers: HeaderMap) -> Response {
    respond(regenerate_token_inner(&app, &headers, id).await)
}

async fn regenerate_token_inner(
    app: &App,
    headers: &HeaderMap,
    old: String,
) -> Result<Response, ApiError> {
    let username = auth::basic(app, headers).await?;
    let record = app
        .store
        .token(&username, &old)
        .await?
        .ok_or_else(|| ApiError::not_found("token_not_found", TOKEN_NOT_FOUND))?;
    let life = i64::try_from(record.jwt_token_life)
        .map_err(|_| tokenlife_core::LifeError::Overflow)
        .and_then(Life::from_secs)
        .and_then(|life| life.at_most(app.config.max_life))
        .map_err(|err| ApiError::bad_request("bad_life", err.to_string()))?;
    require_scopes(app, record.jwt_token_endpoints.as_ref())?;
    let issued = issue(
        app,
        &username,
        &record.jwt_token_description,
        life,
        record.jwt_token_endpoints,
    )
    .await?;
    // The target names the old token: the new one's id is in the answer, shown once.
    let target = Event::token_target(&username, &old);
    let op = Op::RegenerateToken {
        user: username.clone(),
        old,
        id: issued.id.clone(),
        record: issued.record.clone(),
    };
    match crate::http::metrics::timed_write(app.store.apply(op)).await {
        Ok(true) => {
            crate::http::metrics::METRICS.token_deleted();
            crate::http::metrics::METRICS.token_created();
            app.audit.event(Kind::TokenRegenerated, &username, target);
            Ok(issued.answer("Token regenerated"))
        }
        // Deleted or regenerated meanwhile.
        Ok(false) => Err(ApiError::not_found("token_not_found", TOKEN_NOT_FOUND)),
        Err(err) => Err(err.into()),
    }
}

/// A validated token request.
struct TokenRequest {
    description: String,
    life: Life,
    endpoints: Option<Vec<String>>,
}

impl TokenRequest {
    fn from_json(body: &Value, max_life: Life) -> Result<TokenRequest, ApiError> {
        let Value::Object(fields) = body else {
            return Err(ApiError::bad_request(
                "invalid_body",
                "The request body must be a JSON object.",
            ));
        };
        let description = match fields.get("jwt_token_description") {
            None | Some(Value::Null) => {
                return Err(ApiError::bad_request(
                    "missing_field",
                    "jwt_token_description is required.",
                ));
            }
            Some(Value::String(text)) => text.clone(),
            Some(_) => {
                return Err(ApiError::bad_request(
                    "invalid_field",
                    "jwt_token_description must be a string.",
                ));
            }
        };
        let life = match fields.get("jwt_token_life") {
            None | Some(Value::Null) => {
                return Err(ApiError::bad_request(
                    "missing_field",
                    "jwt_token_life is required.",
                ));
            }
            Some(Value::String(text)) => Life::parse(text),
            // An integer too large for i64 is still a whole number: too long, not malformed.
            Some(Value::Number(number)) => match (number.as_i64(), number.as_u64()) {
                (Some(secs), _) => Life::from_secs(secs),
                (None, Some(_)) => Err(tokenlife_core::LifeError::Overflow),
                (None, None) => Life::from_number(number.as_f64().unwrap_or(f64::NAN)),
            },
            Some(_) => {
                return Err(ApiError::bad_request(
                    "invalid_field",
                    "jwt_token_life must be a text such as \"6 minutes\" or a whole number of seconds.",
                ));
            }
        };
        let life = life
            .and_then(|life| life.at_most(max_life))
            .map_err(|err| ApiError::bad_request("bad_life", err.to_string()))?;
        if description.trim().is_empty() {
            return Err(ApiError::bad_request(
                "blank_description",
                DESCRIPTION_TAKEN,
            ));
        }
        if description.chars().count() > MAX_DESCRIPTION_CHARS {
            return Err(ApiError::bad_request(
                "description_too_long",
                format!("jwt_token_description is longer than {MAX_DESCRIPTION_CHARS} characters."),
            ));
        }
        let endpoints = match fields.get("jwt_token_endpoints") {
            None | Some(Value::Null) => None,
            Some(Value::Array(items)) => {
                let mut patterns = Vec::with_capacity(items.len());
                for item in items {
                    let Value::String(pattern) = item else {
                        return Err(ApiError::bad_request(
                            "invalid_field",
                            "jwt_token_endpoints must be a list of texts.",
                        ));
                    };
                    scope::validate(pattern)
                        .map_err(|message| ApiError::bad_request("invalid_endpoint", message))?;
                    patterns.push(pattern.trim().to_owned());
                }
                if patterns.is_empty() {
                    return Err(ApiError::bad_request(
                        "invalid_endpoint",
                        "jwt_token_endpoints must list at least one pattern; leave it out to allow every endpoint.",
                    ));
                }
                Some(patterns)
            }
            Some(_) => {
                return Err(ApiError::bad_request(
                    "invalid_field",
                    "jwt_token_endpoints must be a list of texts.",
                ));
            }
        };
        Ok(TokenRequest {
            description,
            life,
            endpoints,
        })
    }
}

/// The body as JSON: `413` over 64 KiB, `415` unless the content type is JSON, `400` when
/// it does not parse.
fn read_json(headers: &HeaderMap, body: Body) -> Result<Value, ApiError> {
    let bytes = match body {
        Ok(bytes) => bytes,
        Err(BodyError::TooLarge) => return Err(payload_too_large()),
        Err(BodyError::Unreadable) => {
            return Err(ApiError::bad_request(
                "invalid_body",
                "The request body could not be read.",
            ));
        }
    };
    let is_json = headers
        .get(warp::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .is_some_and(|mime| {
            mime == "application/json"
                || (mime.starts_with("application/") && mime.ends_with("+json"))
        });
    if !is_json {
        return Err(unsupported_media_type());
    }
    serde_json::from_slice::<StrictJson>(&bytes)
        .map(|strict| strict.0)
        .map_err(|err| {
            ApiError::bad_request(
                "invalid_json",
                format!("The request body is not valid JSON: {err}."),
            )
        })
}

/// A JSON value read by serde_json's parser, but refusing an object that names a key
/// twice, at any depth: serde_json keeps the last value, so `{"jwt_token_life": "10 years",
/// "jwt_token_life": "1h"}` would be judged by one value and logged or proxied with the
/// other. The token reader of core refuses them too.
struct StrictJson(Value);

impl<'de> serde::Deserialize<'de> for StrictJson {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(StrictVisitor).map(StrictJson)
    }
}

struct StrictVisitor;

impl<'de> serde::de::Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(StrictJson(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut fields = serde_json::Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if fields.contains_key(&key) {
                return Err(serde::de::Error::custom(format_args!(
                    "the key \"{key}\" is given twice"
                )));
            }
            let StrictJson(value) = map.next_value()?;
            fields.insert(key, value);
        }
        Ok(Value::Object(fields))
    }
}

/// Adds `jwt_token_last_used` (Unix seconds) and `jwt_token_last_used_from` (the client
/// address), each `null` until the token's first recorded use, beside Specter's members.
fn last_use_members(
    map: &mut serde_json::Map<String, Value>,
    record: &tokenlife_core::TokenRecord,
) {
    map.insert(
        "jwt_token_last_used".into(),
        record.jwt_token_last_used.map_or(Value::Null, Value::from),
    );
    map.insert(
        "jwt_token_last_used_from".into(),
        record
            .jwt_token_last_used_from
            .clone()
            .map_or(Value::Null, Value::String),
    );
}

/// `GET /api/v1alpha/token/`: the user's tokens.
pub async fn list_tokens(app: Arc<App>, headers: HeaderMap) -> Response {
    respond(
        async {
            let username = auth::basic(&app, &headers).await?;
            let tokens = app.store.tokens(&username).await?;
            if tokens.is_empty() {
                return Err(ApiError::not_found(
                    "tokens_not_found",
                    "Tokens does not exist",
                ));
            }
            let now = crate::clock::now();
            let list: serde_json::Map<String, Value> = tokens
                .into_iter()
                .map(|(id, record)| {
                    let mut entry = json!({
                        "jwt_token_description": record.jwt_token_description,
                        "jwt_token_life": record.jwt_token_life,
                        "jwt_token_remaining_life": remaining_life(record.exp, now),
                        "expiry_status": expiry_status(record.exp, now, 0).as_str(),
                    });
                    if let Some(map) = entry.as_object_mut() {
                        last_use_members(map, &record);
                        // Imported tokens say where they were issued ("specter").
                        if let Some(origin) = record.jwt_token_origin {
                            map.insert("jwt_token_origin".into(), Value::String(origin));
                        }
                    }
                    (id, entry)
                })
                .collect();
            Ok(json_response(
                StatusCode::OK,
                &json!({ "message": "Tokens exist", "jwt_tokens": list }),
            ))
        }
        .await,
    )
}

/// `GET /api/v1alpha/token/{id}/`: one of the user's tokens.
pub async fn get_token(id: String, app: Arc<App>, headers: HeaderMap) -> Response {
    respond(
        async {
            let username = auth::basic(&app, &headers).await?;
            let record = app
                .store
                .token(&username, &id)
                .await?
                .ok_or_else(|| ApiError::not_found("token_not_found", TOKEN_NOT_FOUND))?;
            let now = crate::clock::now();
            let mut body = json!({
                "message": "Token exists",
                "jwt_token_description": record.jwt_token_description,
                "jwt_token_life": record.jwt_token_life,
                "jwt_token_life_remaining": remaining_life(record.exp, now),
                "expiry_status": expiry_status(record.exp, now, 0).as_str(),
            });
            if let Some(map) = body.as_object_mut() {
                last_use_members(map, &record);
                if let Some(origin) = record.jwt_token_origin {
                    map.insert("jwt_token_origin".into(), Value::String(origin));
                }
            }
            Ok(json_response(StatusCode::OK, &body))
        }
        .await,
    )
}

/// `DELETE /api/v1alpha/token/{id}/`: deletes (revokes) one of the user's tokens.
pub async fn delete_token(id: String, app: Arc<App>, headers: HeaderMap) -> Response {
    respond(
        async {
            let username = auth::basic(&app, &headers).await?;
            delete_user_token(&app, &username, username.clone(), id).await
        }
        .await,
    )
}

/// Deletes (revokes) `user`'s token `id` and records it in the audit trail with `actor`
/// (the owner, or the administrator who revoked it); the caller has authenticated `actor`
/// and checked that it may. `404 token_not_found` when `user` has no such token.
pub(crate) async fn delete_user_token(
    app: &App,
    actor: &str,
    user: String,
    id: String,
) -> Result<Response, ApiError> {
    let target = Event::token_target(&user, &id);
    let op = Op::DeleteToken {
        user,
        id,
        now: crate::clock::now_secs(),
    };
    match crate::http::metrics::timed_write(app.store.apply(op)).await {
        Ok(true) => {
            crate::http::metrics::METRICS.token_deleted();
            app.audit.event(Kind::TokenDeleted, actor, target);
            Ok(json_response(
                StatusCode::OK,
                &json!({ "message": "Token deleted" }),
            ))
        }
        Ok(false) => Err(ApiError::not_found("token_not_found", TOKEN_NOT_FOUND)),
        Err(err) => Err(err.into()),
    }
}

/// `GET /api/v1alpha/whoami`: the Bearer token's owner and life.
pub async fn whoami(app: Arc<App>, authorization: Option<HeaderValue>) -> Response {
    respond(
        async {
            let bearer = auth::bearer(&app, authorization.as_ref()).await?;
            let claims = &bearer.verified.claims;
            if !scope::allows(
                claims.jwt_token_endpoints.as_ref(),
                "GET",
                "/api/v1alpha/whoami",
            ) {
                return Err(ApiError::insufficient_scope());
            }
            let now = crate::clock::now();
            // A struct rather than `json!`: this is the hottest answer, and it saves a map.
            #[derive(serde::Serialize)]
            struct WhoAmI<'a> {
                username: &'a str,
                jwt_token_id: &'a str,
                jwt_token_description: &'a str,
                jwt_token_life: u64,
                jwt_token_life_remaining: f64,
                expiry_status: &'static str,
            }
            let body = WhoAmI {
                username: &claims.username,
                jwt_token_id: &claims.jwt_token_id,
                jwt_token_description: &claims.jwt_token_description,
                jwt_token_life: claims.life(),
                jwt_token_life_remaining: remaining_life(claims.exp, now),
                expiry_status: expiry_status(claims.exp, now, 0).as_str(),
            };
            Ok(json_bytes(
                StatusCode::OK,
                serde_json::to_vec(&body).unwrap_or_default(),
            ))
        }
        .await,
    )
}

/// `GET|HEAD|POST /api/v1alpha/auth`: forward authentication for a reverse proxy. The
/// forward headers are read first (a request they cannot name exactly is `403
/// forward_headers_refused`, whoever sends it: the refusal says nothing about a token),
/// then the Bearer token (`401`), then its scope for the judged request (`403
/// insufficient_scope`).
pub async fn forward_auth(app: Arc<App>, method: Method, headers: HeaderMap) -> Response {
    respond(
        async {
            let (method, uri) =
                forward::judged_request(app.config.forward_headers, &method, &headers)?;
            let authorization = headers.get(warp::http::header::AUTHORIZATION);
            let bearer = auth::bearer(&app, authorization).await?;
            let claims = &bearer.verified.claims;
            if !scope::allows(claims.jwt_token_endpoints.as_ref(), &method, &uri) {
                return Err(ApiError::insufficient_scope());
            }
            let mut response = json_response(
                StatusCode::OK,
                &json!({ "username": claims.username, "jwt_token_id": claims.jwt_token_id }),
            );
            let out = response.headers_mut();
            if let Ok(value) = HeaderValue::from_str(&claims.username) {
                out.insert("x-auth-user", value);
            }
            if let Ok(value) = HeaderValue::from_str(&claims.jwt_token_id) {
                out.insert("x-auth-token-id", value);
            }
            Ok(response)
        }
        .await,
    )
}

/// `GET /.well-known/jwks.json`: the public keys still verifying (none for HS256), as the
/// store's keyring has them now (the last reading if the store is away).
pub async fn jwks(app: Arc<App>, headers: HeaderMap) -> Response {
    let ring = match app.keys.fresh(app.store.as_ref()).await {
        Ok(ring) => ring,
        Err(err) => {
            tracing::warn!(%err, "cannot read the keyring: the JWKS is the last one read");
            app.keys.current()
        }
    };
    cache::json(&headers, cache::JWKS_MAX_AGE, &ring.jwks)
}

/// `GET /api/v1alpha/revoked`: tokens deleted before their expiry, until they expire.
pub async fn revoked(app: Arc<App>, headers: HeaderMap) -> Response {
    respond(
        async {
            let now = crate::clock::now_secs();
            let list = app.store.revoked(now).await?;
            let revoked: Vec<Value> = list
                .into_iter()
                .map(|(id, exp)| json!({ "jwt_token_id": id, "exp": exp }))
                .collect();
            Ok(cache::json(
                &headers,
                cache::REVOKED_MAX_AGE,
                &json!({ "message": "Revoked tokens", "revoked": revoked }),
            ))
        }
        .await,
    )
}

/// `GET /api/healthz/liveness`.
pub async fn liveness() -> Response {
    json_response(StatusCode::OK, &json!({ "message": "i am alive" }))
}

/// `GET /api/healthz/readyness`: ready while the store answers.
pub async fn readyness(app: Arc<App>) -> Response {
    match app.store.ready().await {
        Ok(_) => json_response(StatusCode::OK, &json!({ "message": "i am ready" })),
        Err(err) => ApiError::from(err).into_response(),
    }
}
