"""Schemas sent to llama.cpp for constrained decoding: only what its grammar conversion handles safely."""

from __future__ import annotations

import json

import pytest
from pydantic import BaseModel, Field

from deepcode_tui.llm.grammar import GRAMMAR_MAX_ITEMS, grammar_schema
from deepcode_tui.llm.structured import grammar_response_format
from deepcode_tui.llm.tools import protocol_schema


class Item(BaseModel):
    title: str  # a property named like a dropped keyword stays
    code: str = Field(max_length=5000, pattern=r"\w+")
    tags: list[str] = Field(default_factory=list, max_length=3)


class Reply(BaseModel):
    items: list[Item] = Field(default_factory=list)
    note: str | None = None
    scores: dict[str, float] = Field(default_factory=dict)


def test_risky_keywords_are_dropped_and_names_kept():
    shaped = grammar_response_format(Reply)["schema"]
    item = shaped["$defs"]["Item"]
    assert set(item["properties"]) == {"title", "code", "tags"}
    assert item["properties"]["code"] == {"type": "string"}  # no maxLength / pattern
    assert item["required"] == ["title", "code"]
    text = json.dumps(shaped)
    assert '"title": "' not in text and "description" not in text and "default" not in text


def test_every_list_is_bounded():
    shaped = grammar_schema(Reply.model_json_schema())
    assert shaped["properties"]["items"]["maxItems"] == GRAMMAR_MAX_ITEMS
    assert shaped["$defs"]["Item"]["properties"]["tags"]["maxItems"] == 3  # a tighter bound is kept
    assert grammar_schema({"type": "array", "items": {}, "minItems": 40})["minItems"] == GRAMMAR_MAX_ITEMS


def _project_schemas() -> dict[str, dict]:
    from deepcode_tui.blueprint.models import AlgorithmSpec, Blueprint, ConceptAnalysis, IntentAnalysis
    from deepcode_tui.blueprint.reading import IndexReader

    schemas = {
        m.__name__: grammar_response_format(m)["schema"]
        for m in (ConceptAnalysis, AlgorithmSpec, IntentAnalysis, Blueprint, Reply)
    }
    reader = IndexReader(object(), agent="t", budget_tokens=0)
    schemas["protocol"] = grammar_schema(protocol_schema(reader.tools()))
    return schemas


@pytest.mark.parametrize(
    "name", ["ConceptAnalysis", "AlgorithmSpec", "IntentAnalysis", "Blueprint", "Reply", "protocol"]
)
def test_llama_cpp_compiles_every_project_schema_without_falling_back(name):
    # The server falls back to "any JSON" when the conversion raises; it must not.
    grammar_mod = pytest.importorskip("llama_cpp.llama_grammar")
    gbnf = grammar_mod.json_schema_to_gbnf(json.dumps(_project_schemas()[name]))
    assert "root ::=" in gbnf
    assert len(gbnf) < 60_000  # bounded lists stay small grammars
