"""Per-run cgroups for backends that have no cgroup limits of their own.

bubblewrap sets no memory, CPU or process-count limits; rlimits cover part of
that (RLIMIT_AS, RLIMIT_NPROC) but RLIMIT_NPROC is never enforced for root.
When this process may create cgroups (root, or a delegated cgroup v2
subtree), a run gets its own cgroup with memory (no swap), pids and CPU
limits; otherwise :func:`create` returns None and the caller says so.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
import uuid
from pathlib import Path

from .base import Limits

ROOT = Path("/sys/fs/cgroup")
PARENT = "deepcode-tui"


def _write(path: Path, value: str) -> bool:
    try:
        path.write_text(value)
        return True
    except OSError:
        return False


class Cgroup:
    """One run's cgroup (v1: one directory per controller; v2: one directory)."""

    def __init__(self, dirs: dict[str, Path], version: int) -> None:
        self.dirs = dirs
        self.version = version

    @property
    def procs_files(self) -> list[Path]:
        """Files a process writes its pid into to join every controller."""
        return [d / "cgroup.procs" for d in dict.fromkeys(self.dirs.values())]

    def pids(self) -> set[int]:
        out: set[int] = set()
        for f in self.procs_files:
            with contextlib.suppress(OSError, ValueError):
                out.update(int(x) for x in f.read_text().split())
        return out

    def kill_all(self) -> None:
        if self.version == 2:
            kill = self.dirs["memory"] / "cgroup.kill"
            if kill.exists() and _write(kill, "1"):
                return
        # v1 has no cgroup.kill; repeat because a fork bomb races the loop.
        for _ in range(20):
            pids = self.pids()
            if not pids:
                return
            for pid in pids:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)

    def oom_killed(self) -> bool:
        mem = self.dirs.get("memory")
        if mem is None:
            return False
        try:
            if self.version == 2:
                events = (mem / "memory.events").read_text()
                return any(line.split()[0] == "oom_kill" and int(line.split()[1]) > 0
                           for line in events.splitlines() if line.strip())
            for line in (mem / "memory.oom_control").read_text().splitlines():
                if line.startswith("oom_kill "):
                    return int(line.split()[1]) > 0
            return int((mem / "memory.failcnt").read_text().strip() or 0) > 0
        except (OSError, ValueError, IndexError):
            return False

    def remove(self, wait_s: float = 3.0) -> bool:
        """Kill everything in the cgroup and remove its directories; True when they are gone.
        A cgroup cannot be removed while dying processes are still in it, so this waits
        (bounded) for ``cgroup.procs`` to empty before each ``rmdir``."""
        self.kill_all()
        deadline = time.monotonic() + wait_s
        while self.pids() and time.monotonic() < deadline:
            time.sleep(0.02)
            self.kill_all()
        gone = True
        for d in dict.fromkeys(self.dirs.values()):
            for _ in range(50):
                try:
                    d.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    if time.monotonic() >= deadline:
                        gone = False
                        break
                    time.sleep(0.02)
        return gone


def remove_stale(parent: Path) -> None:
    """Remove per-run cgroups under ``parent`` left by a process that was killed
    before it could clean up (empty ones only: a live run's cgroup has processes)."""
    try:
        children = [d for d in parent.iterdir() if d.is_dir() and d.name.startswith("run-")]
    except OSError:
        return
    for d in children:
        try:
            if not (d / "cgroup.procs").read_text().split():
                d.rmdir()
        except OSError:
            continue


def _v2_root() -> Path | None:
    if (ROOT / "cgroup.controllers").is_file():
        return ROOT
    return None


def create(limits: Limits) -> Cgroup | None:
    """A fresh cgroup with ``limits`` applied, or None when cgroups are not writable here."""
    name = f"run-{uuid.uuid4().hex[:12]}"
    v2 = _v2_root()
    if v2 is not None:
        parent = v2 / PARENT
        try:
            parent.mkdir(exist_ok=True)
            remove_stale(parent)
            controllers = set((v2 / "cgroup.controllers").read_text().split())
            if not {"memory", "pids"} <= controllers:
                return None
            _write(v2 / "cgroup.subtree_control", "+memory +pids +cpu")
            _write(parent / "cgroup.subtree_control", "+memory +pids +cpu")
            d = parent / name
            d.mkdir()
        except OSError:
            return None
        cg = Cgroup({"memory": d, "pids": d, "cpu": d}, 2)
        ok = _write(d / "memory.max", str(limits.memory_mb * 1024 * 1024)) and _write(
            d / "pids.max", str(limits.pids)
        )
        _write(d / "memory.swap.max", "0")
        _write(d / "cpu.max", f"{int(limits.cpus * 100_000)} 100000")
        if not ok:
            cg.remove()
            return None
        return cg
    dirs: dict[str, Path] = {}
    try:
        for ctl in ("memory", "pids", "cpu"):
            base = ROOT / ctl
            if not (base / "cgroup.procs").exists():
                if ctl == "cpu":
                    continue  # CPU quota is nice to have; memory and pids are not optional
                raise OSError(f"no cgroup v1 {ctl} controller")
            (base / PARENT).mkdir(exist_ok=True)
            remove_stale(base / PARENT)
            d = base / PARENT / name
            d.mkdir()
            dirs[ctl] = d
    except OSError:
        Cgroup(dirs, 1).remove()
        return None
    cg = Cgroup(dirs, 1)
    mem = str(limits.memory_mb * 1024 * 1024)
    ok = _write(dirs["memory"] / "memory.limit_in_bytes", mem) and _write(
        dirs["pids"] / "pids.max", str(limits.pids)
    )
    if (dirs["memory"] / "memory.memsw.limit_in_bytes").exists():
        _write(dirs["memory"] / "memory.memsw.limit_in_bytes", mem)  # no swap either
    if "cpu" in dirs:
        _write(dirs["cpu"] / "cpu.cfs_period_us", "100000")
        _write(dirs["cpu"] / "cpu.cfs_quota_us", str(int(limits.cpus * 100_000)))
    if not ok:
        cg.remove()
        return None
    return cg
