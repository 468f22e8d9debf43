"""Run a host process with a hard deadline, bounded output capture and cleanup.

Shared by every backend: the backend builds the argv (podman, bwrap or the
bare command) and an optional cleanup coroutine (``podman rm -f``), this
module makes sure nothing outlives the deadline or a cancellation.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence

from pydantic import BaseModel


class RawResult(BaseModel):
    exit_code: int | None
    stdout: str
    stderr: str
    duration_s: float
    timed_out: bool
    truncated: bool


class _Capture:
    """Keeps the first and last ``limit // 2`` bytes of a stream."""

    def __init__(self, limit: int) -> None:
        self.half = max(1, limit // 2)
        self.head = bytearray()
        self.tail = bytearray()
        self.dropped = 0

    def feed(self, chunk: bytes) -> None:
        room = self.half - len(self.head)
        if room > 0:
            self.head += chunk[:room]
            chunk = chunk[room:]
        if chunk:
            self.tail += chunk
            if len(self.tail) > self.half:
                cut = len(self.tail) - self.half
                self.dropped += cut
                del self.tail[:cut]

    def text(self) -> str:
        mid = f"\n[... {self.dropped} bytes of output dropped ...]\n".encode() if self.dropped else b""
        return bytes(self.head + mid + self.tail).decode("utf-8", errors="replace")


OnLine = Callable[[str, str], Awaitable[None]]


async def _pump(stream: asyncio.StreamReader | None, cap: _Capture, name: str = "",
                on_line: OnLine | None = None, max_lines: int = 2000) -> None:
    """Capture ``stream``; with ``on_line``, also hand each complete line to it as it
    arrives (at most ``max_lines``: the capture keeps the rest)."""
    if stream is None:
        return
    pending = b""
    sent = 0
    while True:
        chunk = await stream.read(65536)
        if not chunk:
            break
        cap.feed(chunk)
        if on_line is not None and sent < max_lines:
            pending += chunk
            *lines, pending = pending.split(b"\n")
            if len(pending) > 65536:  # a line without end: hand over what there is
                lines.append(pending)
                pending = b""
            for raw in lines:
                if sent >= max_lines:
                    break
                sent += 1
                await on_line(name, raw.decode("utf-8", errors="replace").rstrip("\r"))
    if on_line is not None and pending and sent < max_lines:
        await on_line(name, pending.decode("utf-8", errors="replace"))


def _killpg(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


async def run_process(
    argv: Sequence[str],
    *,
    timeout_s: float,
    env: Mapping[str, str] | None = None,
    cwd: str | None = None,
    output_bytes: int = 256_000,
    on_timeout: Callable[[], Awaitable[None]] | None = None,
    cleanup: Callable[[], Awaitable[None]] | None = None,
    on_line: OnLine | None = None,
) -> RawResult:
    """Run ``argv`` in its own session; kill its whole process group at the
    deadline or on cancellation (after awaiting ``on_timeout``/``cleanup``).

    ``on_timeout`` runs before the kill when the deadline passes (e.g. ask the
    program for a stack dump); ``cleanup`` runs after every timeout or
    cancellation (e.g. ``podman rm -f``). A cancellation is re-raised after
    cleanup, so callers see :class:`asyncio.CancelledError` as usual.
    """
    start = time.monotonic()
    try:
        proc = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=dict(env) if env is not None else None,
            cwd=cwd,
            start_new_session=True,  # one process group to kill, whatever the command forks
        )
    except FileNotFoundError:
        return RawResult(
            exit_code=127, stdout="", stderr=f"{argv[0]}: command not found", duration_s=0.0,
            timed_out=False, truncated=False,
        )
    out, err = _Capture(output_bytes), _Capture(output_bytes)
    pumps = [asyncio.ensure_future(_pump(proc.stdout, out, "stdout", on_line)),
             asyncio.ensure_future(_pump(proc.stderr, err, "stderr", on_line))]
    timed_out = False
    try:
        try:
            await asyncio.wait_for(proc.wait(), timeout=max(0.1, timeout_s))
        except TimeoutError:
            timed_out = True
            if on_timeout is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(on_timeout(), timeout=10)
            if cleanup is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(cleanup(), timeout=30)
            _killpg(proc.pid)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(proc.wait(), timeout=10)
    except asyncio.CancelledError:
        # Shielded: the container/processes must go even though we were cancelled.
        async def _stop() -> None:
            if cleanup is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(cleanup(), timeout=30)
            _killpg(proc.pid)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(proc.wait(), timeout=10)

        await asyncio.shield(_stop())
        for p in pumps:
            p.cancel()
        raise
    # Leftover children (daemonised by the command) may hold the pipes open.
    _killpg(proc.pid)
    done, pending = await asyncio.wait(pumps, timeout=3)
    for p in pending:
        p.cancel()
    return RawResult(
        exit_code=proc.returncode,
        stdout=out.text(),
        stderr=err.text(),
        duration_s=time.monotonic() - start,
        timed_out=timed_out,
        truncated=bool(out.dropped or err.dropped),
    )
