// The package in a Vercel-style edge runtime: Vercel's `edge-runtime` (npm), the sandbox
// Next.js runs edge functions in. An edge function (edge/function.mjs) is
// bundled from the packed tarball as Vercel bundles one: esbuild with the edge conditions
// (`edge-light`, `worker`, `browser`), the default export wrapped into a `fetch` listener,
// and a `.wasm?module` import bound to a WebAssembly.Module the host compiled and put into
// the sandbox's globals (what Next.js does with an edge function's wasm bindings). The
// bundle alone is evaluated in the sandbox, served by edge-runtime's server on loopback,
// and driven over HTTP.
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import * as esbuild from 'esbuild';
import { EdgeRuntime, runServer } from 'edge-runtime';
import { pkgDir } from '../lib/package.mjs';
import * as peers from '../lib/peers.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const project = dirname(dirname(pkgDir));

/**
 * Bundles `source` (a file of edge/) as an edge function: one script, the `.wasm?module`
 * imports turned into globals, listed in `wasm` (name -> file), as Vercel's build does.
 */
async function bundle(source) {
  copyFileSync(join(here, '../edge', source), join(project, source));
  const entry = join(project, `entry-${source}`);
  writeFileSync(entry, `import handler from './${source}';
addEventListener('fetch', (event) => event.respondWith(handler(event.request)));
`);
  const wasm = {};
  const result = await esbuild.build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    format: 'iife',
    platform: 'browser',
    conditions: ['edge-light', 'worker', 'browser'],
    logLevel: 'silent',
    plugins: [{
      name: 'wasm-module',
      setup(build) {
        build.onResolve({ filter: /\.wasm\?module$/ }, async (args) => {
          const file = await build.resolve(args.path.replace(/\?module$/, ''), { kind: args.kind, resolveDir: args.resolveDir });
          if (file.errors.length > 0) return { errors: file.errors };
          const name = `wasm_${Object.keys(wasm).length}`;
          wasm[name] = file.path;
          return { path: name, namespace: 'wasm-module' };
        });
        build.onLoad({ filter: /.*/, namespace: 'wasm-module' }, (args) => ({ contents: `export default globalThis.${args.path};` }));
      },
    }],
  });
  assert.deepEqual(result.errors, []);
  assert.deepEqual(result.warnings, []);
  return { code: result.outputFiles[0].text, wasm };
}

/** Runs the bundle in an edge-runtime sandbox with its wasm bindings and SECRET_KEY; serves it. */
async function start({ code, wasm }, codeGeneration) {
  const modules = {};
  for (const [name, file] of Object.entries(wasm)) modules[name] = await WebAssembly.compile(readFileSync(file));
  const runtime = new EdgeRuntime({
    codeGeneration,
    extend: (context) => {
      Object.assign(context, modules);
      context.process = { env: { SECRET_KEY: peers.secret } };
      return context;
    },
  });
  runtime.evaluate(code);
  return runServer({ runtime, host: '127.0.0.1', port: 0 });
}

function suite(source, what, codeGeneration) {
  describe(`edge-runtime: ${what}`, () => {
    let server;
    let built;
    before(async () => {
      built = await bundle(source);
      server = await start(built, codeGeneration);
    });
    after(() => server?.close());

    const call = async (path, token) => {
      const response = await fetch(new URL(path, server.url), { headers: token ? { authorization: `Bearer ${token}` } : {} });
      return { status: response.status, body: await response.json() };
    };
    const claims = peers.claimsFor({ iat: Math.floor(Date.now() / 1000) - 10, life: 3600 });

    it('bundles to one script with the package in it, and no file read at run time', () => {
      assert.match(built.code, /TokenlifeError/);
      assert.doesNotMatch(built.code, /\bimport\s*\(|require\(|import\.meta/);
    });
    it('verifies a good HS256 token: 200 with every claim', async () => {
      const got = await call('/verify', peers.jwtHs256(claims));
      assert.equal(got.status, 200, JSON.stringify(got.body));
      assert.deepEqual(got.body, { hello: 'alice', claims });
    });
    it('inspects a token without a key', async () => {
      const got = await call(`/inspect?now=${claims.iat + 60}`, peers.jwtHs256(claims));
      assert.equal(got.status, 200, JSON.stringify(got.body));
      assert.equal(got.body.jwt_token_id, claims.jwt_token_id);
      assert.equal(got.body.jwt_token_life_remaining, 3600 - 60);
      assert.equal(got.body.expiry_status, 'Valid');
    });
    it('refuses with the typed errors: 401 and the code, the claims once the signature checked', async () => {
      const expired = await call(`/verify?now=${claims.exp + 1}`, peers.jwtHs256(claims));
      assert.deepEqual([expired.status, expired.body.error, expired.body.claims?.jti], [401, 'expired', claims.jti]);
      const revoked = await call(`/verify?revoked=${claims.jwt_token_id}`, peers.jwtHs256(claims));
      assert.deepEqual([revoked.status, revoked.body.error, revoked.body.claims?.jti], [401, 'revoked', claims.jti]);
      const forged = await call('/verify', peers.jwtHs256(claims, peers.otherSecret));
      assert.deepEqual([forged.status, forged.body.error, forged.body.claims], [401, 'bad_signature', null]);
      const none = await call('/verify', peers.unsecured(claims)[0]);
      assert.deepEqual([none.status, none.body.error], [401, 'alg_not_allowed']);
      const garbage = await call('/inspect', 'not a token');
      assert.deepEqual([garbage.status, garbage.body.error], [401, 'malformed']);
    });
  });
}

// The .wasm as a precompiled module, with compiling WebAssembly from bytes forbidden in the
// sandbox (Vercel's Edge Functions forbid it): the package needs no run-time compile.
suite('function.mjs', 'tokenlife/tokenlife_bg.wasm?module and initSync({ module }), no run-time wasm compile', { strings: false, wasm: false });
// The sandbox's defaults (what Next.js runs edge functions with in production).
suite('function.mjs', 'the same function, the sandbox defaults', undefined);
