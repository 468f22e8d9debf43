"""Python memory entries: interface, import edges and symbol uses, extracted with tree-sitter."""

from __future__ import annotations

from pathlib import Path

import click
import pytest

from deepcode_tui.codegen import oracle
from deepcode_tui.codegen.memory import extract_entry
from deepcode_tui.codegen.resolve import ModuleIndex

PROJECT = [
    "pkg/__init__.py",
    "pkg/config.py",
    "pkg/layers.py",
    "pkg/model.py",
    "pkg/sub/__init__.py",
    "pkg/sub/util.py",
    "scripts/train.py",
    "scripts/helpers.py",
]

MODULE = '''"""Doc."""
from __future__ import annotations

import os
import numpy as np
from . import config
from .layers import Attention as Attn, scaled
from .sub import util
from .missing import nothing
from pkg.sub.util import *

__all__ = ["Model", "build"]
__all__ += ["VERSION"]
VERSION: str = "1.0"
MAX_LEN = 512
_private = 1
lower = 2


class Model(Attn, metaclass=Meta):
    """A model."""
    size: int = 3

    def __init__(self, cfg: config.Config, /, depth: int = 2, *layers: int, name: str, **kw) -> None:
        self.attn = Attn(cfg.dim)

    @property
    def dim(self) -> int:
        return 1

    @dim.setter
    def dim(self, value: int) -> None: ...

    @staticmethod
    def make(x): ...

    @classmethod
    def load(cls, path: str) -> "Model": ...

    async def run(self, *, steps: int = 1): ...

    def _hidden(self): ...

    def __repr__(self) -> str: ...


def build(
    dim: int,  # width
    heads: (
        int
    ) = 4,
) -> Model:
    m = Model(config.Config(), name="m")
    util.helper(1, 2)
    print(config.DEFAULT)
    scaled(1)
    return m


async def fetch(url: str) -> bytes: ...


if os.environ.get("X"):
    def maybe() -> None: ...
else:
    def maybe(flag: bool) -> None: ...


def _private_fn(): ...
'''


@pytest.fixture(scope="module")
def entry():
    return extract_entry(
        "pkg/model.py",
        MODULE,
        project_files=PROJECT,
        purpose="The model.",
        consumers=["pkg/train.py", "pkg/model.py"],
    )


def test_interface_classes_methods_and_signatures(entry):
    iface = entry.interface
    assert [c.name for c in iface.classes] == ["Model"]
    model = iface.classes[0]
    assert model.bases == ["Attn"]
    names = [m.name for m in model.methods]
    assert names == ["__init__", "dim", "make", "load", "run", "__repr__"]  # setter and _hidden left out
    init = model.method("__init__")
    assert (
        init.signature()
        == "(self, cfg: config.Config, /, depth: int = 2, *layers: int, name: str, **kw) -> None"
    )
    assert [p.kind for p in init.params] == [
        "positional_only",
        "positional_only",
        "positional",
        "var_positional",
        "keyword_only",
        "var_keyword",
    ]
    assert model.method("dim").kind == "property" and model.method("dim").returns == "int"
    assert model.method("make").kind == "staticmethod" and model.method("load").kind == "classmethod"
    assert model.method("load").returns == '"Model"'
    assert model.method("run").is_async and model.method("run").signature() == "(self, *, steps: int = 1)"
    assert [f.name for f in model.fields] == ["size"]


def test_interface_functions_constants_all(entry):
    iface = entry.interface
    fns = {f.name: f for f in iface.functions}
    assert list(fns) == ["build", "fetch", "maybe"]
    assert fns["build"].signature() == "(dim: int, heads: int = 4) -> Model"  # comment and parens dropped
    assert fns["fetch"].is_async and fns["fetch"].returns == "bytes"
    assert fns["maybe"].signature() == "(flag: bool) -> None"  # the later definition wins
    assert [(k.name, k.annotation, k.value) for k in iface.constants] == [
        ("VERSION", "str", '"1.0"'),
        ("MAX_LEN", None, "512"),
    ]
    assert iface.all_names == ["Model", "build", "VERSION"]
    assert {"_private", "lower", "config", "Attn", "scaled", "util", "os", "np"} <= set(iface.defined_names)
    assert iface.star_from == ["pkg/sub/util.py"]


def test_import_edges_resolved_to_project_files(entry):
    by_name = {(e.module, e.name): e for e in entry.imports}
    assert by_name[(".", "config")].file == "pkg/config.py" and by_name[(".", "config")].symbol is None
    attn = by_name[(".layers", "Attention")]
    assert (attn.file, attn.symbol, attn.alias, attn.local_name) == (
        "pkg/layers.py",
        "Attention",
        "Attn",
        "Attn",
    )
    assert by_name[(".sub", "util")].file == "pkg/sub/util.py"
    assert by_name[(".missing", "nothing")].kind == "unresolved"
    assert by_name[("os", None)].kind == "stdlib" and by_name[("numpy", None)].kind == "external"
    assert by_name[("__future__", "annotations")].kind == "stdlib"
    assert entry.depends_on == ["pkg/config.py", "pkg/layers.py", "pkg/sub/util.py"]
    assert entry.external == ["numpy"]
    assert entry.consumers == ["pkg/train.py"]  # itself dropped
    assert entry.purpose == "The model." and len(entry.content_hash) == 64 and not entry.parse_error


