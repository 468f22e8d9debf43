"""Sandbox plumbing that needs no container: argv construction, backend
choice, the rootfs builder (with a stand-in debootstrap), the process runner
and the wheelhouse."""

from __future__ import annotations

import asyncio
import os
import threading
import zipfile
from pathlib import Path

import pytest

from deepcode_tui.errors import SandboxError
from deepcode_tui.verify.sandbox import (
    BwrapBackend,
    Limits,
    Mount,
    PodmanBackend,
    SubprocessBackend,
    choose_backend,
    containers_conf_path,
)
from deepcode_tui.verify.sandbox.process import run_process
from deepcode_tui.verify.sandbox.rootfs import apt_mirror, ensure_rootfs, is_ready
from deepcode_tui.verify.sandbox.wheelhouse import install_argv, prepare_wheelhouse


def test_podman_argv_has_every_isolation_flag(tmp_path):
    b = PodmanBackend(rootfs=tmp_path / "rootfs")
    argv = b.build_argv(["python3", "x.py"], name="deepcode-t", repo=tmp_path, timeout_s=30, network=False,
                        env={"A": "1"}, limits=Limits(memory_mb=256, cpus=0.5, pids=64),
                        mounts=[Mount(source=tmp_path, target="/wheelhouse")], workdir="/work")
    joined = " ".join(argv)
    for flag in ["--rm", "--network=none", "--memory=256m", "--memory-swap=256m", "--cpus=0.5",
                 "--pids-limit=64", "--cap-drop=ALL", "--security-opt=no-new-privileges", "--read-only",
                 "--timeout=35", "--runtime runc", f"{tmp_path}:/work:rw", f"{tmp_path}:/wheelhouse:ro",
                 "--name deepcode-t", "--user=1000:1000" if os.geteuid() == 0 else "--userns=keep-id"]:
        assert flag in joined, flag
    # --rootfs takes the next word as its directory, so it must close the options.
    assert argv[-4:] == ["--rootfs", str(tmp_path / "rootfs"), "python3", "x.py"]
    assert "--network=none" not in " ".join(b.build_argv(
        ["true"], name="n", repo=tmp_path, timeout_s=1, network=True, env={}, limits=Limits(), mounts=[],
        workdir="/work"))


