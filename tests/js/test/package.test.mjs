// The package folder itself: its layout, its exports map, its typings, and the web module
// loaded the way browsers and edge runtimes load it.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, it } from 'node:test';
import { pkgDir, requireFromConsumer, resolveImport, root } from '../lib/package.mjs';

const manifest = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));

describe('package layout', () => {
  it('is named tokenlife with the workspace version', () => {
    const cargo = readFileSync(join(root, 'Cargo.toml'), 'utf8');
    const version = cargo.match(/\[workspace\.package\][^[]*?\nversion = "([^"]+)"/)[1];
    assert.equal(manifest.name, 'tokenlife');
    assert.equal(manifest.version, version);
    assert.equal(manifest.type, 'module');
  });
  it('holds exactly the files it lists, with one .wasm and no snippets', () => {
    const files = readdirSync(pkgDir).sort();
    assert.deepEqual(files, [...manifest.files, 'package.json'].sort());
    assert.deepEqual(files.filter((file) => file.endsWith('.wasm')), ['tokenlife_bg.wasm']);
    assert.ok(!existsSync(join(pkgDir, 'snippets')));
  });
  it('has a web module that loads nothing but its glue and its own .wasm', () => {
    const web = readFileSync(join(pkgDir, 'tokenlife.js'), 'utf8');
    const glue = readFileSync(join(pkgDir, 'tokenlife_glue.js'), 'utf8');
    assert.deepEqual(web.match(/^\s*import\s.*$/gm), ["import * as glue from './tokenlife_glue.js';"]);
    assert.doesNotMatch(glue, /^\s*import\s/m);
    assert.doesNotMatch(web + glue, /require\(/);
    assert.match(glue, /new URL\('tokenlife_bg\.wasm', import\.meta\.url\)/);
  });
  it('has entries with the .wasm inlined that read no file and fetch nothing', () => {
    for (const file of ['inline.js', 'node.mjs', 'tokenlife_wasm.js']) {
      const text = readFileSync(join(pkgDir, file), 'utf8');
      assert.doesNotMatch(text, /node:fs|readFile|fetch\(|import\.meta/, file);
    }
    const cjs = readFileSync(join(pkgDir, 'node.cjs'), 'utf8');
    assert.doesNotMatch(cjs, /readFileSync|__dirname/);
  });
  it('resolves by condition: node import/require, browser, worker, workerd, default', async () => {
    const file = (path) => pathToFileURL(join(pkgDir, path)).href;
    assert.equal(requireFromConsumer.resolve('tokenlife'), join(pkgDir, 'node.cjs'));
    assert.equal(await resolveImport(), file('node.mjs'));
    for (const condition of ['worker', 'workerd']) {
      assert.equal(await resolveImport([condition]), file('tokenlife.js'), condition);
    }
    assert.equal(await resolveImport(['browser']), file('inline.js'));
    assert.equal(await resolveImport([], 'tokenlife/web'), file('tokenlife.js'));
    assert.equal(requireFromConsumer.resolve('tokenlife/tokenlife_bg.wasm'), join(pkgDir, 'tokenlife_bg.wasm'));
    assert.equal(requireFromConsumer.resolve('tokenlife/package.json'), join(pkgDir, 'package.json'));
    assert.equal(requireFromConsumer.resolve('tokenlife/fresh'), join(pkgDir, 'fresh.cjs'));
    assert.equal(await resolveImport([], 'tokenlife/fresh'), file('fresh.node.mjs'));
  });
  it('is small: the .wasm is at most 100 KB gzipped', async () => {
    const { gzipSync } = await import('node:zlib');
    const size = gzipSync(readFileSync(join(pkgDir, 'tokenlife_bg.wasm')), { level: 9 }).length;
    assert.ok(size <= 100 * 1024, `${size} bytes gzipped`);
  });
});

describe('what npm pack ships, and the metadata the registry shows', () => {
  it('ships exactly the expected files', async () => {
    const { execFileSync } = await import('node:child_process');
    const { builtDir } = await import('../lib/package.mjs');
    const [report] = JSON.parse(execFileSync('npm', ['pack', '--dry-run', '--json', '--loglevel=error'], { cwd: builtDir, encoding: 'utf8' }));
    assert.deepEqual(report.files.map((file) => file.path).sort(), [
      'LICENSE', 'README.md', 'fresh.cjs', 'fresh.d.cts', 'fresh.d.ts', 'fresh.js', 'fresh.node.mjs', 'inline.js', 'node.cjs', 'node.d.cts', 'node.mjs', 'package.json',
      'tokenlife.d.ts', 'tokenlife.js', 'tokenlife_bg.wasm', 'tokenlife_bg.wasm.d.ts', 'tokenlife_glue.js',
      'tokenlife_wasm.js',
    ]);
  });
  it('has a license file, repository, homepage and bugs', () => {
    assert.match(readFileSync(join(pkgDir, 'LICENSE'), 'utf8'), /^MIT License/);
    assert.equal(manifest.license, 'MIT');
    assert.match(manifest.repository.url, /^git\+https:\/\/github\.com\/[^/]+\/[^/]+\.git$/);
    assert.equal(manifest.repository.directory, 'wasm');
    assert.match(manifest.homepage, /^https:\/\//);
    assert.match(manifest.bugs.url, /^https:\/\/.*\/issues$/);
  });
  it('has only README links that work on the registry (absolute, or anchors of its own)', () => {
    const readme = readFileSync(join(pkgDir, 'README.md'), 'utf8');
    const links = [...readme.matchAll(/\]\(([^)]+)\)/g)].map((m) => m[1]);
    assert.ok(links.length > 0);
    for (const link of links) assert.match(link, /^(https:\/\/|#)/, link);
    const repo = manifest.repository.url.replace(/^git\+/, '').replace(/\.git$/, '');
    for (const link of links.filter((l) => l.startsWith('https://github.com/'))) assert.ok(link.startsWith(repo), link);
  });
});

describe('typings', () => {
  const dts = readFileSync(join(pkgDir, 'tokenlife.d.ts'), 'utf8');
  it('are the hand-written ones, the same for CommonJS, with no wasm-bindgen internals', () => {
    assert.equal(dts, readFileSync(join(root, 'wasm/npm/tokenlife.d.ts'), 'utf8'));
    assert.equal(readFileSync(join(pkgDir, 'node.d.cts'), 'utf8'), dts);
    const code = dts.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
    assert.doesNotMatch(code, /__wbindgen|__wbg|InitOutput|RequestInfo|BufferSource|WebAssembly|Symbol\.dispose\]/);
  });
  it('declare every runtime export of every entry', async () => {
    const { importPackage, requirePackage } = await import('../lib/package.mjs');
    const names = new Set([...Object.keys(await importPackage()), ...Object.keys(requirePackage())]);
    for (const name of names) {
      const declared = name === 'default' ? /^export default function init\(/m
        : new RegExp(`^export declare (function|class|const) ${name}\\b`, 'm');
      assert.match(dts, declared, name);
    }
    const block = (name) => dts.match(new RegExp(`export interface ${name} [^{]*\\{([^}]*)\\}`))[1];
    const fields = (name) => [...block(name).matchAll(/^\s*(\w+)\??:/gm)].map((m) => m[1]);
    assert.deepEqual(fields('Inspection'), ['username', 'jwt_token_id', 'jwt_token_description', 'iat', 'exp',
      'jwt_token_life', 'jwt_token_life_remaining', 'expiry_status']);
    assert.deepEqual(fields('Claims'), ['username', 'jwt_token_id', 'jwt_token_description', 'iat', 'exp',
      'sub', 'jti', 'iss', 'jwt_token_endpoints', 'nbf']);
    assert.deepEqual(fields('InspectOptions'), ['now', 'leeway']);
    assert.deepEqual(fields('VerifyOptions'), ['now', 'leeway', 'issuer', 'revoked']);
    assert.deepEqual(fields('Decoded'), ['header', 'claims']);
    for (const code of ['malformed', 'bad_signature', 'expired', 'not_yet_valid', 'revoked', 'unknown_key',
      'alg_not_allowed', 'claim_mismatch', 'bad_life']) assert.ok(dts.includes(`| "${code}"`), code);
  });
});

describe('the web module outside Node entry points', () => {
  const wasmPath = join(pkgDir, 'tokenlife_bg.wasm');
  it('works after initSync({ module }) with a precompiled module, as on the edge', async () => {
    const web = await import(`${pathToFileURL(join(pkgDir, 'tokenlife.js')).href}?edge`);
    assert.throws(() => web.formatLife(1), /not initialised: call init\(\)/);
    const module = new WebAssembly.Module(readFileSync(wasmPath));
    web.initSync({ module });
    assert.equal(web.formatLife(5400), '1h 30m');
    assert.equal(web.parseLife('3 days'), 259200);
  });
  it('works after await init() with the bytes, as a page does with its fetch', async () => {
    const web = await import(`${pathToFileURL(join(pkgDir, 'tokenlife.js')).href}?page`);
    await web.default({ module_or_path: readFileSync(wasmPath) });
    assert.equal(web.formatLife(31536000), '1year');
  });
});
