"""Coercions and base classes shared by the blueprint and analysis models."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ConfigDict


def as_list(v: Any) -> Any:
    """Accept a single string (or None) where a list of strings is expected."""
    if v is None:
        return []
    if isinstance(v, str):
        return [v] if v.strip() else []
    return v


def as_text(v: Any) -> Any:
    """Accept a list of lines (or None) where one string is expected."""
    if v is None:
        return ""
    if isinstance(v, list) and all(isinstance(x, str) for x in v):
        return "\n".join(v)
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return str(v)
    return v


# What a generated plan must carry, said in the JSON schema a model is asked for (and that
# constrained decoding enforces, see deepcode_tui.llm.grammar) but not demanded of a human's
# YAML: there an empty list is reported by the plan checks, at its line.
NON_EMPTY: dict[str, Any] = {"minItems": 1}
PLAN_PATH: dict[str, Any] = {"x-grammar": "path"}  # a repository-relative file path


def generated_needs(*keys: str) -> Callable[[dict[str, Any]], None]:
    """``json_schema_extra`` listing ``keys`` as required in the model's JSON schema while
    validation keeps their defaults."""

    def extra(schema: dict[str, Any]) -> None:
        required = list(schema.get("required", []))
        schema["required"] = required + [k for k in keys if k not in required]

    return extra


def strip_titles(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: strip_titles(v) for k, v in node.items() if not (k == "title" and isinstance(v, str))}
    if isinstance(node, list):
        return [strip_titles(v) for v in node]
    return node


class CompactSchema(BaseModel):
    """JSON schema without pydantic's generated titles: a model reads the same structure
    for about a third fewer prompt tokens."""

    @classmethod
    def model_json_schema(cls, *args: Any, **kwargs: Any) -> dict[str, Any]:
        return strip_titles(super().model_json_schema(*args, **kwargs))


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Loose(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)
