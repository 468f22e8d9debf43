"""Plain subprocess backend: weak isolation, refused unless the user allows it.

The command runs as the current user on the host, in the repo, with rlimits
(memory, file size, processes, core dumps) and a hard deadline that kills its
whole process group. Nothing stops it reading or writing outside the repo or
using the network: it exists for machines with neither podman nor
bubblewrap, and only with explicit consent (``allow_weak=True``).
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path


from .base import BASE_ENV, Limits, Mount, SandboxBackend, SandboxResult, kill_reason
from .process import run_process


class SubprocessBackend(SandboxBackend):
    """Runs commands directly on the host (weak isolation)."""

    unavailable_fix = "install podman or bubblewrap, or pass --allow-weak-sandbox"

    name = "subprocess"
    isolation = "weak"

    def __init__(self, *, allow_weak: bool = False) -> None:
        self.allow_weak = allow_weak

    def available(self) -> tuple[bool, str]:
        if not self.allow_weak:
            return False, "weak isolation (a plain subprocess) is refused unless allowed (--allow-weak-sandbox)"
        return True, "plain subprocess: WEAK isolation, the code can reach your files and the network"

    def repo_path(self, repo: Path) -> str:
        return str(Path(repo).resolve())

    def inside_path(self, mount: Mount) -> str:
        return str(mount.source)

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
        full_env = {**BASE_ENV, **(env or {})}
        # The sandboxes' /tmp is private; here the best we can do is a per-repo HOME.
        full_env["HOME"] = full_env.get("HOME") if full_env.get("HOME") != "/tmp" else str(repo)
        python_dir = str(Path(sys.executable).parent)
        full_env["PATH"] = full_env["PATH"] + os.pathsep + python_dir
        argv = [] if shutil.which("prlimit") is None else [
            "prlimit", f"--as={limits.memory_mb * 1024 * 1024}",
            f"--fsize={limits.file_size_mb * 1024 * 1024}", "--core=0", "--",
        ]
        argv += list(cmd)
        raw = await run_process(
            argv, timeout_s=timeout_s, env=full_env, cwd=workdir or str(repo), output_bytes=limits.output_bytes,
            on_line=on_output,
        )
        reason = f"timed out after {timeout_s:g} s; process group killed" if raw.timed_out else kill_reason(
            raw.exit_code, limits
        )
        return SandboxResult(
            exit_code=raw.exit_code, stdout=raw.stdout, stderr=raw.stderr, duration_s=raw.duration_s,
            timed_out=raw.timed_out, killed_reason=reason, backend=self.name, command=list(cmd),
            truncated=raw.truncated,
        )
