"""The generated README gets its verification results after verification, once."""

from __future__ import annotations

import os

from deepcode_tui.pipeline.report import RunReport
from deepcode_tui.pipeline.submission_results import BEGIN, update_readme


def _report(status: str, passed: int) -> RunReport:
    return RunReport(run_id="r", status=status, repo_dir="/x", tests_passed=passed, tests_failed=0,
                     sandbox_runs=[{"command": "python -m pytest -q", "exit_code": 1, "seconds": 1.0, "iteration": 1},
                                   {"command": "python -m pytest -q", "exit_code": 0, "seconds": 0.5, "iteration": 2},
                                   {"command": "env REPRODUCE_QUICK=1 bash reproduce.sh", "exit_code": 0,
                                    "seconds": 2.0, "iteration": 2}])


def test_results_are_added_then_replaced_not_repeated(tmp_path):
    (tmp_path / "README.md").write_text("# Project\n\nWhat it does.\n")
    assert update_readme(tmp_path, _report("failed", 3))
    assert update_readme(tmp_path, _report("passed", 5))
    text = (tmp_path / "README.md").read_text()
    assert text.startswith("# Project\n\nWhat it does.\n") and text.count(BEGIN) == 1
    assert "Status: **passed**" in text and "5 passed" in text and "3 passed" not in text
    assert "| `env REPRODUCE_QUICK=1 bash reproduce.sh` | 0 | 2.0 |" in text and "| 1 |" not in text


def test_a_planted_readme_link_is_not_followed(tmp_path):
    outside = tmp_path / "outside.md"
    outside.write_text("host file\n")
    repo = tmp_path / "repo"
    repo.mkdir()
    os.symlink(outside, repo / "README.md")
    assert not update_readme(repo, _report("passed", 1))
    assert outside.read_text() == "host file\n"
    assert not update_readme(tmp_path / "empty", _report("passed", 1))
