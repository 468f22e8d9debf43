"""YAML round trip: comments and order kept, every error at its line."""

from __future__ import annotations

import pytest

from deepcode_tui.blueprint import (
    Blueprint,
    BlueprintValidationError,
    dump_blueprint_yaml,
    load_blueprint_yaml,
    validate_yaml,
)
from deepcode_tui.errors import DeepcodeError
from tests.blueprint.helpers import blueprint_dict, make_blueprint


def line_of(text: str, needle: str, occurrence: int = 1) -> int:
    """1-based line of the ``occurrence``-th line containing ``needle``."""
    hits = [i for i, line in enumerate(text.splitlines(), start=1) if needle in line]
    return hits[occurrence - 1]


def test_round_trip_is_lossless_and_canonical() -> None:
    bp = make_blueprint()
    text = dump_blueprint_yaml(bp)
    assert load_blueprint_yaml(text) == bp
    keys = [line.split(":")[0] for line in text.splitlines() if line and not line.startswith((" ", "#"))]
    assert keys == [
        "title",
        "source_kind",
        "summary",
        "file_hierarchy",
        "components",
        "verification",
        "environment",
        "stages",
    ]
    assert validate_yaml(text) == []


def test_human_comments_and_order_survive_a_redump() -> None:
    text = dump_blueprint_yaml(make_blueprint())
    edited = text.replace("  - path: src/train.py\n", "  # keep the loop simple\n  - path: src/train.py\n")
    edited = edited.replace(
        "    purpose: the attention model\n", "    purpose: the attention model  # checked\n"
    )
    # A human moved `stages` before `environment`: the order must stay theirs.
    env_block = edited[edited.index("# Execution environment") : edited.index("# Staged development")]
    edited = edited.replace(env_block, "") + "\n" + env_block
    bp = load_blueprint_yaml(edited)

    data = bp.model_dump()
    data["file_hierarchy"][1]["purpose"] = "the attention model, multi-head"
    data["file_hierarchy"].insert(1, {"path": "src/data.py", "purpose": "data", "stage": 1})
    data["components"].append(
        {"file": "src/data.py", "functions": [{"name": "load", "signature": "def load()"}]}
    )
    revised = Blueprint.model_validate(data)

    out = dump_blueprint_yaml(revised, previous_text=edited)
    assert "# keep the loop simple" in out
    assert line_of(out, "# keep the loop simple") + 1 == line_of(out, "- path: src/train.py")
    assert "purpose: the attention model, multi-head # checked" in out
    assert out.index("stages:") < out.index("environment:")
    assert load_blueprint_yaml(out) == revised


def test_unknown_key_is_reported_at_its_line() -> None:
    text = dump_blueprint_yaml(make_blueprint()).replace(
        "    purpose: training loop", "    purpos: training loop"
    )
    errors = validate_yaml(text)
    assert len(errors) == 1
    assert errors[0].line == line_of(text, "purpos: training loop")
    assert "unknown key 'purpos'" in errors[0].message
    with pytest.raises(BlueprintValidationError) as info:
        load_blueprint_yaml(text)
    assert isinstance(info.value, DeepcodeError)
    assert f"line {errors[0].line}" in info.value.message and info.value.fix


def test_wrong_type_missing_key_and_duplicate_file_point_at_lines() -> None:
    base = dump_blueprint_yaml(make_blueprint())
    bad_stage = base.replace("    stage: 2\n    kind: test", "    stage: two\n    kind: test")
    [err] = validate_yaml(bad_stage)
    assert err.line == line_of(bad_stage, "stage: two") and err.path == "file_hierarchy.3.stage"

    no_path = base.replace("  - path: requirements.txt\n    purpose", "  - purpose")
    [err] = validate_yaml(no_path)
    assert err.line == line_of(no_path, "purpose: pinned packages")
    assert "missing required key 'path'" in err.message

    dup = base.replace("  - path: requirements.txt", "  - path: src/model.py")
    [err] = validate_yaml(dup)
    assert err.line == line_of(dup, "- path: src/model.py", 2)
    assert "twice" in err.message


def test_yaml_syntax_errors_carry_a_line() -> None:
    base = dump_blueprint_yaml(make_blueprint())
    broken = base.replace("  - path: src/model.py", "  - path: [src/model.py")
    [err] = validate_yaml(broken)
    assert err.message.startswith("YAML syntax")
    assert abs(err.line - line_of(broken, "[src/model.py")) <= 1
    dup_key = base.replace("    purpose: training loop", "    purpose: training loop\n    purpose: again")
    [err] = validate_yaml(dup_key)
    assert "duplicate key" in err.message and err.line == line_of(dup_key, "purpose: again")
    for text in ("", "just a string", "- a\n- list"):
        [err] = validate_yaml(text)
        assert err.line == 1


def test_plan_check_errors_and_warnings_have_lines() -> None:
    base = dump_blueprint_yaml(make_blueprint())
    unknown = base.replace(
        "      - src/config.py\n    paper_sections:\n      - 2.1",
        "      - src/nope.py\n    paper_sections:\n      - 2.1",
    )
    errors = validate_yaml(unknown)
    assert [e.line for e in errors] == [line_of(unknown, "- src/nope.py")]
    assert "src/nope.py" in errors[0].message
    with pytest.raises(BlueprintValidationError):
        load_blueprint_yaml(unknown)
    assert load_blueprint_yaml(unknown, check=False).file("src/model.py").dependencies == ["src/nope.py"]

    data = blueprint_dict()
    data["components"] = [c for c in data["components"] if c["file"] != "src/train.py"]
    text = dump_blueprint_yaml(Blueprint.model_validate(data))
    [warning] = validate_yaml(text)
    assert warning.severity == "warning" and "src/train.py has no component spec" in warning.message
    assert warning.line == line_of(text, "- path: src/train.py")
    load_blueprint_yaml(text)  # warnings never block


def test_shorthands_a_model_or_human_writes_are_accepted() -> None:
    data = blueprint_dict()
    data["file_hierarchy"][1]["dependencies"] = "./src//config.py"
    data["environment"]["packages"] = ["torch>=2.1", "numpy"]
    data["components"][2]["pseudocode"] = ["step 1", "step 2"]
    bp = Blueprint.model_validate(data)
    assert bp.file("src/model.py").dependencies == ["src/config.py"]
    assert [p.requirement() for p in bp.environment.packages] == ["torch>=2.1", "numpy"]
    assert bp.component("src/train.py").pseudocode == "step 1\nstep 2"
    assert load_blueprint_yaml(dump_blueprint_yaml(bp)) == bp


def test_scalars_stay_as_written() -> None:
    text = dump_blueprint_yaml(make_blueprint())
    text = text.replace("  python: '3.11'", "  python: 3.10").replace(
        "title: A Small", "title: 2020-13-45 A Small"
    )
    bp = load_blueprint_yaml(text)
    assert bp.environment.python == "3.10"  # not the float 3.1
    assert bp.title.startswith("2020-13-45")
    assert "python: '3.10'" in dump_blueprint_yaml(bp, previous_text=text)
    [err] = validate_yaml("title: 2020-13-45\nsummary: [unclosed\n")
    assert err.message.startswith("YAML syntax") and err.line >= 2
