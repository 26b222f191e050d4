// Run by test/node-versions.test.mjs with each Node version, from a consumer project with the
// packed package installed: `node probe.cjs VECTORS.json`. The CommonJS entries, required by
// name; prints one JSON line ({ node, crypto, checks }) or exits non-zero.
'use strict';
const { readFileSync } = require('node:fs');
const tl = require('tokenlife');
const fresh = require('tokenlife/fresh');
const { checkPackage, checkFresh } = require('./checks.cjs');

const vectors = JSON.parse(readFileSync(process.argv[2], 'utf8'));
(async () => {
  let checks = checkPackage(tl, vectors);
  checks += await checkFresh(fresh, tl, vectors);
  console.log(JSON.stringify({ node: process.version, crypto: typeof globalThis.crypto, checks }));
})().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
