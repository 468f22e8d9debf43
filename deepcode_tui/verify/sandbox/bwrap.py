"""bubblewrap backend: namespaces without a container engine.

Network, pid, ipc, uts and user namespaces are all unshared (``--unshare-all``;
``--share-net`` only when the network is asked for), the root filesystem is
the cached Debian rootfs (or the host's /usr and a few /etc files) mounted
read-only, the repo is bound read-write at /work, capabilities are dropped,
and the sandbox dies with its parent. The command runs as uid 1000 inside,
which the kernel maps to the caller's own uid. bwrap is started with a
cleared environment: its own PID 1 inside keeps the environment it was
given, readable as ``/proc/1/environ``, so ``--clearenv`` alone would leak
the host's variables (API keys) to the command.

bubblewrap has no cgroup limits of its own. Memory and file size are capped
with rlimits (RLIMIT_AS, RLIMIT_FSIZE) through ``prlimit``; when this process
may create cgroups (root here) the run also gets its own cgroup with memory,
pids and CPU limits. Without cgroups the process count relies on
RLIMIT_NPROC, which the kernel does not enforce for root: :meth:`limits_note`
says which applied.
"""

from __future__ import annotations

import asyncio
import os
import shlex
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path


from deepcode_tui.redaction import clean_environment

from . import cgroups
from .base import BASE_ENV, Limits, Mount, SandboxBackend, SandboxResult, kill_reason
from .process import run_process
from .rootfs import default_rootfs_path, is_ready

SANDBOX_UID = 1000
# Host /etc entries a Python toolchain needs when no rootfs is used.
_HOST_ETC = (
    "ld.so.cache", "ld.so.conf", "ld.so.conf.d", "alternatives", "ssl", "ca-certificates",
    "python3", "python3.11", "localtime", "nsswitch.conf", "mime.types", "os-release",
)


