// The package's ES module: the whole public API (tokenlife.d.ts) over the wasm-bindgen glue
// (tokenlife_glue.js, generated from wasm/src).
//
// Every argument and option is read and checked HERE, in JavaScript, and only plain
// strings, byte arrays and numbers cross into wasm: a caller's getter, proxy or `toJSON`
// that throws, throws in JavaScript, before wasm is entered, so it cannot leave the
// instance half-unwound (issue 14). Token, life and key texts are capped before they are
// copied, so that wasm memory, which never shrinks, stays small.
//
// `inspect`, `remainingLife` and `Verifier.prototype.verify` write the token into wasm
// memory with one native `TextEncoder.encodeInto` and read their answer from a packed
// record (wasm/src/wire.rs documents its layout), building the result object in one
// literal. No rule of tokens or lives lives here, but two lookups: the `revoked` list
// (core's last check, once the token has passed every other) and the claims of a token
// that carries more than core reads (from `decode`).
import * as glue from './tokenlife_glue.js';

/** The longest token taken, in characters: 256 Ki, four times what a server issues. */
export const MAX_TOKEN_LENGTH = 262_144;
/** The longest life text `parseLife` takes, in characters. */
const MAX_LIFE_LENGTH = 1024;
/** The longest secret or JWKS text a `Verifier` takes, in characters or bytes: 1 MiB. */
const MAX_KEY_LENGTH = 1_048_576;
/** `now` at or past this many seconds (the year 5138) is taken for milliseconds. */
const MILLISECONDS = 1e11;

const BRAND = Symbol.for('tokenlife.TokenlifeError');

/**
 * What the package throws for a bad token, key or life: an `Error` with the SPEC's `code`,
 * and for a token refused after its signature was checked (`expired`, `not_yet_valid`,
 * `claim_mismatch`, `revoked`), its `claims`. `instanceof TokenlifeError` holds for the
 * errors of every copy of the package (ES module and CommonJS, bundled or not): it checks
 * a brand registered with `Symbol.for`, not the class's identity.
 */
export class TokenlifeError extends Error {
  constructor(message, code, claims) {
    super(message);
    this.name = 'TokenlifeError';
    this.code = code;
    if (claims !== undefined) this.claims = claims;
  }

  static [Symbol.hasInstance](value) {
    return typeof value === 'object' && value !== null && value[BRAND] === true;
  }
}
Object.defineProperty(TokenlifeError.prototype, BRAND, { value: true });

let wasm;
let memory;
let data;
let bytes;
// In Node (and Bun), a Buffer over wasm memory reads ASCII text two to three times as fast
// as TextDecoder: with `latin1Slice`, which `buf.toString('latin1', start, end)` calls after
// looking up its encoding by name (a third of the time, for these short texts).
const NodeBuffer = typeof Buffer === 'function' && typeof Buffer.from === 'function'
  && typeof Buffer.prototype.latin1Slice === 'function' ? Buffer : undefined;
let buffer;
let input = { ptr: 0, cap: 0 };
let inputView;
const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { ignoreBOM: true, fatal: true });

function ready(exports) {
  wasm = exports;
  memory = exports.memory;
  bytes = undefined;
}

/**
 * Instantiates the package synchronously from a compiled `WebAssembly.Module` or the
 * bytes of `tokenlife_bg.wasm`: `initSync({ module })` (or the module alone).
 */
export function initSync(module) {
  const given = module !== null && typeof module === 'object' && 'module' in module ? module : { module };
  ready(glue.initSync(given));
}

/**
 * Instantiates the package, by default from `tokenlife_bg.wasm` beside this module;
 * `init({ module_or_path })` (or the URL, Response, bytes or module alone) otherwise.
 */
export default async function init(moduleOrPath) {
  const given = moduleOrPath === undefined
    || (moduleOrPath !== null && typeof moduleOrPath === 'object' && 'module_or_path' in moduleOrPath)
    ? moduleOrPath : { module_or_path: moduleOrPath };
  ready(await glue.default(given));
}

