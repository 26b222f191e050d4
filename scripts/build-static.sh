#!/usr/bin/env bash
# Builds the static Linux binary: target/x86_64-unknown-linux-musl/release/tokenlife, one
# file with the page and the npm package inside, that runs on any x86-64 Linux (no libc
# needed). Installs what is missing first: Debian's musl-tools, the Rust target, and what
# the package needs (scripts/setup.sh build); the package is built before the binary.
#
# Usage: scripts/build-static.sh [--test]
#   --test  then run the binary-alone end-to-end test on it (under chroot: only the binary,
#           no library, nothing of the repository) and the Chromium page tests against it
#
# The release profile (fat LTO, one codegen unit) takes 10-20 minutes on two busy cores
# from cold, which is why scripts/test.sh does not run it.
set -euo pipefail
cd "$(dirname "$0")/.."

test=no
case "${1:-}" in
  "") ;;
  --test) test=yes ;;
  *) echo "usage: $0 [--test]" >&2; exit 2 ;;
esac

say() { printf '==> %s\n' "$*"; }
target=x86_64-unknown-linux-musl

if ! command -v musl-gcc >/dev/null; then
  say "installing musl-tools from Debian"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq musl-tools
fi
if ! rustup target list --installed | grep -qx "$target"; then
  say "adding the $target target"
  rustup target add "$target"
fi
bash scripts/setup.sh build
bash scripts/build-wasm.sh

say "cargo build --release --target $target"
# Crates that compile C (none today) use musl's compiler.
CC_x86_64_unknown_linux_musl=musl-gcc \
  cargo build --release --locked -p tokenlife-server --bin tokenlife --target "$target"
bin=target/$target/release/tokenlife

# A static(-pie) binary loads no library: ldd lists none ("statically linked").
if ldd "$bin" 2>&1 | grep -q '=>'; then
  echo "build-static: $bin is dynamically linked:" >&2
  ldd "$bin" >&2
  exit 1
fi
"$bin" --version
bytes=$(stat -c %s "$bin")
say "$bin: static, $bytes bytes ($(awk -v b="$bytes" 'BEGIN { printf "%.1f", b / 1048576 }') MiB), $(gzip -9c "$bin" | wc -c) bytes gzipped"

if [ "$test" = yes ]; then
  say "the binary-alone test on it"
  TOKENLIFE_ALONE_BIN="$PWD/$bin" cargo test -p tokenlife-server --test e2e -- \
    --exact deploy::the_binary_alone_serves_the_page_the_package_and_the_api
  say "the Chromium page tests against it"
  [ -d tests/browser/node_modules ] || (cd tests/browser && npm ci --no-audit --no-fund --loglevel=error)
  (cd tests/browser && TOKENLIFE_BIN="$PWD/../../$bin" node --test)
fi
