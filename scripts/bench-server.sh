#!/usr/bin/env bash
# Benchmarks the release server on loopback with wrk and prints one table:
#  (a) GET /api/v1alpha/whoami with a Bearer token vs a bare warp route answering a JSON
#      body of the same size (server/examples/bare.rs): requests/s and p99;
#  (b) durable token creates/s with 64 concurrent clients when the store already holds
#      100, 10,000 and 100,000 tokens (seeded by the hidden `tokenlife seed` command);
#  (c) the same whoami and creates (100 tokens stored) on the JSON store, on PostgreSQL
#      with one server, and with two servers on one database (load split over both), on
#      a throwaway cluster made by scripts/with-postgres.sh.
# Takes about three minutes after the build. DURATION (seconds per run, default 10) can be set.
set -euo pipefail
cd "$(dirname "$0")/.."
# Run under a throwaway PostgreSQL cluster (the script calls itself once inside it);
# without PostgreSQL installed, the store table is left out.
if [ -z "${TOKENLIFE_TEST_PG:-}" ] && ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  exec bash scripts/with-postgres.sh bash "$0" "$@"
fi
DURATION=${DURATION:-10}
command -v wrk >/dev/null || { echo "bench-server: wrk is needed (apt-get install wrk)" >&2; exit 1; }

cargo build --release -q -p tokenlife-server --bin tokenlife --example bare
TARGET=${CARGO_TARGET_DIR:-target}
BIN=$TARGET/release/tokenlife
BARE=$TARGET/release/examples/bare
WORK=$(mktemp -d)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

# start NAME CMD...: runs CMD with stdout in $WORK/NAME.out, waits for "listening on", sets PORT.
start() {
  local name=$1; shift
  "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" &
  PIDS+=($!)
  for _ in $(seq 1 200); do
    PORT=$(sed -n 's/^listening on http:\/\/127\.0\.0\.1:\([0-9]*\)$/\1/p' "$WORK/$name.out")
    [ -n "$PORT" ] && return 0
    sleep 0.05
  done
  echo "bench-server: $name did not start:" >&2; cat "$WORK/$name.err" >&2; exit 1
}
stop_last() { kill "${PIDS[-1]}" 2>/dev/null || true; wait "${PIDS[-1]}" 2>/dev/null || true; unset 'PIDS[-1]'; }

# wrk_run ARGS...: prints "req/s p99".
wrk_run() {
  local out
  out=$(wrk --latency "$@")
  local rps p99 errors
  rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
  errors=$(awk '/Non-2xx or 3xx responses:/ {print $5}' <<<"$out")
  echo "${rps:-0} ${p99:-?} ${errors:-0}"
}

