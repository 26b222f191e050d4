// Verifier.fromSpecterSecret: an edge that verifies tokenlife tokens verifies the tokens a
// Specter node issued before it moved to tokenlife (`tokenlife import-specter`). The
// tokens come from Specter's code path (tests/vectors/make-specter-users.py: PyJWT's
// encoding of Specter's User.generate_jwt_token).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { importPackage, root } from '../lib/package.mjs';

const { Verifier, inspect } = await importPackage();
const KEY = 'specter secret key';
const users = JSON.parse(readFileSync(join(root, 'tests/vectors/specter-users.json'), 'utf8'));
const wallet = users[0].jwt_tokens['5b9e1a52-1111-4c3a-9f00-0000000000a1'].jwt_token;
const old = users[0].jwt_tokens['5b9e1a52-2222-4c3a-9f00-0000000000a2'].jwt_token;

const b64url = (text) => Buffer.from(text).toString('base64url');
/** A token signed as PyJWT signs it, with this payload text. */
function pyjwt(payload, key = KEY) {
  const input = `${b64url('{"alg":"HS256","typ":"JWT"}')}.${b64url(payload)}`;
  return `${input}.${createHmac('sha256', key).update(input).digest('base64url')}`;
}
const code = (fn) => {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof Error && typeof err.code === 'string', String(err));
    return err.code;
  }
  return 'ok';
};

test('a Specter token verifies under Specter\'s key, to its own claims', () => {
  const verifier = Verifier.fromSpecterSecret(KEY);
  const claims = verifier.verify(wallet, { now: 1_800_000_000 });
  assert.equal(claims.username, 'specter');
  assert.equal(claims.jwt_token_id, '5b9e1a52-1111-4c3a-9f00-0000000000a1');
  assert.equal(claims.jwt_token_description, 'wallet script');
  assert.equal(claims.exp, 4102444800);
  assert.equal(claims.iat, 1767225600);
  assert.equal(claims.sub, 'specter');
  // The same key as bytes.
  const bytes = Verifier.fromSpecterSecret(new TextEncoder().encode(KEY));
  assert.equal(bytes.verify(wallet, { now: 1_800_000_000 }).username, 'specter');
  // inspect agrees on its life, without the key.
  assert.equal(inspect(wallet, { now: 1_800_000_000 }).expiry_status, 'Valid');
});

test('expiry, key, claims and revocation are checked as for every token', () => {
  const verifier = Verifier.fromSpecterSecret(KEY);
  assert.equal(code(() => verifier.verify(old, { now: 1_800_000_000 })), 'expired');
  assert.equal(code(() => verifier.verify(wallet, { now: 4102444800 })), 'expired');
  assert.equal(code(() => Verifier.fromSpecterSecret('other').verify(wallet, { now: 0 })), 'bad_signature');
  assert.equal(code(() => verifier.verify(wallet, { now: 0, issuer: 'tokenlife' })), 'claim_mismatch');
  assert.equal(code(() => verifier.verify(wallet, {
    now: 0, revoked: ['5b9e1a52-1111-4c3a-9f00-0000000000a1'],
  })), 'revoked');
  const base = '"username":"a","jwt_token_id":"i","jwt_token_description":"d","exp":100';
  assert.equal(code(() => verifier.verify(pyjwt(`{${base},"iss":"x"}`), { now: 0 })), 'claim_mismatch');
  assert.equal(code(() => verifier.verify(pyjwt(`{${base},"sub":"a"}`), { now: 0 })), 'claim_mismatch');
  assert.equal(code(() => verifier.verify(pyjwt('{"username":"a","exp":100}'), { now: 0 })), 'malformed');
  assert.equal(code(() => Verifier.fromSpecterSecret('')), 'unknown_key');
  // A tokenlife verifier with the same key does not take Specter's claims.
  assert.equal(code(() => new Verifier({ secret: KEY }).verify(wallet, { now: 0 })), 'malformed');
});
