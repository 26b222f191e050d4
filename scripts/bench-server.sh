#!/usr/bin/env bash
# Benchmarks the release server on loopback with wrk and prints one table, every figure
# from this run:
#  (a) GET /api/v1alpha/whoami with a Bearer token against a bare route that does the same
#      HTTP work (server/examples/bare.rs: the same options, accept loop, runtime, logging,
#      Authorization filter, recovery, security headers and log line, a JSON answer of
#      whoami's size) but neither verifies the token nor asks the store: the ratio is the
#      API's own cost. Twice: with one token (always in the verified-token cache) and
#      cycling over MANY distinct tokens (default 20,000, twice the cache: every request
#      a miss), the bare route given the same wrk script each time, so that wrk's own work
#      is the same on both sides of a ratio;
#  (b) with PostgreSQL installed, the same one-token whoami on PostgreSQL with one server
#      and with two servers on one database (load split over both), on a throwaway cluster
#      made by scripts/with-postgres.sh.
# With BASELINE=REV (a commit, e.g. the release before a change), REV's release server is
# built too (once, kept in target/baseline/) and its whoami runs in the same rounds, one
# token and many, each on its own folder and tokens: the table gains its rows and the
# change's cost ("within 5%" was issue 16's goal for last use).
# Creates are measured by scripts/bench-create.sh, run at the end when it is there (not
# with CREATES=0).
# Takes about three minutes after the build (five with BASELINE). DURATION (seconds per
# run, default 10), ROUNDS (runs of each, the best kept; default 2) and MANY can be set.
set -euo pipefail
cd "$(dirname "$0")/.."
# Run under a throwaway PostgreSQL cluster (the script calls itself once inside it);
# without PostgreSQL installed, the store table is left out.
if [ -z "${TOKENLIFE_TEST_PG:-}" ] && ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  exec bash scripts/with-postgres.sh bash "$0" "$@"
fi
DURATION=${DURATION:-10}
MANY=${MANY:-20000}
ROUNDS=${ROUNDS:-2}
THREADS=2
command -v wrk >/dev/null || { echo "bench-server: wrk is needed (apt-get install wrk)" >&2; exit 1; }

# Built without TOKENLIFE_TEST_PG: the server's build script reads it (for the e2e tests'
# skips), and a new value each run would rebuild the release binary each run.
env -u TOKENLIFE_TEST_PG cargo build --release -q -p tokenlife-server --bin tokenlife --example bare
TARGET=${CARGO_TARGET_DIR:-target}
BIN=$TARGET/release/tokenlife
BARE=$TARGET/release/examples/bare
source scripts/bench-lib.sh
if [ -n "${BASELINE:-}" ]; then
  REV=$(git rev-parse --short "$BASELINE^{commit}")
  BASE_BIN=$TARGET/baseline/tokenlife-$REV
  if [ ! -x "$BASE_BIN" ]; then
    git worktree add -q --detach "$WORK/src" "$REV"
    # Its own target folder, so that neither build evicts the other's artefacts.
    BASE_TARGET=$(realpath "$TARGET")/baseline
    (cd "$WORK/src" && env -u TOKENLIFE_TEST_PG CARGO_TARGET_DIR="$BASE_TARGET" \
      cargo build --release -q -p tokenlife-server --bin tokenlife)
    cp "$TARGET/baseline/release/tokenlife" "$BASE_BIN"
    git worktree remove --force "$WORK/src"
  fi
fi

# wrk_run ARGS...: prints "req/s p99 non-2xx requests".
wrk_run() {
  local out
  out=$(wrk --latency "$@")
  local rps p99 errors requests
  rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
  errors=$(awk '/Non-2xx or 3xx responses:/ {print $5}' <<<"$out")
  requests=$(awk '/ requests in / {print $1}' <<<"$out")
  echo "${rps:-0} ${p99:-?} ${errors:-0} ${requests:-0}"
}
# cpu_ticks PID: the user and system CPU time the process has used, in clock ticks.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
TICK=$(getconf CLK_TCK)

