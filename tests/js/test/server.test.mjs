// Tokens made by the real tokenlife server ($TOKENLIFE_BIN serve), HS256 with a known
// SECRET_KEY and EdDSA with its JWKS, read and verified by the package.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { jwtVerify, createLocalJWKSet } from 'jose';
import { importPackage, requirePackage } from '../lib/package.mjs';
import { startServer } from '../lib/server.mjs';

const esm = await importPackage();
const cjs = requirePackage();
const SECRET = 'known secret for the tokenlife package tests: 32+ bytes';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

function codeOf(fn) {
  try { fn(); } catch (err) {
    assert.ok(err instanceof Error, `not an Error: ${err}`);
    return err.code;
  }
  return 'ok';
}

for (const [loaded, tl] of [['ES module', esm], ['CommonJS', cjs]]) {
  describe(`HS256 server, package as ${loaded}`, () => {
    let server;
    let created;
    before(async () => {
      server = await startServer({ secret: SECRET });
      created = await server.createToken(`hs256 via ${loaded}`, '6 minutes');
    });
    after(() => server?.stop());

    it('verifies the token with the server secret and gives its claims', () => {
      const claims = tl.Verifier.fromSecret(SECRET).verify(created.jwt_token, { issuer: 'tokenlife' });
      assert.deepEqual(Object.keys(claims).sort(), ['exp', 'iat', 'iss', 'jti', 'jwt_token_description',
        'jwt_token_id', 'sub', 'username']);
      assert.equal(claims.username, 'admin');
      assert.equal(claims.sub, 'admin');
      assert.equal(claims.jwt_token_id, created.jwt_token_id);
      assert.match(claims.jwt_token_id, UUID);
      assert.equal(claims.jti, created.jwt_token_id);
      assert.equal(claims.jwt_token_description, `hs256 via ${loaded}`);
      assert.equal(claims.exp - claims.iat, tl.parseLife('6 minutes'));
      assert.equal(created.jwt_token_life, tl.parseLife('6 minutes'));
      assert.ok(Math.abs(claims.iat - Date.now() / 1000) < 60);
    });

    it('inspects, decodes and measures the token like the server reports it', async () => {
      const seen = tl.inspect(created.jwt_token);
      assert.equal(seen.username, 'admin');
      assert.equal(seen.jwt_token_id, created.jwt_token_id);
      assert.equal(seen.jwt_token_life, 360);
      assert.equal(seen.expiry_status, 'Valid');
      assert.ok(seen.jwt_token_life_remaining > 300 && seen.jwt_token_life_remaining <= 360);
      const left = tl.remainingLife(created.jwt_token, seen.iat + 60.5);
      assert.equal(left, 299.5);
      const { header } = tl.decode(created.jwt_token);
      assert.equal(header.alg, 'HS256');
      assert.equal(header.typ, 'JWT');
      // Every header names its key, HS256 too: 16 hex of SHA-256("tokenlife hs256 kid" ‖ key).
      const kid = createHash('sha256').update('tokenlife hs256 kid').update(SECRET).digest('hex').slice(0, 16);
      assert.equal(header.kid, kid);
      const whoami = await server.getJson('/api/v1alpha/whoami', { authorization: `Bearer ${created.jwt_token}` });
      assert.equal(whoami.username, seen.username);
      assert.equal(whoami.jwt_token_id, seen.jwt_token_id);
      assert.equal(whoami.jwt_token_life, seen.jwt_token_life);
      assert.equal(whoami.expiry_status, tl.inspect(created.jwt_token).expiry_status);
      assert.ok(Math.abs(whoami.jwt_token_life_remaining - tl.remainingLife(created.jwt_token)) <= 2);
    });

    it('refuses the token with the SPEC codes', () => {
      const verifier = tl.Verifier.fromSecret(SECRET);
      const { exp, iat } = tl.inspect(created.jwt_token);
      assert.equal(codeOf(() => verifier.verify(created.jwt_token, { now: exp })), 'expired');
      assert.equal(codeOf(() => verifier.verify(created.jwt_token, { now: exp, leeway: 1 })), 'ok');
      assert.equal(codeOf(() => verifier.verify(created.jwt_token, { now: iat, issuer: 'other' })), 'claim_mismatch');
      assert.equal(codeOf(() => tl.Verifier.fromSecret('not the secret').verify(created.jwt_token)), 'bad_signature');
      const [h, p, s] = created.jwt_token.split('.');
      const forged = { ...JSON.parse(Buffer.from(p, 'base64url')), username: 'root', sub: 'root' };
      assert.equal(codeOf(() => verifier.verify(`${h}.${Buffer.from(JSON.stringify(forged)).toString('base64url')}.${s}`)), 'bad_signature');
      assert.equal(codeOf(() => verifier.verify(`${h}.${p}.${s}.${s}`)), 'malformed');
      assert.equal(codeOf(() => verifier.verify(`${h}.${p}`)), 'malformed');
    });

    it('honours the revoked document after the token is deleted', async () => {
      const doomed = await server.createToken(`to revoke via ${loaded}`, '1 hour');
      const verifier = tl.Verifier.fromSecret(SECRET);
      const before = await server.getJson('/api/v1alpha/revoked');
      assert.equal(codeOf(() => verifier.verify(doomed.jwt_token, { revoked: before })), 'ok');
      await server.deleteToken(doomed.jwt_token_id);
      const revoked = await server.getJson('/api/v1alpha/revoked');
      assert.ok(revoked.revoked.some((entry) => entry.jwt_token_id === doomed.jwt_token_id));
      assert.equal(codeOf(() => verifier.verify(doomed.jwt_token, { revoked })), 'revoked');
      assert.equal(codeOf(() => verifier.verify(doomed.jwt_token, { revoked: revoked.revoked.map((e) => e.jwt_token_id) })), 'revoked');
      assert.equal(codeOf(() => verifier.verify(created.jwt_token, { revoked })), 'ok');
    });

    it('publishes no keys for HS256, so a JWKS verifier cannot be built from it', async () => {
      const jwks = await server.getJson('/.well-known/jwks.json');
      assert.deepEqual(jwks.keys, []);
      assert.equal(codeOf(() => tl.Verifier.fromJwks(jwks)), 'unknown_key');
    });
  });

  describe(`EdDSA server, package as ${loaded}`, () => {
    let server;
    let created;
    let jwks;
    before(async () => {
      server = await startServer({ alg: 'EdDSA' });
      created = await server.createToken(`eddsa via ${loaded}`, '6 minutes');
      jwks = await server.getJson('/.well-known/jwks.json');
    });
    after(() => server?.stop());

    it('verifies the token with the server JWKS (object or text)', async () => {
      const text = JSON.stringify(jwks);
      for (const verifier of [tl.Verifier.fromJwks(jwks), new tl.Verifier({ jwks: text }), new tl.Verifier(jwks)]) {
        const claims = verifier.verify(created.jwt_token, { issuer: 'tokenlife' });
        assert.equal(claims.username, 'admin');
        assert.equal(claims.jwt_token_id, created.jwt_token_id);
        assert.equal(claims.exp - claims.iat, 360);
      }
      // jose agrees on the same token and key set.
      const { payload } = await jwtVerify(created.jwt_token, createLocalJWKSet(jwks));
      assert.deepEqual(payload, tl.Verifier.fromJwks(jwks).verify(created.jwt_token));
    });

    it('has an EdDSA header whose kid is in the JWKS', () => {
      const { header } = tl.decode(created.jwt_token);
      assert.equal(header.alg, 'EdDSA');
      assert.equal(header.typ, 'JWT');
      assert.ok(jwks.keys.some((key) => key.kid === header.kid && key.kty === 'OKP' && key.crv === 'Ed25519'));
    });

    it('refuses with the SPEC codes', () => {
      const verifier = tl.Verifier.fromJwks(jwks);
      const { exp } = tl.inspect(created.jwt_token);
      assert.equal(codeOf(() => verifier.verify(created.jwt_token, { now: exp })), 'expired');
      assert.equal(codeOf(() => tl.Verifier.fromSecret(SECRET).verify(created.jwt_token)), 'alg_not_allowed');
      const [h, p, s] = created.jwt_token.split('.');
      const sig = Buffer.from(s, 'base64url');
      sig[10] ^= 1;
      assert.equal(codeOf(() => verifier.verify(`${h}.${p}.${sig.toString('base64url')}`)), 'bad_signature');
      const otherKid = { keys: jwks.keys.map((key) => ({ ...key, kid: 'rotated-away' })) };
      assert.equal(codeOf(() => tl.Verifier.fromJwks(otherKid).verify(created.jwt_token)), 'unknown_key');
    });

    it('honours revocation', async () => {
      const doomed = await server.createToken(`eddsa to revoke via ${loaded}`, '1 hour');
      await server.deleteToken(doomed.jwt_token_id);
      const revoked = await server.getJson('/api/v1alpha/revoked');
      assert.equal(codeOf(() => tl.Verifier.fromJwks(jwks).verify(doomed.jwt_token, { revoked })), 'revoked');
    });
  });
}
