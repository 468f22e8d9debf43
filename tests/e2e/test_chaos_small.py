"""The chaos benchmark's small setting: every run ends cleanly whatever the stub throws at it.

Five seeded runs of the example (the families take turns) against a stub that
misbehaves on 30% of the requests, through codegen (no sandbox needed, so it
stays quick); scripts/bench_chaos.py without --stop-after is the full setting.
"""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from tests.conftest import REPO_ROOT

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]


def test_five_runs_at_rate_0_3_all_end_cleanly():
    proc = subprocess.run(
        [sys.executable, "scripts/bench_chaos.py", "--runs", "5", "--rate", "0.3", "--stop-after", "codegen",
         "--jobs", "5", "--no-baseline", "--timeout", "400"],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=560, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    rows = re.findall(r"^ 0\.30 +\d+ (\w+) +(passed|failed|resumable|UNCLEAN) ", proc.stdout, re.MULTILINE)
    assert len(rows) == 5 and {f for f, _ in rows} == {"anthropic", "openai", "compatible"}
    assert "UNCLEAN" not in proc.stdout and "Traceback" not in proc.stdout + proc.stderr
    last = proc.stdout.strip().splitlines()[-1]
    assert last.startswith("SUMMARY rate 0.3: 5 runs, clean 5/5 (100%)")
    injected = sum(int(n) for n in re.findall(r"^[a-z_]+ +(\d+) +\d+$", proc.stdout, re.MULTILINE))
    assert injected > 0  # faults were played
