"""Plan checks and generation order."""

from __future__ import annotations

from deepcode_tui.blueprint import Blueprint, check_blueprint, generation_order
from tests.blueprint.helpers import blueprint_dict, make_blueprint


def codes(bp: Blueprint) -> list[str]:
    return [i.code for i in check_blueprint(bp)]


def test_clean_blueprint_has_no_issues() -> None:
    assert check_blueprint(make_blueprint()) == []


def test_dependency_cycle_is_reported_with_its_path() -> None:
    data = blueprint_dict()
    data["file_hierarchy"][0]["dependencies"] = ["src/train.py"]  # config -> train -> config
    issues = [i for i in check_blueprint(Blueprint.model_validate(data)) if i.code == "dependency_cycle"]
    assert issues and all(i.severity == "error" for i in issues)
    paths = [i.files for i in issues]
    assert ["src/config.py", "src/train.py", "src/config.py"] in paths
    assert any("src/config.py -> src/train.py -> src/config.py" in i.message for i in issues)
    assert issues[0].loc == ("file_hierarchy", 0, "dependencies", 0)


def test_unknown_files_everywhere_are_errors() -> None:
    data = blueprint_dict()
    data["file_hierarchy"][2]["dependencies"].append("src/ghost.py")
    data["components"].append({"file": "src/other.py", "functions": [{"name": "f"}]})
    data["stages"][0]["files"].append("src/missing.py")
    data["file_hierarchy"][4]["stage"] = 7
    found = codes(Blueprint.model_validate(data))
    for code in ("unknown_dependency", "unknown_component_file", "unknown_stage_file", "unknown_stage"):
        assert code in found


def test_warnings_for_missing_specs_and_stage_order() -> None:
    data = blueprint_dict()
    data["components"] = [c for c in data["components"] if c["file"] != "src/model.py"]
    data["file_hierarchy"][0]["dependencies"] = ["tests/test_model.py"]  # stage 1 needs a stage 2 file
    issues = check_blueprint(Blueprint.model_validate(data))
    by_code = {i.code: i for i in issues}
    assert by_code["missing_spec"].severity == "warning" and by_code["missing_spec"].files == ["src/model.py"]
    assert by_code["dependency_in_later_stage"].severity == "warning"
    # requirements.txt is a config file: no spec expected for it.
    assert not any(i.code == "missing_spec" and "requirements.txt" in i.files for i in issues)


def test_generation_order_is_topological_then_stage_then_position() -> None:
    bp = make_blueprint()
    order = generation_order(bp)
    assert order == [
        "src/config.py",
        "src/model.py",
        "requirements.txt",
        "src/train.py",
        "tests/test_model.py",
    ]
    for f in bp.file_hierarchy:
        for dep in f.dependencies:
            assert order.index(dep) < order.index(f.path)


def test_generation_order_puts_a_dependency_first_even_from_a_later_stage() -> None:
    data = blueprint_dict()
    data["file_hierarchy"][0]["dependencies"] = ["tests/test_model.py"]
    data["file_hierarchy"][3]["dependencies"] = []
    order = generation_order(Blueprint.model_validate(data))
    assert order.index("tests/test_model.py") < order.index("src/config.py")


def test_generation_order_survives_a_cycle_deterministically() -> None:
    data = blueprint_dict()
    data["file_hierarchy"][0]["dependencies"] = ["src/train.py"]
    bp = Blueprint.model_validate(data)
    first = generation_order(bp)
    assert sorted(first) == sorted(bp.paths()) and first == generation_order(bp)


def test_implausible_paths_are_flagged():
    from deepcode_tui.blueprint.checks import check_blueprint
    from deepcode_tui.blueprint.models import Blueprint

    bp = Blueprint.model_validate(
        {"file_hierarchy": [{"path": "#/$defs/FileEntry"}, {"path": "pkg/ok_module.py"}]}
    )
    flagged = [i.files for i in check_blueprint(bp) if i.code == "implausible_path"]
    assert flagged == [["#/$defs/FileEntry"]]
