#!/usr/bin/env bash
# Memory under sign-in load (issue 11, item 4): builds the release server, starts it on a
# temporary data folder with 20 extra users, fires 1000 concurrent failed sign-ins, each on
# its own connection (900 unknown usernames, and 5 wrong passwords for each of the 20
# known users: all within the throttle's free attempts, so every one is really hashed),
# samples VmRSS/VmHWM from /proc/PID/status meanwhile, and prints one table: resident
# memory at start, at its peak (VmHWM), and 10 s after the load ended, with the goals.
# Takes a few minutes after the build. CONNECTIONS (default 1000) and IDLE (seconds,
# default 10) can be set.
set -euo pipefail
cd "$(dirname "$0")/.."
CONNECTIONS=${CONNECTIONS:-1000}
IDLE=${IDLE:-10}

nice cargo build --release -q -p tokenlife-server --bin tokenlife
TARGET=${CARGO_TARGET_DIR:-target}
BIN=$(realpath "$TARGET/release/tokenlife")
WORK=$(mktemp -d)
PID=
cleanup() {
  [ -n "$PID" ] && kill "$PID" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

for i in $(seq 0 19); do
  echo "password-of-user-$i" | "$BIN" --data "$WORK/data" user add "user$i" >/dev/null
done
"$BIN" --data "$WORK/data" serve --listen 127.0.0.1:0 >"$WORK/out" 2>"$WORK/err" &
PID=$!
PORT=
for _ in $(seq 1 200); do
  PORT=$(sed -n 's/^listening on http:\/\/127\.0\.0\.1:\([0-9]*\)$/\1/p' "$WORK/out")
  [ -n "$PORT" ] && break
  sleep 0.05
done
[ -n "$PORT" ] || { echo "bench-signin-memory: the server did not start:" >&2; cat "$WORK/err" >&2; exit 1; }

python3 - "$PID" "$PORT" "$CONNECTIONS" "$IDLE" <<'PY'
import asyncio, base64, sys, threading, time

pid, port, connections, idle = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])

def status():
    fields = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM", "Threads"):
                fields[key] = int(value.split()[0])
    return fields

peak_sampled = 0
sampling = True
def sample():
    global peak_sampled
    while sampling:
        peak_sampled = max(peak_sampled, status()["VmRSS"])
        time.sleep(0.02)

def attempts():
    known = [(f"user{i}", f"wrong {n}") for i in range(20) for n in range(5)]
    unknown = [(f"nobody{i}", "wrong") for i in range(connections - len(known))]
    return (known + unknown)[:connections]

async def sign_in(user, password, gate):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    await gate.wait()
    credentials = base64.b64encode(f"{user}:{password}".encode()).decode()
    writer.write((f"GET /api/v1alpha/token/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                  f"Connection: close\r\nAuthorization: Basic {credentials}\r\n\r\n").encode())
    await writer.drain()
    raw = await asyncio.wait_for(reader.read(), timeout=600)
    writer.close()
    return int(raw.split(b" ", 2)[1]) if raw else 0

async def storm():
    gate = asyncio.Event()
    tasks = [asyncio.create_task(sign_in(u, p, gate)) for u, p in attempts()]
    await asyncio.sleep(1)  # every connection open first
    gate.set()
    return await asyncio.gather(*tasks)

start = status()
sampler = threading.Thread(target=sample, daemon=True)
sampler.start()
began = time.monotonic()
statuses = asyncio.run(storm())
took = time.monotonic() - began
after = status()
time.sleep(idle)
sampling = False
sampler.join()
idle_status = status()
counts = {s: statuses.count(s) for s in sorted(set(statuses))}
mb = lambda kib: f"{kib / 1024:.0f} MB"
print(f"{connections} concurrent failed sign-ins in {took:.1f} s, answers: "
      + ", ".join(f"{n} x {s}" for s, n in counts.items()))
print(f"server threads: {idle_status['Threads']}")
print()
print(f"| {'resident memory':<32} | {'measured':>9} | {'goal':>9} |")
print(f"|{'-' * 34}|{'-' * 11}|{'-' * 11}|")
print(f"| {'at start':<32} | {mb(start['VmRSS']):>9} | {'':>9} |")
print(f"| {'peak (VmHWM)':<32} | {mb(idle_status['VmHWM']):>9} | {'< 200 MB':>9} |")
print(f"| {'when the answers were in':<32} | {mb(after['VmRSS']):>9} | {'':>9} |")
print(f"| {f'{idle} s after, idle':<32} | {mb(idle_status['VmRSS']):>9} | {'< 100 MB':>9} |")
ok = idle_status["VmHWM"] < 200 * 1024 and idle_status["VmRSS"] < 100 * 1024
print()
print("goals met" if ok else "GOALS MISSED")
if counts.get(401, 0) != connections:
    print(f"note: expected {connections} x 401, got {counts}")
PY
