// Issue 14: nothing a caller does breaks the instance; memory stays bounded; the same
// error before init everywhere; `now`, types and lives checked alike; the error class;
// every claim of a token. Loaded from the packed tarball (lib/package.mjs).
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, it } from 'node:test';
import { SignJWT } from 'jose';
import { importGlue, importPackage, pkgDir, requirePackage } from '../lib/package.mjs';
import * as peers from '../lib/peers.mjs';

const tl = await importPackage();
const { Verifier, TokenlifeError, inspect, remainingLife, parseLife, formatLife, decode } = tl;
const glue = await importGlue();
/** The instance's exports (glue.initSync answers them once initialised). */
const instance = glue.initSync({ module: new Uint8Array() });

const claims = peers.claimsFor();
const token = peers.jwtHs256(claims);
const at = { now: claims.iat + 1 };

const throwing = () => { throw new Error('from a getter'); };
/** An object whose every property read, key listing and check throws. */
const hostile = new Proxy({}, {
  get: throwing, has: throwing, ownKeys: throwing, getPrototypeOf: throwing, getOwnPropertyDescriptor: throwing,
});

describe('nothing a caller does corrupts the instance', () => {
  it('survives 20,000 throwing getters in every options object, then answers normally', () => {
    const verifier = Verifier.fromSecret(peers.secret);
    const calls = [
      () => parseLife('1h', { get max() { throwing(); } }),
      () => inspect(token, { get now() { throwing(); } }),
      () => inspect(token, { now: 1, get leeway() { throwing(); } }),
      () => remainingLife(token, hostile),
      () => verifier.verify(token, { get now() { throwing(); } }),
      () => verifier.verify(token, { now: 1, get issuer() { throwing(); } }),
      () => verifier.verify(token, { ...at, get revoked() { throwing(); } }),
      () => verifier.verify(token, { ...at, revoked: { get revoked() { throwing(); } } }),
      () => verifier.verify(token, hostile),
      () => new Verifier({ get secret() { throwing(); } }),
      () => new Verifier(hostile),
      () => Verifier.fromJwks({ toJSON: throwing }),
      () => formatLife(hostile),
    ];
    for (let i = 0; i < 20_000; i++) {
      assert.throws(calls[i % calls.length]);
    }
    assert.equal(parseLife('1h'), 3600);
    assert.equal(inspect(token, at).username, 'alice');
    assert.deepEqual(verifier.verify(token, at), claims);
    assert.deepEqual(Verifier.fromSecret(peers.secret).verify(token, at), claims);
  });
  it('keeps a Verifier usable after a throw inside verify', () => {
    const verifier = Verifier.fromSecret(peers.secret);
    assert.throws(() => verifier.verify(token, { ...at, get leeway() { throwing(); } }), /from a getter/);
    assert.throws(() => verifier.verify(token, { ...at, revoked: [claims.jwt_token_id, { get jwt_token_id() { throwing(); } }] }),
      /from a getter/);
    assert.deepEqual(verifier.verify(token, at), claims);
  });
});

describe('memory stays bounded', () => {
  it('refuses a token over the limit before copying it, naming the limit', () => {
    const huge = `${'x'.repeat(10_000_000)}.${'y'.repeat(10)}.z`;
    const verifier = Verifier.fromSecret(peers.secret);
    for (const call of [() => inspect(huge), () => remainingLife(huge), () => decode(huge), () => verifier.verify(huge)]) {
      assert.throws(call, (e) => e instanceof TokenlifeError && e.code === 'malformed'
        && e.message.includes(String(tl.MAX_TOKEN_LENGTH)));
    }
    assert.equal(tl.MAX_TOKEN_LENGTH, 262_144);
  });
  it('keeps wasm memory under 4 MiB after the largest tokens and lives it takes', () => {
    const verifier = Verifier.fromSecret(peers.secret);
    const longest = `${'é'.repeat(tl.MAX_TOKEN_LENGTH - 4)}.a.b`;
    for (let i = 0; i < 20; i++) {
      assert.throws(() => verifier.verify(longest), { code: 'malformed' });
      assert.throws(() => inspect(longest), { code: 'malformed' });
      assert.throws(() => decode(longest), { code: 'malformed' });
      assert.throws(() => verifier.verify(`${'x'.repeat(100_000_000)}.a.b`), { code: 'malformed' });
      assert.throws(() => parseLife('1'.repeat(10_000_000)), { code: 'bad_life' });
      assert.throws(() => Verifier.fromSecret('k'.repeat(20_000_000)), { code: 'unknown_key' });
    }
    const big = peers.claimsFor({ description: 'd'.repeat(150_000) });
    assert.equal(verifier.verify(peers.jwtHs256(big), { now: big.iat }).jwt_token_description.length, 150_000);
    const bytes = instance.memory.buffer.byteLength;
    assert.ok(bytes <= 4 * 1024 * 1024, `${bytes} bytes of wasm memory`);
  });
});