/** Every export starts here: the same clear error for all of them before `init()`. */
function initialised() {
  if (wasm === undefined) {
    throw new Error('tokenlife is not initialised: call init() (or initSync()) first');
  }
}

/** A core error (an `Error` with a `code`) as a `TokenlifeError`; anything else as it is. */
function lift(error, claims) {
  if (error instanceof Error && typeof error.code === 'string') {
    return new TokenlifeError(error.message, error.code, claims);
  }
  return error;
}

/** Runs a glue call, turning core's errors into `TokenlifeError`s. */
function call(f) {
  try {
    return f();
  } catch (error) {
    throw lift(error);
  }
}

function checkToken(token) {
  if (typeof token !== 'string') throw new TypeError('a token is a string');
  if (token.length > MAX_TOKEN_LENGTH) {
    throw new TokenlifeError(
      `a token is at most ${MAX_TOKEN_LENGTH} characters; this one has ${token.length}`, 'malformed');
  }
}

/** The caller's options object, or undefined; anything else is a TypeError. */
function checkOptions(options, what) {
  if (options === undefined || options === null) return undefined;
  if (typeof options !== 'object') throw new TypeError(`the options of ${what} are an object`);
  return options;
}

/** `now` as seconds, NaN for the host's clock (read in wasm, clock.rs). */
function readNow(value) {
  if (value === undefined || value === null) return NaN;
  if (typeof value === 'number' && Number.isFinite(value)) {
    if (Math.abs(value) >= MILLISECONDS) {
      throw new TypeError(`\`now\` is ${value}, which looks like milliseconds: `
        + 'give Unix seconds (Date.now() / 1000) or a Date');
    }
    return value;
  }
  if (value instanceof Date) {
    const ms = value.getTime();
    if (!Number.isFinite(ms)) throw new TypeError('`now` is an invalid Date');
    return ms / 1000;
  }
  throw new TypeError('`now` must be a Date or a finite number of Unix seconds');
}

function readLeeway(value) {
  if (value === undefined || value === null) return 0;
  if (Number.isSafeInteger(value) && value >= 0) return value;
  throw new TypeError('`leeway` must be a whole number of seconds, 0 or more');
}

/**
 * Views of wasm memory, renewed when memory has grown (which detaches the old buffer, and
 * a view of a detached buffer has length 0). `length`, not `byteLength`: in Node 20 a typed
 * array's `byteLength` is a 20 ns call, two of them a fortieth of a verify.
 */
function views() {
  if (bytes === undefined || bytes.length === 0) {
    bytes = new Uint8Array(memory.buffer);
    data = new DataView(memory.buffer);
    if (NodeBuffer !== undefined) buffer = NodeBuffer.from(memory.buffer);
  }
}

/** Writes `token` (checked) into the wasm input buffer; returns its length in bytes. */
function put(token) {
  // UTF-8 takes at most 3 bytes per UTF-16 unit.
  const need = token.length * 3;
  if (need > input.cap) {
    const cap = Math.max(need, 1024);
    input = { ptr: glue.wireInput(cap), cap };
    inputView = undefined;
  }
  if (inputView === undefined || inputView.length === 0) {
    inputView = new Uint8Array(memory.buffer, input.ptr, input.cap);
  }
  return encoder.encodeInto(token, inputView).written;
}

/**
 * The texts of the record at `at` (wasm/src/wire.rs has its layout). `readTexts` reads its
 * flags and, when every text is ASCII, returns all of them decoded at once; `text` cuts
 * text `i` from that, or decodes it alone. The strings go straight into the result object:
 * keeping them in a module-level array cost a write barrier per string.
 */
let flags = 0;

function readTexts(at) {
  views();
  flags = data.getUint32(at + 32, true);
  if ((flags & 1) === 0) return undefined;
  // All ASCII: one decode, then cut by byte offsets, which are character offsets here.
  const base = data.getUint32(at + 36, true);
  const end = base + data.getUint32(at + 40, true);
  return buffer !== undefined ? buffer.latin1Slice(base, end) : decoder.decode(bytes.subarray(base, end));
}

