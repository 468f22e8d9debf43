"""Host-side wheelhouse: dependencies fetched where the index is reachable,
installed inside a network-less sandbox with ``pip install --no-index``.

``pip download`` runs on the host (which can reach the package index); the
wheelhouse directory is then mounted read-only into the sandbox. A stamp
keyed by the requirement set makes a second call with the same requirements
free.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from pydantic import BaseModel

STAMP_PREFIX = ".deepcode-wheelhouse-"


class WheelhouseResult(BaseModel):
    """Outcome of :func:`prepare_wheelhouse`; ``output`` holds pip's messages
    (resolution errors are parsed by :mod:`deepcode_tui.verify.traces`)."""

    path: Path
    requirements: list[str]
    ok: bool
    cached: bool = False
    output: str = ""


def requirements_key(requirements: Sequence[str]) -> str:
    norm = sorted({r.strip() for r in requirements if r.strip()})
    return hashlib.sha256("\n".join(norm).encode()).hexdigest()[:16]


def prepare_wheelhouse(
    requirements: Sequence[str],
    dest: Path,
    *,
    python: str = sys.executable,
    timeout_s: float = 900,
    extra_args: Sequence[str] = (),
) -> WheelhouseResult:
    """Download wheels (and sdists where no wheel exists) for ``requirements``
    into ``dest`` with the host's pip. Never raises for pip failures: the
    result carries ``ok=False`` and pip's output."""
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    reqs = [r.strip() for r in requirements if r.strip()]
    key = requirements_key(reqs)
    stamp = dest / f"{STAMP_PREFIX}{key}"
    if stamp.exists():
        return WheelhouseResult(path=dest, requirements=reqs, ok=True, cached=True)
    if not reqs:
        stamp.touch()
        return WheelhouseResult(path=dest, requirements=reqs, ok=True)
    fd, req_file = tempfile.mkstemp(prefix="requirements-", suffix=".txt", dir=dest)
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write("\n".join(reqs) + "\n")
        argv = [python, "-m", "pip", "download", "--disable-pip-version-check", "--no-input",
                "-d", str(dest), "-r", req_file, *extra_args]
        try:
            proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout_s)
        except subprocess.TimeoutExpired:
            return WheelhouseResult(path=dest, requirements=reqs, ok=False,
                                    output=f"ERROR: pip download timed out after {timeout_s:g} s")
    finally:
        os.unlink(req_file)
    output = "\n".join(
        line for line in (proc.stdout + proc.stderr).splitlines()
        if "is ignored: it is neither a file nor a directory" not in line
    )
    if proc.returncode == 0:
        stamp.touch()
    return WheelhouseResult(path=dest, requirements=reqs, ok=proc.returncode == 0, output=output)


def install_argv(python: str, requirements_file: str, *, wheelhouse: str | None) -> list[str]:
    """The pip command that installs ``requirements_file`` inside the sandbox:
    from the wheelhouse only (``--no-index``) when one is given."""
    argv = [python, "-m", "pip", "install", "--disable-pip-version-check", "--no-input", "-q"]
    if wheelhouse:
        argv += ["--no-index", "--find-links", wheelhouse]
    return [*argv, "-r", requirements_file]
