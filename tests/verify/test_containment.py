"""Generated code that misbehaves is contained: the run is reported failed
with the reason and the host is untouched. On podman and on bubblewrap
(each skipped with the reason where it cannot run)."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import threading
import uuid

import psutil
import pytest

from deepcode_tui.verify.execution import SandboxSession, VerifyCommand
from deepcode_tui.verify.findings import Kind
from deepcode_tui.verify.sandbox import Limits

pytestmark = pytest.mark.sandbox

SMALL = Limits(memory_mb=128, cpus=1, pids=64, file_size_mb=16)


def _leftovers(token: str) -> list[psutil.Process]:
    out = []
    for p in psutil.process_iter(["cmdline"]):
        try:
            if any(token in part for part in (p.info["cmdline"] or [])):
                out.append(p)
        except psutil.Error:
            continue
    return out


async def _run(backend, repo, code: str, *, timeout_s: float = 20, limits: Limits = SMALL):
    token = f"evil_{uuid.uuid4().hex[:8]}"
    (repo / f"{token}.py").write_text(code)
    result = await backend.run(["python3", f"{token}.py"], repo=repo, timeout_s=timeout_s, limits=limits)
    for _ in range(30):  # exiting processes may linger for a moment on a loaded machine
        if not _leftovers(token):
            break
        await asyncio.sleep(0.1)
    assert not _leftovers(token), "processes of the sandboxed program outlived the run"
    return result


async def test_socket_to_host_service_is_blocked(strong_backend, make_repo):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.settimeout(0.1)
    port = listener.getsockname()[1]
    accepted = []
    done = threading.Event()

    def watch():
        while not done.is_set():
            try:
                accepted.append(listener.accept())
            except OSError:
                pass

    t = threading.Thread(target=watch)
    t.start()
    repo = make_repo({})
    code = f"import socket\ns = socket.create_connection(('127.0.0.1', {port}), timeout=3)\ns.sendall(b'leak')\n"
    try:
        result = await _run(strong_backend, repo, code)
    finally:
        done.set()
        t.join()
        listener.close()
    assert not result.ok and result.exit_code == 1
    assert "ConnectionRefusedError" in result.stderr or "Network is unreachable" in result.stderr
    assert accepted == [], "the sandboxed code reached a service on the host"


async def test_writes_outside_repo_do_not_reach_host(strong_backend, make_repo, tmp_path):
    repo = make_repo({})
    canary = tmp_path / "outside" / "canary.txt"
    canary.parent.mkdir()
    code = (
        "import os, sys\n"
        "ok = []\n"
        f"for target in [{str(canary)!r}, '/usr/lib/deepcode-canary', '/etc/deepcode-canary', '/work/../x']:\n"
        "    try:\n"
        "        open(target, 'w').write('pwned')\n"
        "        ok.append(target)\n"
        "    except OSError as exc:\n"
        "        print('blocked', target, exc)\n"
        "open('inside.txt', 'w').write('fine')\n"
        "sys.exit(1 if ok else 0)\n"
    )
    result = await _run(strong_backend, repo, code)
    assert not canary.exists()
    assert (repo / "inside.txt").read_text() == "fine"
    assert result.stdout.count("blocked") == 4, result.stdout + result.stderr
    # Writes the sandbox did allow (its private /tmp) never show up on the host.
    assert not (tmp_path.parent / "x").exists()


async def test_fork_bomb_is_contained(strong_backend, make_repo):
    before = len(psutil.pids())
    code = "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n"
    result = await _run(strong_backend, make_repo({}), code, timeout_s=2)
    assert not result.ok and result.timed_out
    assert "timed out" in result.killed_reason
    await asyncio.sleep(0.5)
    assert len(psutil.pids()) < before + 20


async def test_unbounded_allocation_is_killed_or_refused(strong_backend, make_repo):
    code = "x = []\nwhile True:\n    x.append(bytearray(8 * 1024 * 1024))\n"
    result = await _run(strong_backend, make_repo({}), code, timeout_s=30)
    assert not result.ok and not result.timed_out
    reason = (result.killed_reason or "") + result.stderr
    assert "memory" in reason.lower() or "MemoryError" in reason


def _containers_running(token: str) -> str:
    """podman containers (any state) whose command mentions ``token``."""
    out = subprocess.run(["podman", "ps", "-a", "--no-trunc", "--format", "{{.Names}} {{.Command}}"],
                         capture_output=True, text=True, check=False).stdout
    return "\n".join(line for line in out.splitlines() if token in line)


async def test_infinite_loop_times_out_is_located_and_cleaned_up(strong_backend, make_repo, tmp_path):
    script = f"spin_{uuid.uuid4().hex[:8]}.py"
    repo = make_repo({script: "def spin():\n    n = 0\n    while True:\n        n += 1\n\n\nspin()\n"})
    session = SandboxSession(strong_backend, repo, tmp_path / "work", limits=SMALL, requirements=[])
    assert (await session.prepare()).ok
    outcome = await session.run(VerifyCommand(name="spin", argv=["python", script], timeout_s=3))
    assert not outcome.ok
    timeouts = [f for f in outcome.findings if f.kind == Kind.TIMEOUT]
    assert timeouts and (timeouts[0].file, timeouts[0].line) in {(script, 3), (script, 4)}
    if strong_backend.name == "podman":
        assert not _containers_running(script)


async def test_hard_deadline_and_cancel_remove_everything(strong_backend, make_repo):
    repo = make_repo({})
    token = f"sleeper_{uuid.uuid4().hex[:8]}"
    (repo / f"{token}.py").write_text("import signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
                                      "time.sleep(600)\n")
    # No watchdog here: the hard deadline alone must stop a program that ignores SIGTERM.
    result = await strong_backend.run(["python3", f"{token}.py"], repo=repo, timeout_s=2, limits=SMALL)
    assert result.timed_out and not result.ok
    task = asyncio.ensure_future(strong_backend.run(["python3", f"{token}.py"], repo=repo, timeout_s=60,
                                                    limits=SMALL))
    await asyncio.sleep(1.5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    for _ in range(30):
        if not _leftovers(token):
            break
        await asyncio.sleep(0.1)
    assert not _leftovers(token)
    if strong_backend.name == "podman":
        assert not _containers_running(token)
