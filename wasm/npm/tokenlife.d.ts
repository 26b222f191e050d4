// Typings of the npm package `tokenlife` (wasm/npm/tokenlife.d.ts, hand-written). They
// need no DOM, wasm or disposable lib: they compile under `strict` without
// `skipLibCheck` in Node-only (`lib: es2022`, `types: ["node"]`), DOM, `nodenext` and
// `bundler` projects (tests/js/test/typings.test.mjs).

/** The code of every error this package throws for a bad token, key or life (SPEC 6). */
export type ErrorCode =
| "malformed"
| "bad_signature"
| "expired"
| "not_yet_valid"
| "revoked"
| "unknown_key"
| "alg_not_allowed"
| "claim_mismatch"
| "bad_life";


/** `"Valid"` while the remaining life is above zero, `"Expired"` from `exp` on. */
export type ExpiryStatus = "Valid" | "Expired";

/** Options of `inspect`. */
export interface InspectOptions {
  /** The time to judge the token at: a `Date`, or Unix seconds (fractions allowed, below 1e11; more is taken for milliseconds and refused); the host's clock when absent. */
  now?: Now | null;
  /** Whole seconds of grace after `exp` before `expiry_status` says `"Expired"`; 0 when absent. */
  leeway?: number | null;
}

/** What `inspect` reads from a token, without checking its signature. */
export interface Inspection {
  /** The owner (`username`, or `sub` for tokens of other issuers). */
  username: string;
  /** The token id (`jwt_token_id`, or `jti`). */
  jwt_token_id: string;
  /** The description given at creation; empty if the token has none. */
  jwt_token_description: string;
  /** Issued at, Unix seconds. */
  iat: number;
  /** Expires at, Unix seconds. */
  exp: number;
  /** `exp - iat`, seconds. */
  jwt_token_life: number;
  /** `max(0, exp - now)`, seconds (fractional when `now` is). */
  jwt_token_life_remaining: number;
  /** The expiry status at `now`. */
  expiry_status: ExpiryStatus;
}

/** The claims of a verified tokenlife token (SPEC 3). */
export interface Claims {
  /** The owner's username. */
  username: string;
  /** The token id, a UUID v4. */
  jwt_token_id: string;
  /** The description given at creation. */
  jwt_token_description: string;
  /** Issued at, Unix seconds. */
  iat: number;
  /** Expires at, Unix seconds: `iat + life`. */
  exp: number;
  /** The username again, under its RFC 7519 name. */
  sub: string;
  /** The token id again, under its RFC 7519 name. */
  jti: string;
  /** The issuing server's name. */
  iss: string;
  /** Endpoint patterns the token is limited to; absent means everywhere. */
  jwt_token_endpoints?: string[];
  /** Not before, Unix seconds, when the token has it. */
  nbf?: number;
  /** Every other claim the token carries, as JSON gives it. */
  [claim: string]: unknown;
}

/** A token's JOSE header and claims, as JSON, unjudged. */
export interface Decoded {
  header: Record<string, unknown>;
  claims: Record<string, unknown>;
}

/** One entry of the server's `/api/v1alpha/revoked` document. */
export interface RevokedEntry {
  /** The revoked token's id. */
  jwt_token_id: string;
  /** Its `exp`: the server lists it until then. */
  exp?: number;
}

/** The server's `/api/v1alpha/revoked` document. */
export interface RevokedDocument {
  revoked: RevokedEntry[];
}

/** Revoked token ids: a list or `Set` of ids or entries, or the server's document. */
export type Revoked =
| readonly (string | RevokedEntry)[]
| ReadonlySet<string>
| RevokedDocument;

/** Options of `parseLife`. */
export interface ParseLifeOptions {
  /** The longest life allowed, as a life ("1 year") or in seconds. */
  max?: string | number | null;
}

/** Options of `Verifier.verify`. */
export interface VerifyOptions {
  /** The time of the check: a `Date`, or Unix seconds (fractions allowed, below 1e11); the host's clock when absent. */
  now?: Now | null;
  /** Whole seconds of grace after `exp` and before `nbf`; 0 when absent. */
  leeway?: number | null;
  /** The `iss` the token must carry. */
  issuer?: string | null;
  /** Token ids to refuse with `revoked`. */
  revoked?: Revoked | null;
}

