// tokenlife/fresh: a Verifier kept fresh from a tokenlife server's public documents,
// `/.well-known/jwks.json` (the keys) and `/api/v1alpha/revoked` (the revoked token ids).
//
// No timers: a document is checked again when a verify finds it older than its interval,
// and that verify waits for the answer, so a revocation is honoured at most `revokedEvery`
// seconds after the server made it (plus any HTTP cache's max-age in between). Every check
// after the first sends `If-None-Match` with the server's `ETag`, and a `304` keeps what is
// held. An unknown `kid` asks for the keys again at once, at most every `unknownKeyEvery`
// seconds. A failed check keeps the last good document for `maxStale` seconds more, then
// verify fails closed with `FreshError` code `stale`.
//
// The rules themselves (signature, claims, expiry, the revoked set) are the package's
// Verifier's, that is core's: this module only fetches and holds the documents.
import { Verifier } from './tokenlife.js';

const BRAND = Symbol.for('tokenlife.FreshError');

/**
 * What this module throws for a document it could not get or use. As for TokenlifeError,
 * `instanceof FreshError` checks a brand registered with `Symbol.for`, so it holds across
 * the ES module and the CommonJS copy (fresh.cjs) of this module.
 */
export class FreshError extends Error {
  constructor(code, message, options) {
    super(message, options);
    this.name = 'FreshError';
    this.code = code;
  }

  static [Symbol.hasInstance](value) {
    return typeof value === 'object' && value !== null && value[BRAND] === true;
  }
}
Object.defineProperty(FreshError.prototype, BRAND, { value: true });

const defaults = {
  jwksEvery: 300,
  revokedEvery: 30,
  unknownKeyEvery: 10,
  maxStale: 60,
  retryEvery: 5,
  timeout: 10,
};

function seconds(options, name) {
  const value = options[name] ?? defaults[name];
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new TypeError(`\`${name}\` must be a number of seconds, 0 or more`);
  }
  return value;
}

/**
 * A verifier for the tokens of the tokenlife server at `url`, with its keys and revoked
 * list fetched now and kept fresh; resolves once both are held.
 */
export async function freshVerifier(options) {
  const fresh = new FreshVerifier(options);
  await fresh.refresh();
  return fresh;
}

/** One document of the server, as last fetched. */
class Document {
  constructor(url, every, build) {
    this.url = url;
    this.every = every;
    this.build = build;
    this.value = undefined;
    this.etag = null;
    this.confirmedAt = -Infinity; // the server last said (200 or 304) that this is current
    this.attemptedAt = -Infinity; // the last request, answered or not
    this.inflight = undefined;
    this.error = undefined; // why the last request failed
  }
}

export class FreshVerifier {
  #fetch;
  #clock;
  #secret;
  #verifyDefaults;
  #unknownKeyEvery;
  #maxStale;
  #retryEvery;
  #timeout;
  #jwks;
  #revoked;
  #freed = false;

