#!/usr/bin/env bash
# Builds the npm package `tokenlife` from wasm/ into wasm/pkg/ (gitignored):
#
#   tokenlife.js        the ES module with the whole API (wasm/npm, hand-written): `init()`
#                       (default, fetches tokenlife_bg.wasm beside it), `initSync({ module })`;
#                       `tokenlife/web`, and the workerd/worker conditions
#   tokenlife_glue.js   what `wasm-bindgen --target web` generates, which tokenlife.js wraps
#   tokenlife_bg.wasm   the one .wasm, beside it (the server serves this folder at /pkg/)
#   tokenlife_wasm.js   the same .wasm inlined as base64, for the two entries below
#   inline.js           browsers and bundlers (`browser`, `default`): `init()` takes the
#                       inlined .wasm, so bundles work whether the bundler emits .wasm or not
#   node.mjs, node.cjs  Node, Deno, Bun (ES module and one CommonJS file): ready without
#                       init, the .wasm inlined, so a bundle deployed alone works
#   fresh.js, fresh.node.mjs, fresh.cjs   tokenlife/fresh: over the web module, over node.mjs,
#                       and as CommonJS over node.cjs (generated from fresh.js)
#   tokenlife.d.ts, node.d.cts, tokenlife_bg.wasm.d.ts, fresh.d.ts, fresh.d.cts   the typings
#                       (wasm/npm, hand-written; the .d.cts are copies for require())
#   package.json, README.md, LICENSE   from wasm/npm/ and the repository's root
#
# Usage: scripts/build-wasm.sh [--check]
#   --check  also fail if tokenlife.d.ts does not declare every export of the module (CI);
#            tests/js/test/typings.test.mjs compiles projects against it with tsc
set -euo pipefail
cd "$(dirname "$0")/.."

mode=build
case "${1:-}" in
  "") ;;
  --check) mode=check ;;
  *) echo "usage: $0 [--check]" >&2; exit 2 ;;
esac

say() { printf '==> %s\n' "$*"; }
fail() { printf 'build-wasm: %s\n' "$*" >&2; exit 1; }

npm_dir=wasm/npm
pkg=wasm/pkg
target=target/wasm32-unknown-unknown/wasm-release/tokenlife_wasm.wasm

# The CLI must be the very version of the `wasm-bindgen` crate (pinned with `=`).
want=$(sed -n 's/^wasm-bindgen = "=\(.*\)"/\1/p' Cargo.toml)
have=$(wasm-bindgen --version 2>/dev/null | cut -d' ' -f2 || true)
[ "$have" = "$want" ] ||
  fail "wasm-bindgen CLI ${have:-missing}, the crate wants $want: run scripts/setup.sh"
version=$(sed -n '/^\[workspace.package\]/,/^\[/s/^version = "\(.*\)"/\1/p' Cargo.toml)

# The profile (opt-levels) is [profile.wasm-release] in the root Cargo.toml; simd128 comes
# from .cargo/config.toml.
say "cargo build tokenlife-wasm (wasm32, profile wasm-release)"
cargo build -p tokenlife-wasm --target wasm32-unknown-unknown --profile wasm-release

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

say "wasm-bindgen $want --target web"
wasm-bindgen --target web --remove-name-section --remove-producers-section \
  --out-dir "$work" --out-name tokenlife "$target"
# Inline JS snippets would be extra files that edge runtimes must be told about one by one.
if [ -d "$work/snippets" ] && [ -n "$(ls -A "$work/snippets")" ]; then
  fail "wasm-bindgen wrote JS snippets ($(ls -R "$work/snippets" | tr '\n' ' ')); the package has none"
fi

# wasm-opt -Os takes 2.3 KB off the gzipped .wasm and no time off or on. It is npm's
# binaryen 132 (wasm/tools, installed by setup.sh): Debian's binaryen 108 turns
# wasm-bindgen's externref table into a funcref table that no runtime can instantiate.
wasm_opt=wasm/tools/node_modules/.bin/wasm-opt
[ -x "$wasm_opt" ] || fail "no $wasm_opt: run scripts/setup.sh"
say "wasm-opt -Os ($("$wasm_opt" --version))"
"$wasm_opt" -Os --enable-simd --enable-bulk-memory --enable-reference-types \
  --enable-multivalue --enable-sign-ext --enable-nontrapping-float-to-int \
  --enable-mutable-globals "$work/tokenlife_bg.wasm" -o "$work/tokenlife_bg.opt.wasm"
