"""Pick the strongest sandbox that works here, and say which one ran and why."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from deepcode_tui.errors import SandboxError

from .base import SandboxBackend
from .bwrap import BwrapBackend
from .local import SubprocessBackend
from .podman import PodmanBackend

Preference = Literal["auto", "podman", "bwrap", "subprocess"]
ORDER: tuple[str, ...] = ("podman", "bwrap", "subprocess")


def make_backend(
    name: str, *, allow_weak: bool = False, rootfs: Path | None = None, image: str | None = None
) -> SandboxBackend:
    """A backend instance by name (no availability check)."""
    if name == "podman":
        return PodmanBackend(rootfs=rootfs, image=image)
    if name == "bwrap":
        return BwrapBackend(rootfs=rootfs)
    if name == "subprocess":
        return SubprocessBackend(allow_weak=allow_weak)
    raise SandboxError(f"unknown sandbox backend {name!r}", f"use one of: auto, {', '.join(ORDER)}")


def choose_backend(
    preference: str = "auto",
    allow_weak: bool = False,
    *,
    rootfs: Path | None = None,
    image: str | None = None,
    candidates: list[SandboxBackend] | None = None,
) -> tuple[SandboxBackend, str]:
    """The backend to use and a notice naming it, its isolation, and why each
    stronger one was skipped. Raises :class:`SandboxError` when none is usable
    (the weak subprocess backend counts only with ``allow_weak``).

    ``candidates`` replaces the default podman -> bwrap -> subprocess order (tests).
    """
    if candidates is None:
        names = ORDER if preference == "auto" else (preference,)
        candidates = [make_backend(n, allow_weak=allow_weak, rootfs=rootfs, image=image) for n in names]
    skipped: list[str] = []
    for backend in candidates:
        ok, reason = backend.available()
        if ok:
            notice = f"sandbox: {backend.name} ({backend.isolation} isolation) - {reason}"
            if backend.isolation == "weak":
                notice = "WARNING: " + notice
            if skipped:
                notice += "; skipped " + "; ".join(skipped)
            return backend, notice
        skipped.append(f"{backend.name}: {reason}")
    detail = "; ".join(skipped)
    if preference == "auto":
        fix = "install podman and runc (or bubblewrap), or allow weak isolation with --allow-weak-sandbox"
    else:
        fix = "choose another backend with --sandbox auto, or fix the one named"
    raise SandboxError(f"no usable sandbox backend ({detail})", fix)
