// Regenerates tokens.json: tokens made by a peer JWT implementation (jose, and Node's own
// crypto for shapes jose refuses to make), with the result each one must give under the
// SPEC's rules. The expectations are written from the rules, not from tokenlife's output.
//
// Run once, by hand: `npm install jose@6 && node make-tokens.mjs > tokens.json`.
// Ed25519 signatures are deterministic and jose's HS256 is plain HMAC, so a rerun with the
// same inputs gives the same file.
import { SignJWT, UnsecuredJWT, importJWK, exportJWK, calculateJwkThumbprint } from 'jose';
import { createHmac, createPrivateKey, createPublicKey, sign as edSign } from 'node:crypto';

const b64u = (data) => Buffer.from(data).toString('base64url');
const secret = 'tokenlife interop secret: 32+ bytes, never use it';
const otherSecret = 'another secret that signs nothing of ours, at all';
const seed = Buffer.alloc(32, 0).map((_, i) => i * 7 + 1);
const edPrivate = createPrivateKey({
  key: Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]),
  format: 'der',
  type: 'pkcs8',
});
const edJwk = await exportJWK(createPublicKey(edPrivate));
const kid = await calculateJwkThumbprint(edJwk);
const jwks = { keys: [{ ...edJwk, kid, alg: 'EdDSA', use: 'sig' }] };

const iat = 1700000000;
const exp = iat + 360;
const id = '3f2b8c4e-9a1d-4e7b-8c2a-5d6e7f809a1b';
const claims = {
  username: 'alice', jwt_token_id: id, jwt_token_description: 'interop', iat, exp,
  sub: 'alice', jti: id, iss: 'tokenlife',
};
const hsKey = new TextEncoder().encode(secret);
const hs = (payload, key = hsKey, header = { alg: 'HS256', typ: 'JWT' }) =>
  new SignJWT(payload).setProtectedHeader(header).sign(key);
const ed = (payload, header = { alg: 'EdDSA', typ: 'JWT', kid }) =>
  new SignJWT(payload).setProtectedHeader(header).sign(edPrivate);
// Node's crypto directly, for headers jose will not produce.
const rawHs = (header, payload, key) => {
  const input = `${b64u(JSON.stringify(header))}.${b64u(JSON.stringify(payload))}`;
  return `${input}.${createHmac('sha256', key).update(input).digest('base64url')}`;
};

const good = await hs(claims);
const [h, p, s] = good.split('.');
const tampered = `${h}.${b64u(JSON.stringify({ ...claims, username: 'mallory', sub: 'mallory' }))}.${s}`;
const edGood = await ed(claims);
const [eh, ep, es] = edGood.split('.');
const edSig = Buffer.from(es, 'base64url');
edSig[0] ^= 1;
const publicPem = createPublicKey(edPrivate).export({ type: 'spki', format: 'pem' });

