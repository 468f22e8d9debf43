"""CodeMem's consistency check inside the static pass, on the files as they are now."""

from __future__ import annotations

from deepcode_tui.verify import RECHECKED_KINDS, Edit, apply_edits, check_repo_consistency
from deepcode_tui.verify.findings import Finding
from deepcode_tui.verify.static import run_static_checks

FILES = {
    "pkg/__init__.py": "",
    "pkg/util.py": "def scale(x, factor=2):\n    return x * factor\n\n\nclass Box:\n    def __init__(self, w):\n"
                   "        self.w = w\n",
    "pkg/main.py": "from pkg.util import Box, scale\n\n\ndef run(v):\n    return scale(v, 3), Box(v)\n",
    "web/api.ts": "export function total(a: number, b: number): number {\n  return a + b;\n}\n",
    "web/app.ts": "import { total } from './api';\n\nexport const t = total(1, 2);\n",
}


def located(findings, kind=None):
    return {(f.file, f.line, f.kind) for f in findings if kind is None or f.kind == kind}


def test_consistent_repo_has_no_findings(make_repo):
    repo = make_repo(FILES)
    assert check_repo_consistency(repo) == []
    assert run_static_checks(repo, expected_files=list(FILES), declared_packages=[]) == []


def test_static_pass_rechecks_after_a_patch(make_repo):
    repo = make_repo(FILES)
    # A repair narrows the callee's signature and renames a class: the caller in
    # another file is now wrong, though nothing was said about it at codegen time.
    result = apply_edits(repo, [
        Edit(path="pkg/util.py", search="def scale(x, factor=2):", replace="def scale(x):"),
        Edit(path="pkg/util.py", search="class Box:", replace="class Crate:"),
        Edit(path="web/api.ts", search="b: number)", replace="b: number, c: number)"),
    ])
    assert result.applied == 3
    found = run_static_checks(repo, expected_files=list(FILES), declared_packages=[])
    by = {(f.file, f.line, f.kind): f for f in found}
    arity = by[("pkg/main.py", 5, "arity_mismatch")]
    assert arity.stage == "static" and arity.severity == "error" and "scale()" in arity.message
    assert arity.related == ("pkg/util.py",)  # the wrong side may be the definition
    assert ("pkg/main.py", 1, "missing_symbol") in by and "'Box'" in by[("pkg/main.py", 1, "missing_symbol")].message
    assert ("web/app.ts", 3, "arity_mismatch") in by
    # The option turns it off.
    off = run_static_checks(repo, expected_files=list(FILES), declared_packages=[], consistency=False)
    assert not [f for f in off if f.kind in RECHECKED_KINDS]


def test_stale_snapshots_are_superseded_and_other_extras_kept(make_repo):
    repo = make_repo(FILES)
    stale = Finding(file="pkg/main.py", line=5, kind="arity_mismatch", message="scale() takes 1 argument, 2 given")
    other = Finding(file="pkg/main.py", kind="human_edit_kept", severity="warning", message="kept as is")
    found = run_static_checks(repo, expected_files=list(FILES), declared_packages=[], extra_findings=[stale, other])
    assert stale not in found and other in found
    kept = run_static_checks(repo, expected_files=list(FILES), declared_packages=[], extra_findings=[stale],
                             consistency=False)
    assert stale in kept


def test_unparsable_file_does_not_blame_its_importers(make_repo):
    repo = make_repo({**FILES, "pkg/util.py": "def scale(x, factor=2:\n    return x * factor\n\n\nclass Box:\n"
                                               "    pass\n"})
    found = run_static_checks(repo, expected_files=list(FILES), declared_packages=[])
    assert {(f.file, f.kind) for f in found if f.severity == "error"} == {("pkg/util.py", "syntax_error")}


def test_planned_but_missing_module_is_named_at_the_import(make_repo):
    repo = make_repo({**FILES, "pkg/main.py": "from pkg.model import Net\n\n\ndef run():\n    return Net()\n"})
    found = check_repo_consistency(repo, expected_files=[*FILES, "pkg/model.py"])
    assert ("pkg/main.py", 1, "missing_file") in located(found)
    unplanned = check_repo_consistency(repo)
    assert ("pkg/main.py", 1, "unresolved_import") in located(unplanned)
