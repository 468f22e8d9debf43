"""JSON schemas of pydantic models, built once per model class.

pydantic builds a model's JSON schema afresh on every ``model_json_schema()`` call (a few ms for
the blueprint's models), and every structured or tool call asks for one, some on the UI loop.
"""

from __future__ import annotations

import functools
import json
from typing import Any

from pydantic import BaseModel


@functools.lru_cache(maxsize=256)
def schema_text(model: type[BaseModel]) -> str:
    """``model``'s JSON schema as compact JSON text."""
    return json.dumps(model.model_json_schema(), separators=(",", ":"))


def json_schema(model: type[BaseModel]) -> dict[str, Any]:
    """``model``'s JSON schema: a fresh copy each call, so callers may change it."""
    return json.loads(schema_text(model))
