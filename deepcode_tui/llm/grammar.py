"""JSON schemas shaped for llama.cpp's schema-to-grammar conversion.

llama.cpp compiles a request's JSON schema into a GBNF grammar that constrains
decoding: what the grammar does not allow, the model cannot write. Some
keywords make that go wrong in ways a caller never sees: a ``pattern`` it
cannot translate silently falls back to "any JSON"; a long ``maxLength``
expands into a grammar the server refuses to parse, which kills the server
process. :func:`grammar_schema` keeps what the grammar can enforce and what
validity needs, and drops the rest; the reply is still validated against the
full pydantic model.

Kept: types, properties, ``required``, enums and consts, local ``$ref``s,
``additionalProperties``, ``minItems`` (every list is also bounded by
``maxItems``). Tightened, because the converter would otherwise let through
what the models reject:

- a required string, and a string inside a list, is non-empty (``minLength`` 1:
  an empty name, path or command is never what a schema asks for);
- an integer with a lower bound is offered from that bound up (an enum: the
  converter ignores ``minimum``), e.g. a 1-based stage number is never 0;
- ``"x-grammar": "path"`` marks a string as a repository-relative file path:
  segments of ordinary file-name characters, never absolute, no ``..``, no
  ``#/$defs/...`` copied from the schema.

A schema asks a model for more than validation demands of a human: the
blueprint's schema requires a non-empty file list, components and
verification commands (see :mod:`deepcode_tui.blueprint.models`), which the
grammar then enforces on the embedded model.
"""

from __future__ import annotations

from typing import Any

GRAMMAR_MAX_ITEMS = 8  # a runaway list ends here rather than at the token cap (every token costs)

# Named string shapes a schema can ask for with "x-grammar" (patterns within what the
# converter translates; tests compile every schema the app sends to a grammar).
_SEGMENT = r"[.]?[A-Za-z0-9_][A-Za-z0-9_.-]*"  # ".github" and "a.py", never "." or ".."
SHAPES: dict[str, str] = {"path": rf"^{_SEGMENT}(/{_SEGMENT})*$"}

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
        "x-grammar",
    }
)
# Keys whose value maps names to schemas (not a schema itself): their names are kept verbatim.
_SCHEMA_MAPS = frozenset({"properties", "$defs", "definitions", "patternProperties"})
# Properties that constrain a string beyond its type: such a string is left as it is.
_SHAPED = ("enum", "const", "pattern", "$ref", "anyOf", "oneOf", "allOf")


def _plain_string(node: Any) -> bool:
    return isinstance(node, dict) and node.get("type") == "string" and not any(k in node for k in _SHAPED)


def _non_empty(node: dict[str, Any]) -> dict[str, Any]:
    return {**node, "minLength": 1} if _plain_string(node) else node


def _lower_bound(node: dict[str, Any]) -> int | None:
    if node.get("type") != "integer":
        return None
    if isinstance(node.get("minimum"), int):
        return node["minimum"]
    if isinstance(node.get("exclusiveMinimum"), int):
        return node["exclusiveMinimum"] + 1
    return None


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
    shape = SHAPES.get(node.get("x-grammar", ""))
    if shape is not None and out.get("type") == "string":
        out["pattern"] = shape
    low = _lower_bound(node)
    if low is not None and "enum" not in out:
        high = node.get("maximum") if isinstance(node.get("maximum"), int) else low + max_items - 1
        out["enum"] = list(range(low, min(high, low + max_items - 1) + 1))
    props = out.get("properties")
    if isinstance(props, dict):
        for name in out.get("required", ()):
            if name in props:
                props[name] = _non_empty(props[name])
    is_array = out.get("type") == "array" or "items" in out
    if is_array and "prefixItems" not in out:
        if isinstance(out.get("items"), dict):
            out["items"] = _non_empty(out["items"])
        wanted = out.get("maxItems")
        bound = max_items if not isinstance(wanted, int) else min(wanted, max_items)
        out["maxItems"] = bound
        if isinstance(out.get("minItems"), int):
            out["minItems"] = min(out["minItems"], bound)
    return out


# A reply that is one fenced code block: an opening fence with an optional language tag,
# lines without backticks, a closing fence. Free text cannot get in, so a constrained coder
# always answers with a block the writer can take (or an empty one it retries).
CODE_REPLY_GBNF = 'root ::= "```" [a-z]* "\\n" line+ "```"\nline ::= [^`\\n]* "\\n"\n'


def code_reply_params(profile: Any) -> dict[str, Any]:
    """Extra request parameters that hold a free-text code reply to :data:`CODE_REPLY_GBNF`
    on a model that decodes under grammars (the embedded llama.cpp server); none elsewhere."""
    if getattr(profile, "structured", None) != "grammar":
        return {}
    return {"extra_body": {"grammar": CODE_REPLY_GBNF}}


def grammar_schema(schema: dict[str, Any], *, max_items: int = GRAMMAR_MAX_ITEMS) -> dict[str, Any]:
    """``schema`` reduced to what llama.cpp's grammar conversion handles safely and tightened
    where the converter would let invalid values through (see the module docstring), with
    every list bounded to ``max_items`` so a looping model closes the list."""
    return _shape(schema, max_items)
