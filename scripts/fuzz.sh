#!/usr/bin/env bash
# Runs the cargo-fuzz targets of fuzz/ one after the other, each for SECONDS (default 300),
# and prints a table: target, seconds, executions per second, corpus size, findings.
#   bash scripts/fuzz.sh [SECONDS] [TARGET...]       (all targets when none is named)
# Each target starts from its committed seeds (fuzz/seeds/TARGET) and grows its corpus in
# fuzz/corpus/TARGET (not committed); a finding is written to fuzz/artifacts/TARGET and
# makes the script exit non-zero once every target has run. Needs nightly and cargo-fuzz
# (scripts/setup.sh test installs both). The targets are safe Rust, so no sanitizer
# (twice the executions per second); debug assertions stay on (overflow checks).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-300}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(json base64url hmac_sha256 life scope token)
fi

# The workspace's release profile (fat LTO, one codegen unit) is for shipping; fuzz
# builds take minutes less without it.
export CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16
fuzz=(cargo +nightly fuzz)
for target in "${targets[@]}"; do
  "${fuzz[@]}" build --sanitizer none "$target"
done

rows=()
found=0
for target in "${targets[@]}"; do
  corpus=fuzz/corpus/$target
  artifacts=fuzz/artifacts/$target
  mkdir -p "$corpus" "$artifacts"
  before=$(find "$artifacts" -type f | wc -l)
  log=$(mktemp)
  start=$(date +%s)
  status=0
  "${fuzz[@]}" run --sanitizer none "$target" "$corpus" "fuzz/seeds/$target" -- \
    -max_total_time="$seconds" -timeout=10 -print_final_stats=1 >"$log" 2>&1 || status=$?
  took=$(($(date +%s) - start))
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  size=$(find "$corpus" -type f | wc -l)
  new=$(($(find "$artifacts" -type f | wc -l) - before))
  if [ "$status" -ne 0 ] || [ "$new" -gt 0 ]; then
    found=1
    echo "==> $target stopped (exit $status); the end of its log:" >&2
    tail -30 "$log" >&2
  fi
  rm -f "$log"
  rows+=("$(printf '%-12s %8s %10s %8s %9s' "$target" "$took" "${rate:-?}" "$size" "$new")")
done

printf '%-12s %8s %10s %8s %9s\n' target seconds 'execs/s' corpus findings
printf '%s\n' "${rows[@]}"
exit "$found"
