#!/usr/bin/env bash
# The attacks of issue 11, run against a release build on loopback, with one table of
# what the server answered: forward-auth header tricks, scoped paths that climb out, a
# thousand concurrent password guesses, memory after them, idle and slowloris connections
# under a 1024 file limit, the page's headers, a body with a duplicate key, a users.json
# with a user twice, a lost users.json, readiness after a failed write, SIGTERM right
# after the address is printed. Every loop is bounded; it takes about two minutes after
# the build. Not part of the test command: the end-to-end tests hold each of these.
set -euo pipefail
cd "$(dirname "$0")/.."

nice cargo build --release -q -p tokenlife-server --bin tokenlife
TARGET=${CARGO_TARGET_DIR:-target}
BIN=$(realpath "$TARGET/release/tokenlife")
WORK=$(mktemp -d)
trap 'pkill -P $$ 2>/dev/null || true; rm -rf "$WORK"' EXIT

python3 - "$BIN" "$WORK" <<'PY'
import base64, json, os, re, resource, shutil, signal, socket, subprocess, sys, threading, time

BIN, WORK = sys.argv[1], sys.argv[2]
rows = []

def row(what, got, want, ok):
    rows.append((what, got, want, "yes" if ok else "NO"))

def start(data, *args, limit=None):
    cmd = [BIN, "--data", data, "serve", "--listen", "127.0.0.1:0", *args]
    pre = (lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit))) if limit else None
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=pre)
    password = None
    while True:
        line = proc.stdout.readline()
        if not line:
            raise SystemExit("the server did not start: " + proc.stderr.read())
        if line.startswith("admin password: "):
            password = line.split(": ", 1)[1].strip()
        m = re.match(r"listening on http://127\.0\.0\.1:(\d+)", line)
        if m:
            threading.Thread(target=proc.stderr.read, daemon=True).start()
            return proc, int(m.group(1)), password

def request(port, method, path, headers=(), body=b"", timeout=30):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    head = f"{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n".encode()
    for name, value in headers:
        head += name.encode() + b": " + (value if isinstance(value, bytes) else value.encode()) + b"\r\n"
    if body:
        head += f"Content-Length: {len(body)}\r\n".encode()
    s.sendall(head + b"\r\n" + body)
    data = b""
    while True:
        try:
            chunk = s.recv(65536)
        except socket.timeout:
            break
        if not chunk:
            break
        data += chunk
    s.close()
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin1").split("\r\n")
    status = int(lines[0].split()[1]) if lines and len(lines[0].split()) > 1 else 0
    hdrs = {l.split(":", 1)[0].lower(): l.split(":", 1)[1].strip() for l in lines[1:] if ":" in l}
    return status, hdrs, rest

