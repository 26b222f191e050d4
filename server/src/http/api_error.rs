//! The one error type of the API and the one place it becomes a response
//! (`{"message", "error"}`), including every rejection warp itself can make. That place,
//! [`ApiError::into_response`], is also the one place that logs the server's own
//! failures ([`Failure`]): the store, signing and the OS random generator.

use std::convert::Infallible;

use warp::http::{HeaderValue, StatusCode, header};
use warp::reply::Response;

use crate::store::StoreError;

/// Specter's message for every authentication failure (SPEC 5.1).
pub const UNAUTHORIZED_MESSAGE: &str = "The server could not verify that you are authorized to access the URL requested. You either supplied the wrong credentials (e.g. a bad password), or your browser doesn't understand how to supply the credentials required.";

/// An error answer: status, stable code, message for people, and extra headers.
#[derive(Debug, Clone)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    headers: Vec<(header::HeaderName, String)>,
    /// The server's own failure behind the answer, logged when the answer is made.
    failure: Option<Failure>,
}

/// A failure of the server rather than of the request, with what the cause said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The store could not be read or written.
    Storage(String),
    /// A token could not be signed.
    Signing(String),
    /// The OS random generator failed.
    Randomness(String),
}

impl Failure {
    /// The log line's text: what failed.
    pub fn what(&self) -> &'static str {
        match self {
            Failure::Storage(_) => "storage failure",
            Failure::Signing(_) => "signing failure",
            Failure::Randomness(_) => "randomness failure",
        }
    }

    /// What the cause said.
    pub fn detail(&self) -> &str {
        match self {
            Failure::Storage(detail) | Failure::Signing(detail) | Failure::Randomness(detail) => {
                detail
            }
        }
    }
}

impl ApiError {
    /// Any status with a code and a message.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
            headers: Vec::new(),
            failure: None,
        }
    }

    /// `400` with a code and a message.
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// `404` with a message.
    pub fn not_found(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, code, message)
    }

    /// `401` for Basic authentication.
    pub fn unauthorized_basic(code: &'static str) -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, code, UNAUTHORIZED_MESSAGE)
            .with_header(header::WWW_AUTHENTICATE, "Basic realm=\"tokenlife\"".into())
    }

    /// `401` for Bearer authentication in RFC 6750's form, always with
    /// `error="invalid_token"` and an `error_description` as SPEC 5.1 asks (also when no
    /// token was sent, where RFC 6750 would leave the error out).
    pub fn unauthorized_bearer(code: &'static str, description: Option<&str>) -> ApiError {
        let text = description.unwrap_or("no bearer token was sent");
        let challenge = format!(
            "Bearer realm=\"tokenlife\", error=\"invalid_token\", error_description=\"{}\"",
            quoted(text)
        );
        ApiError::new(StatusCode::UNAUTHORIZED, code, UNAUTHORIZED_MESSAGE)
            .with_header(header::WWW_AUTHENTICATE, challenge)
    }

    /// `403 insufficient_scope` (SPEC 5.4).
    pub fn insufficient_scope() -> ApiError {
        ApiError::new(
            StatusCode::FORBIDDEN,
            "insufficient_scope",
            "The token is not allowed for this endpoint.",
        )
        .with_header(
            header::WWW_AUTHENTICATE,
            "Bearer realm=\"tokenlife\", error=\"insufficient_scope\"".into(),
        )
    }

    /// `429` with `Retry-After`.
    pub fn too_many_attempts(retry_after: u64) -> ApiError {
        ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_requests",
            format!(
                "Too many failed sign-ins for this user; try again in {retry_after} second{}.",
                if retry_after == 1 { "" } else { "s" }
            ),
        )
        .with_header(header::RETRY_AFTER, retry_after.to_string())
    }

    /// `503` for a failure of the server itself (the store, signing, the random
    /// generator), logged as what it is when the answer is made. The client is told to
    /// try again later, in the same words whatever failed.
    pub fn failure(failure: Failure) -> ApiError {
        let mut error = ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "storage_unavailable",
            "The server cannot reach its storage right now; try again later.",
        );
        error.failure = Some(failure);
        error
    }

    /// The server's own failure behind this answer, if there is one.
    pub fn cause(&self) -> Option<&Failure> {
        self.failure.as_ref()
    }

    /// The status this error answers with.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The stable code.
    pub fn code(&self) -> &'static str {
        self.code
    }

    fn with_header(mut self, name: header::HeaderName, value: String) -> ApiError {
        self.headers.push((name, value));
        self
    }

    /// The response: `{"message", "error"}` with the status and headers; the one place
    /// where a failure of the server is logged.
    pub fn into_response(self) -> Response {
        if let Some(failure) = &self.failure {
            tracing::error!(error = failure.detail(), "{}", failure.what());
        }
        let body = serde_json::json!({ "message": self.message, "error": self.code });
        let mut response = json_response(self.status, &body);
        for (name, value) in self.headers {
            if let Ok(value) = HeaderValue::from_str(&value) {
                response.headers_mut().insert(name, value);
            }
        }
        response
    }
}

