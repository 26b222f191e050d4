//! The application's shared state: what a server is configured with ([`Config`]) and
//! everything a request may need ([`App`]), built once by `tokenlife serve` and handed to
//! [`crate::routes`]. It sits below the HTTP layer (routes, handlers, authentication) and
//! above the store and core: it imports nothing from the crate root.

use std::sync::Arc;

use tokenlife_core::Life;

use crate::auth::{Passwords, SpecterKey, VerifiedTokens};
use crate::store::Store;
use crate::store::last_use::Recorder as LastUse;
use crate::store::throttle::Throttle;

/// The forward headers a server reads (`tokenlife serve --forward-headers`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ForwardHeaders {
    /// nginx `auth_request`: only `X-Original-Method` and `X-Original-URI`, both required.
    Nginx,
    /// Traefik `forwardAuth`: only `X-Forwarded-Method` and `X-Forwarded-Uri`, both
    /// required.
    Traefik,
    /// Either family; where both are present they must name the same method and URI.
    /// With no forward header at all, the auth request itself is judged.
    #[default]
    Any,
}

/// What a server is configured with.
#[derive(Debug, Clone)]
pub struct Config {
    /// The `iss` of every token, checked on every Bearer token.
    pub issuer: String,
    /// The longest life a token may be given.
    pub max_life: Life,
    /// The forward headers `/api/v1alpha/auth` reads.
    pub forward_headers: ForwardHeaders,
    /// The policy new tokens are held to (`--max-tokens-per-user`, `--require-scopes`).
    pub policy: Policy,
}

/// The deployment's policy for new tokens, beside the maximum life.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Policy {
    /// The most unexpired tokens a user may hold; `None` for no limit.
    pub max_tokens_per_user: Option<u32>,
    /// Whether a new token must carry `jwt_token_endpoints`.
    pub require_scopes: bool,
}

/// Everything a request may need, shared by all of them.
pub struct App {
    /// The configuration.
    pub config: Config,
    /// Users and token records.
    pub store: Arc<dyn Store>,
    /// The keyring: the signing key and every key still verifying, followed as other
    /// processes rotate and retire keys.
    pub keys: crate::secrets::Keys,
    /// Password checks, their cache and this process's throttle.
    pub passwords: Passwords,
    /// Bearer tokens already verified.
    pub verified: VerifiedTokens,
    /// Specter's key, verifying the tokens an import brought (`import-specter`).
    pub specter: SpecterKey,
    /// The uses of tokens waiting to be written (`store::last_use`).
    pub last_use: Arc<LastUse>,
    /// The audit trail's writer: `app.audit.event(kind, actor, target)`.
    pub audit: crate::audit::Audit,
}

impl App {
    /// The sign-in throttle: the store's when several servers share it (so that a guesser
    /// cannot spread guesses over the servers), this process's otherwise. The one place
    /// that tells the two apart; both are given the time by their caller.
    pub fn throttle(&self) -> &dyn Throttle {
        match self.store.shared_throttle() {
            Some(shared) => shared,
            None => self.passwords.local_throttle(),
        }
    }
}