function text(at, i, all) {
  const offset = data.getUint32(at + 44 + 8 * i, true);
  const end = offset + data.getUint32(at + 48 + 8 * i, true);
  if (all !== undefined) return all.slice(offset, end);
  const base = data.getUint32(at + 36, true);
  return decoder.decode(bytes.subarray(base + offset, base + end));
}

/**
 * Reads a token's claims and its life at `now` **without checking its signature**.
 */
export function inspect(token, options) {
  initialised();
  checkToken(token);
  const given = checkOptions(options, 'inspect');
  const now = given === undefined ? NaN : readNow(given.now);
  const leeway = given === undefined ? 0 : readLeeway(given.leeway);
  const at = glue.wireInspect(put(token), now, leeway);
  if (at === 0) throw lift(glue.wireError());
  const all = readTexts(at);
  return {
    username: text(at, 0, all),
    jwt_token_id: text(at, 1, all),
    jwt_token_description: text(at, 2, all),
    iat: data.getFloat64(at, true),
    exp: data.getFloat64(at + 8, true),
    jwt_token_life: data.getFloat64(at + 16, true),
    jwt_token_life_remaining: data.getFloat64(at + 24, true),
    expiry_status: flags & 2 ? 'Valid' : 'Expired',
  };
}

/** The token's remaining life at `now` (the host's clock when absent), in seconds. */
export function remainingLife(token, now) {
  initialised();
  checkToken(token);
  const at = glue.wireInspect(put(token), readNow(now), 0);
  if (at === 0) throw lift(glue.wireError());
  views();
  return data.getFloat64(at + 24, true);
}

/**
 * Whether the token expires soon at `now` (the host's clock when absent): not expired, and
 * at most 7 days or a tenth of its life left (core's rule). The signature is not checked.
 */
export function expiresSoon(token, now) {
  initialised();
  checkToken(token);
  const when = readNow(now);
  const at = glue.wireInspect(put(token), when, 0);
  if (at === 0) throw lift(glue.wireError());
  views();
  const iat = data.getFloat64(at, true);
  const exp = data.getFloat64(at + 8, true);
  return call(() => glue.expiresSoon(iat, exp, when));
}

/** A token's JOSE header and claims as they are; nothing is checked but the form. */
export function decode(token) {
  initialised();
  checkToken(token);
  return call(() => glue.decode(token));
}

function checkLife(life, what) {
  if (typeof life === 'string') {
    if (life.length > MAX_LIFE_LENGTH) {
      throw new TokenlifeError(`${what} is at most ${MAX_LIFE_LENGTH} characters`, 'bad_life');
    }
  } else if (typeof life !== 'number') {
    throw new TypeError(`${what} is a string or a number of seconds`);
  }
}

/** Parses a life as a person writes it into whole seconds, at most 2^53 - 1. */
export function parseLife(life, options) {
  initialised();
  checkLife(life, 'a life');
  const given = checkOptions(options, 'parseLife');
  const max = given === undefined ? undefined : given.max ?? undefined;
  if (max !== undefined) checkLife(max, '`max`');
  return call(() => glue.parseLife(life, max));
}

/** Writes seconds (at most 2^53 - 1) the way lives are shown; a fraction is dropped. */
export function formatLife(seconds) {
  initialised();
  if (typeof seconds !== 'number') throw new TypeError('formatLife takes a number of seconds');
  return call(() => glue.formatLife(seconds));
}

const KEY_HELP = 'a Verifier takes { secret }, { jwks }, a JWKS object, or a secret string or Uint8Array';
const REVOKED_HELP = '`revoked` is a list or Set of token ids or of { jwt_token_id } entries, '
  + "or the server's { revoked: [...] } document";