cat >"$WORK/bearer.lua" <<'LUA'
wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")
LUA
cat >"$WORK/create.lua" <<'LUA'
local threads = {}
function setup(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end
local counter = 0
local prefix
function init(args)
  prefix = "bench " .. (os.getenv("PREFIX") or "") .. tid .. " " .. os.time() .. " "
end
function request()
  counter = counter + 1
  local body = '{"jwt_token_description":"' .. prefix .. counter .. '","jwt_token_life":"1h"}'
  return wrk.format("POST", "/api/v1alpha/token/", {
    ["Authorization"] = os.getenv("BASIC"),
    ["Content-Type"] = "application/json",
  }, body)
end
LUA

# (a) whoami vs bare, alternating twice and keeping each one's best run, because other
# work on a shared machine moves single runs by tens of percent.
mkdir -p "$WORK/a"
start server env RUST_LOG=warn "$BIN" --data "$WORK/a" serve --listen 127.0.0.1:0
SERVER_PORT=$PORT
PASSWORD=$(sed -n 's/^admin password: //p' "$WORK/server.out")
TOKEN=$(curl -sf -u "admin:$PASSWORD" -H 'Content-Type: application/json' \
  -d '{"jwt_token_description":"bench","jwt_token_life":"1h"}' "http://127.0.0.1:$SERVER_PORT/api/v1alpha/token/" |
  sed -n 's/.*"jwt_token":"\([^"]*\)".*/\1/p')
export TOKEN
start bare "$BARE"
BARE_PORT=$PORT
WHO_RPS=0; BARE_RPS=0; WHO_ERR=0
best() { awk -v a="$1" -v b="$2" 'BEGIN { print (a + 0 >= b + 0) ? "yes" : "no" }'; }
for _ in 1 2; do
  read -r rps p99 _ < <(wrk_run -t2 -c32 -d"${DURATION}s" "http://127.0.0.1:$BARE_PORT/api/v1alpha/whoami")
  if [ "$(best "$rps" "$BARE_RPS")" = yes ]; then BARE_RPS=$rps; BARE_P99=$p99; fi
  read -r rps p99 errors < <(wrk_run -t2 -c32 -d"${DURATION}s" -s "$WORK/bearer.lua" "http://127.0.0.1:$SERVER_PORT/api/v1alpha/whoami")
  if [ "$(best "$rps" "$WHO_RPS")" = yes ]; then WHO_RPS=$rps; WHO_P99=$p99; fi
  WHO_ERR=$((WHO_ERR + errors))
done
stop_last
stop_last

# (b) creates with 64 clients over stores of growing size.
declare -A CREATE_RPS CREATE_P99 CREATE_ERR
for N in 100 10000 100000; do
  dir="$WORK/b$N"
  mkdir -p "$dir"
  echo "bench-password" | "$BIN" --data "$dir" seed bench "$N" >/dev/null
  start "server$N" env RUST_LOG=warn "$BIN" --data "$dir" serve --listen 127.0.0.1:0
  export BASIC="Basic $(printf 'bench:bench-password' | base64)"
  curl -sf -H "Authorization: $BASIC" "http://127.0.0.1:$PORT/api/v1alpha/token/" -o /dev/null
  read -r rps p99 errors < <(wrk_run -t2 -c64 -d"${DURATION}s" -s "$WORK/create.lua" "http://127.0.0.1:$PORT/api/v1alpha/token/")
  CREATE_RPS[$N]=$rps; CREATE_P99[$N]=$p99; CREATE_ERR[$N]=$errors
  stop_last
done

if [ -n "${TOKENLIFE_TEST_PG:-}" ]; then
# (c) PostgreSQL: one server, then two on the same database with the load split in halves
# (two wrk at once, their req/s added).
PG_DB="${TOKENLIFE_TEST_PG%/*}/bench"
psql -q "$TOKENLIFE_TEST_PG" -c "CREATE DATABASE bench"
echo "bench-password" | env RUST_LOG=warn "$BIN" --store "$PG_DB" seed bench 100 >/dev/null
export BASIC="Basic $(printf 'bench:bench-password' | base64)"
start pg1 env RUST_LOG=warn "$BIN" --store "$PG_DB" serve --listen 127.0.0.1:0
PG1=$PORT
TOKEN=$(curl -sf -H "Authorization: $BASIC" -H 'Content-Type: application/json' \
  -d '{"jwt_token_description":"bench whoami","jwt_token_life":"1h"}' "http://127.0.0.1:$PG1/api/v1alpha/token/" |
  sed -n 's/.*"jwt_token":"\([^"]*\)".*/\1/p')
export TOKEN
read -r PG1_WHO _ PG1_WHO_ERR < <(wrk_run -t2 -c32 -d"${DURATION}s" -s "$WORK/bearer.lua" "http://127.0.0.1:$PG1/api/v1alpha/whoami")
read -r PG1_CREATE _ PG1_CREATE_ERR < <(PREFIX=one wrk_run -t2 -c64 -d"${DURATION}s" -s "$WORK/create.lua" "http://127.0.0.1:$PG1/api/v1alpha/token/")
start pg2 env RUST_LOG=warn "$BIN" --store "$PG_DB" serve --listen 127.0.0.1:0
PG2=$PORT
# pair URL LUA CONNS PREFIX: wrk on both servers at once; prints "summed-req/s errors".
pair() {
  local path=$1 lua=$2 conns=$3
  PREFIX=a$4 wrk_run -t1 -c"$conns" -d"${DURATION}s" -s "$lua" "http://127.0.0.1:$PG1$path" >"$WORK/pair1" &
  local first=$!
  PREFIX=b$4 wrk_run -t1 -c"$conns" -d"${DURATION}s" -s "$lua" "http://127.0.0.1:$PG2$path" >"$WORK/pair2"
  wait "$first"
  awk '{ rps += $1; errors += $3 } END { printf "%.2f %d\n", rps, errors }' "$WORK/pair1" "$WORK/pair2"
}
read -r PG2_WHO PG2_WHO_ERR < <(pair /api/v1alpha/whoami "$WORK/bearer.lua" 16 w)
read -r PG2_CREATE PG2_CREATE_ERR < <(pair /api/v1alpha/token/ "$WORK/create.lua" 32 c)
stop_last
stop_last
fi

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.0f%%", 100 * a / b; else print "-" }'; }
echo
echo "tokenlife server benchmark ($(nproc) cores, loopback, wrk, ${DURATION}s per run)"
echo
printf '| %-52s | %10s | %9s | %-22s |\n' "run" "req/s" "p99" "ratio"
printf '|%s|%s|%s|%s|\n' "------------------------------------------------------" "------------" "-----------" "------------------------"
printf '| %-52s | %10s | %9s | %-22s |\n' "bare warp route, same JSON size (32 connections)" "$BARE_RPS" "$BARE_P99" "100%"
printf '| %-52s | %10s | %9s | %-22s |\n' "GET whoami with Bearer (32 connections)" "$WHO_RPS" "$WHO_P99" "$(ratio "$WHO_RPS" "$BARE_RPS") of bare (goal 70%)"
for N in 100 10000 100000; do
  printf '| %-52s | %10s | %9s | %-22s |\n' "POST token, 64 clients, $N tokens stored" "${CREATE_RPS[$N]}" "${CREATE_P99[$N]}" "$(ratio "${CREATE_RPS[$N]}" "${CREATE_RPS[100]}") of 100 stored"
done
echo
echo "non-2xx answers: whoami ${WHO_ERR}, creates ${CREATE_ERR[100]} / ${CREATE_ERR[10000]} / ${CREATE_ERR[100000]}"
[ -n "${TOKENLIFE_TEST_PG:-}" ] || exit 0
echo
echo "stores (req/s; 100 tokens stored before the creates; two servers: the same total load split over both)"
echo
printf '| %-40s | %10s | %20s | %21s |\n' "run" "JSON store" "PostgreSQL, 1 server" "PostgreSQL, 2 servers"
printf '|%s|%s|%s|%s|\n' "------------------------------------------" "------------" "----------------------" "-----------------------"
printf '| %-40s | %10s | %20s | %21s |\n' "GET whoami with Bearer (32 connections)" "$WHO_RPS" "$PG1_WHO" "$PG2_WHO"
printf '| %-40s | %10s | %20s | %21s |\n' "POST token (64 clients)" "${CREATE_RPS[100]}" "$PG1_CREATE" "$PG2_CREATE"
echo
echo "non-2xx answers on PostgreSQL: whoami ${PG1_WHO_ERR} / ${PG2_WHO_ERR}, creates ${PG1_CREATE_ERR} / ${PG2_CREATE_ERR}"
