#!/usr/bin/env bash
# Installs everything the suite needs and runs all of it: once on Postgres + Redis (started
# on loopback by the suite), once on the embedded form (SQLite + in-process broker).
# Extra arguments go to pytest on both runs (e.g. -x, -k name).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-servers.sh
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[test]'

.venv/bin/python -m pytest --backend services "$@"
.venv/bin/python -m pytest --backend embedded "$@"