describe('before init()', () => {
  it('every export throws the same "not initialised: call init()" error', async () => {
    // A fresh copy of the web module (its own module state), as a page has before init().
    const fresh = await import(`${pathToFileURL(join(pkgDir, 'tokenlife.js')).href}?fresh`);
    const calls = {
      inspect: () => fresh.inspect(token),
      remainingLife: () => fresh.remainingLife(token),
      decode: () => fresh.decode(token),
      parseLife: () => fresh.parseLife('1h'),
      formatLife: () => fresh.formatLife(60),
      Verifier: () => new fresh.Verifier(peers.secret),
      fromSecret: () => fresh.Verifier.fromSecret(peers.secret),
      fromJwks: () => fresh.Verifier.fromJwks(peers.jwks),
    };
    for (const [name, call] of Object.entries(calls)) {
      assert.throws(call, { name: 'Error', message: 'tokenlife is not initialised: call init() (or initSync()) first' }, name);
    }
    await fresh.default(readFileSync(join(pkgDir, 'tokenlife_bg.wasm')));
    assert.equal(fresh.formatLife(60), '1m');
    assert.equal(new fresh.Verifier(peers.secret).verify(token, at).username, 'alice');
  });
});

describe('now, types and lives', () => {
  it('takes now as a Date or as seconds, and refuses milliseconds (1e11 or more) with a TypeError', () => {
    const verifier = Verifier.fromSecret(peers.secret);
    const when = new Date((claims.iat + 10) * 1000);
    assert.deepEqual(inspect(token, { now: when }), inspect(token, { now: claims.iat + 10 }));
    assert.equal(remainingLife(token, when), 350);
    assert.deepEqual(verifier.verify(token, { now: when }), claims);
    assert.throws(() => verifier.verify(token, { now: new Date(claims.exp * 1000) }), { code: 'expired' });
    assert.equal(remainingLife(token, 1e11 - 1), 0);
    for (const ms of [claims.iat * 1000, Date.now(), 1e11, -1e11]) {
      assert.throws(() => inspect(token, { now: ms }), (e) => e instanceof TypeError && /milliseconds/.test(e.message), String(ms));
      assert.throws(() => remainingLife(token, ms), TypeError);
      assert.throws(() => verifier.verify(token, { now: ms }), TypeError);
    }
    for (const bad of [new Date(NaN), '1700000000', 1n, {}, NaN, Infinity]) {
      assert.throws(() => inspect(token, { now: bad }), TypeError, String(bad));
      assert.throws(() => verifier.verify(token, { now: bad }), TypeError, String(bad));
    }
  });
  it('refuses wrong types with TypeError everywhere', () => {
    const verifier = Verifier.fromSecret(peers.secret);
    for (const bad of [undefined, null, '360', 360n, {}, [360], new Number(360)]) {
      assert.throws(() => formatLife(bad), TypeError, String(bad));
    }
    for (const bad of [undefined, null, 42, {}, ['a.b.c']]) {
      assert.throws(() => verifier.verify(bad, at), TypeError, String(bad));
    }
    assert.throws(() => verifier.verify(token, 'now'), TypeError);
    assert.throws(() => inspect(token, 5), TypeError);
    assert.throws(() => parseLife('1h', 'max'), TypeError);
    assert.throws(() => parseLife(3600n), TypeError);
  });
  it('refuses lives above 2^53 - 1 seconds alike in parseLife and formatLife', () => {
    const top = Number.MAX_SAFE_INTEGER;
    assert.equal(parseLife(top), top);
    assert.equal(parseLife(String(top)), top);
    assert.equal(typeof formatLife(top), 'string');
    assert.equal(parseLife(formatLife(top)), top);
    for (const past of [2 ** 53, 2 ** 63, 1e300]) {
      assert.throws(() => parseLife(past), { code: 'bad_life' }, String(past));
      assert.throws(() => formatLife(past), { code: 'bad_life' }, String(past));
    }
    assert.throws(() => parseLife('292277026596 years'), { code: 'bad_life' });
    assert.throws(() => parseLife('9007199254740992'), { code: 'bad_life' });
    assert.throws(() => formatLife(Infinity), { code: 'bad_life' });
  });
});

