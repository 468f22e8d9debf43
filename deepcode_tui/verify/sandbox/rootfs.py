"""A Debian root filesystem for the sandboxes, built once with debootstrap.

Image pulls fail where no container registry is reachable, so podman and
bubblewrap run on a directory tree instead: ``debootstrap --variant=minbase``
with python3, venv and pip, from the Debian mirror apt already uses. The
tree is cached under the user cache directory; it is built into a temporary
directory and renamed into place only when complete, under a file lock so two
runs never build it twice, and a half-built tree is never used.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import platform
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from platformdirs import user_cache_path

from deepcode_tui.errors import SandboxError

SUITE = "bookworm"
PACKAGES = ("python3", "python3-venv", "python3-pip")
# Bump when the recipe changes so old caches are not reused.
RECIPE_VERSION = 1
READY_MARKER = ".deepcode-rootfs-ready"
DEFAULT_MIRROR = "http://deb.debian.org/debian"


def _arch() -> str:
    machine = platform.machine().lower()
    return {"x86_64": "amd64", "aarch64": "arm64"}.get(machine, machine)


def rootfs_cache_dir() -> Path:
    """Where built root filesystems live (one subdirectory per recipe)."""
    return user_cache_path("deepcode-tui") / "rootfs"


def default_rootfs_path(suite: str = SUITE) -> Path:
    return rootfs_cache_dir() / f"debian-{suite}-{_arch()}-py3-v{RECIPE_VERSION}"


def is_ready(path: Path) -> bool:
    """True when ``path`` is a complete rootfs built by :func:`ensure_rootfs`."""
    return (path / READY_MARKER).is_file() and (path / "usr" / "bin" / "python3").exists()


def apt_mirror(suite: str = SUITE, etc_apt: Path = Path("/etc/apt")) -> str:
    """The Debian mirror apt uses here for ``suite`` (deb822 ``.sources`` or
    one-line ``.list`` files), else the public default."""
    candidates: list[Path] = []
    if (etc_apt / "sources.list").is_file():
        candidates.append(etc_apt / "sources.list")
    d = etc_apt / "sources.list.d"
    if d.is_dir():
        candidates += sorted(p for p in d.iterdir() if p.suffix in (".list", ".sources"))
    for path in candidates:
        try:
            text = path.read_text(errors="replace")
        except OSError:
            continue
        if path.suffix == ".sources":
            for stanza in re.split(r"\n\s*\n", text):
                fields: dict[str, str] = {}
                for line in stanza.splitlines():
                    if line.startswith("#") or ":" not in line:
                        continue
                    key, _, value = line.partition(":")
                    fields[key.strip().lower()] = value.strip()
                if fields.get("enabled", "yes").lower() == "no" or "deb" not in fields.get("types", "").split():
                    continue
                if suite in fields.get("suites", "").split() and fields.get("uris"):
                    return fields["uris"].split()[0].rstrip("/")
        else:
            for line in text.splitlines():
                parts = re.sub(r"\[[^\]]*\]", "", line).split()
                if len(parts) >= 3 and parts[0] == "deb" and parts[2] == suite:
                    return parts[1].rstrip("/")
    return DEFAULT_MIRROR


@contextlib.contextmanager
def _locked(lock_path: Path, timeout_s: float):
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "a+") as fh:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise SandboxError(
                        f"another process has been building the sandbox rootfs for over {int(timeout_s)} s",
                        f"wait for it to finish, or remove the lock file {lock_path}",
                    ) from None
                time.sleep(0.5)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def ensure_rootfs(
    path: Path | None = None,
    *,
    suite: str = SUITE,
    mirror: str | None = None,
    timeout_s: float = 1200,
    debootstrap_cmd: Sequence[str] = ("debootstrap",),
    log: Callable[[str], None] | None = None,
) -> Path:
    """Return a complete rootfs at ``path`` (default: the cache), building it
    first if needed. Raises :class:`SandboxError` (cause and fix) when it cannot
    be built: not root, no debootstrap, the mirror unreachable, or a timeout.
    """
    path = path or default_rootfs_path(suite)
    if is_ready(path):
        return path
    say = log or (lambda _msg: None)
    with _locked(path.parent / f".{path.name}.lock", timeout_s):
        if is_ready(path):  # built by the process we waited for
            return path
        if shutil.which(debootstrap_cmd[0]) is None:
            raise SandboxError(
                "debootstrap is not installed, so the sandbox rootfs cannot be built",
                "install it (apt-get install debootstrap) or use a container image with --image",
            )
        if os.geteuid() != 0:
            raise SandboxError(
                "building the sandbox rootfs with debootstrap needs root",
                f"run once as root (it is cached at {path}) or use a container image with --image",
            )
        mirror = mirror or apt_mirror(suite)
        # Leftovers of builds that died half-way: never used, removed here.
        for stale in path.parent.glob(f".{path.name}.build-*"):
            shutil.rmtree(stale, ignore_errors=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.build-", dir=path.parent))
        target = tmp / "root"
        argv = [
            *debootstrap_cmd, "--variant=minbase", f"--include={','.join(PACKAGES)}", suite, str(target), mirror,
        ]
        say(f"building the sandbox rootfs (once, ~2 min): {' '.join(argv)}")
        try:
            proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout_s)
        except subprocess.TimeoutExpired:
            shutil.rmtree(tmp, ignore_errors=True)
            raise SandboxError(
                f"debootstrap did not finish within {int(timeout_s)} s (mirror {mirror})",
                "check that the Debian mirror is reachable, or use a container image with --image",
            ) from None
        if proc.returncode != 0 or not (target / "usr" / "bin" / "python3").exists():
            shutil.rmtree(tmp, ignore_errors=True)
            tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-3:])
            raise SandboxError(
                f"debootstrap failed building the sandbox rootfs from {mirror}: {tail}",
                "check that the Debian mirror is reachable (apt-get update works), or use --image",
            )
        (target / READY_MARKER).write_text(f"{suite} {mirror} v{RECIPE_VERSION}\n")
        if path.exists():  # an incomplete tree from an older, non-atomic build
            shutil.rmtree(path, ignore_errors=True)
        os.rename(target, path)
        shutil.rmtree(tmp, ignore_errors=True)
        say(f"sandbox rootfs ready at {path}")
        return path


def main() -> int:
    """Set-up's prebuild (scripts/bootstrap.sh runs it while llama.cpp compiles): build the
    default rootfs now rather than at the first verification. The last line printed is the
    rootfs path, or why it cannot be built (exit 1)."""
    try:
        path = ensure_rootfs(log=lambda msg: print(msg, flush=True))
    except SandboxError as exc:
        print(exc.one_line(), flush=True)
        return 1
    print(path, flush=True)
    return 0
