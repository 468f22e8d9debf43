"""Trace analysis on output produced for real by running small repos on the
host (python, pytest, argparse, the watchdog), plus pip's error formats."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from deepcode_tui.verify.execution import WATCHDOG_SOURCE
from deepcode_tui.verify.findings import Kind
from deepcode_tui.verify.trace_tools import _is_declared
from deepcode_tui.verify.traces import TraceContext, parse_output

PKG = {
    "pkg/__init__.py": "",
    "pkg/util.py": "def helper(x, y):\n    return x + y\n",
    "pkg/mod.py": "from pkg.util import helper\n\n\ndef add(a, b):\n    return helper(a) + b\n",
}


def run(repo: Path, *argv: str, timeout: float = 60, env: dict | None = None) -> tuple[str, int]:
    if env is None:
        # The project's own pytest plugins (textual snapshots, hypothesis...) only slow the inner runs.
        env = {**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1", "PYTHONDONTWRITEBYTECODE": "1"}
    proc = subprocess.run([sys.executable, *argv], cwd=repo, capture_output=True, text=True, timeout=timeout,
                          env=env)
    return proc.stdout + proc.stderr, proc.returncode


def ctx_for(repo: Path, *command: str) -> TraceContext:
    return TraceContext(repo=repo, inside_roots=(str(repo),), command=list(command))


@pytest.mark.parametrize("tb", ["short", "long", "auto", "native"])
def test_pytest_wrong_arity_located_at_call_with_callee_related(make_repo, tb):
    repo = make_repo({**PKG, "tests/test_mod.py": "from pkg.mod import add\n\n\ndef test_add():\n"
                                                   "    assert add(1, 2) == 3\n"})
    out, code = run(repo, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--tb={tb}", "tests")
    assert code == 1
    findings = parse_output(out, ctx_for(repo), exit_code=code)
    top = findings[0]
    assert (top.file, top.line, top.kind) == ("pkg/mod.py", 5, Kind.EXCEPTION)
    assert "missing 1 required positional argument" in top.message
    assert "pkg/util.py" in top.related and "tests/test_mod.py" in top.related


def test_pytest_assertion_in_test_is_a_test_failure(make_repo):
    repo = make_repo({"calc.py": "def inc(x):\n    return x + 2\n",
                      "tests/test_calc.py": "from calc import inc\n\n\ndef test_inc():\n    assert inc(1) == 2\n"})
    out, code = run(repo, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--tb=short")
    [f] = parse_output(out, ctx_for(repo), exit_code=code)
    assert (f.file, f.line, f.kind) == ("tests/test_calc.py", 5, Kind.TEST_FAILURE)
    assert "test_inc" in f.message


def test_pytest_collection_errors_import_and_syntax(make_repo):
    repo = make_repo({**PKG, "pkg/bad.py": "def f(:\n    pass\n",
                      "tests/test_a.py": "from pkg.util import helpr\n\n\ndef test_a():\n    pass\n",
                      "tests/test_b.py": "import pkg.bad\n\n\ndef test_b():\n    pass\n"})
    out, code = run(repo, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--tb=short")
    found = {(f.file, f.line, f.kind) for f in parse_output(out, ctx_for(repo), exit_code=code)}
    assert ("tests/test_a.py", 1, Kind.IMPORT_ERROR) in found
    assert ("pkg/bad.py", 1, Kind.SYNTAX_ERROR) in found


def test_pytest_summary_only_falls_back_to_test_definition(make_repo):
    repo = make_repo({"tests/test_x.py": "\n\ndef test_x():\n    assert 1 == 2\n"})
    out, code = run(repo, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--tb=no", "-rf")
    [f] = parse_output(out, ctx_for(repo), exit_code=code)
    assert (f.file, f.line) == ("tests/test_x.py", 3)


def test_plain_traceback_innermost_repo_frame_and_sandbox_paths(make_repo):
    repo = make_repo({**PKG, "main.py": "import json\nfrom pkg.mod import add\n\njson.loads('{')\n"})
    out, code = run(repo, "main.py")
    # As printed inside a sandbox where the repo is mounted at /work.
    sandboxed = out.replace(str(repo), "/work")
    [f] = parse_output(sandboxed, TraceContext(repo=repo), exit_code=code)
    assert (f.file, f.line) == ("main.py", 4)  # json's own frames are outside the repo
    assert f.message.startswith("JSONDecodeError") or "JSONDecodeError" in f.message


def test_module_not_found_is_missing_dependency_or_bad_local_import(make_repo):
    repo = make_repo({**PKG, "a.py": "import yaml_not_installed_xyz\n", "b.py": "import pkg.nothere\n"})
    out, code = run(repo, "a.py")
    [f] = parse_output(out, ctx_for(repo), exit_code=code)
    assert (f.file, f.line, f.kind) == ("a.py", 1, Kind.MISSING_DEPENDENCY)
    out, code = run(repo, "b.py")
    [f] = parse_output(out, ctx_for(repo), exit_code=code)
    assert (f.file, f.line, f.kind) == ("b.py", 1, Kind.IMPORT_ERROR)


def test_script_syntax_error_without_traceback_header(make_repo):
    repo = make_repo({"s.py": "x = 1\ny = (\n"})
    out, code = run(repo, "s.py")
    [f] = parse_output(out, ctx_for(repo), exit_code=code)
    assert (f.file, f.line, f.kind) == ("s.py", 2, Kind.SYNTAX_ERROR)


CLI = """import argparse


