//! Which request forward authentication judges: the one a reverse proxy names in its
//! headers, read from exactly the header family the operator chose
//! (`--forward-headers`), never a guess between headers a client could have set.
//!
//! nginx's `auth_request` sends `X-Original-Method` and `X-Original-URI` (set by the
//! README's config) but also passes the client's own request headers, so a client can add
//! `X-Forwarded-Uri`; Traefik's `forwardAuth` sends `X-Forwarded-Method` and
//! `X-Forwarded-Uri` and passes the client's other headers, so a client can add
//! `X-Original-URI`. Hence: in `nginx` and `traefik` modes only that proxy's family is
//! read and both its headers are required; in `any` mode both families are read and must
//! agree wherever both speak. Anything present but unreadable is a refusal, never a
//! fall-through to the other family.

use warp::http::{HeaderMap, Method, StatusCode};

use crate::app::ForwardHeaders;
use crate::http::api_error::ApiError;

/// The error code of a request whose forward headers are refused (`403`).
pub const REFUSED: &str = "forward_headers_refused";

/// The request judged when no forward header is sent: the auth request itself.
const OWN_PATH: &str = "/api/v1alpha/auth";

/// One proxy's pair of headers.
struct Family {
    method: &'static str,
    uri: &'static str,
}

const NGINX: Family = Family {
    method: "X-Original-Method",
    uri: "X-Original-URI",
};
const TRAEFIK: Family = Family {
    method: "X-Forwarded-Method",
    uri: "X-Forwarded-Uri",
};

/// The method and URI (origin-form, with its query) that the request asks about.
///
/// # Errors
///
/// `403 forward_headers_refused` naming the header and the problem: a header present but
/// unreadable (not visible ASCII, empty, sent twice), a method that is not an HTTP token,
/// a URI that does not start with `/`, two families that disagree, a method without a URI
/// or a URI without a method, or (in `nginx` and `traefik` modes) a header missing.
pub fn judged_request(
    mode: ForwardHeaders,
    own_method: &Method,
    headers: &HeaderMap,
) -> Result<(String, String), ApiError> {
    let (method, uri) = match mode {
        ForwardHeaders::Nginx => required(&NGINX, mode, headers)?,
        ForwardHeaders::Traefik => required(&TRAEFIK, mode, headers)?,
        ForwardHeaders::Any => {
            let method = agreed(NGINX.method, TRAEFIK.method, headers)?;
            let uri = agreed(NGINX.uri, TRAEFIK.uri, headers)?;
            match (method, uri) {
                (None, None) => return Ok((own_method.as_str().to_owned(), OWN_PATH.into())),
                (Some((method, _)), Some((uri, _))) => (method, uri),
                (Some((_, name)), None) => {
                    return Err(refused(format!(
                        "{name} was sent without X-Original-URI or X-Forwarded-Uri"
                    )));
                }
                (None, Some((_, name))) => {
                    return Err(refused(format!(
                        "{name} was sent without X-Original-Method or X-Forwarded-Method"
                    )));
                }
            }
        }
    };
    Ok((method.to_owned(), uri.to_owned()))
}

/// Both headers of `family`, checked.
fn required<'h>(
    family: &Family,
    mode: ForwardHeaders,
    headers: &'h HeaderMap,
) -> Result<(&'h str, &'h str), ApiError> {
    let missing = |name: &str| {
        refused(format!(
            "{name} is missing: with --forward-headers {}, both {} and {} are required",
            mode_name(mode),
            family.method,
            family.uri
        ))
    };
    let method = checked(family.method, headers)?.ok_or_else(|| missing(family.method))?;
    let uri = checked(family.uri, headers)?.ok_or_else(|| missing(family.uri))?;
    Ok((method, uri))
}

/// The value of whichever of the two headers is present, with its name; both present
/// must be equal.
fn agreed<'h>(
    nginx: &'static str,
    traefik: &'static str,
    headers: &'h HeaderMap,
) -> Result<Option<(&'h str, &'static str)>, ApiError> {
    match (checked(nginx, headers)?, checked(traefik, headers)?) {
        (Some(a), Some(b)) if a != b => Err(refused(format!(
            "{nginx} ({a}) and {traefik} ({b}) disagree: the server judges one request"
        ))),
        (Some(a), _) => Ok(Some((a, nginx))),
        (None, Some(b)) => Ok(Some((b, traefik))),
        (None, None) => Ok(None),
    }
}

/// The header `name` if present, trimmed: once, non-empty, visible ASCII, and a method
/// token or an origin-form URI by its name.
fn checked<'h>(name: &'static str, headers: &'h HeaderMap) -> Result<Option<&'h str>, ApiError> {
    let mut values = headers.get_all(name).iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(refused(format!("{name} was sent more than once")));
    }
    let bytes = value.as_bytes();
    let start = bytes.iter().position(|b| !matches!(b, b' ' | b'\t'));
    let end = bytes.iter().rposition(|b| !matches!(b, b' ' | b'\t'));
    let (Some(start), Some(end)) = (start, end) else {
        return Err(refused(format!("{name} is empty")));
    };
    let trimmed = &bytes[start..=end];
    if !trimmed.iter().all(|b| (0x21..=0x7e).contains(b)) {
        return Err(refused(format!(
            "{name} is not visible ASCII text (no spaces, controls or other bytes)"
        )));
    }
    // Visible ASCII is UTF-8: this never fails.
    let text = std::str::from_utf8(trimmed)
        .map_err(|_| refused(format!("{name} is not visible ASCII text")))?;
    if name.ends_with("Method") {
        if !text.bytes().all(is_tchar) {
            return Err(refused(format!("{name} is not an HTTP method")));
        }
    } else if !text.starts_with('/') {
        return Err(refused(format!(
            "{name} is not a path: it must start with / (origin-form)"
        )));
    }
    Ok(Some(text))
}

/// RFC 9110 `tchar`: the characters of a method.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

fn mode_name(mode: ForwardHeaders) -> &'static str {
    match mode {
        ForwardHeaders::Nginx => "nginx",
        ForwardHeaders::Traefik => "traefik",
        ForwardHeaders::Any => "any",
    }
}

fn refused(message: String) -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        REFUSED,
        format!("forward headers refused: {message}"),
    )
}

#[cfg(test)]
mod tests;
