#!/usr/bin/env bash
# Installs Pinghome into .venv and starts the whole system in one process on its embedded
# default: SQLite under var/, the in-process broker, mail written to the log.
set -euo pipefail
cd "$(dirname "$0")/.."

[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e .
exec .venv/bin/pinghome up "$@"
