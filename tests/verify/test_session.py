"""Dependencies installed inside a network-less sandbox from a host-side
wheelhouse, then pytest failures located through the sandbox's /work mount."""

from __future__ import annotations

import pytest

from deepcode_tui.verify.execution import PYTEST_ARGV, SandboxSession, VerifyCommand
from deepcode_tui.verify.findings import Kind

pytestmark = pytest.mark.sandbox


async def test_offline_install_from_wheelhouse_then_pytest_findings(podman_backend, make_repo, tmp_path):
    repo = make_repo({
        "requirements.txt": "iniconfig\n",
        "pkg/__init__.py": "",
        "pkg/util.py": "def helper(x, y):\n    return x + y\n",
        "pkg/mod.py": "import iniconfig\nfrom pkg.util import helper\n\n\ndef add(a, b):\n    return helper(a) + b\n",
        "tests/test_mod.py": "from pkg.mod import add\n\n\ndef test_add():\n    assert add(1, 2) == 3\n",
    })
    session = SandboxSession(podman_backend, repo, tmp_path / "work", wheelhouse_from_installed=True)
    cmd = VerifyCommand(name="tests", argv=list(PYTEST_ARGV), timeout_s=60)
    setup = await session.prepare([cmd])
    assert setup is not None and setup.ok, setup.result.combined_output()
    assert await session.prepare([cmd]) is None  # same requirements: nothing to do
    outcome = await session.run(cmd)
    assert outcome.result.exit_code == 1 and outcome.result.backend == "podman"
    [f] = outcome.findings
    assert (f.file, f.line, f.kind) == ("pkg/mod.py", 6, Kind.EXCEPTION)
    assert "pkg/util.py" in f.related
    # The repo stays clean: no venv, bytecode or pytest cache inside it.
    assert sorted(p.name for p in repo.iterdir()) == ["pkg", "requirements.txt", "tests"]
    assert not list(repo.rglob("__pycache__"))