# One token, in a header wrk sends as it is.
cat >"$WORK/one.lua" <<'LUA'
wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")
LUA
# The tokens of $TOKENS_FILE in turn, each thread starting at its own place; every request
# is formatted before the run, so that wrk's work per request is one table look-up.
cat >"$WORK/many.lua" <<'LUA'
local threads = {}
function setup(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end
local requests, i = {}, 0
function init(args)
  for line in io.lines(os.getenv("TOKENS_FILE")) do
    requests[#requests + 1] = wrk.format("GET", "/api/v1alpha/whoami", { ["Authorization"] = "Bearer " .. line })
  end
  i = math.floor(#requests * (tid - 1) / tonumber(os.getenv("THREADS")))
end
function request()
  i = i % #requests + 1
  return requests[i]
end
LUA
# Creates TOKENS tokens (each thread its share), writes them one a line to OUT.<thread>, and
# then sends nothing more (wrk itself runs out its duration: it is stopped from outside).
cat >"$WORK/make.lua" <<'LUA'
local threads = {}
function setup(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end
local want, made, sent, out = 0, 0, 0, nil
function init(args)
  want = math.ceil(tonumber(os.getenv("TOKENS")) / tonumber(os.getenv("THREADS")))
  out = io.open(os.getenv("OUT") .. "." .. tid, "w")
  out:setvbuf("line")
end
function request()
  sent = sent + 1
  local body = '{"jwt_token_description":"many ' .. tid .. ' ' .. sent .. '","jwt_token_life":"1h"}'
  return wrk.format("POST", "/api/v1alpha/token/", {
    ["Authorization"] = os.getenv("BASIC"),
    ["Content-Type"] = "application/json",
  }, body)
end
function response(status, headers, body)
  if out == nil then return end
  local token = body:match('"jwt_token":"([^"]+)"')
  if status == 201 and token then
    out:write(token, "\n")
    made = made + 1
  end
  if made >= want then
    out:close()
    out = nil
    wrk.thread:stop()
  end
end
LUA

# (a) whoami vs the bare route, one token and many, alternating ROUNDS times and keeping each
# one's best run, because other work on a shared machine moves single runs by tens of
# percent.
# serve_tokens NAME BIN: starts BIN on a new folder, makes one token ($WORK/NAME.token) and
# MANY distinct ones ($WORK/NAME.tokens, one a line), and sets PORT.
serve_tokens() {
  local name=$1 bin=$2
  mkdir -p "$WORK/$name.data"
  start "$name" env RUST_LOG=warn "$bin" --data "$WORK/$name.data" serve --listen 127.0.0.1:0
  local port=$PORT password basic
  password=$(sed -n 's/^admin password: //p' "$WORK/$name.out")
  basic="Basic $(printf 'admin:%s' "$password" | base64 -w0)"
  curl -sf -H "Authorization: $basic" -H 'Content-Type: application/json' \
    -d '{"jwt_token_description":"bench","jwt_token_life":"1h"}' "http://127.0.0.1:$port/api/v1alpha/token/" |
    sed -n 's/.*"jwt_token":"\([^"]*\)".*/\1/p' >"$WORK/$name.token"
  BASIC=$basic TOKENS=$MANY OUT="$WORK/$name.made" THREADS=$THREADS \
    wrk -t"$THREADS" -c16 -d300s -s "$WORK/make.lua" "http://127.0.0.1:$port/api/v1alpha/token/" >/dev/null &
  local maker=$!
  while kill -0 "$maker" 2>/dev/null && [ "$(cat "$WORK/$name.made".* 2>/dev/null | wc -l)" -lt "$MANY" ]; do sleep 0.2; done
  kill "$maker" 2>/dev/null || true
  wait "$maker" 2>/dev/null || true
  cat "$WORK/$name.made".* >"$WORK/$name.tokens"
  local made
  made=$(sort -u "$WORK/$name.tokens" | wc -l)
  [ "$made" -ge "$MANY" ] || { echo "bench-server: $name made $made distinct tokens, wanted $MANY" >&2; exit 1; }
  PORT=$port
  PID=${PIDS[-1]}
}
export THREADS
serve_tokens server "$BIN"
SERVER_PORT=$PORT
SERVER_PID=$PID
if [ -n "${BASELINE:-}" ]; then
  serve_tokens baseline "$BASE_BIN"
  BASE_PORT=$PORT
  BASE_PID=$PID
fi
start bare env RUST_LOG=warn "$BARE" --listen 127.0.0.1:0
BARE_PORT=$PORT
BARE_PID=${PIDS[-1]}

RUNS="bare_one who_one bare_many who_many"
[ -n "${BASELINE:-}" ] && RUNS="$RUNS base_one base_many"
# Per run: req/s and p99 (of the best run), non-2xx answers (all runs), and the server's
# CPU time per request in µs (the least of the runs: less moved by the machine's other
# work than req/s, since it leaves out the time the server waits for a core).
declare -A RPS P99 ERR CPU
for run in $RUNS; do RPS[$run]=0; P99[$run]=?; ERR[$run]=0; CPU[$run]=0; done
best() { awk -v a="$1" -v b="$2" 'BEGIN { print (a + 0 >= b + 0) ? "yes" : "no" }'; }
# measure NAME PORT LUA SERVER PID: one run with SERVER's tokens (the bare route takes the
# server's), kept if it is NAME's best so far.
measure() {
  local rps p99 errors requests before after cpu
  before=$(cpu_ticks "$5")
  read -r rps p99 errors requests < <(TOKEN=$(cat "$WORK/$4.token") TOKENS_FILE="$WORK/$4.tokens" \
    wrk_run -t"$THREADS" -c32 -d"${DURATION}s" -s "$3" "http://127.0.0.1:$2/api/v1alpha/whoami")
  after=$(cpu_ticks "$5")
  cpu=$(awk -v t=$((after - before)) -v n="$requests" -v hz="$TICK" \
    'BEGIN { if (n > 0) printf "%.2f", t * 1e6 / hz / n; else print 0 }')
  if [ "$(best "$rps" "${RPS[$1]}")" = yes ]; then RPS[$1]=$rps; P99[$1]=$p99; fi
  if [ "${CPU[$1]}" = 0 ] || [ "$(best "${CPU[$1]}" "$cpu")" = yes ]; then CPU[$1]=$cpu; fi
  ERR[$1]=$((ERR[$1] + errors))
}
for _ in $(seq "$ROUNDS"); do
  measure bare_one "$BARE_PORT" "$WORK/one.lua" server "$BARE_PID"
  measure who_one "$SERVER_PORT" "$WORK/one.lua" server "$SERVER_PID"
  [ -n "${BASELINE:-}" ] && measure base_one "$BASE_PORT" "$WORK/one.lua" baseline "$BASE_PID"
  measure bare_many "$BARE_PORT" "$WORK/many.lua" server "$BARE_PID"
  measure who_many "$SERVER_PORT" "$WORK/many.lua" server "$SERVER_PID"
  [ -n "${BASELINE:-}" ] && measure base_many "$BASE_PORT" "$WORK/many.lua" baseline "$BASE_PID"
done
stop_last
[ -n "${BASELINE:-}" ] && stop_last
stop_last

if [ -n "${TOKENLIFE_TEST_PG:-}" ]; then
# (b) PostgreSQL: one server, then two on the same database with the load split in halves
# (two wrk at once, their req/s added).
PG_DB="${TOKENLIFE_TEST_PG%/*}/bench"
psql -q "$TOKENLIFE_TEST_PG" -c "CREATE DATABASE bench"
echo "bench-password" | env RUST_LOG=warn "$BIN" --store "$PG_DB" seed bench 100 >/dev/null
PG_BASIC="Basic $(printf 'bench:bench-password' | base64 -w0)"
start pg1 env RUST_LOG=warn "$BIN" --store "$PG_DB" serve --listen 127.0.0.1:0
PG1=$PORT
TOKEN=$(curl -sf -H "Authorization: $PG_BASIC" -H 'Content-Type: application/json' \
  -d '{"jwt_token_description":"bench whoami","jwt_token_life":"1h"}' "http://127.0.0.1:$PG1/api/v1alpha/token/" |
  sed -n 's/.*"jwt_token":"\([^"]*\)".*/\1/p')
export TOKEN
read -r PG1_WHO _ PG1_WHO_ERR _ < <(wrk_run -t"$THREADS" -c32 -d"${DURATION}s" -s "$WORK/one.lua" "http://127.0.0.1:$PG1/api/v1alpha/whoami")
start pg2 env RUST_LOG=warn "$BIN" --store "$PG_DB" serve --listen 127.0.0.1:0
PG2=$PORT
wrk_run -t1 -c16 -d"${DURATION}s" -s "$WORK/one.lua" "http://127.0.0.1:$PG1/api/v1alpha/whoami" >"$WORK/pair1" &
FIRST=$!
wrk_run -t1 -c16 -d"${DURATION}s" -s "$WORK/one.lua" "http://127.0.0.1:$PG2/api/v1alpha/whoami" >"$WORK/pair2"
wait "$FIRST"
read -r PG2_WHO PG2_WHO_ERR < <(awk '{ rps += $1; errors += $3 } END { printf "%.2f %d\n", rps, errors }' "$WORK/pair1" "$WORK/pair2")
stop_last
stop_last
fi

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.0f%%", 100 * a / b; else print "-" }'; }
goal() { awk -v a="$1" -v b="$2" -v g="$3" 'BEGIN { print (b > 0 && 100 * a / b >= g) ? "PASS" : "FAIL" }'; }
row() { printf '| %-58s | %10s | %9s | %10s | %-16s |\n' "$@"; }
rule() { printf '|%s|%s|%s|%s|%s|\n' "------------------------------------------------------------" "------------" "-----------" "------------" "------------------"; }
echo
echo "tokenlife server benchmark ($(nproc) cores, loopback, wrk -t$THREADS -c32, best of $ROUNDS runs of ${DURATION}s)"
echo
row "run" "req/s" "p99" "CPU µs/req" "ratio (req/s)"
rule
row "bare route, same HTTP work, one token" "${RPS[bare_one]}" "${P99[bare_one]}" "${CPU[bare_one]}" "100%"
row "GET whoami, one token (verified-token cache hits)" "${RPS[who_one]}" "${P99[who_one]}" "${CPU[who_one]}" "$(ratio "${RPS[who_one]}" "${RPS[bare_one]}") of bare"
row "bare route, same HTTP work, $MANY tokens in turn" "${RPS[bare_many]}" "${P99[bare_many]}" "${CPU[bare_many]}" "100%"
row "GET whoami, $MANY tokens in turn (cache misses)" "${RPS[who_many]}" "${P99[who_many]}" "${CPU[who_many]}" "$(ratio "${RPS[who_many]}" "${RPS[bare_many]}") of bare"
echo
echo "goal: whoami >= 70% of the bare route: $(ratio "${RPS[who_one]}" "${RPS[bare_one]}") $(goal "${RPS[who_one]}" "${RPS[bare_one]}" 70)"
echo "goal: uncached whoami >= 50% of the bare route: $(ratio "${RPS[who_many]}" "${RPS[bare_many]}") $(goal "${RPS[who_many]}" "${RPS[bare_many]}" 50)"
echo "non-2xx answers: bare ${ERR[bare_one]} / ${ERR[bare_many]}, whoami ${ERR[who_one]} / ${ERR[who_many]}"
if [ -n "${BASELINE:-}" ]; then
  echo
  echo "this tree against $REV (same rounds, each server with its own folder and tokens)"
  echo
  row "run" "req/s" "p99" "CPU µs/req" "ratio (req/s)"
  rule
  row "GET whoami on $REV, one token (cache hits)" "${RPS[base_one]}" "${P99[base_one]}" "${CPU[base_one]}" "100%"
  row "GET whoami on this tree, one token (cache hits)" "${RPS[who_one]}" "${P99[who_one]}" "${CPU[who_one]}" "$(ratio "${RPS[who_one]}" "${RPS[base_one]}") of $REV"
  row "GET whoami on $REV, $MANY tokens in turn (misses)" "${RPS[base_many]}" "${P99[base_many]}" "${CPU[base_many]}" "100%"
  row "GET whoami on this tree, $MANY tokens in turn (misses)" "${RPS[who_many]}" "${P99[who_many]}" "${CPU[who_many]}" "$(ratio "${RPS[who_many]}" "${RPS[base_many]}") of $REV"
  echo
  # The capacity each CPU figure allows, as a share of REV's: REV's CPU per request / ours.
  for k in one many; do
    label=$([ $k = one ] && echo "cache hits" || echo "cache misses")
    echo "goal: whoami within 5% of $REV, $label: req/s $(ratio "${RPS[who_$k]}" "${RPS[base_$k]}") $(goal "${RPS[who_$k]}" "${RPS[base_$k]}" 95); requests per CPU second $(ratio "${CPU[base_$k]}" "${CPU[who_$k]}") $(goal "${CPU[base_$k]}" "${CPU[who_$k]}" 95)"
  done
fi
if [ -n "${TOKENLIFE_TEST_PG:-}" ]; then
  echo
  echo "stores: GET whoami, one token (req/s; two servers: the same total load split over both)"
  echo
  printf '| %10s | %20s | %21s |\n' "JSON store" "PostgreSQL, 1 server" "PostgreSQL, 2 servers"
  printf '|%s|%s|%s|\n' "------------" "----------------------" "-----------------------"
  printf '| %10s | %20s | %21s |\n' "${RPS[who_one]}" "$PG1_WHO" "$PG2_WHO"
  echo
  echo "non-2xx answers on PostgreSQL: ${PG1_WHO_ERR} / ${PG2_WHO_ERR}"
fi
if [ -f scripts/bench-create.sh ] && [ "${CREATES:-}" != 0 ]; then
  echo
  bash scripts/bench-create.sh
fi
