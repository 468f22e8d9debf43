#!/usr/bin/env bash
# Set up, run the tests and a smoke run of the command line.
# REPRODUCE_QUICK=1 runs only the storage tests.
set -euo pipefail
cd "$(dirname "$0")"

if ! python -c 'import sys; sys.exit(0 if sys.prefix != sys.base_prefix else 1)'; then
    python -m venv .venv
    . .venv/bin/activate
    python -m pip install -q -r requirements.txt
fi

mkdir -p results
if [ "${REPRODUCE_QUICK:-0}" = "1" ]; then
    python -m pytest -q tests/test_storage.py | tee results/tests.log
else
    python -m pytest -q | tee results/tests.log
fi
python -m todo --help > results/help.txt
