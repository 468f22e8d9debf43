"""Host-side wheelhouse: dependencies fetched where the index is reachable,
installed inside a network-less sandbox with ``pip install --no-index``.

``pip download`` runs on the host (which can reach the package index); the
wheelhouse directory is then mounted read-only into the sandbox. A stamp
keyed by the requirement set makes a second call with the same requirements
free.

Safety (the generated repo is hostile): the host never builds anything.
Only plain ``name[extras] spec`` lines are accepted (anything else raises
before pip runs: :mod:`deepcode_tui.verify.requirements` turns such lines
into findings first), pip runs with ``--only-binary :all:`` so it never
prepares an sdist (preparing one runs its build backend), outside the repo,
with an environment that carries no secrets and ignores the repo's pip
configuration. Building, installing and importing happen in the sandbox.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from pydantic import BaseModel

from ..requirements import check_line

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
    from_installed: bool = False,
) -> WheelhouseResult:
    """Download wheels (and sdists where no wheel exists) for ``requirements``
    into ``dest`` with the host's pip. With ``from_installed``, pure-Python
    distributions installed in this interpreter are repacked first and pip
    only fetches the rest (offline when nothing is left). Never raises for pip
    failures: the result carries ``ok=False`` and pip's output."""
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    reqs = [r.strip() for r in requirements if r.strip()]
    refused = [f"ERROR: refused requirement {r!r}: {why}" for r in reqs for norm, why in [check_line(r)]
               if norm is None]
    if refused:  # nothing is fetched for a set holding a line pip might build or follow
        return WheelhouseResult(path=dest, requirements=reqs, ok=False, output="\n".join(refused))
    key = requirements_key(reqs)
    stamp = dest / f"{STAMP_PREFIX}{key}"
    if stamp.exists():
        return WheelhouseResult(path=dest, requirements=reqs, ok=True, cached=True)
    todo = seed_from_installed(reqs, dest) if from_installed else reqs
    if not todo:
        stamp.touch()
        return WheelhouseResult(path=dest, requirements=reqs, ok=True)
    fd, req_file = tempfile.mkstemp(prefix="requirements-", suffix=".txt", dir=dest)
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write("\n".join(todo) + "\n")
        argv = [python, "-m", "pip", "download", "--disable-pip-version-check", "--no-input",
                "--only-binary", ":all:", "-d", str(dest), "-r", req_file, *extra_args]
        try:
            proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout_s, cwd=dest,
                                  env=pip_env(), stdin=subprocess.DEVNULL)
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


# Host variables pip needs to reach the index the user configured; nothing else
# (API keys, tokens) goes near a process that handles the repo's requirements.
_PIP_ENV_KEEP = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SSL_CERT_FILE", "SSL_CERT_DIR",
                 "REQUESTS_CA_BUNDLE", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy",
                 "no_proxy", "PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_TRUSTED_HOST", "PIP_CERT",
                 "PIP_CONFIG_FILE", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "PIP_CACHE_DIR")


def pip_env() -> dict[str, str]:
    """The environment for the host's ``pip download``: an allow-list of the host's."""
    env = {k: v for k, v in os.environ.items() if k in _PIP_ENV_KEEP}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env["PIP_NO_INPUT"] = "1"
    return env


def _repack(dist: metadata.Distribution, dest: Path) -> Path | None:
    """A pure-Python wheel rebuilt from an installed distribution (None when it
    is not pure Python, is an editable install, or its file list is unknown)."""
    files = dist.files
    if not files:
        return None
    info = next((f for f in files if f.parts[0].endswith(".dist-info") and f.name == "WHEEL"), None)
    if info is None or "Root-Is-Purelib: true" not in (dist.read_text("WHEEL") or ""):
        return None
    if dist.read_text("direct_url.json") and '"editable": true' in (dist.read_text("direct_url.json") or ""):
        return None
    name = re.sub(r"[-_.]+", "_", dist.metadata["Name"])
    target = dest / f"{name}-{dist.version}-py3-none-any.whl"
    if target.exists():
        return target
    dist_info = info.parts[0]
    record: list[str] = []
    fd, tmp = tempfile.mkstemp(suffix=".whl.tmp", dir=dest)
    os.close(fd)
    try:
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
            for f in files:
                arc = f.as_posix()
                if arc.startswith("..") or "__pycache__" in f.parts or arc.endswith(".pyc"):
                    continue
                if f.parts[0] == dist_info and f.name in ("RECORD", "INSTALLER", "REQUESTED", "direct_url.json"):
                    continue
                data = Path(dist.locate_file(f)).read_bytes()
                zf.writestr(arc, data)
                digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
                record.append(f"{arc},sha256={digest},{len(data)}")
            record.append(f"{dist_info}/RECORD,,")
            zf.writestr(f"{dist_info}/RECORD", "\n".join(record) + "\n")
        os.replace(tmp, target)
    except OSError:
        os.unlink(tmp)
        return None
    return target


def seed_from_installed(requirements: Sequence[str], dest: Path) -> list[str]:
    """Put wheels rebuilt from this interpreter's installed copies of
    ``requirements`` (and their dependencies) into ``dest``, without any network.
    Returns the requirements that could not be seeded (not installed, or not pure Python)."""
    dest.mkdir(parents=True, exist_ok=True)
    missing: list[str] = []
    todo = [Requirement(r) for r in requirements]
    seen: set[str] = set()
    while todo:
        req = todo.pop()
        key = re.sub(r"[-_.]+", "-", req.name).lower()
        if key in seen:
            continue
        seen.add(key)
        try:
            dist = metadata.distribution(req.name)
        except metadata.PackageNotFoundError:
            missing.append(str(req))
            continue
        if _repack(dist, dest) is None:
            missing.append(str(req))
            continue
        for dep in dist.requires or []:
            r = Requirement(dep)
            if r.marker is None or r.marker.evaluate({"extra": ""}):
                todo.append(r)
    return missing


def install_argv(python: str, requirements_file: str, *, wheelhouse: str | None) -> list[str]:
    """The pip command that installs ``requirements_file`` inside the sandbox:
    from the wheelhouse only (``--no-index``) when one is given."""
    argv = [python, "-m", "pip", "install", "--disable-pip-version-check", "--no-input", "-q"]
    if wheelhouse:
        argv += ["--no-index", "--only-binary", ":all:", "--find-links", wheelhouse]
    return [*argv, "-r", requirements_file]
