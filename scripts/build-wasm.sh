#!/usr/bin/env bash
# Builds the npm package `tokenlife` from wasm/ into wasm/pkg/ (gitignored):
#
#   tokenlife.js        the ES module: `init()` (default), `initSync({ module })` and the
#                       API; browsers and edge runtimes (wasm/npm/tokenlife.js, hand-written)
#   tokenlife_glue.js   what `wasm-bindgen --target web` generates, which tokenlife.js wraps
#   tokenlife_bg.wasm   the one .wasm, beside it (the server serves this folder at /pkg/)
#   tokenlife.d.ts      the typings wasm-bindgen generates from the Rust declarations
#   node.mjs, node.cjs  Node entry points (ES module and CommonJS), ready without init
#   node.d.cts          the typings again, for CommonJS TypeScript users
#   package.json, README.md   from wasm/npm/
#
# Usage: scripts/build-wasm.sh [--check | --bless]
#   --check  also fail if the generated tokenlife.d.ts differs from the committed snapshot
#            wasm/npm/tokenlife.d.ts (CI), so the typings cannot drift unseen
#   --bless  write the generated tokenlife.d.ts over the snapshot (after changing the API)
set -euo pipefail
cd "$(dirname "$0")/.."

mode=build
case "${1:-}" in
  "") ;;
  --check) mode=check ;;
  --bless) mode=bless ;;
  *) echo "usage: $0 [--check | --bless]" >&2; exit 2 ;;
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

# Speed where the time goes, size everywhere else: the hashing, JSON and core code that runs
# on every verify at opt-level 3, the rest at "s" (the root profile's "z" halves the speed of
# verify). simd128 picks sha2's wasm SIMD backend and, measured, also makes the .wasm 3 KB
# smaller gzipped; every current browser, Node >= 16 and workerd run it. These settings
# could move to [profile.wasm-release] in the root Cargo.toml; they are flags here so that
# this script alone owns how the package is built.
hot=(sha2 hmac digest serde_json tokenlife-core tokenlife-wasm)
flags=(--config 'profile.wasm-release.opt-level="s"'
  --config 'target.wasm32-unknown-unknown.rustflags=["-Ctarget-feature=+simd128"]')
for crate in "${hot[@]}"; do
  flags+=(--config "profile.wasm-release.package.$crate.opt-level=3")
done

say "cargo build tokenlife-wasm (wasm32, profile wasm-release)"
cargo build -p tokenlife-wasm --target wasm32-unknown-unknown --profile wasm-release "${flags[@]}"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

say "wasm-bindgen $want --target web"
wasm-bindgen --target web --remove-name-section --remove-producers-section \
  --out-dir "$work" --out-name tokenlife "$target"
# Inline JS snippets would be extra files that edge runtimes must be told about one by one.
if [ -d "$work/snippets" ] && [ -n "$(ls -A "$work/snippets")" ]; then
  fail "wasm-bindgen wrote JS snippets ($(ls -R "$work/snippets" | tr '\n' ' ')); the package has none"
fi

# wasm-opt, when present, and only if its output still loads: Debian's binaryen 108 turns
# wasm-bindgen's externref table into a funcref table, which no runtime can instantiate.
if command -v wasm-opt >/dev/null && command -v node >/dev/null; then
  say "wasm-opt ($(wasm-opt --version))"
  if wasm-opt -O3 \
    --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
    --enable-mutable-globals --enable-reference-types --enable-multivalue --enable-simd \
    --strip-debug --strip-producers \
    "$work/tokenlife_bg.wasm" -o "$work/opt.wasm" &&
    mkdir "$work/try" && cp "$work/tokenlife.js" "$work/try/" && cp "$work/opt.wasm" "$work/try/tokenlife_bg.wasm" &&
    node --input-type=module -e "
      import { readFileSync } from 'node:fs';
      const m = await import('$work/try/tokenlife.js');
      m.initSync({ module: readFileSync('$work/try/tokenlife_bg.wasm') });
      if (m.formatLife(360) !== '6m') throw new Error('wrong answer');" 2>"$work/opt.log"; then
    mv "$work/opt.wasm" "$work/tokenlife_bg.wasm"
  else
    say "wasm-opt's output does not load ($(grep -m1 Error "$work/opt.log")); keeping wasm-bindgen's"
  fi