function secretBytes(secret) {
  let copy;
  if (typeof secret === 'string') {
    if (secret.length > MAX_KEY_LENGTH) throw new TokenlifeError(`a secret is at most ${MAX_KEY_LENGTH} characters`, 'unknown_key');
    copy = encoder.encode(secret);
  } else if (secret instanceof Uint8Array) {
    if (secret.length > MAX_KEY_LENGTH) throw new TokenlifeError(`a secret is at most ${MAX_KEY_LENGTH} bytes`, 'unknown_key');
    // A copy made here: a subclass or a view can run no code of the caller's in wasm.
    copy = Uint8Array.prototype.slice.call(secret);
  } else {
    throw new TypeError('an HS256 secret is a string or a Uint8Array');
  }
  return copy;
}

function jwksText(jwks) {
  let text = jwks;
  if (typeof jwks !== 'string') {
    if (jwks === null || typeof jwks !== 'object') throw new TypeError('a JWKS is an object or JSON text');
    text = JSON.stringify(jwks);
    if (typeof text !== 'string') throw new TypeError('the JWKS object cannot be written as JSON');
  }
  if (text.length > MAX_KEY_LENGTH) throw new TokenlifeError(`a JWKS is at most ${MAX_KEY_LENGTH} characters`, 'unknown_key');
  return text;
}

/** What `revoked` is: undefined, a Set, or a list of ids or entries (checked when used). */
function readRevoked(revoked) {
  if (revoked === undefined || revoked === null) return undefined;
  if (Array.isArray(revoked) || revoked instanceof Set) return revoked;
  if (typeof revoked !== 'object') throw new TypeError(REVOKED_HELP);
  const list = revoked.revoked;
  if (Array.isArray(list)) return list;
  if (typeof revoked[Symbol.iterator] === 'function') return Array.from(revoked);
  throw new TypeError(REVOKED_HELP);
}

/**
 * Whether `id` is in the list (each entry checked, on every call: the list may have been
 * edited in place) or Set. An entry is compared in full only when its length and last
 * character are the token id's: `===` on two strings that are not both flat (the id is cut
 * from the record's text, the entries are often built by concatenation) takes V8's slow
 * path, tens of nanoseconds each; the length and one `charCodeAt` turn away all but one
 * entry in 16 (hex ids) in a few.
 */
function isRevoked(revoked, id) {
  if (revoked instanceof Set) return revoked.has(id);
  const length = id.length;
  const last = id.charCodeAt(length - 1); // NaN for '', which only '' equals: see below
  let found = false;
  for (let i = 0; i < revoked.length; i++) {
    const entry = revoked[i];
    const entryId = typeof entry === 'string' ? entry
      : entry !== null && typeof entry === 'object' ? entry.jwt_token_id : undefined;
    if (typeof entryId !== 'string') throw new TypeError(REVOKED_HELP);
    if (entryId.length === length && (entryId.charCodeAt(length - 1) === last || length === 0)
      && entryId === id) {
      found = true;
    }
  }
  return found;
}

/** The codes of refusals that come after the signature has been checked. */
const SIGNED = new Set(['expired', 'not_yet_valid', 'claim_mismatch', 'revoked']);

/** A verify failure, with the token's claims when its signature has been checked. */
function refusal(error, token) {
  if (error instanceof Error && SIGNED.has(error.code)) {
    let claims;
    try {
      claims = glue.decode(token).claims;
    } catch {
      // A token whose signature checked decodes; nothing to attach otherwise.
    }
    return lift(error, claims);
  }
  return lift(error);
}

const BUILDING = Symbol('tokenlife.Verifier');
let built;

/**
 * Verifies tokens against an HS256 secret or a JWKS document. Build it once and reuse it.
 */
export class Verifier {
  #inner;

