// The package's ES module: the API of tokenlife.d.ts over the wasm-bindgen glue
// (tokenlife_glue.js, generated), with the hot calls taking a faster road.
//
// `inspect`, `remainingLife` and `Verifier.prototype.verify` write the token into wasm
// memory with one native `TextEncoder.encodeInto` and read their answer from a packed
// record (wasm/src/wire.rs documents its layout), building the result object in one
// literal. Everything else, and every call with options outside the common ones, goes to
// the glue's checked exports, which stay the reference: same core, same answers, same
// errors. No logic lives here: no rule of tokens or lives, only moving bytes.
import * as glue from './tokenlife_glue.js';

export const { Verifier, decode, formatLife, parseLife } = glue;

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
  return exports;
}

/** Instantiates the package from a compiled `WebAssembly.Module` (or bytes), synchronously. */
export function initSync(module) {
  return ready(glue.initSync(module));
}

/** Instantiates the package, by default from `tokenlife_bg.wasm` beside this module. */
export default async function init(module_or_path) {
  return ready(await glue.default(module_or_path));
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

/** Writes `token` into the wasm input buffer; returns its length in bytes. */
function put(token) {
  if (wasm === undefined) {
    throw new Error('tokenlife is not initialised: call init() or initSync() first');
  }
  // Anything but a string reads as the empty string, which core calls malformed.
  if (typeof token !== 'string') token = '';
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

/** `now` as given, or the host's clock: the same clock as the glue's (clock.rs). */
const timeNow = (value) => (value === undefined || value === null ? Date.now() / 1000 : value);
const isTime = (value) => value === undefined || value === null || (typeof value === 'number' && Number.isFinite(value));
const isLeeway = (value) => value === undefined || value === null || (Number.isInteger(value) && value >= 0);

export function inspect(token, options) {
  const now = options?.now;
  const leeway = options?.leeway;
  if (!isTime(now) || !isLeeway(leeway)) return glue.inspect(token, options);
  const at = glue.wireInspect(put(token), timeNow(now), leeway ?? 0);
  if (at === 0) throw glue.wireError();
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

export function remainingLife(token, now) {
  if (!isTime(now)) return glue.remainingLife(token, now);
  const at = glue.wireInspect(put(token), timeNow(now), 0);
  if (at === 0) throw glue.wireError();
  views();
  return data.getFloat64(at + 24, true);
}

const verifyChecked = glue.Verifier.prototype.verify;

Verifier.prototype.verify = function verify(token, options) {
  let now;
  let leeway = 0;
  let issuer;
  if (options !== undefined) {
    now = options?.now;
    leeway = options?.leeway;
    issuer = options?.issuer ?? undefined;
    const revoked = options?.revoked;
    if (!isTime(now) || !isLeeway(leeway) || !(issuer === undefined || typeof issuer === 'string')
      || !(revoked === undefined || revoked === null)) {
      return verifyChecked.call(this, token, options);
    }
  }
  const at = glue.wireVerify(this, put(token), timeNow(now), leeway ?? 0, issuer);
  if (at === 0) throw glue.wireError();
  const all = readTexts(at);
  const username = text(at, 0, all);
  const id = text(at, 1, all);
  const claims = {
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
  return claims;
};
