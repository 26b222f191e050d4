// The package as app developers meet it (issue 14): `npm pack` makes the tarball, `npm
// install` puts it into a fresh project, and each bundler builds a small app from it with
// its defaults, which then runs: browser bundles (esbuild, Vite, webpack, Rollup) in
// headless Chromium, Node bundles (esbuild --platform=node, ES module and CommonJS) copied
// ALONE into an empty folder, as serverless platforms deploy them; and Deno and Bun running
// the app from the project. Each app verifies a token and inspects it, and prints what it
// got; the test compares that with what the package answers here.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, extname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pack } from '../lib/package.mjs';
import * as peers from '../lib/peers.mjs';

const require = createRequire(import.meta.url);
const bin = (name) => join(dirname(require.resolve(`${name}/package.json`)), '..', '.bin', name);
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';

const scratch = mkdtempSync(join(tmpdir(), 'tokenlife-bundlers-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

const claims = peers.claimsFor({ description: 'bundled' });
const token = peers.jwtHs256(claims);
const now = claims.iat + 60;
/** What every app prints: the verified user, the remaining life as text, a refusal's code. */
const expected = { user: 'alice', left: '5m', refused: 'bad_signature', error: true };

const appBody = `
const verifier = new Verifier(${JSON.stringify(peers.secret)});
const claims = verifier.verify(${JSON.stringify(token)}, { now: ${now} });
let refused;
try { verifier.verify(${JSON.stringify(peers.tamper(token, { username: 'mallory' }))}, { now: ${now} }); }
catch (err) { refused = err.code; var error = err instanceof TokenlifeError; }
const result = { user: claims.username, left: formatLife(inspect(${JSON.stringify(token)}, { now: ${now} }).jwt_token_life_remaining), refused, error };
`;
/** The browser app: `await init()` as the README says, then the result into the page. */
const browserApp = `import init, { Verifier, TokenlifeError, inspect, formatLife } from 'tokenlife';
(async () => {
  try {
    await init();
    ${appBody}
    globalThis.RESULT = result;
  } catch (err) {
    globalThis.RESULT = { failed: String(err && err.stack || err) };
  }
})();
`;
const nodeEsmApp = `import { Verifier, TokenlifeError, inspect, formatLife } from 'tokenlife';
${appBody}
console.log(JSON.stringify(result));
`;
const nodeCjsApp = `const { Verifier, TokenlifeError, inspect, formatLife } = require('tokenlife');
${appBody}
console.log(JSON.stringify(result));
`;

let project;
before(() => {
  project = join(scratch, 'app');
  mkdirSync(project);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
  const tarball = pack(scratch);
  execFileSync('npm', ['install', '--offline', '--no-audit', '--no-fund', '--loglevel=error', tarball], { cwd: project });
  assert.ok(existsSync(join(project, 'node_modules/tokenlife/package.json')));
  writeFileSync(join(project, 'browser.js'), browserApp);
  writeFileSync(join(project, 'node-esm.mjs'), nodeEsmApp);
  writeFileSync(join(project, 'node-cjs.cjs'), nodeCjsApp);
  writeFileSync(join(project, 'index.html'), '<!doctype html><title>app</title><link rel="icon" href="data:,"><script type="module" src="/browser.js"></script>\n');
});

/** Serves `dir` on loopback (with `.wasm` as application/wasm) and loads `page` in Chromium. */
async function runInChromium(dir, page = '/index.html') {
  const missing = [];
  const types = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm' };
  const server = createServer((req, res) => {
    const path = join(dir, decodeURIComponent(new URL(req.url, 'http://x').pathname));
    if (!path.startsWith(dir) || !existsSync(path)) { missing.push(req.url); res.writeHead(404).end(); return; }
    res.writeHead(200, { 'content-type': types[extname(path)] ?? 'application/octet-stream' }).end(readFileSync(path));
  });
  await new Promise((done) => server.listen(0, '127.0.0.1', done));
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run'],
  });
  try {
    const tab = await browser.newPage();
    const problems = [];
    tab.on('console', (msg) => { if (['warning', 'error'].includes(msg.type())) problems.push(msg.text()); });
    tab.on('pageerror', (err) => problems.push(String(err)));
    await tab.goto(`http://127.0.0.1:${server.address().port}${page}`);
    await tab.waitForFunction(() => globalThis.RESULT !== undefined, null, { timeout: 30_000 });
    const result = await tab.evaluate(() => globalThis.RESULT);
    return { result, problems: [...problems, ...missing.map((url) => `404 ${url}`)] };
  } finally {
    await browser.close();
    server.close();
  }
}

/** Runs a Node bundle copied alone into an empty folder. */
function runAlone(bundle) {
  const alone = mkdtempSync(join(scratch, 'alone-'));
  const file = join(alone, bundle.split('/').pop());
  copyFileSync(bundle, file);
  assert.deepEqual(readdirSync(alone), [file.split('/').pop()]);
  return JSON.parse(execFileSync(process.execPath, [file], { cwd: alone, encoding: 'utf8' }));
}