  constructor(key, building) {
    initialised();
    if (building === BUILDING) {
      this.#inner = built;
      built = undefined;
      return;
    }
    if (typeof key === 'string' || key instanceof Uint8Array) {
      this.#inner = call(() => glue.Verifier.fromSecret(secretBytes(key)));
      return;
    }
    if (key === null || typeof key !== 'object') throw new TypeError(KEY_HELP);
    const secret = key.secret;
    const jwks = key.jwks;
    if (secret !== undefined && jwks === undefined) {
      const copy = secretBytes(secret);
      this.#inner = call(() => glue.Verifier.fromSecret(copy));
    } else if (secret === undefined && jwks !== undefined) {
      const text = jwksText(jwks);
      this.#inner = call(() => glue.Verifier.fromJwks(text));
    } else if (secret === undefined && key.keys !== undefined) {
      const text = jwksText(key);
      this.#inner = call(() => glue.Verifier.fromJwks(text));
    } else {
      throw new TypeError(KEY_HELP);
    }
  }

  /** A verifier for HS256 tokens signed with `secret` (a string's UTF-8 bytes, or bytes). */
  static fromSecret(secret) {
    initialised();
    const copy = secretBytes(secret);
    built = call(() => glue.Verifier.fromSecret(copy));
    return new Verifier(undefined, BUILDING);
  }

  /**
   * A verifier for the tokens Specter Desktop issued (HS256 under its SECRET_KEY, a
   * string's UTF-8 bytes or bytes), with Specter's claims: `username`, `jwt_token_id`,
   * `jwt_token_description`, `exp`, and no `iss`/`sub`/`jti`.
   */
  static fromSpecterSecret(secret) {
    initialised();
    const copy = secretBytes(secret);
    built = call(() => glue.Verifier.fromSpecterSecret(copy));
    return new Verifier(undefined, BUILDING);
  }

  /** A verifier from a JWKS document, as an object or as JSON text. */
  static fromJwks(jwks) {
    initialised();
    const text = jwksText(jwks);
    built = call(() => glue.Verifier.fromJwks(text));
    return new Verifier(undefined, BUILDING);
  }

  /** Verifies `token` and returns its claims (every claim it carries). */
  verify(token, options) {
    const inner = this.#inner;
    if (inner === undefined) throw new Error('this Verifier has been freed');
    checkToken(token);
    let now = NaN;
    let leeway = 0;
    let issuer;
    let revoked;
    if (options !== undefined && options !== null) {
      if (typeof options !== 'object') throw new TypeError('the options of verify are an object');
      now = readNow(options.now);
      leeway = readLeeway(options.leeway);
      issuer = options.issuer ?? undefined;
      if (issuer !== undefined && typeof issuer !== 'string') throw new TypeError('`issuer` must be a string');
      revoked = readRevoked(options.revoked);
    }
    const at = glue.wireVerify(inner, put(token), now, leeway, issuer);
    if (at === 0) throw refusal(glue.wireError(), token);
    const all = readTexts(at);
    const username = text(at, 0, all);
    const id = text(at, 1, all);
    let claims = {
      username,
      jwt_token_id: id,
      jwt_token_description: text(at, 2, all),
      iat: data.getFloat64(at, true),
      exp: data.getFloat64(at + 8, true),
      // Core has checked that sub and jti are username and jwt_token_id.
      sub: username,
      jti: id,
      iss: text(at, 3, all),
    };
    if (flags & 4) claims.jwt_token_endpoints = JSON.parse(text(at, 4, all));
    // The payload carries more than these (wire.rs, `only_known_claims`): all of them, in
    // the token's order, with the values core read.
    if (flags & 8) claims = Object.assign(glue.decode(token).claims, claims);
    if (revoked !== undefined && isRevoked(revoked, id)) {
      throw new TokenlifeError(`the token ${id} has been revoked`, 'revoked', claims);
    }
    return claims;
  }

  /** Releases the key now rather than when the garbage collector finds the Verifier. */
  free() {
    const inner = this.#inner;
    this.#inner = undefined;
    if (inner !== undefined) inner.free();
  }
}

if (typeof Symbol.dispose === 'symbol') {
  Object.defineProperty(Verifier.prototype, Symbol.dispose, {
    value: function dispose() { this.free(); },
    writable: true,
    configurable: true,
  });
}