/// Every store error the handlers do not answer in their own words is the store failing:
/// `503`. (A duplicate description or an unknown user are answered by the handler that
/// can meet them.)
impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> ApiError {
        ApiError::failure(Failure::Storage(err.to_string()))
    }
}

/// A JSON response with a status.
pub fn json_response(status: StatusCode, body: &serde_json::Value) -> Response {
    json_bytes(
        status,
        serde_json::to_vec(body).unwrap_or_else(|_| b"{}".to_vec()),
    )
}

/// A response with a status and an already serialised JSON body.
pub fn json_bytes(status: StatusCode, bytes: Vec<u8>) -> Response {
    let mut response = Response::new(bytes.into());
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// Turns every rejection warp can produce into a JSON answer, so that no input becomes a
/// `500` or an empty body.
pub async fn recover(rejection: warp::Rejection) -> Result<Response, Infallible> {
    let error = if rejection.is_not_found() {
        ApiError::not_found("not_found", "Not found")
    } else if rejection.find::<warp::reject::MethodNotAllowed>().is_some() {
        ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "Method not allowed",
        )
    } else if rejection.find::<warp::reject::PayloadTooLarge>().is_some() {
        payload_too_large()
    } else if rejection
        .find::<warp::reject::UnsupportedMediaType>()
        .is_some()
    {
        unsupported_media_type()
    } else if let Some(err) = rejection.find::<warp::reject::InvalidHeader>() {
        ApiError::bad_request("invalid_header", err.to_string())
    } else if let Some(err) = rejection.find::<warp::reject::MissingHeader>() {
        ApiError::bad_request("missing_header", err.to_string())
    } else if rejection.find::<warp::reject::InvalidQuery>().is_some() {
        ApiError::bad_request("invalid_query", "Invalid query string")
    } else if rejection.find::<warp::reject::LengthRequired>().is_some() {
        ApiError::new(
            StatusCode::LENGTH_REQUIRED,
            "length_required",
            "A Content-Length is required",
        )
    } else {
        tracing::warn!(?rejection, "unexpected rejection");
        ApiError::bad_request("bad_request", "Bad request")
    };
    Ok(error.into_response())
}

/// Gives a `405` the `Allow` header RFC 9110 requires: the methods the path serves (the
/// rejection that made the `405` does not know its path, so this runs after [`recover`]).
pub fn with_allow(mut response: Response, path: warp::path::FullPath) -> Response {
    if response.status() == StatusCode::METHOD_NOT_ALLOWED {
        response.headers_mut().insert(
            header::ALLOW,
            HeaderValue::from_static(allowed(path.as_str())),
        );
    }
    response
}

/// The methods a path is served with, as the routes of `lib.rs` (and
/// `docs/openapi.json`, which the end-to-end tests hold to the answers) list them.
fn allowed(path: &str) -> &'static str {
    let path = path.strip_suffix('/').unwrap_or(path);
    match path.strip_prefix("/api/v1alpha/") {
        Some("token") => "GET, POST",
        Some(rest) if rest.starts_with("token/") && rest.ends_with("/regenerate") => "POST",
        Some(rest) if rest.starts_with("token/") => "GET, DELETE",
        Some(rest) if rest.starts_with("admin/token/") => "DELETE",
        Some("auth") => "GET, HEAD, POST",
        Some(_) => "GET",
        None if path.starts_with("/api/") || path.starts_with("/.well-known/") => "GET",
        // The page and the package.
        None => "GET, HEAD",
    }
}

/// `413` for bodies over 64 KiB.
pub fn payload_too_large() -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        "The request body is larger than 64 KiB.",
    )
}

/// `415` for bodies that are not JSON.
pub fn unsupported_media_type() -> ApiError {
    ApiError::new(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
        "The request body must be JSON (Content-Type: application/json).",
    )
}

/// Text safe inside a quoted-string of a header.
fn quoted(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c == '"' || c == '\\' || c.is_control() || !c.is_ascii() {
                '\''
            } else {
                c
            }
        })
        .collect()
}

#[cfg(test)]
mod tests;
