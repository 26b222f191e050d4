// Every function of the package and every error code, loaded as an ES module by name
// ('tokenlife', through the exports map), on the shared vectors and on peer tokens.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { importGlue, importPackage } from '../lib/package.mjs';
import * as peers from '../lib/peers.mjs';
import { life as lifeVectors, tokens as tokenVectors } from '../lib/vectors.mjs';

const tl = await importPackage();
const { Verifier, inspect, remainingLife, expiresSoon, parseLife, formatLife, decode } = tl;

/** Asserts that `fn` throws a real Error with this SPEC code (and message fragment). */
function throwsCode(fn, code, fragment) {
  let thrown;
  try { fn(); } catch (err) { thrown = err; }
  assert.ok(thrown !== undefined, `expected an error with code ${code}, got no error`);
  assert.ok(thrown instanceof Error, `expected an Error, got ${thrown}`);
  assert.equal(thrown.code, code, `code of: ${thrown.message}`);
  assert.equal(typeof thrown.message, 'string');
  assert.ok(thrown.message.length > 0);
  if (fragment) assert.ok(thrown.message.includes(fragment), `"${thrown.message}" lacks "${fragment}"`);
  return thrown;
}

const isPlainObject = (value) => Object.getPrototypeOf(value) === Object.prototype;

describe('the shared life vectors (tests/vectors/life.json)', () => {
  it('parses every ok row to its seconds', () => {
    for (const [text, secs] of lifeVectors.ok) assert.equal(parseLife(text), secs, text);
  });
  it('refuses every err row with bad_life and core message', () => {
    for (const [text, , fragment] of lifeVectors.err) throwsCode(() => parseLife(text), 'bad_life', fragment);
  });
  it('applies the max rows with a maximum of 1 year', () => {
    for (const [text, secs, message] of lifeVectors.max) {
      if (secs !== null) assert.equal(parseLife(text, { max: '1 year' }), secs, text);
      else assert.equal(throwsCode(() => parseLife(text, { max: 31536000 }), 'bad_life').message, message);
    }
  });
  it('formats every format row', () => {
    for (const [secs, text] of lifeVectors.format) assert.equal(formatLife(secs), text, String(secs));
  });
});

describe('parseLife and formatLife', () => {
  it('takes a number as seconds, as a JSON integer', () => {
    assert.equal(parseLife(360), 360);
    throwsCode(() => parseLife(0), 'bad_life', 'positive');
    throwsCode(() => parseLife(-5), 'bad_life', 'positive');
    throwsCode(() => parseLife(1.5), 'bad_life', 'whole seconds');
    throwsCode(() => parseLife(NaN), 'bad_life');
    throwsCode(() => parseLife(1e300), 'bad_life', 'too long');
  });
  it('round-trips formatted lives', () => {
    for (const secs of [1, 59, 61, 3600, 5400, 86399, 90061, 2592000, 31536000, 31536000 + 2592000 + 86400 + 3661]) {
      assert.equal(parseLife(formatLife(secs)), secs, formatLife(secs));
    }
  });
  it('drops fractions when formatting, refuses negatives and NaN', () => {
    assert.equal(formatLife(59.9), '59s');
    assert.equal(formatLife(0), '0s');
    throwsCode(() => formatLife(-1), 'bad_life');
    throwsCode(() => formatLife(NaN), 'bad_life');
    throwsCode(() => formatLife(Infinity), 'bad_life');
  });
  it('throws TypeError (no code) for calls outside the typings', () => {
    assert.throws(() => parseLife({}), TypeError);
    assert.throws(() => parseLife(undefined), TypeError);
    assert.throws(() => parseLife('1h', { max: {} }), TypeError);
  });
});

