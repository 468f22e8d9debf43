from __future__ import annotations

import os

from hypothesis import given, settings
from hypothesis import strategies as st

from deepcode_tui.verify.patches import Edit, FileRewrite, apply_edits, apply_rewrites, unified_diff

SRC = "def add(a, b):\n    return a - b\n\n\ndef sub(a, b):\n    return a - b\n"


def test_exact_edit_applies_and_diff_shows_it(make_repo):
    repo = make_repo({"m.py": "def add(a, b):\n    return a - b\n"})
    res = apply_edits(repo, [Edit(path="m.py", search="return a - b", replace="return a + b")])
    assert [r.how for r in res.results] == ["exact"]
    assert (repo / "m.py").read_text() == "def add(a, b):\n    return a + b\n"
    assert res.changed_files == ["m.py"]
    assert "-    return a - b\n+    return a + b\n" in res.diff
    assert res.diff.startswith("--- a/m.py\n+++ b/m.py\n")


def test_whitespace_tolerant_match_reindents_replacement(make_repo):
    repo = make_repo({"m.py": "class A:\n    def f(self):\n        x = 1   \n        return x\n"})
    # The repairer dropped the indentation and the trailing spaces.
    edit = Edit(path="m.py", search="x = 1\nreturn x", replace="x = 2\nreturn x * 2")
    res = apply_edits(repo, [edit])
    assert res.results[0].how == "whitespace"
    assert (repo / "m.py").read_text() == "class A:\n    def f(self):\n        x = 2\n        return x * 2\n"


def test_ambiguous_and_missing_search_are_rejected_with_reason(make_repo):
    repo = make_repo({"m.py": SRC})
    res = apply_edits(repo, [
        Edit(path="m.py", search="return a - b", replace="return a + b"),
        Edit(path="m.py", search="return a * b", replace="return 0"),
    ])
    assert [r.applied for r in res.results] == [False, False]
    assert "2 times" in res.results[0].reason
    assert "not found" in res.results[1].reason
    assert (repo / "m.py").read_text() == SRC
    assert res.diff == "" and res.changed_files == []


def test_whitespace_ambiguity_is_rejected(make_repo):
    repo = make_repo({"m.py": "if x:\n    y = 1\nif z:\n        y = 1\n"})
    res = apply_edits(repo, [Edit(path="m.py", search="y = 1   ", replace="y = 2")])
    assert not res.results[0].applied and "2 places" in res.results[0].reason


def test_paths_outside_repo_are_rejected(make_repo, tmp_path):
    repo = make_repo({"m.py": "x = 1\n"})
    outside = tmp_path / "outside.py"
    outside.write_text("x = 1\n")
    (repo / "link").symlink_to(tmp_path)
    edits = [
        Edit(path=str(outside), search="x = 1", replace="x = 2"),
        Edit(path="../outside.py", search="x = 1", replace="x = 2"),
        Edit(path="link/outside.py", search="x = 1", replace="x = 2"),
        Edit(path=".git/config", search="", replace="evil"),
    ]
    res = apply_edits(repo, edits)
    assert all(not r.applied for r in res.results)
    reasons = " | ".join(r.reason for r in res.results)
    assert "absolute" in reasons and "leaves the repository" in reasons and "symlink pointing outside" in reasons
    assert ".git" in reasons
    assert outside.read_text() == "x = 1\n"
    assert not (repo / ".git").exists()


def test_create_new_file_only_with_empty_search(make_repo):
    repo = make_repo({"m.py": "x = 1\n"})
    res = apply_edits(repo, [
        Edit(path="pkg/new.py", search="", replace="y = 2\n"),
        Edit(path="m.py", search="", replace="clobber"),
        Edit(path="nope.py", search="x", replace="y"),
    ])
    assert [r.how for r in res.results] == ["create", "rejected", "rejected"]
    assert (repo / "pkg/new.py").read_text() == "y = 2\n"
    assert (repo / "m.py").read_text() == "x = 1\n"
    assert "--- /dev/null" in res.diff


def test_sequential_edits_on_one_file_and_dry_run(make_repo):
    repo = make_repo({"m.py": SRC})
    edits = [
        Edit(path="m.py", search="def add(a, b):\n    return a - b", replace="def add(a, b):\n    return a + b"),
        Edit(path="m.py", search="def add(a, b):\n    return a + b", replace="def add(a, b):\n    return b + a"),
    ]
    dry = apply_edits(repo, edits, dry_run=True)
    assert dry.applied == 2 and "return b + a" in dry.diff
    assert (repo / "m.py").read_text() == SRC
    apply_edits(repo, edits)
    assert "return b + a" in (repo / "m.py").read_text()


def test_rewrites_replace_whole_files_atomically_keeping_mode(make_repo):
    repo = make_repo({"run.sh": "echo hi\n"})
    os.chmod(repo / "run.sh", 0o755)
    res = apply_rewrites(repo, [FileRewrite(path="run.sh", content="echo bye\n"),
                                FileRewrite(path="/etc/passwd", content="x")])
    assert [r.how for r in res.results] == ["rewrite", "rejected"]
    assert (repo / "run.sh").read_text() == "echo bye\n"
    assert os.stat(repo / "run.sh").st_mode & 0o777 == 0o755
    assert not [p for p in repo.iterdir() if p.name.endswith(".tmp")]


def test_unified_diff_roundtrip_marks_missing_newline():
    d = unified_diff("a.txt", "x\n", "x\ny")
    assert d.endswith("+y\n\\ No newline at end of file\n")
    assert unified_diff("a.txt", "same", "same") == ""


@settings(max_examples=60, deadline=None)
@given(
    lines=st.lists(st.text(alphabet="abc =()", min_size=1, max_size=12), min_size=1, max_size=8, unique=True),
    pick=st.integers(min_value=0, max_value=7),
    indent=st.sampled_from(["", "  ", "    "]),
)
def test_unique_line_edits_always_apply_exactly_once(tmp_path_factory, lines, pick, indent):
    lines = [ln for ln in lines if ln.strip() and ln == ln.strip()]
    if not lines or len({ln.strip() for ln in lines}) != len(lines):
        return
    target = lines[pick % len(lines)]
    if sum(ln.count(target) for ln in lines) != 1:
        return
    repo = tmp_path_factory.mktemp("h")
    (repo / "f.py").write_text("".join(indent + ln + "\n" for ln in lines))
    res = apply_edits(repo, [Edit(path="f.py", search=target, replace="REPLACED")])
    assert res.results[0].applied
    assert (repo / "f.py").read_text().count("REPLACED") == 1
