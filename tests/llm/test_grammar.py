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
    assert item["properties"]["code"] == {"type": "string", "minLength": 1}  # no maxLength / pattern
    assert item["required"] == ["title", "code"]
    text = json.dumps(shaped)
    assert '"title": "' not in text and "description" not in text and "default" not in text


def test_every_list_is_bounded():
    shaped = grammar_schema(Reply.model_json_schema())
    assert shaped["properties"]["items"]["maxItems"] == GRAMMAR_MAX_ITEMS
    assert shaped["$defs"]["Item"]["properties"]["tags"]["maxItems"] == 3  # a tighter bound is kept
    assert grammar_schema({"type": "array", "items": {}, "minItems": 40})["minItems"] == GRAMMAR_MAX_ITEMS


def _project_schemas() -> dict[str, dict]:
    from deepcode_tui.blueprint.models import (
        AlgorithmSpec,
        Blueprint,
        BlueprintDraft,
        ConceptAnalysis,
        IntentAnalysis,
    )
    from deepcode_tui.blueprint.reading import IndexReader

    schemas = {
        m.__name__: grammar_response_format(m)["schema"]
        for m in (ConceptAnalysis, AlgorithmSpec, IntentAnalysis, Blueprint, BlueprintDraft, Reply)
    }
    reader = IndexReader(object(), agent="t", budget_tokens=0)
    schemas["protocol"] = grammar_schema(protocol_schema(reader.tools()))
    return schemas


@pytest.mark.parametrize(
    "name",
    [
        "ConceptAnalysis",
        "AlgorithmSpec",
        "IntentAnalysis",
        "Blueprint",
        "BlueprintDraft",
        "Reply",
        "protocol",
    ],
)
def test_llama_cpp_compiles_every_project_schema_without_falling_back(name, llama_parses):
    # The server falls back to "any JSON" when the conversion raises; it must not.
    grammar_mod = pytest.importorskip("llama_cpp.llama_grammar")
    gbnf = grammar_mod.json_schema_to_gbnf(json.dumps(_project_schemas()[name]))
    assert "root ::=" in gbnf
    assert len(gbnf) < 60_000  # bounded lists stay small grammars
    # LlamaGrammar.from_string only stores the text: llama.cpp's own parser must accept it
    # (an unknown escape such as "\." makes the server's sampler fail).
    assert llama_parses(gbnf)


@pytest.fixture(scope="module")
def llama_parses():
    """Whether llama.cpp's grammar parser accepts a GBNF text (the model's vocabulary only)."""
    llama_cpp = pytest.importorskip("llama_cpp")
    from deepcode_tui.llm.embedded import find_gguf

    gguf = find_gguf()
    if gguf is None:
        pytest.skip("the embedded model's weights are not installed")
    model = llama_cpp.Llama(model_path=str(gguf), vocab_only=True, verbose=False)
    vocab = llama_cpp.llama_model_get_vocab(model.model)

    def parses(gbnf: str) -> bool:
        sampler = llama_cpp.llama_sampler_init_grammar(vocab, gbnf.encode(), b"root")
        if not sampler:
            return False
        llama_cpp.llama_sampler_free(sampler)
        return True

    yield parses
    model.close()


def test_the_parser_check_catches_a_broken_grammar(llama_parses):
    assert not llama_parses('root ::= "\\." "a"')  # GBNF has no "\." escape
    assert llama_parses('root ::= [.] "a"')


# --- what the grammar forbids ------------------------------------------------------


class Stage(BaseModel):
    name: str  # required: non-empty in the grammar
    note: str = ""  # optional: may stay empty
    number: int = Field(1, ge=1)
    commands: list[str] = Field(default_factory=list)
    kind: str = Field("a", json_schema_extra={"enum": ["a", "b"]})


def test_required_strings_and_list_items_are_never_empty():
    shaped = grammar_schema(Stage.model_json_schema())
    props = shaped["properties"]
    assert props["name"]["minLength"] == 1
    assert "minLength" not in props["note"]
    assert props["commands"]["items"] == {"type": "string", "minLength": 1}
    assert "minLength" not in props["kind"]  # an enum already says what it may be


def test_a_lower_bound_the_converter_ignores_becomes_an_enum():
    props = grammar_schema(Stage.model_json_schema())["properties"]
    assert props["number"]["enum"] == list(range(1, GRAMMAR_MAX_ITEMS + 1))
    bounded = grammar_schema({"type": "integer", "minimum": 0, "maximum": 3})
    assert bounded["enum"] == [0, 1, 2, 3] and "minimum" not in bounded


def test_the_path_shape_allows_relative_paths_only():
    import re

    from deepcode_tui.llm.grammar import SHAPES

    path = re.compile(SHAPES["path"])
    for ok in (
        "ema.py",
        "src/ema_z/detector.py",
        "tests/test_ema.py",
        "Makefile",
        ".gitignore",
        ".github/ci.yml",
    ):
        assert path.match(ok), ok
    for bad in ("", "/etc/passwd", "../up.py", "./a.py", "#/$defs/FileEntry", "a//b.py", "src/", "a b.py"):
        assert not path.match(bad), bad
    shaped = grammar_schema({"type": "string", "x-grammar": "path"})
    assert shaped == {"type": "string", "pattern": SHAPES["path"]}
    assert grammar_schema({"type": "string", "x-grammar": "no-such-shape"}) == {"type": "string"}


def test_the_planner_grammar_demands_files_components_and_commands():
    from deepcode_tui.blueprint.models import Blueprint

    shaped = grammar_response_format(Blueprint)["schema"]
    assert shaped["required"] == ["summary", "file_hierarchy", "components", "verification"]
    props, defs = shaped["properties"], shaped["$defs"]
    assert props["summary"]["minLength"] == 1
    assert props["file_hierarchy"]["minItems"] == 1 and props["components"]["minItems"] == 1
    assert defs["VerificationProtocol"]["required"] == ["commands"]
    assert defs["VerificationProtocol"]["properties"]["commands"]["minItems"] == 1
    assert defs["FileEntry"]["required"] == ["path", "purpose"]
    assert "pattern" in defs["FileEntry"]["properties"]["path"]
    assert "pattern" in defs["ComponentSpec"]["properties"]["file"]
    assert "pattern" in defs["FileEntry"]["properties"]["dependencies"]["items"]


def test_a_human_yaml_may_still_leave_the_demanded_parts_out():
    from deepcode_tui.blueprint.models import Blueprint

    bp = Blueprint.model_validate({"file_hierarchy": [{"path": "a b.py"}]})  # validation is unchanged
    assert bp.components == [] and bp.verification.commands == [] and bp.summary == ""