const ok = { ok: claims };
const cases = [
  { name: 'hs256 valid', key: 'hs256', token: good, now: iat + 100, expect: ok },
  { name: 'hs256 fractional now just before exp', key: 'hs256', token: good, now: exp - 0.5, expect: ok },
  { name: 'hs256 at exp exactly', key: 'hs256', token: good, now: exp, expect: { error: 'expired' } },
  { name: 'hs256 at exp with leeway', key: 'hs256', token: good, now: exp, leeway: 5, expect: ok },
  { name: 'hs256 past exp plus leeway', key: 'hs256', token: good, now: exp + 5, leeway: 5, expect: { error: 'expired' } },
  { name: 'hs256 tampered payload', key: 'hs256', token: tampered, now: iat, expect: { error: 'bad_signature' } },
  { name: 'hs256 wrong key', key: 'hs256', token: await hs(claims, new TextEncoder().encode(otherSecret)), now: iat, expect: { error: 'bad_signature' } },
  { name: 'alg none', key: 'hs256', token: new UnsecuredJWT(claims).encode(), now: iat, expect: { error: 'alg_not_allowed' } },
  { name: 'alg none against jwks', key: 'jwks', token: new UnsecuredJWT(claims).encode(), now: iat, expect: { error: 'alg_not_allowed' } },
  { name: 'hs256 expected issuer', key: 'hs256', token: good, now: iat, issuer: 'tokenlife', expect: ok },
  { name: 'hs256 wrong issuer', key: 'hs256', token: good, now: iat, issuer: 'someone-else', expect: { error: 'claim_mismatch' } },
  { name: 'hs256 revoked', key: 'hs256', token: good, now: iat, revoked: [id], expect: { error: 'revoked' } },
  { name: 'hs256 other id revoked', key: 'hs256', token: good, now: iat, revoked: ['00000000-0000-4000-8000-000000000000'], expect: ok },
  { name: 'hs256 not yet valid', key: 'hs256', token: await hs({ ...claims, nbf: iat + 60 }), now: iat, expect: { error: 'not_yet_valid' } },
  { name: 'hs256 sub differs from username', key: 'hs256', token: await hs({ ...claims, sub: 'bob' }), now: iat, expect: { error: 'claim_mismatch' } },
  { name: 'hs256 missing username', key: 'hs256', token: await hs({ ...claims, username: undefined }), now: iat, expect: { error: 'malformed' } },
  { name: 'hs256 unknown crit header', key: 'hs256', token: rawHs({ alg: 'HS256', crit: ['x-tl'], 'x-tl': 1 }, claims, secret), now: iat, expect: { error: 'malformed' } },
  { name: 'hs256 token against an Ed25519 jwks', key: 'jwks', token: good, now: iat, expect: { error: 'alg_not_allowed' } },
  { name: 'hs256 signed with the public key pem as secret', key: 'jwks', token: rawHs({ alg: 'HS256', typ: 'JWT', kid }, claims, publicPem), now: iat, expect: { error: 'alg_not_allowed' } },
  { name: 'hs256 signed with the public key bytes as secret', key: 'jwks', token: rawHs({ alg: 'HS256', typ: 'JWT', kid }, claims, Buffer.from(edJwk.x, 'base64url')), now: iat, expect: { error: 'alg_not_allowed' } },
  { name: 'eddsa valid', key: 'jwks', token: edGood, now: iat + 1, expect: ok },
  { name: 'eddsa at exp exactly', key: 'jwks', token: edGood, now: exp, expect: { error: 'expired' } },
  { name: 'eddsa bad signature', key: 'jwks', token: `${eh}.${ep}.${b64u(edSig)}`, now: iat, expect: { error: 'bad_signature' } },
  { name: 'eddsa unknown kid', key: 'jwks', token: await ed(claims, { alg: 'EdDSA', kid: 'no-such-key' }), now: iat, expect: { error: 'unknown_key' } },
  { name: 'eddsa token against an hs256 secret', key: 'hs256', token: edGood, now: iat, expect: { error: 'alg_not_allowed' } },
  { name: 'not a token', key: 'hs256', token: 'abc', now: iat, expect: { error: 'malformed' } },
  { name: 'two parts', key: 'hs256', token: `${h}.${p}`, now: iat, expect: { error: 'malformed' } },
  { name: 'payload not base64url', key: 'hs256', token: `${h}.***.${s}`, now: iat, expect: { error: 'malformed' } },
];

const rfc = [
  {
    name: 'RFC 7515 appendix A.1 (HS256)',
    jwk: { kty: 'oct', k: 'AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow' },
    token: 'eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk',
    payload: '{"iss":"joe",\r\n "exp":1300819380,\r\n "http://example.com/is_root":true}',
  },
  {
    name: 'RFC 8037 appendix A.4 (Ed25519)',
    jwk: { kty: 'OKP', crv: 'Ed25519', d: 'nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A', x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo' },
    thumbprint: 'kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k',
    token: 'eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc.hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg',
    payload: 'Example of Ed25519 signing',
  },
];

// Sanity: the RFC A.4 private key really signs to the RFC's signature with Node's crypto.
const rfcKey = createPrivateKey({ key: rfc[1].jwk, format: 'jwk' });
const [rh, rp, rs] = rfc[1].token.split('.');
if (b64u(edSign(null, Buffer.from(`${rh}.${rp}`), rfcKey)) !== rs) throw new Error('RFC 8037 A.4 mismatch');

console.log(JSON.stringify({
  about: 'Tokens made by jose 6 (npm) and by Node crypto (for shapes jose refuses to make: crit, HS256 with a public key as secret), by make-tokens.mjs in this folder, plus the RFC 7515 A.1 and RFC 8037 A.4 examples copied from the RFCs. `key` names the verifier: `hs256` = Verifier from keys.hs256_secret (UTF-8), `jwks` = Verifier from keys.jwks. `now` is Unix seconds, `leeway` seconds, `issuer` the required iss, `revoked` ids. `expect` is {ok: claims} or {error: code}. The ed25519 seed is keys.ed25519_seed (base64url); the Ed25519 key of keys.jwks is made from it.',
  keys: { hs256_secret: secret, ed25519_seed: b64u(seed), ed25519_kid: kid, jwks },
  cases,
  rfc,
}, null, 2));
