#!/usr/bin/env bash
# Benchmarks durable token creates on the release server, JSON store and PostgreSQL in one
# run, and prints one table: creates/s, p50 and p99 per store and store size, with the
# goals (>= 1,000 creates/s at every size; p99 < 25 ms) marked pass or FAIL.
#
# For each store and each size (100, 10,000, 100,000 tokens), a fresh store is seeded with
# that many tokens of one user by the hidden `tokenlife seed` command (one import, written
# once), a server is started on it, and server/examples/create_load.rs runs 64 keep-alive
# clients that each create a token (timed) and then delete it (not timed), CREATES creates
# in all (default 10000): the store holds the labelled number of tokens, plus at most one
# per client, from the first create to the last. Every create is fsynced (JSON journal) or
# committed (PostgreSQL, synchronous_commit=on) before it is answered.
#
# PostgreSQL runs on the throwaway cluster of scripts/with-postgres.sh (the script calls
# itself once inside it); without PostgreSQL installed its rows are left out.
# CREATES and CLIENTS (default 64) can be set; SIZES (default "100 10000 100000"), STORES
# (default "json postgres"; one of them alone) and LOGS=DIR (keep each server's log there)
# are for finding out why.
# Takes about three minutes after the build.
set -euo pipefail
cd "$(dirname "$0")/.."
WANT=${STORES:-json postgres}
if [[ " $WANT " == *" postgres "* ]] && [ -z "${TOKENLIFE_TEST_PG:-}" ] &&
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  exec bash scripts/with-postgres.sh bash "$0" "$@"
fi
CREATES=${CREATES:-10000}
CLIENTS=${CLIENTS:-64}
SIZES=${SIZES:-"100 10000 100000"}

# Built without TOKENLIFE_TEST_PG, as bench-server.sh does: the build script reads it.
env -u TOKENLIFE_TEST_PG cargo build --release -q -p tokenlife-server --bin tokenlife --example create_load
TARGET=${CARGO_TARGET_DIR:-target}
BIN=$TARGET/release/tokenlife
LOAD=$TARGET/release/examples/create_load
source scripts/bench-lib.sh

BASIC="Basic $(printf 'bench:bench-password' | base64)"
declare -A RATE P50 P99 ERRS
STORES=
for store in $WANT; do
  case $store in
    json) STORES="$STORES json" ;;
    postgres) [ -n "${TOKENLIFE_TEST_PG:-}" ] && STORES="$STORES postgres" ;;
    *) echo "bench-create: STORES holds json and/or postgres, not $store" >&2; exit 2 ;;
  esac
done
STORES=${STORES# }
for store in $STORES; do
  for n in $SIZES; do
    if [ "$store" = json ]; then
      mkdir -p "$WORK/json$n"
      where=(--data "$WORK/json$n")
    else
      psql -q "$TOKENLIFE_TEST_PG" -c "CREATE DATABASE bench$n"
      where=(--store "${TOKENLIFE_TEST_PG%/*}/bench$n")
    fi
    echo "bench-password" | env RUST_LOG=warn "$BIN" "${where[@]}" seed bench "$n" >/dev/null
    start "$store$n" env RUST_LOG="${RUST_LOG:-warn}" "$BIN" "${where[@]}" serve --listen 127.0.0.1:0
    # One create first, so the password check is cached and the pool warm.
    curl -sf -H "Authorization: $BASIC" -H 'Content-Type: application/json' \
      -d '{"jwt_token_description":"warm-up","jwt_token_life":"1s"}' \
      "http://127.0.0.1:$PORT/api/v1alpha/token/" -o /dev/null
    line=$("$LOAD" "$PORT" "$BASIC" "$CLIENTS" "$CREATES")
    stop_last
    [ -n "${LOGS:-}" ] && cp "$WORK/$store$n.err" "$LOGS/$store$n.log"
    field() { sed -n "s/.*\b$1=\([^ ]*\).*/\1/p" <<<"$line"; }
    RATE[$store$n]=$(field rate); P50[$store$n]=$(field p50_ms)
    P99[$store$n]=$(field p99_ms); ERRS[$store$n]=$(field errors)
  done
done

ok() { awk -v v="$1" -v goal="$2" -v dir="$3" 'BEGIN {
  pass = (dir == "min") ? (v + 0 >= goal) : (v + 0 < goal); print pass ? "pass" : "FAIL" }'; }
echo
echo "Durable creates, $CLIENTS clients, $CREATES creates per row (each followed by its delete,"
echo "so the store size stays as labelled); $(nproc) cores; release build."
echo
printf '| %-10s | %15s | %10s | %9s | %9s | %6s | %-24s |\n' \
  store "tokens stored" creates/s "p50 ms" "p99 ms" errors "goals (>=1000/s, p99<25)"
printf '|%s|%s|%s|%s|%s|%s|%s|\n' ------------ ----------------- ------------ ----------- \
  ----------- -------- --------------------------
failed=0
for store in $STORES; do
  for n in $SIZES; do
    k=$store$n
    rate_ok=$(ok "${RATE[$k]}" 1000 min); p99_ok=$(ok "${P99[$k]}" 25 max)
    [ "$rate_ok$p99_ok" = passpass ] || failed=1
    printf '| %-10s | %15s | %10s | %9s | %9s | %6s | %-24s |\n' "$store" \
      "$(printf "%'d" "$n")" "${RATE[$k]}" "${P50[$k]}" "${P99[$k]}" "${ERRS[$k]}" \
      "rate $rate_ok, p99 $p99_ok"
  done
done
if [ "$STORES" = "json postgres" ]; then
  echo
  echo "PostgreSQL / JSON creates/s (same run):"
  for n in $SIZES; do
    awk -v n="$n" -v a="${RATE[postgres$n]}" -v b="${RATE[json$n]}" \
      'BEGIN { printf "  %d tokens: %.2f\n", n, (b > 0) ? a / b : 0 }'
  done
fi
echo
[ "$failed" = 0 ] && echo "all goals met" || echo "some goals not met"