const chromiumThere = existsSync(CHROMIUM);

describe('bundled from the packed tarball with default settings', () => {
  it('esbuild, browser: runs in Chromium with no .wasm emitted and no warning', { skip: !chromiumThere && `no Chromium at ${CHROMIUM}` }, async () => {
    const esbuild = await import('esbuild');
    const out = join(project, 'dist-esbuild');
    await esbuild.build({ entryPoints: [join(project, 'browser.js')], bundle: true, format: 'esm', platform: 'browser',
      outfile: join(out, 'browser.js'), absWorkingDir: project, logLevel: 'silent' });
    assert.deepEqual(readdirSync(out), ['browser.js']);
    copyFileSync(join(project, 'index.html'), join(out, 'index.html'));
    const { result, problems } = await runInChromium(out);
    assert.deepEqual(result, expected);
    assert.deepEqual(problems, []);
  });
  for (const format of ['esm', 'cjs']) {
    it(`esbuild --platform=node, ${format}: the bundle alone in an empty folder`, async () => {
      const esbuild = await import('esbuild');
      const entry = format === 'esm' ? 'node-esm.mjs' : 'node-cjs.cjs';
      const outfile = join(project, `dist-node-${format}`, format === 'esm' ? 'app.mjs' : 'app.cjs');
      await esbuild.build({ entryPoints: [join(project, entry)], bundle: true, format, platform: 'node', outfile,
        absWorkingDir: project, logLevel: 'silent' });
      assert.deepEqual(runAlone(outfile), expected);
    });
  }
  it('Vite: builds and runs in Chromium', { skip: !chromiumThere && `no Chromium at ${CHROMIUM}` }, async () => {
    const vite = await import('vite');
    await vite.build({ root: project, logLevel: 'silent', build: { outDir: join(project, 'dist-vite') } });
    const { result, problems } = await runInChromium(join(project, 'dist-vite'));
    assert.deepEqual(result, expected);
    assert.deepEqual(problems, []);
  });
  it('webpack 5: builds and runs in Chromium', { skip: !chromiumThere && `no Chromium at ${CHROMIUM}` }, async () => {
    const webpack = require('webpack');
    const out = join(project, 'dist-webpack');
    const stats = await new Promise((done, fail) => webpack({
      mode: 'production', context: project, entry: './browser.js', output: { path: out, filename: 'browser.js' },
    }, (err, result) => (err ? fail(err) : done(result))));
    assert.ok(!stats.hasErrors(), stats.toString('errors-only'));
    copyFileSync(join(project, 'index.html'), join(out, 'index.html'));
    const { result, problems } = await runInChromium(out);
    assert.deepEqual(result, expected);
    assert.deepEqual(problems, []);
  });
  it('Rollup (with @rollup/plugin-node-resolve, as every Rollup app has): runs in Chromium', { skip: !chromiumThere && `no Chromium at ${CHROMIUM}` }, async () => {
    const { rollup } = await import('rollup');
    const { nodeResolve } = await import('@rollup/plugin-node-resolve');
    const out = join(project, 'dist-rollup');
    const warnings = [];
    const build = await rollup({ input: join(project, 'browser.js'), plugins: [nodeResolve({ browser: true, rootDir: project })],
      onwarn: (warning) => warnings.push(String(warning.message)) });
    await build.write({ dir: out, format: 'es', entryFileNames: 'browser.js' });
    await build.close();
    assert.deepEqual(warnings, []);
    copyFileSync(join(project, 'index.html'), join(out, 'index.html'));
    const { result, problems } = await runInChromium(out);
    assert.deepEqual(result, expected);
    assert.deepEqual(problems, []);
  });
});

describe('other runtimes, from the installed package', () => {
  const runtime = (name) => {
    try {
      return existsSync(bin(name)) ? bin(name) : undefined;
    } catch {
      return undefined;
    }
  };
  const deno = runtime('deno');
  const bun = runtime('bun');
  it('Deno runs the ES module app', { skip: !deno && 'no deno binary (npm i deno in tests/js)' }, () => {
    const out = execFileSync(deno, ['run', '--quiet', '--no-prompt', 'node-esm.mjs'], { cwd: project, encoding: 'utf8',
      env: { ...process.env, DENO_NO_UPDATE_CHECK: '1', NO_COLOR: '1' } });
    assert.deepEqual(JSON.parse(out), expected);
  });
  for (const app of ['node-esm.mjs', 'node-cjs.cjs']) {
    it(`Bun runs ${app}`, { skip: !bun && 'no bun binary (npm i bun in tests/js)' }, () => {
      const out = execFileSync(bun, [app], { cwd: project, encoding: 'utf8' });
      assert.deepEqual(JSON.parse(out), expected);
    });
  }
});
