"""The coverage report: what the index holds that the blueprint never mentions."""

from __future__ import annotations

from deepcode_tui.blueprint import Blueprint
from deepcode_tui.blueprint.coverage import coverage_report, numbers_in
from deepcode_tui.ingest.models import Equation, Hyperparameter
from tests.blueprint.helpers import blueprint_dict, make_blueprint, make_index


def test_full_blueprint_covers_everything() -> None:
    report = coverage_report(make_index(), make_blueprint())
    assert report.complete
    assert report.counts() == {
        "hyperparameter": {"found": 4, "covered": 4},
        "equation": {"found": 2, "covered": 2},
        "algorithm": {"found": 1, "covered": 1},
    }
    assert "Nothing found in the paper index is missing" in report.render()


def test_dropped_items_are_listed_with_their_section() -> None:
    data = blueprint_dict()
    data["components"][0]["hyperparameters"] = [
        h for h in data["components"][0]["hyperparameters"] if h["name"] != "dropout"
    ]
    data["components"][1]["equations"] = []
    data["components"][1]["classes"][0]["methods"][0]["implements"] = []
    data["components"][2]["pseudocode"] = "loop over batches"
    report = coverage_report(make_index(), Blueprint.model_validate(data))
    missing = {(i.kind, i.id) for i in report.missing()}
    assert missing == {("hyperparameter", "dropout=0.1"), ("equation", "eq-1"), ("algorithm", "alg-1")}
    text = report.render()
    assert "hyperparameter: dropout = 0.1  [2.2 Training]" in text
    assert "algorithm: Algorithm 1: Training loop" in text
    assert text.splitlines()[0] == "Coverage: 3/4 hyperparameters, 1/2 equations, 0/1 algorithms"
    assert report == coverage_report(make_index(), Blueprint.model_validate(data))  # deterministic


def test_values_match_as_numbers_and_names_loosely() -> None:
    assert (
        1e-4 in numbers_in("lr=0.0001") and 1e-9 in numbers_in("ϵ = 10−9") and 1e-9 in numbers_in("eps 1e-9")
    )
    assert 100000.0 in numbers_in("train for 100K steps") and 4000.0 in numbers_in("warmup_steps=4,000")
    index = make_index()
    index.hyperparameters = [
        Hyperparameter(name="learning rate", value="1e-4"),
        Hyperparameter(name="β1", value="0.9"),
        Hyperparameter(name="ϵ", value="10−9"),
        Hyperparameter(name="training steps", value="100K"),
    ]
    data = blueprint_dict()
    data["components"][0]["hyperparameters"] = []
    data["components"][2]["functions"][0]["description"] = (
        "optimizer = Adam(lr=0.0001, betas=(0.9, 0.98), eps=1e-9); run for 100000 training steps"
    )
    report = coverage_report(index, Blueprint.model_validate(data))
    assert report.missing("hyperparameter") == []
    # the value alone is not enough: the name must be in the same string
    data["components"][2]["functions"][0]["description"] = "uses 0.9 somewhere"
    report = coverage_report(index, Blueprint.model_validate(data))
    assert {i.id for i in report.missing("hyperparameter")} == {
        "learning rate=1e-4",
        "β1=0.9",
        "ϵ=10−9",
        "training steps=100K",
    }


def test_equations_by_label_id_or_text_and_fragments_skipped() -> None:
    index = make_index()
    index.equations = [
        Equation(id="eq-1", label="(1)", text="whatever"),
        Equation(id="eq-2", text="FFN(x) = max(0, xW1 + b1)W2 + b2"),
        Equation(id="eq-3", text="P E(pos,2i) = sin(pos/10000^(2i/dmodel))"),
        Equation(id="eq-4", text="√"),
    ]
    data = blueprint_dict()
    data["components"][1]["equations"] = [
        "see Equation 1",
        "FFN(x)=max(0,x W_1+b_1) W_2+b_2",
        "eq-3 positional",
    ]
    report = coverage_report(index, Blueprint.model_validate(data))
    assert report.missing("equation") == [] and report.ignored_fragments == 1
    assert "1 equation fragments" in report.render()
    data["components"][1]["equations"] = ["(12) something else"]
    data["components"][1]["classes"][0]["methods"][0]["implements"] = []
    assert {i.id for i in coverage_report(index, Blueprint.model_validate(data)).missing("equation")} == {
        "eq-1",
        "eq-2",
        "eq-3",
    }
