/* tslint:disable */
/* eslint-disable */

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

/** What the package throws: a real `Error` whose `code` says what went wrong. */
export interface TokenlifeError extends Error {
    code: ErrorCode;
}

/** `"Valid"` while the remaining life is above zero, `"Expired"` from `exp` on. */
export type ExpiryStatus = "Valid" | "Expired";

/** Options of `inspect`. */
export interface InspectOptions {
    /** The time to judge the token at, Unix seconds (fractions allowed); the host's clock when absent. */
    now?: number;
    /** Whole seconds of grace after `exp` before `expiry_status` says `"Expired"`; 0 when absent. */
    leeway?: number;
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
    max?: string | number;
}

/** Options of `Verifier.verify`. */
export interface VerifyOptions {
    /** The time of the check, Unix seconds (fractions allowed); the host's clock when absent. */
    now?: number;
    /** Whole seconds of grace after `exp` and before `nbf`; 0 when absent. */
    leeway?: number;
    /** The `iss` the token must carry. */
    issuer?: string;
    /** Token ids to refuse with `revoked`. */
    revoked?: Revoked;
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



/**
 * Verifies tokens against an HS256 secret or a JWKS document. Build it once and reuse
 * it: the key is decoded (and the HMAC state precomputed) when it is built.
 *
 * Each key is pinned to its algorithm: an HS256 secret never verifies an EdDSA token
 * nor the reverse, and `alg: none` never verifies.
 */
export class Verifier {
    free(): void;
    [Symbol.dispose](): void;
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
     * A verifier for HS256 tokens signed with `secret`: a string (its UTF-8 bytes, as
     * `jose` and `jsonwebtoken` take it) or raw bytes.
     *
     * @throws {TokenlifeError} `unknown_key` for an empty secret.
     */
    static fromSecret(secret: string | Uint8Array): Verifier;
    /**
     * A verifier from `{ secret }` (HS256), `{ jwks }` (a JWKS document, as an object or
     * as JSON text), a JWKS object itself (`{ keys: [...] }`), or a bare secret (a string,
     * used as its UTF-8 bytes, or a `Uint8Array`).
     *
     * @throws {TokenlifeError} `unknown_key` when the key is unusable (an empty secret, a
     * JWKS without an Ed25519 or HS256 signing key).
     * @throws {TypeError} when `key` is none of the above.
     */
    constructor(key: VerifierKey);
    /**
     * Verifies `token` and returns its claims.
     *
     * The checks, in order: the token's form and header; its key by `kid`
     * (`unknown_key`); the header's `alg` against that key (`alg_not_allowed`); the
     * signature (`bad_signature`); the claims (`malformed`, `claim_mismatch`); `exp`, the
     * token being refused from `exp` on unless a `leeway` is given (`expired`); `nbf`
     * (`not_yet_valid`); the `issuer` (`claim_mismatch`); the `revoked` ids (`revoked`).
     *
     * @throws {TokenlifeError} the first check that fails, with its `code`.
     */
    verify(token: string, options?: VerifyOptions | null): Claims;
}

/**
 * A token's JOSE header and claims as they are, for showing a token to a person. Nothing
 * is checked but the form: not the signature, not the times, not the claims.
 *
 * @throws {TokenlifeError} `malformed` when a part is not base64url JSON.
 */
export function decode(token: string): Decoded;

/**
 * Writes seconds the way lives are shown (`360` → `"6m"`, `259200` → `"3days"`,
 * `0` → `"0s"`). A fraction is dropped, so a remaining life shows its whole seconds.
 *
 * @throws {TokenlifeError} `bad_life` for a negative number, `NaN` or an infinity.
 */
export function formatLife(seconds: number): string;

/**
 * Reads a token's claims and its life at `now` **without checking its signature**:
 * anyone can make a token that inspects well. Use `Verifier.verify` to trust a token.
 *
 * @throws {TokenlifeError} `malformed` when `token` is not a JWS compact token whose
 * claims have integer `iat` and `exp`.
 */
export function inspect(token: string, options?: InspectOptions | null): Inspection;

/**
 * Parses a life as a person writes it ("6 minutes", "1h30m", "1.5 hours", "3600") into
 * whole seconds. A number is taken as seconds, as a JSON integer is. With `max`, a longer
 * life is refused, as the server refuses lives over its maximum.
 *
 * @throws {TokenlifeError} `bad_life`, with a message saying why.
 */
export function parseLife(life: string | number, options?: ParseLifeOptions | null): number;

/**
 * The token's remaining life at `now` (the host's clock when absent), in seconds:
 * `max(0, exp - now)`, fractional when `now` is. The signature is not checked.
 *
 * @throws {TokenlifeError} `malformed` as `inspect` does.
 */
export function remainingLife(token: string, now?: number | null): number;

export type InitInput = RequestInfo | URL | Response | BufferSource | WebAssembly.Module;

export interface InitOutput {
    readonly memory: WebAssembly.Memory;
    readonly __wbg_verifier_free: (a: number, b: number) => void;
    readonly decode: (a: any) => [number, number, number];
    readonly formatLife: (a: number) => [number, number, number, number];
    readonly inspect: (a: any, b: number) => [number, number, number];
    readonly parseLife: (a: any, b: number) => [number, number, number];
    readonly remainingLife: (a: any, b: number, c: number) => [number, number, number];
    readonly verifier_fromJwks: (a: any) => [number, number, number];
    readonly verifier_fromSecret: (a: any) => [number, number, number];
    readonly verifier_new: (a: any) => [number, number, number];
    readonly verifier_verify: (a: number, b: any, c: number) => [number, number, number];
    readonly wireError: () => any;
    readonly wireInput: (a: number) => number;
    readonly wireInspect: (a: number, b: number, c: number) => number;
    readonly wireVerify: (a: number, b: number, c: number, d: number, e: number, f: number) => number;
    readonly __wbindgen_malloc: (a: number, b: number) => number;
    readonly __wbindgen_realloc: (a: number, b: number, c: number, d: number) => number;
    readonly __wbindgen_free: (a: number, b: number, c: number) => void;
    readonly __wbindgen_exn_store: (a: number) => void;
    readonly __externref_table_alloc: () => number;
    readonly __wbindgen_externrefs: WebAssembly.Table;
    readonly __externref_table_dealloc: (a: number) => void;
    readonly __wbindgen_start: () => void;
}

export type SyncInitInput = BufferSource | WebAssembly.Module;

/**
 * Instantiates the given `module`, which can either be bytes or
 * a precompiled `WebAssembly.Module`.
 *
 * @param {{ module: SyncInitInput }} module - Passing `SyncInitInput` directly is deprecated.
 *
 * @returns {InitOutput}
 */
export function initSync(module: { module: SyncInitInput } | SyncInitInput): InitOutput;

/**
 * If `module_or_path` is {RequestInfo} or {URL}, makes a request and
 * for everything else, calls `WebAssembly.instantiate` directly.
 *
 * @param {{ module_or_path: InitInput | Promise<InitInput> }} module_or_path - Passing `InitInput` directly is deprecated.
 *
 * @returns {Promise<InitOutput>}
 */
export default function __wbg_init (module_or_path?: { module_or_path: InitInput | Promise<InitInput> } | InitInput | Promise<InitInput>): Promise<InitOutput>;
