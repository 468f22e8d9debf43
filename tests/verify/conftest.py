"""Fixtures for the verification tests: small repos written in the test run,
and sandbox backends (skipped with the reason when unusable here)."""

from __future__ import annotations

from pathlib import Path

import pytest

from deepcode_tui.errors import SandboxError
from deepcode_tui.verify.sandbox import BwrapBackend, PodmanBackend, ensure_rootfs


def write_repo(root: Path, files: dict[str, str]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


@pytest.fixture
def make_repo(tmp_path):
    def make(files: dict[str, str], name: str = "repo") -> Path:
        return write_repo(tmp_path / name, files)

    return make


@pytest.fixture(scope="session")
def sandbox_rootfs() -> Path:
    """The app's cached Debian rootfs, built once through the app's own code
    (debootstrap, ~1-2 min the first time on a machine)."""
    try:
        return ensure_rootfs()
    except SandboxError as exc:
        pytest.skip(f"sandbox rootfs unavailable: {exc.one_line()}")


@pytest.fixture(scope="session")
def podman_backend(sandbox_rootfs) -> PodmanBackend:
    backend = PodmanBackend(rootfs=sandbox_rootfs, build_rootfs=False)
    ok, reason = backend.available()
    if not ok:
        pytest.skip(f"podman backend unavailable: {reason}")
    return backend


@pytest.fixture(scope="session")
def bwrap_backend(sandbox_rootfs) -> BwrapBackend:
    backend = BwrapBackend(rootfs=sandbox_rootfs)
    ok, reason = backend.available()
    if not ok:
        pytest.skip(f"bubblewrap backend unavailable: {reason}")
    return backend


@pytest.fixture(params=["podman", "bwrap"])
def strong_backend(request):
    """Each real sandbox backend in turn (skipped where unavailable)."""
    return request.getfixturevalue(f"{request.param}_backend")