/** One key of a JWKS; `OKP`/`Ed25519` and `oct` (HS256) signing keys are used. */
export interface Jwk {
  kty: string;
  kid?: string;
  alg?: string;
  use?: string;
  crv?: string;
  x?: string;
  k?: string;
  [member: string]: unknown;
}

/** A JWKS document, such as a tokenlife server's `/.well-known/jwks.json`. */
export interface Jwks {
  keys: Jwk[];
}

/** What `new Verifier(key)` takes. */
export type VerifierKey =
| { secret: string | Uint8Array }
| { jwks: Jwks | string }
| Jwks
| string
| Uint8Array;

/** A time: a `Date`, or Unix seconds (fractions allowed; 1e11 or more is refused as milliseconds). */
export type Now = Date | number;

/** The longest token the package takes, in characters (256 Ki); a longer one is `malformed`. */
export declare const MAX_TOKEN_LENGTH: number;

/**
 * What the package throws for a bad token, key or life: an `Error` whose `code` says what
 * went wrong. `instanceof TokenlifeError` holds for errors thrown by any copy of the package
 * (ES module and CommonJS alike): it checks a brand, not the class's identity.
 */
export declare class TokenlifeError extends Error {
  constructor(message: string, code: ErrorCode, claims?: Record<string, unknown>);
  readonly name: "TokenlifeError";
  /** The SPEC's code. */
  readonly code: ErrorCode;
  /**
   * The token's claims (as `decode` reads them), for a token refused after its signature
   * was checked: `expired`, `not_yet_valid`, `claim_mismatch`, `revoked`.
   */
  readonly claims?: Record<string, unknown>;
}

/**
 * Verifies tokens against an HS256 secret or a JWKS document. Build it once and reuse
 * it: the key is decoded (and the HMAC state precomputed) when it is built.
 *
 * Each key is pinned to its algorithm: an HS256 secret never verifies an EdDSA token
 * nor the reverse, and `alg: none` never verifies. In runtimes with `Symbol.dispose`, a
 * Verifier is also disposable (`using`); it is not declared here, so that these typings
 * need no `esnext.disposable` lib.
 */
export declare class Verifier {
  /**
   * A verifier from `{ secret }` (HS256), `{ jwks }` (a JWKS document, as an object or
   * as JSON text), a JWKS object itself (`{ keys: [...] }`), or a bare secret (a string,
   * used as its UTF-8 bytes, or a `Uint8Array`).
   *
   * @throws {TokenlifeError} `unknown_key` when the key is unusable (an empty secret, a
   * JWKS without an Ed25519 or HS256 signing key, a key text over 1 MiB).
   * @throws {TypeError} when `key` is none of the above.
   */
  constructor(key: VerifierKey);
  /**
   * A verifier for HS256 tokens signed with `secret`: a string (its UTF-8 bytes, as
   * `jose` and `jsonwebtoken` take it) or raw bytes.
   *
   * @throws {TokenlifeError} `unknown_key` for an empty secret.
   */
  static fromSecret(secret: string | Uint8Array): Verifier;
  /**
   * A verifier for the tokens Specter Desktop issued, for a node moved to tokenlife with
   * `tokenlife import-specter`: HS256 under Specter's `SECRET_KEY` (a string, used as its
   * UTF-8 bytes, or raw bytes) and Specter's claims (`username`, `jwt_token_id`,
   * `jwt_token_description` and `exp` required, `iat` optional). A token carrying `iss`,
   * `sub` or `jti` is not one of Specter's (`claim_mismatch`). The claims returned read
   * as any token's: `sub` is `username`, `jti` is `jwt_token_id`, `iss` is empty, so an
   * `issuer` option refuses every token.
   *
   * @throws {TokenlifeError} `unknown_key` for an empty secret.
   */
  static fromSpecterSecret(secret: string | Uint8Array): Verifier;
  /**
   * A verifier from a JWKS document (`{ keys: [...] }`), as an object or as JSON text,
   * such as a tokenlife server's `/.well-known/jwks.json`. Ed25519 (`OKP`) and HS256
   * (`oct`) signing keys are used; other keys are skipped.
   *
   * @throws {TokenlifeError} `unknown_key` when the document has no usable key or a
   * usable key has bad material.
   */
  static fromJwks(jwks: Jwks | string): Verifier;
  /**
   * Verifies `token` and returns its claims: every claim it carries.
   *
   * The checks, in order: the token's form and header; its key by `kid`
   * (`unknown_key`); the header's `alg` against that key (`alg_not_allowed`); the
   * signature (`bad_signature`); the claims (`malformed`, `claim_mismatch`); `exp`, the
   * token being refused from `exp` on unless a `leeway` is given (`expired`); `nbf`
   * (`not_yet_valid`); the `issuer` (`claim_mismatch`); the `revoked` ids (`revoked`).
   *
   * @throws {TokenlifeError} the first check that fails, with its `code`.
   * @throws {TypeError} for a token that is not a string or options of the wrong type.
   */
  verify(token: string, options?: VerifyOptions | null): Claims;
  /** Releases the key now rather than when the garbage collector finds the Verifier. */
  free(): void;
}