def test_podman_uid_map_never_maps_container_root_to_host_root(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("the explicit uid map is used only when podman runs as root")
    args = PodmanBackend(rootfs=tmp_path)._user_args(tmp_path)
    uidmaps = [a.split("=", 1)[1].split(":") for a in args if a.startswith("--uidmap")]
    assert ["1000", str(tmp_path.stat().st_uid), "1"] in uidmaps
    container_root = next(m for m in uidmaps if m[0] == "0")
    assert container_root[1] != "0"


def test_shipped_containers_conf_selects_runc_with_ulimits():
    text = containers_conf_path().read_text()
    assert 'runtime = "runc"' in text and "nofile=1024:1024" in text and "nproc=1024:1024" in text


def test_bwrap_argv_unshares_and_limits(tmp_path):
    b = BwrapBackend(rootfs=tmp_path / "none", use_rootfs=False)
    argv = b.build_argv(["python3", "-V"], repo=tmp_path, network=False, env={"K": "V"},
                        limits=Limits(memory_mb=128), mounts=[], workdir="/work", cgroup=None)
    assert argv[0] == "prlimit" and f"--as={128 * 1024 * 1024}" in argv
    for flag in ["--unshare-all", "--die-with-parent", "--new-session", "--clearenv"]:
        assert flag in argv
    assert "--share-net" not in argv
    assert argv[argv.index("--bind") + 1 : argv.index("--bind") + 3] == [str(tmp_path), "/work"]
    assert "no cgroup limits" in b.limits_note() or "cgroup" in b.limits_note()


class Fake:
    def __init__(self, name, ok, isolation="strong"):
        self.name, self._ok, self.isolation = name, ok, isolation

    def available(self):
        return self._ok, f"{self.name} says {'yes' if self._ok else 'no'}"


def test_choose_backend_falls_back_and_says_why():
    backend, notice = choose_backend(candidates=[Fake("podman", False), Fake("bwrap", True, "partial")])
    assert backend.name == "bwrap"
    assert "sandbox: bwrap (partial isolation)" in notice and "skipped podman: podman says no" in notice
    backend, notice = choose_backend(candidates=[Fake("podman", False), Fake("subprocess", True, "weak")])
    assert notice.startswith("WARNING") and "weak" in notice
    with pytest.raises(SandboxError) as err:
        choose_backend(candidates=[Fake("podman", False), Fake("bwrap", False)])
    assert "podman says no" in err.value.message and "--allow-weak-sandbox" in err.value.fix


def test_weak_backend_refused_unless_allowed(tmp_path):
    assert not SubprocessBackend().available()[0]
    with pytest.raises(SandboxError):
        asyncio.run(SubprocessBackend().run(["true"], repo=tmp_path, timeout_s=5))
    with pytest.raises(SandboxError) as err:
        choose_backend("subprocess", allow_weak=False)
    assert "refused" in err.value.message
    with pytest.raises(SandboxError):
        choose_backend("kubernetes")


async def test_subprocess_backend_runs_in_repo_with_deadline(tmp_path):
    b = SubprocessBackend(allow_weak=True)
    r = await b.run(["/bin/sh", "-c", "pwd; echo err >&2; exit 3"], repo=tmp_path, timeout_s=10)
    assert r.exit_code == 3 and r.stdout.strip() == str(tmp_path.resolve()) and r.stderr.strip() == "err"
    r = await b.run(["/bin/sh", "-c", "sleep 30 & sleep 30"], repo=tmp_path, timeout_s=0.5)
    assert r.timed_out and "timed out" in r.killed_reason and r.duration_s < 10


async def test_process_runner_caps_output_and_kills_group_on_cancel(tmp_path):
    r = await run_process(["/bin/sh", "-c", "yes x | head -c 2000000"], timeout_s=20, output_bytes=10_000)
    assert r.truncated and len(r.stdout) < 12_000 and "bytes of output dropped" in r.stdout
    marker = tmp_path / "alive"
    task = asyncio.ensure_future(run_process(
        ["/bin/sh", "-c", f"(sleep 1.5; touch {marker}) & sleep 30"], timeout_s=60))
    await asyncio.sleep(0.3)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await asyncio.sleep(2)
    assert not marker.exists(), "a child of the cancelled command survived"


def test_apt_mirror_reads_deb822_and_one_line_sources(tmp_path):
    (tmp_path / "sources.list.d").mkdir()
    (tmp_path / "sources.list.d" / "debian.sources").write_text(
        "Types: deb\nURIs: http://mirror.example/debian/\nSuites: bookworm bookworm-updates\nComponents: main\n\n"
        "Types: deb\nURIs: http://security.example/debian-security\nSuites: bookworm-security\n")
    assert apt_mirror("bookworm", tmp_path) == "http://mirror.example/debian"
    other = tmp_path / "o"
    other.mkdir()
    (other / "sources.list").write_text("# c\ndeb [arch=amd64] http://old.example/debian bookworm main\n")
    assert apt_mirror("bookworm", other) == "http://old.example/debian"
    assert apt_mirror("bookworm", tmp_path / "missing").startswith("http://deb.debian.org")


FAKE_DEBOOTSTRAP = """#!/bin/sh
# stand-in for debootstrap: args are --variant --include SUITE TARGET MIRROR
echo "$@" >> "{log}"
sleep 0.5
[ -n "{fail}" ] && {{ echo "E: Failed getting release file" >&2; exit 1; }}
mkdir -p "$4/usr/bin" && touch "$4/usr/bin/python3"
"""


def _fake(tmp_path, fail=""):
    script = tmp_path / f"fake-debootstrap{fail}"
    log = tmp_path / "calls.log"
    script.write_text(FAKE_DEBOOTSTRAP.format(log=log, fail=fail))
    script.chmod(0o755)
    return str(script), log


@pytest.mark.skipif(os.geteuid() != 0, reason="the rootfs builder requires root")
def test_rootfs_built_once_atomically_under_a_lock(tmp_path):
    cmd, log = _fake(tmp_path)
    target = tmp_path / "cache" / "rootfs-v1"
    results = []
    threads = [threading.Thread(target=lambda: results.append(
        ensure_rootfs(target, mirror="http://m", debootstrap_cmd=(cmd,)))) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [target] * 3 and is_ready(target)
    assert len(log.read_text().splitlines()) == 1, "two processes built the rootfs"
    assert "--variant=minbase" in log.read_text() and "http://m" in log.read_text()
    assert not list(target.parent.glob(".*build-*"))


@pytest.mark.skipif(os.geteuid() != 0, reason="the rootfs builder requires root")
def test_failed_rootfs_build_leaves_nothing_behind(tmp_path):
    cmd, _ = _fake(tmp_path, fail="1")
    target = tmp_path / "cache" / "rootfs-v1"
    with pytest.raises(SandboxError) as err:
        ensure_rootfs(target, mirror="http://m", debootstrap_cmd=(cmd,))
    assert "Failed getting release file" in err.value.message and "mirror" in err.value.fix
    assert not target.exists() and not list(target.parent.glob(".*build-*"))


def test_wheelhouse_from_installed_is_offline_and_installable(tmp_path):
    result = prepare_wheelhouse(["iniconfig"], tmp_path / "wh", from_installed=True)
    assert result.ok
    [wheel] = list((tmp_path / "wh").glob("iniconfig-*.whl"))
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
    assert "iniconfig/__init__.py" in names and any(n.endswith(".dist-info/RECORD") for n in names)
    again = prepare_wheelhouse(["iniconfig"], tmp_path / "wh", from_installed=True)
    assert again.cached
    assert install_argv("py", "/env/req.txt", wheelhouse="/wheelhouse")[-7:] == [
        "--no-index", "--only-binary", ":all:", "--find-links", "/wheelhouse", "-r", "/env/req.txt"]


def test_wheelhouse_failure_is_reported_not_raised(tmp_path):
    # An invalid requirement fails inside pip before any network access.
    result = prepare_wheelhouse(["not a valid requirement !!"], tmp_path / "wh")
    assert not result.ok and "ERROR" in result.output
    assert not list(Path(tmp_path / "wh").glob(".deepcode-wheelhouse-*"))


async def test_output_lines_stream_while_the_command_runs_and_are_scrubbed(tmp_path, monkeypatch):
    import sys
    import time as _time

    monkeypatch.setenv("SOME_SERVICE_TOKEN", "tok-secret-123456")
    seen: list[tuple[float, str, str]] = []

    async def on_output(stream: str, line: str) -> None:
        seen.append((_time.monotonic(), stream, line))

    code = ("import sys, time\nprint('first', flush=True)\ntime.sleep(1.0)\n"
            "print('tok-secret-123456', file=sys.stderr, flush=True)\nprint('last', end='')\n")
    start = _time.monotonic()
    result = await SubprocessBackend(allow_weak=True).run(
        [sys.executable, "-c", code], repo=tmp_path, timeout_s=30, on_output=on_output)
    end = _time.monotonic()
    assert result.ok
    assert [(s, line) for _, s, line in seen] == [("stdout", "first"), ("stderr", "[redacted]"), ("stdout", "last")]
    assert seen[0][0] - start < end - start - 0.5, "the first line arrived only when the command ended"
