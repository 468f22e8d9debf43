"""Cross-file consistency over memory entries."""

from __future__ import annotations

import pytest

from deepcode_tui.codegen.consistency import check_consistency
from deepcode_tui.codegen.memory import extract_entry

LIB = """from dataclasses import KW_ONLY, dataclass, field
from typing import NamedTuple

from pydantic import BaseModel


def f(a, b=1, *args, key=None, **kw): ...


def g(a, /, b, *, c, d=2): ...


class Plain:
    def method(self, x, y=0): ...

    @staticmethod
    def static(x): ...

    @classmethod
    def build(cls, n): ...


class NoInit:
    pass


@dataclass
class Point:
    x: float
    y: float = 0.0
    tags: list = field(default_factory=list)
    cache: dict = field(init=False)
    _: KW_ONLY
    label: str = ""


@dataclass
class Point3(Point):
    z: float = 0.0


class Pair(NamedTuple):
    left: int
    right: int


class Settings(BaseModel):
    name: str
    size: int = 1


class Child(Plain):
    pass


class Unknown(SomethingExternal):
    pass


def decorated_elsewhere(x): ...
"""


def check(user_code: str, lib: str = LIB, extra: dict[str, str] | None = None):
    files = {"pkg/lib.py": lib, "pkg/user.py": user_code, **(extra or {})}
    entries = [extract_entry(p, c, project_files=list(files)) for p, c in files.items()]
    return check_consistency(entries, project_files=list(files))


@pytest.mark.parametrize(
    "call",
    [
        "f(1)",
        "f(1, 2, 3, 4, key=5, other=6)",
        "f(*xs)",
        "f(**kw)",
        "g(1, 2, c=3)",
        "g(1, b=2, c=3, d=4)",
        "Plain().method(1)",
        "Plain.static(1)",
        "NoInit()",
        "Point(1.0)",
        "Point(1.0, 2.0, [], label='a')",
        "Point3(1.0, 2.0, [], 3.0)",
        "Pair(1, 2)",
        "Settings(name='x', extra=1)",
        "Child()",
        "Unknown(1, 2, 3)",
    ],
)
def test_compatible_calls_produce_no_findings(call):
    assert (
        check(
            f"from pkg.lib import *\nfrom pkg.lib import f, g, Plain, NoInit, Point, Point3, Pair, "
            f"Settings, Child, Unknown\n\nresult = {call}\n"
        )
        == []
    )


@pytest.mark.parametrize(
    ("call", "why"),
    [
        ("f()", "missing required argument(s): a"),
        ("f(1, a=2)", "got multiple values for argument 'a'"),
        ("g(1, 2)", "missing required argument(s): c"),
        ("g(a=1, b=2, c=3)", "got an unexpected keyword argument 'a'"),
        ("g(1, 2, 3, c=4)", "takes at most 2 positional argument(s) but 3 were given"),
        ("NoInit(1)", "takes at most 0 positional argument(s) but 1 were given"),
        ("Point()", "missing required argument(s): x"),
        ("Point(1.0, 2.0, [], 'lbl')", "takes at most 3 positional argument(s) but 4 were given"),
        ("Point(1.0, cache={})", "got an unexpected keyword argument 'cache'"),
        ("Pair(1)", "missing required argument(s): right"),
        ("Settings('x')", "takes at most 0 positional argument(s) but 1 were given"),
        ("Child(1)", "takes at most 0 positional argument(s) but 1 were given"),
    ],
)
def test_arity_mismatches_are_reported(call, why):
    findings = check(f"from pkg.lib import f, g, NoInit, Point, Pair, Settings, Child\n\nresult = {call}\n")
    assert [(x.kind, x.file, x.line) for x in findings] == [("arity_mismatch", "pkg/user.py", 3)]
    assert why in findings[0].message and "(defined in pkg/lib.py)" in findings[0].message


def test_module_attribute_calls_and_instance_methods():
    user = (
        "import pkg.lib as lib\nfrom pkg import lib as lib2\n\nlib.f()\nlib2.g(1, 2, c=3)\n"
        "p = lib.Plain()\np.method()\np.missing_method(1)\nlib.nothing_here\n"
    )
    found = {(x.kind, x.line): x for x in check(user)}
    assert found[("arity_mismatch", 4)].message.startswith("f() (defined in pkg/lib.py) missing required")
    assert found[("arity_mismatch", 7)].message.startswith("Plain.method() (defined in pkg/lib.py)")
    assert found[("missing_member", 8)].severity == "warning"
    assert "nothing_here" in found[("missing_symbol", 9)].message
    assert len(found) == 4


def test_missing_symbols_files_and_unresolved_imports():
    user = "from pkg.lib import nope\nfrom pkg.absent import x\nfrom pkg.planned import y\nimport pkg.lib\n"
    files = {"pkg/lib.py": LIB, "pkg/user.py": user}
    entries = [extract_entry(p, c, project_files=[*files, "pkg/planned.py"]) for p, c in files.items()]
    findings = check_consistency(entries, project_files=[*files, "pkg/planned.py"])
    kinds = [(x.kind, x.line) for x in findings]
    assert kinds == [("missing_symbol", 1), ("unresolved_import", 2), ("missing_file", 3)]
    assert "pkg/planned.py, which has not been written" in findings[2].message


def test_re_exports_are_followed():
    init = "from .lib import f as public_f\n"
    user = "from pkg import public_f\n\npublic_f()\n"
    findings = check(user, extra={"pkg/__init__.py": init})
    assert len(findings) == 1 and findings[0].kind == "arity_mismatch"


def test_decorated_functions_and_dynamic_modules_are_not_judged():
    lib = "import functools\n\n\n@some.decorator\ndef wrapped(a): ...\n\n\ndef __getattr__(name): ...\n"
    assert check("from pkg.lib import wrapped, anything\n\nwrapped(1, 2, 3)\n", lib=lib) == []


def test_typescript_arity_and_javascript_existence():
    ts_lib = (
        "export function add(a: number, b?: number, ...rest: number[]): number { return a; }\n"
        "export class Box { constructor(size: number) {} open(force: boolean): void {} }\n"
    )
    ts_user = (
        "import { add, Box, missing } from './lib';\nadd();\nadd(1, 2, 3, 4);\nconst b = new Box();\n"
        "b.open(true);\n"
    )
    js_lib = "export function f(a, b) { return a; }\n"
    js_user = "import { f, g } from './jslib';\nf();\n"
    files = {"src/lib.ts": ts_lib, "src/user.ts": ts_user, "src/jslib.js": js_lib, "src/juser.js": js_user}
    entries = [extract_entry(p, c, project_files=list(files)) for p, c in files.items()]
    found = [(x.file, x.kind, x.line) for x in check_consistency(entries)]
    assert found == [
        ("src/juser.js", "missing_symbol", 1),
        ("src/user.ts", "missing_symbol", 1),
        ("src/user.ts", "arity_mismatch", 2),
        ("src/user.ts", "arity_mismatch", 4),
    ]
