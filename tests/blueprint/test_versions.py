"""Versions on disk: v1, v2 ..., approved.yaml, diffs."""

from __future__ import annotations

import pytest

from deepcode_tui.blueprint import Blueprint, BlueprintVersions, dump_blueprint_yaml
from deepcode_tui.codegen.plan import CodegenPlan
from deepcode_tui.errors import RunStoreError
from tests.blueprint.helpers import blueprint_dict, make_blueprint


def test_save_list_load_approve_diff(tmp_path) -> None:
    versions = BlueprintVersions(tmp_path)
    assert versions.list() == [] and versions.latest() is None and versions.approved_version() is None
    bp = make_blueprint()
    assert versions.save(bp) == "v1"
    data = blueprint_dict()
    data["summary"] = "A revised summary."
    edited_text = dump_blueprint_yaml(Blueprint.model_validate(data)).replace("title:", "# my note\ntitle:")
    assert versions.save(edited_text) == "v2"
    assert versions.list() == ["v1", "v2"] and versions.latest() == "v2"
    assert versions.text("v2") == edited_text  # stored exactly as written
    assert versions.load("v1") == bp

    diff = versions.diff("v1", "v2")
    assert diff.startswith("--- v1.yaml\n+++ v2.yaml\n")
    assert "+summary: A revised summary." in diff and "+# my note" in diff
    assert versions.diff("v2", "v2") == ""

    path = versions.approve("v2")
    assert path == tmp_path / "blueprint" / "approved.yaml"
    assert path.read_text() == edited_text and versions.approved_version() == "v2"
    assert versions.load("approved").summary == "A revised summary."
    plan = CodegenPlan.model_validate_json((tmp_path / "blueprint" / "plan.json").read_text())
    assert sorted(plan.paths()) == sorted(versions.load("v2").paths())  # what codegen reads follows approval
    assert not list((tmp_path / "blueprint").glob(".*.tmp"))  # atomic writes leave no temp files


def test_versions_are_numbered_past_nine(tmp_path) -> None:
    versions = BlueprintVersions(tmp_path)
    for _ in range(11):
        versions.save(make_blueprint())
    assert versions.list()[-3:] == ["v9", "v10", "v11"]


def test_bad_version_names_are_clear_errors(tmp_path) -> None:
    versions = BlueprintVersions(tmp_path)
    versions.save(make_blueprint())
    with pytest.raises(RunStoreError, match="does not exist") as info:
        versions.load("v7")
    assert "v1" in info.value.fix
    with pytest.raises(RunStoreError, match="not a blueprint version"):
        versions.text("../../etc/passwd")