describe('the shared token vectors (tests/vectors/tokens.json)', () => {
  const keys = {
    hs256: Verifier.fromSecret(tokenVectors.keys.hs256_secret),
    jwks: Verifier.fromJwks(tokenVectors.keys.jwks),
  };
  for (const vector of tokenVectors.cases) {
    it(vector.name, () => {
      const options = { now: vector.now, leeway: vector.leeway, issuer: vector.issuer, revoked: vector.revoked };
      if (vector.expect.ok) {
        const claims = keys[vector.key].verify(vector.token, options);
        assert.ok(isPlainObject(claims));
        assert.deepEqual(claims, vector.expect.ok);
      } else {
        throwsCode(() => keys[vector.key].verify(vector.token, options), vector.expect.error);
      }
    });
  }
  it('RFC 7515 A.1 and RFC 8037 A.4: the signatures check, the payloads are not tokenlife claims', () => {
    for (const rfc of tokenVectors.rfc) {
      const verifier = Verifier.fromJwks({ keys: [rfc.jwk] });
      // A bad signature would say bad_signature: getting past it to the claims proves the
      // RFC's signature verified.
      throwsCode(() => verifier.verify(rfc.token, { now: 0 }), 'malformed');
      const [h, p, s] = rfc.token.split('.');
      const flipped = (s[0] === 'A' ? 'B' : 'A') + s.slice(1);
      throwsCode(() => verifier.verify(`${h}.${p}.${flipped}`, { now: 0 }), 'bad_signature');
    }
    const a1 = tokenVectors.rfc[0];
    assert.deepEqual(decode(a1.token).claims, JSON.parse(a1.payload));
  });
});

describe('inspect', () => {
  const claims = peers.claimsFor({ description: 'inspect me', life: 360 });
  const token = peers.jwtHs256(claims);
  it('reads the claims and the life at now, as a plain object', () => {
    const seen = inspect(token, { now: claims.iat + 100.5 });
    assert.ok(isPlainObject(seen));
    assert.deepEqual(seen, {
      username: 'alice', jwt_token_id: claims.jwt_token_id, jwt_token_description: 'inspect me',
      iat: claims.iat, exp: claims.exp, jwt_token_life: 360, jwt_token_life_remaining: 259.5,
      expiry_status: 'Valid',
    });
  });
  it('says Expired from exp on, Valid within a leeway', () => {
    assert.equal(inspect(token, { now: claims.exp - 0.001 }).expiry_status, 'Valid');
    assert.equal(inspect(token, { now: claims.exp }).expiry_status, 'Expired');
    assert.equal(inspect(token, { now: claims.exp }).jwt_token_life_remaining, 0);
    assert.equal(inspect(token, { now: claims.exp, leeway: 5 }).expiry_status, 'Valid');
    assert.equal(inspect(token, { now: claims.exp + 5, leeway: 5 }).expiry_status, 'Expired');
  });
  it('does not check the signature (that is what it is for)', () => {
    assert.equal(inspect(peers.tamper(token, { jwt_token_description: 'x' }), { now: 0 }).jwt_token_description, 'x');
  });
  it('defaults now to the host clock', () => {
    const now = Date.now() / 1000;
    const live = peers.jwtHs256(peers.claimsFor({ iat: Math.floor(now), life: 3600 }));
    const left = inspect(live).jwt_token_life_remaining;
    assert.ok(left > 3590 && left <= 3600, String(left));
    assert.equal(inspect(live).expiry_status, 'Valid');
  });
  it('throws malformed for what is not a token, TypeError for what is not a string', () => {
    for (const bad of ['', 'abc', 'a.b', 'a.b.c.d', '***.***.x', 'e30.e30.']) {
      throwsCode(() => inspect(bad), 'malformed');
    }
    for (const bad of [undefined, null, 42, {}, new String('a.b.c')]) {
      assert.throws(() => inspect(bad), TypeError);
      assert.throws(() => remainingLife(bad), TypeError);
      assert.throws(() => decode(bad), TypeError);
    }
  });
  it('refuses options of the wrong type with TypeError', () => {
    assert.throws(() => inspect(token, { now: 'soon' }), TypeError);
    assert.throws(() => inspect(token, { leeway: -1 }), TypeError);
    assert.throws(() => inspect(token, { leeway: 1.5 }), TypeError);
  });
});

