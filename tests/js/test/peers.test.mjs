// Tokens made by peer libraries (jose, jsonwebtoken; Node's crypto for the shapes they
// refuse to make), with tokenlife's claim set, against the package's Verifier.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { jwtVerify, importJWK } from 'jose';
import jsonwebtoken from 'jsonwebtoken';
import { importPackage } from '../lib/package.mjs';
import * as peers from '../lib/peers.mjs';

const { Verifier } = await importPackage();

function codeOf(fn) {
  try { fn(); } catch (err) {
    assert.ok(err instanceof Error, `not an Error: ${err}`);
    return err.code;
  }
  return 'ok';
}

const claims = peers.claimsFor({ description: 'made by a peer', life: 360 });
const { iat, exp } = claims;
const hs = Verifier.fromSecret(peers.secret);
const ed = Verifier.fromJwks(peers.jwks);
const made = {
  'jose HS256': { token: await peers.joseHs256(claims), verifier: hs },
  'jsonwebtoken HS256': { token: peers.jwtHs256(claims), verifier: hs },
  'jose EdDSA (JWKS)': { token: await peers.joseEd25519(claims), verifier: ed },
};

for (const [name, { token, verifier }] of Object.entries(made)) {
  describe(name, () => {
    it('verifies, giving the claims the peer signed', () => {
      assert.deepEqual(verifier.verify(token, { now: iat + 1 }), claims);
      assert.deepEqual(verifier.verify(token, { now: iat + 1, issuer: 'tokenlife' }), claims);
    });
    it('is refused at exp exactly and after, accepted just before', () => {
      assert.equal(codeOf(() => verifier.verify(token, { now: exp })), 'expired');
      assert.equal(codeOf(() => verifier.verify(token, { now: exp + 3600 })), 'expired');
      assert.deepEqual(verifier.verify(token, { now: exp - 0.001 }), claims);
    });
    it('honours an explicit leeway, and only that', () => {
      assert.deepEqual(verifier.verify(token, { now: exp, leeway: 5 }), claims);
      assert.deepEqual(verifier.verify(token, { now: exp + 4.999, leeway: 5 }), claims);
      assert.equal(codeOf(() => verifier.verify(token, { now: exp + 5, leeway: 5 })), 'expired');
    });
    it('is refused when tampered with', () => {
      for (const change of [{ username: 'mallory', sub: 'mallory' }, { exp: exp + 3600 }, { jwt_token_description: '' }]) {
        assert.equal(codeOf(() => verifier.verify(peers.tamper(token, change), { now: iat })), 'bad_signature');
      }
      const [h, p, s] = token.split('.');
      const flipped = Buffer.from(s, 'base64url');
      flipped[5] ^= 0x20;
      assert.equal(codeOf(() => verifier.verify(`${h}.${p}.${flipped.toString('base64url')}`, { now: iat })), 'bad_signature');
      assert.equal(codeOf(() => verifier.verify(`${h}.${p}.`, { now: iat })), 'bad_signature');
    });
    it('is refused when revoked (ids, Set or the server document)', () => {
      const id = claims.jwt_token_id;
      for (const revoked of [[id], new Set([id]), { revoked: [{ jwt_token_id: id, exp }] }]) {
        assert.equal(codeOf(() => verifier.verify(token, { now: iat, revoked })), 'revoked');
      }
      assert.deepEqual(verifier.verify(token, { now: iat, revoked: [peers.claimsFor().jwt_token_id] }), claims);
    });
    it('is refused for another issuer', () => {
      assert.equal(codeOf(() => verifier.verify(token, { now: iat, issuer: 'someone-else' })), 'claim_mismatch');
    });
  });
}

