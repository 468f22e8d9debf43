#!/usr/bin/env bash
# Reproduce Section 3 of the EMA-Z paper: set up, test, run the experiment.
# REPRODUCE_QUICK=1 runs the quick setting (a 500-point stream instead of 2000).
set -euo pipefail
cd "$(dirname "$0")"

if ! python -c 'import sys; sys.exit(0 if sys.prefix != sys.base_prefix else 1)'; then
    python -m venv .venv
    . .venv/bin/activate
    python -m pip install -q -r requirements.txt
fi

n=2000
if [ "${REPRODUCE_QUICK:-0}" = "1" ]; then
    n=500
fi

mkdir -p results
python -m pytest -q tests/test_detector.py | tee results/tests.log
python run.py --n "$n" | tee results/metrics.txt
