"""Coercions and base classes shared by the blueprint and analysis models."""

from __future__ import annotations

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