describe('keys and algorithms', () => {
  it('a token signed with another secret is refused', async () => {
    const key = new TextEncoder().encode(peers.otherSecret);
    assert.equal(codeOf(() => hs.verify(peers.jwtHs256(claims, peers.otherSecret), { now: iat })), 'bad_signature');
    const joseOther = await peers.joseHs256(claims, key);
    assert.equal(codeOf(() => hs.verify(joseOther, { now: iat })), 'bad_signature');
    assert.equal(codeOf(() => Verifier.fromSecret(peers.otherSecret).verify(made['jose HS256'].token, { now: iat })), 'bad_signature');
  });
  it('an Ed25519 token from another key with the same kid is refused', async () => {
    const other = peers.claimsFor();
    const { generateKeyPairSync } = await import('node:crypto');
    const { SignJWT } = await import('jose');
    const stranger = generateKeyPairSync('ed25519').privateKey;
    const token = await new SignJWT(other).setProtectedHeader({ alg: 'EdDSA', kid: peers.kid }).sign(stranger);
    assert.equal(codeOf(() => ed.verify(token, { now: other.iat })), 'bad_signature');
  });
  it('alg none is refused, by either verifier, from either library', () => {
    for (const token of peers.unsecured(claims)) {
      assert.equal(codeOf(() => hs.verify(token, { now: iat })), 'alg_not_allowed');
      assert.equal(codeOf(() => ed.verify(token, { now: iat })), 'alg_not_allowed');
    }
  });
  it('an unknown kid is refused with unknown_key', async () => {
    const token = await peers.joseEd25519(claims, { alg: 'EdDSA', typ: 'JWT', kid: 'no-such-key' });
    assert.equal(codeOf(() => ed.verify(token, { now: iat })), 'unknown_key');
  });
  it('HS256 signed with the Ed25519 public key as the secret is refused (alg confusion)', () => {
    for (const secret of peers.publicKeyAsSecrets()) {
      for (const header of [{ alg: 'HS256', typ: 'JWT', kid: peers.kid }, { alg: 'HS256', typ: 'JWT' }]) {
        const token = peers.rawHs256(header, claims, secret);
        assert.equal(codeOf(() => ed.verify(token, { now: iat })), 'alg_not_allowed', JSON.stringify(header));
      }
    }
  });
  it('an HS256 secret never verifies an EdDSA token, nor a JWKS an HS256 one', () => {
    assert.equal(codeOf(() => hs.verify(made['jose EdDSA (JWKS)'].token, { now: iat })), 'alg_not_allowed');
    assert.equal(codeOf(() => ed.verify(made['jose HS256'].token, { now: iat })), 'alg_not_allowed');
  });
  it('a JWKS with an oct key verifies HS256 tokens', () => {
    const jwks = { keys: [{ kty: 'oct', k: Buffer.from(peers.secret).toString('base64url'), alg: 'HS256' }] };
    assert.deepEqual(Verifier.fromJwks(jwks).verify(made['jsonwebtoken HS256'].token, { now: iat }), claims);
  });
  it('nbf in the future is refused with not_yet_valid, within leeway accepted', () => {
    const token = peers.jwtHs256({ ...claims, nbf: iat + 60 });
    assert.equal(codeOf(() => hs.verify(token, { now: iat })), 'not_yet_valid');
    assert.equal(codeOf(() => hs.verify(token, { now: iat, leeway: 60 })), 'ok');
  });
  it('sub or jti disagreeing with username or jwt_token_id is refused', () => {
    assert.equal(codeOf(() => hs.verify(peers.jwtHs256({ ...claims, sub: 'bob' }), { now: iat })), 'claim_mismatch');
    assert.equal(codeOf(() => hs.verify(peers.jwtHs256({ ...claims, jti: 'other' }), { now: iat })), 'claim_mismatch');
    const { username, ...noUsername } = claims;
    assert.equal(codeOf(() => hs.verify(peers.jwtHs256(noUsername), { now: iat })), 'malformed');
  });
});

describe('the peers agree with the package', () => {
  it('jose and jsonwebtoken accept what the package accepts, refuse at exp', async () => {
    const key = await importJWK(peers.jwks.keys[0], 'EdDSA');
    const secret = new TextEncoder().encode(peers.secret);
    const at = new Date((iat + 1) * 1000);
    assert.deepEqual((await jwtVerify(made['jose EdDSA (JWKS)'].token, key, { currentDate: at })).payload, claims);
    assert.deepEqual((await jwtVerify(made['jsonwebtoken HS256'].token, secret, { currentDate: at })).payload, claims);
    assert.deepEqual(jsonwebtoken.verify(made['jose HS256'].token, peers.secret, { clockTimestamp: iat + 1 }), claims);
    await assert.rejects(jwtVerify(made['jose HS256'].token, secret, { currentDate: new Date(exp * 1000) }), { code: 'ERR_JWT_EXPIRED' });
  });
});
