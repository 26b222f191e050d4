// tokenlife/fresh inside Cloudflare's runtime: workerd (the npm package `workerd`) runs
// workerd/fresh-worker.mjs, which verifies with a verifier kept fresh from the real server
// ($TOKENLIFE_BIN); the test revokes a token on the server and sees the edge refuse it
// after the configured interval (1 s here), without restarting workerd.
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { pkgDir } from '../lib/package.mjs';
import { startServer } from '../lib/server.mjs';
import { capnpText, serve, stop } from '../lib/workerd.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const REVOKED_EVERY = 1;

function config(port, server) {
  const options = { issuer: 'tokenlife', revokedEvery: REVOKED_EVERY, unknownKeyEvery: 0 };
  return `using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "main", worker = .worker),
    # The server is on loopback, which the default "internet" service refuses.
    (name = "loopback", network = (allow = ["local"])),
  ],
  sockets = [(name = "http", address = "127.0.0.1:${port}", http = (), service = "main")],
);

const worker :Workerd.Worker = (
  modules = [
    (name = "worker.mjs", esModule = embed "fresh-worker.mjs"),
    (name = "tokenlife.js", esModule = embed "tokenlife.js"),
    (name = "tokenlife_glue.js", esModule = embed "tokenlife_glue.js"),
    (name = "fresh.js", esModule = embed "fresh.js"),
    (name = "tokenlife_bg.wasm", wasm = embed "tokenlife_bg.wasm"),
  ],
  compatibilityDate = "2025-01-01",
  globalOutbound = "loopback",
  bindings = [
    (name = "SERVER", text = "${capnpText(server)}"),
    (name = "OPTIONS", text = "${capnpText(JSON.stringify(options))}"),
  ],
);
`;
}

describe('tokenlife/fresh in workerd against the server', () => {
  let server;
  let other;
  const state = { base: undefined, child: undefined, log: '' };
  let base;
  let dir;

  before(async () => {
    [server, other] = await Promise.all([startServer({ alg: 'EdDSA' }), startServer({ alg: 'EdDSA' })]);
    dir = mkdtempSync(join(tmpdir(), 'tokenlife-fresh-workerd-'));
    copyFileSync(join(here, '../workerd/fresh-worker.mjs'), join(dir, 'fresh-worker.mjs'));
    for (const file of ['tokenlife.js', 'tokenlife_glue.js', 'fresh.js', 'tokenlife_bg.wasm']) copyFileSync(join(pkgDir, file), join(dir, file));
    await serve(dir, (port) => config(port, server.url), state, '/log');
    base = state.base;
  });

  after(async () => {
    await stop(state, dir);
    await Promise.all([server?.stop(), other?.stop()]);
  });

  const verify = async (token) => {
    const response = await fetch(`${base}/verify`, { headers: { authorization: `Bearer ${token}` } });
    return { status: response.status, body: await response.json() };
  };
  const requests = async () => (await fetch(`${base}/log`)).json();

  it('verifies, then refuses a token revoked on the server after revokedEvery, revalidating with 304s', async () => {
    const { jwt_token: token, jwt_token_id: id } = await server.createToken('workerd-fresh', '1 hour');
    const good = await verify(token);
    assert.equal(good.status, 200, `${JSON.stringify(good.body)}\n${state.log}`);
    assert.equal(good.body.claims.jwt_token_id, id);
    assert.deepEqual((await requests()).map((entry) => [entry.path, entry.status]),
      [['/.well-known/jwks.json', 200], ['/api/v1alpha/revoked', 200]]);

    // Nothing changed on the server: the list is revalidated, a 304 for the tag held.
    await sleep(REVOKED_EVERY * 1000 + 200);
    assert.equal((await verify(token)).status, 200);
    const revalidated = (await requests()).at(-1);
    assert.equal(revalidated.path, '/api/v1alpha/revoked');
    assert.equal(revalidated.status, 304);
    assert.ok(revalidated.ifNoneMatch);

    await server.deleteToken(id);
    await sleep(REVOKED_EVERY * 1000 + 200);
    const refused = await verify(token);
    assert.equal(refused.status, 401);
    assert.equal(refused.body.error, 'revoked', refused.body.message);
    const fetched = (await requests()).at(-1);
    assert.deepEqual([fetched.path, fetched.status], ['/api/v1alpha/revoked', 200]);
    assert.equal(fetched.ifNoneMatch, revalidated.ifNoneMatch, 'asked with the old tag');
  });

  it('asks for the keys again when a token names an unknown kid', async () => {
    const before = (await requests()).filter((entry) => entry.path.endsWith('jwks.json')).length;
    const { jwt_token: foreign } = await other.createToken('workerd-foreign', '1 hour');
    const refused = await verify(foreign);
    assert.equal(refused.status, 401);
    assert.equal(refused.body.error, 'unknown_key', refused.body.message);
    const keys = (await requests()).filter((entry) => entry.path.endsWith('jwks.json'));
    assert.equal(keys.length, before + 1);
    assert.equal(keys.at(-1).status, 304);
    assert.ok(keys.at(-1).ifNoneMatch);
  });
});