def test_symbol_uses_with_call_shapes(entry):
    uses = {(u.file, u.symbol, u.member): u for u in entry.uses}
    attn = uses[("pkg/layers.py", "Attention", None)]
    assert attn.call.positional == 1 and attn.line == 25
    helper = uses[("pkg/sub/util.py", "helper", None)]
    assert helper.call.positional == 2
    config_uses = sorted(
        (u.line, u.call.positional if u.call else None) for u in entry.uses if u.symbol == "Config"
    )
    assert config_uses == [(24, None), (53, 0)]  # the annotation, then the call
    assert uses[("pkg/config.py", "DEFAULT", None)].call is None  # attribute use, no call
    assert uses[("pkg/layers.py", "scaled", None)].call.positional == 1


def test_shadowed_names_are_not_followed():
    code = (
        "from pkg.layers import scaled\nfrom pkg import config\n\n\ndef f(config):\n    scaled = 3\n"
        "    return config.x + scaled(1)\n"
    )
    e = extract_entry("pkg/model.py", code, project_files=PROJECT)
    assert e.uses == []


def test_instance_method_calls_are_tracked():
    code = "from pkg.layers import Attention\n\nattn = Attention(4)\nattn.forward(1, mask=None)\n"
    e = extract_entry("pkg/model.py", code, project_files=PROJECT)
    member = [u for u in e.uses if u.member]
    assert len(member) == 1 and member[0].symbol == "Attention" and member[0].member == "forward"
    assert member[0].call.positional == 1 and member[0].call.keywords == ["mask"]


def test_script_directory_imports_resolve_to_siblings_but_not_over_stdlib():
    code = "import helpers\nfrom helpers import run\nimport json\n"
    files = [*PROJECT, "scripts/json.py"]
    e = extract_entry("scripts/train.py", code, project_files=files)
    kinds = {(x.module, x.name): (x.kind, x.file) for x in e.imports}
    assert kinds[("helpers", None)] == ("project", "scripts/helpers.py")
    assert kinds[("helpers", "run")] == ("project", "scripts/helpers.py")
    assert kinds[("json", None)] == ("stdlib", None)
    # inside a package, siblings are not on the path
    e2 = extract_entry("pkg/model.py", "import layers\n", project_files=PROJECT)
    assert e2.imports[0].kind == "external"


def test_missing_module_of_a_project_package_is_unresolved():
    e = extract_entry(
        "scripts/train.py", "from pkg.nothing import x\nimport pkg.sub.gone\n", project_files=PROJECT
    )
    assert [i.kind for i in e.imports] == ["unresolved", "unresolved"]


def test_syntax_errors_are_flagged_not_raised():
    e = extract_entry(
        "pkg/model.py", "def broken(:\n    pass\n\ndef ok(a) -> int: ...\n", project_files=PROJECT
    )
    assert e.parse_error
    assert "ok" in [f.name for f in e.interface.functions]


def test_non_code_files_get_an_empty_interface():
    e = extract_entry("configs/base.yaml", "lr: 0.1\n", project_files=PROJECT, purpose="Hyper-parameters.")
    assert e.language is None and e.interface.public_count() == 0 and e.purpose == "Hyper-parameters."


def test_extraction_is_deterministic(entry):
    again = extract_entry(
        "pkg/model.py",
        MODULE,
        project_files=PROJECT,
        purpose="The model.",
        consumers=["pkg/train.py", "pkg/model.py"],
    )
    assert again.model_dump() == entry.model_dump()


def test_agreement_with_ast_on_real_code():
    """Every public item of click's source agrees with Python's ast."""
    root = Path(click.__file__).parent
    files = sorted(p.relative_to(root.parent).as_posix() for p in root.rglob("*.py"))
    index = ModuleIndex(files)
    matched = total = im = it = 0
    for f in files:
        code = (root.parent / f).read_text(encoding="utf-8")
        e = extract_entry(f, code, project_files=index)
        x, y = oracle.agreement(
            oracle.interface_items(oracle.ast_interface(code)),
            oracle.interface_items(oracle.entry_interface(e)),
        )
        matched, total = matched + x, total + y
        x, y = oracle.agreement(oracle.ast_imports(code), oracle.entry_imports(e))
        im, it = im + x, it + y
    assert total > 300 and matched / total >= 0.99
    assert it > 50 and im == it
