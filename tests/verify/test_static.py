from __future__ import annotations

from deepcode_tui.verify.findings import Finding, Kind
from deepcode_tui.verify.manifest import declared_from_manifests, dist_for_import, imports_of
from deepcode_tui.verify.static import _tree_sitter_errors, check_manifest, check_syntax, run_static_checks
from deepcode_tui.verify.syntax_hints import missing_closer_line


def kinds_at(findings):
    return {(f.file, f.line, f.kind) for f in findings}


def test_structure_missing_and_empty_files(make_repo):
    repo = make_repo({"pkg/__init__.py": "", "pkg/model.py": "   \n", "pkg/train.py": "x = 1\n"})
    found = run_static_checks(repo, expected_files=["pkg/__init__.py", "pkg/model.py", "pkg/train.py",
                                                    "pkg/data.py"], declared_packages=[])
    got = kinds_at(found)
    assert ("pkg/data.py", None, Kind.MISSING_FILE) in got
    assert ("pkg/model.py", 1, Kind.EMPTY_FILE) in got
    assert not [f for f in found if f.file == "pkg/__init__.py"]  # empty __init__ is normal


def test_syntax_errors_from_compile_and_tree_sitter(make_repo):
    repo = make_repo({
        "a.py": "def f(x):\n    return x\n\ndef g(:\n    pass\n",
        "web/app.js": "function ok() { return 1 }\nfunction bad( { return 2 }\n",
        "web/types.ts": "let x: number = 1;\n",
    })
    found = run_static_checks(repo, expected_files=[], declared_packages=[])
    got = kinds_at(found)
    assert ("a.py", 4, Kind.SYNTAX_ERROR) in got
    assert any(f.file == "web/app.js" and f.kind == Kind.SYNTAX_ERROR and f.line == 2 for f in found)
    assert not [f for f in found if f.file == "web/types.ts"]
    # ruff's own syntax reports are not duplicated next to compile's.
    assert all(f.kind != Kind.LINT for f in found if f.file == "a.py")


def test_lint_undefined_missing_and_unused_imports(make_repo):
    repo = make_repo({
        "pkg/__init__.py": "from pkg.core import run\n",
        "pkg/core.py": "import json\n\n\ndef run(p):\n    return os.path.join(p, nme)\n",
    })
    found = run_static_checks(repo, expected_files=[], declared_packages=[])
    by = {(f.file, f.line, f.kind): f for f in found}
    assert by[("pkg/core.py", 5, Kind.MISSING_IMPORT)].severity == "error"
    assert "`os`" in by[("pkg/core.py", 5, Kind.MISSING_IMPORT)].message
    assert by[("pkg/core.py", 5, Kind.UNDEFINED_NAME)].severity == "error"
    assert by[("pkg/core.py", 1, Kind.UNUSED_IMPORT)].severity == "warning"
    # A re-export in __init__ is not an error (nor reported as one).
    assert all(f.severity != "error" for f in found if f.file == "pkg/__init__.py")


def test_manifest_undeclared_dependency_with_name_mapping(make_repo):
    repo = make_repo({
        "requirements.txt": "numpy>=1.24\nscikit-learn  # ml\nopencv-python-headless\n",
        "pkg/__init__.py": "",
        "pkg/a.py": "import os\nimport numpy as np\nfrom sklearn import svm\nimport cv2\nimport yaml\n"
                    "from pkg import b\nfrom . import b as b2\n",
        "pkg/b.py": "try:\n    import ujson as json\nexcept ImportError:\n    import json\n",
        "tests/test_a.py": "import pytest\nimport pkg.a\n",
    })
    found = check_manifest(repo, None)
    assert kinds_at(found) == {("pkg/a.py", 5, Kind.UNDECLARED_DEPENDENCY)}
    assert "PyYAML" in found[0].message


