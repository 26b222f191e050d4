// Typings of `tokenlife/fresh` (fresh.js).
import type { Claims } from './tokenlife.js';

/** Why a document could not be fetched or used. */
export type FreshErrorCode =
  /** The request failed: no answer, a timeout, or a status other than 200 (or 304). */
  | 'fetch_failed'
  /** The answer was not JSON, not the document expected, or its keys are unusable. */
  | 'bad_document'
  /** A document is older than its interval plus `maxStale` and cannot be fetched now, or the verifier was freed. */
  | 'stale';

/** What `tokenlife/fresh` throws for a document it could not get or use. */
export declare class FreshError extends Error {
  readonly name: 'FreshError';
  readonly code: FreshErrorCode;
}

/** What a `fetch` passed in must do: the subset of the standard one this module uses. */
export type FetchLike = (
  url: string,
  init: { headers: Record<string, string>; signal?: AbortSignal },
) => Promise<{
  readonly status: number;
  readonly headers: { get(name: string): string | null };
  readonly body?: { cancel(): Promise<void> } | null;
  text(): Promise<string>;
}>;

/** Options of `freshVerifier`. Intervals are in seconds. */
export interface FreshOptions {
  /** The tokenlife server's base URL; the documents are `.well-known/jwks.json` and `api/v1alpha/revoked` under it. */
  url: string | URL;
  /** An HS256 server's `SECRET_KEY`: used as the key, and the JWKS is not fetched. */
  secret?: string | Uint8Array;
  /** The `iss` every token must carry (the server's `--issuer`, `tokenlife` by default). */
  issuer?: string;
  /** Whole seconds of grace after `exp` and before `nbf`; 0 when absent. */
  leeway?: number;
  /** How old the revoked list may be before a verify fetches it again; 30 by default. */
  revokedEvery?: number;
  /** How old the keys may be before a verify fetches them again; 300 by default. */
  jwksEvery?: number;
  /** The least time between two fetches of the keys caused by unknown `kid`s; 10 by default. */
  unknownKeyEvery?: number;
  /** How long past its interval a document is still used while it cannot be fetched; 60 by default. 0 fails closed at once. */
  maxStale?: number;
  /** The least time between two attempts after a failed fetch; 5 by default. */
  retryEvery?: number;
  /** Seconds before a request is given up; 10 by default, 0 for none. */
  timeout?: number;
  /** The `fetch` to use; the global one by default. */
  fetch?: FetchLike;
  /** The clock, Unix seconds; `Date.now() / 1000` by default. Also the default `now` of verify. */
  clock?: () => number;
}

/** Options of `FreshVerifier.verify`; the revoked ids are always the server's. */
export interface FreshVerifyOptions {
  /** The time of the check, a `Date` or Unix seconds (as the package's verify); the `clock` when absent. */
  now?: number | Date;
  /** Overrides the `leeway` given to `freshVerifier`. */
  leeway?: number;
  /** Overrides the `issuer` given to `freshVerifier`. */
  issuer?: string;
}

/** One held document. */
export interface FreshDocumentState {
  /** The server's `ETag` of what is held, sent as `If-None-Match`. */
  etag: string | null;
  /** When the server last answered 200 or 304 for it, by the `clock`. */
  confirmedAt: number | null;
  /** Why the last fetch failed, or null after a good one. */
  error: FreshError | null;
}

/** A `Verifier` kept fresh from a tokenlife server. */
export declare class FreshVerifier {
  private constructor();
  /**
   * Verifies `token` with the keys and revoked ids held, first fetching any document
   * older than its interval. Rejects with the package's error (its `code`: `expired`,
   * `revoked`, `unknown_key`...) for a bad token, or a `FreshError` (`stale`).
   */
  verify(token: string, options?: FreshVerifyOptions | null): Promise<Claims>;
  /** Fetches both documents now, with `If-None-Match`. */
  refresh(): Promise<void>;
  /** What is held; `jwks` is null with a `secret`. */
  readonly state: {
    jwks: FreshDocumentState | null;
    revoked: FreshDocumentState & { count: number };
  };
  /** Releases the wasm key; later calls reject with `stale`. */
  free(): void;
}

/** Fetches the server's keys and revoked list and resolves to a verifier that keeps them fresh. */
export declare function freshVerifier(options: FreshOptions): Promise<FreshVerifier>;
