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
  it('resolves by condition: node import/require, browser, worker, workerd', async () => {
    const file = (path) => pathToFileURL(join(pkgDir, path)).href;
    assert.equal(requireFromConsumer.resolve('tokenlife'), join(pkgDir, 'node.cjs'));
    assert.equal(await resolveImport(), file('node.mjs'));
    for (const condition of ['browser', 'worker', 'workerd']) {
      assert.equal(await resolveImport([condition]), file('tokenlife.js'), condition);
    }
    assert.equal(requireFromConsumer.resolve('tokenlife/tokenlife_bg.wasm'), join(pkgDir, 'tokenlife_bg.wasm'));
    assert.equal(requireFromConsumer.resolve('tokenlife/package.json'), join(pkgDir, 'package.json'));
  });
  it('is small: the .wasm is at most 100 KB gzipped', async () => {
    const { gzipSync } = await import('node:zlib');
    const size = gzipSync(readFileSync(join(pkgDir, 'tokenlife_bg.wasm')), { level: 9 }).length;
    assert.ok(size <= 100 * 1024, `${size} bytes gzipped`);
  });
});

describe('typings', () => {
  const dts = readFileSync(join(pkgDir, 'tokenlife.d.ts'), 'utf8');
  it('are the committed snapshot', () => {
    assert.equal(dts, readFileSync(join(root, 'wasm/npm/tokenlife.d.ts'), 'utf8'));
    assert.equal(readFileSync(join(pkgDir, 'node.d.cts'), 'utf8'), dts);
  });
  it('name every function, option, result field and error code', () => {
    for (const name of [
      'export function inspect(token: string, options?: InspectOptions | null): Inspection;',
      'export function remainingLife(token: string, now?: number | null): number;',
      'export function parseLife(life: string | number, options?: ParseLifeOptions | null): number;',
      'export function formatLife(seconds: number): string;',
      'export function decode(token: string): Decoded;',
      'export class Verifier {',
      'static fromSecret(secret: string | Uint8Array): Verifier;',
      'static fromJwks(jwks: Jwks | string): Verifier;',
      'constructor(key: VerifierKey);',
      'verify(token: string, options?: VerifyOptions | null): Claims;',
      'export function initSync(',
      'export default function __wbg_init',
    ]) assert.ok(dts.includes(name), name);
    const block = (name) => dts.match(new RegExp(`export interface ${name} [^{]*\\{([^}]*)\\}`))[1];
    const fields = (name) => [...block(name).matchAll(/^\s*(\w+)\??:/gm)].map((m) => m[1]);
    assert.deepEqual(fields('Inspection'), ['username', 'jwt_token_id', 'jwt_token_description', 'iat', 'exp',
      'jwt_token_life', 'jwt_token_life_remaining', 'expiry_status']);
    assert.deepEqual(fields('Claims'), ['username', 'jwt_token_id', 'jwt_token_description', 'iat', 'exp',
      'sub', 'jti', 'iss', 'jwt_token_endpoints']);
    assert.deepEqual(fields('InspectOptions'), ['now', 'leeway']);
    assert.deepEqual(fields('VerifyOptions'), ['now', 'leeway', 'issuer', 'revoked']);
    assert.deepEqual(fields('Decoded'), ['header', 'claims']);
    assert.deepEqual(fields('TokenlifeError'), ['code']);
    for (const code of ['malformed', 'bad_signature', 'expired', 'not_yet_valid', 'revoked', 'unknown_key',
      'alg_not_allowed', 'claim_mismatch', 'bad_life']) assert.ok(dts.includes(`| "${code}"`), code);
  });
});

describe('the web module outside Node entry points', () => {
  const wasmPath = join(pkgDir, 'tokenlife_bg.wasm');
  it('works after initSync({ module }) with a precompiled module, as on the edge', async () => {
    const web = await import(`${pathToFileURL(join(pkgDir, 'tokenlife.js')).href}?edge`);
    assert.throws(() => web.formatLife(1));
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
