"""Blueprint <-> YAML, for a human to read, edit and approve.

Round trip with ruamel.yaml: comments and key order a human wrote survive a
re-dump (``dump_blueprint_yaml(bp, previous_text=...)``). Every problem is
reported as a :class:`YamlError` with the 1-based line and column of the
offending key or list item in the YAML text, so an editor can jump to it.
"""

from __future__ import annotations

import functools
import io
from typing import Any

from pydantic import BaseModel, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.scalarstring import LiteralScalarString

from deepcode_tui.blueprint.models import Blueprint
from deepcode_tui.errors import DeepcodeError

HEADER = (
    "Implementation Blueprint. Edit freely: comments and key order are kept.\n"
    "Lists are in generation order; paths are relative to the repository root."
)

SECTION_COMMENTS = {
    "summary": "What the project reproduces or builds, in a few sentences.",
    "file_hierarchy": "Project file hierarchy: every file with its purpose, the planned files it depends on,\n"
    "the paper sections it implements and its stage (1-based index into `stages`).",
    "components": "Component specification per file: classes and functions with signatures,\n"
    "the equations and pseudocode they implement, hyperparameters they use.",
    "verification": "Verification protocol: commands, metrics with the paper's target numbers,\n"
    "success criteria and the tests to write.",
    "environment": "Execution environment: Python version, packages with versions, hardware.",
    "stages": "Staged development plan: each stage's files and the checks that close it.",
    "open_questions": "Open questions: details the document leaves unspecified that the code needs.\n"
    "Settle each at the gate: write `answer` (and `status: answered`), or `status: accepted` to take the\n"
    "proposal; `status: open` leaves it open (the README lists it as an assumption not made).",
}

# Keys that identify an item of a list, so a re-dump can keep each item's comments.
_IDENTITY_KEYS = ("id", "path", "file", "name", "label", "text", "section", "step", "claim")


class YamlError(BaseModel):
    """One problem in a blueprint YAML text; ``line``/``column`` are 1-based."""

    line: int
    column: int = 1
    message: str
    severity: str = "error"  # "error" blocks approval, "warning" does not
    path: str = ""  # dotted location in the document, e.g. "file_hierarchy.2.dependencies"

    def __str__(self) -> str:
        where = f" ({self.path})" if self.path else ""
        return f"line {self.line}, column {self.column}: {self.message}{where}"


class BlueprintValidationError(DeepcodeError):
    """The blueprint YAML does not parse, does not fit the schema, or fails the plan checks."""

    def __init__(self, errors: list[YamlError]) -> None:
        self.errors = errors
        shown = "; ".join(str(e) for e in errors[:3])
        more = f" (and {len(errors) - 3} more)" if len(errors) > 3 else ""
        super().__init__(
            f"the blueprint is invalid: {shown}{more}",
            "correct the YAML at the lines shown and validate again",
        )


@functools.cache
def _text_constructor() -> type:
    """A round-trip constructor that keeps numbers, booleans and dates as the text written.

    ``python: 3.10`` must stay "3.10" (not the float 3.1) and ``title: 2020-13-45``
    must not crash the date parser; pydantic still turns "2" into 2 where a
    field is an integer.
    """
    from ruamel.yaml.constructor import RoundTripConstructor

    class TextScalarConstructor(RoundTripConstructor):
        pass

    def as_written(constructor: Any, node: Any) -> str:
        return str(node.value)

    for tag in ("int", "float", "bool", "timestamp"):
        TextScalarConstructor.add_constructor(f"tag:yaml.org,2002:{tag}", as_written)
    return TextScalarConstructor


def _yaml() -> YAML:
    y = YAML(typ="rt")
    y.Constructor = _text_constructor()
    y.indent(mapping=2, sequence=4, offset=2)
    y.width = 4096  # never fold a long signature or equation onto two lines
    y.preserve_quotes = True
    return y


# --- parsing and locating --------------------------------------------------