describe('remainingLife', () => {
  const claims = peers.claimsFor({ life: 360 });
  const token = peers.jwtHs256(claims);
  it('is max(0, exp - now), fractional when now is', () => {
    assert.equal(remainingLife(token, claims.iat), 360);
    assert.equal(remainingLife(token, claims.iat + 0.25), 359.75);
    assert.equal(remainingLife(token, claims.exp), 0);
    assert.equal(remainingLife(token, claims.exp + 1000), 0);
    assert.equal(typeof remainingLife(token), 'number');
  });
  it('throws malformed for what is not a token', () => throwsCode(() => remainingLife('x.y'), 'malformed'));
});

describe('expiresSoon', () => {
  const day = 86_400;
  it('is core\'s rule: not expired, and 7 days or a tenth of the life left', () => {
    const month = peers.claimsFor({ life: 30 * day });
    const monthToken = peers.jwtHs256(month);
    assert.equal(expiresSoon(monthToken, month.iat), false);
    assert.equal(expiresSoon(monthToken, month.exp - 7 * day - 1), false);
    assert.equal(expiresSoon(monthToken, month.exp - 7 * day), true);
    assert.equal(expiresSoon(monthToken, new Date((month.exp - 1) * 1000)), true);
    assert.equal(expiresSoon(monthToken, month.exp), false, 'expired is not soon');
    const year = peers.claimsFor({ life: 1000 * day });
    const yearToken = peers.jwtHs256(year);
    assert.equal(expiresSoon(yearToken, year.exp - 100 * day - 1), false);
    assert.equal(expiresSoon(yearToken, year.exp - 100 * day), true);
    assert.equal(typeof expiresSoon(yearToken), 'boolean');
  });
  it('throws malformed for what is not a token, and a TypeError for a bad now', () => {
    throwsCode(() => expiresSoon('x.y'), 'malformed');
    assert.throws(() => expiresSoon(peers.jwtHs256(peers.claimsFor({ life: 60 })), Date.now()), TypeError);
  });
});

describe('decode', () => {
  it('gives header and claims as they are, unjudged', async () => {
    const claims = peers.claimsFor({ extra: { nested: [1, 2] } });
    const token = await peers.joseEd25519(claims);
    const decoded = decode(token);
    assert.ok(isPlainObject(decoded) && isPlainObject(decoded.header) && isPlainObject(decoded.claims));
    assert.deepEqual(decoded, { header: { alg: 'EdDSA', typ: 'JWT', kid: peers.kid }, claims });
    assert.deepEqual(decode(peers.unsecured(claims)[0]).header, { alg: 'none' });
  });
  it('keeps the members in the order the token has them', async () => {
    // A person reading a token sees it as written: here iss first and username last, which
    // neither alphabetical order nor tokenlife's own order would give.
    const { username, ...rest } = peers.claimsFor({});
    const claims = { iss: rest.iss, ...rest, username };
    const token = await peers.joseEd25519(claims);
    assert.deepEqual(Object.keys(decode(token).claims), Object.keys(claims));
    assert.deepEqual(Object.keys(decode(token).header), ['alg', 'typ', 'kid']);
  });
  it('throws malformed when a part is not base64url JSON', () => {
    throwsCode(() => decode('abc'), 'malformed');
    throwsCode(() => decode('e30.bm90IGpzb24.'), 'malformed');
  });
  // In wasm, base64url is decoded 16 characters at a time with SIMD and the rest one group
  // of 4 at a time (core/src/base64url.rs): both must agree with Node's own decoder.
  const header = Buffer.from('{"alg":"none"}').toString('base64url');
  it('reads base64url as Node does, at every length and for every character', () => {
    for (let n = 0; n < 160; n++) {
      // Text whose UTF-8 spans one- to three-byte characters, so that every sextet occurs.
      const t = Array.from({ length: n }, (_, i) => String.fromCodePoint(0x20 + ((i * 7919 + n * 104729) % 0x2fe0))).join('');
      const payload = Buffer.from(JSON.stringify({ t })).toString('base64url');
      assert.deepEqual(decode(`${header}.${payload}.`).claims, { t }, `length ${n}`);
    }
  });
  it('refuses any character outside the alphabet, wherever it is', () => {
    const payload = Buffer.from(JSON.stringify({ t: 'x'.repeat(40) })).toString('base64url');
    const alphabet = /[A-Za-z0-9_-]/;
    for (let at = 0; at < payload.length; at++) {
      for (let code = 0; code < 256; code++) {
        const char = String.fromCharCode(code);
        if (alphabet.test(char) || char === '.') continue;
        const bad = payload.slice(0, at) + char + payload.slice(at + 1);
        throwsCode(() => decode(`${header}.${bad}.`), 'malformed');
      }
    }
  });
});