describe('TokenlifeError', () => {
  it('is exported by both builds, and instanceof holds across them', () => {
    const cjs = requirePackage();
    assert.equal(typeof TokenlifeError, 'function');
    assert.equal(typeof cjs.TokenlifeError, 'function');
    const fromEsm = (() => { try { parseLife('nope'); } catch (e) { return e; } })();
    const fromCjs = (() => { try { cjs.parseLife('nope'); } catch (e) { return e; } })();
    for (const err of [fromEsm, fromCjs]) {
      assert.ok(err instanceof TokenlifeError);
      assert.ok(err instanceof cjs.TokenlifeError);
      assert.ok(err instanceof Error);
      assert.equal(err.name, 'TokenlifeError');
      assert.equal(err.code, 'bad_life');
    }
    assert.ok(!(new Error('x') instanceof TokenlifeError));
    assert.ok(!(new TypeError('x') instanceof cjs.TokenlifeError));
    assert.ok(!(null instanceof TokenlifeError));
    const made = new TokenlifeError('made', 'revoked');
    assert.ok(made instanceof cjs.TokenlifeError && made.code === 'revoked' && made.stack.includes('made'));
  });
  it('carries the decoded claims for expired, not_yet_valid, claim_mismatch and revoked', () => {
    const verifier = Verifier.fromSecret(peers.secret);
    const extra = { ...peers.claimsFor(), role: 'admin' };
    const signed = peers.jwtHs256(extra);
    const cases = [
      [{ now: extra.exp }, 'expired'],
      [{ ...at, issuer: 'elsewhere' }, 'claim_mismatch'],
      [{ ...at, revoked: new Set([extra.jwt_token_id]) }, 'revoked'],
      [{ ...at, revoked: [{ jwt_token_id: extra.jwt_token_id }] }, 'revoked'],
    ];
    for (const [options, code] of cases) {
      assert.throws(() => verifier.verify(signed, options), (e) => {
        assert.ok(e instanceof TokenlifeError);
        assert.equal(e.code, code);
        assert.deepEqual(e.claims, extra);
        return true;
      }, code);
    }
    const early = { ...claims, nbf: claims.iat + 60 };
    assert.throws(() => verifier.verify(peers.jwtHs256(early), at), (e) => e.code === 'not_yet_valid' && e.claims.nbf === early.nbf);
    // Before the signature is checked, nothing is claimed.
    assert.throws(() => verifier.verify(peers.tamper(token, { role: 'x' }), at), (e) => e.code === 'bad_signature' && e.claims === undefined);
  });
});

describe('verify returns every claim of the token', () => {
  const verifier = Verifier.fromSecret(peers.secret);
  it('adds claims core does not read, in any layout', () => {
    const extra = { ...claims, role: 'admin', scopes: ['a', 'b'], nested: { deep: [1, { x: null }] }, n: 1.5 };
    assert.deepEqual(verifier.verify(peers.jwtHs256(extra), at), extra);
    const first = { role: 'admin', ...claims };
    assert.deepEqual(verifier.verify(peers.jwtHs256(first), at), first);
    const nulls = { ...claims, jwt_token_endpoints: null, nbf: null };
    assert.deepEqual(verifier.verify(peers.rawHs256({ alg: 'HS256' }, nulls, peers.secret), at), nulls);
    // Escaped or spaced-out JSON of the same claims: the same claims, none added.
    const spaced = peers.rawHs256({ alg: 'HS256' }, claims, peers.secret).split('.');
    const json = JSON.stringify(claims, null, 1).replace('"alice"', '"\\u0061lice"');
    const payload = Buffer.from(json).toString('base64url');
    const input = `${spaced[0]}.${payload}`;
    const odd = `${input}.${createHmac('sha256', peers.secret).update(input).digest('base64url')}`;
    assert.deepEqual(verifier.verify(odd, at), claims);
  });
  it('returns exactly the claims of the signer layout and of a jose token', async () => {
    assert.deepEqual(Object.keys(verifier.verify(token, at)).sort(), Object.keys(claims).sort());
    const { username, jwt_token_id: id, jwt_token_description: description } = claims;
    const jose = await new SignJWT({ username, jwt_token_id: id, jwt_token_description: description })
      .setProtectedHeader({ alg: 'HS256' }).setSubject(username).setJti(id).setIssuer('tokenlife')
      .setIssuedAt(claims.iat).setExpirationTime(claims.exp).sign(new TextEncoder().encode(peers.secret));
    assert.deepEqual(verifier.verify(jose, at), claims);
    const joseExtra = await new SignJWT({ username, jwt_token_id: id, jwt_token_description: description, org: 'acme' })
      .setProtectedHeader({ alg: 'HS256' }).setSubject(username).setJti(id).setIssuer('tokenlife')
      .setIssuedAt(claims.iat).setExpirationTime(claims.exp).sign(new TextEncoder().encode(peers.secret));
    assert.deepEqual(verifier.verify(joseExtra, at), { ...claims, org: 'acme' });
  });
});
