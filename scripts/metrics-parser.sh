#!/usr/bin/env bash
# The Prometheus text parser the e2e metrics test reads /metrics with: prometheus-client
# from PyPI, pinned in tests/metrics/requirements.txt, in its own venv tests/metrics/.venv
# (gitignored). Made once, and again only when the pins change (scripts/setup.sh test).
set -euo pipefail
cd "$(dirname "$0")/.."
here=tests/metrics
venv=$here/.venv
if ! cmp -s "$here/requirements.txt" "$venv/.requirements" 2>/dev/null; then
  echo "==> prometheus-client venv ($venv)"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check --require-virtualenv \
    -r "$here/requirements.txt"
  cp "$here/requirements.txt" "$venv/.requirements"
fi
