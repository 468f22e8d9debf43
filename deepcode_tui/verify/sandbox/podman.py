"""Podman backend: the strongest isolation available here.

Every run is a fresh container: network off (``--network none``) unless
asked, memory (no swap), CPU and pids limits, ``--cap-drop ALL``,
``no-new-privileges``, a read-only root filesystem, a non-root user, the repo
bind-mounted read-write at /work, podman's own ``--timeout`` as a backstop,
and ``podman rm -f`` when the deadline passes, the run is cancelled or the podman
client dies (killing the client alone leaves the container running), and a
reaper process (:mod:`.reaper`) that removes this process's containers if the
process itself is killed. podman runs with an allow-listed environment and
``--http-proxy=false``, so no host variable reaches a container.

The root filesystem is either a directory (``--rootfs``, built once with
debootstrap, see :mod:`.rootfs`; works offline) or an image name (needs the
image present or a reachable registry).

Ownership: the command runs as uid 1000 inside. When podman runs as root,
uid 1000 is mapped to the repo owner's host uid and every other uid to an
unused high range, so files the command writes in the repo belong to the
repo's owner while the read-only rootfs stays untouched; rootless podman uses
``--userns=keep-id`` to the same effect.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Mapping, Sequence
from importlib import resources
from pathlib import Path

from deepcode_tui.errors import SandboxError
from deepcode_tui.redaction import clean_environment

from . import reaper
from .base import BASE_ENV, Limits, Mount, SandboxBackend, SandboxResult, kill_reason
from .process import run_process
from .rootfs import default_rootfs_path, ensure_rootfs, is_ready

SANDBOX_UID = 1000
_ID_RANGE = 65536
# What podman needs of the host's environment (rootless storage, runtime dir);
# never a secret: clean_environment drops secret-named variables anyway.
PODMAN_ENV_KEEP = ("PATH", "HOME", "USER", "LOGNAME", "TMPDIR", "XDG_RUNTIME_DIR", "XDG_CONFIG_HOME",
                   "XDG_DATA_HOME", "DBUS_SESSION_BUS_ADDRESS", "CONTAINERS_STORAGE_CONF",
                   "CONTAINERS_REGISTRIES_CONF")


class _Reaper:
    """The handle on this process's reaper (see :mod:`.reaper`)."""

    def __init__(self, podman: str, env: dict[str, str]) -> None:
        self.pid = os.getpid()
        script = Path(reaper.__file__)
        try:
            self.proc: subprocess.Popen | None = subprocess.Popen(
                [sys.executable, "-I", "-S", str(script), podman], stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, start_new_session=True,
                text=True,
            )
        except OSError:
            self.proc = None

    def _send(self, line: str) -> None:
        if self.proc is None or self.proc.stdin is None:
            return
        try:
            self.proc.stdin.write(line + "\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, ValueError, OSError):
            self.proc = None

    def register(self, name: str) -> None:
        self._send("+" + name)

    def release(self, name: str) -> None:
        self._send("-" + name)


_reapers: dict[str, _Reaper] = {}


def _scratch_dir() -> Path:
    """podman's working directory: conmon leaves files in it (an ``oom`` marker when a
    container is OOM-killed), which must not land in the user's working directory."""
    path = Path(tempfile.gettempdir()) / f"deepcode-podman-{os.getuid()}"
    path.mkdir(mode=0o700, exist_ok=True)
    return path


def _reaper_for(podman: str, env: dict[str, str]) -> _Reaper:
    """One reaper per process and podman binary (a forked child starts its own)."""
    r = _reapers.get(podman)
    if r is None or r.pid != os.getpid() or r.proc is None or r.proc.poll() is not None:
        r = _reapers[podman] = _Reaper(podman, env)
    return r


def containers_conf_path() -> Path:
    """The containers.conf this package ships (runc, nofile/nproc ulimits)."""
    return Path(str(resources.files("deepcode_tui.verify").joinpath("containers.conf")))


def _id_maps(owner: int, flag: str) -> list[str]:
    """``--uidmap``/``--gidmap`` arguments mapping SANDBOX_UID to ``owner`` and all
    other container ids to a host range that contains neither ``owner`` nor root."""
    base = 100_000
    while base <= owner < base + _ID_RANGE:
        base += _ID_RANGE
    return [
        f"{flag}=0:{base}:{SANDBOX_UID}",
        f"{flag}={SANDBOX_UID}:{owner}:1",
        f"{flag}={SANDBOX_UID + 1}:{base + SANDBOX_UID + 1}:{_ID_RANGE - SANDBOX_UID - 1}",
    ]


class PodmanBackend(SandboxBackend):
    """Runs commands in podman containers (runc, rootfs directory or image)."""

    unavailable_fix = "use --sandbox bwrap or fix podman"

    name = "podman"
    isolation = "strong"

    def __init__(
        self,
        *,
        rootfs: Path | None = None,
        image: str | None = None,
        podman: str = "podman",
        build_rootfs: bool = True,
        runtime: str = "runc",
    ) -> None:
        self.image = image
        self.rootfs = rootfs if rootfs is not None or image else default_rootfs_path()
        self.podman = podman
        self.build_rootfs = build_rootfs
        self.runtime = runtime
        self._probe: tuple[bool, str] | None = None

    # -- availability -------------------------------------------------------------------
    def _env(self) -> dict[str, str]:
        """podman's own environment: an allow-list (podman passes proxy variables
        into containers, and nothing of ours should be there for it to pass)."""
        env = clean_environment(PODMAN_ENV_KEEP)
        env["CONTAINERS_CONF"] = str(containers_conf_path())
        return env

    def _podman(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
        return subprocess.run(
            [self.podman, *args], capture_output=True, text=True, timeout=timeout, env=self._env()
        )

    def available(self) -> tuple[bool, str]:
        if self._probe is not None:
            return self._probe
        self._probe = self._check()
        return self._probe

    def _check(self) -> tuple[bool, str]:
        if shutil.which(self.podman) is None:
            return False, "podman is not installed (apt-get install podman runc)"
        if shutil.which(self.runtime) is None:
            return False, f"the {self.runtime} OCI runtime is not installed (apt-get install {self.runtime})"
        if self.image:
            try:
                present = self._podman("image", "exists", self.image, timeout=30).returncode == 0
                if not present:
                    pulled = self._podman("pull", "--quiet", self.image, timeout=120)
                    if pulled.returncode != 0:
                        return False, f"image {self.image} is not present and could not be pulled (no registry?)"
            except subprocess.TimeoutExpired:
                return False, f"pulling image {self.image} timed out"
        elif not is_ready(self.rootfs):
            if not self.build_rootfs:
                return False, f"no sandbox rootfs at {self.rootfs}"
            if shutil.which("debootstrap") is None or os.geteuid() != 0:
                return False, "no sandbox rootfs yet and it cannot be built here (needs root and debootstrap)"
            return True, f"podman available; the rootfs will be built on first use at {self.rootfs}"
        return self._smoke()

    def _smoke(self) -> tuple[bool, str]:
        """Start one trivial container: catches broken runtimes (crun here) and cgroup trouble."""
        argv = ["run", "--rm", "--runtime", self.runtime, "--network", "none", "--log-driver", "none"]
        argv += self._root_args() + ["/bin/sh", "-c", "exit 0"]
        try:
            proc = self._podman(*argv, timeout=60)
        except subprocess.TimeoutExpired:
            return False, "podman did not start a test container within 60 s"
        if proc.returncode != 0:
            last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
            return False, f"podman cannot start containers here: {last}"
        where = f"image {self.image}" if self.image else f"rootfs {self.rootfs}"
        return True, f"podman with {self.runtime} on {where}"

    async def prepare(self) -> None:
        """Build the rootfs if it is missing (slow, once; cached)."""
        if self.image or is_ready(self.rootfs):
            return
        if not self.build_rootfs:
            raise SandboxError(f"no sandbox rootfs at {self.rootfs}", "build it with ensure_rootfs() or pass --image")
        await asyncio.to_thread(ensure_rootfs, self.rootfs)
        self._probe = None

    # -- running ---------------------------------------------------------------------------
    def _root_args(self) -> list[str]:
        if self.image:
            return ["--read-only", self.image]
        # --rootfs takes the next positional as a directory; it must come last among options.
        return ["--read-only", "--rootfs", str(self.rootfs)]

    def _user_args(self, repo: Path) -> list[str]:
        if os.geteuid() != 0:
            return ["--userns=keep-id", f"--user={os.getuid()}:{os.getgid()}"]
        st = repo.stat()
        return [*_id_maps(st.st_uid, "--uidmap"), *_id_maps(st.st_gid, "--gidmap"),
                f"--user={SANDBOX_UID}:{SANDBOX_UID}"]

    def build_argv(
        self,
        cmd: Sequence[str],
        *,
        name: str,
        repo: Path,
        timeout_s: float,
        network: bool,
        env: Mapping[str, str],
        limits: Limits,
        mounts: Sequence[Mount],
        workdir: str,
    ) -> list[str]:
        """The full ``podman run`` argv (exposed for tests and for showing the user)."""
        argv = [
            self.podman, "run", "--rm", "--name", name, "--runtime", self.runtime,
            "--log-driver", "none", "--pull", "never", "--http-proxy=false",
            f"--label={reaper.LABEL}={os.getpid()}",
            f"--memory={limits.memory_mb}m", f"--memory-swap={limits.memory_mb}m",
            f"--cpus={limits.cpus:g}", f"--pids-limit={limits.pids}",
            # Any --ulimit replaces containers.conf's default_ulimits, and runc here
            # refuses the inherited nofile/nproc values: restate them with fsize.
            f"--ulimit=fsize={limits.file_size_mb * 1024 * 1024}",
            "--ulimit=nofile=1024:1024", "--ulimit=nproc=1024:1024",
            "--cap-drop=ALL", "--security-opt=no-new-privileges",
            f"--timeout={math.ceil(timeout_s) + 5}",
            f"--tmpfs=/tmp:rw,nosuid,nodev,size={max(64, limits.memory_mb // 2)}m",
            *self._user_args(repo),
            "-v", f"{repo}:/work:rw",
        ]
        if not network:
            argv.append("--network=none")
        for m in mounts:
            argv += ["-v", f"{m.source}:{m.target}:{'ro' if m.read_only else 'rw'}"]
        for key, value in env.items():
            argv += ["-e", f"{key}={value}"]
        argv += ["-w", workdir, *self._root_args(), *cmd]
        return argv

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
        await self.prepare()
        name = f"deepcode-{uuid.uuid4().hex[:12]}"
        full_env = {**BASE_ENV, **(env or {})}
        argv = self.build_argv(
            cmd, name=name, repo=repo, timeout_s=timeout_s, network=network, env=full_env,
            limits=limits, mounts=mounts, workdir=workdir or "/work",
        )

        async def remove() -> None:
            proc = await asyncio.create_subprocess_exec(
                self.podman, "rm", "-f", "-t", "0", name,
                stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL, env=self._env(),
            )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(proc.wait(), timeout=30)

        watcher = _reaper_for(self.podman, self._env())
        watcher.register(name)
        try:
            raw = await run_process(
                argv, timeout_s=timeout_s, env=self._env(), output_bytes=limits.output_bytes, cleanup=remove,
                on_line=on_output, cwd=str(_scratch_dir()),
            )
            if raw.exit_code is None or raw.exit_code < 0 or raw.exit_code >= 125:
                # The podman client itself may have died (killed, crashed): the container
                # would run on until --timeout. Removing an absent container is a no-op.
                await remove()
        finally:
            watcher.release(name)
        reason = None
        stderr = raw.stderr
        if raw.timed_out:
            reason = f"timed out after {timeout_s:g} s; container {name} removed"
        elif raw.exit_code == 125 or (raw.exit_code in (126, 127) and "OCI runtime" in stderr):
            reason = f"podman could not run the container: {(stderr.strip().splitlines() or ['?'])[-1]}"
        elif raw.exit_code == 255 and not raw.stdout and not stderr:
            reason = f"stopped by podman's --timeout after {timeout_s:g} s"
        else:
            reason = kill_reason(raw.exit_code, limits)
        return SandboxResult(
            exit_code=raw.exit_code, stdout=raw.stdout, stderr=stderr, duration_s=raw.duration_s,
            timed_out=raw.timed_out, killed_reason=reason, backend=self.name, command=list(cmd),
            truncated=raw.truncated,
        )
