// Loads the built package (wasm/pkg, from scripts/build-wasm.sh) the way users do: by its
// name, through the exports map of its package.json, as an ES module or with require().
import { mkdtempSync, mkdirSync, symlinkSync, writeFileSync, existsSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const pkgDir = join(root, 'wasm/pkg');

if (!existsSync(join(pkgDir, 'package.json'))) {
  throw new Error(`no package in ${pkgDir}: run scripts/build-wasm.sh first`);
}

// A scratch project whose node_modules/tokenlife is the built package.
const project = mkdtempSync(join(tmpdir(), 'tokenlife-consumer-'));
mkdirSync(join(project, 'node_modules'));
symlinkSync(pkgDir, join(project, 'node_modules/tokenlife'), 'dir');
writeFileSync(join(project, 'package.json'), '{"private": true}\n');
writeFileSync(join(project, 'esm.mjs'), "export * from 'tokenlife';\nexport { default } from 'tokenlife';\n");
process.on('exit', () => rmSync(project, { recursive: true, force: true }));

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

/** Where `import 'tokenlife'` resolves from a consumer, under extra Node `conditions`. */
export async function resolveImport(conditions = []) {
  const { execFileSync } = await import('node:child_process');
  const flags = conditions.map((condition) => `--conditions=${condition}`);
  return execFileSync(process.execPath, [...flags, '--input-type=module', '-e',
    "console.log(import.meta.resolve('tokenlife'))"], { cwd: project, encoding: 'utf8' }).trim();
}