describe('Verifier', () => {
  const claims = peers.claimsFor();
  const at = { now: claims.iat + 1 };
  it('builds from a secret string, bytes, {secret}, {jwks}, a JWKS object or JSON text', async () => {
    const token = peers.jwtHs256(claims);
    for (const verifier of [
      Verifier.fromSecret(peers.secret),
      Verifier.fromSecret(new TextEncoder().encode(peers.secret)),
      new Verifier(peers.secret),
      new Verifier({ secret: peers.secret }),
      new Verifier({ secret: Buffer.from(peers.secret) }),
    ]) assert.deepEqual(verifier.verify(token, at), claims);
    const edToken = await peers.joseEd25519(claims);
    for (const verifier of [
      Verifier.fromJwks(peers.jwks),
      Verifier.fromJwks(JSON.stringify(peers.jwks)),
      new Verifier({ jwks: peers.jwks }),
      new Verifier({ jwks: JSON.stringify(peers.jwks) }),
      new Verifier(peers.jwks),
    ]) assert.deepEqual(verifier.verify(edToken, at), claims);
  });
  it('reports unusable keys as unknown_key', () => {
    throwsCode(() => Verifier.fromSecret(''), 'unknown_key');
    throwsCode(() => new Verifier({ secret: new Uint8Array() }), 'unknown_key');
    throwsCode(() => Verifier.fromJwks({ keys: [] }), 'unknown_key');
    throwsCode(() => Verifier.fromJwks('not json'), 'unknown_key');
    throwsCode(() => Verifier.fromJwks({ keys: [{ kty: 'RSA', n: 'AQAB', e: 'AQAB' }] }), 'unknown_key');
    throwsCode(() => Verifier.fromJwks({ keys: [{ kty: 'OKP', crv: 'Ed25519', x: 'AAAA' }] }), 'unknown_key');
  });
  it('refuses keys outside the typings with TypeError', () => {
    for (const bad of [undefined, null, 42, {}, { secret: 'a', jwks: peers.jwks }, { secret: 42 }]) {
      assert.throws(() => new Verifier(bad), TypeError, String(bad));
    }
    assert.throws(() => Verifier.fromJwks(42), TypeError);
  });
  it('returns the claims as a plain object, with the default clock when now is absent', () => {
    const now = Math.floor(Date.now() / 1000);
    const live = peers.claimsFor({ iat: now, life: 600, jwt_token_endpoints: ['GET /api/v1alpha/whoami'] });
    const got = Verifier.fromSecret(peers.secret).verify(peers.jwtHs256(live));
    assert.ok(isPlainObject(got));
    assert.deepEqual(got, live);
    throwsCode(() => Verifier.fromSecret(peers.secret).verify(peers.jwtHs256(claims)), 'expired');
  });
  it('takes revoked as ids, entries, a Set or the server document', () => {
    const verifier = Verifier.fromSecret(peers.secret);
    const token = peers.jwtHs256(claims);
    const id = claims.jwt_token_id;
    const other = '00000000-0000-4000-8000-000000000000';
    for (const revoked of [[id], [{ jwt_token_id: id, exp: claims.exp }], new Set([other, id]),
      { revoked: [{ jwt_token_id: other, exp: 1 }, { jwt_token_id: id, exp: claims.exp }] }]) {
      throwsCode(() => verifier.verify(token, { ...at, revoked }), 'revoked', id);
    }
    for (const revoked of [[], [other], new Set(), { revoked: [] }, null, undefined]) {
      assert.deepEqual(verifier.verify(token, { ...at, revoked }), claims);
    }
    assert.throws(() => verifier.verify(token, { ...at, revoked: 'id' }), TypeError);
    assert.throws(() => verifier.verify(token, { ...at, revoked: [42] }), TypeError);
    assert.throws(() => verifier.verify(token, { ...at, issuer: 42 }), TypeError);
  });
  it('compares every entry of a revoked list in full, on every call (near misses, edits in place)', () => {
    const verifier = Verifier.fromSecret(peers.secret);
    const token = peers.jwtHs256(claims);
    const id = claims.jwt_token_id;
    const swap = (text, at, char) => text.slice(0, at) + char + text.slice(at + 1);
    const other = (char) => (char === 'a' ? 'b' : 'a');
    // Same length and last character, one other character; another last character; a
    // prefix; the id with one more character: none is the id.
    const near = [swap(id, 0, other(id[0])), swap(id, 17, other(id[17])), swap(id, id.length - 1, other(id.at(-1))),
      id.slice(0, -1), `${id}0`, id.toUpperCase() === id ? id.toLowerCase() : id.toUpperCase(), ''];
    assert.deepEqual(verifier.verify(token, { ...at, revoked: near }), claims);
    assert.deepEqual(verifier.verify(token, { ...at, revoked: near.map((jwt_token_id) => ({ jwt_token_id })) }), claims);
    // The id built by concatenation (not the string the test holds), at every position.
    const built = id.slice(0, 9) + id.slice(9);
    for (let i = 0; i <= near.length; i++) {
      const list = [...near.slice(0, i), built, ...near.slice(i)];
      throwsCode(() => verifier.verify(token, { ...at, revoked: list }), 'revoked', id);
    }
    // The same array and document, edited in place between calls.
    const document = { revoked: near.map((jwt_token_id) => ({ jwt_token_id, exp: claims.exp })) };
    const list = [...near];
    assert.deepEqual(verifier.verify(token, { ...at, revoked: list }), claims);
    list.push(built);
    throwsCode(() => verifier.verify(token, { ...at, revoked: list }), 'revoked', id);
    list.pop();
    assert.deepEqual(verifier.verify(token, { ...at, revoked: list }), claims);
    document.revoked[3].jwt_token_id = built;
    throwsCode(() => verifier.verify(token, { ...at, revoked: document }), 'revoked', id);
    document.revoked[3].jwt_token_id = near[3];
    assert.deepEqual(verifier.verify(token, { ...at, revoked: document }), claims);
    // Every entry is checked, also those after the id.
    assert.throws(() => verifier.verify(token, { ...at, revoked: [built, 42] }), TypeError);
    assert.throws(() => verifier.verify(token, { ...at, revoked: [built, { jwt_token_id: 7 }] }), TypeError);
  });
  it('can be freed', () => {
    const verifier = Verifier.fromSecret(peers.secret);
    verifier.free();
    assert.throws(() => verifier.verify(peers.jwtHs256(claims), at));
  });
});