def _parse(text: str) -> tuple[Any, list[YamlError]]:
    try:
        data = _yaml().load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
        problem = " ".join(str(p) for p in (exc.context, exc.problem) if p) or "invalid YAML"
        return None, [YamlError(line=line, column=col, message=f"YAML syntax: {problem}")]
    except YAMLError as exc:
        return None, [YamlError(line=1, column=1, message=f"YAML syntax: {exc}")]
    except (ValueError, TypeError, RecursionError) as exc:  # a constructor choking on a value
        return None, [YamlError(line=1, column=1, message=f"YAML value: {exc}")]
    if data is None:
        return None, [
            YamlError(line=1, column=1, message="the document is empty; expected a blueprint mapping")
        ]
    if not isinstance(data, dict):
        return None, [
            YamlError(line=1, column=1, message="the document must be a mapping of blueprint sections")
        ]
    return data, []


def locate(tree: Any, loc: tuple[Any, ...]) -> tuple[int, int]:
    """1-based (line, column) of the deepest node of ``loc`` present in ``tree``.

    Mapping keys resolve to the key's position, list indices to the item's;
    a missing key resolves to its parent, so a missing field points at the
    entry it is missing from.
    """
    line, col = 1, 1
    node = tree
    for part in loc:
        if isinstance(node, CommentedMap) and part in node:
            kl, kc = node.lc.key(part)
            line, col = kl + 1, kc + 1
            node = node[part]
        elif isinstance(node, CommentedSeq) and isinstance(part, int) and 0 <= part < len(node):
            il, ic = node.lc.item(part)
            line, col = il + 1, ic + 1
            node = node[part]
        else:
            break
    return line, col


def _dotted(loc: tuple[Any, ...]) -> str:
    return ".".join(str(p) for p in loc)


def _schema_errors(tree: Any, exc: ValidationError) -> list[YamlError]:
    out: list[YamlError] = []
    for err in exc.errors(include_url=False):
        loc = tuple(err["loc"])
        ctx = err.get("ctx") or {}
        if err["type"] == "duplicate_file":
            loc = loc + (ctx.get("index", 0), "path")
        line, col = locate(tree, loc)
        msg = err["msg"]
        if err["type"] == "missing":
            msg = f"missing required key {loc[-1]!r}" if loc else msg
        elif err["type"] == "extra_forbidden":
            msg = f"unknown key {loc[-1]!r} (check its spelling against the blueprint sections)"
        out.append(YamlError(line=line, column=col, message=msg, path=_dotted(loc)))
    return out


def _analyse(text: str, *, check: bool) -> tuple[Blueprint | None, list[YamlError]]:
    tree, errors = _parse(text)
    if errors:
        return None, errors
    try:
        bp = Blueprint.model_validate(_plain(tree))
    except ValidationError as exc:
        return None, _schema_errors(tree, exc)
    if not check:
        return bp, []
    from deepcode_tui.blueprint.checks import check_blueprint

    issues = []
    for issue in check_blueprint(bp):
        line, col = locate(tree, issue.loc)
        issues.append(
            YamlError(
                line=line, column=col, message=issue.message, severity=issue.severity, path=_dotted(issue.loc)
            )
        )
    return bp, issues


