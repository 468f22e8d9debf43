"""Code extraction from replies, truncation detection, path confinement, atomic writes."""

from __future__ import annotations

import os

import pytest

from deepcode_tui.codegen.writer import (
    PathRejected,
    atomic_write_text,
    code_problem,
    confine_path,
    extract_code,
    parse_blocks,
    unified_diff,
)

GOOD = "def f(x: int) -> int:\n    return x + 1\n"


@pytest.mark.parametrize(
    "reply",
    [
        f"```python\n{GOOD}```",
        f"Sure! Here is the implementation:\n\n```py\n{GOOD}```\nIt adds one.",
        f"```python path=pkg/a.py\n{GOOD}```",
        f"```python:pkg/a.py\n{GOOD}```",
        f"**pkg/a.py**\n```python\n{GOOD}```",
        f"`pkg/a.py`:\n```\n{GOOD}```",
        f"~~~python\n{GOOD}~~~",
        f"```python\n# file: pkg/a.py\n{GOOD}```",
        f"```a.py\n{GOOD}```",
    ],
)
def test_fenced_variants(reply):
    ex = extract_code(reply, "pkg/a.py")
    assert ex.problem is None
    assert ex.code.endswith(GOOD)


def test_picks_the_block_labelled_for_this_file_among_several():
    reply = (
        "First the helper:\n```python path=pkg/b.py\nB = 1\n```\n"
        f"Then the file you asked for:\n```python path=pkg/a.py\n{GOOD}```\n"
        "And a usage example:\n```bash\npython -m pkg.a\n```\n"
    )
    assert extract_code(reply, "pkg/a.py").code == GOOD


def test_unlabelled_blocks_prefer_matching_language_and_longest():
    reply = f"```bash\npip install x\n```\n```python\nimport os\n```\n```python\n{GOOD}```\n"
    assert extract_code(reply, "pkg/a.py").code == GOOD


def test_unfenced_reply_with_leading_and_trailing_prose():
    reply = f"Here is the code you need.\n\nimport os\n\n\n{GOOD}\nThis function adds one to its input.\n"
    ex = extract_code(reply, "pkg/a.py")
    assert ex.problem is None
    assert ex.code.startswith("import os") and "This function" not in ex.code


def test_nested_fences_in_markdown_files():
    reply = "````markdown path=README.md\n# Title\n\n```bash\nmake\n```\n````\n"
    assert extract_code(reply, "README.md").code == "# Title\n\n```bash\nmake\n```\n"


@pytest.mark.parametrize(
    ("reply", "why"),
    [
        ("", "empty"),
        ("```python\n\n```", "empty"),
        ("```python path=pkg/a.py\ndef f(x):\n    return x\n", "truncated: the code block is never closed"),
        ("```python\ndef f(x, y,\n```", "truncated: the code breaks off"),
        ("```python\nclass A:\n    def m(self):\n        return {'a': [1, 2,\n```", "truncated"),
        ("```python path=pkg/other.py\nX = 1\n```", "no code block for this file"),
    ],
)
def test_unusable_replies(reply, why):
    ex = extract_code(reply, "pkg/a.py")
    assert ex.problem is not None and ex.problem.startswith(why)


def test_mid_file_syntax_error_is_not_truncation():
    code = "def f(:\n    pass\n\n\ndef g():\n    return 1\n"
    assert code_problem(code, "pkg/a.py") is None


def test_truncated_typescript_and_json():
    assert code_problem("export function f(a: number) {\n  return a +", "src/a.ts").startswith("truncated")
    assert code_problem('{"a": [1, 2', "cfg.json").startswith("truncated")
    assert code_problem('{"a": [1, 2]}\n', "cfg.json") is None
    assert code_problem("anything at all\n", "notes.txt") is None


def test_block_labelled_outside_repo_is_rejected_with_finding(tmp_path):
    reply = f"```python path=/etc/passwd\n{GOOD}```\n```python path=../../x.py\n{GOOD}```"
    ex = extract_code(reply, "pkg/a.py", repo=tmp_path)
    assert ex.code is None and ex.problem == "its only code block was rejected"
    assert [f.kind for f in ex.findings] == ["path_escape", "path_escape"]
    assert "absolute" in ex.findings[0].message and "leaves the repository" in ex.findings[1].message


def test_confine_path(tmp_path):
    assert confine_path(tmp_path, "./pkg//a.py") == "pkg/a.py"
    assert confine_path(tmp_path, "pkg\\sub\\b.py") == "pkg/sub/b.py"
    assert confine_path(tmp_path, "pkg/../c.py") == "c.py"
    for bad in [
        "/abs/a.py",
        "~/a.py",
        "C:/x.py",
        "../a.py",
        "pkg/../../a.py",
        "",
        ".",
        ".git/hooks/pre-commit",
        "a\x00.py",
    ]:
        with pytest.raises(PathRejected):
            confine_path(tmp_path, bad)
    outside = tmp_path.parent / f"{tmp_path.name}-outside"
    outside.mkdir()
    (tmp_path / "link").symlink_to(outside, target_is_directory=True)
    with pytest.raises(PathRejected, match="symlink"):
        confine_path(tmp_path, "link/a.py")
    (tmp_path / "inner").mkdir()
    (tmp_path / "ok_link").symlink_to(tmp_path / "inner", target_is_directory=True)
    assert confine_path(tmp_path, "ok_link/a.py") == "ok_link/a.py"


def test_atomic_write_leaves_no_temp_files_and_keeps_mode(tmp_path):
    p = tmp_path / "d" / "f.py"
    atomic_write_text(p, "A = 1\n")
    assert p.read_text() == "A = 1\n" and oct(p.stat().st_mode & 0o777) == "0o644"
    os.chmod(p, 0o755)
    atomic_write_text(p, "A = 2\n")
    assert p.read_text() == "A = 2\n" and oct(p.stat().st_mode & 0o777) == "0o755"
    assert sorted(x.name for x in p.parent.iterdir()) == ["f.py"]


def test_unified_diff():
    d = unified_diff("x.py", "a = 1\n", "a = 2\n")
    assert d.startswith("--- a/x.py\n+++ b/x.py\n") and "-a = 1\n+a = 2\n" in d
    assert unified_diff("y.py", "", "new\n").startswith("--- /dev/null\n+++ b/y.py")
    assert "\\ No newline at end of file" in unified_diff("z.py", "", "x")


def test_parse_blocks_reports_labels_and_closure():
    blocks = parse_blocks("```ts path=src/a.ts\nconst a = 1;\n```\n```python\nopen\n")
    assert [(b.language, b.label, b.closed) for b in blocks] == [
        ("ts", "src/a.ts", True),
        ("python", None, False),
    ]


def test_a_bash_block_is_the_content_of_a_shell_script_but_not_of_a_python_file():
    reply = "Here it is:\n```bash\n#!/usr/bin/env bash\nset -e\npython run.py\n```\n"
    got = extract_code(reply, "reproduce.sh")
    assert got.problem is None and got.code.startswith("#!/usr/bin/env bash")
    assert extract_code(reply, "run.py").problem == "no code block for this file"
