#!/usr/bin/env bash
# with-postgres.sh CMD...: runs CMD with a throwaway PostgreSQL cluster, then stops it and
# removes its folder whatever happens (trap). The cluster is made by initdb in a temporary
# folder (trust authentication, superuser "tokenlife") and listens on a free loopback port.
# CMD sees:
#   TOKENLIFE_TEST_PG      postgres://tokenlife@127.0.0.1:PORT/postgres
#   TOKENLIFE_TEST_PG_DIR  the cluster's data folder
#   TOKENLIFE_TEST_PG_CTL  a pg_ctl for this cluster: "$TOKENLIFE_TEST_PG_CTL stop -m fast",
#                          "$TOKENLIFE_TEST_PG_CTL start" (runs as the postgres user when root)
# As root, PostgreSQL itself runs as the postgres user; CMD runs as the caller.
# PGBIN (default: the newest /usr/lib/postgresql/*/bin, Debian's postgresql package) can be set.
set -euo pipefail
[ $# -gt 0 ] || { echo "usage: $0 CMD..." >&2; exit 2; }
PGBIN=${PGBIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}
[ -x "$PGBIN/initdb" ] || { echo "with-postgres: no initdb in $PGBIN (apt-get install postgresql)" >&2; exit 1; }

ROOT=$(mktemp -d "${TMPDIR:-/tmp}/tokenlife-pg.XXXXXX")
DATA="$ROOT/data"
as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
cleanup() {
  as_pg "$PGBIN/pg_ctl" -D "$DATA" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$ROOT"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
chmod 0755 "$ROOT"
[ "$(id -u)" = 0 ] && chown postgres: "$ROOT"

# A free port: one nothing answers on.
PORT=
for _ in $(seq 1 100); do
  candidate=$((20000 + RANDOM % 30000))
  if ! (exec 3<>"/dev/tcp/127.0.0.1/$candidate") 2>/dev/null; then PORT=$candidate; break; fi
done
[ -n "$PORT" ] || { echo "with-postgres: no free port" >&2; exit 1; }

as_pg "$PGBIN/initdb" -D "$DATA" -A trust -U tokenlife --no-sync >"$ROOT/initdb.log" 2>&1 ||
  { cat "$ROOT/initdb.log" >&2; exit 1; }
cat >"$ROOT/pg_ctl" <<SH
#!/bin/sh
# pg_ctl of the throwaway cluster in $DATA.
if [ "\$(id -u)" = 0 ]; then set -- runuser -u postgres -- "$PGBIN/pg_ctl" "\$@"; else set -- "$PGBIN/pg_ctl" "\$@"; fi
exec "\$@" -D "$DATA" -l "$ROOT/server.log" -w \
  -o "-p $PORT -k $ROOT -c listen_addresses=127.0.0.1 -c max_connections=300"
SH
chmod 0755 "$ROOT/pg_ctl"
"$ROOT/pg_ctl" start >/dev/null || { cat "$ROOT/server.log" >&2; exit 1; }

export TOKENLIFE_TEST_PG="postgres://tokenlife@127.0.0.1:$PORT/postgres"
export TOKENLIFE_TEST_PG_DIR="$DATA"
export TOKENLIFE_TEST_PG_CTL="$ROOT/pg_ctl"
set +e
"$@"
status=$?
set -e
exit "$status"