  constructor(options) {
    if (options === null || typeof options !== 'object') {
      throw new TypeError('freshVerifier takes an options object with `url`');
    }
    const { url, secret, fetch: fetchFn, clock, issuer, leeway } = options;
    if (!(typeof url === 'string' || url instanceof URL)) {
      throw new TypeError('`url` must be the server\'s base URL, a string or URL');
    }
    // Relative to a base that ends in `/`, so a server under a path prefix keeps it.
    let base;
    try {
      base = new URL(url);
    } catch {
      throw new TypeError(`\`url\` is not a URL: ${String(url)}`);
    }
    if (!base.pathname.endsWith('/')) base.pathname += '/';
    if (fetchFn !== undefined && typeof fetchFn !== 'function') throw new TypeError('`fetch` must be a function');
    if (clock !== undefined && typeof clock !== 'function') throw new TypeError('`clock` must be a function returning Unix seconds');
    if (!(secret === undefined || typeof secret === 'string' || secret instanceof Uint8Array)) {
      throw new TypeError('`secret` must be a string or a Uint8Array');
    }
    if (!(issuer === undefined || typeof issuer === 'string')) throw new TypeError('`issuer` must be a string');
    // Called as a plain function: some runtimes refuse `fetch` with another `this`.
    const globalFetch = globalThis.fetch;
    this.#fetch = fetchFn ?? ((input, init) => globalFetch(input, init));
    this.#clock = clock ?? (() => Date.now() / 1000);
    this.#verifyDefaults = { issuer, leeway };
    this.#unknownKeyEvery = seconds(options, 'unknownKeyEvery');
    this.#maxStale = seconds(options, 'maxStale');
    this.#retryEvery = seconds(options, 'retryEvery');
    this.#timeout = seconds(options, 'timeout');
    this.#secret = secret;
    this.#revoked = new Document(new URL('api/v1alpha/revoked', base), seconds(options, 'revokedEvery'), revokedSet);
    this.#jwks = new Document(new URL('.well-known/jwks.json', base), seconds(options, 'jwksEvery'), keySet);
    if (secret !== undefined) {
      // HS256: the key is the secret, the server publishes none; only revocations are fetched.
      this.#jwks.value = Verifier.fromSecret(secret);
      this.#jwks.confirmedAt = Infinity;
    }
  }