mv "$work/tokenlife_bg.opt.wasm" "$work/tokenlife_bg.wasm"

say "assembling $pkg"
rm -rf "$pkg"
mkdir -p "$pkg"
# The glue keeps its default URL of `tokenlife_bg.wasm`, beside it. Its own typings
# describe wasm-bindgen's internals and are not shipped. Its initSync takes a
# WebAssembly.Module of another realm as a module, not as bytes to compile: Next.js and
# Vercel's edge-runtime compile an edge function's `.wasm?module` imports outside the
# sandbox, where `instanceof WebAssembly.Module` is false and compiling is forbidden.
module_check='if (!(module instanceof WebAssembly.Module)) {'
grep -qF "$module_check" "$work/tokenlife.js" || fail "the glue's initSync no longer reads: $module_check"
sed "s/^\(\s*\)if (!(module instanceof WebAssembly.Module)) {$/\1if (!(module instanceof WebAssembly.Module) \&\& Object.prototype.toString.call(module) !== '[object WebAssembly.Module]') {/" \
  "$work/tokenlife.js" >"$pkg/tokenlife_glue.js"
grep -qF "'[object WebAssembly.Module]'" "$pkg/tokenlife_glue.js" || fail "could not patch the glue's initSync"
cp "$work/tokenlife_bg.wasm" "$pkg/"
cp "$npm_dir"/*.js "$npm_dir"/*.mjs "$npm_dir"/*.d.ts "$npm_dir/README.md" LICENSE "$pkg/"
cp "$npm_dir/tokenlife.d.ts" "$pkg/node.d.cts"
sed "s/\"version\": \"0.0.0-cargo\"/\"version\": \"$version\"/" "$npm_dir/package.json" >"$pkg/package.json"
grep -q "\"version\": \"$version\"" "$pkg/package.json" || fail "no version placeholder in $npm_dir/package.json"

# tokenlife_wasm.js: the .wasm as base64, and a decoder that needs neither Buffer nor atob.
b64=$(base64 -w0 "$pkg/tokenlife_bg.wasm")
wasm_bytes_fn='function wasmBytes() {
  const text = WASM;
  const table = new Uint8Array(128);
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (let i = 0; i < 64; i++) table[alphabet.charCodeAt(i)] = i;
  const pad = text.endsWith("==") ? 2 : text.endsWith("=") ? 1 : 0;
  const out = new Uint8Array((text.length / 4) * 3 - pad);
  let at = 0;
  for (let i = 0; i < text.length; i += 4) {
    const n = (table[text.charCodeAt(i)] << 18) | (table[text.charCodeAt(i + 1)] << 12)
      | (table[text.charCodeAt(i + 2)] << 6) | table[text.charCodeAt(i + 3)];
    out[at++] = n >> 16;
    if (at < out.length) out[at++] = (n >> 8) & 255;
    if (at < out.length) out[at++] = n & 255;
  }
  return out;
}'
{
  echo '// Generated by scripts/build-wasm.sh: tokenlife_bg.wasm inlined as base64.'
  echo "const WASM = \"$b64\";"
  echo
  echo '/** The bytes of tokenlife_bg.wasm (a fresh copy each call). */'
  echo "export default $wasm_bytes_fn"
} >"$pkg/tokenlife_wasm.js"

