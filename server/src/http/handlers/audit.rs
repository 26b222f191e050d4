//! `GET /api/v1alpha/audit`: the audit trail, newest first, for administrators only.

use std::sync::Arc;

use serde_json::{Value, json};
use tokenlife_core::Life;
use warp::http::{HeaderMap, StatusCode};
use warp::reply::Response;

use crate::app::App;
use crate::audit::{Cursor, Query};
use crate::auth;
use crate::http::api_error::{ApiError, json_response};

/// Events in a page when `limit` is not given.
pub const DEFAULT_LIMIT: usize = 100;
/// The most events a page may ask for.
pub const MAX_LIMIT: usize = 1000;

/// `GET /api/v1alpha/audit?user=&since=&limit=&before=`: a page of the trail for an
/// administrator (Basic), newest first; `next` is the `before` of the next page, `null`
/// on the last.
pub async fn list(app: Arc<App>, headers: HeaderMap, params: Vec<(String, String)>) -> Response {
    list_inner(&app, &headers, &params)
        .await
        .unwrap_or_else(ApiError::into_response)
}

async fn list_inner(
    app: &App,
    headers: &HeaderMap,
    params: &[(String, String)],
) -> Result<Response, ApiError> {
    auth::admin(app, headers).await?;
    let mut query = read_query(params, crate::clock::now_secs())?;
    // One more than asked tells whether a next page exists.
    let limit = query.limit;
    query.limit = limit + 1;
    let mut events = app.audit.page(query).await?;
    let next = if events.len() > limit {
        events.truncate(limit);
        events.last().map(|event| event.cursor().to_string())
    } else {
        None
    };
    let events: Vec<Value> = events
        .into_iter()
        .map(|event| {
            json!({
                "id": event.id,
                "time": event.time,
                "kind": event.kind.as_str(),
                "actor": event.actor,
                "target": event.target,
                "addr": event.addr,
            })
        })
        .collect();
    Ok(json_response(
        StatusCode::OK,
        &json!({ "message": "Audit events", "events": events, "next": next }),
    ))
}

/// The query's parameters, each at most once; unknown ones are refused.
fn read_query(params: &[(String, String)], now: i64) -> Result<Query, ApiError> {
    let bad = |message: String| ApiError::bad_request("invalid_query", message);
    let mut query = Query {
        limit: DEFAULT_LIMIT,
        ..Query::default()
    };
    let mut seen: Vec<&str> = Vec::new();
    for (name, value) in params {
        if seen.contains(&name.as_str()) {
            return Err(bad(format!("{name} is given twice.")));
        }
        match name.as_str() {
            "user" => {
                if value.is_empty() {
                    return Err(bad("user must not be empty.".into()));
                }
                query.user = Some(value.clone());
            }
            "since" => {
                let life = Life::parse(value).map_err(|err| {
                    bad(format!(
                        "since takes a time back from now such as 1d or 3600: {err}"
                    ))
                })?;
                let back = i64::try_from(life.secs()).unwrap_or(i64::MAX);
                query.since = Some(now.saturating_sub(back));
            }
            "limit" => {
                query.limit = value
                    .parse::<usize>()
                    .ok()
                    .filter(|limit| (1..=MAX_LIMIT).contains(limit))
                    .ok_or_else(|| {
                        bad(format!("limit takes a whole number from 1 to {MAX_LIMIT}."))
                    })?;
            }
            "before" => {
                query.before = Some(Cursor::parse(value).ok_or_else(|| {
                    bad("before takes the next member of a previous page.".into())
                })?);
            }
            other => {
                return Err(bad(format!(
                    "unknown parameter {other}: the audit takes user, since, limit and before."
                )));
            }
        }
        seen.push(name);
    }
    Ok(query)
}
