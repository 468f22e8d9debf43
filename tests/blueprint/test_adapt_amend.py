"""Blueprint -> CodegenPlan, and amendments approved mid-run."""

from __future__ import annotations

import pytest

from deepcode_tui.blueprint import Blueprint, BlueprintValidationError, BlueprintVersions, dump_blueprint_yaml
from deepcode_tui.blueprint.adapt import blueprint_to_codegen_plan
from deepcode_tui.blueprint.amend import approve_amendment, plan_amendment
from tests.blueprint.helpers import blueprint_dict, make_blueprint


def test_codegen_plan_follows_generation_order_with_specs() -> None:
    plan = blueprint_to_codegen_plan(make_blueprint())
    assert plan.paths() == [
        "src/config.py",
        "src/model.py",
        "requirements.txt",
        "src/train.py",
        "tests/test_model.py",
    ]
    train = plan.get("src/train.py")
    assert train.dependencies == ["src/model.py", "src/config.py"] and train.stage == 2
    assert "def train(cfg: Config) -> float" in train.spec and "(2) L = -sum log p(y|x)" in train.spec
    assert "Algorithm 1" in train.spec and "Implements paper sections: 2.2 Training" in train.spec
    assert train.symbols == ["Attention", "Config"]
    assert plan.get("src/model.py").consumers == ["src/train.py", "tests/test_model.py"]
    config = plan.get("src/config.py")
    assert "learning rate = 1e-4  (2.2)" in config.spec
    assert plan.get("requirements.txt").language is None and train.language == "python"
    assert "torch>=2.1" in plan.summary and "python -m pytest -q" in plan.summary
    assert [f.path for f in plan.order()] == plan.paths()


def amended(**changes) -> Blueprint:
    data = blueprint_dict()
    for fn in changes.values():
        fn(data)
    return Blueprint.model_validate(data)


def test_amendment_splits_pending_from_written() -> None:
    def new_forward(d):  # the model's public interface changes
        d["components"][1]["classes"][0]["methods"][0]["signature"] = (
            "def forward(self, q, k, v, mask) -> Tensor"
        )

    def new_test_spec(d):
        d["components"][3]["functions"][0]["description"] = "also checks the mask"

    def add_file(d):
        d["file_hierarchy"].append(
            {"path": "src/eval.py", "purpose": "BLEU", "dependencies": ["src/model.py"], "stage": 2}
        )
        d["components"].append({"file": "src/eval.py", "functions": [{"name": "bleu"}]})

    def drop_requirements(d):
        d["file_hierarchy"] = [f for f in d["file_hierarchy"] if f["path"] != "requirements.txt"]
        d["stages"][0]["files"].remove("requirements.txt")

    new = amended(a=new_forward, b=new_test_spec, c=add_file, d=drop_requirements)
    written = ["src/config.py", "src/model.py", "src/train.py", "requirements.txt"]
    am = plan_amendment(make_blueprint(), new, written)
    assert am.added == ["src/eval.py"] and am.removed == ["requirements.txt"]
    assert am.changed == {"src/model.py": ["spec (public interface)"], "tests/test_model.py": ["spec"]}
    assert am.apply_to_pending == ["tests/test_model.py", "src/eval.py"]
    assert set(am.regenerate) == {"src/model.py", "src/train.py"}
    assert "src/model.py's public interface changed" in am.regenerate["src/train.py"]
    assert "src/config.py" not in am.regenerate  # untouched and depends on nothing that changed
    assert am.removed_written == ["requirements.txt"]
    assert "src/eval.py" in am.plan.paths() and "requirements.txt" not in am.plan.paths()
    assert "regenerate src/train.py" in am.render()


def test_amendment_with_no_change_is_a_noop() -> None:
    am = plan_amendment(make_blueprint(), make_blueprint(), ["src/model.py"])
    assert am.is_noop and am.regenerate == {} and "no file changes" in am.render()


def test_approve_amendment_saves_a_version_or_rejects_with_line(tmp_path) -> None:
    versions = BlueprintVersions(tmp_path)
    versions.approve(versions.save(make_blueprint()))
    text = dump_blueprint_yaml(make_blueprint())
    broken = text.replace("    purpose: training loop", "    purpose: [training loop")
    with pytest.raises(BlueprintValidationError) as info:
        approve_amendment(tmp_path, broken, written=["src/config.py"])
    assert info.value.errors[0].line > 1
    assert versions.list() == ["v1"]  # nothing saved

    edited = text.replace("    purpose: training loop", "    purpose: training loop with early stopping")
    am = approve_amendment(tmp_path, edited, written=["src/config.py", "src/model.py", "src/train.py"])
    assert am.version == "v2" and versions.approved_version() == "v2"
    assert am.changed == {"src/train.py": ["purpose"]}
    assert am.regenerate == {"src/train.py": "its purpose changed"}
    # A resumed run's codegen reads plan.json: it follows the amendment (also when the app approved it).
    plan = (tmp_path / "blueprint" / "plan.json").read_text()
    assert "training loop with early stopping" in plan