# node.cjs: the glue and tokenlife.js again, as one CommonJS file with the .wasm inlined.
# Neither imports anything but the other (no snippets), so each becomes a function scope
# that returns what it exported; anything else that looks like module syntax stops the build.
# The names a module exports, as "a, b, c".
list() { tr ',\n' '  ' | tr -s ' ' | sed 's/^ //; s/ $//; s/ /, /g'; }
glue_exports=$(sed -n 's/^export \(class\|function\) \([A-Za-z_$][A-Za-z0-9_$]*\).*/\2/p' "$pkg/tokenlife_glue.js" | list)
api_exports=$(sed -n 's/^export \(class\|function\|const\) \([A-Za-z_$][A-Za-z0-9_$]*\).*/\2/p' "$pkg/tokenlife.js" | list)
[ -n "$glue_exports" ] && [ -n "$api_exports" ] || fail "found no exports in tokenlife_glue.js or tokenlife.js"
{
  echo '"use strict";'
  echo '// Generated by scripts/build-wasm.sh from tokenlife_glue.js, tokenlife.js and tokenlife_bg.wasm.'
  echo 'const glue = (() => {'
  sed -e 's/^export class /class /' -e 's/^export function /function /' \
    -e '/^export { initSync, __wbg_init as default };$/d' \
    -e "s/import\.meta\.url/require('node:url').pathToFileURL(__filename)/" \
    "$pkg/tokenlife_glue.js"
  echo "return { $glue_exports, initSync, default: __wbg_init };"
  echo '})();'
  echo 'const api = (() => {'
  sed -e "/^import \* as glue from '.\/tokenlife_glue.js';$/d" -e 's/^export const /const /' \
    -e 's/^export class /class /' -e 's/^export function /function /' \
    -e 's/^export default async function init/async function init/' \
    "$pkg/tokenlife.js"
  echo "return { $api_exports, default: init };"
  echo '})();'
  echo
  echo "const WASM = \"$b64\";"
  echo "$wasm_bytes_fn"
  echo
  echo '// Node, Deno, Bun: ready to use, with the .wasm inlined above.'
  echo 'api.initSync({ module: wasmBytes() });'
  echo 'module.exports = api;'
} >"$pkg/node.cjs"
if grep -nE '^\s*(export|import)\b|import\.meta' "$pkg/node.cjs"; then
  fail "module syntax that node.cjs does not convert (lines above)"
fi
unset b64

# fresh.cjs: fresh.js as CommonJS over node.cjs (require('tokenlife/fresh')), so that it
# shares the instance of require('tokenlife'); fresh.d.cts: its typings over node.d.cts.
fresh_exports=$(sed -n 's/^export \(class\|function\|async function\) \([A-Za-z_$][A-Za-z0-9_$]*\).*/\2/p' "$pkg/fresh.js" | list)
[ -n "$fresh_exports" ] || fail "found no exports in fresh.js"
{
  echo '"use strict";'
  echo '// Generated by scripts/build-wasm.sh from fresh.js.'
  sed -e "s|^import { Verifier } from './tokenlife.js';$|const { Verifier } = require('./node.cjs');|" \
    -e 's/^export class /class /' -e 's/^export async function /async function /' \
    -e 's/^export function /function /' "$pkg/fresh.js"
  echo "module.exports = { $fresh_exports };"
} >"$pkg/fresh.cjs"
if grep -nE '^\s*(export|import)\b|import\.meta' "$pkg/fresh.cjs"; then
  fail "module syntax that fresh.cjs does not convert (lines above)"
fi
grep -q "require('./node.cjs')" "$pkg/fresh.cjs" || fail "fresh.js no longer imports { Verifier } from './tokenlife.js'"
sed "s|from './tokenlife.js';|from './node.cjs';|" "$npm_dir/fresh.d.ts" >"$pkg/fresh.d.cts"
grep -q "from './node.cjs';" "$pkg/fresh.d.cts" || fail "fresh.d.ts no longer imports from './tokenlife.js'"

gz=$(gzip -9c "$pkg/tokenlife_bg.wasm" | wc -c)
say "$pkg: tokenlife_bg.wasm $(wc -c <"$pkg/tokenlife_bg.wasm") bytes, $gz gzipped"

if [ "$mode" = check ]; then
  for name in ${api_exports//,/}; do
    grep -qE "^export (declare )?(function|class|const) $name\b" "$pkg/tokenlife.d.ts" ||
      fail "tokenlife.d.ts declares no export $name (tokenlife.js exports it)"
  done
  say "tokenlife.d.ts declares every export of tokenlife.js"
fi