fi

say "assembling $pkg"
rm -rf "$pkg"
mkdir -p "$pkg"
# The glue keeps its default URL of `tokenlife_bg.wasm`, beside it.
cp "$work/tokenlife.js" "$pkg/tokenlife_glue.js"
cp "$work/tokenlife.d.ts" "$work/tokenlife_bg.wasm" "$pkg/"
cp "$npm_dir/tokenlife.js" "$npm_dir/README.md" "$npm_dir/node.mjs" "$pkg/"
cp "$work/tokenlife.d.ts" "$pkg/node.d.cts"
sed "s/\"version\": \"0.0.0-cargo\"/\"version\": \"$version\"/" "$npm_dir/package.json" >"$pkg/package.json"
grep -q "\"version\": \"$version\"" "$pkg/package.json" || fail "no version placeholder in $npm_dir/package.json"

# node.cjs: the glue and tokenlife.js again, as one CommonJS file. Neither imports anything
# but the other (no snippets), so each becomes a function scope that returns what it
# exported; anything else that looks like module syntax stops the build.
# The names a module exports, as "a, b, c".
list() { tr ',\n' '  ' | tr -s ' ' | sed 's/^ //; s/ $//; s/ /, /g'; }
glue_exports=$(sed -n 's/^export \(class\|function\) \([A-Za-z_$][A-Za-z0-9_$]*\).*/\2/p' "$pkg/tokenlife_glue.js" | list)
api_exports=$(sed -n -e 's/^export function \([A-Za-z_$][A-Za-z0-9_$]*\).*/\1/p' \
  -e 's/^export const { \(.*\) } = glue;$/\1/p' "$pkg/tokenlife.js" | list)
[ -n "$glue_exports" ] && [ -n "$api_exports" ] || fail "found no exports in tokenlife_glue.js or tokenlife.js"
{
  echo '"use strict";'
  echo '// Generated by scripts/build-wasm.sh from tokenlife_glue.js and tokenlife.js.'
  echo 'const glue = (() => {'
  sed -e 's/^export class /class /' -e 's/^export function /function /' \
    -e '/^export { initSync, __wbg_init as default };$/d' \
    -e "s/import\.meta\.url/require('node:url').pathToFileURL(__filename)/" \
    "$pkg/tokenlife_glue.js"
  echo "return { $glue_exports, initSync, default: __wbg_init };"
  echo '})();'
  echo 'const api = (() => {'
  sed -e "/^import \* as glue from '.\/tokenlife_glue.js';$/d" -e 's/^export const /const /' \
    -e 's/^export function /function /' -e 's/^export default async function init/async function init/' \
    "$pkg/tokenlife.js"
  echo "return { $api_exports, default: init };"
  echo '})();'
  echo
  echo "// Node: ready to use, with the .wasm beside this file (the same one the web module loads)."
  echo "api.initSync({ module: require('node:fs').readFileSync(require('node:path').join(__dirname, 'tokenlife_bg.wasm')) });"
  echo 'module.exports = api;'
} >"$pkg/node.cjs"
if grep -nE '^\s*(export|import)\b|import\.meta' "$pkg/node.cjs"; then
  fail "module syntax that node.cjs does not convert (lines above)"
fi

gz=$(gzip -9c "$pkg/tokenlife_bg.wasm" | wc -c)
say "$pkg: tokenlife_bg.wasm $(wc -c <"$pkg/tokenlife_bg.wasm") bytes, $gz gzipped"

snapshot="$npm_dir/tokenlife.d.ts"
case $mode in
  check)
    diff -u "$snapshot" "$pkg/tokenlife.d.ts" ||
      fail "the generated typings differ from $snapshot; if the API change is meant, run $0 --bless and commit"
    say "typings match $snapshot"
    ;;
  bless)
    cp "$pkg/tokenlife.d.ts" "$snapshot"
    say "wrote $snapshot"
    ;;
  build)
    cmp -s "$snapshot" "$pkg/tokenlife.d.ts" 2>/dev/null ||
      say "note: the typings differ from $snapshot (--check fails, --bless updates it)"
    ;;
esac
