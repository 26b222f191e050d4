//! The administrators' endpoints (`/api/v1alpha/admin/...`): every user's tokens, and
//! revoking any of them. Only a user the store marks `is_admin` passes ([`auth::admin`]);
//! anyone else is answered `403 forbidden`.

use std::sync::Arc;

use serde_json::{Value, json};
use tokenlife_core::{expiry_status, remaining_life};
use warp::http::{HeaderMap, StatusCode};
use warp::reply::Response;

use super::{delete_user_token, respond};
use crate::app::App;
use crate::auth;
use crate::http::api_error::{ApiError, json_response};

/// `GET /api/v1alpha/admin/tokens[?user=NAME]`: every user's tokens (or one user's), as a
/// list by username then id, each with its username and last use. Not paged: one answer holds them all,
/// and `?user=` narrows it; an unknown user is `404 user_not_found`. Other query
/// parameters are refused (`400 invalid_query`).
pub async fn list_tokens(
    app: Arc<App>,
    headers: HeaderMap,
    query: Vec<(String, String)>,
) -> Response {
    respond(
        async {
            auth::admin(&app, &headers).await?;
            let mut only = None;
            for (name, value) in query {
                match name.as_str() {
                    "user" if only.is_none() => only = Some(value),
                    _ => {
                        return Err(ApiError::bad_request(
                            "invalid_query",
                            "The only query parameter is user, given once.",
                        ));
                    }
                }
            }
            let tokens = match only {
                Some(user) => {
                    let known = app.store.users().await?.iter().any(|u| u.username == user);
                    if !known {
                        return Err(ApiError::not_found("user_not_found", "No such user."));
                    }
                    app.store
                        .tokens(&user)
                        .await?
                        .into_iter()
                        .map(|(id, record)| (user.clone(), id, record))
                        .collect()
                }
                None => app.store.all_tokens().await?,
            };
            let now = crate::clock::now();
            let list: Vec<Value> = tokens
                .into_iter()
                .map(|(username, id, record)| {
                    let mut entry = json!({
                        "username": username,
                        "jwt_token_id": id,
                        "jwt_token_description": record.jwt_token_description,
                        "jwt_token_life": record.jwt_token_life,
                        "jwt_token_remaining_life": remaining_life(record.exp, now),
                        "expiry_status": expiry_status(record.exp, now, 0).as_str(),
                    });
                    if let Some(map) = entry.as_object_mut() {
                        super::last_use_members(map, &record);
                        if let Some(endpoints) = record.jwt_token_endpoints {
                            map.insert("jwt_token_endpoints".into(), json!(endpoints));
                        }
                        if let Some(origin) = record.jwt_token_origin {
                            map.insert("jwt_token_origin".into(), Value::String(origin));
                        }
                    }
                    entry
                })
                .collect();
            Ok(json_response(
                StatusCode::OK,
                &json!({ "message": "Tokens of every user", "jwt_tokens": list }),
            ))
        }
        .await,
    )
}

/// `DELETE /api/v1alpha/admin/token/{user}/{id}`: deletes (revokes) any user's token, as
/// its owner's delete does.
pub async fn delete_token(user: String, id: String, app: Arc<App>, headers: HeaderMap) -> Response {
    respond(
        async {
            let admin = auth::admin(&app, &headers).await?;
            // The administrator is the actor; the target names the owner.
            delete_user_token(&app, &admin, user, id).await
        }
        .await,
    )
}
