// The package loaded with require('tokenlife') (the exports map's node/require entry),
// checked function by function and against the same vectors as the ES module.
'use strict';
const assert = require('node:assert/strict');
const { before, describe, it } = require('node:test');

let tl;
let esm;
let vectors;
let peers;
before(async () => {
  const pkg = await import('../lib/package.mjs');
  tl = pkg.requirePackage();
  esm = await pkg.importPackage();
  vectors = await import('../lib/vectors.mjs');
  peers = await import('../lib/peers.mjs');
});

function code(fn) {
  try { fn(); } catch (err) {
    assert.ok(err instanceof Error);
    return err.code;
  }
  assert.fail('no error');
}

describe('require("tokenlife")', () => {
  it('resolves to the CommonJS entry and is ready without init', () => {
    assert.equal(typeof tl, 'object');
    for (const name of ['Verifier', 'inspect', 'remainingLife', 'parseLife', 'formatLife', 'decode', 'initSync', 'default']) {
      assert.equal(typeof tl[name], 'function', name);
    }
    assert.equal(tl.formatLife(tl.parseLife('1 hour 30 minutes')), '1h 30m');
  });

  it('gives the same answers as the ES module on the life vectors', () => {
    for (const [text, secs] of vectors.life.ok) assert.equal(tl.parseLife(text), secs);
    for (const [text] of vectors.life.err) {
      assert.equal(code(() => tl.parseLife(text)), 'bad_life');
      let a; let b;
      try { tl.parseLife(text); } catch (err) { a = err.message; }
      try { esm.parseLife(text); } catch (err) { b = err.message; }
      assert.equal(a, b);
    }
    for (const [secs, text] of vectors.life.format) assert.equal(tl.formatLife(secs), text);
  });

  it('gives the same answers as the ES module on the token vectors', () => {
    const { keys, cases } = vectors.tokens;
    const mine = { hs256: new tl.Verifier({ secret: keys.hs256_secret }), jwks: new tl.Verifier({ jwks: keys.jwks }) };
    const theirs = { hs256: new esm.Verifier({ secret: keys.hs256_secret }), jwks: new esm.Verifier({ jwks: keys.jwks }) };
    for (const vector of cases) {
      const options = { now: vector.now, leeway: vector.leeway, issuer: vector.issuer, revoked: vector.revoked };
      const run = (verifier) => {
        try { return { ok: verifier.verify(vector.token, options) }; } catch (err) { return { error: err.code }; }
      };
      assert.deepEqual(run(mine[vector.key]), vector.expect, vector.name);
      assert.deepEqual(run(mine[vector.key]), run(theirs[vector.key]), vector.name);
    }
  });

  it('inspects, decodes and measures remaining life', () => {
    const claims = peers.claimsFor({ life: 360 });
    const token = peers.jwtHs256(claims);
    assert.deepEqual(tl.inspect(token, { now: claims.iat + 60 }), esm.inspect(token, { now: claims.iat + 60 }));
    assert.equal(tl.inspect(token, { now: claims.iat + 60 }).jwt_token_life_remaining, 300);
    assert.equal(tl.remainingLife(token, claims.exp - 1.5), 1.5);
    assert.deepEqual(tl.decode(token).claims, claims);
    assert.equal(code(() => tl.inspect('x')), 'malformed');
    assert.equal(code(() => tl.remainingLife('x')), 'malformed');
    assert.equal(code(() => tl.decode('x')), 'malformed');
  });

  it('throws every SPEC code as an Error', async () => {
    const claims = peers.claimsFor();
    const token = peers.jwtHs256(claims);
    const hs = tl.Verifier.fromSecret(peers.secret);
    const ed = tl.Verifier.fromJwks(peers.jwks);
    const at = { now: claims.iat };
    const unknownKid = await peers.joseEd25519(claims, { alg: 'EdDSA', kid: 'nope' });
    assert.deepEqual([
      code(() => hs.verify('x.y.z', at)),
      code(() => hs.verify(peers.tamper(token, { iss: 'x' }), at)),
      code(() => hs.verify(token, { now: claims.exp })),
      code(() => hs.verify(peers.jwtHs256({ ...claims, nbf: claims.iat + 1 }), at)),
      code(() => hs.verify(token, { ...at, revoked: { revoked: [{ jwt_token_id: claims.jwt_token_id, exp: claims.exp }] } })),
      code(() => ed.verify(unknownKid, at)),
      code(() => hs.verify(peers.unsecured(claims)[1], at)),
      code(() => hs.verify(token, { ...at, issuer: 'x' })),
      code(() => tl.parseLife('0 seconds')),
    ], ['malformed', 'bad_signature', 'expired', 'not_yet_valid', 'revoked', 'unknown_key',
      'alg_not_allowed', 'claim_mismatch', 'bad_life']);
  });
});