def _plain(node: Any) -> Any:
    """ruamel's commented containers as plain dicts, lists and strings."""
    if isinstance(node, dict):
        return {str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    if isinstance(node, str):
        return str(node)
    return node


def validate_yaml(text: str) -> list[YamlError]:
    """Every error and warning in ``text``, in line order (cheap enough to run per keystroke)."""
    _, errors = _analyse(text, check=True)
    return sorted(errors, key=lambda e: (e.line, e.column))


def load_blueprint_yaml(text: str, *, check: bool = True) -> Blueprint:
    """Parse and validate a blueprint YAML text.

    Raises :class:`BlueprintValidationError` listing every error (with its
    line) when the text does not parse, does not fit the schema or, with
    ``check``, fails a plan check of error severity (unknown dependency,
    dependency cycle, ...). Warnings never raise.
    """
    bp, errors = _analyse(text, check=check)
    blocking = sorted((e for e in errors if e.severity == "error"), key=lambda e: (e.line, e.column))
    if blocking or bp is None:
        raise BlueprintValidationError(blocking)
    return bp


# --- dumping ---------------------------------------------------------------


def _prune(value: Any, depth: int) -> Any:
    """Drop empty optional values inside list items: they are noise for a human reader."""
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            v = _prune(v, depth + 1)
            if (depth >= 1 and v in ("", None)) or (depth >= 2 and v in ([], {})):
                continue
            out[k] = v
        return out
    if isinstance(value, list):
        return [_prune(v, depth + 1) for v in value]
    return value


def _to_tree(value: Any) -> Any:
    if isinstance(value, dict):
        m = CommentedMap()
        for k, v in value.items():
            m[k] = _to_tree(v)
        return m
    if isinstance(value, list):
        return CommentedSeq(_to_tree(v) for v in value)
    if isinstance(value, str) and "\n" in value:
        return LiteralScalarString(value if value.endswith("\n") else value + "\n")
    return value


def _identity(item: Any) -> Any:
    if isinstance(item, dict):
        for key in _IDENTITY_KEYS:
            if key in item:
                return (key, str(item[key]))
        return None
    if isinstance(item, (str, int, float, bool)):
        return ("value", str(item))
    return None


def _same_scalar(old: Any, new: Any) -> bool:
    if isinstance(old, str) and isinstance(new, str):
        return old.rstrip("\n") == new.rstrip("\n")
    return type(old) is type(new) and old == new


def _merge(old: Any, new: Any) -> Any:
    """``new``'s content in ``old``'s containers, keeping old comments, key order and quoting."""
    if isinstance(old, CommentedMap) and isinstance(new, dict):
        for key in [k for k in old if k not in new]:
            del old[key]
        for pos, (key, value) in enumerate(new.items()):
            if key in old:
                old[key] = _merge(old[key], value)
            else:
                old.insert(min(pos, len(old)), key, _to_tree(value))
        return old
    if isinstance(old, CommentedSeq) and isinstance(new, list):
        by_id: dict[Any, list[int]] = {}
        for j, item in enumerate(old):
            by_id.setdefault(_identity(item), []).append(j)
        seq = CommentedSeq()
        seq.ca.comment = old.ca.comment
        used: set[int] = set()
        for i, value in enumerate(new):
            ident = _identity(value)
            candidates = [j for j in by_id.get(ident, []) if j not in used] if ident is not None else []
            if not candidates and i < len(old) and i not in used and _identity(old[i]) is None:
                candidates = [i]  # unidentifiable items: pair by position
            if candidates:
                j = candidates[0]
                used.add(j)
                seq.append(_merge(old[j], value))
                if j in old.ca.items:
                    seq.ca.items[i] = old.ca.items[j]
            else:
                seq.append(_to_tree(value))
        return seq
    if _same_scalar(old, new):
        return old
    return _to_tree(new)


def blueprint_data(bp: Blueprint) -> dict[str, Any]:
    """The blueprint as plain data in canonical key order, empty item fields dropped
    (and ``open_questions`` when there are none: most requirement documents have none)."""
    data = _prune(bp.model_dump(mode="json"), 0)
    if not data.get("open_questions"):
        data.pop("open_questions", None)
    return data


def dump_blueprint_yaml(bp: Blueprint, previous_text: str | None = None) -> str:
    """YAML for ``bp``; with ``previous_text``, that document's comments and key order are kept
    wherever its keys and list items (matched by path/file/name) still exist."""
    data = blueprint_data(bp)
    tree = None
    if previous_text:
        old, errors = _parse(previous_text)
        if not errors and isinstance(old, CommentedMap):
            tree = _merge(old, data)
    if tree is None:
        tree = _to_tree(data)
        tree.yaml_set_start_comment(HEADER)
        for key, comment in SECTION_COMMENTS.items():
            if key in tree:
                tree.yaml_set_comment_before_after_key(key, before="\n" + comment, indent=0)
    buf = io.StringIO()
    _yaml().dump(tree, buf)
    return buf.getvalue()