  /**
   * Verifies `token` with the keys and revoked ids held, fetching first whatever is due.
   * Rejects with the package's error (`code`: `expired`, `revoked`, `unknown_key`, ...)
   * for a bad token, and with a `FreshError` when the documents are too old to trust.
   */
  async verify(token, options) {
    if (!(options === undefined || options === null || typeof options === 'object')) {
      throw new TypeError('verify options must be an object');
    }
    if (this.#freed) throw new FreshError('stale', 'this verifier was freed');
    await Promise.all([this.#due(this.#jwks), this.#due(this.#revoked)]);
    try {
      return this.#verifyNow(token, options);
    } catch (err) {
      if (err?.code !== 'unknown_key' || this.#secret !== undefined) throw err;
      // A kid the held keys do not know: perhaps a key the server has since added.
      // A fetch under way is joined; otherwise one is made unless one was made lately.
      const jwks = this.#jwks;
      if (jwks.inflight === undefined && this.#clock() - jwks.attemptedAt < this.#unknownKeyEvery) throw err;
      const held = jwks.value;
      try {
        await this.#fetchDocument(jwks);
      } catch {
        throw err;
      }
      if (jwks.value === held) throw err;
      return this.#verifyNow(token, options);
    }
  }

  /** Fetches both documents now, whatever their age (with `If-None-Match`). */
  async refresh() {
    if (this.#freed) throw new FreshError('stale', 'this verifier was freed');
    const documents = this.#secret === undefined ? [this.#jwks, this.#revoked] : [this.#revoked];
    await Promise.all(documents.map((document) => this.#fetchDocument(document)));
  }

  /** What is held: each document's `ETag`, when the server last confirmed it, its size. */
  get state() {
    const describe = (document) => ({
      etag: document.etag,
      confirmedAt: Number.isFinite(document.confirmedAt) ? document.confirmedAt : null,
      error: document.error ?? null,
    });
    return {
      jwks: this.#secret === undefined ? describe(this.#jwks) : null,
      revoked: { ...describe(this.#revoked), count: this.#revoked.value?.size ?? 0 },
    };
  }

  /** Releases the wasm key early; the verifier cannot be used after it. */
  free() {
    this.#freed = true;
    this.#jwks.value?.free();
    this.#jwks.value = undefined;
    this.#revoked.value = undefined;
  }

  #verifyNow(token, options) {
    const verifier = this.#jwks.value;
    const revoked = this.#revoked.value;
    if (verifier === undefined || revoked === undefined) {
      throw new FreshError('stale', 'this verifier was freed');
    }
    return verifier.verify(token, {
      now: options?.now ?? this.#clock(),
      leeway: options?.leeway ?? this.#verifyDefaults.leeway,
      issuer: options?.issuer ?? this.#verifyDefaults.issuer,
      revoked,
    });
  }

  /** Makes `document` current enough to verify with, or throws `stale`. */
  async #due(document) {
    const now = this.#clock();
    const age = now - document.confirmedAt;
    if (age < document.every) return;
    const failedLately = document.error !== undefined && now - document.attemptedAt < this.#retryEvery;
    if (!failedLately) {
      try {
        await this.#fetchDocument(document);
        return;
      } catch {
        // judged below by age
      }
    }
    if (this.#clock() - document.confirmedAt >= document.every + this.#maxStale) {
      throw new FreshError('stale', `${document.url.href} was last confirmed ${Math.round(age)} s ago and cannot be fetched now (${document.error?.message ?? 'no answer'})`,
        { cause: document.error });
    }
  }

  /** One request for `document`, shared by every caller while it runs. */
  #fetchDocument(document) {
    document.inflight ??= this.#request(document).finally(() => {
      document.inflight = undefined;
    });
    return document.inflight;
  }

  async #request(document) {
    document.attemptedAt = this.#clock();
    try {
      await this.#requestOnce(document);
      document.error = undefined;
    } catch (err) {
      document.error = err;
      throw err;
    }
  }

  async #requestOnce(document) {
    const href = document.url.href;
    const headers = { accept: 'application/json' };
    if (document.etag !== null && document.value !== undefined) headers['if-none-match'] = document.etag;
    let response;
    try {
      const init = { headers };
      if (this.#timeout > 0 && typeof AbortSignal.timeout === 'function') {
        init.signal = AbortSignal.timeout(this.#timeout * 1000);
      }
      response = await this.#fetch(href, init);
    } catch (err) {
      throw new FreshError('fetch_failed', `GET ${href}: ${err?.message ?? err}`, { cause: err });
    }
    if (response.status === 304 && document.value !== undefined) {
      await discard(response);
      document.confirmedAt = this.#clock();
      return;
    }
    if (response.status !== 200) {
      await discard(response);
      throw new FreshError('fetch_failed', `GET ${href}: status ${response.status}`);
    }
    let body;
    try {
      body = JSON.parse(await response.text());
    } catch (err) {
      throw new FreshError('bad_document', `GET ${href}: not JSON (${err?.message ?? err})`, { cause: err });
    }
    let value;
    try {
      value = document.build(body);
    } catch (err) {
      throw new FreshError('bad_document', `GET ${href}: ${err?.message ?? err}`, { cause: err });
    }
    const old = document.value;
    document.value = value;
    document.etag = response.headers.get('etag');
    document.confirmedAt = this.#clock();
    if (old !== value && typeof old?.free === 'function') old.free();
  }
}

async function discard(response) {
  try {
    await response.body?.cancel();
  } catch {
    // nothing was held
  }
}

/** The keys of a JWKS document as a Verifier. */
function keySet(body) {
  if (body === null || typeof body !== 'object' || !Array.isArray(body.keys)) {
    throw new Error('not a JWKS: no `keys` array');
  }
  if (body.keys.length === 0) {
    throw new Error('the JWKS has no keys: an HS256 server publishes none, give `secret` instead');
  }
  return Verifier.fromJwks(body);
}

/** The ids of a `/api/v1alpha/revoked` document, as a Set. */
function revokedSet(body) {
  if (body === null || typeof body !== 'object' || !Array.isArray(body.revoked)) {
    throw new Error('not a revoked list: no `revoked` array');
  }
  const ids = new Set();
  for (const entry of body.revoked) {
    if (typeof entry?.jwt_token_id !== 'string') throw new Error('a revoked entry without a `jwt_token_id` string');
    ids.add(entry.jwt_token_id);
  }
  return ids;
}