def main(argv=None):
    p = argparse.ArgumentParser(prog="tool")
    p.add_argument("--count", type=int, default=1)
    p.add_argument("name")
    args = p.parse_args(argv)
    print(args.name * args.count)


if __name__ == "__main__":
    main()
"""


def test_argparse_unrecognized_flag_located_at_use_and_closest_declaration(make_repo):
    repo = make_repo({"cli.py": CLI, "run.sh": "python cli.py --cuont 3 bob\n"})
    out, code = run(repo, "cli.py", "--cuont", "3", "bob")
    assert code == 2
    found = {(f.file, f.line) for f in parse_output(out, ctx_for(repo, "bash", "run.sh"), exit_code=code)}
    assert ("cli.py", 6) in found  # the declared --count
    assert ("run.sh", 1) in found  # where --cuont is passed


def test_argparse_missing_positional_and_bad_value(make_repo):
    repo = make_repo({"cli.py": CLI})
    out, code = run(repo, "cli.py")
    found = {(f.file, f.line, f.kind) for f in parse_output(out, ctx_for(repo), exit_code=code)}
    assert ("cli.py", 7, Kind.CLI_USAGE) in found
    out, code = run(repo, "cli.py", "--count", "many", "bob")
    found = {(f.file, f.line) for f in parse_output(out, ctx_for(repo), exit_code=code)}
    assert ("cli.py", 6) in found


def test_watchdog_dump_locates_the_infinite_loop(make_repo, tmp_path):
    repo = make_repo({"spin.py": "import time\n\n\ndef spin():\n    while True:\n        time.sleep(0.01)\n\n\nspin()\n"})
    helpers = tmp_path / "helpers"
    helpers.mkdir()
    (helpers / "sitecustomize.py").write_text(WATCHDOG_SOURCE)
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(helpers), "DEEPCODE_WATCHDOG_S": "1"}
    out, code = run(repo, "spin.py", env=env, timeout=30)
    assert "Timeout (" in out
    [f] = parse_output(out, ctx_for(repo), exit_code=code)
    assert (f.file, f.line, f.kind) == ("spin.py", 6, Kind.TIMEOUT)
    assert "spin.py" not in f.related or f.related == ("spin.py",)


def test_timeout_and_kill_without_output_still_yield_findings():
    ctx = TraceContext(command=["python", "x.py"], timeout_s=5)
    [f] = parse_output("", ctx, exit_code=-9, timed_out=True)
    assert f.kind == Kind.TIMEOUT and "5 s" in f.message and f.file is None
    [f] = parse_output("", ctx, exit_code=137, killed_reason="killed by SIGKILL (memory limit)")
    assert f.kind == Kind.KILLED and "memory" in f.message
    [f] = parse_output("something odd\n", ctx, exit_code=3)
    assert f.kind == Kind.COMMAND_FAILED and "something odd" in f.message


PIP_NOT_FOUND = """\
Collecting numpy>=1.20
  Using cached numpy-1.26.4-cp311-cp311-manylinux_2_17_x86_64.whl
ERROR: Could not find a version that satisfies the requirement scikit-lern>=1.0 (from versions: none)
ERROR: No matching distribution found for scikit-lern>=1.0
"""

PIP_CONFLICT = """\
ERROR: Cannot install foo==1.0 and bar==2.0 because these package versions have conflicting dependencies.

