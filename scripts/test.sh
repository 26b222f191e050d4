#!/usr/bin/env bash
# Installs what the tests need, then runs every suite: Rust (core, server end-to-end on
# the JSON store, then again on PostgreSQL), every fuzz target for 20 seconds, Schemathesis
# on the API, the npm package in Node and in workerd, the web page in headless Chromium
# (the binary copied alone), the deployment files.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh test

say() { printf '\n==> %s\n' "$*"; }

# The package first: build.rs builds wasm/pkg/ into every server binary below.
say "the npm package (wasm/pkg/, built into the server)"
bash scripts/build-wasm.sh --check

say "format and lints"
cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings

say "core for wasm32"
cargo build -p tokenlife-core --target wasm32-unknown-unknown

say "Rust tests (core, server end to end)"
cargo test --workspace

say "fuzz targets, 20 seconds each (scripts/fuzz.sh runs them longer)"
nice bash scripts/fuzz.sh 20

say "server end to end on PostgreSQL (a throwaway cluster)"
bash scripts/with-postgres.sh cargo test -p tokenlife-server --test e2e

say "Schemathesis against a live server (docs/openapi.json)"
bash scripts/schemathesis.sh

say "the npm package, from its packed tarball (Node 18/20/22, workerd, edge-runtime, tsc, bundlers in Chromium, Deno, Bun)"
cargo build -p tokenlife-server
export TOKENLIFE_BIN="$PWD/target/debug/tokenlife"
(cd tests/js && node --test)

say "the web page in Chromium"
(cd tests/browser && node --test)

say "the deployment files (systemd-analyze, hadolint, the container's run emulated)"
(cd tests/deploy && node --test)
