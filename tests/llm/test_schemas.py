"""Model JSON schemas are built once per class and handed out as fresh copies."""

from __future__ import annotations

from pydantic import BaseModel

from deepcode_tui.llm import schemas
from deepcode_tui.llm.structured import schema_instruction


class _Reply(BaseModel):
    name: str
    values: list[int] = []


def test_schema_is_built_once_per_class_and_each_caller_gets_its_own_copy(monkeypatch):
    calls = []
    original = _Reply.model_json_schema.__func__

    def counting(cls, *a, **k):
        calls.append(cls)
        return original(cls, *a, **k)

    schemas.schema_text.cache_clear()
    monkeypatch.setattr(_Reply, "model_json_schema", classmethod(counting))
    first = schemas.json_schema(_Reply)
    assert first == original(_Reply)
    first["properties"].pop("name")  # a caller changing its copy (as protocol_schema pops $defs)
    second = schemas.json_schema(_Reply)
    assert "name" in second["properties"]
    assert '"values"' in schema_instruction(_Reply)
    assert calls == [_Reply]
