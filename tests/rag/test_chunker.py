"""Tree-sitter chunking of Python and JS/TS files."""

from __future__ import annotations

from deepcode_tui.rag.chunker import MAX_CHUNK_LINES, MODULE_SYMBOL, chunk_source


def by_symbol(chunks):
    return {c.symbol: c for c in chunks}


def test_python_chunks_functions_classes_methods_and_header(ref_files):
    ATTENTION = ref_files["model/attention.py"]
    chunks = chunk_source(ATTENTION, "model/attention.py", "ref")
    got = by_symbol(chunks)
    assert set(got) == {MODULE_SYMBOL, "scaled_dot_product_attention", "MultiHeadAttention",
                        "MultiHeadAttention.__init__", "MultiHeadAttention.forward"}
    header = got[MODULE_SYMBOL]
    assert header.kind == "module" and header.docstring == "Attention layers for sequence models."
    assert "import torch" in header.text and "defines: scaled_dot_product_attention" in header.text
    fn = got["scaled_dot_product_attention"]
    assert fn.kind == "function"
    assert fn.signature == "def scaled_dot_product_attention(query, key, value, mask=None)"
    assert fn.docstring.startswith("Weight the values by the softmax")
    assert fn.text.startswith("def scaled_dot_product_attention") and "F.softmax" in fn.text
    assert ATTENTION.splitlines()[fn.start_line - 1].startswith("def scaled_dot_product_attention")
    cls = got["MultiHeadAttention"]
    assert cls.kind == "class"
    # The class chunk is its header plus member signatures, not the methods' bodies.
    assert "def forward(self, x, mask=None)" in cls.text and "chunk(3" not in cls.text
    assert got["MultiHeadAttention.forward"].kind == "method"
    assert got["MultiHeadAttention.forward"].location == "ref:model/attention.py::MultiHeadAttention.forward"
    assert len({c.id for c in chunks}) == len(chunks)


def test_decorated_and_nested_definitions():
    src = '''
import functools

@functools.cache
def cached(x):
    """Cached."""
    def inner():
        return x
    return inner

class Outer:
    @property
    def value(self):
        return 1
'''
    got = by_symbol(chunk_source(src, "m.py"))
    assert got["cached"].text.startswith("@functools.cache")
    assert got["cached"].docstring == "Cached."
    assert "inner" not in got  # nested functions stay inside their parent chunk
    assert "Outer.value" in got


def test_javascript_and_typescript(ref_files):
    got = by_symbol(chunk_source(ref_files["web/beam.js"], "web/beam.js", "ref"))
    assert got["beamSearch"].docstring == "Beam search decoding over a step function."
    assert got["beamSearch"].signature.startswith("function beamSearch(step, start, beamWidth, maxLen)")
    ts = '''
/** Adds two numbers. */
export function add(a: number, b: number): number { return a + b }

// Multiplies.
export const mul = (a: number, b: number): number => a * b;

export class Calc extends Base {
  /** Sum of all. */
  total(xs: number[]): number { return xs.reduce(add, 0) }
}

export interface Shape { area(): number }
'''
    got = by_symbol(chunk_source(ts, "src/calc.ts"))
    assert got["add"].docstring == "Adds two numbers."
    assert got["mul"].kind == "function" and got["mul"].docstring == "Multiplies."
    assert got["Calc.total"].docstring == "Sum of all." and got["Calc.total"].kind == "method"
    assert "total(xs: number[]): number" in got["Calc"].text
    assert got["Shape"].kind == "class"


def test_unknown_language_and_broken_code():
    assert chunk_source("# title", "README.md") == []
    broken = "def ok():\n    return 1\n\ndef broken(:\n    pass\n\nclass Fine:\n    pass\n"
    names = set(by_symbol(chunk_source(broken, "b.py")))
    assert "ok" in names and "Fine" in names


def test_huge_function_is_capped():
    body = "\n".join(f"    x{i} = {i}" for i in range(MAX_CHUNK_LINES * 2))
    (fn,) = [c for c in chunk_source(f"def big():\n{body}\n", "big.py") if c.symbol == "big"]
    assert len(fn.text.splitlines()) <= MAX_CHUNK_LINES + 1
    assert "more lines" in fn.text
    assert fn.end_line == MAX_CHUNK_LINES * 2 + 1


OVERLOADED = '''\
import typing
from typing import overload


@overload
def open_file(name: str) -> str: ...
@typing.overload
def open_file(name: bytes) -> bytes: ...
def open_file(name):
    """Open a file by name and return its contents."""
    return name


class Reader:
    @overload
    def read(self, n: int) -> bytes: ...
    @overload
    def read(self) -> bytes: ...
    def read(self, n=-1):
        """Read up to n bytes."""
        return b""


@overload
def stub_only(x: int) -> int: ...
'''


def test_overload_stubs_give_way_to_the_implementation():
    chunks = chunk_source(OVERLOADED, "io.py", "ref")
    symbols = [c.symbol for c in chunks]
    # One chunk per symbol, the one with the docstring and body; a symbol that is only
    # declared by overloads (a stub file) keeps its stubs.
    assert symbols.count("open_file") == 1 and symbols.count("Reader.read") == 1
    assert by_symbol(chunks)["open_file"].docstring == "Open a file by name and return its contents."
    assert by_symbol(chunks)["Reader.read"].docstring == "Read up to n bytes."
    assert symbols.count("stub_only") == 1


def test_definitions_under_module_level_try_and_if_are_chunked():
    # Compatibility shims and version switches hold real module API (dateutil's
    # ``enfold`` is defined in a try/except); a chunker that skips them leaves the
    # function unfindable, however good the ranking.
    src = '''
import sys

try:
    from fast import speedup
except ImportError:
    def speedup(x):
        """Pure-Python fallback."""
        return x
else:
    class Accel:
        def go(self):
            return 1

if sys.version_info >= (3, 12):
    def shim():
        return 1
elif sys.platform == "win32":
    with open(__file__):
        def nested_in_with():
            return 2
else:
    def shim():
        return 0
'''
    chunks = chunk_source(src, "m.py")
    got = by_symbol(chunks)
    assert got["speedup"].docstring == "Pure-Python fallback."
    assert "Accel.go" in got and "Accel" in got
    assert "nested_in_with" in got
    # Both branches' definitions are kept, as distinct chunks of one symbol.
    assert len([c for c in chunks if c.symbol == "shim"]) == 2
    assert len({c.id for c in chunks}) == len(chunks)
    defines = got[MODULE_SYMBOL].text.rsplit("# defines: ", 1)[1]
    assert defines.split(", ") == ["speedup", "Accel", "shim", "nested_in_with"]  # each name once
