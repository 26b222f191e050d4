// The package inside Cloudflare's runtime: workerd (from the npm package `workerd`) runs
// workerd/worker.mjs, which verifies Bearer tokens with initSync({ module }); the test
// drives it over HTTP on loopback.
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { pkgDir } from '../lib/package.mjs';
import * as peers from '../lib/peers.mjs';
import { serve, stop } from '../lib/workerd.mjs';

const here = dirname(fileURLToPath(import.meta.url));

function config(port) {
  const jwks = JSON.stringify(peers.jwks).replaceAll('\\', '\\\\').replaceAll('"', '\\"');
  const secret = peers.secret.replaceAll('"', '\\"');
  return `using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [(name = "main", worker = .worker)],
  sockets = [(name = "http", address = "127.0.0.1:${port}", http = (), service = "main")],
);

const worker :Workerd.Worker = (
  modules = [
    (name = "worker.mjs", esModule = embed "worker.mjs"),
    (name = "tokenlife.js", esModule = embed "tokenlife.js"),
    (name = "tokenlife_glue.js", esModule = embed "tokenlife_glue.js"),
    (name = "tokenlife_bg.wasm", wasm = embed "tokenlife_bg.wasm"),
  ],
  compatibilityDate = "2025-01-01",
  bindings = [
    (name = "SECRET", text = "${secret}"),
    (name = "JWKS", text = "${jwks}"),
  ],
);
`;
}

describe('the package in workerd', () => {
  const state = { base: undefined, child: undefined, log: '' };
  let dir;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tokenlife-workerd-'));
    copyFileSync(join(here, '../workerd/worker.mjs'), join(dir, 'worker.mjs'));
    for (const file of ['tokenlife.js', 'tokenlife_glue.js', 'tokenlife_bg.wasm']) copyFileSync(join(pkgDir, file), join(dir, file));
    await serve(dir, config, state);
  });

  after(() => stop(state, dir));

  const call = async (path, token) => {
    const response = await fetch(state.base + path, { headers: token ? { authorization: `Bearer ${token}` } : {} });
    return { status: response.status, body: await response.json(), headers: response.headers };
  };

  it('answers 200 with the claims for a good HS256 token', async () => {
    const now = Math.floor(Date.now() / 1000);
    const claims = peers.claimsFor({ iat: now, life: 600 });
    const { status, body } = await call('/hs256', peers.jwtHs256(claims));
    assert.equal(status, 200);
    assert.deepEqual(body.claims, claims);
  });

  it('answers 200 for a good EdDSA token against the JWKS', async () => {
    const claims = peers.claimsFor({ iat: Math.floor(Date.now() / 1000), life: 600 });
    const { status, body } = await call('/jwks', await peers.joseEd25519(claims));
    assert.equal(status, 200);
    assert.deepEqual(body.claims, claims);
  });

  it('answers 401 with the SPEC code otherwise, errors being real Errors', async () => {
    const claims = peers.claimsFor({ iat: Math.floor(Date.now() / 1000), life: 600 });
    const good = peers.jwtHs256(claims);
    const cases = [
      ['/hs256', undefined, 'malformed'],
      ['/hs256', 'not-a-token', 'malformed'],
      ['/hs256', peers.tamper(good, { username: 'root', sub: 'root' }), 'bad_signature'],
      ['/hs256', peers.jwtHs256(peers.claimsFor({ iat: 1_700_000_000 })), 'expired'],
      [`/hs256?now=${claims.exp}`, good, 'expired'],
      [`/hs256?revoked=${claims.jwt_token_id}`, good, 'revoked'],
      ['/hs256', peers.jwtHs256({ ...claims, iss: 'elsewhere' }), 'claim_mismatch'],
      ['/hs256', peers.unsecured(claims)[0], 'alg_not_allowed'],
      ['/jwks', good, 'alg_not_allowed'],
      ['/jwks', await peers.joseEd25519(claims, { alg: 'EdDSA', kid: 'unknown' }), 'unknown_key'],
    ];
    for (const [path, token, code] of cases) {
      const { status, body, headers } = await call(path, token);
      assert.equal(status, 401, `${path}: ${JSON.stringify(body)}`);
      assert.equal(body.error, code, `${path}: ${body.message}`);
      assert.equal(body.isError, true);
      assert.match(headers.get('www-authenticate'), /invalid_token/);
    }
  });

  it('inspects with the same numbers as Node', async () => {
    const claims = peers.claimsFor({ life: 360 });
    const { status, body } = await call(`/inspect?now=${claims.iat + 0.5}`, peers.jwtHs256(claims));
    assert.equal(status, 200);
    assert.equal(body.jwt_token_life_remaining, 359.5);
    assert.equal(body.expiry_status, 'Valid');
  });
});

/** The README's worker (the ```js block under "## Edge"), as users copy it. */
function readmeWorker() {
  const readme = readFileSync(join(pkgDir, 'README.md'), 'utf8');
  const edge = readme.slice(readme.indexOf('## Edge'));
  return edge.match(/```js\n([\s\S]*?)```/)[1];
}

describe("the README's worker, exactly as written, in workerd", () => {
  const state = { base: undefined, child: undefined, log: '' };
  let dir;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tokenlife-workerd-readme-'));
    writeFileSync(join(dir, 'worker.mjs'), readmeWorker());
    for (const file of ['tokenlife.js', 'tokenlife_glue.js', 'tokenlife_bg.wasm']) copyFileSync(join(pkgDir, file), join(dir, file));
    const secret = peers.secret.replaceAll('"', '\\"');
    // The module names are the specifiers the worker imports: what wrangler's bundling
    // resolves through the package's `workerd` condition.
    await serve(dir, (port) => `using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [(name = "main", worker = .worker)],
  sockets = [(name = "http", address = "127.0.0.1:${port}", http = (), service = "main")],
);

const worker :Workerd.Worker = (
  modules = [
    (name = "worker.mjs", esModule = embed "worker.mjs"),
    (name = "tokenlife", esModule = embed "tokenlife.js"),
    (name = "tokenlife_glue.js", esModule = embed "tokenlife_glue.js"),
    (name = "tokenlife/tokenlife_bg.wasm", wasm = embed "tokenlife_bg.wasm"),
  ],
  compatibilityDate = "2025-01-01",
  bindings = [(name = "SECRET_KEY", text = "${secret}")],
);
`, state);
  });
  after(() => stop(state, dir));

  it('greets the owner of a good token and answers 401 with the code otherwise', async () => {
    const claims = peers.claimsFor({ iat: Math.floor(Date.now() / 1000), life: 600 });
    const good = peers.jwtHs256(claims);
    const ask = async (token) => {
      const response = await fetch(state.base, { headers: { authorization: `Bearer ${token}` } });
      return { status: response.status, body: await response.json() };
    };
    assert.deepEqual(await ask(good), { status: 200, body: { hello: 'alice' } });
    const bad = await ask(peers.tamper(good, { username: 'root', sub: 'root' }));
    assert.equal(bad.status, 401);
    assert.equal(bad.body.error, 'bad_signature');
    const other = await ask(peers.jwtHs256({ ...claims, iss: 'elsewhere' }));
    assert.equal(other.body.error, 'claim_mismatch');
  });
});
