"""Running a repo's verification commands in a sandbox.

A :class:`SandboxSession` prepares the environment once per requirement set
(a venv under a per-backend env directory mounted at /env, dependencies
installed from a host-side wheelhouse with ``--no-index`` when the network
is off), then runs each command with a watchdog: a ``sitecustomize`` that
makes Python dump its stack shortly before the deadline, so a timeout is
reported at the line that was looping. The repo itself stays clean (no venv,
no bytecode, no pytest cache inside it).
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from deepcode_tui import safe_fs

from . import mutation
from .findings import Finding, Kind
from .localise import PLUGIN_SOURCE, guard_tests, rank, ranked_suspects, read_repo_file
from .localise_evidence import combine, failing_test_file, gather, localisable
from .manifest import python_files
from .patches import write_atomic
from .sandbox.base import Limits, Mount, SandboxBackend, SandboxResult
from .requirements import FIX as REQ_FIX
from .requirements import check_line, read_requirements
from .sandbox.wheelhouse import install_argv, prepare_wheelhouse, requirements_key
from .trace_context import TraceContext
from .trace_tools import parse_pip
from .traces import findings_from_result

# Written into the helpers directory at run time (not imported by this package).
WATCHDOG_SOURCE = '''\
"""deepcode-tui sandbox watchdog: dump every thread's stack shortly before the
sandbox's hard deadline so a timeout can be located at the looping line."""
import os as _os

_t = _os.environ.get("DEEPCODE_WATCHDOG_S")
if _t:
    try:
        import faulthandler as _fh
        _fh.dump_traceback_later(float(_t), exit=True)
    except Exception:
        pass