describe('every error code of SPEC 6 comes out', () => {
  const seen = new Set();
  const note = (fn, code) => seen.add(throwsCode(fn, code).code);
  it('one case each', async () => {
    const hs = Verifier.fromSecret(peers.secret);
    const ed = Verifier.fromJwks(peers.jwks);
    const claims = peers.claimsFor();
    const token = peers.jwtHs256(claims);
    note(() => hs.verify('nope', { now: claims.iat }), 'malformed');
    note(() => hs.verify(peers.tamper(token, { jwt_token_description: 'x' }), { now: claims.iat }), 'bad_signature');
    note(() => hs.verify(token, { now: claims.exp }), 'expired');
    note(() => hs.verify(peers.jwtHs256({ ...claims, nbf: claims.iat + 60 }), { now: claims.iat }), 'not_yet_valid');
    note(() => hs.verify(token, { now: claims.iat, revoked: [claims.jwt_token_id] }), 'revoked');
    const unknownKid = await peers.joseEd25519(claims, { alg: 'EdDSA', kid: 'nope' });
    note(() => ed.verify(unknownKid, { now: claims.iat }), 'unknown_key');
    note(() => ed.verify(token, { now: claims.iat }), 'alg_not_allowed');
    note(() => hs.verify(token, { now: claims.iat, issuer: 'elsewhere' }), 'claim_mismatch');
    note(() => parseLife('6 fortnights'), 'bad_life');
    assert.deepEqual([...seen].sort(), ['alg_not_allowed', 'bad_life', 'bad_signature', 'claim_mismatch',
      'expired', 'malformed', 'not_yet_valid', 'revoked', 'unknown_key']);
  });
});

