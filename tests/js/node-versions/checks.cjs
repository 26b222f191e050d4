// The checks the probes run on one copy of the package, written once for the ES module
// (probe.mjs) and the CommonJS entry (probe.cjs). Plain CommonJS with node:assert and
// nothing else: no test runner, no JWT library, no global the package itself would not
// have (Node 18 has no global `crypto`, and the probe adds none).
'use strict';
const assert = require('node:assert/strict');

/** Runs every check on `tl` (the package) with the shared vectors; returns how many ran. */
exports.checkPackage = function checkPackage(tl, vectors) {
  let count = 0;
  const check = (fn) => { fn(); count += 1; };
  const { keys, cases } = vectors.tokens;
  const verifiers = { hs256: tl.Verifier.fromSecret(keys.hs256_secret), jwks: new tl.Verifier({ jwks: keys.jwks }) };

  // Every token vector: the claims, or an Error with the SPEC's code that is a TokenlifeError.
  for (const vector of cases) {
    const options = { now: vector.now, leeway: vector.leeway, issuer: vector.issuer, revoked: vector.revoked };
    check(() => {
      let got;
      try {
        got = { ok: verifiers[vector.key].verify(vector.token, options) };
      } catch (err) {
        assert.ok(err instanceof Error && err instanceof tl.TokenlifeError, `${vector.name}: ${err}`);
        assert.equal(err.name, 'TokenlifeError');
        got = { error: err.code };
        if (['expired', 'revoked', 'not_yet_valid', 'claim_mismatch'].includes(err.code)) {
          assert.equal(typeof err.claims, 'object', `${vector.name}: claims attached`);
          assert.equal(err.claims.jwt_token_id, tl.decode(vector.token).claims.jwt_token_id);
        }
      }
      assert.deepEqual(got, vector.expect, vector.name);
    });
  }

  const valid = cases.find((vector) => vector.name === 'hs256 valid');
  assert.ok(valid, 'the vectors have "hs256 valid"');
  const claims = valid.expect.ok;
  check(() => {
    const seen = tl.inspect(valid.token, { now: claims.iat + 60 });
    assert.equal(seen.jwt_token_id, claims.jwt_token_id);
    assert.equal(seen.jwt_token_life, claims.exp - claims.iat);
    assert.equal(seen.jwt_token_life_remaining, claims.exp - claims.iat - 60);
    assert.equal(seen.expiry_status, 'Valid');
    assert.equal(tl.remainingLife(valid.token, new Date((claims.iat + 60) * 1000)), claims.exp - claims.iat - 60);
    assert.equal(tl.decode(valid.token).header.alg, 'HS256');
  });
  check(() => {
    // Wrong types are TypeErrors; `now` in milliseconds is refused; a bad token is `malformed`.
    assert.throws(() => tl.inspect(42), TypeError);
    assert.throws(() => tl.inspect(valid.token, { now: Date.now() }), TypeError);
    assert.throws(() => tl.formatLife('360'), TypeError);
    assert.throws(() => tl.inspect('not.a.token'), (err) => err instanceof tl.TokenlifeError && err.code === 'malformed');
  });
  check(() => {
    for (const [text, secs] of vectors.life.ok) assert.equal(tl.parseLife(text), secs, text);
    for (const [secs, text] of vectors.life.format) assert.equal(tl.formatLife(secs), text);
    assert.throws(() => tl.parseLife('soon'), (err) => err instanceof tl.TokenlifeError && err.code === 'bad_life');
  });
  return count;
};

/**
 * tokenlife/fresh over an in-memory server (a `fetch` answering the JWKS and the revoked
 * list, with ETags) and a clock the probe moves: verifies, then refuses once revoked.
 */
exports.checkFresh = async function checkFresh(fresh, tl, vectors) {
  const { keys, cases } = vectors.tokens;
  const valid = cases.find((vector) => vector.key === 'jwks' && vector.expect.ok && !vector.revoked && !vector.issuer);
  assert.ok(valid, 'the vectors have a valid JWKS token');
  const id = valid.expect.ok.jwt_token_id;
  let revoked = [];
  const requests = [];
  const answer = (body) => new Response(JSON.stringify(body), {
    headers: { 'content-type': 'application/json', etag: `"${requests.length}"` },
  });
  let now = valid.now;
  const verifier = await fresh.freshVerifier({
    url: 'https://tokens.example/',
    revokedEvery: 30,
    clock: () => now,
    fetch: async (url) => {
      requests.push(new URL(String(url)).pathname);
      return answer(String(url).endsWith('/.well-known/jwks.json') ? keys.jwks : { revoked });
    },
  });
  assert.equal((await verifier.verify(valid.token, { now: valid.now })).jwt_token_id, id);
  revoked = [{ jwt_token_id: id, exp: valid.expect.ok.exp }];
  now += 31;
  await assert.rejects(verifier.verify(valid.token, { now: valid.now }), (err) => err instanceof tl.TokenlifeError && err.code === 'revoked');
  assert.deepEqual(requests, ['/.well-known/jwks.json', '/api/v1alpha/revoked', '/api/v1alpha/revoked']);
  assert.equal(typeof fresh.FreshError, 'function');
  return 1;
};
