// The kept-fresh verifier (tokenlife/fresh) follows a key rotation made with the CLI
// (`tokenlife keys rotate|retire`) on a running server, without a restart.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { importPackage, requireFromConsumer } from '../lib/package.mjs';
import { bin, startServer } from '../lib/server.mjs';

const { freshVerifier } = await import(pathToFileURL(requireFromConsumer.resolve('tokenlife/fresh')).href);
const { Verifier } = await importPackage();

/** `tokenlife --data DATA ...args`: its output, failing the test on a non-zero exit. */
function cli(server, ...args) {
  const env = { ...process.env, RUST_LOG: 'warn' };
  delete env.SECRET_KEY;
  delete env.TOKENLIFE_STORE;
  delete env.TOKENLIFE_ALG;
  const run = spawnSync(bin, ['--data', server.data, ...args], { env, encoding: 'utf8', timeout: 60_000 });
  assert.equal(run.status, 0, `tokenlife ${args.join(' ')}: ${run.stderr}`);
  return run.stdout;
}

const kidOf = (token) => JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString()).kid;

describe('a key rotation reaches the package verifiers', () => {
  let server;
  before(async () => {
    server = await startServer({ alg: 'EdDSA' });
  });
  after(async () => {
    await server?.stop();
  });

  it('the kept-fresh verifier accepts the new key and refuses a retired one after refresh', async () => {
    let now = Math.floor(Date.now() / 1000);
    const fresh = await freshVerifier({ url: server.url, issuer: 'tokenlife', unknownKeyEvery: 10, clock: () => now });
    const { jwt_token: old } = await server.createToken('before rotation', '1 hour');
    assert.equal((await fresh.verify(old)).jwt_token_description, 'before rotation');

    const rotated = cli(server, 'keys', 'rotate');
    const newKid = rotated.match(/^new signing key (\S+) \(EdDSA\)/)?.[1];
    assert.ok(newKid, rotated);
    const { jwt_token: current } = await server.createToken('after rotation', '1 hour');
    assert.equal(kidOf(current), newKid);
    assert.notEqual(kidOf(old), newKid);
    // An unknown kid: the verifier fetches the keys again (at most every unknownKeyEvery),
    // no restart, no refresh call.
    now += 10;
    assert.equal((await fresh.verify(current)).jwt_token_description, 'after rotation');
    assert.equal((await fresh.verify(old)).jwt_token_description, 'before rotation');

    // A static Verifier from the JWKS as it is now verifies both keys' tokens.
    const jwks = await server.getJson('/.well-known/jwks.json');
    assert.deepEqual(jwks.keys.map((key) => key.kid), [kidOf(old), newKid]);
    const fixed = new Verifier({ jwks: JSON.stringify(jwks) });
    for (const token of [old, current]) fixed.verify(token, { now });

    cli(server, 'keys', 'retire', kidOf(old), '--yes');
    await fresh.refresh();
    await assert.rejects(fresh.verify(old), (err) => {
      assert.equal(err.code, 'unknown_key', err.message);
      return true;
    });
    assert.equal((await fresh.verify(current)).jwt_token_description, 'after rotation');
    fresh.free();
  });
});
