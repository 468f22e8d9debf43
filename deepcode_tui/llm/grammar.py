"""JSON schemas shaped for llama.cpp's schema-to-grammar conversion.

llama.cpp compiles a request's JSON schema into a GBNF grammar that constrains
decoding. Some keywords make that go wrong in ways a caller never sees: a
``pattern`` it cannot translate silently falls back to "any JSON"; a long
``maxLength`` expands into a grammar the server refuses to parse, which
kills the server process. :func:`grammar_schema` keeps what the grammar
needs (types, properties, required keys, enums, local ``$ref``s) and drops
the rest; the reply is still validated against the full pydantic model.
"""

from __future__ import annotations

from typing import Any

GRAMMAR_MAX_ITEMS = 16  # a runaway list ends here rather than at the token cap

# Keywords that change nothing in the grammar (or are mis-translated by it).
_DROP = frozenset(
    {
        "title",
        "description",
        "default",
        "examples",
        "pattern",
        "format",
        "minLength",
        "maxLength",
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "multipleOf",
        "uniqueItems",
        "readOnly",
        "writeOnly",
        "deprecated",
        "discriminator",
    }
)
# Keys whose value maps names to schemas (not a schema itself): their names are kept verbatim.
_SCHEMA_MAPS = frozenset({"properties", "$defs", "definitions", "patternProperties"})


def _shape(node: Any, max_items: int) -> Any:
    if isinstance(node, list):
        return [_shape(v, max_items) for v in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in _SCHEMA_MAPS and isinstance(value, dict):
            out[key] = {name: _shape(sub, max_items) for name, sub in value.items()}
        elif key in _DROP:
            continue
        elif key in ("enum", "const", "required"):
            out[key] = value  # data, not schemas
        else:
            out[key] = _shape(value, max_items)
    is_array = out.get("type") == "array" or "items" in out
    if is_array and "prefixItems" not in out:
        wanted = out.get("maxItems")
        bound = max_items if not isinstance(wanted, int) else min(wanted, max_items)
        out["maxItems"] = bound
        if isinstance(out.get("minItems"), int):
            out["minItems"] = min(out["minItems"], bound)
    return out


def grammar_schema(schema: dict[str, Any], *, max_items: int = GRAMMAR_MAX_ITEMS) -> dict[str, Any]:
    """``schema`` reduced to what llama.cpp's grammar conversion handles safely, with every
    list bounded to ``max_items`` so a looping model closes the list."""
    return _shape(schema, max_items)
