// The typings as strict TypeScript users meet them: `tsc` (the pinned `typescript` of
// tests/js) compiles small projects against the package installed from the packed tarball,
// under `strict` and WITHOUT `skipLibCheck`, in four configurations: Node-only ES module
// (`lib: es2022`, `types: ["node"]`, `nodenext`), Node-only CommonJS (`.cts`, `nodenext`),
// DOM-only with `bundler` resolution, and a worker (`webworker` lib, `bundler`) with the
// README's worker and the typed `tokenlife/tokenlife_bg.wasm` import. `@ts-expect-error`
// lines hold that wrong calls stay type errors.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { pkgDir, root } from '../lib/package.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const tsc = join(dirname(require.resolve('typescript/package.json')), 'bin/tsc');
const typesNode = dirname(require.resolve('@types/node/package.json'));
const scratch = mkdtempSync(join(tmpdir(), 'tokenlife-tsc-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** The code every project compiles: the whole API, used as the README shows it. */
const usage = (imports) => `${imports}

const verifier: Verifier = new Verifier({ secret: 'secret' });
const fromJwks: Verifier = Verifier.fromJwks({ keys: [{ kty: 'OKP', crv: 'Ed25519', x: 'x' }] });
export function check(token: string): string {
  try {
    const claims: Claims = verifier.verify(token, { now: new Date(), leeway: 5, issuer: 'tokenlife', revoked: new Set(['id']) });
    const role: unknown = claims['role'];
    const endpoints: string[] | undefined = claims.jwt_token_endpoints;
    void role; void endpoints; void fromJwks;
    return claims.username + claims.jti;
  } catch (err) {
    if (err instanceof TokenlifeError) {
      const code: ErrorCode = err.code;
      if (code === 'expired') return String(err.claims?.['exp']);
      return code;
    }
    throw err;
  }
}
const seen: Inspection = inspect('a.b.c', { now: 1_700_000_000 });
const left: number = remainingLife('a.b.c', new Date());
const soon: boolean = expiresSoon('a.b.c', 1_700_000_000);
const life: number = parseLife('1h30m', { max: '1 year' });
const text: string = formatLife(life);
const parts: Decoded = decode('a.b.c');
const limit: number = MAX_TOKEN_LENGTH;
verifier.free();
void seen; void left; void soon; void text; void parts; void limit; void initSync; void init;
// @ts-expect-error a life is formatted from a number only
formatLife('360');
// @ts-expect-error verify takes a string token
verifier.verify(42);
// @ts-expect-error now is a Date or seconds
inspect('a.b.c', { now: '2024-01-01' });
`;

const typeNames = 'type Claims, type Inspection, type Decoded, type ErrorCode';
const names = `init, { initSync, inspect, remainingLife, expiresSoon, parseLife, formatLife, decode, Verifier, TokenlifeError, MAX_TOKEN_LENGTH, ${typeNames} }`;

function project(name, { packageJson, tsconfig, files }) {
  const dir = join(scratch, name);
  mkdirSync(join(dir, 'node_modules/@types'), { recursive: true });
  cpSync(pkgDir, join(dir, 'node_modules/tokenlife'), { recursive: true });
  symlinkSync(typesNode, join(dir, 'node_modules/@types/node'), 'dir');
  for (const dep of ['undici-types']) {
    try {
      symlinkSync(dirname(require.resolve(`${dep}/package.json`)), join(dir, `node_modules/${dep}`), 'dir');
    } catch { /* not a dependency of this @types/node */ }
  }
  writeFileSync(join(dir, 'package.json'), JSON.stringify(packageJson));
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({
    compilerOptions: { strict: true, noEmit: true, skipLibCheck: false, target: 'es2022', ...tsconfig },
    include: Object.keys(files),
  }, null, 2));
  for (const [file, text] of Object.entries(files)) writeFileSync(join(dir, file), text);
  return dir;
}

function compile(dir) {
  try {
    return execFileSync(process.execPath, [tsc, '-p', dir], { encoding: 'utf8' });
  } catch (err) {
    assert.fail(`tsc failed in ${dir}:\n${err.stdout}${err.stderr}`);
  }
}

/** The README's worker, exactly as written (the ```js block under "Edge"). */
function readmeWorker() {
  const readme = readFileSync(join(root, 'wasm/npm/README.md'), 'utf8');
  const edge = readme.slice(readme.indexOf('## Edge'));
  return edge.match(/```js\n([\s\S]*?)```/)[1];
}

describe('the typings under strict TypeScript without skipLibCheck', () => {
  it('Node-only ES module: lib es2022, types node, nodenext', () => {
    compile(project('node-esm', {
      packageJson: { type: 'module' },
      tsconfig: { lib: ['es2022'], types: ['node'], module: 'nodenext', moduleResolution: 'nodenext' },
      files: { 'index.ts': usage(`import ${names} from 'tokenlife';`) },
    }));
  });
  it('Node-only CommonJS: a .cts under nodenext', () => {
    compile(project('node-cjs', {
      packageJson: { type: 'commonjs' },
      tsconfig: { lib: ['es2022'], types: ['node'], module: 'nodenext', moduleResolution: 'nodenext' },
      files: { 'index.cts': usage(`import { default as init, initSync, inspect, remainingLife, expiresSoon, parseLife, formatLife, decode, Verifier, TokenlifeError, MAX_TOKEN_LENGTH, ${typeNames} } from 'tokenlife';`) },
    }));
  });
  it('tokenlife/fresh from an ES module and from CommonJS (nodenext)', () => {
    const use = (imports) => `${imports}
export async function check(token: string): Promise<string> {
  const fresh: FreshVerifier = await freshVerifier({ url: 'https://tokens.example', revokedEvery: 30, issuer: 'tokenlife' });
  try {
    const claims: Claims = await fresh.verify(token, { now: new Date() });
    return claims.jti;
  } catch (err) {
    if (err instanceof FreshError) {
      const code: FreshErrorCode = err.code;
      return code;
    }
    throw err;
  } finally {
    fresh.free();
  }
}
// @ts-expect-error freshVerifier needs the server's url
void freshVerifier({ revokedEvery: 30 });
`;
    const fresh = "import { freshVerifier, FreshError, type FreshVerifier, type FreshErrorCode } from 'tokenlife/fresh';";
    for (const [name, type, file] of [['fresh-esm', 'module', 'index.ts'], ['fresh-cjs', 'commonjs', 'index.cts']]) {
      compile(project(name, {
        packageJson: { type },
        tsconfig: { lib: ['es2022'], types: ['node'], module: 'nodenext', moduleResolution: 'nodenext' },
        files: { [file]: use(`${fresh}\nimport type { Claims } from 'tokenlife';`) },
      }));
    }
  });
  it('DOM-only with bundler resolution', () => {
    compile(project('dom-bundler', {
      packageJson: { type: 'module' },
      tsconfig: { lib: ['es2022', 'dom'], types: [], module: 'esnext', moduleResolution: 'bundler' },
      files: { 'index.ts': `${usage(`import ${names} from 'tokenlife';`)}
await init();
await init(new URL('x.wasm', location.href));
import webInit from 'tokenlife/web';
await webInit({ module_or_path: fetch('/pkg/tokenlife_bg.wasm') });
` },
    }));
  });
  it("a worker (webworker lib, bundler) with the README's worker and the typed .wasm import", () => {
    const worker = readmeWorker();
    assert.match(worker, /import module from 'tokenlife\/tokenlife_bg\.wasm';/);
    compile(project('worker-bundler', {
      packageJson: { type: 'module' },
      tsconfig: { lib: ['es2022', 'webworker'], types: [], module: 'esnext', moduleResolution: 'bundler' },
      // The README's JavaScript, checked as TypeScript: its three untyped names get types
      // (TypeScript cannot infer them), and nothing else changes.
      files: { 'worker.ts': worker.replace('let verifier;', 'let verifier: Verifier | undefined;')
        .replace('async fetch(request, env)', 'async fetch(request: Request, env: { SECRET_KEY: string })') },
    }));
  });
  it('fails on a wrong call (the checks can fail)', () => {
    const dir = project('wrong', {
      packageJson: { type: 'module' },
      tsconfig: { lib: ['es2022'], types: ['node'], module: 'nodenext', moduleResolution: 'nodenext' },
      files: { 'index.ts': "import { formatLife } from 'tokenlife';\nformatLife('360');\n" },
    });
    assert.throws(() => execFileSync(process.execPath, [tsc, '-p', dir], { encoding: 'utf8' }),
      (err) => /TS2345/.test(err.stdout));
  });
});
void here;
