// Tokens made by peer libraries (jose, jsonwebtoken, Node's crypto) with tokenlife's claim
// set, for checking the package against implementations it shares no code with.
import { createHmac, generateKeyPairSync, randomUUID } from 'node:crypto';
import { SignJWT, UnsecuredJWT, exportJWK, calculateJwkThumbprint } from 'jose';
import jsonwebtoken from 'jsonwebtoken';

export const secret = 'peer secret for the tokenlife package tests, 32+ bytes';
export const otherSecret = 'a different secret that signs nothing we accept';
const b64u = (data) => Buffer.from(data).toString('base64url');

/** tokenlife's claims: Specter's names, their RFC 7519 twins, and the issuer. */
export function claimsFor({ username = 'alice', iat = 1_700_000_000, life = 360, description = 'peer', iss = 'tokenlife', ...rest } = {}) {
  const id = randomUUID();
  return {
    username, jwt_token_id: id, jwt_token_description: description,
    iat, exp: iat + life, sub: username, jti: id, iss, ...rest,
  };
}

const { publicKey, privateKey } = generateKeyPairSync('ed25519');
const jwk = await exportJWK(publicKey);
export const kid = await calculateJwkThumbprint(jwk);
export const jwks = { keys: [{ ...jwk, kid, alg: 'EdDSA', use: 'sig' }] };
export const edPublicKey = publicKey;
const hsKey = new TextEncoder().encode(secret);

/** HS256 with jose. */
export const joseHs256 = (claims, key = hsKey, header = { alg: 'HS256', typ: 'JWT' }) =>
  new SignJWT(claims).setProtectedHeader(header).sign(key);

/** HS256 with jsonwebtoken (the claims' own iat is kept). */
export const jwtHs256 = (claims, key = secret) =>
  jsonwebtoken.sign(claims, key, { algorithm: 'HS256', header: { typ: 'JWT' } });

/** EdDSA with jose, kid of the JWKS unless told otherwise. */
export const joseEd25519 = (claims, header = { alg: 'EdDSA', typ: 'JWT', kid }) =>
  new SignJWT(claims).setProtectedHeader(header).sign(privateKey);

/** `alg: none`, with jose and with jsonwebtoken. */
export const unsecured = (claims) => [
  new UnsecuredJWT(claims).encode(),
  jsonwebtoken.sign(claims, null, { algorithm: 'none' }),
];

/** HS256 over any header with Node's crypto: shapes the libraries refuse to make. */
export function rawHs256(header, claims, key) {
  const input = `${b64u(JSON.stringify(header))}.${b64u(JSON.stringify(claims))}`;
  return `${input}.${createHmac('sha256', key).update(input).digest('base64url')}`;
}

/** The same token with other claims and the old signature. */
export function tamper(token, change) {
  const [header, payload, signature] = token.split('.');
  const claims = JSON.parse(Buffer.from(payload, 'base64url'));
  return `${header}.${b64u(JSON.stringify({ ...claims, ...change }))}.${signature}`;
}

/** The forms an attacker would try as an HMAC key made from the Ed25519 public key. */
export const publicKeyAsSecrets = () => [
  Buffer.from(jwk.x, 'base64url'),
  jwk.x,
  publicKey.export({ type: 'spki', format: 'pem' }),
  publicKey.export({ type: 'spki', format: 'der' }),
  JSON.stringify(jwks.keys[0]),
];
