"""Sandbox backends behind one interface: podman, then bubblewrap, then (only
when allowed) a plain subprocess. See :func:`choose_backend`."""

from .base import Limits, Mount, SandboxBackend, SandboxResult
from .bwrap import BwrapBackend
from .choose import choose_backend, make_backend
from .local import SubprocessBackend
from .podman import PodmanBackend, containers_conf_path
from .rootfs import default_rootfs_path, ensure_rootfs
from .wheelhouse import WheelhouseResult, prepare_wheelhouse

__all__ = [
    "BwrapBackend", "Limits", "Mount", "PodmanBackend", "SandboxBackend", "SandboxResult", "SubprocessBackend",
    "WheelhouseResult", "choose_backend", "containers_conf_path", "default_rootfs_path", "ensure_rootfs",
    "make_backend", "prepare_wheelhouse",
]