describe('the packed fast path (tokenlife.js over wire.rs) and the checked exports agree', async () => {
  // The same module instance the package uses, so already initialised.
  const glue = await importGlue();
  const outcome = (fn) => {
    try { return { ok: fn() }; } catch (err) { return { code: err.code, message: err.message, type: err.constructor.name }; }
  };
  const hs = Verifier.fromSecret(peers.secret);
  const checkedHs = glue.Verifier.fromSecret(new TextEncoder().encode(peers.secret));
  /** The checked export, given the numbers tokenlife.js passes (NaN: the host's clock). */
  const checkedVerify = (token, options = {}) => outcome(() => checkedHs.verify(token, options.now ?? NaN,
    options.leeway ?? 0, options.issuer));
  /** What the package answered, cut to the claims core reads (the checked export's). */
  const fastVerify = (token, options, keys) => {
    const got = outcome(() => hs.verify(token, options));
    if (got.ok === undefined) return { ...got, type: 'Error' };
    return { ok: Object.fromEntries(keys.map((key) => [key, got.ok[key]]).filter(([, v]) => v !== undefined)) };
  };
  const now = Math.floor(Date.now() / 1000);
  const tokens = [
    peers.jwtHs256(peers.claimsFor()),
    peers.jwtHs256(peers.claimsFor({ username: 'zoë', description: 'naïve ☃ 日本語 🎫' })),
    peers.jwtHs256(peers.claimsFor({ description: 'x'.repeat(50_000) })),
    peers.jwtHs256(peers.claimsFor({ jwt_token_endpoints: ['GET /api/v1alpha/wallets/*', '/api/v1alpha/whoami'] })),
    peers.jwtHs256(peers.claimsFor({ iat: now, life: 600, description: 'live' })),
    peers.jwtHs256({ ...peers.claimsFor(), sub: 'bob' }),
    peers.jwtHs256({ ...peers.claimsFor(), note: 'other', nbf: 1 }),
    peers.tamper(peers.jwtHs256(peers.claimsFor()), { iss: 'x' }),
    'not a token', '', 'a.b.c', '\u00e9.\u00e9.\u00e9',
  ];
  const optionSets = [{}, { now: 1_700_000_100 }, { now: 1_700_000_360 }, { now: 1_700_000_360, leeway: 1 },
    { now: 1_700_000_000.5, issuer: 'tokenlife' }, { now: 1_700_000_000, issuer: 'elsewhere' }];
  it('verify: the same claims or the same error as the checked export', () => {
    for (const token of tokens) {
      for (const options of optionSets) {
        const checked = checkedVerify(token, options);
        const keys = checked.ok === undefined ? [] : Object.keys(checked.ok);
        assert.deepEqual(fastVerify(token, options, keys), checked, `${token.slice(0, 40)} ${JSON.stringify(options)}`);
      }
    }
    for (const vector of tokenVectors.cases) {
      const verifier = vector.key === 'hs256' ? Verifier.fromSecret(tokenVectors.keys.hs256_secret) : Verifier.fromJwks(tokenVectors.keys.jwks);
      const checked = vector.key === 'hs256' ? glue.Verifier.fromSecret(new TextEncoder().encode(tokenVectors.keys.hs256_secret))
        : glue.Verifier.fromJwks(JSON.stringify(tokenVectors.keys.jwks));
      const want = outcome(() => checked.verify(vector.token, vector.now ?? NaN, vector.leeway ?? 0, vector.issuer ?? undefined));
      const got = outcome(() => verifier.verify(vector.token, { now: vector.now, leeway: vector.leeway, issuer: vector.issuer }));
      if (want.ok === undefined) assert.deepEqual({ ...got, type: 'Error' }, want, vector.name);
      else for (const key of Object.keys(want.ok)) assert.deepEqual(got.ok[key], want.ok[key], `${vector.name} ${key}`);
    }
  });
  it('inspect and remainingLife: the same answers as the glue export', () => {
    for (const token of tokens) {
      for (const options of optionSets) {
        if (options.now === undefined) continue; // the clock moves
        const want = outcome(() => glue.inspect(token, options.now, options.leeway ?? 0));
        const got = outcome(() => inspect(token, options));
        assert.deepEqual(got.ok === undefined ? { ...got, type: 'Error' } : got, want);
        const left = outcome(() => remainingLife(token, options.now));
        assert.deepEqual(left.ok === undefined ? { ...left, type: 'Error' } : left,
          want.ok === undefined ? want : { ok: outcome(() => glue.inspect(token, options.now, 0)).ok.jwt_token_life_remaining });
      }
    }
  });
  it('checks HS256 at every signing-input length across blocks, and with every key length', () => {
    // The package hashes with core's own SHA-256 block function (core/src/sha256.rs) in
    // wasm; Node's crypto (through jsonwebtoken) is the reference. Descriptions of 0 to 150
    // characters move the signing input across three 64-byte blocks, so the padding takes
    // one block and two; keys shorter than, as long as and longer than a block are hashed
    // into the pads differently.
    for (const key of ['k', 'x'.repeat(32), 'y'.repeat(64), 'z'.repeat(65), 'w'.repeat(200)]) {
      const verifier = Verifier.fromSecret(key);
      for (let length = 0; length <= 150; length += key === 'x'.repeat(32) ? 1 : 7) {
        const claims = peers.claimsFor({ description: 'd'.repeat(length) });
        const token = peers.jwtHs256(claims, key);
        assert.equal(verifier.verify(token, { now: claims.iat }).jwt_token_description.length, length);
        const [header, payload, signature] = token.split('.');
        const flipped = signature[0] === 'A' ? `B${signature.slice(1)}` : `A${signature.slice(1)}`;
        assert.throws(() => verifier.verify(`${header}.${payload}.${flipped}`, { now: claims.iat }), { code: 'bad_signature' });
      }
    }
  });
  it('reads claim texts alike wherever the record has them', () => {
    // wasm/src/wire.rs leaves texts borrowed from the decoded token in place, and copies
    // them when one was unescaped, when there are endpoints, or when other claims keep
    // them far apart; ASCII texts are decoded at once, others one by one.
    const base = peers.claimsFor();
    const between = (member) => {
      const { username, ...rest } = base;
      return { username, ...member, ...rest };
    };
    const cases = [
      base,
      peers.claimsFor({ username: 'zoë', description: '☃' }),
      peers.claimsFor({ description: 'say "hi" \\ back\n' }),
      peers.claimsFor({ username: 'a\u00e9', iss: 'tokenlife \u{1f3ab}' }),
      peers.claimsFor({ jwt_token_endpoints: ['/a'] }),
      between({ note: 'x'.repeat(100) }),
      between({ note: 'x'.repeat(2000) }),
      between({ note: 'é'.repeat(2000) }),
      peers.claimsFor({ description: '' }),
    ];
    for (const claims of cases) {
      const token = peers.jwtHs256(claims);
      const fast = hs.verify(token, { now: claims.iat });
      assert.deepEqual(fast, claims);
      for (const name of ['username', 'jwt_token_id', 'jwt_token_description', 'iss', 'sub', 'jti']) {
        assert.equal(fast[name], claims[name], name);
      }
      assert.equal(inspect(token, { now: 0 }).jwt_token_description, claims.jwt_token_description);
    }
  });
  it('keeps non-ASCII text, long tokens and endpoint lists intact', () => {
    const fancy = peers.claimsFor({ username: 'zoë', description: 'naïve ☃ 日本語 🎫', jwt_token_endpoints: ['/a', '/b'] });
    assert.deepEqual(hs.verify(peers.jwtHs256(fancy), { now: fancy.iat }), fancy);
    assert.equal(inspect(peers.jwtHs256(fancy), { now: 0 }).jwt_token_description, 'naïve ☃ 日本語 🎫');
    const long = peers.claimsFor({ description: '∑'.repeat(60_000) });
    assert.deepEqual(hs.verify(peers.jwtHs256(long), { now: long.iat }), long);
    assert.deepEqual(hs.verify(peers.jwtHs256(fancy), { now: fancy.iat }), fancy);
  });
});
