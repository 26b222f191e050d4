#!/usr/bin/env bash
# A Python tool pinned in DIR/requirements.txt, in its own venv DIR/.venv (gitignored):
# made once, and again only when the pins change. Used by scripts/setup.sh test for
# Schemathesis (tests/schemathesis), hadolint (tests/deploy) and the Prometheus text
# parser of the e2e metrics test (tests/metrics), and by scripts/schemathesis.sh.
#
#   bash scripts/venv.sh DIR...
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -gt 0 ] || { echo "usage: scripts/venv.sh DIR..." >&2; exit 2; }
for here in "$@"; do
  venv=$here/.venv
  if ! cmp -s "$here/requirements.txt" "$venv/.requirements" 2>/dev/null; then
    echo "==> $here venv ($venv)"
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check --require-virtualenv \
      -r "$here/requirements.txt"
    cp "$here/requirements.txt" "$venv/.requirements"
  fi
done