def test_manifest_reads_pyproject_and_explicit_declarations(make_repo):
    repo = make_repo({
        "pyproject.toml": '[project]\nname = "x"\ndependencies = ["PyYAML>=6", "requests[socks]; python_version>\'3\'"]\n'
                          '[project.optional-dependencies]\nml = ["torch"]\n',
        "m.py": "import yaml, requests, torch\nimport pandas as pd\n",
    })
    names, found = declared_from_manifests(repo)
    assert found and set(names) == {"PyYAML", "requests", "torch"}
    assert [(f.line, f.kind) for f in check_manifest(repo, None)] == [(2, Kind.UNDECLARED_DEPENDENCY)]
    # Declarations handed in (from the blueprint) replace the manifest.
    assert check_manifest(repo, ["pyyaml", "requests", "torch", "pandas"]) == []


def test_manifest_index_check_locates_unknown_packages(make_repo):
    repo = make_repo({"requirements.txt": "numpy\nnumpyy-typo==1.0\n", "m.py": "import numpy\n"})
    calls = []

    def lookup(names):
        calls.append(names)
        return {n: n != "numpyy-typo" for n in names}

    found = check_manifest(repo, None, check_index=True, index_lookup=lookup)
    assert kinds_at(found) == {("requirements.txt", 2, Kind.UNKNOWN_DEPENDENCY)}
    assert calls == [["numpy", "numpyy-typo"]]


def test_no_manifest_at_all_is_said_plainly(make_repo):
    repo = make_repo({"m.py": "import requests\n"})
    [f] = check_manifest(repo, None)
    assert "no requirements.txt or pyproject.toml" in f.message


def test_extra_findings_are_passed_through(make_repo):
    repo = make_repo({"m.py": "x = 1\n"})
    extra = Finding(file="m.py", line=1, kind=Kind.CONSISTENCY, stage="static",
                    message="memory says m.py exports f(), it does not")
    assert extra in run_static_checks(repo, expected_files=["m.py"], declared_packages=[], extra_findings=[extra])


def test_import_helpers():
    assert imports_of("import a.b\nfrom c import d\nfrom .e import f\n") == [("a.b", 1), ("c", 2)]
    assert imports_of("import ok\ndef broken(:\n") == [("ok", 1)]  # line scan when unparsable
    assert dist_for_import("sklearn.svm") == "scikit-learn"
    assert dist_for_import("PIL.Image") == "Pillow"
    assert dist_for_import("some_pkg") == "some-pkg"


def test_mismatched_bracket_also_located_where_it_was_opened(make_repo):
    repo = make_repo({"a.py": "cs = [1]\nx = [len(str(c) if c else 0\n     for c in cs]\n"})
    found = [f for f in run_static_checks(repo, expected_files=[], declared_packages=[])
             if f.kind == Kind.SYNTAX_ERROR]
    assert {f.line for f in found} >= {2, 3}
    assert "opened here" in next(f.message for f in found if f.line == 2)


def test_inner_closer_dropped_in_a_call_spanning_lines(make_repo):
    # Python pairs the brackets greedily: the outer call is "never closed", but the
    # closer is missing on the argument line that leaves its own call open.
    src = ("def f(node, value):\n    return max(\n        len(node[0], value,\n        len(node[1])\n"
           "    )\n")
    assert missing_closer_line(src, "'(' was never closed", 2) == 3
    repo = make_repo({"a.py": src})
    found = [f for f in run_static_checks(repo, expected_files=[], declared_packages=[])
             if f.kind == Kind.SYNTAX_ERROR]
    assert {f.line for f in found} == {2, 3}


def test_tree_sitter_error_spanning_the_compile_line_adds_no_location(make_repo):
    # tree-sitter's recovery may wrap many lines, up to the real error, in one
    # ERROR node (on a long file from its top: file:1); compile's line wins over
    # that node's start.
    src = "import os\n\n\ndef f():\n    return g(\n        1,\n\n\ndef h():\n    return [2\n"
    assert [f.line for f in _tree_sitter_errors("a.py", src.encode(), "python")] == [5]
    repo = make_repo({"a.py": src})
    # compile's line (9) and where the closer of line 5's bracket belongs (6), nothing else.
    assert {f.line for f in check_syntax(repo)} == {9, 6}