def basic(user, password):
    return ("Authorization", "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode())

# --- one server for the API attacks
data = os.path.join(WORK, "api")
proc, port, password = start(data)
status, _, body = request(port, "POST", "/api/v1alpha/token/", [basic("admin", password), ("Content-Type", "application/json")],
                          json.dumps({"jwt_token_description": "wallets", "jwt_token_life": "1h",
                                      "jwt_token_endpoints": ["GET /api/v1alpha/wallets/*"]}).encode())
token = json.loads(body)["jwt_token"]
bearer = ("Authorization", "Bearer " + token)

def forward(headers):
    return request(port, "GET", "/api/v1alpha/auth", [bearer, *headers])[0]

got = forward([("X-Original-Method", "GET"), ("X-Original-URI", "/api/v1alpha/wallets/w1")])
row("forward auth, the scoped path itself", got, 200, got == 200)
got = forward([("X-Original-Method", "GET"), ("X-Original-URI", "/api/v1alpha/admin"), ("X-Forwarded-Uri", "/api/v1alpha/wallets/w1")])
row("nginx names /admin, client adds X-Forwarded-Uri", got, 403, got == 403)
got = forward([("X-Original-Method", "DELETE"), ("X-Original-URI", "/api/v1alpha/wallets/w1"), ("X-Forwarded-Method", "GET")])
row("nginx names DELETE, client adds X-Forwarded-Method: GET", got, 403, got == 403)
got = forward([("X-Original-Method", "GET"), ("X-Original-URI", "/api/v1alpha/admin"), ("X-Forwarded-Uri", b"/api/v1alpha/wallets/\xff")])
row("an X-Forwarded-Uri that is not text", got, 403, got == 403)
attacks = ["/api/v1alpha/wallets/../admin", "/api/v1alpha/wallets/%2e%2e/admin", "/api/v1alpha/wallets/.%2e/admin",
           "/api/v1alpha/wallets/..%2fadmin", "/api/v1alpha/wallets/w1%2f..%2f..%2fadmin", "/api/v1alpha/wallets/..;/admin",
           "/api/v1alpha/wallets/w1\\..\\..\\admin", "/api/v1alpha/wallets/../tx", "/api/v1alpha/wallets//tx",
           "/api/v1alpha/wallets/%252e%252e/admin", "/api/v1alpha/wallets/w1/%2E%2E/%2E%2E/admin"]
allowed = [p for p in attacks if forward([("X-Forwarded-Method", "GET"), ("X-Forwarded-Uri", p)]) != 403]
row(f"{len(attacks)} paths that climb out of wallets/*", f"{len(attacks) - len(allowed)} x 403", f"{len(attacks)} x 403", not allowed)
status, _, body = request(port, "POST", "/api/v1alpha/token/", [basic("admin", password), ("Content-Type", "application/json")],
                          b'{"jwt_token_description":"d","jwt_token_life":"10 years","jwt_token_life":"1h"}')
row("a body naming jwt_token_life twice", status, 400, status == 400)
status, hdrs, _ = request(port, "GET", "/")
csp = hdrs.get("content-security-policy", "")
ok = "frame-ancestors 'none'" in csp and hdrs.get("x-frame-options") == "DENY" and hdrs.get("referrer-policy") == "no-referrer"
row("the page's CSP, X-Frame-Options, Referrer-Policy", "present" if ok else "missing", "present", ok)

# --- password guesses: 1000 at once, the right one among them
def storm(n, user, right):
    answers = [0] * n
    start_evt = threading.Event()
    def one(i):
        start_evt.wait()
        try:
            answers[i] = request(port, "GET", "/api/v1alpha/token/", [basic(user, right if i == n // 2 else f"wrong{i}")], timeout=120)[0]
        except OSError:
            answers[i] = -1
    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads: t.start()
    start_evt.set()
    for t in threads: t.join()
    return {code: answers.count(code) for code in sorted(set(answers))}

began = time.monotonic()
counts = storm(1000, "admin", password)
took = time.monotonic() - began
# Five free attempts, then locks of 1 s, 2 s, 4 s, ...: a storm that lasts T seconds may
# see one more attempt each time a lock ends within it.
ended = 0
while 2 ** (ended + 1) - 1 <= took:
    ended += 1
row(f"1000 concurrent guesses, right one in the middle ({took:.1f} s)", " ".join(f"{c}x{k}" for k, c in counts.items()),
    f"<= {5 + ended} x 401, rest 429", counts.get(401, 0) <= 5 + ended and counts.get(200, 0) == 0)
time.sleep(1)
hwm = int(re.search(r"VmHWM:\s+(\d+)", open(f"/proc/{proc.pid}/status").read()).group(1)) // 1024
time.sleep(10)
rss = int(re.search(r"VmRSS:\s+(\d+)", open(f"/proc/{proc.pid}/status").read()).group(1)) // 1024
row("resident memory: peak / 10 s idle after them (MB)", f"{hwm} / {rss}", "< 200 / < 100", hwm < 200 and rss < 100)
proc.send_signal(signal.SIGTERM); proc.wait(timeout=30)

# --- connections, with the server's file limit at 1024
proc, port, _ = start(os.path.join(WORK, "conns"), limit=1024)
held = []
for i in range(3000):
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        s.sendall(b"GET /api/healthz/liveness HTTP/1.1\r\nHost: x\r\n\r\n")
        held.append(s)
    except OSError:
        break
slow = []
for i in range(500):
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        s.sendall(b"GET / HTTP/1.1\r\n")
        slow.append(s)
    except OSError:
        break
live = [request(port, "GET", "/api/healthz/liveness", timeout=10)[0] for _ in range(3)]
fds = len(os.listdir(f"/proc/{proc.pid}/fd"))
row(f"liveness while {len(held)} idle + {len(slow)} slowloris connect", " ".join(map(str, live)), "200 200 200", live == [200] * 3)
row("file descriptors the server holds then", fds, "< 1024", fds < 1024)
for _ in range(12):
    time.sleep(1)
    for s in slow:
        try: s.send(b"X")
        except OSError: pass
def is_open(s):
    s.setblocking(False)
    try:
        return s.recv(65536, socket.MSG_PEEK) != b""
    except BlockingIOError:
        return True
    except OSError:
        return False
slow_open = sum(map(is_open, slow))
row("slowloris connections open 12 s later (a byte a second)", slow_open, 0, slow_open == 0)
for s in held + slow: s.close()
proc.send_signal(signal.SIGTERM); proc.wait(timeout=30)

# --- stored data
dup = os.path.join(WORK, "dup")
p, _, _ = start(dup); p.send_signal(signal.SIGTERM); p.wait(timeout=30)
users = json.load(open(os.path.join(dup, "users.json")))
users.append(dict(users[0]))
open(os.path.join(dup, "users.json"), "w").write(json.dumps(users))
before = open(os.path.join(dup, "users.json"), "rb").read()
r = subprocess.run([BIN, "--data", dup, "serve", "--listen", "127.0.0.1:0"], capture_output=True, text=True, timeout=30)
same = open(os.path.join(dup, "users.json"), "rb").read() == before
row("users.json naming admin twice", f"exit {r.returncode}, file {'kept' if same else 'CHANGED'}", "exit 1, file kept", r.returncode != 0 and same)
os.remove(os.path.join(dup, "users.json"))
r = subprocess.run([BIN, "--data", dup, "serve", "--listen", "127.0.0.1:0"], capture_output=True, text=True, timeout=30)
row("users.json deleted beside keys", f"exit {r.returncode}", "exit 1, no new admin", r.returncode != 0 and "admin password" not in r.stdout)

ready = os.path.join(WORK, "ready")
proc, port, password = start(ready)
journal = os.path.join(ready, "users.journal")
if os.path.exists(journal): os.remove(journal)
os.mkdir(journal)
request(port, "POST", "/api/v1alpha/token/", [basic("admin", password), ("Content-Type", "application/json")],
        b'{"jwt_token_description":"x","jwt_token_life":"1h"}')
got = request(port, "GET", "/api/healthz/readyness")[0]
row("readyness after a failed journal write", got, 503, got == 503)
proc.kill(); proc.wait()

clean = 0
for i in range(20):
    p = subprocess.Popen([BIN, "--data", os.path.join(WORK, f"term{i}"), "serve", "--listen", "127.0.0.1:0"],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    while not p.stdout.readline().startswith("listening on"):
        pass
    p.send_signal(signal.SIGTERM)
    clean += p.wait(timeout=30) == 0
row("SIGTERM right after 'listening on' (20 starts)", f"{clean} exit 0", "20 exit 0", clean == 20)

width = [max(len(str(r[i])) for r in rows + [("attack", "answered", "must", "held")]) for i in range(4)]
for r in [("attack", "answered", "must", "held")] + rows:
    print(" | ".join(str(c).ljust(w) for c, w in zip(r, width)))
sys.exit(0 if all(r[3] == "yes" for r in rows) else 1)
PY
