"""Eligible files and the per-leaf token budget, on a repository built to be awkward."""

from __future__ import annotations

import json
import os

from deepcode_tui.grade.files import READ_BYTES, Submission
from deepcode_tui.grade.rubric import code_only
from deepcode_tui.tokens import count_tokens
from tests.grade.helpers import judge_settings, run_grade, small_repo, small_rubric, verdict


def awkward_repo(root):
    repo = small_repo(root)
    (repo / "weights.bin").write_bytes(os.urandom(2048))
    (repo / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n" + os.urandom(512))
    (repo / "fake.py").write_bytes(b"import os\x00\x01\x02 binary in disguise")
    (repo / "latin1.txt").write_bytes("caf\xe9".encode("latin-1") * 10)
    (repo / "analysis.ipynb").write_text(json.dumps({"cells": [], "nbformat": 4}))
    # 5 MB of code: eligible, but read only up to READ_BYTES.
    line = "def ema_update(mean, x, alpha):  # exponential moving average of the mean\n"
    (repo / "big.py").write_text(line * (5 * 1024 * 1024 // len(line) + 1))
    (repo / ".venv" / "lib").mkdir(parents=True)
    (repo / ".venv" / "lib" / "site.py").write_text("print('not the submission')\n")
    (repo / "node_modules").mkdir()
    (repo / "node_modules" / "x.js").write_text("module.exports = 1\n")
    (repo / "secret.py").symlink_to("/etc/passwd")
    os.mkfifo(repo / "pipe.py")  # opening it for reading would block forever
    return repo


def test_only_readable_text_documents_and_code_are_eligible(tmp_path) -> None:
    sub = Submission(awkward_repo(tmp_path / "repo"))
    paths = {f.path for f in sub.eligible("Code Development")}
    assert paths == {"README.md", "emaz/detector.py", "emaz/evaluate.py", "big.py"}
    skipped = {s.path: s.reason for s in sub.skipped}
    assert skipped["fake.py"] == "binary" and "not UTF-8" in skipped["latin1.txt"]
    assert "symlink" in skipped["secret.py"] and skipped["pipe.py"] == "not a regular file"
    assert "not a document or code file" in skipped["analysis.ipynb"] and "weights.bin" in skipped
    assert not any(p.startswith((".venv", "node_modules")) for p in paths | set(skipped))
    big = next(f for f in sub.files if f.path == "big.py")
    assert big.truncated and len(big.text.encode()) <= READ_BYTES and big.size > 5_000_000


def test_ranking_puts_the_relevant_file_first_and_is_stable(tmp_path) -> None:
    sub = Submission(small_repo(tmp_path / "repo"))
    files = sub.eligible("Code Development")
    ranked = sub.rank("F1 score of the evaluation", files)
    assert ranked[0].path == "emaz/evaluate.py"
    assert [f.path for f in sub.rank("F1 score of the evaluation", files)] == [f.path for f in ranked]
    assert sub.rank("z-score variance", files)[0].path == "emaz/detector.py"


def test_every_leaf_prompt_stays_within_its_budget(tmp_path) -> None:
    sizes = []

    def respond(request):
        sizes.append(sum(count_tokens(str(m.get("content") or "")) for m in request.messages))
        return verdict(1)

    settings = judge_settings(respond, tmp_path)
    repo = awkward_repo(tmp_path / "repo")
    budget = 6000
    result = run_grade(settings, repo, code_only(small_rubric()), tmp_path / "out", code_only=True, leaf_tokens=budget)
    assert len(sizes) == 2 and max(sizes) <= budget
    for leaf in result.tree.leaves():
        meta = leaf.judge_metadata
        assert meta["prompt_tokens_sent"] <= budget
        read = meta["files_read"]
        assert sum(f["tokens"] for f in read) <= meta["files_budget_tokens"]
        assert {f["path"] for f in read} <= {"README.md", "emaz/detector.py", "emaz/evaluate.py", "big.py"}
        # big.py cannot fit: it is read only as far as the budget allows, and reading stops there.
        if any(f["path"] == "big.py" for f in read):
            assert read[-1]["path"] == "big.py" and read[-1]["truncated"]


def test_results_leaves_see_docs_and_tables_written_by_the_reproduction(tmp_path) -> None:
    repo = small_repo(tmp_path / "repo")
    (repo / "old.csv").write_text("a\n1\n")
    os.utime(repo / "old.csv", (1_000_000, 1_000_000))
    (repo / "reproduce.log").write_text("ran\n")
    since = (repo / "reproduce.log").stat().st_mtime
    (repo / "new.csv").write_text("f1\n0.8\n")
    os.utime(repo / "new.csv", (since + 5, since + 5))
    sub = Submission(repo)
    paths = {f.path for f in sub.eligible("Result Analysis", results_since=since)}
    assert paths == {"README.md", "new.csv"}
