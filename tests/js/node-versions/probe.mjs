// Run by test/node-versions.test.mjs with each Node version, from a consumer project with the
// packed package installed: `node probe.mjs VECTORS.json`. The ES module entries, imported by
// name; prints one JSON line ({ node, crypto, checks }) or exits non-zero.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as tl from 'tokenlife';
import * as fresh from 'tokenlife/fresh';

const require = createRequire(import.meta.url);
const { checkPackage, checkFresh } = require('./checks.cjs');
const vectors = JSON.parse(readFileSync(process.argv[2], 'utf8'));

let checks = checkPackage(tl, vectors);
checks += await checkFresh(fresh, tl, vectors);
// The ES module and the CommonJS entry are two copies of the package in one process: each
// one's errors are `instanceof` the other's TokenlifeError.
const cjs = require('tokenlife');
assert.notEqual(cjs.TokenlifeError, tl.TokenlifeError);
assert.throws(() => cjs.parseLife('soon'), (err) => err instanceof tl.TokenlifeError && err.code === 'bad_life');
assert.throws(() => tl.parseLife('soon'), (err) => err instanceof cjs.TokenlifeError && err.code === 'bad_life');
checks += 1;
console.log(JSON.stringify({ node: process.version, crypto: typeof globalThis.crypto, checks }));
