"""The sandbox interface every backend implements, and its result type.

A backend runs one command against a repository with the repository visible
(read-write) at :meth:`SandboxBackend.repo_path`, extra host directories
mounted where asked, the network off unless asked, and resource limits
applied as far as the backend can. It never raises for anything the command
does: a crash, a timeout or a kill is a :class:`SandboxResult` with a
reason. It raises :class:`~deepcode_tui.errors.SandboxError` only when the
backend itself cannot start.

Promises of :meth:`SandboxBackend.run`, whatever the backend:

- the command's environment is :data:`BASE_ENV` plus what the caller passes;
  nothing of the host's environment reaches it (backends launch their tools
  with a cleared environment, so not even ``/proc/1/environ`` inside shows it);
- a command that writes more than ``Limits.disk_mb`` into the repo (or eight
  times that into a writable mount) is stopped, and the result says so;
- after every run, finished or not, the repo and the writable mounts are swept
  (:mod:`.sweep`): no setuid/setgid/sticky bits, no symlink out of the repo,
  no FIFO or device node is left for host-side readers;
- the captured output has every secret value scrubbed (:mod:`deepcode_tui.redaction`),
  so it can become a trace, a finding or a prompt.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import signal
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from deepcode_tui.errors import SandboxError
from deepcode_tui.redaction import scrub_secrets, secret_values
from deepcode_tui.safe_fs import tree_size

from .sweep import sweep

Isolation = Literal["strong", "partial", "weak"]

# What every sandboxed command sees unless the caller overrides it: no user
# site, no bytecode litter in the repo, unbuffered output so a kill keeps it.
BASE_ENV = {
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "HOME": "/tmp",
    "LANG": "C.UTF-8",
    "LC_ALL": "C.UTF-8",
    "PYTHONDONTWRITEBYTECODE": "1",
    "PYTHONUNBUFFERED": "1",
    "PYTHONNOUSERSITE": "1",
    "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    "PIP_NO_INPUT": "1",
}


class Limits(BaseModel):
    """Resource limits for one sandboxed command."""

    model_config = ConfigDict(frozen=True)

    memory_mb: int = Field(1024, ge=32)
    cpus: float = Field(1.0, gt=0)
    pids: int = Field(256, ge=8)
    file_size_mb: int = Field(512, ge=1)
    # Captured output per stream; past it the middle is dropped (head and tail kept).
    output_bytes: int = Field(256_000, ge=4_096)
    # What the command may add to the repository (and, times ENV_DISK_FACTOR, to the
    # writable env directory) before it is stopped: the repo is a host directory.
    disk_mb: int = Field(1024, ge=16)


ENV_DISK_FACTOR = 8  # a venv with a few large wheels (numpy, torch) is legitimately big
GUARD_INTERVAL_S = 0.5


class Mount(BaseModel):
    """A host directory made visible inside the sandbox at ``target``."""

    model_config = ConfigDict(frozen=True)

    source: Path
    target: str
    read_only: bool = True


class SandboxResult(BaseModel):
    """What happened to one command. ``killed_reason`` is set whenever the sandbox,
    not the command, ended it (timeout, memory limit, cancellation)."""

    exit_code: int | None
    stdout: str = ""
    stderr: str = ""
    duration_s: float = 0.0
    timed_out: bool = False
    killed_reason: str | None = None
    backend: str
    command: list[str] = Field(default_factory=list)
    truncated: bool = False
    # What the host removed or neutralised after the run (see .sweep), one note each.
    artefacts: list[str] = Field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and not self.timed_out and self.killed_reason is None

    def failure_reason(self) -> str | None:
        """One line saying why the run failed, or None when it passed."""
        if self.ok:
            return None
        if self.killed_reason:
            return self.killed_reason
        return f"exited with status {self.exit_code}"

    def combined_output(self) -> str:
        if self.stdout and self.stderr:
            return f"{self.stdout.rstrip()}\n{self.stderr}"
        return self.stdout or self.stderr


def _sweep_all(repo: Path, writable: Sequence[Path]) -> list[str]:
    notes: list[str] = []
    rep = sweep(repo, remove_links=True)
    notes += [f"removed {r}" for r in rep.removed]
    notes += [f"cleared setuid/setgid/sticky bits on {r}" for r in rep.stripped]
    for w in writable:
        rep = sweep(w, remove_links=False)
        notes += [f"cleared setuid/setgid/sticky bits on {w.name}/{r}" for r in rep.stripped]
    return notes


async def _watch_disk(watched: Sequence[tuple[Path, int]]) -> str:
    """Returns (a reason) once a watched tree grows past its limit in MB; polls."""
    while True:
        await asyncio.sleep(GUARD_INTERVAL_S)
        for path, limit_mb in watched:
            size = await asyncio.to_thread(tree_size, path)
            if size > limit_mb * 1024 * 1024:
                return (f"stopped: the command wrote more than {limit_mb} MB into {path.name} "
                        f"(the sandbox's disk limit, sandbox.disk_mb)")


async def _guarded(run: Coroutine[Any, Any, SandboxResult], watched: Sequence[tuple[Path, int]], *,
                   backend: str, command: list[str]) -> SandboxResult:
    """Await ``run`` while a disk guard watches the writable trees; a tree past its
    limit cancels the run (the backend's cancellation path kills and removes
    everything) and the result says why."""
    task = asyncio.ensure_future(run)
    guard = asyncio.ensure_future(_watch_disk(watched))
    try:
        await asyncio.wait({task, guard}, return_when=asyncio.FIRST_COMPLETED)
    except asyncio.CancelledError:
        task.cancel()
        guard.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
        raise
    if task.done():
        guard.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await guard
        return task.result()
    reason = guard.result()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    return SandboxResult(exit_code=None, killed_reason=reason, backend=backend, command=command)


def kill_reason(exit_code: int | None, limits: Limits) -> str | None:
    """Why a process died by a signal, phrased for the user (None for a normal exit)."""
    if exit_code is None:
        return None
    sig = -exit_code if exit_code < 0 else (exit_code - 128 if 128 < exit_code < 160 else 0)
    if sig == signal.SIGKILL:
        return f"killed by SIGKILL (most likely the memory limit of {limits.memory_mb} MB)"
    if sig == signal.SIGSEGV:
        return "crashed with a segmentation fault"
    if sig == signal.SIGXFSZ:
        return f"killed for writing a file larger than {limits.file_size_mb} MB"
    if sig == signal.SIGXCPU:
        return "killed for exceeding its CPU-time limit"
    return None


class SandboxBackend(abc.ABC):
    """One way of running generated code. Subclasses set ``name`` and ``isolation``."""

    name: ClassVar[str]
    isolation: ClassVar[Isolation]

    @abc.abstractmethod
    def available(self) -> tuple[bool, str]:
        """Whether this backend can run here, and a one-line reason either way."""

    # The fix named when this backend is asked to run but is not available here.
    unavailable_fix: ClassVar[str] = "choose another backend with --sandbox auto"

    async def run(
        self,
        cmd: Sequence[str],
        *,
        repo: Path,
        timeout_s: float,
        network: bool = False,
        env: Mapping[str, str] | None = None,
        limits: Limits | None = None,
        mounts: Sequence[Mount] = (),
        workdir: str | None = None,
        on_output: Callable[[str, str], Awaitable[None]] | None = None,
    ) -> SandboxResult:
        """Run ``cmd`` with the repo mounted; ``workdir`` defaults to the repo.
        ``on_output(stream, line)`` receives each output line as it is written (secrets
        scrubbed, at most a few thousand lines). Raises SandboxError when the backend is
        not available here."""
        ok, reason = self.available()
        if not ok:
            raise SandboxError(f"{self.name} sandbox unavailable: {reason}", self.unavailable_fix)
        repo = Path(repo).resolve()
        limits = limits or Limits()
        writable = [Path(m.source) for m in mounts if not m.read_only]
        values = secret_values()
        live = None
        if on_output is not None:
            async def live(stream: str, line: str) -> None:
                await on_output(stream, scrub_secrets(line, values))
        watched = [(repo, limits.disk_mb), *((w, limits.disk_mb * ENV_DISK_FACTOR) for w in writable)]
        try:
            result = await _guarded(
                self._run(cmd, repo=repo, timeout_s=timeout_s, network=network, env=env,
                          limits=limits, mounts=mounts, workdir=workdir, on_output=live),
                watched, backend=self.name, command=list(cmd),
            )
        finally:
            # Whatever happened (passed, failed, killed, cancelled), the host never keeps
            # setuid bits, escaping symlinks or FIFOs the code left behind.
            notes = _sweep_all(repo, writable)
        return result.model_copy(update={
            "stdout": scrub_secrets(result.stdout, values), "stderr": scrub_secrets(result.stderr, values),
            "artefacts": [*result.artefacts, *notes],
        })

    @abc.abstractmethod
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
        on_output: Callable[[str, str], Awaitable[None]] | None = None,
    ) -> SandboxResult:
        """The backend's own run, called with the backend available, ``repo`` resolved
        and ``limits`` filled in."""

    def repo_path(self, repo: Path) -> str:
        """Where ``repo`` appears inside the sandbox."""
        return "/work"

    def inside_path(self, mount: Mount) -> str:
        """Where a mount's source appears inside the sandbox."""
        return mount.target

    def describe(self) -> str:
        return f"{self.name} ({self.isolation} isolation)"
