#!/usr/bin/env bash
# Builds everything (the npm package the page loads, the server) and serves the API and
# the web page on http://127.0.0.1:25441/ with its data in ./tokenlife-data.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh build
bash scripts/build-wasm.sh
cargo build --release -p tokenlife-server
exec ./target/release/tokenlife serve "$@"
