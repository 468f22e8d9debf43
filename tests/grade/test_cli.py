"""The grade command's front door: --check, and bad input as one clear line."""

from __future__ import annotations

import pytest

from deepcode_tui import cli as cli_module
from tests.grade.helpers import small_repo


def _run(args, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli_module.main(args)
    out = capsys.readouterr()
    return exit_info.value.code, out.out, out.err


def test_check_prints_one_line_findings_and_fails_on_errors(tmp_path, capsys) -> None:
    repo = small_repo(tmp_path / "repo")
    code, out, _ = _run(["grade", str(repo), "--rubric", "x.json", "--check"], capsys)
    assert code == 1
    assert "ok: readme: README.md is present" in out and "error: reproduce.sh" in out
    code, out, _ = _run(["grade", str(repo), "--rubric", "x.json", "--check", "--code-only"], capsys)
    assert code == 0 and "warning: reproduce.sh" in out


@pytest.mark.parametrize(
    "setup, expected",
    [
        ("missing-rubric", "rubric"),
        ("bad-rubric", "not valid JSON"),
        ("no-paper", "no paper to grade against"),
        ("bad-target", "not a valid run id"),
    ],
)
def test_bad_input_is_one_line_with_a_fix(tmp_path, capsys, setup, expected) -> None:
    repo = small_repo(tmp_path / "repo")
    rubric = tmp_path / "rubric.json"
    rubric.write_text('{"id": "r", "requirements": "R", "weight": 1, "sub_tasks": [], "task_category": "Code Development"}')
    target = str(repo)
    if setup == "missing-rubric":
        rubric = tmp_path / "nope.json"
    elif setup == "bad-rubric":
        rubric.write_text("{")
    elif setup == "bad-target":
        target = "not/a/run"
    code, _, err = _run(["grade", target, "--rubric", str(rubric), "--runs-dir", str(tmp_path / "runs")], capsys)
    assert code == 2
    assert expected in err and "fix:" in err and "Traceback" not in err
    assert not (tmp_path / "repo.grade").exists() or setup == "no-paper"