describe('require("tokenlife/fresh")', () => {
  it('is the CommonJS fresh.cjs, over the same instance as require("tokenlife")', async () => {
    const { requireFromConsumer, pkgDir } = await import('../lib/package.mjs');
    const path = require('node:path');
    assert.equal(requireFromConsumer.resolve('tokenlife/fresh'), path.join(pkgDir, 'fresh.cjs'));
    const fresh = requireFromConsumer('tokenlife/fresh');
    assert.deepEqual(Object.keys(fresh).sort(), ['FreshError', 'FreshVerifier', 'freshVerifier']);
    // Loading it loaded node.cjs, the module require('tokenlife') returns, and no other copy.
    const loaded = Object.keys(requireFromConsumer.cache).filter((file) => file.startsWith(pkgDir)).sort();
    assert.deepEqual(loaded.map((file) => path.basename(file)), ['fresh.cjs', 'node.cjs']);
    assert.equal(requireFromConsumer.cache[path.join(pkgDir, 'node.cjs')].exports, tl);
  });

  it('verifies and refuses as the package does, with FreshError for a bad document', async () => {
    const { requireFromConsumer } = await import('../lib/package.mjs');
    const { freshVerifier, FreshError } = requireFromConsumer('tokenlife/fresh');
    const claims = peers.claimsFor();
    const token = await peers.joseEd25519(claims);
    let revoked = [];
    const fetch = async (url) => Response.json(url.endsWith('/.well-known/jwks.json') ? peers.jwks : { revoked });
    let now = claims.iat;
    const fresh = await freshVerifier({ url: 'https://tokens.example', revokedEvery: 30, fetch, clock: () => now });
    assert.deepEqual(await fresh.verify(token), claims);
    revoked = [{ jwt_token_id: claims.jwt_token_id, exp: claims.exp }];
    now += 31;
    await assert.rejects(fresh.verify(token, { now: claims.iat }), (err) => err instanceof tl.TokenlifeError
      && err instanceof esm.TokenlifeError && err.code === 'revoked' && err.claims.jti === claims.jti);
    await assert.rejects(freshVerifier({ url: 'https://tokens.example', fetch: async () => new Response('not json') }),
      (err) => err instanceof FreshError && err.code === 'bad_document');
  });

  it('throws a FreshError that is instanceof the ES module\'s FreshError, and the reverse', async () => {
    const { requireFromConsumer } = await import('../lib/package.mjs');
    const { pathToFileURL } = require('node:url');
    const cjs = requireFromConsumer('tokenlife/fresh');
    const mjs = await import(pathToFileURL(requireFromConsumer.resolve('tokenlife/fresh').replace(/fresh\.cjs$/, 'fresh.node.mjs')).href);
    assert.notEqual(cjs.FreshError, mjs.FreshError);
    const broken = async () => { throw new TypeError('connection refused'); };
    for (const [mine, theirs] of [[cjs, mjs], [mjs, cjs]]) {
      await assert.rejects(mine.freshVerifier({ url: 'https://tokens.example', fetch: broken }),
        (err) => err instanceof theirs.FreshError && err instanceof mine.FreshError && err.code === 'fetch_failed');
    }
    assert.ok(!(new Error('x') instanceof cjs.FreshError));
    assert.ok(!(new tl.TokenlifeError('x', 'malformed') instanceof cjs.FreshError));
  });
});