/**
 * A token's JOSE header and claims as they are, for showing a token to a person. Nothing
 * is checked but the form: not the signature, not the times, not the claims.
 *
 * @throws {TokenlifeError} `malformed` when a part is not base64url JSON.
 */
export declare function decode(token: string): Decoded;

/**
 * Writes seconds the way lives are shown (`360` → `"6m"`, `259200` → `"3days"`,
 * `0` → `"0s"`). A fraction is dropped, so a remaining life shows its whole seconds.
 *
 * @throws {TokenlifeError} `bad_life` for a negative number, `NaN`, or more than 2^53 - 1.
 * @throws {TypeError} for anything but a number.
 */
export declare function formatLife(seconds: number): string;

/**
 * Reads a token's claims and its life at `now` **without checking its signature**:
 * anyone can make a token that inspects well. Use `Verifier.verify` to trust a token.
 *
 * @throws {TokenlifeError} `malformed` when `token` is not a JWS compact token whose
 * claims have integer `iat` and `exp`.
 */
export declare function inspect(token: string, options?: InspectOptions | null): Inspection;

/**
 * Parses a life as a person writes it ("6 minutes", "1h30m", "1.5 hours", "3600") into
 * whole seconds, at most 2^53 - 1. A number is taken as seconds, as a JSON integer is.
 * With `max`, a longer life is refused, as the server refuses lives over its maximum.
 *
 * @throws {TokenlifeError} `bad_life`, with a message saying why.
 */
export declare function parseLife(life: string | number, options?: ParseLifeOptions | null): number;

/**
 * The token's remaining life at `now` (the host's clock when absent), in seconds:
 * `max(0, exp - now)`, fractional when `now` is. The signature is not checked.
 *
 * @throws {TokenlifeError} `malformed` as `inspect` does.
 */
export declare function remainingLife(token: string, now?: Now | null): number;

/**
 * Whether the token expires soon at `now` (the host's clock when absent): it has not
 * expired, and at most 7 days or at most a tenth of its life (`exp - iat`) is left. An
 * expired token is not "soon". The signature is not checked.
 *
 * @throws {TokenlifeError} `malformed` as `inspect` does.
 */
export declare function expiresSoon(token: string, now?: Now | null): boolean;

/**
 * Where `init()` gets the .wasm: its URL, a fetch `Response` (or a promise of one), its
 * bytes, or a compiled `WebAssembly.Module`. Typed loosely, so that these typings need no
 * DOM or wasm lib.
 */
export type InitInput = string | URL | ArrayBuffer | ArrayBufferView | object;

/**
 * Instantiates the package. From `tokenlife` (browsers, bundlers) with nothing given, from
 * the .wasm inlined in the package; from `tokenlife/web`, by fetching `tokenlife_bg.wasm`
 * beside the module. The Node entry is ready at import and needs no `init()`.
 */
export default function init(moduleOrPath?: InitInput | { module_or_path: InitInput | PromiseLike<InitInput> }): Promise<void>;

/**
 * Instantiates the package synchronously from a compiled `WebAssembly.Module` (as edge
 * runtimes give `import module from 'tokenlife/tokenlife_bg.wasm'`) or the .wasm's bytes.
 */
export declare function initSync(module: { module: ArrayBuffer | ArrayBufferView | object } | ArrayBuffer | ArrayBufferView | object): void;
