"""MemoryStore persistence and the compact rendering the coder sees."""

from __future__ import annotations

import pytest

from deepcode_tui.codegen.memory import MemoryEntry, MemoryStore, extract_entry
from deepcode_tui.errors import RunStoreError

CODE = """from dataclasses import dataclass

import torch

from pkg.config import Config

LR = 1e-3


@dataclass
class Batch:
    x: list[float]
    y: int = 0


class Trainer:
    def __init__(self, cfg: Config, epochs: int = 10) -> None: ...

    def fit(self, data: list[Batch]) -> float: ...

    def __eq__(self, other) -> bool: ...


def train(cfg: Config, *, seed: int = 0) -> Trainer: ...
"""


def entry(path="pkg/train.py", code=CODE, **kw):
    return extract_entry(
        path,
        code,
        project_files=["pkg/train.py", "pkg/config.py"],
        purpose="Training loop.",
        consumers=["main.py"],
        **kw,
    )


def test_render_is_compact_and_complete():
    text = entry().render()
    assert text.splitlines()[0] == "## pkg/train.py — Training loop."
    assert "class Trainer" in text and "def __init__(self, cfg: Config, epochs: int = 10) -> None" in text
    assert "def fit(self, data: list[Batch]) -> float" in text
    assert "__eq__" not in text  # dunders other than __init__/__call__/__new__ are noise here
    assert "class Batch" in text and "fields: x: list[float], y: int" in text
    assert "def train(cfg: Config, *, seed: int = 0) -> Trainer" in text
    assert "constants: LR = 1e-3" in text
    assert "imports: pkg/config.py (Config)" in text and "external: torch" in text
    assert "used by: main.py" in text
    compact = entry().render(compact=True)
    assert "Training loop" not in compact and "imports:" not in compact and "def fit" in compact
    assert len(compact) < len(text)


def test_latest_entry_per_path_wins_and_survives_reload(tmp_path):
    store = MemoryStore(tmp_path)
    store.append(entry())
    store.append(entry(code="def only() -> None: ...\n"))
    store.append(entry("pkg/other.py", "X = 1\n"))
    again = MemoryStore(tmp_path)
    assert len(again) == 2
    assert [f.name for f in again.get("pkg/train.py").interface.functions] == ["only"]
    assert (tmp_path / "memory" / "entries.jsonl").read_text().count("\n") == 3
    assert [e.path for e in again.defining("only")] == ["pkg/train.py"]
    assert again.defining("Trainer") == []  # the old interface no longer counts


def test_torn_last_line_is_dropped_and_appending_continues(tmp_path):
    store = MemoryStore(tmp_path)
    store.append(entry())
    path = tmp_path / "memory" / "entries.jsonl"
    good = path.read_bytes()
    path.write_bytes(good + b'{"path": "pkg/half.py", "purp')  # crash mid-append
    resumed = MemoryStore(tmp_path)
    assert [e.path for e in resumed] == ["pkg/train.py"]
    assert path.read_bytes() == good  # the torn tail is cut off
    resumed.append(entry("pkg/next.py", "Y = 2\n"))
    assert {e.path for e in MemoryStore(tmp_path)} == {"pkg/train.py", "pkg/next.py"}


def test_damaged_middle_line_is_a_clear_error(tmp_path):
    store = MemoryStore(tmp_path)
    store.append(entry())
    path = tmp_path / "memory" / "entries.jsonl"
    path.write_text("not json\n" + path.read_text())
    with pytest.raises(RunStoreError) as e:
        MemoryStore(tmp_path)
    assert "line 1" in e.value.message and "delete" in e.value.fix


def test_tombstone_removes_an_entry(tmp_path):
    store = MemoryStore(tmp_path)
    store.append(entry())
    store.remove("pkg/train.py")
    assert "pkg/train.py" not in store and "pkg/train.py" not in MemoryStore(tmp_path)
    store.remove("never/there.py")  # no-op
    assert (tmp_path / "memory" / "entries.jsonl").read_text().count("\n") == 2


def test_entries_round_trip_through_json(tmp_path):
    e = entry()
    assert MemoryEntry.model_validate_json(e.model_dump_json()) == e


def test_rendered_cache_follows_content(tmp_path):
    store = MemoryStore(tmp_path)
    a = entry()
    text, tokens = store.rendered(a)
    assert text == a.render() and tokens > 20
    b = entry(code="def g() -> int: ...\n")
    assert "def g() -> int" in store.rendered(b)[0]
