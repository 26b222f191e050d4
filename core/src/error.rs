//! The one error type of core, whose kinds map 1:1 to the SPEC's error codes.

use std::fmt;

use crate::life::LifeError;

/// A failure to read, verify or build a token, or to parse a life.
///
/// The kind is boxed so that `Result<T, Error>` stays one pointer wide on the hot path.
#[derive(Debug, Clone, PartialEq)]
pub struct Error(Box<ErrorKind>);

/// What went wrong, with the context needed to explain it.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The token is not a well-formed JWS compact token with tokenlife's claims.
    Malformed {
        /// What was wrong with it.
        reason: String,
    },
    /// The signature does not match the key.
    BadSignature,
    /// The token ran out at `exp`; `now` is the time it was checked at.
    Expired {
        /// The token's `exp`.
        exp: i64,
        /// The time of the check, Unix seconds.
        now: f64,
    },
    /// The token's `nbf` lies in the future.
    NotYetValid {
        /// The token's `nbf`.
        nbf: i64,
        /// The time of the check, Unix seconds.
        now: f64,
    },
    /// The token's id is in the caller's revoked set.
    Revoked {
        /// The revoked token id.
        id: String,
    },
    /// No key of the verifier matches the token's `kid`.
    UnknownKey {
        /// The `kid` of the token, if it had one.
        kid: Option<String>,
    },
    /// The token's `alg` is not the algorithm its key is pinned to.
    AlgNotAllowed {
        /// The `alg` the token asked for.
        alg: String,
    },
    /// A claim has a value other than the one required.
    ClaimMismatch {
        /// The claim's name.
        claim: &'static str,
        /// What was expected and what was found, for people.
        detail: String,
    },
    /// A life could not be parsed or is out of range.
    BadLife(LifeError),
    /// A key could not be read (bad secret, bad JWK, bad seed).
    BadKey {
        /// What was wrong with it.
        reason: String,
    },
}

impl Error {
    /// The kind of failure, with its context.
    pub fn kind(&self) -> &ErrorKind {
        &self.0
    }

    /// The stable code of the SPEC for this failure (`malformed`, `bad_signature`, ...).
    ///
    /// ```
    /// let err = tokenlife_core::inspect("not a token", 0.0, 0).unwrap_err();
    /// assert_eq!(err.code(), "malformed");
    /// ```
    pub fn code(&self) -> &'static str {
        match &*self.0 {
            ErrorKind::Malformed { .. } => "malformed",
            ErrorKind::BadSignature => "bad_signature",
            ErrorKind::Expired { .. } => "expired",
            ErrorKind::NotYetValid { .. } => "not_yet_valid",
            ErrorKind::Revoked { .. } => "revoked",
            ErrorKind::UnknownKey { .. } => "unknown_key",
            ErrorKind::AlgNotAllowed { .. } => "alg_not_allowed",
            ErrorKind::ClaimMismatch { .. } => "claim_mismatch",
            ErrorKind::BadLife(_) => "bad_life",
            // A bad key is the caller's configuration, not the token's fault; the package
            // reports it under the code its users already handle for unusable keys.
            ErrorKind::BadKey { .. } => "unknown_key",
        }
    }

    pub(crate) fn malformed(reason: impl Into<String>) -> Self {
        ErrorKind::Malformed {
            reason: reason.into(),
        }
        .into()
    }

    pub(crate) fn bad_key(reason: impl Into<String>) -> Self {
        ErrorKind::BadKey {
            reason: reason.into(),
        }
        .into()
    }
}

impl From<ErrorKind> for Error {
    fn from(kind: ErrorKind) -> Self {
        Error(Box::new(kind))
    }
}

impl From<LifeError> for Error {
    fn from(err: LifeError) -> Self {
        ErrorKind::BadLife(err).into()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &*self.0 {
            ErrorKind::Malformed { reason } => write!(f, "malformed token: {reason}"),
            ErrorKind::BadSignature => f.write_str("the token's signature does not match the key"),
            ErrorKind::Expired { exp, .. } => write!(f, "the token expired at {exp}"),
            ErrorKind::NotYetValid { nbf, .. } => write!(f, "the token is not valid before {nbf}"),
            ErrorKind::Revoked { id } => write!(f, "the token {id} has been revoked"),
            ErrorKind::UnknownKey { kid: Some(kid) } => write!(f, "no key with kid \"{kid}\""),
            ErrorKind::UnknownKey { kid: None } => {
                f.write_str("the token names no kid and the key set has several keys")
            }
            ErrorKind::AlgNotAllowed { alg } => {
                write!(f, "algorithm \"{alg}\" is not allowed for this key")
            }
            ErrorKind::ClaimMismatch { claim, detail } => {
                write!(f, "claim \"{claim}\" does not match: {detail}")
            }
            ErrorKind::BadLife(err) => err.fmt(f),
            ErrorKind::BadKey { reason } => write!(f, "unusable key: {reason}"),
        }
    }
}

impl std::error::Error for Error {}
