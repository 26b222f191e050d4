//! Tokens issued by Specter Desktop, for a server that took over a Specter node
//! (`tokenlife import-specter`) and for edges that verify them.
//!
//! Specter (`User.generate_jwt_token`) signs with PyJWT, HS256 under its `SECRET_KEY`, the
//! header `{"alg":"HS256","typ":"JWT"}` and the claims `username`, `jwt_token_id`,
//! `jwt_token_description`, `exp` and `iat` (whole seconds: PyJWT turns its datetimes into
//! integers). It writes no `iss`, `sub` or `jti`. A verifier built by
//! [`crate::Verifier::specter_hs256`] reads exactly that claim set: the four names are
//! required, `iat` is optional, and a token carrying `iss`, `sub` or `jti` is not one of
//! Specter's (`claim_mismatch`), so that a token laid out as tokenlife's never passes as a
//! Specter one.

use std::borrow::Cow;

use crate::claims::mismatch;
use crate::json;
use crate::{ClaimsRef, Error};

/// Reads Specter's claim set from a payload's JSON text. The returned claims carry
/// `sub` = `username`, `jti` = `jwt_token_id` and an empty `iss`, so that callers read
/// them as any token's; `iat` is `exp` when the token has none (a life of 0).
pub(crate) fn read_claims(text: &str) -> Result<ClaimsRef<'_>, Error> {
    let (mut username, mut jwt_token_id, mut jwt_token_description) = (None, None, None);
    let (mut iat, mut exp, mut nbf, mut aud) = (None, None, None, None);
    let mut foreign: Option<&'static str> = None;
    let mut reader = json::Reader::new(text);
    let read = reader.object(|r, name| match &*name {
        "username" => json::once(&mut username, "username", r.text("username")?),
        "jwt_token_id" => json::once(&mut jwt_token_id, "jwt_token_id", r.text("jwt_token_id")?),
        "jwt_token_description" => json::once(
            &mut jwt_token_description,
            "jwt_token_description",
            r.text("jwt_token_description")?,
        ),
        "iat" => json::once(&mut iat, "iat", r.whole("iat")?),
        "exp" => json::once(&mut exp, "exp", r.whole("exp")?),
        "nbf" => json::once(&mut nbf, "nbf", r.or_null(|r| r.whole("nbf"))?),
        "aud" => json::once(&mut aud, "aud", r.skip()?),
        "iss" | "sub" | "jti" => {
            let claim = match &*name {
                "iss" => "iss",
                "sub" => "sub",
                _ => "jti",
            };
            foreign.get_or_insert(claim);
            r.skip().map(drop)
        }
        _ => r.skip().map(drop),
    });
    let malformed = |fault: json::Fault| Error::malformed(format!("claims: {fault}"));
    read.map_err(malformed)?;
    reader.end().map_err(malformed)?;
    if let Some(claim) = foreign {
        return Err(mismatch(
            claim,
            format!("a Specter token has no \"{claim}\" (a verifier of Specter tokens)"),
        ));
    }
    let username: Cow<'_, str> = json::required(username, "username").map_err(malformed)?;
    let jwt_token_id: Cow<'_, str> =
        json::required(jwt_token_id, "jwt_token_id").map_err(malformed)?;
    let jwt_token_description =
        json::required(jwt_token_description, "jwt_token_description").map_err(malformed)?;
    let exp = json::required(exp, "exp").map_err(malformed)?;
    Ok(ClaimsRef {
        sub: username.clone(),
        jti: jwt_token_id.clone(),
        username,
        jwt_token_id,
        jwt_token_description,
        iat: iat.unwrap_or(exp),
        exp,
        iss: Cow::Borrowed(""),
        jwt_token_endpoints: None,
        nbf: nbf.flatten(),
    })
}

#[cfg(test)]
mod tests;