class BwrapBackend(SandboxBackend):
    """Runs commands under bubblewrap with rlimits (and cgroups where allowed)."""

    unavailable_fix = "use --sandbox podman or install bubblewrap"

    name = "bwrap"
    isolation = "partial"

    def __init__(self, *, rootfs: Path | None = None, use_rootfs: bool = True, bwrap: str = "bwrap") -> None:
        self.bwrap = bwrap
        candidate = rootfs or default_rootfs_path()
        self.rootfs = candidate if use_rootfs and is_ready(candidate) else None
        self._probe: tuple[bool, str] | None = None
        self.last_limits_note = ""

    def available(self) -> tuple[bool, str]:
        if self._probe is None:
            self._probe = self._check()
        return self._probe

    def _check(self) -> tuple[bool, str]:
        if shutil.which(self.bwrap) is None:
            return False, "bubblewrap is not installed (apt-get install bubblewrap)"
        if shutil.which("prlimit") is None:
            return False, "prlimit (util-linux) is missing, so memory limits cannot be set"
        argv = [self.bwrap, *self._root_args(), "--unshare-all", "--die-with-parent", "--", "/bin/sh", "-c", "exit 0"]
        try:
            proc = subprocess.run(argv, capture_output=True, text=True, timeout=30, env=clean_environment())
        except subprocess.TimeoutExpired:
            return False, "bubblewrap did not start within 30 s"
        if proc.returncode != 0:
            last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
            return False, f"bubblewrap cannot create namespaces here: {last}"
        root = f"rootfs {self.rootfs}" if self.rootfs else "the host's /usr (read-only)"
        return True, f"bubblewrap on {root}; {self.limits_note()}"

    def limits_note(self) -> str:
        """Which limits this backend can enforce here, said plainly."""
        if self._cgroups_writable():
            return "memory, pids and CPU limits through a per-run cgroup, plus rlimits"
        nproc = "RLIMIT_NPROC (not enforced for root)" if os.geteuid() == 0 else "RLIMIT_NPROC"
        return f"no cgroup limits: memory via RLIMIT_AS, processes via {nproc}"

    @staticmethod
    def _cgroups_writable() -> bool:
        v2 = cgroups.ROOT / "cgroup.subtree_control"
        if v2.exists():
            return os.access(v2, os.W_OK)
        return os.access(cgroups.ROOT / "pids", os.W_OK) and os.access(cgroups.ROOT / "memory", os.W_OK)

    def _root_args(self) -> list[str]:
        if self.rootfs is not None:
            return ["--ro-bind", str(self.rootfs), "/"]
        args = ["--ro-bind", "/usr", "/usr"]
        for name in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
            host = Path("/") / name
            if host.is_symlink():
                args += ["--symlink", os.readlink(host), f"/{name}"]
            elif host.is_dir():
                args += ["--ro-bind", str(host), f"/{name}"]
        for name in _HOST_ETC:
            if (Path("/etc") / name).exists():
                args += ["--ro-bind", f"/etc/{name}", f"/etc/{name}"]
        return args

    def build_argv(
        self,
        cmd: Sequence[str],
        *,
        repo: Path,
        network: bool,
        env: Mapping[str, str],
        limits: Limits,
        mounts: Sequence[Mount],
        workdir: str,
        cgroup: cgroups.Cgroup | None,
    ) -> list[str]:
        """The full argv: an optional cgroup-joining shell, prlimit, then bwrap."""
        inner = [
            self.bwrap, *self._root_args(),
            "--unshare-all", "--unshare-user", *(["--share-net"] if network else []),
            "--die-with-parent", "--new-session", "--cap-drop", "ALL",
            "--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_UID), "--hostname", "sandbox",
            # /tmp is bounded like podman's (tmpfs pages also count against the cgroup).
            "--proc", "/proc", "--dev", "/dev",
            "--size", str(max(64, limits.memory_mb // 2) * 1024 * 1024), "--tmpfs", "/tmp",
            "--bind", str(repo), "/work",
        ]
        if network and Path("/etc/resolv.conf").exists():
            inner += ["--ro-bind", "/etc/resolv.conf", "/etc/resolv.conf"]
        for m in mounts:
            inner += ["--ro-bind" if m.read_only else "--bind", str(m.source), m.target]
        inner += ["--clearenv"]
        for key, value in env.items():
            inner += ["--setenv", key, value]
        inner += ["--chdir", workdir, "--", *cmd]
        # With a cgroup the memory cap is the cgroup's; RLIMIT_AS is then only a
        # generous backstop, since address space overcounts (thread stacks, mmaps).
        mem = limits.memory_mb * (4 if cgroup else 1) * 1024 * 1024
        nproc = limits.pids + (0 if os.geteuid() == 0 else _user_process_count())
        limited = [
            "prlimit", f"--as={mem}", f"--fsize={limits.file_size_mb * 1024 * 1024}",
            f"--nproc={nproc}", "--core=0", "--", *inner,
        ]
        if cgroup is None:
            return limited
        joins = "; ".join(f"echo $$ > {shlex.quote(str(f))}" for f in cgroup.procs_files)
        return ["/bin/sh", "-c", f'{joins} && exec "$@"', "sh", *limited]

    async def _run(
        self,
        cmd: Sequence[str],
        *,
        repo: Path,
        timeout_s: float,
        network: bool,
        env: Mapping[str, str] | None,
        limits: Limits,
        mounts: Sequence[Mount],
        workdir: str | None,
        on_output=None,
    ) -> SandboxResult:
        cg = cgroups.create(limits)
        self.last_limits_note = self.limits_note() if cg else "no cgroup limits: rlimits only"
        argv = self.build_argv(
            cmd, repo=repo, network=network, env={**BASE_ENV, **(env or {})}, limits=limits,
            mounts=mounts, workdir=workdir or "/work", cgroup=cg,
        )

        async def cleanup() -> None:
            if cg is not None:
                cg.kill_all()

        try:
            # bwrap's own PID 1 inside the sandbox keeps the environment it was started
            # with (/proc/1/environ), whatever --clearenv does for the command: so bwrap,
            # prlimit and the cgroup shell start from a cleared environment.
            raw = await run_process(argv, timeout_s=timeout_s, env=clean_environment(),
                                    output_bytes=limits.output_bytes, cleanup=cleanup, on_line=on_output)
            oom = cg.oom_killed() if cg is not None else False
        finally:
            if cg is not None:
                await asyncio.to_thread(cg.remove)
        if raw.timed_out:
            reason = f"timed out after {timeout_s:g} s; sandbox killed"
        elif oom:
            reason = f"killed: exceeded the memory limit of {limits.memory_mb} MB"
        else:
            reason = kill_reason(raw.exit_code, limits)
            if reason is None and raw.exit_code == 1 and raw.stderr.startswith("bwrap:"):
                reason = f"bubblewrap could not set up the sandbox: {raw.stderr.strip().splitlines()[0]}"
        return SandboxResult(
            exit_code=raw.exit_code, stdout=raw.stdout, stderr=raw.stderr, duration_s=raw.duration_s,
            timed_out=raw.timed_out, killed_reason=reason, backend=self.name, command=list(cmd),
            truncated=raw.truncated,
        )


def _user_process_count() -> int:
    """Processes the current user already runs (RLIMIT_NPROC counts them all)."""
    uid = os.getuid()
    count = 0
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                if d.stat().st_uid == uid:
                    count += 1
            except OSError:
                continue
    return count
