// Loads the built package (wasm/pkg, from scripts/build-wasm.sh) the way users get it:
// `npm pack` makes the tarball the registry would serve, which is unpacked into a scratch
// project's node_modules/tokenlife (what `npm install` does for a package without
// dependencies), and imported by its name through the exports map, as an ES module or
// with require(). Each test file (node --test runs each in its own process) gets its own.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync, existsSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
/** The built package folder (what is packed). */
export const builtDir = join(root, 'wasm/pkg');

if (!existsSync(join(builtDir, 'package.json'))) {
  throw new Error(`no package in ${builtDir}: run scripts/build-wasm.sh first`);
}

/** Packs wasm/pkg with `npm pack` into `dir`; returns the tarball's path. */
export function pack(dir) {
  const out = execFileSync('npm', ['pack', builtDir, '--pack-destination', dir, '--json', '--loglevel=error'],
    { encoding: 'utf8' });
  return join(dir, JSON.parse(out)[0].filename);
}

const project = mkdtempSync(join(tmpdir(), 'tokenlife-consumer-'));
process.on('exit', () => rmSync(project, { recursive: true, force: true }));
/** The packed tarball this process tests. */
export const tarball = pack(project);
/** Where the tarball is installed: the package as users have it. */
export const pkgDir = join(project, 'node_modules/tokenlife');
mkdirSync(pkgDir, { recursive: true });
execFileSync('tar', ['-xzf', tarball, '-C', pkgDir, '--strip-components=1']);
writeFileSync(join(project, 'package.json'), '{"private": true}\n');
writeFileSync(join(project, 'esm.mjs'), "export * from 'tokenlife';\nexport { default } from 'tokenlife';\n");

/** `require('tokenlife')` from a CommonJS consumer. */
export const requireFromConsumer = createRequire(join(project, 'consumer.cjs'));

/** The package as `import * as tokenlife from 'tokenlife'` sees it in Node. */
export async function importPackage() {
  return import(pathToFileURL(join(project, 'esm.mjs')).href);
}

/** The package as `require('tokenlife')` sees it in Node. */
export function requirePackage() {
  return requireFromConsumer('tokenlife');
}

/** The wasm-bindgen glue of the installed package: the instance the ES module uses. */
export async function importGlue() {
  return import(pathToFileURL(join(pkgDir, 'tokenlife_glue.js')).href);
}

/** Where `import 'tokenlife'` resolves from a consumer, under extra Node `conditions`. */
export async function resolveImport(conditions = [], specifier = 'tokenlife') {
  const flags = conditions.map((condition) => `--conditions=${condition}`);
  return execFileSync(process.execPath, [...flags, '--input-type=module', '-e',
    `console.log(import.meta.resolve(${JSON.stringify(specifier)}))`], { cwd: project, encoding: 'utf8' }).trim();
}