'''

# Reports the sandboxed helpers write for the host (spectra, mutant results): read
# through safe_fs, bounded, since the code under test can overwrite them.
REPORT_MAX_BYTES = 32 * 1024 * 1024

PYTEST_ARGV = ["python", "-m", "pytest", "-q", "--tb=short", "-rfE", "--color=no"]


class VerifyCommand(BaseModel):
    """One command the blueprint (or discovery) says proves the repo works."""

    name: str
    argv: list[str]
    timeout_s: float = Field(120, gt=0)
    kind: Literal["test", "smoke", "setup", "other"] = "test"


class CommandOutcome(BaseModel):
    command: VerifyCommand
    result: SandboxResult
    findings: list[Finding] = Field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.result.ok


def has_tests(repo: Path) -> bool:
    """Whether the repo has pytest-discoverable test files."""
    for p in python_files(repo):
        if p.name.startswith("test_") or p.name.endswith("_test.py"):
            return True
    return False


def discover_commands(repo: Path, *, timeout_s: float = 120) -> list[VerifyCommand]:
    """Commands for a repo whose blueprint named none: its tests, and a ``--help``
    smoke run of each argparse entry point (a script or a package's ``__main__``)."""
    cmds: list[VerifyCommand] = []
    if has_tests(repo):
        cmds.append(VerifyCommand(name="tests", argv=list(PYTEST_ARGV), timeout_s=timeout_s, kind="test"))
    for p in python_files(repo):
        rel = p.relative_to(repo)
        if rel.parts[0] in ("tests", "test") or p.name.startswith("test_"):
            continue
        text = safe_fs.read_text_or_empty(repo, rel)
        if "argparse" not in text and "click" not in text:
            continue
        if p.name == "__main__.py" and len(rel.parts) >= 2:
            module = ".".join(rel.parts[:-1])
            cmds.append(VerifyCommand(name=f"smoke {module}", argv=["python", "-m", module, "--help"],
                                      timeout_s=min(timeout_s, 60), kind="smoke"))
        elif re.search(r"""^if __name__ == ['"]__main__['"]""", text, re.M):
            cmds.append(VerifyCommand(name=f"smoke {rel.as_posix()}", argv=["python", rel.as_posix(), "--help"],
                                      timeout_s=min(timeout_s, 60), kind="smoke"))
    return cmds


def repo_requirements(repo: Path) -> list[str]:
    """Requirement lines the sandbox must install (see :func:`.requirements.read_requirements`;
    refused lines are left out here and reported by :meth:`SandboxSession.prepare`)."""
    return read_requirements(repo).lines


def artefact_findings(result: SandboxResult) -> list[Finding]:
    """Warnings for what the host removed or neutralised after a run (see
    :mod:`.sandbox.sweep`): the repairer learns that a symlink out of the repo or a
    setuid file is not kept, and the user sees it in the report."""
    out = []
    for note in result.artefacts[:20]:
        rel = note.split(" ", 1)[1].split(" (", 1)[0] if note.startswith("removed ") else None
        out.append(Finding(file=rel if rel and "/" not in rel[:1] else None, kind=Kind.SANDBOX_ARTEFACT,
                           stage="sandbox", severity="warning",
                           message=f"the host {note} after the command ran (generated code may not leave "
                                   "symlinks out of the repository, special files or setuid bits)"))
    return out


def _touch(path: Path) -> None:
    """Create ``path`` as an empty regular file, never through a symlink the sandbox planted."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    os.close(fd)


class SandboxSession:
    """Runs verification commands for one repo on one backend.

    ``work_dir`` (host) holds the env, wheelhouse and helper directories; it
    may be shared between runs of the same repo (installs are keyed by the
    requirement set).
    """

    def __init__(
        self,
        backend: SandboxBackend,
        repo: Path,
        work_dir: Path,
        *,
        limits: Limits | None = None,
        network: bool = False,
        requirements: Sequence[str] | None = None,
        setup_timeout_s: float = 900,
        wheelhouse_dir: Path | None = None,
        wheelhouse_from_installed: bool = False,
        confirm_by_mutation: bool = True,
        mutation_budget_s: float = 90,
    ) -> None:
        self.backend = backend
        self.repo = Path(repo).resolve()
        self.work_dir = Path(work_dir)
        self.limits = limits or Limits()
        self.network = network
        self.requirements = list(requirements) if requirements is not None else None
        self.setup_timeout_s = setup_timeout_s
        self.env_dir = self.work_dir / f"env-{backend.name}"
        self.wheelhouse = wheelhouse_dir or self.work_dir / "wheelhouse"
        self.helpers = self.work_dir / "helpers"
        self.mounts = [
            Mount(source=self.env_dir, target="/env", read_only=False),
            Mount(source=self.wheelhouse, target="/wheelhouse", read_only=True),
            Mount(source=self.helpers, target="/opt/deepcode", read_only=True),
        ]
        self.wheelhouse_from_installed = wheelhouse_from_installed
        # Mutation analysis confirms a suspect line when the spectrum ties (see .mutation).
        self.confirm_by_mutation = confirm_by_mutation
        self.mutation_budget_s = mutation_budget_s
        self._prepared_key: str | None = None
        self._traced_s = 0.0  # how long the last traced (spectrum) run took

    # -- paths inside the sandbox ------------------------------------------------------------
    def _inside(self, target: str) -> str:
        return next(self.backend.inside_path(m) for m in self.mounts if m.target == target)

    @property
    def python(self) -> str:
        return f"{self._inside('/env')}/venv/bin/python"

    def _env(self, timeout_s: float) -> dict[str, str]:
        repo_in = self.backend.repo_path(self.repo)
        pythonpath = [self._inside("/opt/deepcode"), repo_in]
        if (self.repo / "src").is_dir():
            pythonpath.append(f"{repo_in}/src")
        soft = max(1.0, timeout_s - max(2.0, 0.1 * timeout_s))
        return {
            "PATH": f"{self._inside('/env')}/venv/bin:/usr/local/bin:/usr/bin:/bin",
            "PYTHONPATH": ":".join(pythonpath),
            "DEEPCODE_WATCHDOG_S": f"{soft:.1f}",
            "PYTEST_ADDOPTS": "-p no:cacheprovider",
            "MPLBACKEND": "Agg",
        }

    def _ctx(self, argv: Sequence[str], timeout_s: float) -> TraceContext:
        return TraceContext(repo=self.repo, inside_roots=(self.backend.repo_path(self.repo), "/work"),
                            command=list(argv), timeout_s=timeout_s)

    # -- environment -------------------------------------------------------------------------
    def _all_requirements(self, commands: Sequence[VerifyCommand]) -> tuple[list[str], list[Finding]]:
        """The requirement lines to install, and the lines refused as unsafe (findings)."""
        if self.requirements is not None:
            reqs, refused = [], []
            for r in self.requirements:
                norm, why = check_line(r)
                if norm is None:
                    refused.append(Finding(kind=Kind.UNSAFE_REQUIREMENT, stage="static",
                                           message=f"requirement refused: {r[:120]!r}: {why}; {REQ_FIX}"))
                else:
                    reqs.append(norm)
        else:
            found = read_requirements(self.repo)
            reqs, refused = found.lines, found.refused
        uses_pytest = any("pytest" in " ".join(c.argv) for c in commands)
        if uses_pytest and not any(re.match(r"pytest\b", r) for r in reqs):
            reqs.append("pytest")
        return reqs, refused

    async def prepare(self, commands: Sequence[VerifyCommand] = ()) -> CommandOutcome | None:
        """Create the venv and install dependencies (once per requirement set).
        Returns the setup outcome when work was done, None when already prepared."""
        self.helpers.mkdir(parents=True, exist_ok=True)
        for name, source in (("sitecustomize.py", WATCHDOG_SOURCE), ("deepcode_sbfl.py", PLUGIN_SOURCE),
                             ("deepcode_mutate.py", mutation.PLUGIN_SOURCE),
                             ("deepcode_mutants.py", mutation.DRIVER_SOURCE)):
            target = self.helpers / name
            if not target.exists() or target.read_text() != source:
                write_atomic(target, source)
        self.env_dir.mkdir(parents=True, exist_ok=True)
        self.wheelhouse.mkdir(parents=True, exist_ok=True)
        reqs, refused = self._all_requirements(commands)
        setup = VerifyCommand(name="install dependencies", argv=["pip", "install"], kind="setup",
                              timeout_s=self.setup_timeout_s)
        if refused:
            # Nothing is fetched or installed for a manifest with a line pip could build or follow.
            result = SandboxResult(exit_code=1, backend="host requirement check", command=["pip", "download"],
                                   stderr="\n".join(f.message for f in refused))
            return CommandOutcome(command=setup, result=result, findings=refused)
        key = hashlib.sha256((requirements_key(reqs) + self.backend.name).encode()).hexdigest()[:16]
        stamp = self.env_dir / f".deepcode-env-{key}"
        if safe_fs.is_regular_file(stamp):
            self._prepared_key = key
            return None
        ctx = self._ctx(setup.argv, self.setup_timeout_s)
        if not self.network and reqs:
            wh = await asyncio.to_thread(prepare_wheelhouse, reqs, self.wheelhouse, timeout_s=self.setup_timeout_s,
                                           from_installed=self.wheelhouse_from_installed)
            if not wh.ok:
                result = SandboxResult(exit_code=1, stderr=wh.output, backend="host pip download",
                                       command=["pip", "download", *reqs])
                findings = parse_pip(wh.output, ctx) or [Finding(
                    kind=Kind.PIP_ERROR, stage="sandbox",
                    message="pip download failed: " + "\n".join(wh.output.strip().splitlines()[-3:]))]
                return CommandOutcome(command=setup, result=result, findings=findings)
        write_atomic(self.env_dir / "requirements.txt", "\n".join(reqs) + "\n")
        for old in self.env_dir.glob(".deepcode-env-*"):
            old.unlink()
        venv = f"{self._inside('/env')}/venv"
        install = install_argv(self.python, f"{self._inside('/env')}/requirements.txt",
                               wheelhouse=None if self.network else self._inside("/wheelhouse"))
        script = f"rm -rf {venv} && python3 -m venv {'' if reqs else '--without-pip '}{venv}"
        if reqs:
            script += " && " + " ".join(install)
        argv = ["/bin/sh", "-c", script]
        result = await self.backend.run(
            argv, repo=self.repo, timeout_s=self.setup_timeout_s, network=self.network,
            env={"HOME": "/tmp"}, limits=self.limits.model_copy(update={"pids": max(self.limits.pids, 256)}),
            mounts=self.mounts,
        )
        findings = (findings_from_result(result, ctx) if not result.ok else []) + artefact_findings(result)
        if result.ok:
            _touch(stamp)
            self._prepared_key = key
        return CommandOutcome(command=setup, result=result, findings=findings)

    async def run(self, command: VerifyCommand, *, on_output=None) -> CommandOutcome:
        """Run one verification command; findings located from its output.
        ``on_output(stream, line)`` receives the output live (see SandboxBackend.run)."""
        argv = list(command.argv)
        if argv and argv[0] in ("python", "python3"):
            argv[0] = self.python
        result = await self.backend.run(
            argv, repo=self.repo, timeout_s=command.timeout_s, network=self.network,
            env=self._env(command.timeout_s), limits=self.limits, mounts=self.mounts, on_output=on_output,
        )
        # A passing run may print handled tracebacks; only a failing one is analysed.
        findings = [] if result.ok else findings_from_result(result, self._ctx(command.argv, command.timeout_s))
        return CommandOutcome(command=command, result=result, findings=findings + artefact_findings(result))

    async def localise(self, outcome: CommandOutcome) -> list[Finding]:
        """Suspect lines for pytest failures whose traceback does not name the
        fault itself: assertion failures in a test, and exceptions raised where
        a wrong value ended up rather than where it was made (see
        :mod:`.localise_evidence`); [] when not applicable.

        The spectra come from the tests the command selected (its test paths, or
        pytest's own discovery): passing tests from other files are what tell the
        faulty lines from the rest. If that traced run cannot finish in its budget,
        only the failing test files are traced. The traceback's lines and the data
        they use are ranked with the spectrum; mutation analysis tries the best."""
        targets = localisable(outcome.findings)
        if not targets or "pytest" not in " ".join(outcome.command.argv):
            return []
        evidence = gather(targets, lambda file: read_repo_file(self.repo, file))
        files = list(dict.fromkeys(f for f in map(failing_test_file, targets) if f))
        selection = pytest_paths(outcome.command.argv, self.repo)
        # Tracing slows tests several-fold; the plain run's duration sizes the budget.
        budget = outcome.command.timeout_s * 3
        full_budget = min(budget, max(60.0, 10 * outcome.result.duration_s))
        attempts = [(selection, full_budget)] if not files or sorted(selection) != sorted(files) else []
        if files:
            attempts.append((files, budget))
        for paths, timeout_s in attempts:
            report = await self._trace_tests(paths, timeout_s, outcome.command.timeout_s)
            if report is not None:
                ranked, failing = rank(report, self.repo)
                combined = combine(ranked, evidence)
                confirmed = []
                if self.confirm_by_mutation:
                    confirmed = await self._confirm_by_mutation(combined, failing, outcome, report)
                return confirmed or ranked_suspects(combined, evidence=evidence)
        return ranked_suspects(combine([], evidence), evidence=evidence)

    async def _confirm_by_mutation(self, ranked, failing: Sequence[str], outcome: CommandOutcome,
                                   report: str = "") -> list[Finding]:
        """Lines whose mutant makes the failing tests pass (see :mod:`.mutation`);
        [] when none does or the run cannot be made."""
        if not failing:
            return []
        mutants = mutation.plan_mutants(ranked, lambda file: read_repo_file(self.repo, file))
        if not mutants:
            return []
        results = self.env_dir / "mutants.jsonl"
        results.unlink(missing_ok=True)
        budget = min(self.mutation_budget_s, outcome.command.timeout_s * 2)
        per_mutant = min(outcome.command.timeout_s, max(10.0, 2 * outcome.result.duration_s))
        # The guards are a subset of the traced selection, which ran slower (traced) than they will.
        guard_timeout = min(budget, max(per_mutant, self._traced_s))
        env_in = self._inside("/env")
        write_atomic(self.env_dir / "mutants.json", mutation.driver_spec(
            mutants, failing, python=self.python, root=self.backend.repo_path(self.repo),
            per_mutant_timeout_s=per_mutant, budget_s=budget, out=f"{env_in}/mutants.jsonl",
            guards=guard_tests(report, failing) if report else None, guard_timeout_s=guard_timeout))
        argv = [self.python, f"{self._inside('/opt/deepcode')}/deepcode_mutants.py", f"{env_in}/mutants.json"]
        # The driver keeps its own deadline; the sandbox's is a backstop a little later.
        await self.backend.run(argv, repo=self.repo, timeout_s=budget + 15, network=self.network,
                               env=self._env(budget + 15), limits=self.limits, mounts=self.mounts)
        try:
            lines = safe_fs.read_text(self.env_dir, results.name, max_bytes=REPORT_MAX_BYTES, cut=True)
        except OSError:
            return []
        return mutation.confirmed(mutants, lines, len(failing))

    async def _trace_tests(self, paths: Sequence[str], timeout_s: float, base_timeout_s: float) -> str | None:
        """Run pytest on ``paths`` with the spectrum plugin; its report, or None."""
        report = self.env_dir / "sbfl.json"
        report.unlink(missing_ok=True)
        argv = [self.python, "-m", "pytest", "-q", "--tb=no", "-p", "deepcode_sbfl", *paths]
        env = self._env(timeout_s)
        env.update(DEEPCODE_SBFL_OUT=f"{self._inside('/env')}/sbfl.json",
                   DEEPCODE_SBFL_ROOT=self.backend.repo_path(self.repo))
        result = await self.backend.run(argv, repo=self.repo, timeout_s=timeout_s, network=self.network,
                                        env=env, limits=self.limits, mounts=self.mounts)
        self._traced_s = result.duration_s
        if result.timed_out:
            return None
        try:
            return safe_fs.read_text(self.env_dir, report.name, max_bytes=REPORT_MAX_BYTES)
        except OSError:
            return None


def pytest_paths(argv: Sequence[str], repo: Path) -> list[str]:
    """The test paths a pytest command line selects (arguments naming files or
    directories in ``repo``, node ids cut to their file); [] means pytest's own
    discovery from the repo root."""
    try:
        start = next(i for i, a in enumerate(argv) if a == "pytest" or a.endswith(("/pytest", "pytest.py"))) + 1
    except StopIteration:
        return []
    out: list[str] = []
    for arg in argv[start:]:
        if arg.startswith("-"):
            continue
        path = arg.split("::", 1)[0]
        if path and not path.startswith("/") and ".." not in Path(path).parts and (repo / path).exists():
            out.append(path)
    return list(dict.fromkeys(out))
