# Sourced by the bench scripts (bench-server.sh, bench-create.sh): a scratch folder, the
# processes started in it, and their cleanup at exit. NAME is the script's name in errors.
#
#   start NAME CMD...   runs CMD with stdout in $WORK/NAME.out and stderr in $WORK/NAME.err,
#                       waits (up to 30 s) for its "listening on" line and sets PORT
#   stop_last           stops the process started last
WORK=$(mktemp -d)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

start() {
  local name=$1; shift
  "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" &
  PIDS+=($!)
  for _ in $(seq 1 600); do
    PORT=$(sed -n 's/^listening on http:\/\/127\.0\.0\.1:\([0-9]*\)$/\1/p' "$WORK/$name.out")
    [ -n "$PORT" ] && return 0
    sleep 0.05
  done
  echo "$(basename "$0" .sh): $name did not start:" >&2; cat "$WORK/$name.err" >&2; exit 1
}
stop_last() { kill "${PIDS[-1]}" 2>/dev/null || true; wait "${PIDS[-1]}" 2>/dev/null || true; unset 'PIDS[-1]'; }