The conflict is caused by:
    The user requested foo==1.0
    bar 2.0 depends on foo>=2

To fix this you could try to:
ERROR: ResolutionImpossible: for help visit https://pip.pypa.io/en/latest/topics/dependency-resolution/
"""


def test_pip_errors_located_at_manifest_lines(make_repo):
    repo = make_repo({"requirements.txt": "numpy>=1.20\nscikit-lern>=1.0  # typo\nfoo==1.0\nbar==2.0\n"})
    [f] = parse_output(PIP_NOT_FOUND, ctx_for(repo), exit_code=1)
    assert (f.file, f.line, f.kind) == ("requirements.txt", 2, Kind.PIP_ERROR)
    found = {(f.file, f.line) for f in parse_output(PIP_CONFLICT, ctx_for(repo), exit_code=1)}
    assert {("requirements.txt", 3), ("requirements.txt", 4)} <= found


def test_vendored_frames_are_not_blamed(make_repo):
    repo = make_repo({"a.py": "x = 1\n", ".venv-sandbox/lib/site.py": "y = 2\n"})
    text = ('Traceback (most recent call last):\n  File "/work/a.py", line 1, in <module>\n    x = 1\n'
            '  File "/work/.venv-sandbox/lib/site.py", line 1, in f\n    y = 2\nValueError: boom\n')
    [f] = parse_output(text, TraceContext(repo=repo), exit_code=1)
    assert (f.file, f.line) == ("a.py", 1)


CLI_TESTS = """import pytest

from cli import main


def test_help():
    with pytest.raises(SystemExit) as exc:
        main(["--hlep"])
    assert exc.value.code == 0


def test_defaults():
    with pytest.raises(SystemExit) as exc:
        main([])
    assert exc.value.code == 0


def test_count():
    main(["--count", "many", "bob"])
"""


def test_argparse_error_in_a_test_located_at_the_tests_invocation(make_repo):
    repo = make_repo({"cli.py": CLI, "tests/test_cli.py": CLI_TESTS})
    out, code = run(repo, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--tb=short", "tests")
    assert code == 1 and "3 failed" in out
    found = parse_output(out, ctx_for(repo), exit_code=code)
    by = {(f.file, f.line): f for f in found if f.kind == Kind.CLI_USAGE}
    # argparse names the missing positional first; the undeclared --hlep is what the test got wrong.
    assert "--hlep" in by[("tests/test_cli.py", 8)].message
    assert ("cli.py", 7) in by  # the positional's declaration
    # No option is wrong in main([]): the invocation itself is named.
    assert "invokes the CLI here" in by[("tests/test_cli.py", 14)].message
    # A bad value: its declaration and its use.
    assert ("cli.py", 6) in by and ("tests/test_cli.py", 19) in by


def test_argparse_option_acceptance_rules():
    declared = {"--count", "-c", "--verbose", "--version"}
    assert _is_declared("--count=3", declared) and _is_declared("--cou", declared)  # unambiguous prefix
    assert _is_declared("-c3", declared) and _is_declared("--help", declared)
    assert not _is_declared("--ver", declared)  # ambiguous: --verbose / --version
    assert not _is_declared("--hlep", declared) and not _is_declared("-x", declared)


def test_a_misspelt_declaration_is_not_blamed_on_the_tests_that_use_the_flag(make_repo):
    cli = CLI.replace('"--count"', '"--cuont"').replace("args.count", "args.count if hasattr(args, 'count') else 1")
    tests = ("from cli import main\n\n\ndef test_count():\n    main([\"--count\", \"2\", \"x\"])\n")
    repo = make_repo({"cli.py": cli, "tests/test_cli.py": tests})
    out, code = run(repo, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--tb=short")
    found = {(f.file, f.line) for f in parse_output(out, ctx_for(repo), exit_code=code)}
    # The declaration is the odd spelling (the code reads args.count): only it is located.
    assert ("cli.py", 6) in found
    assert not any(f == "tests/test_cli.py" for f, _line in found)
    # The other way round (the test misspells a flag the code uses) keeps the test's line.
    repo = make_repo({"cli.py": CLI, "tests/test_cli.py": tests.replace("--count", "--cuont")}, name="repo2")
    out, code = run(repo, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--tb=short")
    found = {(f.file, f.line) for f in parse_output(out, ctx_for(repo), exit_code=code)}
    assert ("tests/test_cli.py", 5) in found
